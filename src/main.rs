//! The `beskplan` command: serve (the default), migrate, print the OpenAPI document.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use beskplan::config::Settings;

#[derive(Debug, Parser)]
#[command(name = "beskplan", version, about = "Employment plans (beskæftigelsesplaner) as a REST/JSON service")]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
}

fn init_logging(format: Option<&str>) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = match format {
        Some(f) => f.eq_ignore_ascii_case("json"),
        None => !std::io::stdout().is_terminal(),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        builder.json().with_current_span(true).init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            let document = beskplan::api::openapi().to_pretty_json().expect("the OpenAPI document serializes");
            println!("{document}");
            Ok(())
        }
        Command::Migrate => {
            init_logging(cli.settings.log_format.as_deref());
            beskplan::AppState::new(cli.settings).map(|_| tracing::info!("database is migrated"))
        }
        Command::Serve => {
            init_logging(cli.settings.log_format.as_deref());
            actix_web::rt::System::new().block_on(beskplan::serve(cli.settings))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("beskplan: {message}");
            ExitCode::FAILURE
        }
    }
}
