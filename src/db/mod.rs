//! The database: one connection type over SQLite and PostgreSQL, chosen at run time from
//! `DATABASE_URL`, a pool, embedded migrations and the write-transaction helper.

pub mod schema;
pub mod storage;

use std::path::Path;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection type for both backends; queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

pub type Pool = r2d2::Pool<Manager>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the database lives, parsed from `DATABASE_URL`. Parsed explicitly because SQLite accepts
/// any string as a file name, so letting diesel guess would turn a mistyped URL into a new file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(String),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DatabaseUrl::Postgres(url.to_owned())
        } else {
            let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
            DatabaseUrl::Sqlite(path.to_owned())
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// The URL without a password, for logs.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{path}"),
            DatabaseUrl::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(scheme_end), Some(at)) if at > scheme_end => {
                    let user_info = &url[scheme_end + 3..at];
                    let user = user_info.split(':').next().unwrap_or("");
                    format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..])
                }
                _ => url.clone(),
            },
        }
    }
}

/// r2d2 connection manager that builds the right variant and sets SQLite up for a server.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
    /// Counts every SQL statement run, for `/metrics` (statements per request stay constant).
    statements: prometheus::IntCounter,
    /// SQLite only: the most pages the file may grow to (`BESKPLAN_SQLITE_MAX_SIZE_MB`).
    sqlite_max_pages: Option<u64>,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        let mut conn = self.open()?;
        let statements = self.statements.clone();
        conn.set_instrumentation(move |event: diesel::connection::InstrumentationEvent<'_>| {
            if matches!(event, diesel::connection::InstrumentationEvent::StartQuery { .. }) {
                statements.inc();
            }
        });
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        // A connection handed back inside a transaction (a panic mid-way) is not reused, nor one
        // whose server went away (the pool hands it back on the thread that saw it fail).
        CONNECTION_LOST.take() || <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

impl Manager {
    fn open(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => open_sqlite(path, self.sqlite_max_pages).map(DbConnection::Sqlite),
            DatabaseUrl::Postgres(url) => {
                PgConnection::establish(url).map(DbConnection::Postgres).map_err(r2d2::Error::ConnectionError)
            }
        }
    }
}

/// A SQLite connection set up for a server (the pool's, and the checkpointer's own).
pub fn open_sqlite(path: &str, max_pages: Option<u64>) -> Result<SqliteConnection, r2d2::Error> {
    let mut conn = SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
    // WAL lets readers run beside the one writer; the busy timeout makes a second writer (of
    // another process) wait instead of failing; NORMAL is durable in WAL mode except for the
    // last transactions on power loss (not on a process crash). A log that was started over is
    // cut back on disk (`storage` keeps it bounded).
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
         PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA journal_size_limit = {};",
        storage::BUSY_TIMEOUT_MS,
        storage::JOURNAL_SIZE_LIMIT_BYTES
    ))
    .map_err(r2d2::Error::QueryError)?;
    if let Some(pages) = max_pages {
        // Writes past it fail with SQLITE_FULL, as on a full disk (507).
        conn.batch_execute(&format!("PRAGMA max_page_count = {pages}")).map_err(r2d2::Error::QueryError)?;
    }
    Ok(conn)
}

thread_local! {
    /// Set on the thread whose connection failed at the connection level, until the pool takes
    /// the connection back (on that same thread, as `AppState::db` drops it) and discards it.
    static CONNECTION_LOST: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Until when (Unix seconds) checkouts test their connection first: after one connection was
/// found dead, its idle siblings most likely are too (the server restarted).
static SUSPECT_UNTIL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
const SUSPECT_FOR: Duration = Duration::from_secs(30);

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Whether an error means the connection itself is gone (the server restarted or dropped it),
/// rather than that a statement failed.
pub fn is_connection_lost(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _) => true,
        Error::DatabaseError(_, info) => {
            let message = info.message();
            [
                "server closed the connection",
                "no connection to the server",
                "terminating connection",
                "connection to server",
            ]
            .iter()
            .any(|sign| message.contains(sign))
        }
        Error::BrokenTransactionManager => true,
        _ => false,
    }
}

/// Marks this thread's connection for discarding and makes the next checkouts test theirs.
pub fn note_connection_lost() {
    CONNECTION_LOST.set(true);
    SUSPECT_UNTIL.store(unix_now() + SUSPECT_FOR.as_secs(), std::sync::atomic::Ordering::Relaxed);
}

/// A pooled connection that works: while connections are suspect (one was just found dead),
/// each is tested first and a dead one is discarded for the next, so a restarted server costs
/// at most the request that found it gone.
pub fn checkout(pool: &Pool) -> Result<r2d2::PooledConnection<Manager>, r2d2::PoolError> {
    let suspect = || SUSPECT_UNTIL.load(std::sync::atomic::Ordering::Relaxed) > unix_now();
    for _ in 0..pool.max_size() {
        let mut conn = pool.get()?;
        if !suspect() || conn.ping().is_ok() {
            return Ok(conn);
        }
        note_connection_lost();
        drop(conn);
    }
    pool.get()
}

/// SQLite's page size (the default of the files this service creates).
const SQLITE_PAGE_BYTES: u64 = 4096;

/// Opens a pool; creates the SQLite file's folder when needed. `sqlite_max_mb` caps the size of
/// a SQLite database (PostgreSQL ignores it).
pub fn connect(
    url: &DatabaseUrl,
    max_size: u32,
    statements: prometheus::IntCounter,
    sqlite_max_mb: Option<u64>,
) -> Result<Pool, String> {
    if let DatabaseUrl::Sqlite(path) = url {
        if let Some(parent) = Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
        }
    }
    r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        // A broken connection shows as a failed query (answered 503); testing each checkout would
        // cost a round trip on every request.
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(5))
        .build(Manager {
            url: url.clone(),
            statements,
            sqlite_max_pages: sqlite_max_mb.map(|mb| mb * 1024 * 1024 / SQLITE_PAGE_BYTES),
        })
        .map_err(|e| format!("cannot connect to {}: {e}", url.redacted()))
}

/// Applies pending migrations; returns how many were applied.
pub fn migrate(conn: &mut DbConnection) -> Result<usize, String> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        DbConnection::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
    };
    applied.map_err(|e| format!("migration failed: {e}"))
}

/// Reverts every applied migration (used by the migration round-trip test).
pub fn revert_all(conn: &mut DbConnection) -> Result<(), String> {
    let result = match conn {
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        DbConnection::Postgres(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| format!("revert failed: {e}"))
}

/// What a write learns when the connection goes while it commits.
pub const COMMIT_UNKNOWN: &str =
    "the database connection was lost while the change was committed, so it may or may not \
     have been stored; retry with the same Idempotency-Key, which returns the first outcome if it was";

impl DbConnection {
    /// Runs `f` in a write transaction. On SQLite it begins `IMMEDIATE`, taking the write lock
    /// up front: two deferred transactions that both read and then write would otherwise
    /// deadlock into "database is locked" instead of waiting for each other.
    pub fn write<T, E>(&mut self, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        // Inside a write already (a helper that writes, called from a write): a savepoint.
        let depth = <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(self)
            .transaction_depth()
            .map_err(E::from)?;
        if depth.is_some() {
            return self.transaction(f);
        }
        // SQLite writers of this process queue here instead of in SQLite's busy handler, which
        // polls with growing sleeps (tails of hundreds of milliseconds under steady writes).
        let _queued = matches!(self, DbConnection::Sqlite(_)).then(storage::sqlite_write_turn);
        match self {
            DbConnection::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
            DbConnection::Postgres(_) => <DbConnection as Connection>::TransactionManager::begin_transaction(self)?,
        }
        match f(self) {
            Ok(value) => match <DbConnection as Connection>::TransactionManager::commit_transaction(self) {
                Ok(()) => Ok(value),
                // The server may have stored the change before the connection went: say so.
                Err(error) if is_connection_lost(&error) => Err(E::from(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::ClosedConnection,
                    Box::new(COMMIT_UNKNOWN.to_owned()),
                ))),
                Err(error) => Err(E::from(error)),
            },
            Err(error) => {
                // The original error is what the caller needs; a failed rollback leaves the
                // connection marked broken and the pool discards it.
                let _ = <DbConnection as Connection>::TransactionManager::rollback_transaction(self);
                Err(error)
            }
        }
    }

    /// Cheap round trip, for `/readyz`.
    pub fn ping(&mut self) -> diesel::QueryResult<()> {
        diesel::sql_query("SELECT 1").execute(self).map(|_| ())
    }
}

/// The outcome of a compare-and-swap (`UPDATE … WHERE id = ? AND revision = ?`, or a delete
/// likewise): no row matched, so the resource changed since it was read (412; the transaction
/// rolls back).
pub fn expect_one(count: usize) -> crate::error::ApiResult<()> {
    match count {
        1 => Ok(()),
        0 => Err(crate::error::ApiError::PreconditionFailed),
        n => Err(crate::error::ApiError::Internal(format!("a compare-and-swap matched {n} rows"))),
    }
}

/// A stored enum value (`"decrease_by_percent"`) read back as its type.
pub fn stored<T: serde::de::DeserializeOwned>(text: &str) -> crate::error::ApiResult<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| crate::error::ApiError::Internal(format!("stored value {text:?}")))
}

/// An enum value as it is stored: its JSON name.
pub fn storable<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        other => panic!("only string-named enums are stored this way, not {other:?}"),
    }
}
