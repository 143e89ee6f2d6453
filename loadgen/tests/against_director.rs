//! `loadgen register --verify` against the real `director` binary (redirect mode, embedded
//! demo topology moved to port 0): every REGISTER gets a 301 whose Contacts match our
//! independent placement. Skipped with a note when the director binary is not built
//! (`cargo build --workspace --bins` builds it; scripts/test.sh does).

mod common;

use common::load;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

fn director_bin() -> Option<PathBuf> {
    let p = PathBuf::from(common::bin()).with_file_name("director");
    p.exists().then_some(p)
}

struct Director {
    child: std::process::Child,
    udp: String,
    tcp: String,
    _dir: TempDir,
    config: PathBuf,
}

impl Drop for Director {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn start_director(bin: &PathBuf, name: &str) -> Director {
    use std::io::BufRead;
    let dir = std::env::temp_dir().join(format!("loadgen-director-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("director.toml");
    let src = include_str!("../../director/src/config/default.toml").replace("5060", "0");
    std::fs::write(&config, src).expect("write config");
    let mut child = Command::new(bin)
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start director");
    let out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let (mut udp, mut tcp) = (String::new(), String::new());
    for line in out.lines() {
        let line = line.expect("director stdout");
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            ["listening", "udp", a] => udp = a.to_string(),
            ["listening", "tcp", a] => tcp = a.to_string(),
            ["ready", ..] => break,
            _ => {}
        }
    }
    assert!(
        !udp.is_empty() && !tcp.is_empty(),
        "director did not listen"
    );
    Director {
        child,
        udp,
        tcp,
        _dir: TempDir(dir),
        config,
    }
}

#[test]
fn every_301_matches_the_placement_over_udp_and_tcp() {
    let Some(bin) = director_bin() else {
        eprintln!("skipped: no director binary next to loadgen (cargo build --workspace --bins)");
        return;
    };
    let d = start_director(&bin, "verify");
    let config = d.config.to_string_lossy().to_string();
    for (transport, target) in [("udp", &d.udp), ("tcp", &d.tcp)] {
        let r = load(
            &[
                "register",
                "--target",
                target,
                "--transport",
                transport,
                "--count",
                "3000",
                "--users",
                "3000",
                "--verify",
                &config,
                "--expect",
                "301",
            ],
            Duration::from_secs(60),
        );
        assert_eq!(r.status(301), 3000, "{transport}: {}", r.json);
        assert_eq!(r.n("verified"), 3000, "{transport}: {}", r.json);
        assert_eq!(r.n("errors_total"), 0, "{transport}: {}", r.json);
        r.assert_consistent();
    }
}

#[test]
fn verify_catches_a_wrong_topology() {
    let Some(bin) = director_bin() else {
        eprintln!("skipped: no director binary next to loadgen");
        return;
    };
    let d = start_director(&bin, "wrong");
    // Same pools, but machine ids renamed: the hash moves users, contacts stay valid.
    let wrong = d.config.with_file_name("wrong.toml");
    let text = std::fs::read_to_string(&d.config).expect("config");
    std::fs::write(&wrong, text.replace("id = \"fe1.", "id = \"xx1.")).expect("write");
    let wrong = wrong.to_string_lossy().to_string();
    let r = load(
        &[
            "register", "--target", &d.udp, "--count", "500", "--users", "500", "--verify", &wrong,
        ],
        Duration::from_secs(60),
    );
    assert_eq!(r.status(301), 500, "{}", r.json);
    let bad = r.err("verify_mismatch");
    assert!(bad > 0 && bad < 500, "{}", r.json);
    assert_eq!(r.n("verified") + bad, 500, "{}", r.json);
    assert!(!r.json["mismatch_samples"]
        .as_array()
        .expect("samples")
        .is_empty());
}
