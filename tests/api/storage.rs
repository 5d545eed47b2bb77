//! Disk: a database with no room answers writes 507 and readiness 503, and recovers when room is
//! made; SQLite's write-ahead log is truncated even while readers never stop.
//!
//! The full database is SQLite's size cap (`BESKPLAN_SQLITE_MAX_SIZE_MB`), which fails writes with
//! the same `SQLITE_FULL` error as a full disk. PostgreSQL has no per-database cap to fill, so
//! these run on SQLite only; the PostgreSQL `disk_full` message is classified by a unit test.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use beskplan::db::{self, storage, DatabaseUrl};
use diesel::connection::SimpleConnection;
use serde_json::json;

use crate::common::{TestApp, TestDatabase};

#[actix_web::test]
async fn a_full_database_refuses_writes_with_507_and_readiness_says_so_until_room_is_made() {
    if TestDatabase::new().is_postgres() {
        return;
    }
    let app = TestApp::with_settings(|s| s.sqlite_max_size_mb = Some(2)).await;
    let plan = app.plan("185", 2017).await;
    let goals_path = format!("/api/v1/plans/{}/goals", plan["id"].as_str().unwrap());
    let description = "Flere borgere i job. ".repeat(2_000); // 42 KB, stored with its audit copy
    let mut created = Vec::new();
    let refused = loop {
        assert!(created.len() < 200, "a 2 MiB database never filled up");
        let response =
            app.post(&goals_path, &json!({"title": "Mål", "kind": "local", "description": description})).await;
        if response.status.as_u16() != 201 {
            break response;
        }
        created.push(response.json());
    };
    assert!(!created.is_empty(), "the cap left room for some goals");
    assert_eq!(refused.header("retry-after").as_deref(), Some("60"));
    let problem = refused.problem(507);
    assert_eq!(problem["type"], "/problems/storage-full");
    assert!(problem["detail"].as_str().unwrap().contains("nothing was stored"), "{problem}");

    // Nothing half-stored, reads still answer, readiness fails.
    let listed = app.get(&format!("{goals_path}?limit=500")).await.expect(200).json();
    assert_eq!(listed["total"], created.len());
    let not_ready = app.get("/readyz").await.problem(503);
    assert!(not_ready["detail"].as_str().unwrap().contains("size cap"), "{not_ready}");

    // Room made (the operator raises the cap; a freed disk looks the same): ready again at once,
    // and writes succeed.
    let app = app.reopen_with(|s| s.sqlite_max_size_mb = Some(4)).await;
    app.get("/readyz").await.expect(200);
    app.post(&goals_path, &json!({"title": "Mål efter oprydning", "kind": "local"})).await.expect(201);
}

/// Readers that overlap without pause keep SQLite's automatic checkpoint from ever starting the
/// log over; the truncating checkpoint waits them out.
#[test]
fn the_write_ahead_log_is_truncated_while_readers_overlap() {
    let database = TestDatabase::new();
    if database.is_postgres() {
        return;
    }
    let url = DatabaseUrl::parse(database.url());
    let statements = prometheus::IntCounter::new("statements", "SQL statements").unwrap();
    let pool = db::connect(&url, 4, statements, None).unwrap();
    pool.get()
        .unwrap()
        .batch_execute("CREATE TABLE filler (body TEXT NOT NULL); CREATE TABLE marker (n INTEGER)")
        .unwrap();

    // Two readers take turns so that one always holds a snapshot.
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|offset| {
            let (pool, stop) = (pool.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                std::thread::sleep(std::time::Duration::from_millis(offset * 5));
                while !stop.load(Ordering::Relaxed) {
                    conn.batch_execute("BEGIN; SELECT count(*) FROM marker;").unwrap();
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    conn.batch_execute("COMMIT").unwrap();
                }
            })
        })
        .collect();

    let mut writer = pool.get().unwrap();
    let row = "x".repeat(64 * 1024);
    for _ in 0..400 {
        writer.batch_execute(&format!("INSERT INTO filler (body) VALUES ('{row}')")).unwrap();
    }
    let grown = storage::wal_bytes(&url);
    assert!(grown > storage::WAL_TRUNCATE_BYTES, "the automatic checkpoint alone lets the log grow ({grown} bytes)");

    // The readers keep going while the checkpoint waits for each to move on.
    let result = (0..10)
        .map(|_| storage::checkpoint(&mut writer).unwrap().unwrap())
        .find(|result| result.busy == 0)
        .expect("a checkpoint got through within ten tries");
    assert_eq!(result.log, result.checkpointed, "every frame was copied into the database");
    let after = storage::wal_bytes(&url);
    stop.store(true, Ordering::Relaxed);
    readers.into_iter().for_each(|r| r.join().unwrap());
    assert!(after < grown / 10, "the log was cut back: {grown} → {after} bytes");
}
