//! Opens many idle TLS connections to a SIP server (for memory measurements: bench/tls_idle.sh).
//! Each connection completes the handshake, sends one REGISTER, reads the answer and then stays
//! open and silent. Prints `open N` once all are established, then holds them until stdin
//! closes. The server certificate is not verified (measurement tool, loopback only).
//!
//! `cargo run --release -p dataplane --example tls_idle_clients -- ADDR[,ADDR...] N [CONCURRENCY]`
//!
//! With several addresses, connection `i` goes to address `i mod count`: one client address
//! reaches one server address from at most ~28k ephemeral ports, so 100k connections on
//! loopback need four or more listeners.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Accepts any server certificate.
#[derive(Debug)]
struct AnyCert;

impl ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        rustls::crypto::aws_lc_rs::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

type Conn = tokio_rustls::client::TlsStream<TcpStream>;

async fn open(
    addr: SocketAddr,
    connector: tokio_rustls::TlsConnector,
    n: usize,
) -> std::io::Result<Conn> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
    let mut tls = connector.connect(name, tcp).await?;
    let local = tls.get_ref().0.local_addr()?;
    let req = format!(
        "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/TLS {local};branch=z9hG4bK-i{n}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:idle{n}@example.com>;tag=i{n}\r\n\
         To: <sip:idle{n}@example.com>\r\nCall-ID: idle-{n}\r\nCSeq: 1 REGISTER\r\n\
         Contact: <sip:idle{n}@{local};transport=tls>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n"
    );
    tls.write_all(req.as_bytes()).await?;
    tls.flush().await?;
    let mut got = Vec::new();
    let mut chunk = [0u8; 2048];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let k = tls.read(&mut chunk).await?;
        if k == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        got.extend_from_slice(&chunk[..k]);
    }
    Ok(tls)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    const USAGE: &str = "usage: ADDR[,ADDR...] N [CONCURRENCY]";
    let addrs = args
        .next()
        .ok_or(USAGE)?
        .split(',')
        .map(str::parse)
        .collect::<Result<Vec<SocketAddr>, _>>()?;
    let n: usize = args.next().ok_or(USAGE)?.parse()?;
    let concurrency: usize = args.next().map_or(Ok(64), |c| c.parse())?;
    if addrs.is_empty() || concurrency == 0 {
        return Err(USAGE.into());
    }
    let cfg = rustls::ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCert))
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let mut conns = Vec::with_capacity(n);
        let mut failed = 0usize;
        let mut next = 0usize;
        let mut running = tokio::task::JoinSet::new();
        while conns.len() + failed < n {
            while next < n && running.len() < concurrency {
                let addr = addrs[next % addrs.len()];
                running.spawn(open(addr, connector.clone(), next));
                next += 1;
            }
            match running.join_next().await {
                Some(Ok(Ok(c))) => conns.push(c),
                Some(Ok(Err(e))) => {
                    failed += 1;
                    if failed <= 3 {
                        eprintln!("connection failed: {e}");
                    }
                }
                Some(Err(e)) => return Err(Box::<dyn std::error::Error>::from(e)),
                None => break,
            }
        }
        println!("open {} failed {failed}", conns.len());
        let _ = std::io::stdout().flush();
        // Hold until stdin closes.
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            let _ = tx.send(());
        });
        let _ = rx.await;
        drop(conns);
        Ok(())
    })
}
