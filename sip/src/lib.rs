//! Zero-copy SIP wire codec (placeholder until the parser lands).
