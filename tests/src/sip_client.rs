//! A minimal SIP client for the tests: formats REGISTER/OPTIONS, sends them over UDP or TCP and
//! pulls the interesting fields out of the answer with plain string handling (deliberately not
//! the project's codec, so codec bugs cannot hide on both sides).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

/// A REGISTER for `aor` from `local`, with a unique branch and Call-ID from `n`.
pub fn register(aor: &str, local: SocketAddr, transport: &str, n: u64) -> String {
    format!(
        "REGISTER sip:example.com SIP/2.0\r\n\
         Via: SIP/2.0/{transport} {local};branch=z9hG4bK-t{n};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <{aor}>;tag=f{n}\r\n\
         To: <{aor}>\r\n\
         Call-ID: call-{n}@test\r\n\
         CSeq: {n} REGISTER\r\n\
         Contact: <sip:ua@{local}>\r\n\
         Expires: 3600\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// A parsed-enough response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Status code.
    pub code: u16,
    /// Reason phrase.
    pub reason: String,
    /// Contact URIs (inside `<>`) with their q value text, in order.
    pub contacts: Vec<(String, String)>,
    /// Every header line, as (lowercased name, value).
    pub headers: Vec<(String, String)>,
    /// The raw text.
    pub raw: String,
}

impl Answer {
    /// First value of a header by lowercased name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a response with string operations. Panics on something that is not a SIP response.
pub fn parse_answer(raw: &str) -> Answer {
    let mut lines = raw.split("\r\n");
    let status = lines.next().expect("status line");
    let mut parts = status.splitn(3, ' ');
    assert_eq!(parts.next(), Some("SIP/2.0"), "not a response: {raw}");
    let code = parts
        .next()
        .and_then(|c| c.parse().ok())
        .expect("status code");
    let reason = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    let mut contacts = Vec::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').expect("header line");
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim().to_string();
        if name == "contact" || name == "m" {
            let uri =
                value[value.find('<').expect("<") + 1..value.find('>').expect(">")].to_string();
            let q = value
                .split(';')
                .find_map(|p| p.trim().strip_prefix("q="))
                .unwrap_or("")
                .to_string();
            contacts.push((uri, q));
        }
        headers.push((name, value));
    }
    Answer {
        code,
        reason,
        contacts,
        headers,
        raw: raw.to_string(),
    }
}

/// A UDP client socket on loopback.
pub fn udp_socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
    s.set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    s
}

/// Sends `msg` over UDP and returns the answer, or `None` after the timeout.
pub fn udp_exchange(sock: &UdpSocket, to: SocketAddr, msg: &[u8]) -> Option<String> {
    sock.send_to(msg, to).expect("send");
    let mut buf = vec![0u8; 65536];
    match sock.recv_from(&mut buf) {
        Ok((n, _)) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
        Err(_) => None,
    }
}

/// Reads one SIP message (header section plus Content-Length body) from a stream.
pub fn read_stream_message(stream: &mut TcpStream, pending: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).into_owned();
            let body_len = head
                .lines()
                .find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    let n = n.trim().to_ascii_lowercase();
                    (n == "content-length" || n == "l").then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            let total = end + 4 + body_len;
            if pending.len() >= total {
                let msg = String::from_utf8_lossy(&pending[..total]).into_owned();
                pending.drain(..total);
                return Some(msg);
            }
        }
        let mut buf = [0u8; 8192];
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    }
}

/// Connects over TCP with a read timeout.
pub fn tcp_connect(to: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(to).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    s
}

/// Writes all of `msg`.
pub fn tcp_send(s: &mut TcpStream, msg: &[u8]) {
    s.write_all(msg).expect("write");
}
