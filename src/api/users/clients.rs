//! Service clients: scripted integrations that get tokens with the `client_credentials` grant.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{admin_only, check_principal, parse_codes, store_codes};
use crate::api::audit::{self, snapshot};
use crate::api::docs::{AdminCreateProblems, AdminItemProblems, AdminListProblems, IfMatch, PlainDeleteProblems};
use crate::api::http::{self, ListOf, PageQuery};
use crate::auth::{passwords, RequestContext, Role};
use crate::db::schema::clients;
use crate::db::{expect_one, stored, DbConnection};
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult};
use crate::{now, AppState};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clients)]
pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub municipalities: String,
    pub party: Option<String>,
    pub secret_hash: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub revision: i64,
}

/// A service client: a machine account that gets tokens with the `client_credentials` grant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceClient {
    /// The `client_id` for the `client_credentials` grant.
    pub client_id: String,
    #[schema(example = "Jobindsats-import")]
    pub name: String,
    pub role: Role,
    #[schema(max_items = 98)]
    pub municipalities: Vec<String>,
    pub party: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub etag: String,
}

impl TryFrom<ClientRow> for ServiceClient {
    type Error = ApiError;
    fn try_from(row: ClientRow) -> ApiResult<Self> {
        Ok(ServiceClient {
            role: stored(&row.role)?,
            municipalities: parse_codes(&row.municipalities)?,
            etag: http::etag(row.revision),
            client_id: row.id,
            name: row.name,
            party: row.party,
            active: row.active,
            created_at: row.created_at.and_utc(),
        })
    }
}

/// A new client with its secret, which is shown this once and stored only as a hash.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedClient {
    #[serde(flatten)]
    pub client: ServiceClient,
    pub client_secret: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    #[schema(
        example = "Jobindsats-import",
        min_length = 1,
        max_length = 200,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub name: String,
    pub role: Role,
    #[serde(default)]
    #[schema(example = json!(["849"]), max_items = 98)]
    pub municipalities: Vec<String>,
    #[schema(max_length = 200)]
    pub party: Option<String>,
}

pub fn find_client(conn: &mut DbConnection, id: &str) -> ApiResult<ClientRow> {
    clients::table
        .find(id)
        .select(ClientRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no client with id {id}")))
}

/// Register a service client for a scripted integration (admin).
///
/// The answer holds the `client_secret`, shown only this once; as it is never stored, this `POST`
/// ignores `Idempotency-Key` (a retry registers another client).
#[utoipa::path(
    tag = "users",
    request_body = NewClient,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; keep the secret", body = CreatedClient, headers(("Location" = String), ("ETag" = String))),
        AdminCreateProblems,
    )
)]
#[post("/clients")]
pub async fn create_client(
    ctx: RequestContext,
    state: web::Data<AppState>,
    body: web::Json<NewClient>,
) -> ApiResult<HttpResponse> {
    admin_only(&ctx)?;
    let input = body.into_inner();
    let created = state
        .db(move |conn| {
            let mut checks = Checks::new();
            checks.text("name", &input.name, 200);
            check_principal(conn, &mut checks, input.role, &input.municipalities, input.party.as_deref())?;
            checks.finish()?;
            let secret = passwords::random_secret(32);
            let secret_hash = passwords::hash(&secret);
            conn.write(|conn| {
                let at = now();
                let row = ClientRow {
                    id: format!("client-{}", Uuid::now_v7().simple()),
                    name: input.name.trim().to_owned(),
                    role: input.role.as_str().to_owned(),
                    municipalities: store_codes(&input.municipalities)?,
                    party: input.party.clone(),
                    secret_hash,
                    active: true,
                    created_at: at,
                    updated_at: at,
                    revision: 1,
                };
                diesel::insert_into(clients::table).values(&row).execute(conn)?;
                let client = ServiceClient::try_from(row)?;
                audit::record(conn, &ctx, "create", "client", &client.client_id, None, snapshot(&client))?;
                Ok(CreatedClient { client, client_secret: secret })
            })
        })
        .await?;
    Ok(http::created(format!("/api/v1/clients/{}", created.client.client_id), &created.client.etag, &created))
}

/// List service clients (admin); secrets are never shown again.
#[utoipa::path(
    tag = "users",
    params(PageQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of clients", body = ListOf<ServiceClient>), AdminListProblems)
)]
#[get("/clients")]
pub async fn list_clients(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    admin_only(&ctx)?;
    let page = query.page()?;
    let (total, rows) = state
        .db(move |conn| {
            let total = clients::table.count().get_result::<i64>(conn)?;
            let rows = clients::table
                .order(clients::created_at)
                .limit(page.limit)
                .offset(page.offset)
                .select(ClientRow::as_select())
                .load(conn)?;
            Ok::<_, ApiError>((total, rows))
        })
        .await?;
    let items = rows.into_iter().map(ServiceClient::try_from).collect::<ApiResult<Vec<_>>>()?;
    Ok(http::list_response(&req, page, total, items))
}

/// Read a service client (admin); its secret is never shown again.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, description = "The client_id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The client", body = ServiceClient, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        AdminItemProblems,
    )
)]
#[get("/clients/{id}")]
pub async fn get_client(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    admin_only(&ctx)?;
    let id = id.into_inner();
    let client = ServiceClient::try_from(state.db(move |conn| find_client(conn, &id)).await?)?;
    Ok(http::entity_response(&req, &client.etag, &client))
}

/// Deactivate a service client (admin; needs `If-Match`): its tokens stop working at once.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, description = "The client_id"), IfMatch),
    security(("bearer" = [])),
    responses((status = 204, description = "Deactivated"), PlainDeleteProblems)
)]
#[delete("/clients/{id}")]
pub async fn deactivate_client(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    admin_only(&ctx)?;
    let (id, headers) = (id.into_inner(), req.headers().clone());
    state
        .db(move |conn| {
            let row = find_client(conn, &id)?;
            http::check_if_match(&headers, &http::etag(row.revision))?;
            conn.write(|conn| {
                // Compare-and-swap on the revision If-Match was checked against: of racing
                // deactivations with one ETag exactly one succeeds, the others get 412.
                let count = diesel::update(
                    clients::table.filter(clients::id.eq(&id)).filter(clients::revision.eq(row.revision)),
                )
                .set((clients::active.eq(false), clients::updated_at.eq(now()), clients::revision.eq(row.revision + 1)))
                .execute(conn)?;
                expect_one(count)?;
                let after = ServiceClient::try_from(find_client(conn, &id)?)?;
                let before = ServiceClient::try_from(row)?;
                audit::record(conn, &ctx, "deactivate", "client", &id, snapshot(&before), snapshot(&after))
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
