//! Reading a PROXY protocol header off a freshly accepted TCP socket, before TLS and SIP
//! framing, consuming exactly the header's bytes.
//!
//! Bytes are peeked first and parsed; while the header is incomplete every peeked byte is part
//! of it and is consumed (so the next peek waits for new data instead of spinning); once it is
//! complete, exactly its remaining bytes are read. Whatever follows (a TLS ClientHello, a SIP
//! message) stays in the socket for the next stage.

use std::net::SocketAddr;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::proxy_protocol::{parse, Parse, ProxyError, MAX_HEADER_LEN};

/// Why no header was read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HeaderError {
    /// The bytes are not a valid header.
    #[error(transparent)]
    Invalid(#[from] ProxyError),
    /// The peer closed before the header was complete.
    #[error("connection closed inside the PROXY header")]
    Closed,
    /// A socket error.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Reads the header; returns the real client address, or `None` when the header names none
/// (v1 UNKNOWN, v2 LOCAL or an unsupported family) and the socket's peer address stands.
pub(crate) async fn read_proxy_header(
    tcp: &mut TcpStream,
) -> Result<Option<SocketAddr>, HeaderError> {
    let mut buf = [0u8; MAX_HEADER_LEN];
    let mut have = 0usize;
    loop {
        let n = tcp.peek(&mut buf[have..]).await?;
        if n == 0 {
            return Err(HeaderError::Closed);
        }
        match parse(&buf[..have + n])? {
            Parse::Parsed(h) => {
                let rest = h.header_len.saturating_sub(have);
                tcp.read_exact(&mut buf[have..have + rest]).await?;
                return Ok(h.source);
            }
            Parse::Incomplete => {
                let got = tcp.read(&mut buf[have..have + n]).await?;
                if got == 0 {
                    return Err(HeaderError::Closed);
                }
                have += got;
                if have >= MAX_HEADER_LEN {
                    // The parser bounds both versions below this; never loop without progress.
                    return Err(HeaderError::Invalid(ProxyError::V2TooLong(have)));
                }
            }
        }
    }
}
