//! What many operations share in the OpenAPI description: the problem responses of each kind of
//! operation, the conditional and idempotency headers, and the response headers every answer of
//! a kind carries. An operation names these sets instead
//! of repeating the list, e.g. `responses((status = 200, body = Goal), ItemProblems)`.

use std::collections::BTreeMap;

use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Required, Response, ResponseBuilder};
use utoipa::{IntoParams, IntoResponses};

/// One problem+json response per listed status.
fn problems(list: &[(u16, &str)]) -> BTreeMap<String, RefOr<Response>> {
    list.iter()
        .map(|(status, description)| {
            let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
            let response =
                ResponseBuilder::new().description(*description).content("application/problem+json", content);
            (status.to_string(), RefOr::T(response.build()))
        })
        .collect()
}

macro_rules! problem_set {
    ($(#[$doc:meta])* $name:ident { $($status:literal => $description:literal),* $(,)? }) => {
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                problems(&[$(($status, $description)),*])
            }
        }
    };
}

problem_set!(
    /// A public read of one resource.
    ItemProblems {
        401 => "Bad or expired token (without a token the caller is anonymous)",
        404 => "No such resource, or not visible to the caller",
    }
);

problem_set!(
    /// A public read of a list that belongs to a parent resource.
    ListProblems {
        400 => "Malformed query",
        401 => "Bad or expired token (without a token the caller is anonymous)",
        404 => "No such parent resource, or not visible to the caller",
        422 => "Limit or offset out of range",
    }
);

problem_set!(
    /// A create under a parent resource (POST with a JSON body).
    CreateProblems {
        400 => "Malformed body or Idempotency-Key",
        401 => "No or bad token",
        403 => "The caller's role may not do this here",
        404 => "No such parent resource, or not visible to the caller",
        409 => "Not possible in the resource's current state",
        413 => "The body is larger than the body limit (`BESKPLAN_BODY_LIMIT`, 1 MiB by default)",
        415 => "The body is not sent as JSON (Content-Type)",
        422 => "Invalid fields, or the Idempotency-Key was used with another request",
    }
);

problem_set!(
    /// A JSON merge patch with `If-Match`.
    UpdateProblems {
        400 => "Malformed body",
        401 => "No or bad token",
        403 => "The caller's role may not do this here",
        404 => "No such resource, or not visible to the caller",
        409 => "Not possible in the resource's current state",
        412 => "Stale If-Match: the resource changed since that ETag",
        413 => "The body is larger than the body limit (`BESKPLAN_BODY_LIMIT`, 1 MiB by default)",
        415 => "The body is not sent as JSON (Content-Type)",
        422 => "Invalid fields",
        428 => "If-Match missing",
    }
);

problem_set!(
    /// A delete (or withdrawal) with `If-Match`.
    DeleteProblems {
        400 => "Malformed query",
        401 => "No or bad token",
        403 => "The caller's role may not do this here",
        404 => "No such resource, or not visible to the caller",
        409 => "Not possible in the resource's current state",
        412 => "Stale If-Match: the resource changed since that ETag",
        428 => "If-Match missing",
    }
);

fn header(name: &str, required: bool, description: &str, schema: ObjectBuilder) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(if required { Required::True } else { Required::False })
        .description(Some(description))
        .schema(Some(schema.build()))
        .build()
}

/// The `If-Match` header of a conditional change.
pub struct IfMatch;

impl IntoParams for IfMatch {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![header("If-Match", true, "The current ETag, or *", ObjectBuilder::new().schema_type(Type::String))]
    }
}

/// The `Idempotency-Key` header of a create.
pub struct IdempotencyKey;

impl IntoParams for IdempotencyKey {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let schema = ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(255))
            .pattern(Some(r"^[!-~]([\t -~]*[!-~])?$"));
        vec![header("Idempotency-Key", false, "Makes a retry return the first response", schema)]
    }
}

problem_set!(
    /// An admin's read of a list (users, service clients).
    AdminListProblems {
        400 => "Malformed query",
        401 => "No or bad token",
        403 => "Not an admin",
        422 => "Limit or offset out of range",
    }
);

problem_set!(
    /// An admin's read of one resource.
    AdminItemProblems {
        401 => "No or bad token",
        403 => "Not an admin",
        404 => "No such resource",
    }
);

problem_set!(
    /// An admin's create (POST with a JSON body). A create whose key may be taken, or that takes
    /// an `Idempotency-Key`, declares its 409 itself.
    AdminCreateProblems {
        400 => "Malformed body",
        401 => "No or bad token",
        403 => "Not an admin",
        413 => "The body is larger than the body limit (`BESKPLAN_BODY_LIMIT`, 1 MiB by default)",
        415 => "The body is not sent as JSON (Content-Type)",
        422 => "Invalid fields",
    }
);

problem_set!(
    /// A JSON merge patch with `If-Match` of a resource that no state rule refuses (no 409).
    PlainUpdateProblems {
        400 => "Malformed body",
        401 => "No or bad token",
        403 => "The caller's role may not do this here",
        404 => "No such resource, or not visible to the caller",
        412 => "Stale If-Match: the resource changed since that ETag",
        413 => "The body is larger than the body limit (`BESKPLAN_BODY_LIMIT`, 1 MiB by default)",
        415 => "The body is not sent as JSON (Content-Type)",
        422 => "Invalid fields",
        428 => "If-Match missing",
    }
);

problem_set!(
    /// A delete (or deactivation) with `If-Match` that no state rule refuses (no 409).
    PlainDeleteProblems {
        401 => "No or bad token",
        403 => "The caller's role may not do this here",
        404 => "No such resource, or not visible to the caller",
        412 => "Stale If-Match: the resource changed since that ETag",
        428 => "If-Match missing",
    }
);

problem_set!(
    /// A public read of a top-level list (no parent resource).
    PublicListProblems {
        400 => "Malformed query",
        401 => "Bad or expired token (without a token the caller is anonymous)",
        422 => "Limit or offset out of range",
    }
);

problem_set!(
    /// A state change by POST without a body (close a hearing, start a revision), with an
    /// optional `Idempotency-Key`.
    ActionProblems {
        400 => "Malformed Idempotency-Key",
        401 => "No or bad token",
        403 => "The caller's role may not do this here",
        404 => "No such resource, or not visible to the caller",
        409 => "Not possible in the resource's current state",
        422 => "The Idempotency-Key was used with another request",
    }
);

problem_set!(
    /// A create of a top-level resource (POST with a JSON body) whose key may be taken.
    TopCreateProblems {
        400 => "Malformed body or Idempotency-Key",
        401 => "No or bad token",
        403 => "The caller's role may not do this here",
        409 => "It exists already (e.g. the municipality has a plan for that year)",
        413 => "The body is larger than the body limit (`BESKPLAN_BODY_LIMIT`, 1 MiB by default)",
        415 => "The body is not sent as JSON (Content-Type)",
        422 => "Invalid fields, or the Idempotency-Key was used with another request",
    }
);

/// The response headers the service sends, declared once under `components/headers`:
/// `(name, description, schema type)`.
const HEADERS: &[(&str, &str, Type)] = &[
    (
        "ETag",
        "The resource's entity tag, for `If-Match` and `If-None-Match`. A compressed response's tag names its \
         coding (`\"…-br\"`, `\"…-gzip\"`); either form is accepted",
        Type::String,
    ),
    ("Location", "Where the created resource is", Type::String),
    ("Link", "The `next` and `prev` pages of the list (RFC 8288)", Type::String),
    ("Cache-Control", "How long and by whom the response may be cached", Type::String),
    ("Retry-After", "Seconds to wait before trying again", Type::Integer),
    ("WWW-Authenticate", "The authentication scheme the service expects: `Bearer realm=\"beskplan\"`", Type::String),
    (
        "Idempotent-Replayed",
        "`true` when this is the stored response to an earlier request with the same Idempotency-Key",
        Type::String,
    ),
    (
        "X-Request-Id",
        "The request's id in the service's log; a valid `x-request-id` sent by the client is kept",
        Type::String,
    ),
];

fn header_ref(name: &str) -> RefOr<Header> {
    RefOr::Ref(Ref::new(format!("#/components/headers/{name}")))
}

/// Declares on every operation what the middleware adds to its answers, so that the rules live
/// here once instead of in every annotation: `X-Request-Id` on every response,
/// `WWW-Authenticate` on a 401, `Retry-After` on a 429, 503 or 507, `Link` on a page of a list,
/// `Idempotent-Replayed` where an `Idempotency-Key` is taken, and `If-None-Match` where a 304 may
/// come. Every operation that reads or writes the database may answer 503 (the database is
/// unreachable) and every change 507 (no room to store it). Header declarations that the
/// annotations make inline become references to the shared ones.
pub fn describe_headers(api: &mut OpenApi) {
    let components = api.components.get_or_insert_with(Default::default);
    for (name, description, schema_type) in HEADERS {
        let mut schema = ObjectBuilder::new().schema_type(schema_type.clone());
        if *schema_type == Type::Integer {
            schema = schema.format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32))).minimum(Some(0));
        }
        let schema = schema.build();
        let header = HeaderBuilder::new().schema(Some(schema)).description(Some(*description)).build();
        components.headers.insert((*name).to_owned(), RefOr::T(header));
    }
    for (path, item) in api.paths.paths.iter_mut() {
        let uses_database = path.starts_with("/api/");
        let operations = [
            (&mut item.get, false),
            (&mut item.post, true),
            (&mut item.put, true),
            (&mut item.patch, true),
            (&mut item.delete, true),
        ];
        for (operation, writes) in operations {
            if let Some(operation) = operation.as_mut() {
                describe_operation(operation, uses_database, writes);
            }
        }
    }
}

fn describe_operation(operation: &mut Operation, uses_database: bool, writes: bool) {
    let reads = !writes;
    let responses = &mut operation.responses.responses;
    if uses_database {
        let mut extra = vec![(503, "The database is unreachable or busy; try again after Retry-After")];
        if writes {
            extra.push((507, "No room to store the change (disk or size cap full); try again after Retry-After"));
        }
        for (status, response) in problems(&extra) {
            responses.entry(status).or_insert(response);
        }
    }
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    let has_header = |parameters: &[RefOr<Parameter>], name: &str| {
        parameters.iter().any(|p| matches!(p, RefOr::T(p) if p.name.eq_ignore_ascii_case(name)))
    };
    let idempotent = has_header(parameters, "Idempotency-Key");
    if responses.contains_key("304") && !has_header(parameters, "If-None-Match") {
        let schema = ObjectBuilder::new().schema_type(Type::String);
        parameters.push(RefOr::T(header(
            "If-None-Match",
            false,
            "ETags the client holds; 304 Not Modified when one is current",
            schema,
        )));
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else { continue };
        let declared: Vec<String> = response.headers.keys().cloned().collect();
        for name in declared {
            if let Some((shared, _, _)) = HEADERS.iter().find(|(shared, _, _)| shared.eq_ignore_ascii_case(&name)) {
                response.headers.remove(&name);
                response.headers.insert((*shared).to_owned(), header_ref(shared));
            }
        }
        let mut add = vec!["X-Request-Id"];
        match status.as_str() {
            "401" => add.push("WWW-Authenticate"),
            "429" | "503" | "507" => add.push("Retry-After"),
            "304" => add.push("ETag"),
            _ => {}
        }
        if status.starts_with('2') {
            if idempotent {
                add.push("Idempotent-Replayed");
            }
            if is_list(response) {
                add.push("Link");
            }
        }
        for name in add {
            response.headers.entry(name.to_owned()).or_insert_with(|| header_ref(name));
        }
    }
    if operation.parameters.as_ref().is_some_and(Vec::is_empty) {
        operation.parameters = None;
    }
    // "Anonymous only" (`security(())`, i.e. `[{}]`) is said as "no requirement" (`[]`), which
    // generators read as "no credentials needed".
    let anonymous_only = operation.security.as_ref().is_some_and(|alternatives| {
        alternatives
            .iter()
            .all(|requirement| serde_json::to_value(requirement).is_ok_and(|v| v == serde_json::json!({})))
    });
    if anonymous_only {
        operation.security = Some(Vec::new());
    }
    // Every read of the API says how long it may be cached (`http::default_cache_control`).
    if reads && uses_database {
        if let Some(RefOr::T(ok)) = responses.get_mut("200") {
            ok.headers.entry("Cache-Control".to_owned()).or_insert_with(|| header_ref("Cache-Control"));
        }
    }
    // A 304 carries the `Cache-Control` its 200 would have.
    let cached = matches!(responses.get("200"), Some(RefOr::T(ok)) if ok.headers.contains_key("Cache-Control"));
    if let (true, Some(RefOr::T(not_modified))) = (cached, responses.get_mut("304")) {
        not_modified.headers.entry("Cache-Control".to_owned()).or_insert_with(|| header_ref("Cache-Control"));
    }
}

/// Whether a response's JSON body is a page of a list (`ListOf_…`).
fn is_list(response: &Response) -> bool {
    response.content.get("application/json").is_some_and(|content| {
        matches!(content, RefOr::T(content) if matches!(&content.schema,
            Some(RefOr::Ref(reference)) if reference.ref_location.starts_with("#/components/schemas/ListOf_")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_sets_describe_problem_json() {
        let responses = UpdateProblems::responses();
        assert_eq!(
            responses.keys().cloned().collect::<Vec<_>>(),
            ["400", "401", "403", "404", "409", "412", "413", "415", "422", "428"]
        );
        let RefOr::T(response) = &responses["412"] else { panic!("inline response") };
        assert!(response.content.contains_key("application/problem+json"));
    }
}
