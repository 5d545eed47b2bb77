//! Operations endpoints, documentation, the OpenAPI file, and problem+json for routing errors.

use crate::common::TestApp;
use actix_web::test::TestRequest;

#[actix_web::test]
async fn health_and_readiness() {
    let app = TestApp::new().await;
    let health = app.get("/healthz").await.expect(200);
    assert_eq!(health.json()["status"], "ok");
    assert!(health.header("x-request-id").is_some_and(|id| !id.is_empty()));
    assert_eq!(app.get("/readyz").await.expect(200).json()["status"], "ok");
}

#[actix_web::test]
async fn metrics_count_requests_by_route_pattern_and_status() {
    let app = TestApp::new().await;
    app.plan("185", 2017).await;
    app.get("/api/v1/plans/0193a4b2-7c1e-7d3a-9f00-1a2b3c4d5e6f").await.problem(404);
    let metrics = app.get("/metrics").await.expect(200).text();
    assert!(
        metrics.contains(r#"beskplan_http_requests_total{endpoint="/api/v1/plans",method="POST",status="201"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"beskplan_http_requests_total{endpoint="/api/v1/plans/{plan_id}",method="GET",status="404"} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains("beskplan_http_requests_duration_seconds_bucket"), "{metrics}");
}

#[actix_web::test]
async fn routing_errors_are_problems() {
    let app = TestApp::new().await;
    app.get("/nothing/here").await.problem(404);
    let response = app.call(TestRequest::delete().uri("/api/v1/plans")).await;
    assert_eq!(response.header("allow").as_deref(), Some("GET, HEAD, POST"));
    response.problem(405);
    let response = app.call(TestRequest::put().uri("/api/v1/plans/0193a4b2-7c1e-7d3a-9f00-1a2b3c4d5e6f")).await;
    assert_eq!(response.header("allow").as_deref(), Some("GET, HEAD, PATCH, DELETE"));
}

/// Query parameters an operation does not declare are refused alike on lists, items and
/// changes (a typo in a filter must not silently widen or narrow what is read or changed).
#[actix_web::test]
async fn undeclared_query_parameters_are_refused_everywhere() {
    let app = TestApp::new().await;
    let plan = app.plan("185", 2017).await;
    let id = plan["id"].as_str().unwrap();
    let etag = plan["etag"].as_str().unwrap();

    let problem = app.get(&format!("/api/v1/plans/{id}?expand=goals")).await.problem(400);
    assert_eq!(problem["detail"], "unknown query parameter `expand`: this operation takes no query parameters");
    let problem = app.get("/api/v1/plans?municipalty=185").await.problem(400);
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.starts_with("unknown query parameter `municipalty`: this operation takes only "), "{detail}");
    assert!(detail.contains("municipality") && detail.contains("limit"), "{detail}");
    app.patch(&format!("/api/v1/plans/{id}?force=1"), Some(etag), &serde_json::json!({"title": "T"}))
        .await
        .problem(400);
    app.delete(&format!("/api/v1/plans/{id}?force=1"), Some(etag)).await.problem(400);
    // HEAD is a GET without the body: the same rule.
    let head = app.call(TestRequest::default().method(actix_web::http::Method::HEAD).uri("/api/v1/plans?x=1")).await;
    assert_eq!(head.status, 400);

    // Declared parameters still pass, and nothing above changed the plan.
    app.get("/api/v1/plans?municipality=185&limit=5").await.expect(200);
    assert_eq!(app.get(&format!("/api/v1/plans/{id}")).await.expect(200).json()["etag"], plan["etag"]);
}

/// Each problem `type` URI resolves: a page for people, JSON for programs, and the list of all.
#[actix_web::test]
async fn problem_types_resolve_to_their_pages() {
    let app = TestApp::new().await;
    let problem = app.get("/api/v1/plans/0193a4b2-7c1e-7d3a-9f00-1a2b3c4d5e6f").await.problem(404);
    let page = app.get(problem["type"].as_str().unwrap()).await.expect(200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    let html = page.text();
    assert!(html.contains("<h1>Not found (404)</h1>") && html.contains("not revealed"), "{html}");

    let json = app
        .call(TestRequest::get().uri("/problems/precondition-failed").insert_header(("accept", "application/json")))
        .await;
    assert_eq!(json.status, 200);
    assert_eq!(json.json()["status"], 412);
    assert_eq!(json.json()["title"], "Precondition failed");
    // `q=0` refuses a type, however it ranks.
    let refused = app
        .call(
            TestRequest::get()
                .uri("/problems/conflict")
                .insert_header(("accept", "text/html;q=0, application/json;q=0.5")),
        )
        .await;
    assert!(refused.header("content-type").unwrap().starts_with("application/json"));
    let none = app.call(TestRequest::get().uri("/problems/conflict").insert_header(("accept", "text/html;q=0"))).await;
    assert_eq!(none.status, 406);

    let all = app.call(TestRequest::get().uri("/problems").insert_header(("accept", "application/json"))).await.json();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), beskplan::error::PROBLEM_TYPES.len());
    let description =
        serde_json::to_value(beskplan::api::openapi()).unwrap()["info"]["description"].as_str().unwrap().to_owned();
    for problem_type in all {
        let slug = problem_type["slug"].as_str().unwrap();
        app.get(&format!("/problems/{slug}")).await.expect(200);
        assert!(description.contains(&format!("`/problems/{slug}`")), "{slug} is not in the OpenAPI description");
    }
    app.get("/problems/no-such-thing").await.problem(404);
    // A bad token is no reason to refuse documentation.
    let page = app.call(TestRequest::get().uri("/problems").insert_header(("authorization", "Bearer nonsense"))).await;
    assert_eq!(page.status, 200);
}

#[actix_web::test]
async fn docs_page_works_offline() {
    let app = TestApp::new().await;
    let page = app.get("/docs/").await.expect(200).text();
    assert!(page.contains("swagger-ui"), "{page}");
    assert!(!page.contains("https://"), "the page must not load anything from the internet");
    let initializer = app.get("/docs/swagger-initializer.js").await.expect(200).text();
    assert!(initializer.contains(r#""validatorUrl": "none""#), "no online validator: {initializer}");
    let redirect = app.get("/docs").await.expect(308);
    assert_eq!(redirect.header("location").as_deref(), Some("/docs/"));
    let script = app.get("/docs/swagger-ui-bundle.js").await.expect(200);
    assert!(script.body.len() > 100_000, "the UI is served by the binary itself");
}

#[actix_web::test]
async fn served_openapi_document_is_the_committed_one() {
    let app = TestApp::new().await;
    let served = app.get("/openapi.json").await.expect(200).json();
    assert_eq!(served["openapi"].as_str().unwrap().get(..3), Some("3.1"));
    let generated: serde_json::Value = serde_json::to_value(beskplan::api::openapi()).unwrap();
    assert_eq!(served, generated);

    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(committed_path).unwrap_or_default();
    let fresh = beskplan::api::openapi().to_pretty_json().unwrap() + "\n";
    assert!(
        committed == fresh,
        "openapi/openapi.json is out of date with the code; refresh it with\n    cargo run -- openapi > openapi/openapi.json"
    );
}

#[actix_web::test]
async fn every_documented_operation_declares_its_problems() {
    let api = serde_json::to_value(beskplan::api::openapi()).unwrap();
    for (path, item) in api["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path}");
            if method != "get" {
                assert!(
                    responses.keys().any(|status| status.starts_with('4')),
                    "{method} {path} documents no client error"
                );
            }
        }
    }
}

#[actix_web::test]
async fn cors_allows_configured_origins_only() {
    let app = TestApp::with_settings(|s| s.cors_origins = vec!["https://plan.example".into()]).await;
    let preflight = app
        .call(
            TestRequest::default()
                .method(actix_web::http::Method::OPTIONS)
                .uri("/api/v1/plans")
                .insert_header(("origin", "https://plan.example"))
                .insert_header(("access-control-request-method", "PATCH")),
        )
        .await;
    assert!(preflight.status.is_success(), "{preflight:?}");
    assert_eq!(preflight.header("access-control-allow-origin").as_deref(), Some("https://plan.example"));

    let response = app.call(TestRequest::get().uri("/healthz").insert_header(("origin", "https://plan.example"))).await;
    let exposed = response.header("access-control-expose-headers").unwrap().to_lowercase();
    for name in ["etag", "location", "link", "retry-after", "www-authenticate", "idempotent-replayed", "x-request-id"] {
        assert!(exposed.contains(name), "{exposed}");
    }

    // A preflight from an origin that is not allowed is refused as a problem, like any error.
    let refused = app
        .call(
            TestRequest::default()
                .method(actix_web::http::Method::OPTIONS)
                .uri("/api/v1/plans")
                .insert_header(("origin", "https://elsewhere.example"))
                .insert_header(("access-control-request-method", "PATCH")),
        )
        .await;
    assert_eq!(refused.status, 400, "{refused:?}");
    assert_eq!(refused.header("content-type").as_deref(), Some("application/problem+json"));
    assert_eq!(refused.header("access-control-allow-origin"), None);
    assert!(refused.json()["detail"].as_str().is_some_and(|d| d.contains("rigin")), "{refused:?}");

    let plain = TestApp::new().await;
    let response =
        plain.call(TestRequest::get().uri("/healthz").insert_header(("origin", "https://plan.example"))).await;
    assert_eq!(response.header("access-control-allow-origin"), None);
}

/// The headers the middleware adds are declared where they come, so typed clients can read
/// them: `X-Request-Id` everywhere, `WWW-Authenticate` on 401, `Retry-After` on 429/503/507,
/// `Link` on pages of lists, `Idempotent-Replayed` where an `Idempotency-Key` is taken, and
/// `If-None-Match` on every operation that may answer 304.
#[actix_web::test]
async fn openapi_declares_the_headers_the_service_sends() {
    let api = serde_json::to_value(beskplan::api::openapi()).unwrap();
    let header_ref = |name: &str| serde_json::json!({"$ref": format!("#/components/headers/{name}")});
    for name in ["X-Request-Id", "WWW-Authenticate", "Retry-After", "Link", "Idempotent-Replayed", "ETag"] {
        assert!(api["components"]["headers"][name]["schema"].is_object(), "{name}");
    }
    let mut lists = 0;
    for (path, item) in api["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let headers_in: Vec<&str> = operation["parameters"]
                .as_array()
                .map(|ps| ps.iter().filter(|p| p["in"] == "header").filter_map(|p| p["name"].as_str()).collect())
                .unwrap_or_default();
            let responses = operation["responses"].as_object().unwrap();
            if responses.contains_key("304") {
                assert!(headers_in.contains(&"If-None-Match"), "{method} {path}");
            }
            for (status, response) in responses {
                let headers = &response["headers"];
                assert_eq!(headers["X-Request-Id"], header_ref("X-Request-Id"), "{method} {path} {status}");
                match status.as_str() {
                    "401" => assert_eq!(headers["WWW-Authenticate"], header_ref("WWW-Authenticate"), "{method} {path}"),
                    "429" | "503" | "507" => {
                        assert_eq!(headers["Retry-After"], header_ref("Retry-After"), "{method} {path} {status}")
                    }
                    _ => {}
                }
                if status.starts_with('2') && headers_in.contains(&"Idempotency-Key") {
                    assert_eq!(headers["Idempotent-Replayed"], header_ref("Idempotent-Replayed"), "{method} {path}");
                }
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                if schema.as_str().is_some_and(|s| s.starts_with("#/components/schemas/ListOf_")) {
                    assert_eq!(headers["Link"], header_ref("Link"), "{method} {path}");
                    lists += 1;
                }
            }
            if path.starts_with("/api/") {
                assert!(responses.contains_key("503"), "{method} {path}");
                assert_eq!(responses.contains_key("507"), method != "get", "{method} {path}");
            }
        }
    }
    assert!(lists >= 15, "{lists} lists");

    // A page's items refer to the item's schema: one model per resource in generated clients.
    for (name, schema) in api["components"]["schemas"].as_object().unwrap() {
        if let Some(item) = name.strip_prefix("ListOf_") {
            assert_eq!(schema["properties"]["items"]["items"]["$ref"], format!("#/components/schemas/{item}"));
        }
    }
    // A diff's field values are any JSON value, not objects.
    let change = &api["components"]["schemas"]["FieldChange"]["properties"];
    assert!(change["before"].get("type").is_none() && change["after"].get("type").is_none(), "{change}");
}

/// What the server really sends is what the contract declares, header by header.
#[actix_web::test]
async fn headers_sent_are_declared() {
    let app = TestApp::new().await;
    let plan = app.plan("185", 2017).await;
    let id = plan["id"].as_str().unwrap();
    let etag = plan["etag"].as_str().unwrap();
    let api = serde_json::to_value(beskplan::api::openapi()).unwrap();
    let watched = [
        "cache-control",
        "etag",
        "link",
        "location",
        "retry-after",
        "www-authenticate",
        "idempotent-replayed",
        "x-request-id",
    ];
    let cases: Vec<(&str, &str, TestRequest)> = vec![
        ("/api/v1/plans", "get", TestRequest::get().uri("/api/v1/plans?limit=1")),
        ("/api/v1/plans/{plan_id}", "get", TestRequest::get().uri(&format!("/api/v1/plans/{id}"))),
        (
            "/api/v1/plans/{plan_id}",
            "get",
            TestRequest::get().uri(&format!("/api/v1/plans/{id}")).insert_header(("if-none-match", etag)),
        ),
        (
            "/api/v1/municipalities",
            "get",
            TestRequest::get().uri("/api/v1/municipalities").insert_header(("authorization", "Bearer x")),
        ),
        ("/problems/{slug}", "get", TestRequest::get().uri("/problems/conflict")),
    ];
    for (template, method, request) in cases {
        let response = app.call(request).await;
        let declared = &api["paths"][template][method]["responses"][response.status.as_u16().to_string()]["headers"];
        assert!(declared.is_object(), "{method} {template} {}: no headers declared", response.status);
        let names: Vec<String> = declared.as_object().unwrap().keys().map(|k| k.to_lowercase()).collect();
        for header in watched {
            if response.header(header).is_some() {
                assert!(
                    names.iter().any(|n| n == header),
                    "{method} {template} {} sends {header} undeclared",
                    response.status
                );
            }
        }
    }
    // Every read varies by token, whatever set its Cache-Control.
    let summary_like = app.call(TestRequest::get().uri(&format!("/api/v1/plans/{id}/versions"))).await;
    assert!(summary_like.header("vary").is_some_and(|v| v.contains("Authorization")), "{summary_like:?}");
    let missing = app.call(TestRequest::get().uri("/api/v1/plans/0193a4b2-7c1e-7d3a-9f00-1a2b3c4d5e6f")).await;
    assert!(missing.header("vary").is_some_and(|v| v.contains("Authorization")));
    assert_eq!(missing.header("cache-control"), None, "errors are not marked cacheable");
}

/// `HEAD` on every documented `GET` answers what the `GET` answers (that the body is left out on
/// the wire is `limits::head_is_sent_without_its_body`).
#[actix_web::test]
async fn head_answers_every_get_route_like_get() {
    let app = TestApp::new().await;
    let plan = app.plan("185", 2017).await;
    let plan_id = plan["id"].as_str().unwrap().to_owned();
    app.post(&format!("/api/v1/plans/{plan_id}/versions"), &serde_json::json!({"label": "v1"})).await.expect(201);
    let api = serde_json::to_value(beskplan::api::openapi()).unwrap();
    let mut checked = 0;
    for (path, item) in api["paths"].as_object().unwrap() {
        if item.get("get").is_none() || path.starts_with("/docs") {
            continue;
        }
        // Real ids where the demo plan has them; a well-formed unknown id elsewhere (404 both ways).
        let uri = path
            .replace("{plan_id}", &plan_id)
            .replace("{n}", "1")
            .replace("{code}", "185")
            .split('{')
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part.to_owned()
                } else {
                    format!("0193a4b2-7c1e-7d3a-9f00-1a2b3c4d5e6f{}", &part[part.find('}').unwrap() + 1..])
                }
            })
            .collect::<String>();
        let get = app.call(TestRequest::get().uri(&uri)).await;
        let head = app.call(TestRequest::default().method(actix_web::http::Method::HEAD).uri(&uri)).await;
        assert_eq!(head.status, get.status, "HEAD {uri}");
        assert_eq!(head.header("content-type"), get.header("content-type"), "HEAD {uri}");
        assert_eq!(head.header("etag"), get.header("etag"), "HEAD {uri}");
        assert_eq!(head.body.len(), get.body.len(), "HEAD {uri}");
        checked += 1;
    }
    assert!(checked > 20, "only {checked} GET routes were found");
}

/// The characters a "not blank" pattern (`[^…]`: at least one character outside the class) leaves
/// out, read from the pattern itself: `\t`, `\r`, `\uXXXX`, plain characters and ranges `a-b`.
fn blank_class(pattern: &str) -> Vec<(char, char)> {
    let inner = pattern.strip_prefix("[^").and_then(|p| p.strip_suffix(']')).expect("a negated class");
    let mut chars = inner.chars().peekable();
    let one = |chars: &mut std::iter::Peekable<std::str::Chars>| -> char {
        match chars.next().unwrap() {
            '\\' => match chars.next().unwrap() {
                't' => '\t',
                'r' => '\r',
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap()
                }
                other => panic!("unexpected escape \\{other}"),
            },
            c => c,
        }
    };
    let mut ranges = Vec::new();
    while chars.peek().is_some() {
        let low = one(&mut chars);
        let high = if chars.peek() == Some(&'-') {
            chars.next();
            one(&mut chars)
        } else {
            low
        };
        ranges.push((low, high));
    }
    ranges
}

#[actix_web::test]
async fn openapi_states_the_field_rules_the_service_checks() {
    use beskplan::domain::validate::{is_blank, is_municipality_code};
    let api = serde_json::to_value(beskplan::api::openapi()).unwrap();
    let schemas = &api["components"]["schemas"];
    let field = |schema: &str, name: &str| schemas[schema]["properties"][name].clone();

    // "Not blank" is a pattern: some character that is neither white space nor invisible. It must
    // say exactly what `is_blank` says, for every character.
    let title = field("NewPlan", "title");
    let pattern = title["pattern"].as_str().unwrap();
    let blank = blank_class(pattern);
    for c in (0..=0x10FFFF).filter_map(char::from_u32) {
        let in_class = blank.iter().any(|&(low, high)| (low..=high).contains(&c));
        assert_eq!(in_class, is_blank(&c.to_string()), "U+{:04X}", c as u32);
    }
    // Every required text with a minimum length is held to it, in creates and merge patches alike.
    for (schema, name, max) in [
        ("NewPlan", "title", 300),
        ("PlanMergePatch", "title", 300),
        ("NewMunicipality", "name", 200),
        ("SectionFields", "heading", 300),
        ("GoalFields", "title", 1000),
        ("RequirementFields", "statement", 2000),
        ("FollowUpMeasureFields", "indicator", 1000),
        ("NewHearing", "title", 300),
        ("NewComment", "body", 50_000),
        ("NewResponse", "text", 50_000),
        ("NewVersion", "label", 200),
        ("NewDecision", "body", 200),
    ] {
        let property = field(schema, name);
        assert_eq!(property["pattern"], pattern, "{schema}.{name}");
        assert_eq!(property["minLength"], 1, "{schema}.{name}");
        assert_eq!(property["maxLength"], max, "{schema}.{name}");
    }

    // The numbers the code checks against.
    let year = field("NewPlan", "year");
    assert_eq!(year["minimum"], beskplan::api::plans::MIN_YEAR);
    assert_eq!(year["maximum"], beskplan::api::plans::MAX_YEAR);
    assert_eq!(field("PlanMergePatch", "year")["minimum"], year["minimum"]);
    assert_eq!(field("PlanMergePatch", "year")["maximum"], year["maximum"]);
    let min_password = beskplan::auth::passwords::MIN_PASSWORD_LENGTH;
    assert_eq!(field("NewUser", "password")["minLength"], min_password);
    assert_eq!(field("UserMergePatch", "password")["minLength"], min_password);

    // The kommunekode pattern says what `is_municipality_code` says.
    let code = field("NewMunicipality", "code");
    assert_eq!(code["pattern"], "^[0-9]{3}$");
    assert_eq!(field("NewPlan", "municipality")["pattern"], code["pattern"]);
    for (text, good) in [("185", true), ("18", false), ("1850", false), ("18a", false), ("١٨٥", false)] {
        assert_eq!(is_municipality_code(text), good, "{text}");
    }

    // Dates are `format: date`, times `format: date-time`, and every integer has a format.
    for (schema, name) in [
        ("NewMeasurement", "period_end"),
        ("Measurement", "period_end"),
        ("Baseline", "as_of"),
        ("Target", "due"),
        ("NewDecision", "meeting_date"),
        ("Decision", "meeting_date"),
    ] {
        assert_eq!(field(schema, name)["format"], "date", "{schema}.{name}");
    }
    for (schema, name) in [("NewHearing", "opens_at"), ("NewHearing", "closes_at"), ("HearingMergePatch", "closes_at")]
    {
        assert_eq!(field(schema, name)["format"], "date-time", "{schema}.{name}");
    }
    fn integers_have_formats(path: &str, value: &serde_json::Value) {
        match value {
            serde_json::Value::Object(object) => {
                let integer = match object.get("type") {
                    Some(serde_json::Value::String(t)) => t == "integer",
                    Some(serde_json::Value::Array(types)) => types.iter().any(|t| t == "integer"),
                    _ => false,
                };
                if integer {
                    let format = object.get("format").and_then(|f| f.as_str());
                    assert!(matches!(format, Some("int32" | "int64")), "{path} has no integer format");
                }
                object.iter().for_each(|(key, inner)| integers_have_formats(&format!("{path}/{key}"), inner));
            }
            serde_json::Value::Array(items) => {
                items.iter().enumerate().for_each(|(i, inner)| integers_have_formats(&format!("{path}/{i}"), inner))
            }
            _ => {}
        }
    }
    integers_have_formats("", &api);

    // Positions start at 0; a hearing invites at least one party.
    for schema in ["SectionFields", "FocusAreaFields", "GoalFields", "RequirementFields", "FollowUpMeasureFields"] {
        assert_eq!(field(schema, "position")["minimum"], 0, "{schema}");
    }
    assert_eq!(field("NewHearing", "parties")["minItems"], 1);
    // Lists have a most as the code counts it.
    let most = beskplan::domain::validate::MAX_MUNICIPALITIES;
    for (schema, name) in [
        ("NewPlan", "covers"),
        ("PlanMergePatch", "covers"),
        ("NewUser", "municipalities"),
        ("UserMergePatch", "municipalities"),
        ("NewClient", "municipalities"),
    ] {
        assert_eq!(field(schema, name)["maxItems"], most, "{schema}.{name}");
    }
    assert_eq!(field("NewHearing", "parties")["maxItems"], beskplan::api::hearings::MAX_PARTIES);
}
