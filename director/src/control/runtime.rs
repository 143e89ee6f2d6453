//! The control thread: command loop, probe tasks, failover timers, file polling, publishing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use super::state::{system_resolve, ControlState, DrainError, Status};
use crate::config::{self, Config, HealthSettings};
use crate::health::probe;
use crate::snapshot::Snapshot;
use crate::topology::Endpoint;

/// How often the failover timers are evaluated.
const TICK: Duration = Duration::from_millis(100);
/// How often the configuration file's modification time is checked.
const FILE_POLL: Duration = Duration::from_secs(1);

/// What a reload did.
pub type ReloadOutcome = Result<String, String>;

/// A request to the control thread.
#[derive(Debug)]
pub enum Command {
    /// Re-read the configuration file; `source` names who asked (for the log).
    Reload {
        /// `SIGHUP`, `admin` or `file change`.
        source: &'static str,
        /// Where to send the outcome, if anyone waits.
        reply: Option<oneshot::Sender<ReloadOutcome>>,
    },
    /// Drain or undrain one registrar.
    Drain {
        /// Registrar id.
        id: String,
        /// Drain (true) or undrain.
        drained: bool,
        /// `Ok(changed)`.
        reply: oneshot::Sender<Result<bool, DrainError>>,
    },
    /// Registrar and pool states.
    Status {
        /// Where to send them.
        reply: oneshot::Sender<Status>,
    },
}

/// A cloneable handle to the control thread (usable from any thread or runtime).
#[derive(Debug, Clone)]
pub struct ControlHandle {
    tx: mpsc::UnboundedSender<Command>,
}

/// Why a command got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the control thread is gone")]
pub struct Gone;

impl ControlHandle {
    /// Asks for a reload without waiting (signal handlers).
    pub fn request_reload(&self, source: &'static str) {
        let _ = self.tx.send(Command::Reload {
            source,
            reply: None,
        });
    }

    /// Reloads and waits for the outcome.
    pub async fn reload(&self, source: &'static str) -> Result<ReloadOutcome, Gone> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Reload {
                source,
                reply: Some(reply),
            })
            .map_err(|_| Gone)?;
        rx.await.map_err(|_| Gone)
    }

    /// Drains or undrains a registrar.
    pub async fn drain(&self, id: &str, drained: bool) -> Result<Result<bool, DrainError>, Gone> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Drain {
                id: id.to_owned(),
                drained,
                reply,
            })
            .map_err(|_| Gone)?;
        rx.await.map_err(|_| Gone)
    }

    /// Current states.
    pub async fn status(&self) -> Result<Status, Gone> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Command::Status { reply }).map_err(|_| Gone)?;
        rx.await.map_err(|_| Gone)
    }
}

/// Starts the control thread on `state`, publishing into `snapshot`. `path` is the
/// configuration file (None: the embedded default, nothing to reload).
pub fn spawn(
    state: ControlState,
    path: Option<PathBuf>,
    snapshot: Arc<ArcSwap<Snapshot>>,
) -> std::io::Result<ControlHandle> {
    let (tx, rx) = mpsc::unbounded_channel();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("control".into())
        .spawn(move || {
            rt.block_on(run(state, path, snapshot, rx));
        })?;
    Ok(ControlHandle { tx })
}

/// Prober generation, registrar id, probe round-trip time (None: failed), address it resolved
/// to. Results of probers from before a reload (an older generation) are ignored.
type ProbeResult = (u64, String, Option<Duration>, Option<SocketAddr>);

struct Loop {
    state: ControlState,
    path: Option<PathBuf>,
    stamp: Option<(SystemTime, u64)>,
    snapshot: Arc<ArcSwap<Snapshot>>,
    probes_tx: mpsc::UnboundedSender<ProbeResult>,
    probers: JoinSet<()>,
    /// Incremented whenever the probers are respawned.
    prober_generation: u64,
}

async fn run(
    state: ControlState,
    path: Option<PathBuf>,
    snapshot: Arc<ArcSwap<Snapshot>>,
    mut rx: mpsc::UnboundedReceiver<Command>,
) {
    let (probes_tx, mut probes_rx) = mpsc::unbounded_channel();
    let stamp = path.as_deref().and_then(file_stamp);
    let mut l = Loop {
        state,
        path,
        stamp,
        snapshot,
        probes_tx,
        probers: JoinSet::new(),
        prober_generation: 0,
    };
    l.spawn_probers();
    let mut tick = tokio::time::interval(TICK);
    let mut poll = tokio::time::interval(FILE_POLL);
    loop {
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(cmd) => l.command(cmd),
                None => return,
            },
            Some((generation, id, answered, addr)) = probes_rx.recv() => {
                if generation == l.prober_generation {
                    l.probe(&id, answered, addr);
                }
            }
            _ = tick.tick() => {
                if l.state.tick(Instant::now()) {
                    l.publish("pool failover state changed");
                }
            }
            _ = poll.tick() => l.poll_file(),
        }
    }
}

impl Loop {
    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Reload { source, reply } => {
                let outcome = self.reload(source);
                if let Some(reply) = reply {
                    let _ = reply.send(outcome);
                }
            }
            Command::Drain { id, drained, reply } => {
                let result = self.state.set_drained(&id, drained);
                if let Ok(true) = result {
                    let verb = if drained { "drained" } else { "undrained" };
                    tracing::info!(registrar = %id, "registrar {verb}");
                    self.publish("drain state changed");
                }
                let _ = reply.send(result);
            }
            Command::Status { reply } => {
                let _ = reply.send(self.state.status());
            }
        }
    }

    fn probe(&mut self, id: &str, answered: Option<Duration>, addr: Option<SocketAddr>) {
        let before = self.reg_state(id);
        let moved = self.state.set_addr(id, addr);
        if moved {
            tracing::info!(registrar = %id, address = ?addr, "registrar address changed");
        }
        let changed = self.state.probe(id, answered, Instant::now()) || moved;
        let after = self.reg_state(id);
        if before != after {
            tracing::warn!(registrar = %id, from = ?before, to = ?after, "registrar state changed");
        }
        if changed {
            self.publish("registrar health changed");
        }
    }

    fn reg_state(&self, id: &str) -> Option<&'static str> {
        self.state.registrar_state(id).map(|s| s.as_str())
    }

    fn publish(&mut self, why: &str) {
        let snap = self.state.snapshot();
        let status = self.state.status();
        let failed_over: Vec<&str> = status
            .pools
            .iter()
            .filter(|p| p.failed_over)
            .map(|p| p.id.as_str())
            .collect();
        let not_up: Vec<String> = status
            .registrars
            .iter()
            .filter(|r| r.state != "up")
            .map(|r| format!("{}={}", r.id, r.state))
            .collect();
        tracing::info!(
            generation = snap.generation(),
            failed_over = ?failed_over,
            not_up = ?not_up,
            "publishing snapshot: {why}"
        );
        self.snapshot.store(Arc::new(snap));
    }

    fn poll_file(&mut self) {
        let Some(path) = self.path.as_deref() else {
            return;
        };
        let stamp = file_stamp(path);
        if stamp.is_some() && stamp != self.stamp {
            self.stamp = stamp;
            let _ = self.reload("file change");
        }
    }

    fn reload(&mut self, source: &'static str) -> ReloadOutcome {
        let Some(path) = self.path.clone() else {
            let msg = "running on the embedded default configuration: nothing to reload";
            tracing::info!(source, "{msg}");
            return Err(msg.into());
        };
        self.stamp = file_stamp(&path);
        let config = match config::load_file(&path) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(
                    source,
                    "reload refused, keeping the running configuration: {e}"
                );
                return Err(e.to_string());
            }
        };
        let restart = restart_needed(self.state.config(), &config);
        if !restart.is_empty() {
            tracing::warn!(
                source,
                "reload: {} changed; these take effect only after a restart",
                restart.join(", ")
            );
        }
        let summary = format!(
            "reloaded {}: {} pools, {} registrars",
            path.display(),
            config.topology.pools().len(),
            config.topology.registrar_count()
        );
        let limits = (self.state.config().limits, config.limits);
        self.state.replace(config, system_resolve);
        self.publish("configuration reloaded");
        if limits.0 != limits.1 {
            tracing::info!(
                source,
                from = %limits.0,
                to = %limits.1,
                limits_version = self.state.limits_version(),
                "limits changed: every worker applies them from its next message"
            );
        }
        self.probers = JoinSet::new(); // dropping the old set aborts its probers
        self.spawn_probers();
        tracing::info!(source, "{summary}");
        Ok(summary)
    }

    fn spawn_probers(&mut self) {
        self.prober_generation += 1;
        let settings = self.state.config().health;
        if !settings.enabled {
            return;
        }
        let targets = self.state.targets();
        let n = targets.len().max(1) as u32;
        for (i, (_, id, endpoint, addr)) in targets.into_iter().enumerate() {
            // Spread the first probes over one interval.
            let offset = settings.interval / n * i as u32;
            let tx = self.probes_tx.clone();
            let generation = self.prober_generation;
            self.probers
                .spawn(prober(generation, id, endpoint, addr, settings, offset, tx));
        }
    }
}

static PROBE_SEQ: AtomicU64 = AtomicU64::new(1);

async fn prober(
    generation: u64,
    id: String,
    endpoint: Endpoint,
    addr: Option<SocketAddr>,
    settings: HealthSettings,
    offset: Duration,
    tx: mpsc::UnboundedSender<ProbeResult>,
) {
    tokio::time::sleep(offset).await;
    let mut ticker = tokio::time::interval(settings.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut addr = addr;
    loop {
        ticker.tick().await;
        // Names are resolved again before every probe (DNS changes reach the snapshot); a
        // failed lookup keeps the last address.
        if endpoint.host.parse::<std::net::IpAddr>().is_err() {
            if let Ok(mut found) =
                tokio::net::lookup_host((endpoint.host.as_ref(), endpoint.port)).await
            {
                if let Some(a) = found.next() {
                    addr = Some(a);
                }
            }
        }
        let seq = PROBE_SEQ.fetch_add(1, Ordering::Relaxed);
        let answered = match addr {
            Some(a) => {
                match probe::probe(a, &endpoint.host, endpoint.transport, settings.timeout, seq)
                    .await
                {
                    Ok(rtt) => Some(rtt),
                    Err(e) => {
                        tracing::debug!(registrar = %id, "probe failed: {e}");
                        None
                    }
                }
            }
            None => {
                tracing::debug!(registrar = %id, host = %endpoint.host, "probe failed: unresolved");
                None
            }
        };
        if tx.send((generation, id.clone(), answered, addr)).is_err() {
            return;
        }
    }
}

/// Settings a reload cannot apply.
fn restart_needed(old: &Config, new: &Config) -> Vec<&'static str> {
    let (a, b) = (&old.connection_limits, &new.connection_limits);
    [
        (old.listeners != new.listeners, "listeners"),
        (old.workers != new.workers, "workers"),
        (old.pin_workers != new.pin_workers, "pin_workers"),
        (old.admin != new.admin, "admin address"),
        (
            a.max_connections_per_worker != b.max_connections_per_worker,
            "limits.max_connections_per_worker",
        ),
        (a.idle_timeout != b.idle_timeout, "limits.idle_timeout_s"),
        (
            a.header_timeout != b.header_timeout,
            "limits.header_timeout_s",
        ),
        (
            a.max_message_bytes != b.max_message_bytes,
            "limits.max_message_bytes",
        ),
        (
            a.max_outbox_bytes != b.max_outbox_bytes,
            "limits.max_outbox_bytes",
        ),
        // The files the old settings name are still re-read on a certificate reload.
        (old.proxy != new.proxy, "[proxy] settings"),
    ]
    .into_iter()
    .filter_map(|(changed, name)| changed.then_some(name))
    .collect()
}

fn file_stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        let pool = "[[pool]]\nid = \"p\"\n[[pool.registrar]]\nid = \"r\"\ncontact = \"sip:r.example.com\"\n";
        Config::parse(&format!("{text}\n{pool}"), "test.toml").expect("valid")
    }

    #[test]
    fn restart_needed_names_what_a_reload_cannot_apply() {
        let base = config("");
        assert!(restart_needed(&base, &config("")).is_empty());
        assert!(restart_needed(&base, &config("[limits]\nper_source_rate = 5\n")).is_empty());
        assert_eq!(
            restart_needed(&base, &config("[proxy]\ntls_verify = false\n")),
            ["[proxy] settings"]
        );
        assert_eq!(
            restart_needed(&base, &config("[director]\nworkers = 3\n")),
            ["workers"]
        );
        assert_eq!(
            restart_needed(&base, &config("[director]\npin_workers = false\n")),
            ["pin_workers"]
        );
        assert_eq!(
            restart_needed(
                &base,
                &config("[limits]\nidle_timeout_s = 30\nmax_message_bytes = 4096\n")
            ),
            ["limits.idle_timeout_s", "limits.max_message_bytes"]
        );
    }
}
