//! Running a load: one OS thread per `--threads`, each with a current-thread tokio runtime
//! driving its sockets; per-thread stats merged into a shared total every 200 ms; the main
//! thread prints progress, handles SIGINT/SIGTERM (stop sending, drain) and the summary.

use crate::cli::Transport;
use crate::plan::Plan;
use crate::report::{progress_line, Summary};
use crate::session::Control;
use crate::stats::Stats;
use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const FLUSH_EVERY: Duration = Duration::from_millis(200);

fn merge_into(total: &Mutex<Stats>, local: &RefCell<Stats>) {
    let mut l = local.borrow_mut();
    if l.is_empty() && l.finals() == 0 {
        return;
    }
    if let Ok(mut t) = total.lock() {
        t.merge(&l);
    }
    l.reset();
}

fn worker(t: usize, plan: Arc<Plan>, total: Arc<Mutex<Stats>>, control: Arc<Control>) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadgen: thread {t}: runtime: {e}");
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    let stats = Rc::new(RefCell::new(Stats::new()));
    let turns = dataplane::handshake_turns::HandshakeTurns::new();
    local.block_on(&rt, async {
        let mut handles = Vec::new();
        for k in plan.sockets_of(t) {
            let share = plan.share(k);
            let (p, s, c) = (plan.clone(), stats.clone(), control.clone());
            handles.push(match plan.transport {
                Transport::Udp => tokio::task::spawn_local(crate::udp_client::run(p, share, s, c)),
                Transport::Tcp | Transport::Tls => {
                    let turns = turns.clone();
                    tokio::task::spawn_local(crate::stream_client::run(p, share, s, c, turns))
                }
            });
        }
        let (s2, t2) = (stats.clone(), total.clone());
        let flusher = tokio::task::spawn_local(async move {
            loop {
                tokio::time::sleep(FLUSH_EVERY).await;
                merge_into(&t2, &s2);
            }
        });
        for h in handles {
            let _ = h.await;
        }
        flusher.abort();
    });
    merge_into(&total, &stats);
}

/// Runs the load described by `plan`; prints progress and the summary, writes JSON. Returns
/// the process exit status.
pub fn run(command: &str, plan: Plan, quiet: bool, json: Option<&str>, fail_on_error: bool) -> i32 {
    let plan = Arc::new(plan);
    let total = Arc::new(Mutex::new(Stats::new()));
    let control = Arc::new(Control::default());
    let running = Arc::new(AtomicUsize::new(plan.threads));
    let mut threads = Vec::new();
    for t in 0..plan.threads {
        let (p, tot, c, run) = (
            plan.clone(),
            total.clone(),
            control.clone(),
            running.clone(),
        );
        let h = std::thread::Builder::new()
            .name(format!("loadgen-{t}"))
            .spawn(move || {
                worker(t, p, tot, c);
                run.fetch_sub(1, Ordering::Release);
            });
        match h {
            Ok(h) => threads.push(h),
            Err(e) => {
                eprintln!("loadgen: cannot start thread {t}: {e}");
                running.fetch_sub(1, Ordering::Release);
            }
        }
    }
    supervise(&plan, &total, &control, &running, quiet);
    for h in threads {
        let _ = h.join();
    }
    let elapsed_ns = plan.now();
    let send_ns = match control.send_end.load(Ordering::Relaxed) {
        0 => elapsed_ns,
        e => e.min(elapsed_ns),
    };
    let stats = match total.lock() {
        Ok(s) => s.clone(),
        Err(p) => p.into_inner().clone(),
    };
    let summary = Summary::new(
        command,
        &plan,
        &stats,
        send_ns as f64 / 1e9,
        elapsed_ns as f64 / 1e9,
    );
    let text = summary.text(&plan);
    let json_text =
        serde_json::to_string_pretty(&summary).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    match json {
        Some("-") => {
            eprint!("{text}");
            println!("{json_text}");
        }
        Some(path) => {
            print!("{text}");
            if let Err(e) = std::fs::write(path, json_text + "\n") {
                eprintln!("loadgen: cannot write {path}: {e}");
                return 1;
            }
        }
        None => print!("{text}"),
    }
    let _ = std::io::stdout().flush();
    if fail_on_error && summary.errors_total > 0 {
        3
    } else {
        0
    }
}

async fn next_signal(s: &mut Option<tokio::signal::unix::Signal>) {
    match s.as_mut() {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// Main-thread loop until all workers end: progress once per second, signals.
fn supervise(
    plan: &Plan,
    total: &Mutex<Stats>,
    control: &Control,
    running: &AtomicUsize,
    quiet: bool,
) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        while running.load(Ordering::Acquire) > 0 {
            std::thread::sleep(Duration::from_millis(50));
        }
        return;
    };
    rt.block_on(async {
        let mut sigint = signal(SignalKind::interrupt()).ok();
        let mut sigterm = signal(SignalKind::terminate()).ok();
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        let (mut last_print, mut last_sent) = (0u64, 0u64);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = next_signal(&mut sigint) => {
                    if control.stop.swap(true, Ordering::Relaxed) {
                        std::process::exit(130);
                    }
                    eprintln!("loadgen: interrupted, draining (again to quit now)");
                }
                _ = next_signal(&mut sigterm) => control.stop.store(true, Ordering::Relaxed),
            }
            if running.load(Ordering::Acquire) == 0 {
                return;
            }
            let now = plan.now();
            if !quiet && now >= last_print + 1_000_000_000 {
                if let Ok(s) = total.lock() {
                    let dt = (now - last_print) as f64 / 1e9;
                    let rate = s.sent.saturating_sub(last_sent) as f64 / dt;
                    eprintln!("{}", progress_line(now as f64 / 1e9, &s, rate));
                    last_sent = s.sent;
                }
                last_print = now;
            }
        }
    })
}
