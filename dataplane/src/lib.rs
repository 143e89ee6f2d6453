//! Thread-per-core SIP IO engine (placeholder).
