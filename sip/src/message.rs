//! [`parse`] and the [`Message`] view: one scan over the head that records header spans (u32
//! offsets) in a fixed-size table, then borrowed accessors over them. [`parse`] allocates that
//! table once per call; a hot path keeps a [`MessageSlot`] and reuses its table (no allocation
//! and no 2 KiB zeroing per message).

use std::fmt;
use std::ops::Range;

use memchr::memchr;

use crate::error::ParseError;
use crate::header_name::{name_at_line_start, HeaderName};
use crate::lex::{is_lws, parse_dec};
use crate::method::Method;
use crate::start_line::{parse_start, RawStart, StartLine};

/// Most header fields a message may have (more is [`ParseError::TooManyHeaders`]).
pub const MAX_HEADERS: usize = 128;

/// One header field's offsets within the message. Fields are contiguous, so a field's line
/// ends where the next one starts (the last one where the blank line starts): no end offset
/// is stored, which keeps a span at 16 bytes.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    value_start: u32,
    value_end: u32,
    name_len: u16,
    name: HeaderName,
    /// The field continues on further lines (folding); also fills what would be padding, so
    /// that [`EMPTY_SPAN`] is all zero bytes.
    folded: bool,
}

/// Filler for unused slots (never read); all zero bytes (`Via` is the first name), so cheap
/// to fill.
const EMPTY_SPAN: Span = Span {
    start: 0,
    value_start: 0,
    value_end: 0,
    name_len: 0,
    name: HeaderName::Via,
    folded: false,
};

/// One header field as it appears on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    /// Classified name.
    pub name: HeaderName,
    /// Name exactly as written (`v`, `ViA`, ...).
    pub raw_name: &'a [u8],
    /// Value with surrounding LWS trimmed; folding inside is kept.
    pub value: &'a [u8],
    /// Byte range of the whole field (all its lines, final CRLF included) within the message.
    pub line: Range<usize>,
    /// Byte range of `value` within the message.
    pub value_range: Range<usize>,
    /// True when the field was folded onto more than one line.
    pub folded: bool,
}

/// The span table: boxed so that a [`MessageSlot`] can hand it from one message (and input
/// lifetime) to the next without zeroing or copying its 2 KiB.
type SpanTable = Box<[Span; MAX_HEADERS]>;

/// A parsed SIP message borrowing the input buffer. Offsets are relative to [`Message::as_bytes`].
#[derive(Clone)]
pub struct Message<'a> {
    buf: &'a [u8],
    skipped: u32,
    head_len: u32,
    content_length: Option<u32>,
    start: RawStart,
    count: u16,
    spans: SpanTable,
}

impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("start_line", &self.start_line())
            .field("headers", &self.count)
            .field("head_len", &self.head_len)
            .field("body_len", &self.body().len())
            .finish()
    }
}

fn off(n: usize) -> Result<u32, ParseError> {
    u32::try_from(n).map_err(|_| ParseError::TooLarge)
}

/// Parses one complete message (a UDP datagram or a frame cut by [`crate::frame()`]).
///
/// Leading CRLFs are skipped (RFC 3261 7.5). The body is Content-Length octets after the blank
/// line; octets beyond are ignored (RFC 3261 18.3). Without Content-Length the body is the rest
/// of the buffer. A Content-Length larger than what is there is [`ParseError::BodyTruncated`].
///
/// The returned view holds its span table inline (~2 KiB), so returning it copies the table;
/// a hot path parses into a [`MessageSlot`] instead and borrows the view from there.
pub fn parse(input: &[u8]) -> Result<Message<'_>, ParseError> {
    let mut slot = MessageSlot::new();
    slot.fill(input)?;
    Ok(slot.msg)
}

/// Caller-owned storage for one [`Message`]: [`MessageSlot::parse`] fills it in place and lends
/// the view. Same rules and results as [`parse`]. [`MessageSlot::recycle`] passes the slot's
/// span table on to a slot for the next input (another lifetime), so a caller that keeps one
/// slot allocates its table once, where [`parse`] allocates and zeroes 2 KiB per message.
///
/// ```
/// let mut slot = sip::MessageSlot::new();
/// let msg = slot.parse(b"OPTIONS sip:a@b SIP/2.0\r\nMax-Forwards: 70\r\n\r\n")?;
/// assert_eq!(msg.header_count(), 1);
/// let second = b"BYE sip:a@b SIP/2.0\r\nVia: x\r\nTo: y\r\n\r\n".to_vec();
/// let mut slot = slot.recycle();
/// assert_eq!(slot.parse(&second)?.header_count(), 2);
/// # Ok::<(), sip::ParseError>(())
/// ```
pub struct MessageSlot<'a> {
    msg: Message<'a>,
}

impl fmt::Debug for MessageSlot<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // What it holds is only meaningful right after a successful parse.
        f.debug_struct("MessageSlot").finish_non_exhaustive()
    }
}

impl Default for MessageSlot<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> MessageSlot<'a> {
    /// Empty storage (nothing to borrow until [`MessageSlot::parse`] succeeds).
    #[inline]
    pub fn new() -> Self {
        Self::with_table(Box::new([EMPTY_SPAN; MAX_HEADERS]))
    }

    /// This slot's storage, emptied, for a message with another lifetime: the span table moves
    /// (a pointer), nothing is zeroed or allocated. What the table held is stale and never read.
    #[inline]
    pub fn recycle<'b>(self) -> MessageSlot<'b> {
        MessageSlot::with_table(self.msg.spans)
    }

    /// An empty slot around `spans`.
    #[inline]
    fn with_table(spans: SpanTable) -> Self {
        MessageSlot {
            msg: Message {
                buf: &[],
                skipped: 0,
                head_len: 0,
                content_length: None,
                start: RawStart::Request {
                    method_end: 0,
                    uri_end: 0,
                    line_end: 0,
                },
                count: 0,
                spans,
            },
        }
    }

    /// Parses `input` as [`parse`] does, into this slot, and lends the view. A slot may be
    /// parsed into again; what an earlier or failed parse left is overwritten, never read.
    #[inline]
    pub fn parse(&mut self, input: &'a [u8]) -> Result<&Message<'a>, ParseError> {
        self.fill(input)?;
        Ok(&self.msg)
    }

    /// The parse proper. Sets every scalar field of the view on success; spans past `count`
    /// are stale from earlier messages and never read.
    fn fill(&mut self, input: &'a [u8]) -> Result<(), ParseError> {
        let mut skip = 0;
        while input.get(skip..skip + 2) == Some(b"\r\n") {
            skip += 2;
        }
        let buf = input.get(skip..).unwrap_or(&[]);
        if buf.is_empty() {
            return Err(ParseError::Empty);
        }
        off(buf.len())?;
        let lf = memchr(b'\n', buf).ok_or(ParseError::UnterminatedHead)?;
        if lf == 0 || buf.get(lf - 1) != Some(&b'\r') {
            return Err(ParseError::BadStartLine);
        }
        let start = parse_start(buf.get(..lf - 1).unwrap_or(&[]))?;

        let msg = &mut self.msg;
        msg.count = 0;
        let spans = &mut msg.spans;
        let mut count = 0usize;
        let mut cl_index: Option<usize> = None;
        let mut pos = lf + 1;
        let mut line_no: u32 = 1;
        let head_len = loop {
            let rest = buf.get(pos..).unwrap_or(&[]);
            let lf = memchr(b'\n', rest).ok_or(ParseError::UnterminatedHead)?;
            line_no = line_no.saturating_add(1);
            if lf == 0 || rest.get(lf - 1) != Some(&b'\r') {
                return Err(ParseError::BadHeader { line: line_no });
            }
            let content_end = pos + lf - 1;
            let line_end = pos + lf + 1;
            if content_end == pos {
                break line_end;
            }
            match rest.first() {
                Some(b' ' | b'\t') => {
                    let prev = count
                        .checked_sub(1)
                        .and_then(|i| spans.get_mut(i))
                        .ok_or(ParseError::BadHeader { line: line_no })?;
                    prev.value_end = off(content_end)?;
                    prev.folded = true;
                }
                _ => {
                    let (name_len, name) = name_at_line_start(rest);
                    let mut j = name_len;
                    while matches!(rest.get(j), Some(b' ' | b'\t')) {
                        j += 1;
                    }
                    if name_len == 0 || rest.get(j) != Some(&b':') {
                        return Err(ParseError::BadHeader { line: line_no });
                    }
                    if name == HeaderName::ContentLength {
                        if cl_index.is_some() {
                            return Err(ParseError::DuplicateContentLength);
                        }
                        cl_index = Some(count);
                    }
                    let slot = spans.get_mut(count).ok_or(ParseError::TooManyHeaders)?;
                    *slot = Span {
                        start: off(pos)?,
                        value_start: off(pos + j + 1)?,
                        value_end: off(content_end)?,
                        name_len: u16::try_from(name_len)
                            .map_err(|_| ParseError::BadHeader { line: line_no })?,
                        name,
                        folded: false,
                    };
                    count += 1;
                }
            }
            pos = line_end;
        };

        for s in spans.iter_mut().take(count) {
            let (mut a, mut b) = (s.value_start as usize, s.value_end as usize);
            while a < b && buf.get(a).is_some_and(|&c| is_lws(c)) {
                a += 1;
            }
            while b > a && buf.get(b - 1).is_some_and(|&c| is_lws(c)) {
                b -= 1;
            }
            s.value_start = off(a)?;
            s.value_end = off(b)?;
        }

        let content_length = match cl_index.and_then(|i| spans.get(i)) {
            Some(s) => Some(
                parse_dec(
                    buf.get(s.value_start as usize..s.value_end as usize)
                        .unwrap_or(&[]),
                    u32::MAX,
                )
                .ok_or(ParseError::BadContentLength)?,
            ),
            None => None,
        };
        let available = buf.len() - head_len;
        let msg_len = match content_length {
            Some(cl) if cl as usize > available => {
                return Err(ParseError::BodyTruncated {
                    declared: cl,
                    available,
                })
            }
            Some(cl) => head_len + cl as usize,
            None => buf.len(),
        };
        msg.buf = buf.get(..msg_len).unwrap_or(buf);
        msg.skipped = off(skip)?;
        msg.head_len = off(head_len)?;
        msg.content_length = content_length;
        msg.start = start;
        msg.count = u16::try_from(count).map_err(|_| ParseError::TooManyHeaders)?;
        Ok(())
    }
}

impl<'a> Message<'a> {
    /// The header field of span `i` (`s` is `self.spans()[i]`).
    #[inline]
    fn header_at(&self, i: usize, s: &Span) -> Header<'a> {
        let end = match self.spans().get(i + 1) {
            Some(next) => next.start as usize,
            // The last field ends where the blank line (CRLF) that closes the head starts.
            None => (self.head_len as usize).saturating_sub(2),
        };
        let (start, vs, ve) = (
            s.start as usize,
            s.value_start as usize,
            s.value_end as usize,
        );
        Header {
            name: s.name,
            raw_name: self
                .buf
                .get(start..start + s.name_len as usize)
                .unwrap_or(&[]),
            value: self.buf.get(vs..ve).unwrap_or(&[]),
            line: start..end,
            value_range: vs..ve,
            folded: s.folded,
        }
    }

    #[inline]
    fn spans(&self) -> &[Span] {
        self.spans.get(..self.count as usize).unwrap_or(&[])
    }

    /// The classified names of all header fields, in wire order (index = header index).
    #[inline]
    pub(crate) fn names(&self) -> impl Iterator<Item = HeaderName> + '_ {
        self.spans().iter().map(|s| s.name)
    }

    /// The trimmed value of the header field at index `i` (empty when out of range).
    #[inline]
    pub(crate) fn value_at(&self, i: usize) -> &'a [u8] {
        match self.spans().get(i) {
            Some(s) => self
                .buf
                .get(s.value_start as usize..s.value_end as usize)
                .unwrap_or(&[]),
            None => &[],
        }
    }

    /// The header field at index `i` in wire order.
    #[inline]
    pub fn header_at_index(&self, i: usize) -> Option<Header<'a>> {
        self.spans().get(i).map(|s| self.header_at(i, s))
    }

    /// Exactly the message: start line through the end of the body (no leading CRLFs, no
    /// trailing octets).
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// How many leading CRLF octets of the input were skipped before the start line.
    pub fn offset_in_input(&self) -> usize {
        self.skipped as usize
    }

    /// The start line.
    pub fn start_line(&self) -> StartLine<'a> {
        self.start.view(self.buf)
    }

    /// The `SIP/x.y` version token of the start line.
    pub fn version(&self) -> &'a [u8] {
        self.start.version(self.buf)
    }

    /// True for a request.
    #[inline]
    pub fn is_request(&self) -> bool {
        matches!(self.start, RawStart::Request { .. })
    }

    /// The method of a request.
    pub fn method(&self) -> Option<Method<'a>> {
        match self.start_line() {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The Request-URI of a request, as on the wire.
    pub fn request_uri(&self) -> Option<&'a [u8]> {
        match self.start_line() {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        match self.start {
            RawStart::Response { code, .. } => Some(code),
            RawStart::Request { .. } => None,
        }
    }

    /// The reason phrase of a response.
    pub fn reason(&self) -> Option<&'a [u8]> {
        match self.start_line() {
            StartLine::Response { reason, .. } => Some(reason),
            StartLine::Request { .. } => None,
        }
    }

    /// Number of header fields.
    pub fn header_count(&self) -> usize {
        self.count as usize
    }

    /// All header fields in wire order.
    pub fn headers(&self) -> impl Iterator<Item = Header<'a>> + '_ {
        self.spans()
            .iter()
            .enumerate()
            .map(|(i, s)| self.header_at(i, s))
    }

    /// First header field with this name (compact forms match).
    #[inline]
    pub fn header(&self, name: HeaderName) -> Option<Header<'a>> {
        self.spans()
            .iter()
            .enumerate()
            .find(|(_, s)| s.name == name)
            .map(|(i, s)| self.header_at(i, s))
    }

    /// All header fields with this name, in wire order.
    pub fn headers_named(&self, name: HeaderName) -> impl Iterator<Item = Header<'a>> + '_ {
        self.spans()
            .iter()
            .enumerate()
            .filter(move |(_, s)| s.name == name)
            .map(|(i, s)| self.header_at(i, s))
    }

    /// First header whose raw name equals `name` case-insensitively (for extension headers).
    pub fn header_by_raw_name(&self, name: &[u8]) -> Option<Header<'a>> {
        self.headers()
            .find(|h| h.raw_name.eq_ignore_ascii_case(name))
    }

    /// The body.
    #[inline]
    pub fn body(&self) -> &'a [u8] {
        self.buf.get(self.head_len as usize..).unwrap_or(&[])
    }

    /// Bytes up to and including the blank line.
    #[inline]
    pub fn head_len(&self) -> usize {
        self.head_len as usize
    }

    /// Byte range of the start line, CRLF included.
    pub fn start_line_range(&self) -> Range<usize> {
        let end = match self.start {
            RawStart::Request { line_end, .. } | RawStart::Response { line_end, .. } => line_end,
        };
        0..end as usize + 2
    }

    /// Content-Length as validated by [`parse`].
    pub fn content_length(&self) -> Result<Option<u32>, ParseError> {
        Ok(self.content_length)
    }

    /// Offset of `sub` within the message if `sub` is a subslice of [`Message::as_bytes`]
    /// (for instance a URI or parameter value returned by a typed accessor). Useful to build
    /// [`crate::Edit`]s.
    pub fn offset_of(&self, sub: &[u8]) -> Option<usize> {
        let base = self.buf.as_ptr() as usize;
        let p = sub.as_ptr() as usize;
        let o = p.checked_sub(base)?;
        (o + sub.len() <= self.buf.len()).then_some(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REG: &[u8] = b"REGISTER sip:example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport\r\n\
Max-Forwards: 70\r\n\
f: <sip:alice@example.com>;tag=1\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: abc@10.0.0.1\r\n\
CSeq: 1 REGISTER\r\n\
Subject: folded\r\n  and continued\r\n\
l: 0\r\n\r\n";

    /// Everything a caller can see of a parse, for comparing two.
    fn observed(r: Result<&Message<'_>, ParseError>) -> String {
        match r {
            Ok(m) => format!(
                "{:?} {:?} {:?} {:?} {:?} {:?}",
                m.as_bytes(),
                m.start_line(),
                m.headers().collect::<Vec<_>>(),
                m.body(),
                m.head_len(),
                m.offset_in_input()
            ),
            Err(e) => format!("error {e:?}"),
        }
    }

    proptest::proptest! {
        /// A recycled slot (stale spans from earlier, longer or failed parses) sees exactly
        /// what a fresh parse sees.
        #[test]
        fn a_recycled_slot_parses_as_a_fresh_one(
            picks in proptest::collection::vec((0usize..4, 0usize..400), 1..12)
        ) {
            let many: Vec<u8> = {
                let mut m = b"OPTIONS sip:a@b SIP/2.0\r\n".to_vec();
                for i in 0..100 {
                    m.extend_from_slice(format!("X-H{i}: value {i}\r\n").as_bytes());
                }
                m.extend_from_slice(b"Content-Length: 2\r\n\r\nok");
                m
            };
            let inputs: [&[u8]; 4] = [REG, &many, b"BYE sip:x SIP/2.0\r\nTo: y\r\n\r\n", b"garbage\r\n"];
            let mut slot = MessageSlot::new();
            for (which, cut) in picks {
                let full = inputs[which];
                // Whole messages, or cut short at an arbitrary byte (a failed parse).
                let end = if cut % 2 == 0 { full.len() } else { cut.min(full.len()) };
                let input = full[..end].to_vec();
                let fresh = observed(MessageSlot::new().parse(&input));
                let mut reused = slot.recycle();
                proptest::prop_assert_eq!(observed(reused.parse(&input)), fresh);
                slot = reused.recycle();
            }
        }
    }

    #[test]
    fn basic() {
        let m = parse(REG).unwrap();
        assert!(m.is_request());
        assert_eq!(m.method(), Some(Method::Register));
        assert_eq!(m.request_uri(), Some(&b"sip:example.com"[..]));
        assert_eq!(m.header_count(), 8);
        assert_eq!(
            m.header(HeaderName::From).unwrap().value,
            b"<sip:alice@example.com>;tag=1"
        );
        assert_eq!(m.header(HeaderName::From).unwrap().raw_name, b"f");
        let s = m.header(HeaderName::Subject).unwrap();
        assert_eq!(s.value, b"folded\r\n  and continued");
        assert_eq!(
            &REG[s.line.clone()],
            b"Subject: folded\r\n  and continued\r\n"
        );
        assert_eq!(&REG[s.value_range.clone()], s.value);
        assert!(s.folded);
        assert!(!m.header(HeaderName::From).unwrap().folded);
        assert_eq!(m.content_length(), Ok(Some(0)));
        assert_eq!(m.body(), b"");
        assert_eq!(m.head_len(), REG.len());
        assert_eq!(m.as_bytes(), REG);
        assert_eq!(
            &REG[m.start_line_range()],
            b"REGISTER sip:example.com SIP/2.0\r\n"
        );
        let to = m.header(HeaderName::To).unwrap();
        assert_eq!(m.offset_of(to.value), Some(to.value_range.start));
        assert_eq!(m.offset_of(b"elsewhere"), None);
    }

    #[test]
    fn body_and_trailing() {
        let b = b"SIP/2.0 200 OK\r\nContent-Length: 3\r\n\r\nabcJUNK";
        let m = parse(b).unwrap();
        assert_eq!(m.body(), b"abc");
        assert_eq!(m.as_bytes(), &b[..b.len() - 4]);
        assert_eq!(m.status(), Some(200));
        let m = parse(b"SIP/2.0 200 OK\r\nX: y\r\n\r\nrest").unwrap();
        assert_eq!(m.body(), b"rest");
        assert_eq!(
            parse(b"SIP/2.0 200 OK\r\nl: 9\r\n\r\nab").unwrap_err(),
            ParseError::BodyTruncated {
                declared: 9,
                available: 2
            }
        );
    }

    #[test]
    fn errors() {
        assert_eq!(parse(b"").unwrap_err(), ParseError::Empty);
        assert_eq!(parse(b"\r\n\r\n").unwrap_err(), ParseError::Empty);
        assert_eq!(
            parse(b"OPTIONS sip:a SIP/2.0\r\nX: y\r\n").unwrap_err(),
            ParseError::UnterminatedHead
        );
        assert_eq!(
            parse(b"OPTIONS sip:a SIP/2.0\r\n x: y\r\n\r\n").unwrap_err(),
            ParseError::BadHeader { line: 2 }
        );
        assert_eq!(
            parse(b"OPTIONS sip:a SIP/2.0\r\nX y\r\n\r\n").unwrap_err(),
            ParseError::BadHeader { line: 2 }
        );
        assert_eq!(
            parse(b"OPTIONS sip:a SIP/2.0\r\nX: y\n\r\n").unwrap_err(),
            ParseError::BadHeader { line: 2 }
        );
        assert_eq!(
            parse(b"OPTIONS sip:a SIP/2.0\r\nl: -1\r\n\r\n").unwrap_err(),
            ParseError::BadContentLength
        );
        assert_eq!(
            parse(b"OPTIONS sip:a SIP/2.0\r\nl: 0\r\nContent-Length: 0\r\n\r\n").unwrap_err(),
            ParseError::DuplicateContentLength
        );
        let mut many = b"OPTIONS sip:a SIP/2.0\r\n".to_vec();
        for _ in 0..=MAX_HEADERS {
            many.extend_from_slice(b"X: y\r\n");
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(parse(&many).unwrap_err(), ParseError::TooManyHeaders);
    }

    #[test]
    fn leading_crlf_and_lws_colon() {
        let m = parse(
            b"\r\n\r\nOPTIONS sip:a SIP/2.0\r\nContent-Length   :   0  \r\nTO :\r\n sip:b\r\n\r\n",
        )
        .unwrap();
        assert_eq!(m.offset_in_input(), 4);
        assert_eq!(m.content_length(), Ok(Some(0)));
        assert_eq!(m.header(HeaderName::To).unwrap().value, b"sip:b");
        assert!(m.as_bytes().starts_with(b"OPTIONS"));
    }

    #[test]
    fn headers_named_in_order() {
        let m = parse(b"SIP/2.0 200 OK\r\nv: a\r\nX: 1\r\nVia: b\r\n\r\n").unwrap();
        let v: Vec<_> = m.headers_named(HeaderName::Via).map(|h| h.value).collect();
        assert_eq!(v, vec![&b"a"[..], b"b"]);
        assert_eq!(m.header_by_raw_name(b"x").unwrap().value, b"1");
    }
}
