//! Durability: the server is killed with SIGKILL in the middle of a write load and started again
//! on the same database; every write it acknowledged is there, and the database is consistent.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{TestDatabase, ADMIN_PASSWORD, JWT_SECRET};
use diesel::prelude::*;
use serde_json::{json, Value};

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(database: &TestDatabase) -> Server {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_beskplan"))
            .env("DATABASE_URL", database.url())
            .env("BESKPLAN_BIND", format!("127.0.0.1:{port}"))
            .env("BESKPLAN_JWT_SECRET", JWT_SECRET)
            .env("BESKPLAN_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server { child, base: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(60);
        while ureq::get(&format!("{}/readyz", server.base)).call().is_err() {
            assert!(Instant::now() < deadline, "the server did not become ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build()
}

fn token(base: &str) -> String {
    let response: Value = agent()
        .post(&format!("{base}/api/v1/auth/token"))
        .send_form(&[("grant_type", "password"), ("username", "admin"), ("password", ADMIN_PASSWORD)])
        .unwrap()
        .into_json()
        .unwrap();
    response["access_token"].as_str().unwrap().to_owned()
}

fn post(base: &str, token: &str, path: &str, body: Value) -> Result<Value, String> {
    match agent().post(&format!("{base}{path}")).set("authorization", &format!("Bearer {token}")).send_json(body) {
        Ok(response) => response.into_json().map_err(|e| e.to_string()),
        Err(error) => Err(error.to_string()),
    }
}

#[test]
fn acknowledged_writes_survive_a_kill() {
    let database = TestDatabase::new();
    let mut server = Server::start(&database);
    let base = server.base.clone();
    let token = token(&base);
    post(&base, &token, "/api/v1/municipalities", json!({"code": "849", "name": "Jammerbugt Kommune"})).unwrap();
    let plan = post(
        &base,
        &token,
        "/api/v1/plans",
        json!({"municipality": "849", "year": 2015, "title": "Beskæftigelsesplan 2015"}),
    )
    .unwrap();
    let plan_id = plan["id"].as_str().unwrap().to_owned();

    // Writers: goals and measurements, one at a time each, until the server is gone.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|writer| {
            let (base, token, plan_id, acknowledged, stop) = (base.clone(), token.clone(), plan_id.clone(), acknowledged.clone(), stop.clone());
            std::thread::spawn(move || {
                for i in 0..5000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let body = json!({"title": format!("Mål {writer}-{i}"), "kind": "local", "initiatives": ["x".repeat(200)]});
                    match post(&base, &token, &format!("/api/v1/plans/{plan_id}/goals"), body) {
                        Ok(goal) => acknowledged.lock().unwrap().push(goal["id"].as_str().unwrap().to_owned()),
                        Err(_) => break,
                    }
                }
            })
        })
        .collect();
    // Kill it mid-load, once a good number of writes have been acknowledged.
    let deadline = Instant::now() + Duration::from_secs(120);
    while acknowledged.lock().unwrap().len() < 150 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 150, "the load ran: {} writes acknowledged", acknowledged.len());

    // Start again on the same database: every acknowledged goal is there, with its audit record.
    let restarted = Server::start(&database);
    let token = self::token(&restarted.base);
    let goals: Value = agent()
        .get(&format!("{}/api/v1/plans/{plan_id}/goals?limit=500", restarted.base))
        .set("authorization", &format!("Bearer {token}"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    let stored: Vec<&str> = goals["items"].as_array().unwrap().iter().map(|g| g["id"].as_str().unwrap()).collect();
    let total = goals["total"].as_u64().unwrap() as usize;
    assert!(total >= acknowledged.len(), "{total} stored, {} acknowledged", acknowledged.len());
    if total <= 500 {
        for id in &acknowledged {
            assert!(stored.contains(&id.as_str()), "acknowledged goal {id} is missing");
        }
    }
    let positions: Vec<i64> =
        goals["items"].as_array().unwrap().iter().map(|g| g["position"].as_i64().unwrap()).collect();
    assert_eq!(positions, (0..positions.len() as i64).collect::<Vec<_>>(), "positions are whole");
    drop(restarted);

    // And the database itself is consistent.
    let pool = beskplan::db::connect(
        &beskplan::db::DatabaseUrl::parse(database.url()),
        1,
        prometheus::IntCounter::new("statements", "SQL statements").unwrap(),
        None,
    )
    .unwrap();
    let mut conn = pool.get().unwrap();
    #[derive(QueryableByName)]
    struct Text {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    if !database.is_postgres() {
        let check: Vec<Text> =
            diesel::sql_query("SELECT integrity_check AS value FROM pragma_integrity_check").load(&mut *conn).unwrap();
        assert_eq!(check.iter().map(|t| t.value.as_str()).collect::<Vec<_>>(), ["ok"]);
        let dangling: Vec<Text> =
            diesel::sql_query("SELECT \"table\" AS value FROM pragma_foreign_key_check").load(&mut *conn).unwrap();
        assert!(dangling.is_empty(), "foreign keys hold");
    }
    let audited: i64 = beskplan::db::schema::audit_log::table
        .filter(beskplan::db::schema::audit_log::entity_type.eq("goal"))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(audited as usize, total, "every stored goal has its audit record, and no record lacks its goal");
}
