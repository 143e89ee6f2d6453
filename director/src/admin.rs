//! The admin HTTP server (hyper 1, HTTP/1.1) on its own thread ("admin") with a tokio
//! current-thread runtime: `/metrics`, `/healthz`, `/user-pool-info`, `/registrars`, drain,
//! undrain and reload (reference in docs/operations.md). The listening socket is bound by the
//! caller before the director announces it is ready.

mod metrics;
mod routes;

use std::convert::Infallible;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};

use crate::control::ControlHandle;
use crate::snapshot::Snapshot;
use crate::stats::DecisionStats;

pub use routes::{handle, Reply};

/// What the admin endpoints read.
#[derive(Debug, Clone)]
pub struct AdminContext {
    /// The published routing snapshot.
    pub snapshot: Arc<ArcSwap<Snapshot>>,
    /// The control thread.
    pub control: ControlHandle,
    /// Decision counters.
    pub stats: Arc<DecisionStats>,
    /// Dataplane counters.
    pub counters: Arc<dataplane::Counters>,
    /// The TLS listeners' certificates, reloaded by `POST /reload` as by SIGHUP.
    pub tls: crate::tls::TlsReload,
}

/// Serves `listener` on a new thread until the process exits.
pub fn spawn(listener: TcpListener, ctx: AdminContext) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("admin".into())
        .spawn(move || rt.block_on(serve(listener, ctx)))?;
    Ok(())
}

/// Admin connections served at once; more wait in the accept queue.
const MAX_CONNECTIONS: usize = 64;
/// A client must send its request head within this time.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

async fn serve(listener: TcpListener, ctx: AdminContext) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("admin server cannot start: {e}");
            return;
        }
    };
    let ctx = Arc::new(ctx);
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!("admin accept: {e}");
                continue;
            }
        };
        let ctx = Arc::clone(&ctx);
        tokio::spawn(async move {
            let _permit = permit;
            let service = service_fn(move |req| {
                let ctx = Arc::clone(&ctx);
                async move { Ok::<_, Infallible>(routes::respond(&ctx, req).await) }
            });
            if let Err(e) = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!("admin connection: {e}");
            }
        });
    }
}
