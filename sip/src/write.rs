//! Serialisation: [`Message::write_to`] (byte-exact copy) and [`apply_edits`], which writes the
//! message with [`Edit`]s spliced in over the original bytes (prepend a Via, rewrite
//! Max-Forwards, add `received=`/`rport=` to the top Via) without re-serialising anything else.

use std::ops::Range;

use crate::message::Message;

/// One change to the original message bytes; offsets are relative to [`Message::as_bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit<'e> {
    /// Insert `bytes` before offset `at`.
    Insert {
        /// Offset.
        at: usize,
        /// Bytes to insert.
        bytes: &'e [u8],
    },
    /// Replace `range` with `bytes`.
    Replace {
        /// Range replaced.
        range: Range<usize>,
        /// New bytes.
        bytes: &'e [u8],
    },
    /// Remove `range`.
    Remove(Range<usize>),
}

impl Edit<'_> {
    fn range(&self) -> Range<usize> {
        match self {
            Edit::Insert { at, .. } => *at..*at,
            Edit::Replace { range, .. } | Edit::Remove(range) => range.clone(),
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Edit::Insert { bytes, .. } | Edit::Replace { bytes, .. } => bytes,
            Edit::Remove(_) => &[],
        }
    }
}

/// Why a set of edits cannot be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// Edit `index` starts before the end of the previous one (edits must be sorted by
    /// position and must not overlap).
    #[error("edit {index} is out of order or overlaps the previous one")]
    Unordered {
        /// Index in the edit slice.
        index: usize,
    },
    /// Edit `index` reaches past the message or has start > end.
    #[error("edit {index} is out of the message's bounds")]
    OutOfBounds {
        /// Index in the edit slice.
        index: usize,
    },
}

impl Message<'_> {
    /// Appends the message bytes exactly as received ([`Message::as_bytes`]).
    #[inline]
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

/// Appends `msg` to `out` with `edits` applied. Edits must be sorted by position and must not
/// overlap (several inserts at one offset are fine and keep their order). On error `out` is
/// truncated back to its original length.
///
/// The caller keeps Content-Length right: edits in the head never need it changed.
pub fn apply_edits(
    msg: &Message<'_>,
    edits: &[Edit<'_>],
    out: &mut Vec<u8>,
) -> Result<(), EditError> {
    let src = msg.as_bytes();
    let start_len = out.len();
    out.reserve(src.len() + edits.iter().map(|e| e.bytes().len()).sum::<usize>());
    let mut cursor = 0usize;
    for (index, e) in edits.iter().enumerate() {
        let r = e.range();
        if r.start > r.end || r.end > src.len() {
            out.truncate(start_len);
            return Err(EditError::OutOfBounds { index });
        }
        if r.start < cursor {
            out.truncate(start_len);
            return Err(EditError::Unordered { index });
        }
        out.extend_from_slice(src.get(cursor..r.start).unwrap_or(&[]));
        out.extend_from_slice(e.bytes());
        cursor = r.end;
    }
    out.extend_from_slice(src.get(cursor..).unwrap_or(&[]));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse, HeaderName};

    const REQ: &[u8] = b"REGISTER sip:example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport\r\n\
Max-Forwards: 70\r\n\
Content-Length: 0\r\n\r\n";

    #[test]
    fn round_trip() {
        let m = parse(REQ).unwrap();
        let mut out = b"prefix".to_vec();
        m.write_to(&mut out);
        assert_eq!(&out[6..], REQ);
    }

    #[test]
    fn proxy_edits() {
        let m = parse(REQ).unwrap();
        let via = m.header(HeaderName::Via).unwrap();
        let mf = m.header(HeaderName::MaxForwards).unwrap();
        let v = m.top_via().unwrap();
        let rport = m.offset_of(v.params).unwrap() + v.params.len();
        let edits = [
            Edit::Insert {
                at: via.line.start,
                bytes: b"Via: SIP/2.0/UDP proxy;branch=z9hG4bKp\r\n",
            },
            Edit::Insert {
                at: rport,
                bytes: b"=5060;received=192.0.2.1",
            },
            Edit::Replace {
                range: mf.value_range.clone(),
                bytes: b"69",
            },
        ];
        let mut out = Vec::new();
        apply_edits(&m, &edits, &mut out).unwrap();
        let expect = b"REGISTER sip:example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP proxy;branch=z9hG4bKp\r\n\
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport=5060;received=192.0.2.1\r\n\
Max-Forwards: 69\r\n\
Content-Length: 0\r\n\r\n";
        assert_eq!(out, expect);
        let m2 = parse(&out).unwrap();
        assert_eq!(m2.vias().count(), 2);
        assert_eq!(m2.max_forwards(), Ok(Some(69)));
    }

    #[test]
    fn bad_edits() {
        let m = parse(REQ).unwrap();
        let mut out = b"x".to_vec();
        let e = [Edit::Remove(5..10), Edit::Insert { at: 3, bytes: b"" }];
        assert_eq!(
            apply_edits(&m, &e, &mut out),
            Err(EditError::Unordered { index: 1 })
        );
        assert_eq!(out, b"x");
        let e = [Edit::Remove(5..1000)];
        assert_eq!(
            apply_edits(&m, &e, &mut out),
            Err(EditError::OutOfBounds { index: 0 })
        );
        let e = [Edit::Remove(0..REQ.len())];
        out.clear();
        apply_edits(&m, &e, &mut out).unwrap();
        assert!(out.is_empty());
    }
}
