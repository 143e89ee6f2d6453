//! Outbound stream connections for `Action::Send` over TCP and TLS: opened on first use, reused
//! for later sends (one connection for many messages, in order), what the peer sends back on it
//! reaches the handler, and a refused connect is counted as `SendFailed`.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use dataplane::{DropReason, ListenerSpec, Transport, UdpBackend};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

async fn read_n<S: AsyncRead + Unpin>(s: &mut S, n: usize) -> Vec<u8> {
    let mut b = vec![0; n];
    tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut b))
        .await
        .unwrap()
        .unwrap();
    b
}

/// The far end: accepts one connection, reads the three forwarded datagrams in order, answers
/// with a SIP response and reads the handler's echo of it.
async fn far_end<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, msgs: &[Vec<u8>]) -> S {
    for m in msgs {
        assert_eq!(read_n(&mut s, m.len()).await, *m);
    }
    let resp = b"SIP/2.0 200 OK\r\nCall-ID: back\r\nContent-Length: 0\r\n\r\n";
    s.write_all(resp).await.unwrap();
    s.flush().await.unwrap();
    assert_eq!(read_n(&mut s, resp.len() + 5).await, echo_of(resp));
    s
}

async fn run(transport: Transport) {
    let (server_cfg, client_cfg) = tls_pair("127.0.0.1");
    let eng = try_start_with_client(
        1,
        UdpBackend::Auto,
        limits(),
        &[ListenerSpec::plain(localhost(0), Transport::Udp)],
        Some(client_cfg),
    )
    .unwrap();
    let far = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = far.local_addr().unwrap().port();
    let verb = if transport == Transport::Tls {
        "FWDTLS"
    } else {
        "FWDTCP"
    };
    let msgs: Vec<Vec<u8>> = (0..3)
        .map(|i| format!("{verb} {port:5} message {i}\r\n").into_bytes())
        .collect();
    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for m in &msgs {
        udp.send_to(m, eng.addr(Transport::Udp)).await.unwrap();
    }
    let (tcp, _) = tokio::time::timeout(Duration::from_secs(5), far.accept())
        .await
        .unwrap()
        .unwrap();
    let held: Box<dyn std::any::Any> = match transport {
        Transport::Tls => {
            let tls = tokio_rustls::TlsAcceptor::from(server_cfg)
                .accept(tcp)
                .await
                .unwrap();
            Box::new(far_end(tls, &msgs).await)
        }
        _ => Box::new(far_end(tcp, &msgs).await),
    };
    // All three went over the one connection: no second one was opened.
    let second = tokio::time::timeout(Duration::from_millis(200), far.accept()).await;
    assert!(second.is_err(), "a second outbound connection was opened");
    let t = eng.counters.total();
    assert_eq!(t.connections_open, 1);
    assert_eq!(t.dropped_total(), 0);

    // A refused connect: the queued message is counted, the registry entry goes away.
    drop(held);
    drop(far);
    let t0 = std::time::Instant::now();
    while eng.counters.total().connections_open != 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "connection not closed"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let dead = format!("{verb} {port:5} to nobody\r\n");
    udp.send_to(dead.as_bytes(), eng.addr(Transport::Udp))
        .await
        .unwrap();
    while eng.counters.total().dropped(DropReason::SendFailed) == 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "no SendFailed counted"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eventually("registry entry gone", || {
        eng.counters.total().connections_open == 0
    });
    eng.stop();
}

#[tokio::test]
async fn send_over_tcp_opens_and_reuses_one_connection() {
    run(Transport::Tcp).await;
}

#[tokio::test]
async fn send_over_tls_opens_and_reuses_one_connection() {
    run(Transport::Tls).await;
}
