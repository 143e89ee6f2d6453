//! A tiny HTTP/1.1 client for the admin API (one request per connection, `Connection: close`),
//! plus polling helpers that wait for a condition with a generous deadline.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Sends `method path` and returns (status, body).
pub fn request(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect to admin");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("write request");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {text}"));
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    (
        status,
        if chunked {
            dechunk(body)
        } else {
            body.to_string()
        },
    )
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// GET returning (status, body).
pub fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    request(addr, "GET", path)
}

/// POST returning (status, body).
pub fn post(addr: SocketAddr, path: &str) -> (u16, String) {
    request(addr, "POST", path)
}

/// GET as JSON (panics unless 200).
pub fn get_json(addr: SocketAddr, path: &str) -> serde_json::Value {
    let (status, body) = get(addr, path);
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: bad JSON {e}: {body}"))
}

/// Polls `f` every 50 ms until it returns `Some`, for at most `within` (a safety net, not a
/// timing assertion: the condition is what the test checks).
pub fn wait_for<T>(what: &str, within: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A registrar's state from `/registrars` (`up`, `down`, `draining`).
pub fn registrar_state(admin: SocketAddr, id: &str) -> String {
    let v = get_json(admin, "/registrars");
    v["registrars"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["id"] == id))
        .and_then(|r| r["state"].as_str())
        .unwrap_or_else(|| panic!("registrar {id} not listed: {v}"))
        .to_string()
}

/// Whether `/registrars` shows the pool as failed over.
pub fn pool_failed_over(admin: SocketAddr, pool: &str) -> bool {
    let v = get_json(admin, "/registrars");
    v["pools"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["id"] == pool))
        .and_then(|p| p["failed_over"].as_bool())
        .unwrap_or_else(|| panic!("pool {pool} not listed: {v}"))
}

/// The value of one `/metrics` sample, named with its labels as the exposition writes it (e.g.
/// `director_dataplane_dropped_total{reason="tls_handshake"}`); panics when it is missing.
pub fn metric(admin: SocketAddr, sample: &str) -> u64 {
    let (code, body) = get(admin, "/metrics");
    assert_eq!(code, 200, "{body}");
    body.lines()
        .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {sample} in {body}"))
}
