#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

use balancelife::cli::{Cli, Command};
use balancelife::config::{Settings, Variables};
use balancelife::sample;
use balancelife::selection;
use balancelife::startup;
use balancelife::store::mongo::MongoStore;
use balancelife::telemetry::{self, ErrorChain};

/// mimalloc rather than glibc's malloc: see the workspace's `Cargo.toml`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let variables = match Variables::load(cli.config.as_deref()) {
        Ok(variables) => variables,
        Err(error) => {
            eprintln!("balancelife: {error}");
            return ExitCode::from(2);
        }
    };
    match cli.command.unwrap_or(Command::Serve) {
        // The settings as written, so they print as the operator knows them.
        Command::Config => print_config(variables).await,
        Command::Seed => {
            let settings = Settings::from(variables);
            telemetry::init(&settings.log);
            seed(&settings).await
        }
        Command::Serve => {
            let settings = Settings::from(variables);
            telemetry::init(&settings.log);
            match startup::serve(&settings).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!(
                        error = format!("{error:#}"),
                        "the service stopped with an error"
                    );
                    eprintln!("balancelife: {error:#}");
                    // Settings that cannot work exit like settings that cannot be read.
                    match error.downcast_ref::<selection::SelectionError>() {
                        Some(selection::SelectionError::Misconfigured(_)) => ExitCode::from(2),
                        _ => ExitCode::FAILURE,
                    }
                }
            }
        }
    }
}

async fn print_config(variables: Variables) -> ExitCode {
    use std::fmt::Write as _;
    let mut text = String::from("Effective settings (secrets masked):\n");
    for (name, value) in variables.listing() {
        let _ = writeln!(text, "  {name:<20} {value}");
    }
    let code = match selection::decide(&Settings::from(variables)).await {
        Ok(decision) => {
            let _ = writeln!(text, "\nStore: {}", decision.kind.as_str());
            let _ = writeln!(text, "  because {}", decision.reason);
            ExitCode::SUCCESS
        }
        Err(error) => {
            let _ = writeln!(text, "\nStore: none; the service would not start");
            let _ = writeln!(text, "  because {error}");
            ExitCode::FAILURE
        }
    };
    // A reader that stopped early (`balancelife config | head`) is not an error,
    // where `println!` would panic on the closed pipe.
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
    code
}

/// Writes the sample data to the configured MongoDB; running it again changes nothing.
async fn seed(settings: &Settings) -> ExitCode {
    let Some(mongo_settings) = &settings.mongodb else {
        eprintln!(
            "balancelife seed: MONGODB_URI is not set; seeding writes the sample data to MongoDB"
        );
        return ExitCode::from(2);
    };
    let result = async {
        let store = MongoStore::connect(mongo_settings).await?;
        sample::load(&store, balancelife::domain::now()).await
    };
    match result.await {
        Ok(report) => {
            println!(
                "sample data: {} documents created, {} already present",
                report.created, report.unchanged
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("balancelife seed: {}", ErrorChain(&error));
            ExitCode::FAILURE
        }
    }
}
