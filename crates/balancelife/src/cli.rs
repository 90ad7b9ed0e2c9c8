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
    /// Load the sample catalogue, demo users and starter foods into MongoDB
    /// (idempotent).
    Seed,
    /// Manage the food database.
    #[command(subcommand)]
    Foods(FoodsCommand),
}

#[derive(Debug, Subcommand, Clone)]
pub enum FoodsCommand {
    /// Import a public food database's dump into MongoDB. Running it again changes
    /// nothing; an interrupted import goes on where it stopped.
    Import {
        /// What the dump is.
        #[arg(long, value_enum)]
        format: crate::food_import::Format,
        /// The file (plain or gzip), or for `usda-fdc-csv` the folder of the CSV
        /// download.
        path: PathBuf,
        /// Start from the first row, whatever an earlier run got through.
        #[arg(long)]
        restart: bool,
        /// Stop after this many batches of 1000 (to try a dump out); run again to
        /// go on.
        #[arg(long, value_name = "N")]
        batches: Option<u64>,
    },
}
