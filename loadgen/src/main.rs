//! The `loadgen` binary: SIP load generator (`register`, `options`), raw UDP echo (`echo`)
//! and registrar simulator farm (`registrar`). See loadgen/README.md.

mod cli;
mod echo;
mod fine_timer;
mod mmsg;
mod plan;
mod registrar;
mod registrar_udp;
mod report;
mod request;
mod reuseport;
mod run;
mod session;
mod stats;
mod stream_client;
mod tls;
mod tls_sessions;
mod topo_load;
mod txn;
mod udp_client;
mod verify;
mod wbuf;
mod wire;

use clap::Parser;
use cli::{Cli, Cmd, LoadArgs, Transport};
use request::Method;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn load(command: &str, method: Method, a: &LoadArgs) -> i32 {
    let verify = match &a.verify {
        Some(path) => match topo_load::load(path) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("loadgen: {e}");
                return 2;
            }
        },
        None => None,
    };
    let tls = if a.transport == Transport::Tls {
        let target = match std::net::ToSocketAddrs::to_socket_addrs(a.target.as_str())
            .ok()
            .and_then(|mut i| i.next())
        {
            Some(t) => t,
            None => {
                eprintln!("loadgen: cannot resolve --target {}", a.target);
                return 2;
            }
        };
        match tls::client(
            target,
            a.tls_insecure,
            a.ca.as_deref(),
            a.tls_server_name.as_deref(),
            a.client_cert.as_deref().zip(a.client_key.as_deref()),
            !a.tls_no_resumption,
            a.tls_version,
        ) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("loadgen: {e}");
                return 2;
            }
        }
    } else {
        None
    };
    let plan = match plan::Plan::new(a, method, verify, tls) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("loadgen: {e}");
            return 2;
        }
    };
    run::run(command, plan, a.quiet, a.json.as_deref(), a.fail_on_error)
}

fn main() {
    let cli = Cli::parse();
    let code = match &cli.cmd {
        Cmd::Register(a) => load("register", Method::Register, a),
        Cmd::Options(a) => load("options", Method::Options, a),
        Cmd::Echo(a) => echo::run(a),
        Cmd::Registrar(a) => registrar::run(a),
    };
    std::process::exit(code);
}
