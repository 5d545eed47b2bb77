//! Limits against hostile load: a slow request body is cut off with 408 (on a real socket, with
//! the built binary, since the deadline and connection handling live in the HTTP layer), login
//! usernames are bounded, actix's own errors are problems, and a CSV import with many errors
//! answers a bounded problem.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::common::{TestApp, TestDatabase, ADMIN_PASSWORD, JWT_SECRET};

/// The binary, serving on a loopback port of its own with a one-second body deadline (also used
/// by `compression`).
pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
    _database: TestDatabase,
}

impl Server {
    pub(crate) fn start() -> Server {
        let database = TestDatabase::new();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_beskplan"))
            .env("DATABASE_URL", database.url())
            .env("BESKPLAN_BIND", format!("127.0.0.1:{port}"))
            .env("BESKPLAN_JWT_SECRET", JWT_SECRET)
            .env("BESKPLAN_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("BESKPLAN_BODY_TIMEOUT_SECS", "1")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server { child, port, _database: database };
        let deadline = Instant::now() + Duration::from_secs(60);
        while ureq::get(&format!("http://127.0.0.1:{port}/readyz")).call().is_err() {
            assert!(Instant::now() < deadline, "the server did not become ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Sends `head` and `body_start`, then nothing more; returns everything the server sent
    /// until it closed the connection.
    fn send_and_stall(&self, head: &str, body_start: &[u8]) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        // Only a guard against a hanging test: the server's deadline is one second.
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body_start).unwrap();
        let mut received = Vec::new();
        // read_to_end returns only at EOF: the server closed the connection.
        stream.read_to_end(&mut received).expect("the server closes the connection");
        String::from_utf8(received).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[track_caller]
fn assert_request_timeout(answer: &str) {
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no response: {answer:?}"));
    assert!(head.starts_with("HTTP/1.1 408 "), "{answer}");
    let head = head.to_ascii_lowercase();
    assert!(head.contains("\r\ncontent-type: application/problem+json"), "{answer}");
    assert!(head.contains("\r\nconnection: close"), "{answer}");
    let problem: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(problem["type"], "/problems/request-timeout");
    assert_eq!(problem["status"], 408);
}

#[test]
fn a_slow_body_is_cut_off_with_408_and_the_connection_closed() {
    let server = Server::start();
    // The token endpoint needs no token: where ~21,000 such connections once piled up.
    let head = "POST /api/v1/auth/token HTTP/1.1\r\nHost: localhost\r\n\
                Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n";
    assert_request_timeout(&server.send_and_stall(head, b"g"));

    // A chunked body too: actix would otherwise read it to its end before closing.
    let head = "POST /api/v1/auth/token HTTP/1.1\r\nHost: localhost\r\n\
                Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_request_timeout(&server.send_and_stall(head, b"2\r\n{\"\r\n"));

    // With a token, through the idempotency guard (which reads the body first) and JSON.
    let token: Value = ureq::post(&format!("http://127.0.0.1:{}/api/v1/auth/token", server.port))
        .send_form(&[("grant_type", "password"), ("username", "admin"), ("password", ADMIN_PASSWORD)])
        .unwrap()
        .into_json()
        .unwrap();
    let token = token["access_token"].as_str().unwrap();
    for idempotency in ["", "Idempotency-Key: slow-1\r\n"] {
        let head = format!(
            "POST /api/v1/municipalities HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\n{idempotency}Content-Length: 100\r\n\r\n"
        );
        assert_request_timeout(&server.send_and_stall(&head, b"{\"code\": "));
    }

    // The server still serves.
    let response = ureq::get(&format!("http://127.0.0.1:{}/readyz", server.port)).call().unwrap();
    assert_eq!(response.status(), 200);
}

#[actix_web::test]
async fn login_usernames_are_bounded_and_refused_ones_are_not_counted() {
    let app = TestApp::new().await;
    let huge = "x".repeat(1_000_000);
    for _ in 0..8 {
        let problem = app
            .anonymous()
            .post("/api/v1/auth/token", &json!({"grant_type": "password", "username": huge, "password": "guess"}))
            .await
            .problem(400);
        assert!(problem["detail"].as_str().unwrap().contains("at most 255 bytes"), "{problem}");
    }
    let problem = app
        .anonymous()
        .post(
            "/api/v1/auth/token",
            &json!({"grant_type": "client_credentials", "client_id": "c".repeat(256), "client_secret": "guess"}),
        )
        .await
        .problem(400);
    assert!(problem["detail"].as_str().unwrap().starts_with("client_id"), "{problem}");
    // 255 bytes is still looked up (and wrong).
    app.anonymous()
        .post(
            "/api/v1/auth/token",
            &json!({"grant_type": "password", "username": "y".repeat(255), "password": "guess"}),
        )
        .await
        .problem(401);
    // Eight refused attempts did not use up the address's five failures.
    app.login("admin", ADMIN_PASSWORD).await;
}

#[actix_web::test]
async fn errors_actix_raises_itself_are_problems() {
    let app = TestApp::new().await;
    // The token endpoint reads raw bytes, so the body limit is actix's own error.
    let request = TestRequest::post()
        .uri("/api/v1/auth/token")
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(vec![b'a'; 2 * 1024 * 1024]);
    let problem = app.anonymous().call(request).await.problem(413);
    assert_eq!(problem["type"], "/problems/payload-too-large");
    // The documentation's file server answers a missing file with an empty 404.
    let problem = app.anonymous().get("/docs/no-such-file.js").await.problem(404);
    assert_eq!(problem["detail"], "no resource at /docs/no-such-file.js");
    // Successful answers of other types pass untouched.
    let page = app.anonymous().get("/docs/").await.expect(200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
}

#[actix_web::test]
async fn a_title_of_zero_width_spaces_is_blank() {
    let app = TestApp::new().await;
    app.municipality("185", "Tårnby Kommune").await;
    let problem = app
        .post(
            "/api/v1/plans",
            &json!({"municipality": "185", "year": 2017, "title": "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}"}),
        )
        .await
        .problem(422);
    assert_eq!(problem["errors"], json!([{"field": "title", "message": "must not be blank"}]));
    assert_eq!(problem["error_count"], 1);
}

#[actix_web::test]
async fn an_import_with_many_bad_rows_lists_the_first_hundred_and_counts_all() {
    let app = TestApp::new().await;
    app.municipality("849", "Jammerbugt Kommune").await;
    let planner = app.user_token("planner.jammerbugt", "planner", &["849"], None).await;
    let p = app.with_token(&planner);
    let plan =
        p.post("/api/v1/plans", &json!({"municipality": "849", "year": 2015, "title": "Plan 2015"})).await.expect(201);
    let plan_id = plan.json()["id"].as_str().unwrap().to_owned();
    let goal = p.post(&format!("/api/v1/plans/{plan_id}/goals"), &json!({"title": "Mål", "kind": "local"})).await;
    let goal_id = goal.expect(201).json()["id"].as_str().unwrap().to_owned();
    let requirement = json!({"statement": "Maksimalt 80 sager", "indicator": "Sager", "unit": "count",
                             "comparator": "at_most", "target": {"value": 80, "due": "2015-12-31"}});
    let requirement = p.post(&format!("/api/v1/goals/{goal_id}/requirements"), &requirement).await.expect(201);
    let requirement_id = requirement.json()["id"].as_str().unwrap().to_owned();

    let mut csv = String::from("kind,id,period_end,value\n");
    for _ in 0..5_000 {
        csv.push_str(&format!("requirement,{requirement_id},2015-01-31,many\n"));
    }
    let request = TestRequest::post()
        .uri(&format!("/api/v1/plans/{plan_id}/measurements:import"))
        .insert_header(("content-type", "text/csv"))
        .set_payload(csv);
    let response = p.call(request).await;
    let size = response.body.len();
    let problem = response.problem(422);
    assert_eq!(problem["error_count"], 5_000);
    let errors = problem["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 100);
    assert!(errors.iter().all(|e| e["field"].as_str().unwrap().ends_with("].value")), "{problem}");
    assert!(problem["detail"].as_str().unwrap().ends_with("; and 4990 more"), "{problem}");
    assert!(size < 20_000, "a {size}-byte problem");
    let report = p.get(&format!("/api/v1/requirements/{requirement_id}/measurements")).await.expect(200).json();
    assert_eq!(report["total"], 0, "nothing was imported");
}

/// On the wire a `HEAD` gets the `GET`'s status and headers, its length included, and no body.
#[test]
fn head_is_sent_without_its_body() {
    let server = Server::start();
    let ask = |method: &str| {
        server.send_and_stall(
            &format!("{method} /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
            b"",
        )
    };
    let (get_head, get_body) = ask("GET").split_once("\r\n\r\n").map(|(h, b)| (h.to_owned(), b.to_owned())).unwrap();
    let answer = ask("HEAD");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 "), "{answer}");
    assert_eq!(body, "", "no body after the headers");
    let length = format!("content-length: {}", get_body.len());
    assert!(head.to_ascii_lowercase().contains(&length), "{head} has {length} (as the GET: {get_head})");
}
