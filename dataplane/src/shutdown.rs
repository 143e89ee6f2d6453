//! A cloneable shutdown signal, triggerable from any thread, cheap to check and awaitable.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::watch;

#[derive(Debug)]
struct Inner {
    flag: AtomicBool,
    tx: watch::Sender<bool>,
}

/// The receiving side: check with [`Shutdown::is_triggered`] or await [`Shutdown::wait`].
#[derive(Debug, Clone)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

/// The firing side.
#[derive(Debug, Clone)]
pub struct ShutdownTrigger {
    inner: Arc<Inner>,
}

impl Shutdown {
    /// A new signal and its trigger.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> (Shutdown, ShutdownTrigger) {
        let (tx, _rx) = watch::channel(false);
        let inner = Arc::new(Inner {
            flag: AtomicBool::new(false),
            tx,
        });
        (
            Shutdown {
                inner: inner.clone(),
            },
            ShutdownTrigger { inner },
        )
    }

    /// Whether shutdown has been triggered.
    pub fn is_triggered(&self) -> bool {
        self.inner.flag.load(Ordering::Acquire)
    }

    /// Resolves once shutdown has been triggered (at once if it already was).
    pub async fn wait(&self) {
        let mut rx = self.inner.tx.subscribe();
        if self.is_triggered() {
            return;
        }
        // An error means the sender is gone, which cannot happen while `inner` lives.
        let _ = rx.wait_for(|v| *v).await;
    }
}

impl ShutdownTrigger {
    /// Fires the signal; idempotent.
    pub fn trigger(&self) {
        self.inner.flag.store(true, Ordering::Release);
        self.inner.tx.send_replace(true);
    }
}
