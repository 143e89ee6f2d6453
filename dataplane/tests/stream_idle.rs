//! Bounded memory per stream connection: idle TCP and TLS connections hold no read buffer
//! (`Stats::read_buffers_held`), a message in progress holds one, and giving buffers back never
//! loses bytes: pipelined bursts larger than the buffer, messages larger than it, and messages
//! split across pauses all come back whole, over TLS and plain TCP.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use dataplane::{ListenerSpec, Transport, UdpBackend};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

async fn connect(
    addr: std::net::SocketAddr,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> Box<dyn Io> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    match tls {
        None => Box::new(tcp),
        Some(cfg) => Box::new(
            tokio_rustls::TlsConnector::from(cfg.clone())
                .connect(ServerName::try_from("localhost").unwrap(), tcp)
                .await
                .unwrap(),
        ),
    }
}

async fn expect_echo(s: &mut Box<dyn Io>, m: &[u8]) {
    let mut got = vec![0; m.len() + 5];
    tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, echo_of(m));
}

async fn exercise(transport: Transport) {
    let (server_cfg, client_cfg) = tls_pair("localhost");
    let spec = match transport {
        Transport::Tls => ListenerSpec::tls(localhost(0), server_cfg),
        _ => ListenerSpec::plain(localhost(0), Transport::Tcp),
    };
    let eng = start(2, UdpBackend::Epoll, limits(), &[spec]);
    let addr = eng.addr(transport);
    let client = (transport == Transport::Tls).then_some(&client_cfg);
    let held = || eng.counters.total().read_buffers_held;

    // Idle connections after one exchange each hold no buffer.
    let mut conns = Vec::new();
    for i in 0..20 {
        let mut c = connect(addr, client).await;
        let m = sip_msg(&format!("idle{i}"), "x");
        c.write_all(&m).await.unwrap();
        c.flush().await.unwrap();
        expect_echo(&mut c, &m).await;
        conns.push(c);
    }
    eventually("20 open, no buffers held", || {
        let t = eng.counters.total();
        t.connections_open == 20 && t.read_buffers_held == 0
    });

    // A message in progress holds one buffer; finishing it releases it.
    let m = sip_msg("partial", "0123456789");
    let c = &mut conns[3];
    c.write_all(&m[..m.len() / 2]).await.unwrap();
    c.flush().await.unwrap();
    eventually("one buffer held", || held() == 1);
    tokio::time::sleep(Duration::from_millis(20)).await;
    c.write_all(&m[m.len() / 2..]).await.unwrap();
    c.flush().await.unwrap();
    expect_echo(c, &m).await;
    eventually("released", || held() == 0);

    // A pipelined burst much larger than the buffer (many TLS records at once).
    let burst: Vec<Vec<u8>> = (0..40)
        .map(|i| sip_msg(&format!("b{i}"), &"y".repeat(1500)))
        .collect();
    let c = &mut conns[5];
    c.write_all(&burst.concat()).await.unwrap();
    c.flush().await.unwrap();
    for m in &burst {
        expect_echo(c, m).await;
    }
    // A message larger than the standard buffer, then back to idle.
    let big = sip_msg("big", &"z".repeat(20_000));
    c.write_all(&big).await.unwrap();
    c.flush().await.unwrap();
    expect_echo(c, &big).await;
    eventually("released after big", || held() == 0);

    // Every idle connection still works after its buffer went back to the pool.
    for (i, c) in conns.iter_mut().enumerate() {
        let m = sip_msg(&format!("again{i}"), "w");
        c.write_all(&m).await.unwrap();
        c.flush().await.unwrap();
        expect_echo(c, &m).await;
    }
    eventually("idle again", || held() == 0);
    drop(conns);
    eventually("all closed", || eng.counters.total().connections_open == 0);
    eng.stop();
}

#[tokio::test]
async fn idle_tls_connections_hold_no_read_buffer() {
    exercise(Transport::Tls).await;
}

#[tokio::test]
async fn idle_tcp_connections_hold_no_read_buffer() {
    exercise(Transport::Tcp).await;
}
