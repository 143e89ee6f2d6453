//! `director run`: load and validate the configuration, bind every listener, then serve until
//! SIGTERM/SIGINT (SIGHUP reloads the topology and TLS certificates, the proxy client's
//! included). Configuration is fully validated (TLS files included) before any port is
//! bound, and the bound sockets are announced on stdout (`listening udp 127.0.0.1:5060`) so
//! scripts and tests can wait for them.

use std::io::Write;
use std::sync::Arc;

use arc_swap::ArcSwap;
use dataplane::{Engine, EngineConfig, ListenerSpec, Shutdown, UdpBackend};

use crate::admin;
use crate::cli::RunArgs;
use crate::config::{self, Config};
use crate::control::{self, ControlState};
use crate::decision::Outcome;
use crate::handler::{DirectorHandler, ListenerMode};
use crate::signals::{self, Signal};
use crate::stats::DecisionStats;
use crate::tls;
use crate::topology::Transport;

/// Why `run` stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Invalid configuration.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// A TLS listener's files are unusable.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// Binding or running the engine failed.
    #[error("{0}")]
    Engine(#[from] dataplane::EngineError),
    /// The admin HTTP address cannot be bound.
    #[error("cannot bind the admin server on {addr}: {source}")]
    Admin {
        /// The configured address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Signal handling (or another control thread) could not be set up.
    #[error("cannot set up signal handling: {0}")]
    Signals(std::io::Error),
}

fn listener_specs(config: &Config) -> Result<Vec<ListenerSpec>, RunError> {
    config
        .listeners
        .iter()
        .map(|l| {
            let spec = match (l.transport, &l.tls) {
                (Transport::Tls, Some(files)) => {
                    let spec = ListenerSpec::tls(l.address, tls::server_config(files)?);
                    match files.client_ca {
                        Some(_) => spec.with_client_certs(),
                        None => spec,
                    }
                }
                (Transport::Udp, _) => ListenerSpec::plain(l.address, dataplane::Transport::Udp),
                // Validation guarantees TLS listeners have files; treat a stray one as TCP-free.
                (Transport::Tcp | Transport::Tls, _) => {
                    ListenerSpec::plain(l.address, dataplane::Transport::Tcp)
                }
            };
            Ok(if l.proxy_protocol {
                spec.with_proxy_protocol(l.proxy_protocol_from.clone())
            } else {
                spec
            })
        })
        .collect()
}

/// Runs the director until a termination signal.
pub fn run(args: &RunArgs, udp_backend: UdpBackend) -> Result<(), RunError> {
    let config = config::load(args.config.as_deref())?;
    let specs = listener_specs(&config)?;
    // Built in any case (a reload may switch to proxy mode); its trust anchors are logged only
    // where proxy mode is in use from the start, so a redirect-only director says nothing.
    let proxying = config.topology.mode() == crate::topology::Mode::Proxy
        || config
            .listeners
            .iter()
            .any(|l| l.mode == Some(crate::topology::Mode::Proxy));
    let tls_client = if proxying {
        crate::tls_client::client_config_logged(&config.proxy)?
    } else {
        crate::tls_client::client_config(&config.proxy)?.map(|(client, _)| client)
    };
    let workers = args.workers.unwrap_or(config.workers) as usize;
    let pinning = match args.pin_workers.unwrap_or(config.pin_workers) {
        true => dataplane::Pinning::PerCore,
        false => dataplane::Pinning::Off,
    };
    let engine_config = EngineConfig {
        workers,
        pinning,
        udp_backend,
        tls_client,
        limits: config.connection_limits.to_dataplane(),
    };

    // Block termination signals before any thread exists, so only the signal thread sees them.
    let signals = signals::block_and_listen().map_err(RunError::Signals)?;
    let engine = Engine::bind(engine_config, &specs)?;
    let workers = engine.workers();
    let tls_reload = tls::TlsReload::new(config.listeners.clone(), engine.handle())
        .with_proxy(config.proxy.clone());
    let admin_listener = match config.admin {
        Some(a) => {
            Some(
                std::net::TcpListener::bind(a.address).map_err(|source| RunError::Admin {
                    addr: a.address,
                    source,
                })?,
            )
        }
        None => None,
    };

    // The control plane: resolves registrars, probes them, reloads, publishes snapshots.
    let state = ControlState::new(config.clone(), control::system_resolve);
    let snapshot = Arc::new(ArcSwap::from_pointee(state.current_snapshot()));
    let control = control::spawn(state, args.config.clone(), Arc::clone(&snapshot))
        .map_err(RunError::Signals)?;
    let stats = Arc::new(DecisionStats::new(workers));
    if let Some(listener) = admin_listener {
        let admin_addr = listener.local_addr().map_err(RunError::Signals)?;
        let ctx = admin::AdminContext {
            snapshot: Arc::clone(&snapshot),
            control: control.clone(),
            stats: Arc::clone(&stats),
            counters: engine.counters(),
            tls: tls_reload.clone(),
        };
        admin::spawn(listener, ctx).map_err(RunError::Signals)?;
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "admin {admin_addr}");
    }
    announce(&engine, workers);

    // Listeners with their own `mode` (bound addresses: port 0 resolved), in spec order.
    let listener_modes = config
        .listeners
        .iter()
        .zip(engine.local_addrs())
        .filter_map(|(l, (transport, addr))| {
            l.mode.map(|mode| ListenerMode {
                addr,
                stream: transport.is_stream(),
                mode,
            })
        })
        .collect();
    let handler = Arc::new(
        DirectorHandler::new(snapshot, Arc::clone(&stats)).with_listener_modes(listener_modes),
    );
    let (shutdown, trigger) = Shutdown::new();

    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || loop {
            match signals.wait() {
                Signal::Terminate => {
                    // Stop first: nothing (not even logging) may stand between the signal and
                    // the shutdown.
                    trigger.trigger();
                    tracing::info!("termination signal: shutting down");
                    return;
                }
                Signal::Hangup => {
                    tls_reload.reload("SIGHUP");
                    control.request_reload("SIGHUP");
                }
            }
        })
        .map_err(RunError::Signals)?;

    let totals = engine.run(handler, shutdown)?;
    let summary: Vec<String> = Outcome::ALL
        .iter()
        .map(|o| format!("{}={}", o.as_str(), stats.total(*o)))
        .collect();
    tracing::info!(?totals, decisions = %summary.join(" "), "stopped");
    Ok(())
}

fn announce(engine: &dataplane::BoundEngine, workers: usize) {
    let mut stdout = std::io::stdout().lock();
    for (transport, addr) in engine.local_addrs() {
        let _ = writeln!(
            stdout,
            "listening {} {}",
            transport.as_str().to_ascii_lowercase(),
            addr
        );
    }
    let _ = writeln!(
        stdout,
        "ready workers={} udp_backend={:?}",
        workers,
        engine.udp_backend_in_use()
    );
    let _ = stdout.flush();
}
