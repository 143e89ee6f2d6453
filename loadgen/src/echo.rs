//! `loadgen echo`: the leanest UDP echo we can write, the benchmark ceiling. One blocking
//! SO_REUSEPORT socket per thread, `recvmmsg(MSG_WAITFORONE)` then `sendmmsg` back to the
//! sources; with `--reply-200` the start line is overwritten in place by `SIP/2.0 200 OK`
//! (right-aligned before the first CRLF, so nothing is copied) and the headers go back as
//! they came: a response the client can match, for pure client-throughput measurement.

use crate::cli::EchoArgs;
use crate::mmsg::Batch;
use crate::reuseport;
use socket2::Socket;
use std::io::{self, Write};
use std::net::ToSocketAddrs;
use std::os::fd::AsRawFd;

const STATUS_LINE: &[u8] = b"SIP/2.0 200 OK";
const SLOT: usize = 4096;

/// Rewrites the request in slot `i` into a 200 by overwriting the end of its start line;
/// leaves responses and odd datagrams as they are.
fn reply_200(b: &mut Batch, i: usize) {
    let len = b.get(i).len();
    let data = &b.get(i)[..len.min(512)];
    if data.starts_with(b"SIP/") {
        return;
    }
    let Some(cr) = data.windows(2).position(|w| w == b"\r\n") else {
        return;
    };
    if cr < STATUS_LINE.len() {
        return;
    }
    let off = cr - STATUS_LINE.len();
    b.slot_mut(i)[off..cr].copy_from_slice(STATUS_LINE);
    b.set_window(i, off, len - off);
}

fn serve(sock: Socket, batch: usize, rewrite: bool) -> io::Result<()> {
    let fd = sock.as_raw_fd();
    let mut b = Batch::new(batch, SLOT);
    loop {
        let n = match b.recv(fd, libc::MSG_WAITFORONE, true) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if rewrite {
            for i in 0..n {
                reply_200(&mut b, i);
            }
        }
        b.send_all_to_sources(fd);
    }
}

/// Runs the echo until killed.
pub fn run(a: &EchoArgs) -> i32 {
    let addr = match a.listen.to_socket_addrs().ok().and_then(|mut i| i.next()) {
        Some(a) => a,
        None => {
            eprintln!("loadgen echo: cannot resolve --listen {}", a.listen);
            return 2;
        }
    };
    // One socket per thread; port 0: the others join the port the first socket got.
    let (bound, socks) = match reuseport::bind_shared(addr, a.threads) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("loadgen echo: bind {addr}: {e}");
            return 1;
        }
    };
    println!("listening udp {bound}");
    let _ = io::stdout().flush();
    let (batch, rewrite) = (a.batch.clamp(1, 1024), a.reply_200);
    let handles: Vec<_> = socks
        .into_iter()
        .enumerate()
        .filter_map(|(i, s)| {
            std::thread::Builder::new()
                .name(format!("echo-{i}"))
                .spawn(move || serve(s, batch, rewrite))
                .ok()
        })
        .collect();
    for h in handles {
        if let Ok(Err(e)) = h.join() {
            eprintln!("loadgen echo: {e}");
            return 1;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_start_line_in_place() {
        let mut b = Batch::new(1, 256);
        let req = b"REGISTER sip:example.com SIP/2.0\r\nCall-ID: x\r\n\r\n";
        b.next_mut().expect("slot")[..req.len()].copy_from_slice(req);
        b.commit(req.len());
        reply_200(&mut b, 0);
        let got = b.get(0);
        assert!(
            got.starts_with(b"SIP/2.0 200 OK\r\nCall-ID: x\r\n"),
            "{got:?}"
        );
    }
}
