//! `loadgen register` against `loadgen echo`. Plain echo returns the request itself, which is
//! not a response: every datagram counts as a parse error and every transaction times out.
//! With `--reply-200` the echo rewrites the start line to `SIP/2.0 200 OK`, so all succeed.

mod common;

use common::{load, Server};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn reply_200_echo_answers_everything() {
    let echo = Server::start(
        &[
            "echo",
            "--listen",
            "127.0.0.1:0",
            "--reply-200",
            "--threads",
            "2",
        ],
        1,
    );
    let r = load(
        &[
            "register",
            "--target",
            &echo.addrs[0],
            "--count",
            "5000",
            "--connections",
            "3",
        ],
        LIMIT,
    );
    assert_eq!(r.status(200), 5000, "{}", r.json);
    assert_eq!(r.n("errors_total"), 0, "{}", r.json);
    r.assert_consistent();
}

#[test]
fn plain_echo_is_parse_errors_and_timeouts() {
    let echo = Server::start(&["echo", "--listen", "127.0.0.1:0"], 1);
    let r = load(
        &[
            "register",
            "--target",
            &echo.addrs[0],
            "--count",
            "10",
            "--t1-ms",
            "10",
            "--no-retransmit",
        ],
        LIMIT,
    );
    assert_eq!(r.err("parse_error"), 10, "{}", r.json);
    assert_eq!(r.err("timeout"), 10, "{}", r.json);
    assert_eq!(r.n("responses"), 0);
    r.assert_consistent();
}

/// One second of open loop at 2,000/s against `echo`, with `extra` arguments.
fn open_loop_second(echo: &Server, extra: &[&str]) -> common::Run {
    let mut args = vec![
        "register",
        "--target",
        &echo.addrs[0],
        "--rate",
        "2000/s",
        "--duration",
        "1",
    ];
    args.extend_from_slice(extra);
    load(&args, LIMIT)
}

#[test]
fn open_loop_holds_the_rate() {
    let echo = Server::start(&["echo", "--listen", "127.0.0.1:0", "--reply-200"], 1);
    let r = open_loop_second(&echo, &[]);
    let n = r.n("requests");
    assert!((1800..=2200).contains(&n), "{}", r.json);
    assert_eq!(r.json["mode"], "open");
    assert_eq!(r.n("errors_total"), 0, "{}", r.json);
    r.assert_consistent();
}

#[test]
fn warmup_keeps_early_transactions_out_of_the_latency() {
    let echo = Server::start(&["echo", "--listen", "127.0.0.1:0", "--reply-200"], 1);
    let run = |warmup: &str| open_loop_second(&echo, &["--warmup-ms", warmup]);
    // Everything is due within the warm-up: all answered, none measured.
    let all = run("5000");
    assert!(all.status(200) > 1500, "{}", all.json);
    assert_eq!(all.json["latency_us"]["count"], 0, "{}", all.json);
    assert_eq!(all.n("warmup_ms"), 5000, "{}", all.json);
    all.assert_consistent();
    // Half a second of 1 s at an even rate: about half measured.
    let half = run("500");
    let answered = half.status(200);
    let measured = half.json["latency_us"]["count"].as_u64().expect("count");
    assert!(
        measured > answered / 4 && measured < answered * 3 / 4,
        "{measured} of {answered} measured: {}",
        half.json
    );
    half.assert_consistent();
}
