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

    /// Seconds a request body may take to arrive in full, from when its headers were read;
    /// a slower body is answered 408 and its connection closed (0: no deadline).
    #[arg(long = "body-timeout-secs", env = "BESKPLAN_BODY_TIMEOUT_SECS", default_value_t = 30, global = true)]
    pub body_timeout_secs: u64,

    /// Connections each HTTP worker serves at once; further ones wait in the listen backlog.
    #[arg(long = "max-connections", env = "BESKPLAN_MAX_CONNECTIONS", default_value_t = 1024, global = true)]
    pub max_connections: usize,

    /// Database connections in the pool.
    #[arg(long = "db-pool-size", env = "BESKPLAN_DB_POOL_SIZE", default_value_t = 8, global = true)]
    pub db_pool_size: u32,

    /// Largest size in MiB the SQLite database may grow to; past it writes answer 507 (as on a
    /// full disk) and readiness fails. Unlimited by default; PostgreSQL ignores it.
    #[arg(long = "sqlite-max-size-mb", env = "BESKPLAN_SQLITE_MAX_SIZE_MB", global = true)]
    pub sqlite_max_size_mb: Option<u64>,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "BESKPLAN_WORKERS", global = true)]
    pub workers: Option<usize>,

    /// Secret for signing HS256 access tokens; without it a random one is made at start-up and
    /// tokens do not survive a restart.
    #[arg(long = "jwt-secret", env = "BESKPLAN_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,

    /// RS256 public key (PEM text, or a path to a PEM file) of an external identity provider
    /// whose tokens are accepted too.
    #[arg(long = "jwt-public-key", env = "BESKPLAN_JWT_PUBLIC_KEY", global = true)]
    pub jwt_public_key: Option<String>,

    /// Expected (and issued) `iss` claim.
    #[arg(long = "jwt-issuer", env = "BESKPLAN_JWT_ISSUER", default_value = "beskplan", global = true)]
    pub jwt_issuer: String,

    /// Expected (and issued) `aud` claim.
    #[arg(long = "jwt-audience", env = "BESKPLAN_JWT_AUDIENCE", default_value = "beskplan", global = true)]
    pub jwt_audience: String,

    /// Username of the admin created when the database has no users.
    #[arg(long = "admin-username", env = "BESKPLAN_ADMIN_USERNAME", default_value = "admin", global = true)]
    pub admin_username: String,

    /// Password of that admin; without it one is generated and printed once.
    #[arg(long = "admin-password", env = "BESKPLAN_ADMIN_PASSWORD", hide_env_values = true, global = true)]
    pub admin_password: Option<String>,

    /// Load the demo data (the five seed plans) into an empty database at start-up.
    #[arg(long, env = "BESKPLAN_DEMO", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false, global = true)]
    pub demo: bool,

    /// Log format: `json` (structured, one object per line) or `text`; default json unless
    /// standard output is a terminal.
    #[arg(long = "log-format", env = "BESKPLAN_LOG_FORMAT", global = true)]
    pub log_format: Option<String>,
}

impl Settings {
    /// The RS256 public key's PEM text, read from a file when the setting is a path.
    pub fn jwt_public_key_pem(&self) -> Result<Option<Vec<u8>>, String> {
        match self.jwt_public_key.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(pem) if pem.starts_with("-----BEGIN") => Ok(Some(pem.as_bytes().to_vec())),
            Some(path) => std::fs::read(path).map(Some).map_err(|e| format!("BESKPLAN_JWT_PUBLIC_KEY {path}: {e}")),
        }
    }

    /// Settings for tests and tools: the defaults, with the given database.
    pub fn for_database(database_url: &str) -> Self {
        Settings {
            database_url: database_url.to_owned(),
            bind: "127.0.0.1:0".into(),
            cors_origins: Vec::new(),
            body_limit: 1024 * 1024,
            body_timeout_secs: 30,
            max_connections: 1024,
            db_pool_size: 4,
            sqlite_max_size_mb: None,
            workers: None,
            jwt_secret: None,
            jwt_public_key: None,
            jwt_issuer: "beskplan".into(),
            jwt_audience: "beskplan".into(),
            admin_username: "admin".into(),
            admin_password: None,
            demo: false,
            log_format: None,
        }
    }
}
