//! Command-line interface: `loadgen register|options|echo|registrar`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// SIP load generator, raw UDP echo and registrar simulator.
#[derive(Debug, Parser)]
#[command(name = "loadgen", version, about)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub cmd: Cmd,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// REGISTER load from many users (AORs sip:user{i}@domain, i = 0..users).
    Register(LoadArgs),
    /// OPTIONS load to the target (keepalive load).
    Options(LoadArgs),
    /// Raw UDP echo (recvmmsg/sendmmsg, SO_REUSEPORT, one socket per thread): the bench ceiling.
    Echo(EchoArgs),
    /// A farm of registrar simulators answering REGISTER/OPTIONS with 200 OK.
    Registrar(RegistrarArgs),
}

/// Transport of the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    /// UDP with sendmmsg/recvmmsg batching and timer E retransmission.
    Udp,
    /// TCP, kept-alive connections, requests pipelined.
    Tcp,
    /// TLS over TCP (rustls).
    Tls,
}

impl Transport {
    /// Upper-case name for Via.
    pub fn via_name(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }

    /// Lower-case name for output.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        }
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let t = s.trim().trim_end_matches("/s");
    let v: f64 = t
        .parse()
        .map_err(|_| format!("not a rate: {s} (use e.g. 50000 or 50000/s)"))?;
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(format!("rate must be > 0: {s}"))
    }
}

/// Options of `register` and `options`.
#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Target address (ip:port or host:port).
    #[arg(long, default_value = "127.0.0.1:5060")]
    pub target: String,
    /// Allow a non-loopback target.
    #[arg(long)]
    pub allow_remote: bool,
    /// Transport.
    #[arg(long, value_enum, default_value_t = Transport::Udp)]
    pub transport: Transport,
    /// Number of distinct users (AORs sip:{user-prefix}{i}@{domain}, i = 0..N).
    #[arg(long, default_value_t = 1000)]
    pub users: u64,
    /// Domain of the AORs.
    #[arg(long, default_value = "example.com")]
    pub domain: String,
    /// User part prefix.
    #[arg(long, default_value = "user")]
    pub user_prefix: String,
    /// Worker threads, each with its own sockets and event loop.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Sockets (UDP) or connections (TCP/TLS) in total, spread over the threads
    /// [default: one per thread].
    #[arg(long)]
    pub connections: Option<usize>,
    /// Bind sockets to 127.0.0.1 .. 127.0.0.N round-robin (loopback targets only).
    #[arg(long, default_value_t = 1)]
    pub source_ips: u32,
    /// Open loop: total requests per second (e.g. 50000 or 50000/s), latency measured from the
    /// intended send time.
    #[arg(long, value_parser = parse_rate, conflicts_with = "in_flight")]
    pub rate: Option<f64>,
    /// Closed loop: requests in flight per thread (the default mode, 64).
    #[arg(long)]
    pub in_flight: Option<usize>,
    /// Open loop: transaction table size per socket [default: rate x 2 s per socket, at least
    /// 4096]; when full, due requests wait (and their latency grows).
    #[arg(long)]
    pub max_in_flight: Option<usize>,
    /// Stop after this many requests in total.
    #[arg(long)]
    pub count: Option<u64>,
    /// Stop sending after this many seconds. Without --count/--duration: run until SIGINT.
    #[arg(long)]
    pub duration: Option<f64>,
    /// Do not retransmit over UDP (timer F still applies).
    #[arg(long)]
    pub no_retransmit: bool,
    /// RFC 3261 T1 in milliseconds.
    #[arg(long, default_value_t = 500)]
    pub t1_ms: u64,
    /// RFC 3261 T2 in milliseconds.
    #[arg(long, default_value_t = 4000)]
    pub t2_ms: u64,
    /// Transaction timeout (timer F) in milliseconds [default: 64*T1].
    #[arg(long)]
    pub timeout_ms: Option<u64>,
    /// After sending stops, wait at most this long for outstanding transactions; the rest are
    /// counted as abandoned [default: the transaction timeout].
    #[arg(long)]
    pub drain_ms: Option<u64>,
    /// Leave the first MS milliseconds out of the latency percentiles: transactions started
    /// (open loop: due) before then are counted but not measured, so that connection setup
    /// (a TLS handshake queued behind others) does not make the tail [default: 0].
    #[arg(long, default_value_t = 0)]
    pub warmup_ms: u64,
    /// Accepted final status codes, comma separated, codes or classes (e.g. 301 or 2xx,301)
    /// [default: 2xx,3xx for REGISTER, 2xx for OPTIONS].
    #[arg(long)]
    pub expect: Option<String>,
    /// Check every 301 against the placement computed from this director config.
    #[arg(long)]
    pub verify: Option<PathBuf>,
    /// Write the summary as JSON to FILE ("-" = stdout; the human summary then goes to stderr).
    #[arg(long)]
    pub json: Option<String>,
    /// No progress line.
    #[arg(long)]
    pub quiet: bool,
    /// Exit with status 3 when any error was counted.
    #[arg(long)]
    pub fail_on_error: bool,
    /// Datagrams per sendmmsg/recvmmsg call.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Expires of REGISTER.
    #[arg(long, default_value_t = 3600)]
    pub expires: u32,
    /// TLS: accept any server certificate.
    #[arg(long)]
    pub tls_insecure: bool,
    /// TLS: trust the CA certificates in this PEM file.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// TLS: server name to send and verify [default: the target host].
    #[arg(long)]
    pub tls_server_name: Option<String>,
    /// TLS: present this client certificate chain (PEM) when the server asks for one.
    #[arg(long, requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// TLS: the private key (PEM) of `--client-cert`.
    #[arg(long, requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// TCP/TLS: open a new connection for every request (measures connection/handshake rate);
    /// concurrency is then --in-flight per thread.
    #[arg(
        long = "tls-new-connection-per-request",
        alias = "new-connection-per-request"
    )]
    pub new_connection_per_request: bool,
    /// TLS: offer no session resumption (no tickets, no session ids), so that every handshake
    /// is a full one; the report counts resumed handshakes either way.
    #[arg(long)]
    pub tls_no_resumption: bool,
    /// TLS: let handshakes run their expensive steps whenever ready, instead of one at a time
    /// per thread after the answers that have arrived are read (the default, so that the
    /// latency measured on other connections is not the client's own handshake work).
    #[arg(long)]
    pub no_handshake_turns: bool,
    /// TLS: offer only this protocol version (1.2 or 1.3) [default: both; servers pick 1.3].
    #[arg(long, value_name = "VERSION")]
    pub tls_version: Option<TlsVersion>,
}

/// A TLS protocol version the client may be limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TlsVersion {
    /// TLS 1.2 (ECDHE key exchange, session ids and tickets as TLS 1.2 has them).
    #[value(name = "1.2")]
    V1_2,
    /// TLS 1.3.
    #[value(name = "1.3")]
    V1_3,
}

/// Options of `echo`.
#[derive(Debug, Clone, Args)]
pub struct EchoArgs {
    /// Address to listen on (port 0 picks one; the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:5060")]
    pub listen: String,
    /// Threads, each with its own SO_REUSEPORT socket.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Turn each request into a minimal response by rewriting the start line to
    /// `SIP/2.0 200 OK` (headers are returned unchanged).
    #[arg(long)]
    pub reply_200: bool,
    /// Datagrams per recvmmsg/sendmmsg call.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
}

/// Transport of a registrar listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListenTransport {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
    /// TLS with a self-signed certificate generated at start, or `--certificate`.
    Tls,
}

/// Options of `registrar`.
#[derive(Debug, Clone, Args)]
pub struct RegistrarArgs {
    /// Listener address; repeat for a farm (port 0 picks one; chosen addresses are printed).
    #[arg(long, required = true)]
    pub listen: Vec<String>,
    /// Transport of all listeners.
    #[arg(long, value_enum, default_value_t = ListenTransport::Udp)]
    pub transport: ListenTransport,
    /// TCP control address: lines `mute ADDR|all`, `unmute ADDR|all`, `stats`.
    #[arg(long)]
    pub control: Option<String>,
    /// Expires put in the Contact of a REGISTER 200 when the request has none.
    #[arg(long, default_value_t = 3600)]
    pub expires: u32,
    /// UDP: threads per listener, each with its own SO_REUSEPORT socket and
    /// recvmmsg/sendmmsg batches.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// UDP: answer from this many extra sockets per thread, each on its own port, taking turns
    /// batch by batch, instead of from the listening socket. A proxy under test receives its
    /// registrars' answers on SO_REUSEPORT workers chosen by the source address, so answers
    /// from one port all land on one worker; several ports spread them. A client that
    /// connected its socket (the director's health probes do) cannot receive such answers:
    /// for benchmarks without probing.
    #[arg(long, default_value_t = 0)]
    pub reply_sockets: usize,
    /// TLS: the certificate chain (PEM) to present instead of a self-signed one.
    #[arg(long, requires = "private_key")]
    pub certificate: Option<std::path::PathBuf>,
    /// TLS: the private key (PEM) of `--certificate`.
    #[arg(long, requires = "certificate")]
    pub private_key: Option<std::path::PathBuf>,
    /// TLS: require a client certificate chaining to the CA certificates of this PEM file
    /// (mutual TLS); connections without one, or with another CA's, are refused.
    #[arg(long)]
    pub client_ca: Option<std::path::PathBuf>,
}
