//! What many operations share in the OpenAPI description: the problem responses of each kind of
//! operation and the conditional and idempotency headers. An operation names these sets instead
//! of repeating the list, e.g. `responses((status = 200, body = Goal), ItemProblems)`.

use std::collections::BTreeMap;

use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, Response, ResponseBuilder};
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
