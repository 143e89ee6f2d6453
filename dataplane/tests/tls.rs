//! TLS listener tests with an rcgen certificate and a tokio-rustls client.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use dataplane::{DropReason, Limits, ListenerSpec, Transport, UdpBackend};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn tls_echo_split_and_pipelined() {
    let (server_cfg, client_cfg) = tls_pair("localhost");
    let eng = start(
        2,
        UdpBackend::Epoll,
        limits(),
        &[ListenerSpec::tls(localhost(0), server_cfg)],
    );
    let addr = eng.addr(Transport::Tls);
    let connector = tokio_rustls::TlsConnector::from(client_cfg);
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();

    let m = sip_msg("tls", "secret body");
    for k in [1, 10, m.len() / 2, m.len() - 1] {
        tls.write_all(&m[..k]).await.unwrap();
        tls.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
        tls.write_all(&m[k..]).await.unwrap();
        tls.flush().await.unwrap();
        let mut got = vec![0; m.len() + 5];
        tls.read_exact(&mut got).await.unwrap();
        assert_eq!(got, echo_of(&m));
    }
    let msgs: Vec<Vec<u8>> = (0..10).map(|i| sip_msg(&format!("t{i}"), "y")).collect();
    tls.write_all(&msgs.concat()).await.unwrap();
    tls.flush().await.unwrap();
    for m in &msgs {
        let mut got = vec![0; m.len() + 5];
        tls.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, &echo_of(m));
    }
    let close = b"CLOSE sip:a SIP/2.0\r\nContent-Length: 0\r\n\r\n";
    tls.write_all(close).await.unwrap();
    tls.flush().await.unwrap();
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut rest))
        .await
        .unwrap();
    assert_eq!(rest, echo_of(close));
    let (stats, _) = eng.stop();
    assert_eq!(stats.received, 15);
}

#[tokio::test]
async fn tls_handshake_timeout_and_garbage() {
    let (server_cfg, _) = tls_pair("localhost");
    let lim = Limits {
        header_timeout: Duration::from_millis(200),
        ..limits()
    };
    let eng = start(
        1,
        UdpBackend::Epoll,
        lim,
        &[ListenerSpec::tls(localhost(0), server_cfg)],
    );
    let addr = eng.addr(Transport::Tls);
    // Silent client: the handshake times out.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let mut b = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(3), silent.read(&mut b))
        .await
        .unwrap();
    assert!(matches!(n, Ok(0) | Err(_)));
    // Plain SIP on the TLS port: handshake failure.
    let mut plain = TcpStream::connect(addr).await.unwrap();
    plain.write_all(&sip_msg("plain", "")).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), plain.read_to_end(&mut buf))
        .await
        .unwrap();
    eventually("counters", || {
        let t = eng.counters.total();
        t.dropped(DropReason::HeaderTimeout) == 1 && t.dropped(DropReason::TlsHandshake) == 1
    });
}
