//! `balancelife-bench`: measures every tier of the service side by side in one run
//! and prints a table, a JSON report, a chart and one PASS/MISS line per target.
//!
//! The HTTP tier runs the service in a child process: this same binary started with
//! the hidden `--serve`, which runs exactly the library code `balancelife serve`
//! runs, so the benchmark never depends on a service binary being built beside it.

#![forbid(unsafe_code)]

mod bench;
mod floor;
mod foods;
mod http;
mod measure;
mod mixed;
mod report;
mod sync;
mod training;
mod wrk;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use balancelife::config::Settings;
use balancelife::{startup, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "balancelife-bench",
    version,
    about = "Measure every BalanceLife tier side by side: table, JSON, chart and targets"
)]
struct Cli {
    /// A TOML settings file; environment variables override it.
    #[arg(long, env = "BALANCELIFE_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,

    #[command(flatten)]
    bench: bench::BenchArgs,

    /// Run the service instead of measuring it (how the HTTP tier starts it).
    #[arg(long, hide = true)]
    serve: bool,

    /// Serve this file's bytes from a bare axum server instead (the HTTP floor).
    #[arg(long, hide = true, value_name = "FILE")]
    floor: Option<PathBuf>,

    /// Build and search a food index of this many foods instead, and print the
    /// figures as JSON (how the food rows measure an index on its own).
    #[arg(long, hide = true, value_name = "FOODS")]
    food_index: Option<usize>,
}

/// mimalloc rather than glibc's malloc: see the workspace's `Cargo.toml`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("balancelife-bench: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log);
    let outcome = if cli.serve {
        startup::serve(&settings).await
    } else if let Some(body) = &cli.floor {
        floor::serve(body).await
    } else if let Some(count) = cli.food_index {
        foods::measure_index(count)
    } else {
        bench::run(&settings, &cli.bench).await
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("balancelife-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}
