//! Command-line interface.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "balancelife",
    version,
    about = "The BalanceLife health and fitness backend"
)]
pub struct Cli {
    /// A TOML settings file; environment variables override it.
    #[arg(long, global = true, env = "BALANCELIFE_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand, Clone)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve,
    /// Print the effective settings, secrets masked, and which store would be used.
    Config,
    /// Load the sample catalogue and demo users into MongoDB (idempotent).
    Seed,
}
