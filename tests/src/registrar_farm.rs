//! `loadgen registrar` as a farm of simulated registrars for the tests: started on loopback
//! port 0, listeners and control socket read from its stdout, muted/unmuted over the control
//! socket, stopped with SIGTERM when dropped.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::process::bin;

/// A running farm.
#[derive(Debug)]
pub struct RegistrarFarm {
    child: Child,
    /// Listener addresses in start order.
    pub addrs: Vec<SocketAddr>,
    control: SocketAddr,
}

impl RegistrarFarm {
    /// `n` listeners over `transport` (`udp`, `tcp`, `tls`).
    pub fn start(n: usize, transport: &str) -> RegistrarFarm {
        Self::start_with_args(n, transport, &[])
    }

    /// `n` TLS listeners presenting the certificate chain and key of these PEM files, bound to
    /// the address `localhost` resolves to first (what the director connects to for a
    /// registrar configured as `localhost:PORT`: 127.0.0.1 or ::1 depending on the host).
    pub fn start_tls(n: usize, certificate: &Path, private_key: &Path) -> RegistrarFarm {
        Self::start_tls_with_args(n, certificate, private_key, &[])
    }

    /// [`RegistrarFarm::start_tls`] with extra `loadgen registrar` arguments (e.g.
    /// `--client-ca FILE` to require client certificates).
    pub fn start_tls_with_args(
        n: usize,
        certificate: &Path,
        private_key: &Path,
        extra: &[&OsStr],
    ) -> RegistrarFarm {
        let ip = ("localhost", 0)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .map_or(IpAddr::from([127, 0, 0, 1]), |a| a.ip());
        let args = [
            OsStr::new("--certificate"),
            certificate.as_os_str(),
            OsStr::new("--private-key"),
            private_key.as_os_str(),
        ];
        let args: Vec<&OsStr> = args.iter().copied().chain(extra.iter().copied()).collect();
        Self::start_on(ip, n, "tls", &args)
    }

    /// `n` listeners over `transport` with extra `loadgen registrar` arguments.
    pub fn start_with_args(n: usize, transport: &str, extra: &[&OsStr]) -> RegistrarFarm {
        Self::start_on(IpAddr::from([127, 0, 0, 1]), n, transport, extra)
    }

    /// [`RegistrarFarm::start_with_args`] with the listeners on `ip`.
    fn start_on(ip: IpAddr, n: usize, transport: &str, extra: &[&OsStr]) -> RegistrarFarm {
        let mut cmd = Command::new(bin("loadgen"));
        cmd.arg("registrar").args(["--transport", transport]);
        cmd.args(extra);
        for _ in 0..n {
            cmd.arg("--listen").arg(SocketAddr::new(ip, 0).to_string());
        }
        cmd.args(["--control", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("spawn loadgen registrar");
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut addrs = Vec::new();
        let control = loop {
            let line = rx
                .recv_timeout(Duration::from_secs(20))
                .expect("registrar farm announces itself");
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.as_slice() {
                ["listening", _, addr] => addrs.push(addr.parse().expect("addr")),
                ["control", addr] => break addr.parse().expect("control addr"),
                _ => {}
            }
        };
        assert_eq!(addrs.len(), n);
        RegistrarFarm {
            child,
            addrs,
            control,
        }
    }

    /// Sends one control command and returns the answer (up to the `ok`/`error` line).
    pub fn command(&self, cmd: &str) -> String {
        let mut s = TcpStream::connect(self.control).expect("connect control");
        writeln!(s, "{cmd}").expect("write");
        let mut out = String::new();
        for line in BufReader::new(s).lines().map_while(Result::ok) {
            out.push_str(&line);
            out.push('\n');
            if line.starts_with("ok") || line.starts_with("error") {
                break;
            }
        }
        out
    }

    /// Stops answering on one listener.
    pub fn mute(&self, addr: SocketAddr) {
        let r = self.command(&format!("mute {addr}"));
        assert!(r.starts_with("ok"), "mute {addr}: {r}");
    }

    /// Answers again on one listener.
    pub fn unmute(&self, addr: SocketAddr) {
        let r = self.command(&format!("unmute {addr}"));
        assert!(r.starts_with("ok"), "unmute {addr}: {r}");
    }

    /// Requests received by one listener so far (muted ones included).
    pub fn received(&self, addr: SocketAddr) -> u64 {
        let stats = self.command("stats");
        let needle = format!(" {addr} received ");
        stats
            .lines()
            .find_map(|l| {
                let i = l.find(&needle)?;
                l[i + needle.len()..]
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("no stats for {addr}: {stats}"))
    }
}

impl Drop for RegistrarFarm {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}
