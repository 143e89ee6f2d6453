//! Process signals without async machinery: SIGTERM/SIGINT/SIGHUP are blocked in every thread
//! (the mask is inherited, so this must run before other threads start) and one thread takes
//! them synchronously with `sigwait`.

use std::io;

/// A signal the director acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM or SIGINT: stop gracefully.
    Terminate,
    /// SIGHUP: reload.
    Hangup,
}

/// The blocked signal set, to wait on.
#[derive(Debug)]
pub struct Signals {
    set: libc::sigset_t,
}

/// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and so in every thread it starts).
pub fn block_and_listen() -> io::Result<Signals> {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it before any other use, and
    // pthread_sigmask only reads it. Every call's return value is checked.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        if libc::sigemptyset(&mut set) != 0 {
            return Err(io::Error::last_os_error());
        }
        for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
            if libc::sigaddset(&mut set, sig) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(Signals { set })
    }
}

impl Signals {
    /// Waits for the next blocked signal.
    pub fn wait(&self) -> Signal {
        loop {
            let mut sig: libc::c_int = 0;
            // SAFETY: `self.set` was initialised by `block_and_listen`; `sig` is a valid out
            // pointer for the duration of the call.
            let rc = unsafe { libc::sigwait(&self.set, &mut sig) };
            if rc != 0 {
                continue;
            }
            match sig {
                libc::SIGHUP => return Signal::Hangup,
                _ => return Signal::Terminate,
            }
        }
    }
}
