//! Municipalities (kommuner), keyed by their three-digit kommunekode.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::audit::{self, snapshot};
use crate::api::docs::{
    AdminCreateProblems, IdempotencyKey, IfMatch, ItemProblems, PlainUpdateProblems, PublicListProblems,
};
use crate::api::http::{self, ListOf, PageQuery};
use crate::auth::policy::{self, Action, Target};
use crate::auth::RequestContext;
use crate::db::schema::municipalities;
use crate::db::{expect_one, DbConnection};
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult, Problem};
use crate::{now, AppState};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = municipalities)]
pub struct MunicipalityRow {
    pub code: String,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub revision: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Municipality {
    /// Kommunekode, three digits.
    #[schema(example = "185")]
    pub code: String,
    #[schema(example = "Tårnby Kommune")]
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[schema(example = "\"1\"")]
    pub etag: String,
}

impl From<MunicipalityRow> for Municipality {
    fn from(row: MunicipalityRow) -> Self {
        Municipality {
            etag: http::etag(row.revision),
            code: row.code,
            name: row.name,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMunicipality {
    #[schema(example = "185", pattern = r"^[0-9]{3}$")]
    pub code: String,
    #[schema(
        example = "Tårnby Kommune",
        min_length = 1,
        max_length = 200,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub name: String,
}

/// The fields a merge patch may change.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MunicipalityPatch {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub name: String,
}

fn check_name(checks: &mut Checks, name: &str) {
    checks.text("name", name, 200);
}

pub fn create(conn: &mut DbConnection, ctx: &RequestContext, input: NewMunicipality) -> ApiResult<Municipality> {
    policy::authorize(ctx.caller.as_ref(), Action::Administer, Target::municipality(&input.code))?;
    let mut checks = Checks::new();
    checks.municipality_code("code", &input.code);
    check_name(&mut checks, &input.name);
    checks.finish()?;
    let at = now();
    let row = MunicipalityRow {
        code: input.code,
        name: input.name.trim().to_owned(),
        created_at: at,
        updated_at: at,
        revision: 1,
    };
    conn.write(|conn| {
        let exists = municipalities::table.find(&row.code).count().get_result::<i64>(conn)? > 0;
        if exists {
            return Err(ApiError::Conflict(format!("municipality {} already exists", row.code)));
        }
        diesel::insert_into(municipalities::table).values(&row).execute(conn)?;
        let created = Municipality::from(row);
        audit::record(conn, ctx, "create", "municipality", &created.code, None, snapshot(&created))?;
        Ok(created)
    })
}

pub fn exists(conn: &mut DbConnection, code: &str) -> ApiResult<bool> {
    let count: i64 = municipalities::table.find(code).count().get_result(conn)?;
    Ok(count > 0)
}

pub fn find(conn: &mut DbConnection, code: &str) -> ApiResult<MunicipalityRow> {
    municipalities::table
        .find(code)
        .select(MunicipalityRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no municipality with code {code}")))
}

/// List municipalities, ordered by code. Public.
#[utoipa::path(
    tag = "municipalities",
    security((), ("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page of municipalities", body = ListOf<Municipality>), PublicListProblems)
)]
#[get("/municipalities")]
pub async fn list_municipalities(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = query.page()?;
    let (total, rows) = state
        .db(move |conn| {
            let total = municipalities::table.count().get_result::<i64>(conn)?;
            let rows = municipalities::table
                .order(municipalities::code)
                .limit(page.limit)
                .offset(page.offset)
                .select(MunicipalityRow::as_select())
                .load(conn)?;
            Ok((total, rows))
        })
        .await?;
    let items: Vec<Municipality> = rows.into_iter().map(Municipality::from).collect();
    Ok(http::list_response(&req, page, total, items))
}

/// Register a municipality (admin).
#[utoipa::path(
    tag = "municipalities",
    request_body = NewMunicipality,
    security(("bearer" = [])),
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Created", body = Municipality,
            headers(("Location" = String, description = "URL of the municipality"), ("ETag" = String))),
        AdminCreateProblems,
        (status = 409, description = "The code is taken, or a request with this Idempotency-Key is still in progress", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/municipalities")]
pub async fn create_municipality(
    ctx: RequestContext,
    state: web::Data<AppState>,
    body: web::Json<NewMunicipality>,
) -> ApiResult<HttpResponse> {
    let created = state.db(move |conn| create(conn, &ctx, body.into_inner())).await?;
    Ok(http::created(format!("/api/v1/municipalities/{}", created.code), &created.etag, &created))
}

/// Read a municipality.
///
/// Public.
#[utoipa::path(
    tag = "municipalities",
    security((), ("bearer" = [])),
    params(("code" = String, Path, description = "Kommunekode", example = "185")),
    responses(
        (status = 200, description = "The municipality", body = Municipality, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        ItemProblems,
    )
)]
#[get("/municipalities/{code}")]
pub async fn get_municipality(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let code = code.into_inner();
    let row = state.db(move |conn| find(conn, &code)).await?;
    let municipality = Municipality::from(row);
    Ok(http::entity_response(&req, &municipality.etag, &municipality))
}

/// Change a municipality's name (admin; JSON merge patch; needs `If-Match`).
#[utoipa::path(
    tag = "municipalities",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Kommunekode", example = "185"), IfMatch),
    request_body(content = MunicipalityPatch, content_type = "application/merge-patch+json"),
    responses((status = 200, description = "Updated", body = Municipality, headers(("ETag" = String))), PlainUpdateProblems)
)]
#[patch("/municipalities/{code}")]
pub async fn update_municipality(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    code: web::Path<String>,
    patch: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let code = code.into_inner();
    policy::authorize(ctx.caller.as_ref(), Action::Administer, Target::municipality(&code))?;
    let headers = req.headers().clone();
    let updated = state
        .db(move |conn| {
            conn.write(|conn| {
                let row = find(conn, &code)?;
                http::check_if_match(&headers, &http::etag(row.revision))?;
                let current = MunicipalityPatch { name: row.name.clone() };
                let changed: MunicipalityPatch =
                    http::merge_patch(&current, &patch, &["code", "created_at", "updated_at", "etag"])?;
                let mut checks = Checks::new();
                check_name(&mut checks, &changed.name);
                checks.finish()?;
                // Compare-and-swap on the revision If-Match was checked against: a rename that
                // committed in between leaves no row to match (412, and this one rolls back).
                let at = now();
                let count = diesel::update(
                    municipalities::table
                        .filter(municipalities::code.eq(&code))
                        .filter(municipalities::revision.eq(row.revision)),
                )
                .set((
                    municipalities::name.eq(changed.name.trim()),
                    municipalities::updated_at.eq(at),
                    municipalities::revision.eq(row.revision + 1),
                ))
                .execute(conn)?;
                expect_one(count)?;
                let after = Municipality::from(find(conn, &code)?);
                let before = Municipality::from(row);
                audit::record(conn, &ctx, "update", "municipality", &code, snapshot(&before), snapshot(&after))?;
                Ok(after)
            })
        })
        .await?;
    Ok(http::updated(&updated.etag, &updated))
}
