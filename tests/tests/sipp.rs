//! SIPp (Debian `sip-tester`) registers many distinct users with the real director over UDP and
//! TCP; every 301's Contacts are checked against the placement computed from the specification
//! by the tests' own oracle.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use system_tests::process::scratch_dir;
use system_tests::{oracle, workspace_root, Director, Topology};

const USERS: usize = 1500;

fn sipp_available() -> bool {
    Command::new("sipp").arg("-v").output().is_ok()
}

fn topology() -> Topology {
    let mut t = Topology::ring(3, 4, true);
    t.user_homing
        .push(("user7@example.com".into(), "pool3".into()));
    t.domain_homing
        .push(("branch.example.net".into(), "pool2".into()));
    t
}

fn write_users(dir: &Path) -> Vec<String> {
    let mut csv = String::from("SEQUENTIAL\n");
    let mut aors = Vec::new();
    for i in 0..USERS {
        let domain = if i % 10 == 0 {
            "branch.example.net"
        } else {
            "example.com"
        };
        csv.push_str(&format!("user{i};{domain}\n"));
        aors.push(format!("user{i}@{domain}"));
    }
    std::fs::write(dir.join("users.csv"), csv).expect("write users");
    aors
}

fn run_sipp(transport: &str, listen: &str, env: &[(&str, &str)]) {
    assert!(
        sipp_available(),
        "sipp is not installed: run scripts/install-test-deps.sh (the README's test command does)"
    );
    let topo = topology();
    let director = Director::start_with_env(&topo.to_toml(&[(listen, transport)], 2), env);
    if env.contains(&("DIRECTOR_UDP_BACKEND", "epoll")) {
        assert!(
            director.ready_line.contains("udp_backend=Epoll"),
            "{}",
            director.ready_line
        );
    }
    let target = match transport {
        "udp" => director.udp(),
        _ => director.tcp(),
    };
    let dir = scratch_dir(&format!("sipp-{transport}{}", env.len()));
    let aors = write_users(&dir);
    let scenario = workspace_root().join("tests/sipp/register_301.xml");
    let log = dir.join("sipp.log");
    let status = Command::new("sipp")
        .current_dir(&dir)
        .arg(target.to_string())
        .args(["-sf"])
        .arg(&scenario)
        .args(["-inf", "users.csv"])
        .args(["-t", if transport == "udp" { "u1" } else { "t1" }])
        .args(["-i", "127.0.0.1", "-p", "0"])
        .args(["-m", &USERS.to_string(), "-r", "2000", "-l", "200"])
        .args(["-timeout", "60s", "-nostdin"])
        .args(["-trace_logs", "-log_file"])
        .arg(&log)
        .args(["-trace_err", "-error_file"])
        .arg(dir.join("errors.log"))
        .stdout(std::process::Stdio::null())
        .status()
        .expect("start sipp");
    let mut answers = HashMap::new();
    for line in std::fs::read_to_string(&log).unwrap_or_default().lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if let [aor, primary, backup, expires] = f[..] {
            let answer = (primary.to_string(), backup.to_string(), expires.to_string());
            answers.insert(aor.to_string(), answer);
        }
    }
    assert_eq!(
        answers.len(),
        USERS,
        "SIPp ({status}) logged {} of {USERS} 301s over {transport}; errors: {}",
        answers.len(),
        std::fs::read_to_string(dir.join("errors.log")).unwrap_or_default()
    );
    let mut per_primary: HashMap<String, usize> = HashMap::new();
    for aor in &aors {
        let (primary, backup, expires) = &answers[aor];
        let (want_primary, want_backup) = oracle::expected_contacts(&topo, &format!("sip:{aor}"));
        assert_eq!(primary, &want_primary, "primary of {aor} over {transport}");
        assert_eq!(
            Some(backup),
            want_backup.as_ref(),
            "backup of {aor} over {transport}"
        );
        assert_eq!(expires, &topo.expires.to_string());
        *per_primary.entry(primary.clone()).or_default() += 1;
    }
    // Homing rules were honoured and the hash spread users over every machine.
    assert!(answers["user7@example.com"].0.contains(".pool3."));
    assert!(answers["user10@branch.example.net"].0.contains(".pool2."));
    assert_eq!(
        per_primary.len(),
        12,
        "users reached {} of 12 machines",
        per_primary.len()
    );
    assert!(director.stop().success());
}

#[test]
fn sipp_registers_many_users_over_udp() {
    run_sipp("udp", "127.0.0.1:0", &[]);
}

/// The same over the epoll + recvmmsg/sendmmsg fallback (what runs where io_uring is blocked).
#[test]
fn sipp_registers_many_users_over_udp_on_the_epoll_fallback() {
    run_sipp("udp", "127.0.0.1:0", &[("DIRECTOR_UDP_BACKEND", "epoll")]);
}

#[test]
fn sipp_registers_many_users_over_tcp() {
    run_sipp("tcp", "127.0.0.1:0", &[]);
}
