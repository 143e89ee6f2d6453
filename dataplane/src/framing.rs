//! Stream framing: the `sip` crate's framer, re-exported under the names the engine's API uses
//! (`FrameLimits` is `sip::Limits`), so handlers may name either.

pub use sip::{frame, Frame, FrameError, Limits as FrameLimits};
