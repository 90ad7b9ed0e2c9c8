#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

use balancelife::cli::{Cli, Command, FoodsCommand};
use balancelife::config::{Settings, Variables};
use balancelife::food_import;
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
        Command::Foods(FoodsCommand::Import {
            format,
            path,
            restart,
            batches,
        }) => {
            let settings = Settings::from(variables);
            telemetry::init(&settings.log);
            let options = food_import::Options {
                restart,
                max_batches: batches,
            };
            import_foods(&settings, format, &path, &options).await
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
        let now = balancelife::domain::now();
        let report = sample::load(&store, now).await?;
        let foods = sample::load_starter_foods(&store, now).await?;
        Ok::<_, balancelife::store::StoreError>((report, foods))
    };
    match result.await {
        Ok((report, foods)) => {
            println!(
                "sample data: {} documents created, {} already present",
                report.created, report.unchanged
            );
            println!(
                "starter foods: {} created, {} changed, {} already present",
                foods.created, foods.replaced, foods.unchanged
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("balancelife seed: {}", ErrorChain(&error));
            ExitCode::FAILURE
        }
    }
}

/// Imports a food dump into the configured MongoDB and prints what it did.
async fn import_foods(
    settings: &Settings,
    format: food_import::Format,
    path: &std::path::Path,
    options: &food_import::Options,
) -> ExitCode {
    let Some(mongo_settings) = &settings.mongodb else {
        eprintln!(
            "balancelife foods import: MONGODB_URI is not set; foods are imported into \
             MongoDB (the memory store keeps nothing)"
        );
        return ExitCode::from(2);
    };
    let store = match MongoStore::connect(mongo_settings).await {
        Ok(store) => store,
        Err(error) => {
            eprintln!("balancelife foods import: {}", ErrorChain(&error));
            return ExitCode::FAILURE;
        }
    };
    match food_import::import(&store, format, path, options).await {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("balancelife foods import: {error}");
            ExitCode::FAILURE
        }
    }
}
