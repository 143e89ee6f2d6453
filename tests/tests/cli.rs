//! The `director` binary's command line: `check-config` and `user-pool-info` as an operator
//! runs them (exit codes, messages naming file, line and field), and a clean exit on SIGTERM.

use std::process::Command;

use system_tests::process::scratch_dir;
use system_tests::{bin, oracle, Director, Topology};

#[test]
fn check_config_accepts_a_good_file_and_names_line_and_field_of_a_bad_one() {
    let dir = scratch_dir("cli");
    let good = dir.join("good.toml");
    std::fs::write(
        &good,
        Topology::ring(2, 3, false).to_toml(&[("127.0.0.1:5060", "udp")], 1),
    )
    .unwrap();
    let out = Command::new(bin("director"))
        .arg("check-config")
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("OK") && text.contains("2 pools") && text.contains("6 registrars"),
        "{text}"
    );

    // A backup naming a pool that does not exist, on a known line.
    let bad = dir.join("bad.toml");
    let text = Topology::ring(2, 3, false)
        .to_toml(&[("127.0.0.1:5060", "udp")], 1)
        .replace("backup = \"pool1\"", "backup = \"pool9\"");
    let line = text.lines().position(|l| l.contains("pool9")).unwrap() + 1;
    std::fs::write(&bad, &text).unwrap();
    let out = Command::new(bin("director"))
        .arg("check-config")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:{line}:", bad.display())), "{err}");
    assert!(err.contains("backup"), "{err}");

    // `director run` refuses the same file before binding anything.
    let out = Command::new(bin("director"))
        .arg("--config")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!(":{line}:")));

    // A TLS listener whose certificate file is missing: check-config loads it as `run` would.
    let tls = dir.join("tls.toml");
    let missing = dir.join("missing-cert.pem");
    let text = Topology::ring(2, 3, false)
        .to_toml(&[("127.0.0.1:5061", "tls")], 1)
        .replacen(
            "transport = \"tls\"",
            &format!(
                "transport = \"tls\"\ncertificate = {:?}\nprivate_key = {:?}",
                missing.display().to_string(),
                dir.join("missing-key.pem").display().to_string()
            ),
            1,
        );
    std::fs::write(&tls, &text).unwrap();
    let out = Command::new(bin("director"))
        .arg("check-config")
        .arg(&tls)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}\n{text}");
    assert!(err.contains(&missing.display().to_string()), "{err}");

    // A missing file is named.
    let out = Command::new(bin("director"))
        .args(["check-config", "/nonexistent/d.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/d.toml"));
}

#[test]
fn user_pool_info_lists_machines_in_the_specified_order() {
    let topo = Topology::ring(3, 4, true);
    let dir = scratch_dir("upi");
    let file = dir.join("d.toml");
    std::fs::write(&file, topo.to_toml(&[("127.0.0.1:5060", "udp")], 1)).unwrap();
    for aor in [
        "sip:alice@example.com",
        "sips:Bob@Example.COM",
        "sip:%63arol@example.com",
    ] {
        let out = Command::new(bin("director"))
            .args(["user-pool-info", aor, "--config"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        let field = |name: &str| {
            text.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let k = oracle::key(aor);
        let pool = oracle::order(&k, topo.pools.iter().map(|p| (p.id.as_str(), p.weight)))[0];
        assert_eq!(field("PrimaryPool "), topo.pools[pool].id, "{text}");
        let regs = &topo.pools[pool].registrars;
        let want: Vec<&str> = oracle::order(&k, regs.iter().map(|r| (r.id.as_str(), r.weight)))
            .into_iter()
            .map(|i| regs[i].id.as_str())
            .collect();
        assert_eq!(
            field("PrimaryPoolMachinesInPreferredOrder"),
            want.join(", "),
            "{text}"
        );
    }
    // Embedded default, JSON.
    let out = Command::new(bin("director"))
        .args(["user-pool-info", "sip:alice@example.com", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"PrimaryPool\""));
}

#[test]
fn sigterm_stops_the_director_with_status_zero() {
    let director = Director::start(
        &Topology::ring(2, 2, false).to_toml(&[("127.0.0.1:0", "udp"), ("127.0.0.1:0", "tcp")], 2),
    );
    let _idle = std::net::TcpStream::connect(director.tcp()).unwrap();
    let started = std::time::Instant::now();
    assert!(director.stop().success());
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// Logs written to a pipe (a file, the journal) are plain text: no terminal colour codes.
#[test]
fn logs_to_a_pipe_carry_no_colour_codes() {
    let director =
        Director::start(&Topology::ring(1, 1, false).to_toml(&[("127.0.0.1:0", "udp")], 1));
    director.signal(libc::SIGTERM);
    // The "stopped" line always comes; the signal thread's "shutting down" line may not (the
    // shutdown fires before it is logged, so the process can exit first). Its level is coloured
    // on a terminal, so it is enough to show that colour is off.
    let log = director.log_until("stopped", std::time::Duration::from_secs(5));
    let stopped = log.iter().find(|l| l.contains("stopped")).cloned();
    assert!(stopped.is_some_and(|l| l.contains(" INFO ")), "{log:?}");
    assert!(!log.iter().any(|l| l.contains('\u{1b}')), "{log:?}");
}

/// Output that cannot be written (stdout and stderr are pipes whose reader went away) does not
/// keep the director from stopping: SIGTERM still stops it promptly. (It used to hang: the log
/// line for the signal failed, the logger's error report panicked the signal thread, and the
/// shutdown never fired.)
#[test]
fn sigterm_stops_the_director_when_its_output_is_closed() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = scratch_dir("cli-closed-output");
    let file = dir.join("d.toml");
    std::fs::write(
        &file,
        Topology::ring(2, 2, false).to_toml(&[("127.0.0.1:0", "udp")], 2),
    )
    .unwrap();
    let mut child = Command::new(bin("director"))
        .arg("--config")
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("ready") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "no ready line");
    }
    // Close both pipes: every later write by the director fails (EPIPE).
    drop(out);
    drop(child.stderr.take());
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(10) {
            let _ = child.kill();
            panic!("the director did not stop within 10 s of SIGTERM with its output closed");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
}
