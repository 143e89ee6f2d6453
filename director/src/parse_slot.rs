//! A per-thread [`sip::MessageSlot`] for the paths that parse a message per datagram (`decide`
//! and the limiter's 503): its span table is reused, so they allocate nothing per message.

use std::cell::Cell;

use sip::{Message, MessageSlot, ParseError};

thread_local! {
    /// `None` while a call holds it (or before the first call on this thread).
    static SLOT: Cell<Option<MessageSlot<'static>>> = const { Cell::new(None) };
}

/// Parses `bytes` into this thread's slot and hands the result to `f`.
pub(crate) fn with_parsed<R>(
    bytes: &[u8],
    f: impl FnOnce(Result<&Message<'_>, ParseError>) -> R,
) -> R {
    let mut slot = SLOT.take().unwrap_or_default().recycle();
    let result = f(slot.parse(bytes));
    SLOT.set(Some(slot.recycle()));
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_input_and_reports_errors() {
        let a = b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\nMax-Forwards: 70\r\n\r\n".to_vec();
        assert_eq!(with_parsed(&a, |m| m.map(|m| m.header_count())), Ok(2));
        assert_eq!(
            with_parsed(b"", |m| m.map(|m| m.header_count())),
            Err(ParseError::Empty)
        );
        let b = b"BYE sip:a@b SIP/2.0\r\nTo: y\r\n\r\n".to_vec();
        assert_eq!(
            with_parsed(&b, |m| m
                .map(|m| m.header(sip::HeaderName::To).map(|h| h.value.to_vec()))),
            Ok(Some(b"y".to_vec()))
        );
    }
}
