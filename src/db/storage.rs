//! Disk: keeping SQLite's write-ahead log bounded, and knowing when storage is full.
//!
//! SQLite's automatic checkpoint copies the log into the database but can only start the log
//! over when no reader still uses it; under steady reads that never happens and the log grows
//! without end (1.37 GB beside a 93 MB database in a soak). `checkpoint`, which the server runs
//! once the log passes `WAL_TRUNCATE_BYTES` (`keep_wal_bounded` in `lib.rs`), waits briefly for the
//! readers to move on and truncates the log.
//!
//! A full disk (or the configured size cap) makes writes fail; they answer 507 and readiness
//! says so until space is back.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Integer};
use diesel::RunQueryDsl;

use super::{unix_now, DatabaseUrl, DbConnection};

/// The log is truncated once it is larger than this (four times what the automatic checkpoint
/// lets it reach while readers do not hold it back).
pub const WAL_TRUNCATE_BYTES: u64 = 16 * 1024 * 1024;
/// How often the log's size is looked at (a file-size check; the checkpoint runs only when due).
pub const WAL_CHECK_INTERVAL: Duration = Duration::from_millis(250);
/// How long a truncating checkpoint waits for readers (writers wait meanwhile, for their turn);
/// if they are not done by then it gives up and the next check tries again.
const CHECKPOINT_WAIT_MS: u32 = 500;
/// The busy timeout every SQLite connection has otherwise (`Manager::open`).
pub(super) const BUSY_TIMEOUT_MS: u32 = 5000;
/// A log that was started over is cut back to this size on disk.
pub(super) const JOURNAL_SIZE_LIMIT_BYTES: u64 = 4 * 1024 * 1024;
/// Readiness fails when the SQLite file's disk has less free space than this.
pub const MIN_FREE_BYTES: u64 = 16 * 1024 * 1024;
/// Readiness fails when the SQLite database is closer than this to its size cap: room for at
/// least one request of the largest body (the default body limit).
pub const MIN_ROOM_UNDER_CAP_BYTES: u64 = 1024 * 1024;
/// How long a write refused for lack of space makes readiness fail on PostgreSQL, whose disk
/// this process cannot look at.
const FULL_FOR: Duration = Duration::from_secs(30);

/// The write-ahead log's file.
pub fn wal_path(database: &str) -> String {
    format!("{database}-wal")
}

/// The size of the database's write-ahead log in bytes (0 when there is none).
pub fn wal_bytes(url: &DatabaseUrl) -> u64 {
    match url {
        DatabaseUrl::Sqlite(path) => std::fs::metadata(wal_path(path)).map_or(0, |m| m.len()),
        DatabaseUrl::Postgres(_) => 0,
    }
}

#[derive(Debug, diesel::QueryableByName)]
pub struct CheckpointResult {
    /// 1 when readers (or a writer) did not finish in time and the log was not truncated.
    #[diesel(sql_type = Integer)]
    pub busy: i32,
    /// Frames in the log before, and frames copied into the database.
    #[diesel(sql_type = Integer)]
    pub log: i32,
    #[diesel(sql_type = Integer)]
    pub checkpointed: i32,
}

/// Copies the whole log into the database and truncates it, waiting at most
/// `CHECKPOINT_WAIT_MS` for readers. On PostgreSQL: nothing to do.
pub fn checkpoint(conn: &mut DbConnection) -> diesel::QueryResult<Option<CheckpointResult>> {
    if !matches!(conn, DbConnection::Sqlite(_)) {
        return Ok(None);
    }
    // With the writers' turn it waits for readers only, never loses the write lock to a writer.
    let _turn = sqlite_write_turn();
    conn.batch_execute(&format!("PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}"))?;
    let result = diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").get_result::<CheckpointResult>(conn);
    conn.batch_execute(&format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"))?;
    result.map(Some)
}

/// The turn to write to SQLite, one at a time in this process (`DbConnection::write` and the
/// checkpoint take it). One for all SQLite databases of the process: a server has one, and
/// SQLite allows one writer per database anyway. Other processes on the same file still wait in
/// SQLite's busy handler.
static SQLITE_WRITER: Mutex<()> = Mutex::new(());

pub fn sqlite_write_turn() -> MutexGuard<'static, ()> {
    // A writer that panicked rolled back (its connection is discarded): the turn is still good.
    SQLITE_WRITER.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Unix second until which storage counts as full after a write was refused for lack of space.
static FULL_UNTIL: AtomicU64 = AtomicU64::new(0);

/// Whether a database error means there is no room to store the change: SQLite's
/// `SQLITE_FULL` (a full disk or the size cap) or PostgreSQL's `disk_full`.
pub fn is_storage_full(message: &str) -> bool {
    ["database or disk is full", "No space left on device", "could not extend file"]
        .iter()
        .any(|sign| message.contains(sign))
}

pub fn note_storage_full() {
    FULL_UNTIL.store(unix_now() + FULL_FOR.as_secs(), Ordering::Relaxed);
}

/// Why the database cannot take writes now, if it cannot: for SQLite from the disk's free space
/// and the size cap (so readiness recovers by itself when space is freed), for PostgreSQL from
/// a write refused in the last `FULL_FOR`.
pub fn storage_problem(conn: &mut DbConnection, url: &DatabaseUrl) -> diesel::QueryResult<Option<String>> {
    match url {
        DatabaseUrl::Sqlite(path) => {
            let folder = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            if let Some(free) = free_bytes(folder) {
                if free < MIN_FREE_BYTES {
                    return Ok(Some(format!("the database's disk has only {free} bytes free")));
                }
            }
            #[derive(diesel::QueryableByName)]
            struct Room {
                #[diesel(sql_type = BigInt)]
                bytes: i64,
            }
            // Pages left under the cap, counting freed pages that writes reuse.
            let room = diesel::sql_query(
                "SELECT (m.max_page_count - p.page_count + f.freelist_count) * s.page_size AS bytes \
                 FROM pragma_page_count() p, pragma_max_page_count() m, pragma_freelist_count() f, \
                 pragma_page_size() s",
            )
            .get_result::<Room>(conn)?;
            if u64::try_from(room.bytes).unwrap_or(0) < MIN_ROOM_UNDER_CAP_BYTES {
                return Ok(Some(format!(
                    "the database is within {} bytes of its size cap (BESKPLAN_SQLITE_MAX_SIZE_MB)",
                    room.bytes.max(0)
                )));
            }
            Ok(None)
        }
        DatabaseUrl::Postgres(_) => Ok((FULL_UNTIL.load(Ordering::Relaxed) > unix_now())
            .then(|| "a write was refused in the last seconds because the database server's disk is full".into())),
    }
}

/// Free bytes for an unprivileged writer on the file system holding `folder`.
fn free_bytes(folder: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::CString::new(folder.as_os_str().as_bytes()).ok()?;
    let mut stats = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `name` is a NUL-terminated path and `stats` is written in full on success.
    let stats = unsafe {
        if libc::statvfs(name.as_ptr(), stats.as_mut_ptr()) != 0 {
            return None;
        }
        stats.assume_init()
    };
    Some(stats.f_bavail as u64 * stats.f_frsize as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_full_messages_of_both_backends() {
        assert!(is_storage_full("database or disk is full"));
        assert!(is_storage_full("could not extend file \"base/16384/16385\": No space left on device"));
        assert!(!is_storage_full("database is locked"));
    }

    #[test]
    fn the_current_folder_has_free_space() {
        assert!(free_bytes(Path::new(".")).is_some_and(|b| b > 0));
        assert_eq!(free_bytes(Path::new("/no/such/folder")), None);
    }
}
