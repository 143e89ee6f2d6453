//! Error types of the codec: [`ParseError`] for message and header syntax, with a short
//! `reason()` phrase fit for a SIP 400 reason or Warning text.

use crate::header_name::HeaderName;

/// What is wrong with a message or one of its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Nothing but (optional) CRLFs in the buffer.
    #[error("empty message")]
    Empty,
    /// The Request-Line or Status-Line is not `Method SP URI SP SIP/x.y` / `SIP/x.y SP code SP reason`.
    #[error("malformed start line")]
    BadStartLine,
    /// The method is not a token.
    #[error("malformed method")]
    BadMethod,
    /// The version is not `SIP/1*DIGIT.1*DIGIT`.
    #[error("malformed protocol version")]
    BadVersion,
    /// A status code that is not three digits in 100..=699.
    #[error("bad status code")]
    BadStatusCode,
    /// A header line is malformed (no colon, bad name, bare LF, continuation with no header).
    #[error("malformed header at line {line}")]
    BadHeader {
        /// 1-based line number in the message (the start line is line 1).
        line: u32,
    },
    /// The buffer is larger than the codec's 32-bit offsets can address.
    #[error("message too large")]
    TooLarge,
    /// More header fields than the parser holds.
    #[error("too many headers")]
    TooManyHeaders,
    /// The header section does not end with an empty line.
    #[error("header section not terminated by an empty line")]
    UnterminatedHead,
    /// Content-Length is not a decimal number that fits in u32.
    #[error("bad Content-Length")]
    BadContentLength,
    /// More than one Content-Length header.
    #[error("more than one Content-Length")]
    DuplicateContentLength,
    /// Content-Length promises more octets than the buffer holds.
    #[error("body truncated: Content-Length {declared}, {available} octets available")]
    BodyTruncated {
        /// Content-Length value.
        declared: u32,
        /// Octets after the blank line.
        available: usize,
    },
    /// A required header is absent.
    #[error("missing {0} header")]
    MissingHeader(HeaderName),
    /// A URI does not follow the grammar.
    #[error("malformed URI")]
    BadUri,
    /// A `%` not followed by two hex digits.
    #[error("bad % escape")]
    BadEscape,
    /// A Via value is malformed.
    #[error("malformed Via")]
    BadVia,
    /// A From/To/Contact/Route value is malformed.
    #[error("malformed name-addr")]
    BadNameAddr,
    /// A quoted string is never closed.
    #[error("unterminated quoted string")]
    UnterminatedQuote,
    /// A `;name=value` parameter is malformed.
    #[error("malformed parameter")]
    BadParam,
    /// Call-ID is empty or contains white space.
    #[error("malformed Call-ID")]
    BadCallId,
    /// CSeq is not `number SP method` with number <= 2^32-1.
    #[error("malformed CSeq")]
    BadCSeq,
    /// Max-Forwards is not a number in 0..=255.
    #[error("bad Max-Forwards")]
    BadMaxForwards,
    /// Expires is not a number <= 2^32-1.
    #[error("bad Expires")]
    BadExpires,
    /// A Contact value is malformed.
    #[error("malformed Contact")]
    BadContact,
    /// Date is not an RFC 1123 date in GMT.
    #[error("malformed Date")]
    BadDate,
}

impl ParseError {
    /// A short phrase for a SIP reason or Warning text, e.g. `"Malformed Via"`.
    pub fn reason(&self) -> &'static str {
        match self {
            ParseError::Empty => "Empty Message",
            ParseError::BadStartLine => "Malformed Request-Line",
            ParseError::BadMethod => "Malformed Method",
            ParseError::BadVersion => "Malformed SIP Version",
            ParseError::BadStatusCode => "Bad Status Code",
            ParseError::BadHeader { .. } => "Malformed Header",
            ParseError::TooLarge => "Message Too Large",
            ParseError::TooManyHeaders => "Too Many Headers",
            ParseError::UnterminatedHead => "Unterminated Header Section",
            ParseError::BadContentLength => "Bad Content-Length",
            ParseError::DuplicateContentLength => "Multiple Content-Length",
            ParseError::BodyTruncated { .. } => "Body Shorter Than Content-Length",
            ParseError::MissingHeader(h) => h.missing_reason(),
            ParseError::BadUri => "Malformed URI",
            ParseError::BadEscape => "Bad Escape In URI",
            ParseError::BadVia => "Malformed Via",
            ParseError::BadNameAddr => "Malformed Address",
            ParseError::UnterminatedQuote => "Unterminated Quoted String",
            ParseError::BadParam => "Malformed Parameter",
            ParseError::BadCallId => "Malformed Call-ID",
            ParseError::BadCSeq => "Malformed CSeq",
            ParseError::BadMaxForwards => "Bad Max-Forwards",
            ParseError::BadExpires => "Bad Expires",
            ParseError::BadContact => "Malformed Contact",
            ParseError::BadDate => "Malformed Date",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_short() {
        assert_eq!(ParseError::BadVia.reason(), "Malformed Via");
        assert_eq!(
            ParseError::MissingHeader(HeaderName::CallId).reason(),
            "Missing Call-ID"
        );
        let e = ParseError::BodyTruncated {
            declared: 9999,
            available: 154,
        };
        assert!(e.to_string().contains("9999"));
    }
}
