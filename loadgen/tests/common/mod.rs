//! Helpers of the process-level tests: start `loadgen` subcommands as child processes, wait
//! for their `listening ...` lines, run a load and parse its JSON summary.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Path of the binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_loadgen")
}

/// A server child process (echo or registrar), killed on drop.
pub struct Server {
    pub child: Child,
    /// Addresses from its `listening <transport> <addr>` lines.
    pub addrs: Vec<String>,
    /// Address from its `control <addr>` line, if any.
    pub control: Option<String>,
    stdout: Option<BufReader<std::process::ChildStdout>>,
}

impl Server {
    /// Starts `loadgen <args>` and reads stdout until `expect` listening lines (plus the
    /// control line when `--control` is among the args) have appeared.
    pub fn start(args: &[&str], expect: usize) -> Server {
        let mut child = Command::new(bin())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start loadgen server");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let want_control = args.contains(&"--control");
        let mut addrs = Vec::new();
        let mut control = None;
        while addrs.len() < expect || (want_control && control.is_none()) {
            let mut line = String::new();
            if out.read_line(&mut line).expect("read server stdout") == 0 {
                panic!("server exited before listening: {args:?}");
            }
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.as_slice() {
                ["listening", _, addr] => addrs.push(addr.to_string()),
                ["control", addr] => control = Some(addr.to_string()),
                _ => {}
            }
        }
        Server {
            child,
            addrs,
            control,
            stdout: Some(out),
        }
    }

    /// Sends one control line and returns the reply line.
    pub fn control(&self, line: &str) -> String {
        use std::io::Write;
        let addr = self
            .control
            .as_deref()
            .expect("server has a control socket");
        let mut s = std::net::TcpStream::connect(addr).expect("connect control");
        writeln!(s, "{line}").expect("write control");
        let mut r = BufReader::new(s);
        let mut reply = String::new();
        r.read_line(&mut reply).expect("read control reply");
        reply.trim().to_string()
    }

    /// Sends a signal to the server.
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill -{sig}");
    }

    /// SIGTERM, then the rest of stdout (the counters printed at exit).
    pub fn stop(mut self) -> String {
        self.signal("TERM");
        let mut rest = String::new();
        if let Some(mut out) = self.stdout.take() {
            let _ = std::io::Read::read_to_string(&mut out, &mut rest);
        }
        let _ = self.child.wait();
        rest
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Result of one load run.
pub struct Run {
    pub json: serde_json::Value,
    pub stderr: String,
    pub code: i32,
    pub wall: Duration,
}

impl Run {
    /// A top-level integer field.
    pub fn n(&self, key: &str) -> u64 {
        self.json[key]
            .as_u64()
            .unwrap_or_else(|| panic!("no {key} in {}", self.json))
    }

    /// An error counter.
    pub fn err(&self, kind: &str) -> u64 {
        self.json["errors"][kind]
            .as_u64()
            .unwrap_or_else(|| panic!("no errors.{kind} in {}", self.json))
    }

    /// Responses with status `code`.
    pub fn status(&self, code: u16) -> u64 {
        self.json["status"][code.to_string()].as_u64().unwrap_or(0)
    }

    /// Checks the bookkeeping identities every summary must satisfy.
    pub fn assert_consistent(&self) {
        let j = &self.json;
        let requests = self.n("requests");
        let responses = self.n("responses");
        let by_status: u64 = j["status"]
            .as_object()
            .expect("status map")
            .values()
            .map(|v| v.as_u64().expect("count"))
            .sum();
        let by_class: u64 = j["classes"]
            .as_object()
            .expect("classes map")
            .values()
            .map(|v| v.as_u64().expect("count"))
            .sum();
        assert_eq!(by_status, responses, "status sum vs responses: {j}");
        assert_eq!(by_class, responses, "class sum vs responses: {j}");
        assert_eq!(
            requests,
            responses + self.err("timeout") + self.err("abandoned"),
            "every transaction ends once: {j}"
        );
        let errors: u64 = j["errors"]
            .as_object()
            .expect("errors map")
            .values()
            .map(|v| v.as_u64().expect("count"))
            .sum();
        assert_eq!(errors, self.n("errors_total"), "{j}");
        let measured = j["latency_us"]["count"].as_u64().expect("latency count");
        if j["warmup_ms"].as_u64().unwrap_or(0) == 0 {
            assert_eq!(measured, responses, "{j}");
        } else {
            assert!(measured <= responses, "warm-up: {j}");
        }
        if measured > 0 {
            let l = &j["latency_us"];
            let f = |k: &str| l[k].as_f64().expect("latency field");
            assert!(f("p50") <= f("p90") && f("p90") <= f("p99"), "{j}");
            assert!(
                f("p99") <= f("p999") && f("p999") <= f("max") * 1.001 + 1.0,
                "{j}"
            );
        }
    }
}

/// Runs `loadgen <args> --json - --quiet` to completion (panics after `limit`).
pub fn load(args: &[&str], limit: Duration) -> Run {
    let start = Instant::now();
    let mut child = Command::new(bin())
        .args(args)
        .args(["--json", "-", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start loadgen");
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("loadgen {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let wall = start.elapsed();
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("JSON from {args:?}: {e}\nstdout: {stdout}\nstderr: {stderr}"));
    Run {
        json,
        stderr,
        code: out.status.code().unwrap_or(-1),
        wall,
    }
}
