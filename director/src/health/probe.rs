//! One health probe: a SIP OPTIONS to a registrar over UDP, TCP or TLS, answered (any response
//! but `503`) within the timeout or not. TLS probes accept any certificate
//! ([`super::tls_client`]). Runs on the control plane's tokio runtime, never on a worker.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use crate::topology::Transport;

/// Why a probe failed.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// No answer within the timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// A socket error (connection refused, ICMP unreachable, ...).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The registrar answered 503 Service Unavailable.
    #[error("answered 503")]
    Unavailable,
    /// The answer was not a SIP response to our request.
    #[error("unexpected answer")]
    Garbage,
    /// The endpoint's host did not resolve.
    #[error("unresolved host")]
    Unresolved,
    /// The TLS client could not be set up.
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
}

/// The OPTIONS request of probe number `seq` toward `to`, sent from `local`.
pub fn options_request(
    to: SocketAddr,
    local: SocketAddr,
    transport: Transport,
    seq: u64,
) -> String {
    let t = transport.as_str().to_ascii_uppercase();
    format!(
        "OPTIONS sip:{to};transport={tl} SIP/2.0\r\n\
         Via: SIP/2.0/{t} {local};branch=z9hG4bK-hp{seq:x};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:director@{ip}>;tag=hp{seq:x}\r\n\
         To: <sip:{to}>\r\n\
         Call-ID: {cid}\r\n\
         CSeq: 1 OPTIONS\r\n\
         Accept: application/sdp\r\n\
         Content-Length: 0\r\n\r\n",
        tl = transport.as_str(),
        ip = Brackets(local.ip()),
        cid = call_id(seq),
    )
}

fn call_id(seq: u64) -> String {
    format!("hp-{seq:x}-{}@director", std::process::id())
}

struct Brackets(IpAddr);

impl std::fmt::Display for Brackets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(a) => write!(f, "{a}"),
            IpAddr::V6(a) => write!(f, "[{a}]"),
        }
    }
}

/// Checks that `bytes` is a response to probe `seq`; `Ok` unless it is a 503 or not ours.
pub fn check_answer(bytes: &[u8], seq: u64) -> Result<(), ProbeError> {
    let msg = sip::parse(bytes).map_err(|_| ProbeError::Garbage)?;
    let status = msg.status().ok_or(ProbeError::Garbage)?;
    let ours = msg.call_id().is_ok_and(|c| c == call_id(seq).as_bytes());
    match (ours, status) {
        (false, _) => Err(ProbeError::Garbage),
        (true, 503) => Err(ProbeError::Unavailable),
        (true, _) => Ok(()),
    }
}

/// Probes `to` once (`host` names it for TLS SNI); the round-trip time when it answered.
pub async fn probe(
    to: SocketAddr,
    host: &str,
    transport: Transport,
    timeout: Duration,
    seq: u64,
) -> Result<Duration, ProbeError> {
    let start = Instant::now();
    let work = async {
        match transport {
            Transport::Udp => probe_udp(to, seq).await,
            Transport::Tcp => {
                let s = TcpStream::connect(to).await?;
                let local = s.local_addr()?;
                probe_stream(s, to, local, Transport::Tcp, seq).await
            }
            Transport::Tls => {
                let s = TcpStream::connect(to).await?;
                let local = s.local_addr()?;
                let connector = super::tls_client::connector()?;
                let s = connector
                    .connect(super::tls_client::server_name(host, to), s)
                    .await?;
                probe_stream(s, to, local, Transport::Tls, seq).await
            }
        }
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(Ok(())) => Ok(start.elapsed()),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(ProbeError::Timeout(timeout)),
    }
}

async fn probe_udp(to: SocketAddr, seq: u64) -> Result<(), ProbeError> {
    let any: IpAddr = match to {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let sock = UdpSocket::bind(SocketAddr::new(any, 0)).await?;
    sock.connect(to).await?;
    let local = sock.local_addr()?;
    sock.send(options_request(to, local, Transport::Udp, seq).as_bytes())
        .await?;
    let mut buf = vec![0u8; 65536];
    loop {
        let n = sock.recv(&mut buf).await?;
        match check_answer(buf.get(..n).unwrap_or(&[]), seq) {
            Err(ProbeError::Garbage) => continue, // a stray datagram: keep waiting
            other => return other,
        }
    }
}

async fn probe_stream<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    to: SocketAddr,
    local: SocketAddr,
    transport: Transport,
    seq: u64,
) -> Result<(), ProbeError> {
    s.write_all(options_request(to, local, transport, seq).as_bytes())
        .await?;
    s.flush().await?;
    let mut buf = Vec::with_capacity(4096);
    let limits = sip::Limits::default();
    loop {
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(ProbeError::Garbage);
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
        loop {
            match sip::frame(&buf, &limits).map_err(|_| ProbeError::Garbage)? {
                sip::Frame::Incomplete => break,
                sip::Frame::KeepAlive { len } => {
                    buf.drain(..len.min(buf.len()));
                }
                sip::Frame::Complete { len } => {
                    let result = check_answer(buf.get(..len).unwrap_or(&[]), seq);
                    buf.drain(..len.min(buf.len()));
                    match result {
                        Err(ProbeError::Garbage) => continue,
                        other => return other,
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_parses_and_answers_are_matched() {
        let to: SocketAddr = "127.0.0.1:5070".parse().expect("addr");
        let local: SocketAddr = "127.0.0.1:40000".parse().expect("addr");
        let req = options_request(to, local, Transport::Udp, 7);
        let msg = sip::parse(req.as_bytes()).expect("parses");
        assert!(sip::validate_request(&msg).is_ok());
        let answer = |code: u16, cid: &str| {
            format!(
                "SIP/2.0 {code} X\r\nVia: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK-hp7\r\n\
                 From: <sip:d@x>;tag=1\r\nTo: <sip:y>;tag=2\r\nCall-ID: {cid}\r\n\
                 CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            )
        };
        let cid = call_id(7);
        assert!(check_answer(answer(200, &cid).as_bytes(), 7).is_ok());
        assert!(check_answer(answer(405, &cid).as_bytes(), 7).is_ok());
        assert!(matches!(
            check_answer(answer(503, &cid).as_bytes(), 7),
            Err(ProbeError::Unavailable)
        ));
        assert!(matches!(
            check_answer(answer(200, "other").as_bytes(), 7),
            Err(ProbeError::Garbage)
        ));
    }
}
