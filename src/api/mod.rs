//! The HTTP API: the one route map and the OpenAPI description.

pub mod http;
pub mod municipalities;
pub mod ops;
pub mod plans;

use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{scope, AppExt};

/// Every route of the service. The OpenAPI document is collected from these same calls, so a
/// route cannot exist without being described.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(ops::healthz).service(ops::readyz).service(
        scope::scope("/api/v1")
            .service(municipalities::list_municipalities)
            .service(municipalities::create_municipality)
            .service(municipalities::get_municipality)
            .service(municipalities::update_municipality)
            .service(plans::list_plans)
            .service(plans::create_plan)
            .service(plans::get_plan)
            .service(plans::update_plan)
            .service(plans::delete_plan),
    );
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "beskplan",
        version = "1.0.0",
        description = include_str!("openapi_description.md"),
        license(name = "MIT"),
    ),
    tags(
        (name = "operations", description = "Liveness, readiness, metrics"),
        (name = "municipalities", description = "Municipalities by kommunekode"),
        (name = "plans", description = "Employment plans (beskæftigelsesplaner), one per municipality and year"),
    )
)]
pub struct ApiDoc;

/// The OpenAPI document as the running service serves it at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    actix_web::App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(routes).split_for_parts().1
}
