//! [`Method`]: SIP request methods, matched case-sensitively (RFC 3261 7.1); unknown extension
//! methods are kept as their raw token.

use std::fmt;

/// A SIP method. `Other` holds an extension method's exact bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method<'a> {
    /// REGISTER
    Register,
    /// OPTIONS
    Options,
    /// INVITE
    Invite,
    /// ACK
    Ack,
    /// BYE
    Bye,
    /// CANCEL
    Cancel,
    /// SUBSCRIBE
    Subscribe,
    /// NOTIFY
    Notify,
    /// MESSAGE
    Message,
    /// REFER
    Refer,
    /// INFO
    Info,
    /// UPDATE
    Update,
    /// PRACK
    Prack,
    /// PUBLISH
    Publish,
    /// Any other token.
    Other(&'a [u8]),
}

impl<'a> Method<'a> {
    /// Classifies a method token (case-sensitive: `invite` is an extension method).
    #[inline]
    pub fn from_bytes(b: &'a [u8]) -> Method<'a> {
        match b {
            b"REGISTER" => Method::Register,
            b"OPTIONS" => Method::Options,
            b"INVITE" => Method::Invite,
            b"ACK" => Method::Ack,
            b"BYE" => Method::Bye,
            b"CANCEL" => Method::Cancel,
            b"SUBSCRIBE" => Method::Subscribe,
            b"NOTIFY" => Method::Notify,
            b"MESSAGE" => Method::Message,
            b"REFER" => Method::Refer,
            b"INFO" => Method::Info,
            b"UPDATE" => Method::Update,
            b"PRACK" => Method::Prack,
            b"PUBLISH" => Method::Publish,
            other => Method::Other(other),
        }
    }

    /// The method's wire bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        match self {
            Method::Register => b"REGISTER",
            Method::Options => b"OPTIONS",
            Method::Invite => b"INVITE",
            Method::Ack => b"ACK",
            Method::Bye => b"BYE",
            Method::Cancel => b"CANCEL",
            Method::Subscribe => b"SUBSCRIBE",
            Method::Notify => b"NOTIFY",
            Method::Message => b"MESSAGE",
            Method::Refer => b"REFER",
            Method::Info => b"INFO",
            Method::Update => b"UPDATE",
            Method::Prack => b"PRACK",
            Method::Publish => b"PUBLISH",
            Method::Other(b) => b,
        }
    }

    /// True for an extension method this crate does not know.
    pub fn is_other(&self) -> bool {
        matches!(self, Method::Other(_))
    }
}

impl fmt::Display for Method<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_sensitive() {
        assert_eq!(Method::from_bytes(b"REGISTER"), Method::Register);
        assert_eq!(Method::from_bytes(b"register"), Method::Other(b"register"));
        assert_eq!(
            Method::from_bytes(b"RE%47IST%45R").as_bytes(),
            b"RE%47IST%45R"
        );
        assert_eq!(Method::Invite.as_bytes(), b"INVITE");
        assert!(Method::from_bytes(b"NEWMETHOD").is_other());
        assert_eq!(Method::Bye.to_string(), "BYE");
    }
}
