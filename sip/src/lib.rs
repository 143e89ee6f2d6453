//! Zero-copy SIP wire codec (RFC 3261): bytes -> [`Message`] view holding offsets into the
//! borrowed buffer, lazily parsed typed headers (URI, Via, name-addr, CSeq...), stream framing
//! for TCP/TLS ([`frame()`]), a byte-exact serializer with splice edits ([`apply_edits`]), a
//! response builder ([`ResponseWriter`]) and the request checks of a stateless element
//! ([`validate_request`]). No sockets, no clock, no `unsafe`. Parsing into a reused
//! [`MessageSlot`] allocates nothing; [`parse`] allocates the message's span table.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod accessors;
mod decimal;
mod error;
mod frame;
pub mod fuzz;
mod header_name;
mod lex;
mod message;
mod method;
mod name_addr;
mod response;
mod start_line;
mod uri;
mod validate;
mod via;
mod write;

pub use accessors::CSeq;
pub use decimal::{decimal, MAX_DECIMAL_LEN};
pub use error::ParseError;
pub use frame::{frame, Frame, FrameError, Limits};
pub use header_name::HeaderName;
pub use message::{parse, Header, Message, MessageSlot, MAX_HEADERS};
pub use method::Method;
pub use name_addr::{Contact, NameAddr};
pub use response::ResponseWriter;
pub use start_line::StartLine;
pub use uri::{percent_decode, Scheme, Uri};
pub use validate::{validate_request, validate_request_parts, HeaderSet, Invalid, Validated};
pub use via::Via;
pub use write::{apply_edits, Edit, EditError};
