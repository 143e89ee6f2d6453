//! Starting and stopping the real binaries. A [`Director`] runs `target/<profile>/director` on a
//! generated configuration with port-0 listeners, reads the `listening ...` / `ready ...` lines
//! it prints, and is stopped with SIGTERM when dropped (its exit status is checked by
//! [`Director::stop`]).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

/// The workspace root (parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests crate lives in the workspace")
        .to_path_buf()
}

/// Path of a workspace binary in the profile the tests were built with. The first call in a
/// test process runs `cargo build` for the workspace binaries (a no-op when they are fresh), so
/// a test never runs a stale binary.
pub fn bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let release = !cfg!(debug_assertions);
    BUILT.get_or_init(|| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.current_dir(workspace_root())
            .args(["build", "--quiet", "--bin", "director", "--bin", "loadgen"]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build");
        assert!(
            status.success(),
            "cargo build of the workspace binaries failed"
        );
    });
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target
        .join(if release { "release" } else { "debug" })
        .join(name)
}

/// A unique scratch directory for one test.
pub fn scratch_dir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "director-test-{}-{}-{}",
        tag,
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// The sockets a director announced.
#[derive(Debug, Clone, Default)]
pub struct Listening {
    /// UDP listeners.
    pub udp: Vec<SocketAddr>,
    /// TCP listeners.
    pub tcp: Vec<SocketAddr>,
    /// TLS listeners.
    pub tls: Vec<SocketAddr>,
    /// The admin HTTP server (`admin ADDR` line), when configured.
    pub admin: Option<SocketAddr>,
}

/// A running director process.
#[derive(Debug)]
pub struct Director {
    child: Option<Child>,
    /// Its announced listeners.
    pub listening: Listening,
    /// The configuration file it runs on.
    pub config_path: PathBuf,
    /// The `ready` line it printed (workers and the UDP backend in use).
    pub ready_line: String,
    stderr_lines: mpsc::Receiver<String>,
}

impl Director {
    /// Starts the director on this configuration text with extra environment variables.
    pub fn start_with_env(config: &str, env: &[(&str, &str)]) -> Director {
        let dir = scratch_dir("director");
        let config_path = dir.join("director.toml");
        std::fs::write(&config_path, config).expect("write config");
        let mut cmd = Command::new(bin("director"));
        cmd.arg("--config")
            .arg(&config_path)
            .env("DIRECTOR_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn director");
        let stdout = child.stdout.take().expect("stdout piped");
        let stderr = child.stderr.take().expect("stderr piped");
        let (err_tx, err_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[director] {line}");
                let _ = err_tx.send(line);
            }
        });
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut listening = Listening::default();
        let ready_line;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => {
                    let _ = child.kill();
                    panic!(
                        "director did not become ready (config {})",
                        config_path.display()
                    );
                }
            };
            let mut parts = line.split_whitespace();
            match (parts.next(), parts.next(), parts.next()) {
                (Some("listening"), Some(t), Some(addr)) => {
                    let addr: SocketAddr = addr.parse().expect("announced address");
                    match t {
                        "udp" => listening.udp.push(addr),
                        "tcp" => listening.tcp.push(addr),
                        "tls" => listening.tls.push(addr),
                        other => panic!("unknown transport {other}"),
                    }
                }
                (Some("admin"), Some(addr), None) => {
                    listening.admin = Some(addr.parse().expect("announced admin address"));
                }
                (Some("ready"), _, _) => {
                    ready_line = line;
                    break;
                }
                _ => {}
            }
        }
        Director {
            child: Some(child),
            listening,
            config_path,
            ready_line,
            stderr_lines: err_rx,
        }
    }

    /// Starts the director on this configuration text.
    pub fn start(config: &str) -> Director {
        Self::start_with_env(config, &[])
    }

    /// First UDP listener.
    pub fn udp(&self) -> SocketAddr {
        self.listening.udp[0]
    }

    /// First TCP listener.
    pub fn tcp(&self) -> SocketAddr {
        self.listening.tcp[0]
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(Child::try_wait), Some(Ok(None)))
    }

    /// Sends a signal to the process.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
        unsafe {
            libc::kill(self.pid() as i32, sig);
        }
    }

    /// Stderr lines logged so far.
    pub fn drain_log(&self) -> Vec<String> {
        self.stderr_lines.try_iter().collect()
    }

    /// Stderr lines from now until one containing `needle` has been logged (that line and
    /// whatever came with it included); panics after `within` without one.
    pub fn log_until(&self, needle: &str, within: Duration) -> Vec<String> {
        self.log_until_count(needle, 1, within)
    }

    /// As [`Director::log_until`], until `count` lines contain `needle`. Lines the director
    /// wrote reach the test through a reader thread, so a line logged before an answer may
    /// not have arrived yet when the answer has: waiting for it, not draining once, is exact.
    pub fn log_until_count(&self, needle: &str, count: usize, within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        let mut log = Vec::new();
        loop {
            log.extend(self.drain_log());
            if log.iter().filter(|l| l.contains(needle)).count() >= count {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "fewer than {count} log lines with {needle:?}: {log:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then waits (up to 10 s) for the exit status.
    pub fn stop(mut self) -> ExitStatus {
        self.terminate().expect("director exits after SIGTERM")
    }

    fn terminate(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        self.signal_child(&child, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    fn signal_child(&self, child: &Child, sig: i32) {
        // SAFETY: as in `signal`.
        unsafe {
            libc::kill(child.id() as i32, sig);
        }
    }
}

impl Drop for Director {
    fn drop(&mut self) {
        let _ = self.terminate();
    }
}
