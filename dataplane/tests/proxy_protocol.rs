//! PROXY protocol listeners through a real engine: v1 and v2 headers over TCP and TLS give the
//! handler the proxied source; untrusted peers, missing headers and slow headers are closed and
//! counted.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use dataplane::{Cidr, DropReason, Limits, ListenerSpec, Transport, UdpBackend};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const V1: &[u8] = b"PROXY TCP4 203.0.113.7 192.0.2.1 40000 5060\r\n";

/// A v2 PROXY header for an IPv6 client, with one TLV (skipped by the server).
fn v2_inet6() -> Vec<u8> {
    let mut v = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    let src: std::net::Ipv6Addr = "2001:db8::7".parse().unwrap();
    let dst: std::net::Ipv6Addr = "2001:db8::1".parse().unwrap();
    let mut payload = src.octets().to_vec();
    payload.extend_from_slice(&dst.octets());
    payload.extend_from_slice(&41000u16.to_be_bytes());
    payload.extend_from_slice(&5061u16.to_be_bytes());
    payload.extend_from_slice(&[0x04, 0, 3, b'a', b'b', b'c']); // PP2_TYPE_NOOP
    v.extend_from_slice(&[0x21, 0x21]);
    v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    v.extend_from_slice(&payload);
    v
}

/// Sends `WHO` and returns the address the handler saw.
async fn who<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) -> String {
    s.write_all(b"WHO sip:who@example.com SIP/2.0\r\nContent-Length: 0\r\n\r\n")
        .await
        .unwrap();
    s.flush().await.unwrap();
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut b))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n, 1, "closed after {:?}", String::from_utf8_lossy(&line));
        line.push(b[0]);
    }
    String::from_utf8(line).unwrap()
}

/// Waits for the server to close `s` (EOF or reset) within 3 s.
async fn closed(mut s: TcpStream) {
    let mut buf = Vec::new();
    let r = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut buf))
        .await
        .expect("server did not close");
    assert!(r.is_err() || buf.is_empty(), "got {buf:?}");
}

fn trusted(list: &[&str]) -> Vec<Cidr> {
    list.iter().map(|c| c.parse().unwrap()).collect()
}

#[tokio::test]
async fn tcp_v1_and_v2_give_the_proxied_source() {
    let spec = ListenerSpec::plain(localhost(0), Transport::Tcp)
        .with_proxy_protocol(trusted(&["127.0.0.0/8", "10.0.0.0/8"]));
    let eng = start(1, UdpBackend::Epoll, limits(), &[spec]);
    let addr = eng.addr(Transport::Tcp);

    // v1 in the same segment as the first message.
    let mut c = TcpStream::connect(addr).await.unwrap();
    let mut first = V1.to_vec();
    first.extend_from_slice(&sip_msg("a", "x"));
    c.write_all(&first).await.unwrap();
    let mut got = vec![0; echo_of(&sip_msg("a", "x")).len()];
    c.read_exact(&mut got).await.unwrap();
    assert_eq!(got, echo_of(&sip_msg("a", "x")));
    assert_eq!(who(&mut c).await, "FROM 203.0.113.7:40000\r\n");

    // v1 in fragments.
    let mut c = TcpStream::connect(addr).await.unwrap();
    for part in [&V1[..3], &V1[3..20], &V1[20..]] {
        c.write_all(part).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(who(&mut c).await, "FROM 203.0.113.7:40000\r\n");

    // v2, IPv6 client, TLV skipped, header split across writes.
    let mut c = TcpStream::connect(addr).await.unwrap();
    let h = v2_inet6();
    c.write_all(&h[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    c.write_all(&h[10..]).await.unwrap();
    assert_eq!(who(&mut c).await, "FROM [2001:db8::7]:41000\r\n");

    // v1 UNKNOWN and v2 LOCAL keep the connection's own address.
    let mut c = TcpStream::connect(addr).await.unwrap();
    let own = c.local_addr().unwrap();
    c.write_all(b"PROXY UNKNOWN\r\n").await.unwrap();
    assert_eq!(who(&mut c).await, format!("FROM {own}\r\n"));
    let mut c = TcpStream::connect(addr).await.unwrap();
    let own = c.local_addr().unwrap();
    c.write_all(b"\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00")
        .await
        .unwrap();
    assert_eq!(who(&mut c).await, format!("FROM {own}\r\n"));
    assert_eq!(eng.counters.total().dropped_total(), 0);
    // A connection still waiting for its header (10 s timeout) does not hold up shutdown.
    let _waiting = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (_, took) = eng.stop();
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[tokio::test]
async fn tls_v1_and_v2_give_the_proxied_source() {
    let (server_cfg, client_cfg) = tls_pair("localhost");
    let spec = ListenerSpec::tls(localhost(0), server_cfg).with_proxy_protocol(Vec::new());
    let eng = start(2, UdpBackend::Epoll, limits(), &[spec]);
    let addr = eng.addr(Transport::Tls);
    let connector = tokio_rustls::TlsConnector::from(client_cfg);
    for (header, want) in [
        (V1.to_vec(), "FROM 203.0.113.7:40000\r\n"),
        (v2_inet6(), "FROM [2001:db8::7]:41000\r\n"),
    ] {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(&header).await.unwrap();
        let mut tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        assert_eq!(who(&mut tls).await, want);
        tls.write_all(&sip_msg("t", "body")).await.unwrap();
        tls.flush().await.unwrap();
        let mut got = vec![0; echo_of(&sip_msg("t", "body")).len()];
        tls.read_exact(&mut got).await.unwrap();
        assert_eq!(got, echo_of(&sip_msg("t", "body")));
    }
}

#[tokio::test]
async fn untrusted_missing_malformed_and_slow_headers_are_closed_and_counted() {
    let lim = Limits {
        header_timeout: Duration::from_millis(300),
        ..limits()
    };
    let (server_cfg, _) = tls_pair("localhost");
    let strict = ListenerSpec::plain(localhost(0), Transport::Tcp)
        .with_proxy_protocol(trusted(&["10.0.0.0/8", "2001:db8::/32"]));
    let open = ListenerSpec::tls(SocketAddr::from(([127, 0, 0, 2], 0)), server_cfg)
        .with_proxy_protocol(trusted(&["127.0.0.0/8"]));
    let eng = start(1, UdpBackend::Epoll, lim, &[strict, open]);

    // 127.0.0.1 is not among the trusted balancers: closed even with a valid header.
    let mut c = TcpStream::connect(eng.addr(Transport::Tcp)).await.unwrap();
    let _ = c.write_all(V1).await;
    closed(c).await;

    let addr = eng.addr(Transport::Tls);
    // No header: a TLS ClientHello (or SIP) where the header should be.
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(&sip_msg("nohdr", "")).await.unwrap();
    closed(c).await;
    // Malformed v1.
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(b"PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n")
        .await
        .unwrap();
    closed(c).await;
    // Slow: half a header, then silence past the header timeout.
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(&V1[..12]).await.unwrap();
    closed(c).await;

    eventually("counters", || {
        let t = eng.counters.total();
        t.dropped(DropReason::ProxyUntrusted) == 1
            && t.dropped(DropReason::ProxyHeader) == 2
            && t.dropped(DropReason::HeaderTimeout) == 1
    });
    assert_eq!(
        eng.handler
            .messages
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
}
