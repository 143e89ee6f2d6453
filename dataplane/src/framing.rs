//! Stream framing: a temporary private shim with the signature of `sip::frame`, to be replaced by
//! a re-export of the `sip` crate's framer when it lands.

use memchr_free::find_head_end;

/// Limits for [`frame`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLimits {
    /// Largest message (head + body).
    pub max_message: usize,
    /// Most header lines.
    pub max_headers: usize,
    /// Longest line.
    pub max_line: usize,
}

impl Default for FrameLimits {
    fn default() -> Self {
        FrameLimits {
            max_message: 65535,
            max_headers: 128,
            max_line: 8192,
        }
    }
}

/// Result of framing the start of a stream buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// A whole message of `len` bytes starts the buffer.
    Complete {
        /// Message length.
        len: usize,
    },
    /// `len` bytes of CRLF keepalive start the buffer.
    KeepAlive {
        /// Keepalive length.
        len: usize,
    },
    /// More bytes are needed.
    Incomplete,
}

/// Why a stream cannot be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The message exceeds `max_message`.
    #[error("message too large")]
    TooLarge,
    /// More than `max_headers` header lines.
    #[error("too many headers")]
    TooManyHeaders,
    /// A line longer than `max_line`.
    #[error("line too long")]
    LineTooLong,
    /// Content-Length missing a valid non-negative value.
    #[error("bad Content-Length")]
    BadContentLength,
}

/// Frames the message at the start of `buf`.
pub fn frame(buf: &[u8], limits: &FrameLimits) -> Result<Frame, FrameError> {
    let crlf = buf
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    if crlf > 0 {
        return Ok(Frame::KeepAlive { len: crlf });
    }
    let Some(head_end) = find_head_end(buf) else {
        check_head(buf, limits)?;
        if buf.len() > limits.max_message {
            return Err(FrameError::TooLarge);
        }
        return Ok(Frame::Incomplete);
    };
    let head = &buf[..head_end];
    check_head(head, limits)?;
    let body = content_length(head)?;
    let total = head_end.checked_add(body).ok_or(FrameError::TooLarge)?;
    if total > limits.max_message {
        return Err(FrameError::TooLarge);
    }
    if buf.len() >= total {
        Ok(Frame::Complete { len: total })
    } else {
        Ok(Frame::Incomplete)
    }
}

fn check_head(head: &[u8], limits: &FrameLimits) -> Result<(), FrameError> {
    let mut lines = 0;
    for line in head.split(|&b| b == b'\n') {
        if line.len() > limits.max_line {
            return Err(FrameError::LineTooLong);
        }
        lines += 1;
    }
    // Start line, headers, and the empty pieces after the final CRLFs.
    if lines > limits.max_headers + 3 {
        return Err(FrameError::TooManyHeaders);
    }
    Ok(())
}

fn content_length(head: &[u8]) -> Result<usize, FrameError> {
    for line in head.split(|&b| b == b'\n').skip(1) {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        if name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l") {
            let value = line[colon + 1..].trim_ascii();
            if value.is_empty() || value.len() > 9 || !value.iter().all(u8::is_ascii_digit) {
                return Err(FrameError::BadContentLength);
            }
            return Ok(value
                .iter()
                .fold(0usize, |n, &d| n * 10 + usize::from(d - b'0')));
        }
    }
    Ok(0)
}

mod memchr_free {
    //! Finding the end of a message head without extra dependencies.

    /// Index just past the first CRLFCRLF (or LFLF).
    pub(super) fn find_head_end(buf: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < buf.len() {
            if buf[i] == b'\n' {
                if buf.get(i + 1) == Some(&b'\n') {
                    return Some(i + 2);
                }
                if buf.get(i + 1) == Some(&b'\r') && buf.get(i + 2) == Some(&b'\n') {
                    return Some(i + 3);
                }
            }
            i += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames() {
        let l = FrameLimits::default();
        let m = b"OPTIONS sip:a SIP/2.0\r\nContent-Length: 3\r\n\r\nabcX";
        assert_eq!(frame(m, &l), Ok(Frame::Complete { len: m.len() - 1 }));
        assert_eq!(frame(&m[..10], &l), Ok(Frame::Incomplete));
        assert_eq!(frame(b"\r\n\r\nX", &l), Ok(Frame::KeepAlive { len: 4 }));
        assert_eq!(
            frame(b"A\r\nl: -1\r\n\r\n", &l),
            Err(FrameError::BadContentLength)
        );
    }
}
