//! Stream framing for TCP/TLS: finds where one message ends in a byte stream (head up to the
//! blank line, then Content-Length octets; absent Content-Length means 0 on streams), reports
//! RFC 5626 CRLF keepalives, and enforces [`Limits`] while a message is still incomplete.

use memchr::memchr;

use crate::header_name::HeaderName;
use crate::lex::{is_token, parse_dec, trim_lws};

/// Size limits for stream framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most octets in one message (head and body).
    pub max_message: usize,
    /// Most header fields.
    pub max_headers: usize,
    /// Most octets in one line (CRLF excluded).
    pub max_line: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message: 65535,
            max_headers: 128,
            max_line: 8192,
        }
    }
}

/// What the start of a stream buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// A whole message of `len` octets: pass `&buf[..len]` to [`crate::parse`], then consume it.
    Complete {
        /// Octets in the message.
        len: usize,
    },
    /// More octets are needed.
    Incomplete,
    /// `len` octets of CRLF keepalive (RFC 5626 ping `\r\n\r\n` or pong `\r\n`) to consume.
    KeepAlive {
        /// Octets of CRLF pairs.
        len: usize,
    },
}

/// Why a stream cannot be framed; the connection should be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The message is (or would be) larger than `Limits::max_message`.
    #[error("message larger than {limit} octets")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// A line is longer than `Limits::max_line`.
    #[error("line longer than {limit} octets")]
    LineTooLong {
        /// The limit.
        limit: usize,
    },
    /// More header fields than `Limits::max_headers`.
    #[error("more than {limit} header fields")]
    TooManyHeaders {
        /// The limit.
        limit: usize,
    },
    /// Content-Length is not a decimal number that fits in u32.
    #[error("bad Content-Length")]
    BadContentLength,
    /// More than one Content-Length header.
    #[error("more than one Content-Length")]
    DuplicateContentLength,
}

impl FrameError {
    /// A short phrase for a SIP reason text.
    pub fn reason(&self) -> &'static str {
        match self {
            FrameError::TooLarge { .. } => "Message Too Large",
            FrameError::LineTooLong { .. } => "Line Too Long",
            FrameError::TooManyHeaders { .. } => "Too Many Headers",
            FrameError::BadContentLength => "Bad Content-Length",
            FrameError::DuplicateContentLength => "Multiple Content-Length",
        }
    }
}

/// Frames the message at the start of `buf`. See [`Frame`].
pub fn frame(buf: &[u8], limits: &Limits) -> Result<Frame, FrameError> {
    let mut k = 0;
    while buf.get(k..k + 2) == Some(b"\r\n") {
        k += 2;
    }
    if k > 0 {
        return Ok(Frame::KeepAlive { len: k });
    }
    if buf.len() < 2 {
        return Ok(Frame::Incomplete);
    }
    let mut pos = 0usize;
    let mut headers = 0usize;
    let mut content_length: Option<u32> = None;
    let head_len = loop {
        let rest = buf.get(pos..).unwrap_or(&[]);
        let Some(lf) = memchr(b'\n', rest) else {
            if rest.len() > limits.max_line.saturating_add(1) {
                return Err(FrameError::LineTooLong {
                    limit: limits.max_line,
                });
            }
            if buf.len() > limits.max_message {
                return Err(FrameError::TooLarge {
                    limit: limits.max_message,
                });
            }
            return Ok(Frame::Incomplete);
        };
        let line = rest.get(..lf).unwrap_or(&[]);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > limits.max_line {
            return Err(FrameError::LineTooLong {
                limit: limits.max_line,
            });
        }
        let next = pos + lf + 1;
        if next > limits.max_message {
            return Err(FrameError::TooLarge {
                limit: limits.max_message,
            });
        }
        if pos > 0 {
            if line.is_empty() {
                break next;
            }
            if !matches!(line.first(), Some(b' ' | b'\t')) {
                headers += 1;
                if headers > limits.max_headers {
                    return Err(FrameError::TooManyHeaders {
                        limit: limits.max_headers,
                    });
                }
                if let Some(v) = content_length_value(line) {
                    if content_length.is_some() {
                        return Err(FrameError::DuplicateContentLength);
                    }
                    content_length =
                        Some(parse_dec(trim_lws(v), u32::MAX).ok_or(FrameError::BadContentLength)?);
                }
            }
        }
        pos = next;
    };
    let total = head_len.saturating_add(content_length.unwrap_or(0) as usize);
    if total > limits.max_message {
        return Err(FrameError::TooLarge {
            limit: limits.max_message,
        });
    }
    Ok(if buf.len() >= total {
        Frame::Complete { len: total }
    } else {
        Frame::Incomplete
    })
}

/// If `line` is a Content-Length header (`Content-Length` or `l`), its value part.
#[inline]
fn content_length_value(line: &[u8]) -> Option<&[u8]> {
    let n = line
        .iter()
        .position(|&b| !is_token(b))
        .unwrap_or(line.len());
    if n != 1 && n != 14 {
        return None;
    }
    if HeaderName::from_bytes(line.get(..n)?) != HeaderName::ContentLength {
        return None;
    }
    let colon = n + memchr(b':', line.get(n..)?)?;
    line.get(colon + 1..)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/TCP h\r\nl: 3\r\n\r\nabc";

    #[test]
    fn complete_and_incomplete() {
        let l = Limits::default();
        for i in 0..MSG.len() {
            assert_eq!(frame(&MSG[..i], &l), Ok(Frame::Incomplete), "at {i}");
        }
        assert_eq!(frame(MSG, &l), Ok(Frame::Complete { len: MSG.len() }));
        let mut two = MSG.to_vec();
        two.extend_from_slice(MSG);
        assert_eq!(frame(&two, &l), Ok(Frame::Complete { len: MSG.len() }));
        let no_cl = b"OPTIONS sip:a SIP/2.0\r\nX: y\r\n\r\nIGNORED";
        assert_eq!(
            frame(no_cl, &l),
            Ok(Frame::Complete {
                len: no_cl.len() - 7
            })
        );
    }

    #[test]
    fn keepalive() {
        let l = Limits::default();
        assert_eq!(frame(b"\r\n\r\n", &l), Ok(Frame::KeepAlive { len: 4 }));
        assert_eq!(frame(b"\r\n", &l), Ok(Frame::KeepAlive { len: 2 }));
        assert_eq!(frame(b"\r\nOPT", &l), Ok(Frame::KeepAlive { len: 2 }));
        assert_eq!(frame(b"\r", &l), Ok(Frame::Incomplete));
        assert_eq!(frame(b"", &l), Ok(Frame::Incomplete));
    }

    #[test]
    fn limits() {
        let l = Limits {
            max_message: 64,
            max_headers: 2,
            max_line: 30,
        };
        assert_eq!(
            frame(&[b'A'; 40], &l),
            Err(FrameError::LineTooLong { limit: 30 })
        );
        assert_eq!(
            frame(b"OPTIONS sip:a SIP/2.0\r\nA: 1\r\nB: 2\r\nC: 3\r\n", &l),
            Err(FrameError::TooManyHeaders { limit: 2 })
        );
        assert_eq!(
            frame(b"OPTIONS sip:a SIP/2.0\r\nl: 100\r\n\r\n", &l),
            Err(FrameError::TooLarge { limit: 64 })
        );
        assert_eq!(
            frame(b"OPTIONS sip:a SIP/2.0\r\nl: -1\r\n\r\n", &l),
            Err(FrameError::BadContentLength)
        );
        assert_eq!(
            frame(
                b"OPTIONS sip:a SIP/2.0\r\nl: 1\r\nl: 1\r\n\r\n",
                &Limits::default()
            ),
            Err(FrameError::DuplicateContentLength)
        );
        let mut slow = b"OPTIONS sip:a SIP/2.0\r\n".to_vec();
        for _ in 0..6 {
            slow.extend_from_slice(b"Xxxxxxxxxx: 0123456789\r\n");
        }
        let l = Limits {
            max_message: 100,
            max_headers: 128,
            max_line: 8192,
        };
        assert_eq!(frame(&slow, &l), Err(FrameError::TooLarge { limit: 100 }));
    }
}
