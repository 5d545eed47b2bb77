//! Tokens: the token endpoint, JWT verification and its attacks, users, service clients, /me.

use crate::common::{self, error_fields, TestApp, ADMIN_PASSWORD, JWT_SECRET};
use actix_web::test::TestRequest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use beskplan::auth::tokens::Claims;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

const IDP_PRIVATE_KEY: &[u8] = include_bytes!("../fixtures/test-idp-private.pem");
const IDP_PUBLIC_KEY: &str = include_str!("../fixtures/test-idp-public.pem");

fn claims(sub: &str, role: &str) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: sub.into(),
        role: role.into(),
        municipalities: vec!["185".into()],
        party: None,
        name: None,
        iss: "beskplan".into(),
        aud: json!("beskplan"),
        iat: now,
        exp: now + 600,
        nbf: None,
        jti: "test".into(),
    }
}

fn hs256(claims: &Claims, secret: &str) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

fn rs256(claims: &Claims) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &EncodingKey::from_rsa_pem(IDP_PRIVATE_KEY).unwrap())
        .unwrap()
}

/// The admin's id, to make tokens for a real, active user.
async fn admin_id(app: &TestApp) -> String {
    app.get("/api/v1/me").await.expect(200).json()["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn password_grant_as_form_and_as_json() {
    let app = TestApp::new().await;
    let form = app
        .anonymous()
        .call(
            TestRequest::post()
                .uri("/api/v1/auth/token")
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(format!("grant_type=password&username=admin&password={ADMIN_PASSWORD}")),
        )
        .await
        .expect(200);
    assert_eq!(form.header("cache-control").as_deref(), Some("no-store"));
    let body = form.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();

    // The token carries the contract's claims.
    let payload = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    for claim in ["sub", "role", "municipalities", "iss", "aud", "iat", "exp", "jti"] {
        assert!(claims.get(claim).is_some(), "missing {claim}: {claims}");
    }
    assert_eq!(claims["role"], "admin");
    assert_eq!(claims["iss"], "beskplan");

    let me = app.with_token(token).get("/api/v1/me").await.expect(200).json();
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["kind"], "user");

    let json_login = app.login("admin", ADMIN_PASSWORD).await;
    app.with_token(&json_login).get("/api/v1/me").await.expect(200);
}

#[actix_web::test]
async fn wrong_credentials_answer_alike_and_repeated_failures_are_refused() {
    let app = TestApp::new().await;
    let anonymous = app.anonymous();
    let attempt = |username: &'static str, password: &'static str| {
        let anonymous = &anonymous;
        async move {
            anonymous
                .post(
                    "/api/v1/auth/token",
                    &json!({"grant_type": "password", "username": username, "password": password}),
                )
                .await
        }
    };
    let wrong_password = attempt("admin", "not-the-password").await;
    assert_eq!(wrong_password.header("www-authenticate").as_deref(), Some("Bearer realm=\"beskplan\""));
    let wrong_password = wrong_password.problem(401);
    let unknown_user = attempt("nobody", "not-the-password").await.problem(401);
    assert_eq!(wrong_password, unknown_user, "the same answer whether the user exists or not");

    for _ in 0..3 {
        attempt("admin", "still-wrong").await.problem(401);
    }
    // Five failures from this address: the next attempt is refused, even with the right password.
    let refused = attempt("admin", ADMIN_PASSWORD).await;
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(retry_after > 0 && retry_after <= 15 * 60);
    refused.problem(429);
}

#[actix_web::test]
async fn malformed_token_requests() {
    let app = TestApp::new().await;
    let anonymous = app.anonymous();
    anonymous.post("/api/v1/auth/token", &json!({"grant_type": "implicit"})).await.problem(400);
    anonymous.post("/api/v1/auth/token", &json!({"grant_type": "password", "username": "admin"})).await.problem(400);
    anonymous.post("/api/v1/auth/token", &json!({"grant_type": "client_credentials"})).await.problem(400);
    anonymous.post("/api/v1/auth/token", &json!({"username": "admin"})).await.problem(400);
    anonymous
        .call(
            TestRequest::post()
                .uri("/api/v1/auth/token")
                .insert_header(("content-type", "text/plain"))
                .set_payload("x"),
        )
        .await
        .problem(415);
    anonymous
        .call(
            TestRequest::post()
                .uri("/api/v1/auth/token")
                .insert_header(("content-type", "application/json"))
                .set_payload("{\"grant_type\": "),
        )
        .await
        .problem(400);
}

#[actix_web::test]
async fn protected_routes_refuse_missing_and_bad_tokens() {
    let app = TestApp::new().await;
    let id = admin_id(&app).await;
    let good = claims(&id, "admin");
    let now = chrono::Utc::now().timestamp();

    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let none_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&good).unwrap());
    let alg_none = format!("{none_header}.{none_payload}.");
    let lowercase_none = format!("{}.{none_payload}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"None"}"#));
    let cases: Vec<(&str, String)> = vec![
        ("garbage", "not-a-jwt".into()),
        ("three dots of nothing", "..".into()),
        ("alg none", alg_none),
        ("alg None", lowercase_none),
        ("wrong key", hs256(&good, "another-secret-of-sufficient-length")),
        ("wrong issuer", hs256(&Claims { iss: "someone-else".into(), ..good.clone() }, JWT_SECRET)),
        ("wrong audience", hs256(&Claims { aud: json!("another-api"), ..good.clone() }, JWT_SECRET)),
        ("expired", hs256(&Claims { iat: now - 7200, exp: now - 3600, ..good.clone() }, JWT_SECRET)),
        ("not yet valid", hs256(&Claims { nbf: Some(now + 3600), ..good.clone() }, JWT_SECRET)),
        ("unknown user", hs256(&claims("0193a4b2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "admin"), JWT_SECRET)),
        ("RS256 without a configured key", rs256(&good)),
        ("tampered payload", {
            let token = hs256(&Claims { role: "viewer".into(), ..good.clone() }, JWT_SECRET);
            let parts: Vec<&str> = token.split('.').collect();
            format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(serde_json::to_vec(&good).unwrap()), parts[2])
        }),
    ];
    for (what, token) in cases {
        let response = app.with_token(&token).get("/api/v1/me").await;
        assert_eq!(response.status, 401, "{what}: {}", response.text());
        assert!(response.header("www-authenticate").is_some_and(|v| v.starts_with("Bearer")), "{what}");
        response.problem(401);
        // A bad token is never taken as anonymous, not even where anonymous callers may read.
        assert_eq!(app.with_token(&token).get("/api/v1/plans").await.status, 401, "{what}");
    }

    app.anonymous().get("/api/v1/me").await.problem(401);
    for header in ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer ", "Token abc"] {
        let response =
            app.anonymous().call(TestRequest::get().uri("/api/v1/me").insert_header(("authorization", header))).await;
        assert_eq!(response.status, 401, "{header}");
    }
    // The untouched token works.
    app.with_token(&hs256(&good, JWT_SECRET)).get("/api/v1/me").await.expect(200);
}

#[actix_web::test]
async fn public_paths_ignore_a_stale_token() {
    let app = TestApp::new().await;
    let stale = hs256(&claims("gone", "admin"), "another-secret-of-sufficient-length");
    let client = app.with_token(&stale);
    for path in ["/healthz", "/readyz", "/openapi.json", "/docs/", "/metrics"] {
        assert_eq!(client.get(path).await.status, 200, "{path}");
    }
    let login = json!({"grant_type": "password", "username": "admin", "password": ADMIN_PASSWORD});
    client.post("/api/v1/auth/token", &login).await.expect(200);
    client.get("/api/v1/plans").await.problem(401);
}

#[actix_web::test]
async fn client_credentials_by_http_basic_authentication() {
    let app = TestApp::new().await;
    app.municipality("849", "Jammerbugt Kommune").await;
    let created = app
        .post("/api/v1/clients", &json!({"name": "Import", "role": "viewer", "municipalities": ["849"]}))
        .await
        .expect(201)
        .json();
    let (id, secret) = (created["client_id"].as_str().unwrap(), created["client_secret"].as_str().unwrap());
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let request = |authorization: String| {
        TestRequest::post()
            .uri("/api/v1/auth/token")
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .insert_header(("authorization", authorization))
            .set_payload("grant_type=client_credentials")
    };
    app.anonymous().call(request(format!("Basic {basic}"))).await.expect(200);
    let wrong = base64::engine::general_purpose::STANDARD.encode(format!("{id}:wrong"));
    app.anonymous().call(request(format!("Basic {wrong}"))).await.problem(401);
    app.anonymous().call(request("Basic !!!".into())).await.problem(400);
}

#[actix_web::test]
async fn a_short_jwt_secret_is_refused_at_start() {
    let database = common::TestDatabase::new();
    let mut settings = common::test_settings(&database);
    settings.jwt_secret = Some("changeme".into());
    let error = beskplan::AppState::new(settings).err().expect("refused");
    assert!(error.contains("32 bytes"), "{error}");
}

#[actix_web::test]
async fn external_identity_provider_tokens_are_verified_with_its_public_key() {
    let app = TestApp::with_settings(|s| s.jwt_public_key = Some(IDP_PUBLIC_KEY.into())).await;
    app.municipality("185", "Tårnby Kommune").await;
    let external = Claims { name: Some("k.hansen@taarnby.dk".into()), ..claims("idp|4711", "planner") };
    let token = rs256(&external);
    let me = app.with_token(&token).get("/api/v1/me").await.expect(200).json();
    assert_eq!(me["kind"], "external");
    assert_eq!(me["role"], "planner");
    assert_eq!(me["municipalities"], json!(["185"]));
    assert_eq!(me["username"], "external:idp|4711", "never mistaken for a local username");
    assert_eq!(me["display_name"], "k.hansen@taarnby.dk");
    // It acts with its claims: a planner of 185 creates a plan there.
    app.with_token(&token)
        .post("/api/v1/plans", &json!({"municipality": "185", "year": 2017, "title": "Beskæftigelsesplan 2017"}))
        .await
        .expect(201);
    let audit = app.get("/api/v1/audit?entity_type=plan").await.expect(200).json();
    assert_eq!(audit["items"][0]["actor"], "external:idp|4711");

    // An external token naming a local user's id is still external: it does not become that user.
    let admin = admin_id(&app).await;
    let impostor = rs256(&Claims { name: Some("admin".into()), ..claims(&admin, "viewer") });
    let me = app.with_token(&impostor).get("/api/v1/me").await.expect(200).json();
    assert_eq!(me["kind"], "external");
    assert_eq!(me["role"], "viewer");
    // Identity providers may send the audience as an array.
    let array_audience = rs256(&Claims { aud: json!(["beskplan", "other"]), ..external.clone() });
    app.with_token(&array_audience).get("/api/v1/me").await.expect(200);

    let forged_role = rs256(&claims("idp|4711", "overlord"));
    app.with_token(&forged_role).get("/api/v1/me").await.problem(401);
    let wrong_audience = rs256(&Claims { aud: json!("elsewhere"), ..external.clone() });
    app.with_token(&wrong_audience).get("/api/v1/me").await.problem(401);
    // Algorithm confusion: the public key can verify but not sign, so an HS256 token "signed" with
    // it as the HMAC secret is refused where RS256 tokens are accepted.
    app.with_token(&hs256(&external, IDP_PUBLIC_KEY)).get("/api/v1/me").await.problem(401);
}

#[actix_web::test]
async fn deactivation_and_role_changes_apply_to_existing_tokens_at_once() {
    let app = TestApp::new().await;
    app.municipality("185", "Tårnby Kommune").await;
    let token = app.user_token("viewer.taarnby", "viewer", &["185"], None).await;
    let me = app.with_token(&token).get("/api/v1/me").await.expect(200).json();
    let path = format!("/api/v1/users/{}", me["id"].as_str().unwrap());

    let promoted = app.patch(&path, Some("*"), &json!({"role": "planner"})).await.expect(200).json();
    assert_eq!(promoted["role"], "planner");
    assert_eq!(app.with_token(&token).get("/api/v1/me").await.expect(200).json()["role"], "planner");

    app.delete(&path, None).await.problem(428);
    app.delete(&path, Some("*")).await.expect(204);
    let response = app.with_token(&token).get("/api/v1/me").await;
    assert!(response.header("www-authenticate").is_some());
    response.problem(401);
    let user = app.get(&path).await.expect(200).json();
    assert_eq!(user["active"], false, "deactivated, not deleted");
    app.anonymous()
        .post(
            "/api/v1/auth/token",
            &json!({"grant_type": "password", "username": "viewer.taarnby", "password": "a-long-enough-password"}),
        )
        .await
        .problem(401);
    // Reactivation is a patch.
    app.patch(&path, Some("*"), &json!({"active": true})).await.expect(200);
    app.with_token(&token).get("/api/v1/me").await.expect(200);
}

#[actix_web::test]
async fn users_are_validated_and_never_show_a_password() {
    let app = TestApp::new().await;
    app.municipality("173", "Lyngby-Taarbæk Kommune").await;
    let created = app
        .post(
            "/api/v1/users",
            &json!({"username": "handicapraadet.ltk", "display_name": "Handicaprådet, Lyngby-Taarbæk", "role": "consultee",
                    "municipalities": ["173"], "party": "Handicaprådet", "password": "Høringssvar-2018-11-21"}),
        )
        .await
        .expect(201);
    assert!(created.header("location").unwrap().starts_with("/api/v1/users/"));
    let user = created.json();
    assert_eq!(user["party"], "Handicaprådet");
    assert_eq!(user["display_name"], "Handicaprådet, Lyngby-Taarbæk");
    assert!(user.get("password").is_none() && user.get("password_hash").is_none(), "{user}");
    let text = app.get("/api/v1/users").await.expect(200).text();
    assert!(!text.contains("argon2") && !text.contains("Høringssvar-2018"), "{text}");

    let token = app.login("handicapraadet.ltk", "Høringssvar-2018-11-21").await;
    let me = app.with_token(&token).get("/api/v1/me").await.expect(200).json();
    assert_eq!(me["party"], "Handicaprådet");

    app.post(
        "/api/v1/users",
        &json!({"username": "handicapraadet.ltk", "role": "viewer", "municipalities": ["173"], "password": "long-enough-password"}),
    )
    .await
    .problem(409);
    let problem = app
        .post(
            "/api/v1/users",
            &json!({"username": "x y", "role": "consultee", "municipalities": ["999", "1"], "password": "short"}),
        )
        .await
        .problem(422);
    assert_eq!(error_fields(&problem), ["username", "password", "municipalities[0]", "municipalities[1]", "party"]);
    let problem = app
        .post(
            "/api/v1/users",
            &json!({"username": "planner", "role": "planner", "party": "RAR", "password": "long-enough-password"}),
        )
        .await
        .problem(422);
    assert_eq!(error_fields(&problem), ["municipalities", "party"]);
    app.post("/api/v1/users", &json!({"username": "x", "role": "superuser", "password": "long-enough-password"}))
        .await
        .problem(400);

    // A new password through a patch works; the patch never echoes it.
    let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
    let patched =
        app.patch(&path, Some(user["etag"].as_str().unwrap()), &json!({"password": "Et-nyt-kodeord-2019"})).await;
    assert!(!patched.text().contains("Et-nyt-kodeord"));
    patched.expect(200);
    app.login("handicapraadet.ltk", "Et-nyt-kodeord-2019").await;
    app.patch(&path, Some("*"), &json!({"username": "renamed"})).await.problem(422);
}

#[actix_web::test]
async fn an_admin_cannot_lock_itself_out() {
    let app = TestApp::new().await;
    app.municipality("185", "Tårnby Kommune").await;
    let path = format!("/api/v1/users/{}", admin_id(&app).await);
    app.delete(&path, Some("*")).await.problem(409);
    app.patch(&path, Some("*"), &json!({"role": "viewer", "municipalities": ["185"]})).await.problem(409);
    app.patch(&path, Some("*"), &json!({"active": false})).await.problem(409);
    app.get("/api/v1/me").await.expect(200);
}

#[actix_web::test]
async fn service_clients_get_a_secret_once_and_tokens_by_client_credentials() {
    let app = TestApp::new().await;
    app.municipality("849", "Jammerbugt Kommune").await;
    let created = app
        .post("/api/v1/clients", &json!({"name": "Jobindsats-import", "role": "planner", "municipalities": ["849"]}))
        .await
        .expect(201)
        .json();
    let client_id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 32);
    let listed = app.get("/api/v1/clients").await.expect(200);
    assert!(!listed.text().contains(&secret), "the secret is shown only once");
    assert_eq!(listed.json()["items"][0]["client_id"], client_id);

    let token_request = format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}");
    let token = app
        .anonymous()
        .call(
            TestRequest::post()
                .uri("/api/v1/auth/token")
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(token_request.clone()),
        )
        .await
        .expect(200)
        .json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = app.with_token(&token).get("/api/v1/me").await.expect(200).json();
    assert_eq!(me["kind"], "client");
    assert_eq!(me["role"], "planner");
    assert_eq!(me["username"], client_id);
    app.with_token(&token)
        .post("/api/v1/plans", &json!({"municipality": "849", "year": 2015, "title": "Beskæftigelsesplan 2015"}))
        .await
        .expect(201);

    let issued = app.get(&format!("/api/v1/audit?action=token_issued&entity_id={client_id}")).await;
    issued.problem(400); // `action` is not a filter of the audit log
    let audit = app.get(&format!("/api/v1/audit?entity_type=client&entity_id={client_id}")).await.expect(200).json();
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["token_issued", "create"]);

    app.anonymous()
        .post(
            "/api/v1/auth/token",
            &json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": "wrong"}),
        )
        .await
        .problem(401);
    app.delete(&format!("/api/v1/clients/{client_id}"), Some("*")).await.expect(204);
    app.with_token(&token).get("/api/v1/me").await.problem(401);
}

#[actix_web::test]
async fn the_first_start_creates_the_admin_once() {
    let app = TestApp::new().await;
    let users = app.get("/api/v1/users").await.expect(200).json();
    assert_eq!(users["total"], 1);
    assert_eq!(users["items"][0]["username"], "admin");
    let again = app.reopen().await;
    assert_eq!(again.get("/api/v1/users").await.expect(200).json()["total"], 1);
    let audit = app.get("/api/v1/audit?actor=system").await.expect(200).json();
    assert_eq!(audit["items"][0]["entity_type"], "user");
}

#[actix_web::test]
async fn user_create_on_the_command_line_reads_the_password_from_stdin() {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let app = TestApp::new().await;
    app.municipality("201", "Allerød Kommune").await;
    let run = |args: &[&str], password: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_beskplan"))
            .args(args)
            .env("DATABASE_URL", app.database.url())
            .env("BESKPLAN_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    let output = run(
        &["user", "create", "--username", "godkender", "--role", "approver", "--municipality", "201"],
        "Byrådet-2016-godkendt",
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("created user godkender"));
    let token = app.login("godkender", "Byrådet-2016-godkendt").await;
    let me = app.with_token(&token).get("/api/v1/me").await.expect(200).json();
    assert_eq!(me["role"], "approver");
    assert_eq!(me["municipalities"], json!(["201"]));

    let refused = run(&["user", "create", "--username", "x", "--role", "planner"], "short");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("password") && stderr.contains("municipalities"), "{stderr}");
}
