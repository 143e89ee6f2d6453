//! The `director` binary: `director [run]`, `director check-config FILE`,
//! `director user-pool-info AOR`. Exit codes: 0 success, 1 runtime failure, 2 bad
//! configuration or arguments.

use std::fmt::Display;
use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use director::cli::{self, Cli, Command};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let command = Cli::parse().into_command();
    match command {
        Command::Run(args) => {
            init_tracing();
            let backend = match director::udp_backend_from_env() {
                Ok(b) => b,
                Err(msg) => {
                    report(&msg);
                    return ExitCode::from(2);
                }
            };
            match director::run::run(&args, backend) {
                Ok(()) => ExitCode::SUCCESS,
                Err(
                    err @ (director::run::RunError::Config(_) | director::run::RunError::Tls(_)),
                ) => {
                    report(&err);
                    ExitCode::from(2)
                }
                Err(err) => {
                    report(&err);
                    ExitCode::from(1)
                }
            }
        }
        Command::CheckConfig { file } => print_result(cli::run_check_config(&file)),
        Command::UserPoolInfo { aor, config, json } => {
            print_result(cli::run_user_pool_info(&aor, config.as_deref(), json))
        }
    }
}

/// `director: <error>` on stderr; a closed stderr does not turn the exit status into a panic's.
fn report(err: &dyn Display) {
    let _ = writeln!(std::io::stderr(), "director: {err}");
}

fn print_result(result: Result<String, cli::CliError>) -> ExitCode {
    match result {
        Ok(text) => {
            // A closed stdout (e.g. `| head`) is not an error worth a panic.
            let _ = writeln!(std::io::stdout(), "{text}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            report(&err);
            ExitCode::from(2)
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DIRECTOR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A log line that cannot be written (stderr closed, e.g. a pipe whose reader went away) is
    // dropped. By default the subscriber reports such failures with `eprint!`, which panics on a
    // closed stderr and would take down whichever thread was logging (the signal thread, and
    // with it the shutdown).
    // Colours only on a terminal: a file, a pipe or the journal gets plain text.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .log_internal_errors(false)
        .init();
}
