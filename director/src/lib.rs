//! SIP director library (placeholder).
