//! The HTTP API: the one route map and the OpenAPI description.

pub mod audit;
pub mod auth;
pub mod compress;
pub mod content;
pub use content::{focus_areas, follow_up_measures, goals, requirements, sections};
pub mod deadline;
pub mod docs;
pub mod follow_up;
pub mod head;
pub mod hearings;
pub mod http;
pub mod municipalities;
pub mod ops;
pub mod plan_state;
pub mod plans;
pub mod problems;
pub mod users;
pub mod versions;
pub mod workflow;

use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{scope, AppExt};

/// Every route of the service. The OpenAPI document is collected from these same calls, so a
/// route cannot exist without being described.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(ops::healthz)
        .service(ops::readyz)
        .service(problems::list_problem_types)
        .service(problems::get_problem_type)
        .service(
            scope::scope("/api/v1")
                .service(auth::issue_token)
                .service(auth::me)
                .service(users::list_users)
                .service(users::create_user_handler)
                .service(users::get_user)
                .service(users::update_user)
                .service(users::deactivate_user)
                .service(users::list_clients)
                .service(users::create_client)
                .service(users::get_client)
                .service(users::deactivate_client)
                .service(audit::list_audit)
                .service(municipalities::list_municipalities)
                .service(municipalities::create_municipality)
                .service(municipalities::get_municipality)
                .service(municipalities::update_municipality)
                .service(plans::list_plans)
                .service(plans::create_plan)
                .service(plans::get_plan)
                .service(plans::update_plan)
                .service(plans::delete_plan)
                .service(sections::list_sections)
                .service(sections::create_section)
                .service(sections::get_section)
                .service(sections::update_section)
                .service(sections::delete_section)
                .service(focus_areas::list_focus_areas)
                .service(focus_areas::create_focus_area)
                .service(focus_areas::get_focus_area)
                .service(focus_areas::update_focus_area)
                .service(focus_areas::delete_focus_area)
                .service(goals::list_goals)
                .service(goals::create_goal)
                .service(goals::get_goal)
                .service(goals::update_goal)
                .service(goals::delete_goal)
                .service(requirements::list_requirements)
                .service(requirements::create_requirement)
                .service(requirements::get_requirement)
                .service(requirements::update_requirement)
                .service(requirements::delete_requirement)
                .service(follow_up_measures::list_follow_up_measures)
                .service(follow_up_measures::create_follow_up_measure)
                .service(follow_up_measures::get_follow_up_measure)
                .service(follow_up_measures::update_follow_up_measure)
                .service(follow_up_measures::delete_follow_up_measure)
                .service(versions::list_versions)
                .service(versions::create_version)
                .service(versions::get_version)
                .service(versions::diff_versions)
                .service(versions::version_document)
                .service(workflow::get_readiness)
                .service(workflow::list_decisions)
                .service(workflow::create_decision)
                .service(workflow::get_decision)
                .service(workflow::start_revision)
                .service(hearings::list_hearings)
                .service(hearings::create_hearing)
                .service(hearings::get_hearing)
                .service(hearings::update_hearing)
                .service(hearings::close_hearing)
                .service(hearings::list_comments)
                .service(hearings::create_comment)
                .service(hearings::get_comment)
                .service(hearings::update_comment)
                .service(hearings::withdraw_comment)
                .service(hearings::respond)
                .service(hearings::hearing_summary)
                .service(follow_up::list_requirement_measurements)
                .service(follow_up::create_requirement_measurement)
                .service(follow_up::list_measure_measurements)
                .service(follow_up::create_measure_measurement)
                .service(follow_up::get_measurement)
                .service(follow_up::delete_measurement)
                .service(follow_up::follow_up_report)
                .service(follow_up::import_measurements),
        );
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "beskplan",
        version = "1.0.0",
        description = include_str!("openapi_description.md"),
        license(name = "MIT", identifier = "MIT"),
        contact(name = "The beskplan team"),
    ),
    servers((url = "/", description = "The server that serves this document")),
    modifiers(&BearerAuth),
    components(schemas(crate::error::Problem)),
    tags(
        (name = "operations", description = "Liveness, readiness, metrics"),
        (name = "problems", description = "What each problem `type` means"),
        (name = "auth", description = "Tokens and the caller"),
        (name = "users", description = "Users and service clients (admin)"),
        (name = "audit", description = "Who changed what (admin)"),
        (name = "municipalities", description = "Municipalities by kommunekode"),
        (name = "plans", description = "Employment plans (beskæftigelsesplaner), one per municipality and year"),
        (name = "content", description = "A plan's sections, focus areas, goals, result requirements and follow-up measures"),
        (name = "versions", description = "Immutable versions of the plan document, their differences, and the document for people"),
        (name = "workflow", description = "Readiness, decisions by political bodies, revisions"),
        (name = "follow-up", description = "Measurements, attainment status, the follow-up report, CSV import and export"),
        (name = "hearings", description = "Hearings on a version, comments from invited parties, responses, the hearing summary"),
    )
)]
pub struct ApiDoc;

/// Declares the security schemes that operations name in `security`: bearer tokens, and HTTP
/// Basic for service clients at the token endpoint.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        // The token endpoint also takes a service client's credentials by HTTP Basic
        // (RFC 6749 `client_secret_basic`).
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
    }
}

/// The OpenAPI document as the running service serves it at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api =
        actix_web::App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(routes).split_for_parts().1;
    describe(&mut api);
    api
}

/// What the route annotations leave to rules over the whole document: the catalogue of problem
/// types, merge-patch bodies and the headers that every response of a kind carries. Run on every
/// document the service builds (`openapi()` and the one `app()` serves).
pub fn describe(api: &mut utoipa::openapi::OpenApi) {
    let catalogue: Vec<String> = crate::error::PROBLEM_TYPES
        .iter()
        .map(|t| format!("- `/problems/{}` ({}, {}): {}", t.slug, t.status, t.title, t.description))
        .collect();
    if let Some(description) = api.info.description.as_mut() {
        *description = description.replace("{problem_types}", &catalogue.join("\n"));
    }
    describe_merge_patches(api);
    docs::describe_headers(api);
}

/// `PATCH` bodies are JSON merge patches (RFC 7396): any field may be left out, in nested objects
/// too (arrays are replaced whole). The handlers declare the resource's fields as the body; this
/// points each `PATCH` at a copy of that schema without `required`, named `<schema>MergePatch`,
/// and drops the original where nothing else refers to it.
fn describe_merge_patches(api: &mut utoipa::openapi::OpenApi) {
    use std::collections::BTreeMap;
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::{Ref, RefOr};
    type Schemas = BTreeMap<String, RefOr<Schema>>;
    const PREFIX: &str = "#/components/schemas/";

    fn patch_of(name: &str, schemas: &mut Schemas) -> Option<String> {
        let base = name.strip_suffix("Patch").or_else(|| name.strip_suffix("Fields")).unwrap_or(name);
        let patch_name = format!("{base}MergePatch");
        if schemas.contains_key(&patch_name) {
            return Some(patch_name);
        }
        let RefOr::T(Schema::Object(mut object)) = schemas.get(name)?.clone() else { return None };
        if object.properties.is_empty() {
            return None;
        }
        // Reserve the name first, so that a schema that refers to itself ends.
        schemas.insert(patch_name.clone(), RefOr::T(Schema::default()));
        object.required.clear();
        object.properties.values_mut().for_each(|property| loosen(property, schemas));
        let what = format!("A JSON merge patch (RFC 7396) of `{name}`: every field may be left out.");
        object.description = Some(match object.description.take() {
            Some(text) => format!("{what}\n\n{text}"),
            None => what,
        });
        schemas.insert(patch_name.clone(), RefOr::T(Schema::Object(object)));
        Some(patch_name)
    }

    fn loosen(schema: &mut RefOr<Schema>, schemas: &mut Schemas) {
        match schema {
            RefOr::Ref(reference) => {
                if let Some(patch) = reference.ref_location.strip_prefix(PREFIX).and_then(|n| patch_of(n, schemas)) {
                    reference.ref_location = Ref::from_schema_name(patch).ref_location;
                }
            }
            RefOr::T(Schema::Object(object)) => {
                object.required.clear();
                object.properties.values_mut().for_each(|property| loosen(property, schemas));
            }
            RefOr::T(Schema::OneOf(one_of)) => one_of.items.iter_mut().for_each(|item| loosen(item, schemas)),
            RefOr::T(Schema::AnyOf(any_of)) => any_of.items.iter_mut().for_each(|item| loosen(item, schemas)),
            RefOr::T(Schema::AllOf(all_of)) => all_of.items.iter_mut().for_each(|item| loosen(item, schemas)),
            _ => {}
        }
    }

    let Some(components) = api.components.as_mut() else { return };
    let schemas = &mut components.schemas;
    for item in api.paths.paths.values_mut() {
        let Some(RefOr::T(body)) = item.patch.as_mut().and_then(|patch| patch.request_body.as_mut()) else { continue };
        if let Some(RefOr::T(content)) = body.content.get_mut("application/merge-patch+json") {
            if let Some(schema) = content.schema.as_mut() {
                loosen(schema, schemas);
            }
        }
    }
    // A `…Patch` or `…Fields` schema that only described a PATCH body is now unused.
    let used = serde_json::to_string(&(&api.paths, &*schemas)).unwrap_or_default();
    let replaced: Vec<String> = schemas
        .keys()
        .filter_map(|name| name.strip_suffix("MergePatch"))
        .flat_map(|base| [format!("{base}Patch"), format!("{base}Fields")])
        .filter(|name| !used.contains(&format!("\"{PREFIX}{name}\"")))
        .collect();
    for name in replaced {
        schemas.remove(&name);
    }
}
