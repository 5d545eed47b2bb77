//! Response compression: gzip and br by `Accept-Encoding` for bodies worth it, decoding to exactly
//! the uncompressed bytes; ETags that name the coding and still answer `If-None-Match` and
//! `If-Match`; small bodies, `HEAD` and 304 left uncompressed; and the same over a real socket.

use std::io::Read;

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::common::{Response, TestApp};
use crate::limits::Server;

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

fn decode(coding: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "gzip" => flate2::read::GzDecoder::new(bytes).read_to_end(&mut out),
        "br" => brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out),
        other => panic!("unexpected content coding {other}"),
    }
    .unwrap_or_else(|e| panic!("the {coding} body does not decode: {e}"));
    out
}

/// Whether `Vary` names `Accept-Encoding`.
fn varies(response: &Response) -> bool {
    response
        .headers
        .get_all("vary")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|name| name.trim().eq_ignore_ascii_case("accept-encoding"))
}

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut request = TestRequest::get().uri(path);
    for header in headers {
        request = request.insert_header(*header);
    }
    app.call(request).await
}

/// A plan with some content, frozen as version 1; returns the version's path.
async fn version(app: &TestApp) -> String {
    let plan = app.plan("185", 2027).await;
    let plan_path = format!("/api/v1/plans/{}", id(&plan));
    for i in 0..5 {
        app.post(&format!("{plan_path}/goals"), &json!({"title": format!("Mål {i}"), "kind": "local"}))
            .await
            .expect(201);
    }
    app.post(&format!("{plan_path}/versions"), &json!({"label": "Udkast"})).await.expect(201);
    format!("{plan_path}/versions/1")
}

#[actix_web::test]
async fn big_json_comes_in_the_accepted_coding_and_decodes_to_the_same_bytes() {
    let app = TestApp::new().await;
    let version = version(&app).await;
    for path in ["/openapi.json", version.as_str()] {
        let plain = get_with(&app, path, &[]).await.expect(200);
        assert!(plain.body.len() >= 1024, "{path} is only {} bytes", plain.body.len());
        assert_eq!(plain.header("content-encoding"), None, "{path}");
        assert!(varies(&plain), "{path}: an uncompressed answer that could have been compressed says Vary");
        for (accept, coding) in
            [("gzip", "gzip"), ("br", "br"), ("deflate, gzip, br, zstd", "br"), ("gzip;q=1, br;q=0.5", "gzip")]
        {
            let coded = get_with(&app, path, &[("accept-encoding", accept)]).await.expect(200);
            assert_eq!(coded.header("content-encoding").as_deref(), Some(coding), "{path}, {accept}");
            assert!(varies(&coded), "{path}, {accept}");
            assert!(coded.body.len() < plain.body.len() / 2, "{path}, {accept}: {} bytes", coded.body.len());
            assert_eq!(decode(coding, &coded.body), plain.body, "{path}, {accept}");
            assert_eq!(coded.header("content-type"), plain.header("content-type"), "{path}");
        }
    }
    // The stored version's ETag names the coding; its bytes are the same on every request.
    let plain = get_with(&app, &version, &[]).await.etag();
    let coded = get_with(&app, &version, &[("accept-encoding", "br")]).await;
    assert_eq!(coded.etag(), format!("{}-br\"", plain.trim_end_matches('"')));
    let again = get_with(&app, &version, &[("accept-encoding", "br")]).await;
    assert_eq!(again.body, coded.body);
}

#[actix_web::test]
async fn small_bodies_and_refused_codings_stay_uncompressed() {
    let app = TestApp::new().await;
    let healthz = get_with(&app, "/healthz", &[("accept-encoding", "gzip, br")]).await.expect(200);
    assert_eq!(healthz.header("content-encoding"), None);
    assert!(!varies(&healthz), "a body too small to compress does not vary");
    for accept in ["identity", "br;q=0, gzip;q=0", "zstd", ""] {
        let plain = get_with(&app, "/openapi.json", &[("accept-encoding", accept)]).await.expect(200);
        assert_eq!(plain.header("content-encoding"), None, "{accept:?}");
        serde_json::from_slice::<Value>(&plain.body).expect("plain JSON");
    }
}

#[actix_web::test]
async fn the_etag_received_in_a_coding_answers_304_and_lets_writes_through() {
    let app = TestApp::new().await;
    let version = version(&app).await;
    let plain = get_with(&app, &version, &[]).await.etag();
    let coded = get_with(&app, &version, &[("accept-encoding", "br")]).await.etag();
    // The tag the client holds comes back with the 304, as the 200 would have carried it.
    let not_modified =
        get_with(&app, &version, &[("accept-encoding", "br"), ("if-none-match", &coded)]).await.expect(304);
    assert_eq!(not_modified.etag(), coded);
    assert!(not_modified.body.is_empty());
    assert!(varies(&not_modified));
    let switched =
        get_with(&app, &version, &[("accept-encoding", "gzip"), ("if-none-match", &coded)]).await.expect(304);
    assert_eq!(switched.etag(), format!("{}-gzip\"", plain.trim_end_matches('"')));
    let dropped = get_with(&app, &version, &[("if-none-match", &coded)]).await.expect(304);
    assert_eq!(dropped.etag(), plain);
    let uncoded = get_with(&app, &version, &[("accept-encoding", "br"), ("if-none-match", &plain)]).await.expect(304);
    assert_eq!(uncoded.etag(), plain);

    // A resource compressed by the middleware: a section with a long body.
    let plan = app.plan("185", 2028).await;
    let section = app
        .post(
            &format!("/api/v1/plans/{}/sections", id(&plan)),
            &json!({"heading": "Indledning", "body": "Beskæftigelsesindsatsen i kommunen. ".repeat(100)}),
        )
        .await
        .expect(201)
        .json();
    let path = format!("/api/v1/sections/{}", id(&section));
    let coded = get_with(&app, &path, &[("accept-encoding", "gzip")]).await.expect(200);
    assert_eq!(coded.header("content-encoding").as_deref(), Some("gzip"));
    let body: Value = serde_json::from_slice(&decode("gzip", &coded.body)).unwrap();
    let in_body = body["etag"].as_str().unwrap().to_owned();
    assert_eq!(coded.etag(), format!("{}-gzip\"", in_body.trim_end_matches('"')));
    get_with(&app, &path, &[("accept-encoding", "gzip"), ("if-none-match", &coded.etag())]).await.expect(304);
    // Either tag lets a write through; a stale one is refused in either form.
    let patched = app.patch(&path, Some(&coded.etag()), &json!({"heading": "Indledning 2"})).await.expect(200).json();
    app.patch(&path, Some(&in_body), &json!({"heading": "Indledning 3"})).await.expect(412);
    app.patch(&path, Some(&coded.etag()), &json!({"heading": "Indledning 3"})).await.expect(412);
    app.patch(&path, Some(patched["etag"].as_str().unwrap()), &json!({"heading": "Indledning 3"})).await.expect(200);
}

#[actix_web::test]
async fn head_is_answered_uncompressed() {
    let app = TestApp::new().await;
    let version = version(&app).await;
    let plain = get_with(&app, &version, &[]).await;
    for path in ["/openapi.json", version.as_str()] {
        let head = app
            .call(
                TestRequest::default()
                    .method(actix_web::http::Method::HEAD)
                    .uri(path)
                    .insert_header(("accept-encoding", "br")),
            )
            .await
            .expect(200);
        assert_eq!(head.header("content-encoding"), None, "{path}");
        assert!(varies(&head), "{path}");
    }
    let head = app
        .call(
            TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri(&version)
                .insert_header(("accept-encoding", "gzip")),
        )
        .await;
    assert_eq!(head.etag(), plain.etag());
}

/// Through the real HTTP stack: the coded body is streamed (chunked) and decodes, and `HEAD`
/// gives the uncompressed length.
#[test]
fn over_a_real_socket() {
    let server = Server::start();
    let url = format!("http://127.0.0.1:{}/openapi.json", server.port);
    let read = |response: ureq::Response| {
        let mut bytes = Vec::new();
        response.into_reader().read_to_end(&mut bytes).unwrap();
        bytes
    };
    let plain = read(ureq::get(&url).call().unwrap());
    for coding in ["gzip", "br"] {
        let response = ureq::get(&url).set("Accept-Encoding", coding).call().unwrap();
        assert_eq!(response.header("content-encoding"), Some(coding));
        assert_eq!(decode(coding, &read(response)), plain);
    }
    let head = ureq::head(&url).set("Accept-Encoding", "br").call().unwrap();
    assert_eq!(head.header("content-encoding"), None);
    assert_eq!(head.header("content-length"), Some(plain.len().to_string().as_str()));
}
