//! The `beskplan` command: serve (the default), migrate, print the OpenAPI document.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use beskplan::api::users::NewUser;
use beskplan::auth::{Caller, RequestContext, Role};
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
    /// Load the demo data (the five seed plans) into an empty database and exit.
    Demo,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input (first line).
    Create {
        #[arg(long)]
        username: String,
        /// admin, planner, approver, consultee or viewer.
        #[arg(long)]
        role: String,
        /// A kommunekode the user acts in; repeat for several.
        #[arg(long = "municipality")]
        municipalities: Vec<String>,
        /// The consultee's party, e.g. "Handicaprådet".
        #[arg(long)]
        party: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
    },
}

fn create_user(settings: Settings, command: UserCommand) -> Result<(), String> {
    let UserCommand::Create { username, role, municipalities, party, display_name } = command;
    let role = Role::parse(&role)
        .ok_or_else(|| format!("unknown role {role:?}; use admin, planner, approver, consultee or viewer"))?;
    let mut password = String::new();
    std::io::stdin().read_line(&mut password).map_err(|e| format!("reading the password: {e}"))?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let state = beskplan::AppState::new(settings)?;
    let mut conn = state.pool.get().map_err(|e| e.to_string())?;
    let ctx = RequestContext::system(Caller::system());
    let input = NewUser { username, display_name, role, municipalities, party, password };
    let user = beskplan::api::users::create_user(&mut conn, &ctx, input).map_err(|e| e.to_string())?;
    println!("created user {} ({}) with id {}", user.username, user.role.as_str(), user.id);
    Ok(())
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

/// glibc's allocator, set up for a long-running server before any thread starts:
/// - large blocks (Argon2's 19 MiB per password check, big documents) always come from their own
///   mapping and go back to the system when freed; by default the threshold for that rises with
///   each such free, after which they stay in the heap (RSS stayed ~690 MB after 2,000 logins);
/// - at most two arenas per core instead of eight, which otherwise each keep their own free memory.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    const LARGE_BLOCK_BYTES: libc::c_int = 1024 * 1024;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let arenas = libc::c_int::try_from(2 * cores).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt only changes allocator parameters; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES);
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

fn main() -> ExitCode {
    tune_allocator();
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
        Command::Demo => {
            init_logging(cli.settings.log_format.as_deref());
            let mut settings = cli.settings;
            settings.demo = true;
            beskplan::AppState::new(settings).map(|_| ())
        }
        Command::User { command } => {
            init_logging(cli.settings.log_format.as_deref());
            create_user(cli.settings, command)
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
