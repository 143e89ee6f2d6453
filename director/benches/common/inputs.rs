//! The redirect path's typical input, shared by `benches/decide.rs` and `examples/decide_loop.rs`
//! (included by path): 64 users' REGISTERs over UDP, the embedded default topology with every
//! registrar up, and the source they come from.

use director::config::Config;
use director::decision::Source;
use director::snapshot::Snapshot;

/// A REGISTER from user `n`, as a UDP softphone writes it.
pub fn register(n: u32) -> Vec<u8> {
    format!(
        "REGISTER sip:example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK1a2b.3.{n:x};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:user{n}@example.com>;tag={n:x}\r\n\
         To: <sip:user{n}@example.com>\r\n\
         Call-ID: 1a2b-3-{n:x}\r\n\
         CSeq: {n} REGISTER\r\n\
         Contact: <sip:user{n}@127.0.0.1:40000>\r\n\
         Expires: 3600\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// 64 different users' REGISTERs.
pub fn registers() -> Vec<Vec<u8>> {
    (0..64).map(|i| register(i * 7919)).collect()
}

/// The embedded default topology, every registrar up.
pub fn snapshot() -> Snapshot {
    let config = Config::embedded_default().expect("embedded default");
    Snapshot::all_up(config.topology, 1)
}

/// Where the REGISTERs come from (UDP).
pub fn source() -> Source<'static> {
    Source {
        addr: "127.0.0.1:40000".parse().expect("addr"),
        stream: false,
        local: "127.0.0.1:5060".parse().expect("addr"),
        conn: None,
        cert_identity: None,
    }
}
