//! Settings from the environment, with the same settings as command-line flags.

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// SQLite file (a path or sqlite://path) or postgres://… URL.
    #[arg(long, env = "DATABASE_URL", default_value = "./data/beskplan.sqlite3", global = true)]
    pub database_url: String,

    /// Address and port to listen on.
    #[arg(
        long = "bind",
        alias = "beskplan-bind",
        env = "BESKPLAN_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,

    /// Origins allowed to call the API from a browser (comma-separated); none by default.
    #[arg(
        long = "cors-origins",
        alias = "beskplan-cors-origins",
        env = "BESKPLAN_CORS_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_origins: Vec<String>,

    /// Largest accepted request body in bytes.
    #[arg(long = "body-limit", env = "BESKPLAN_BODY_LIMIT", default_value_t = 1024 * 1024, global = true)]
    pub body_limit: usize,

    /// Database connections in the pool.
    #[arg(long = "db-pool-size", env = "BESKPLAN_DB_POOL_SIZE", default_value_t = 8, global = true)]
    pub db_pool_size: u32,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "BESKPLAN_WORKERS", global = true)]
    pub workers: Option<usize>,

    /// Log format: `json` (structured, one object per line) or `text`; default json unless
    /// standard output is a terminal.
    #[arg(long = "log-format", env = "BESKPLAN_LOG_FORMAT", global = true)]
    pub log_format: Option<String>,
}

impl Settings {
    /// Settings for tests and tools: the defaults, with the given database.
    pub fn for_database(database_url: &str) -> Self {
        Settings {
            database_url: database_url.to_owned(),
            bind: "127.0.0.1:0".into(),
            cors_origins: Vec::new(),
            body_limit: 1024 * 1024,
            db_pool_size: 4,
            workers: None,
            log_format: None,
        }
    }
}
