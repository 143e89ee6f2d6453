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

#[test]
fn open_loop_holds_the_rate() {
    let echo = Server::start(&["echo", "--listen", "127.0.0.1:0", "--reply-200"], 1);
    let r = load(
        &[
            "register",
            "--target",
            &echo.addrs[0],
            "--rate",
            "2000/s",
            "--duration",
            "1",
        ],
        LIMIT,
    );
    let n = r.n("requests");
    assert!((1800..=2200).contains(&n), "{}", r.json);
    assert_eq!(r.json["mode"], "open");
    assert_eq!(r.n("errors_total"), 0, "{}", r.json);
    r.assert_consistent();
}
