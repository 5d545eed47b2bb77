//! The problem types: each `type` URI of a problem+json answer resolves to a page saying what it
//! means and what to do (HTML for people, JSON by `Accept`). The list is `error::PROBLEM_TYPES`.

use actix_web::{get, web, HttpRequest, HttpResponse};

use crate::api::http;
use crate::error::{problem_type, ApiError, ApiResult, Problem, ProblemType, PROBLEM_TYPES};

/// Every problem type the service answers with.
#[utoipa::path(
    tag = "problems",
    security(()),
    responses(
        (status = 200, description = "The problem types", content((Vec<ProblemType> = "application/json"), (String = "text/html")), headers(("Cache-Control" = String))),
        (status = 406, description = "Neither HTML nor JSON is acceptable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/problems")]
pub async fn list_problem_types(req: HttpRequest) -> ApiResult<HttpResponse> {
    page(&req, None)
}

/// What one problem type means and what a client can do about it.
#[utoipa::path(
    tag = "problems",
    security(()),
    params(("slug" = String, Path, description = "The last part of the problem's `type`", example = "precondition-failed")),
    responses(
        (status = 200, description = "The problem type", content((ProblemType = "application/json"), (String = "text/html")), headers(("Cache-Control" = String))),
        (status = 404, description = "No such problem type", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "Neither HTML nor JSON is acceptable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/problems/{slug}")]
pub async fn get_problem_type(req: HttpRequest, slug: web::Path<String>) -> ApiResult<HttpResponse> {
    let problem = problem_type(&slug).ok_or_else(|| ApiError::NotFound(format!("no problem type {slug}")))?;
    page(&req, Some(problem))
}

fn page(req: &HttpRequest, problem: Option<&ProblemType>) -> ApiResult<HttpResponse> {
    let media = http::negotiate(req, &["text/html", "application/json"])?;
    let mut response = HttpResponse::Ok();
    // The list changes only with a new release of the service.
    response.insert_header(("Cache-Control", "public, max-age=3600")).insert_header(("Vary", "Accept"));
    if media == "application/json" {
        return Ok(match problem {
            Some(problem) => response.json(problem),
            None => response.json(PROBLEM_TYPES),
        });
    }
    let html = crate::render::problem_page(problem).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(response.content_type("text/html; charset=utf-8").body(html))
}
