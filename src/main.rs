use std::process::ExitCode;

use clap::Parser;

use balancelife::cli::{Cli, Command};
use balancelife::config::Settings;
use balancelife::startup::{self, Application};
use balancelife::telemetry;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("balancelife: {error}");
            return ExitCode::from(2);
        }
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::Config => {
            print_config(&settings);
            ExitCode::SUCCESS
        }
        Command::Serve => {
            telemetry::init(&settings);
            match serve(&settings).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!(
                        error = format!("{error:#}"),
                        "the service stopped with an error"
                    );
                    eprintln!("balancelife: {error:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    app.run_until(startup::shutdown_signal()).await?;
    Ok(())
}

fn print_config(settings: &Settings) {
    println!("Effective settings (secrets masked):");
    for (name, value) in settings.masked_lines() {
        println!("  {name:<20} {value}");
    }
    let plan = startup::plan_store(settings);
    println!();
    println!("Store: {}", plan.kind.as_str());
    println!("  because {}", plan.reason);
}
