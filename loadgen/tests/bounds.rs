//! Runs end on time: a bounded count against a target that never answers ends after the
//! transaction timeout, a duration-bounded run after its duration, non-loopback targets are
//! refused, and --fail-on-error sets the exit status.

mod common;

use common::load;
use std::time::Duration;

#[test]
fn count_against_silent_target_ends_after_timeout() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let target = silent.local_addr().expect("addr").to_string();
    let r = load(
        &[
            "register", "--target", &target, "--count", "10", "--t1-ms", "10",
        ],
        Duration::from_secs(20),
    );
    assert_eq!(r.err("timeout"), 10, "{}", r.json);
    assert!(r.wall < Duration::from_secs(5), "took {:?}", r.wall);
    r.assert_consistent();
}

#[test]
fn duration_bounds_the_run_and_drain_abandons() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let target = silent.local_addr().expect("addr").to_string();
    let r = load(
        &[
            "register",
            "--target",
            &target,
            "--duration",
            "0.5",
            "--drain-ms",
            "200",
            "--in-flight",
            "4",
        ],
        Duration::from_secs(20),
    );
    assert!(r.wall < Duration::from_secs(3), "took {:?}", r.wall);
    assert_eq!(r.err("abandoned"), 4, "{}", r.json);
    r.assert_consistent();
}

#[test]
fn fail_on_error_sets_exit_status() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let target = silent.local_addr().expect("addr").to_string();
    let r = load(
        &[
            "register",
            "--target",
            &target,
            "--count",
            "1",
            "--t1-ms",
            "5",
            "--fail-on-error",
        ],
        Duration::from_secs(20),
    );
    assert_eq!(r.code, 3);
}

#[test]
fn remote_target_refused_without_allow_remote() {
    let out = std::process::Command::new(common::bin())
        .args(["register", "--target", "192.0.2.1:5060", "--count", "1"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-remote"));
}
