//! People (users) and scripted integrations (service clients), both admin-only. Users are
//! deactivated, never deleted, so the audit log's actors stay meaningful.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::audit::{self, snapshot};
use crate::api::http::{self, ListOf, Page};
use crate::api::municipalities;
use crate::auth::policy::{self, Action, Target};
use crate::auth::{passwords, RequestContext, Role};
use crate::db::schema::{clients, users};
use crate::db::{stored, DbConnection};
use crate::domain::validate::{is_municipality_code, Checks};
use crate::error::{ApiError, ApiResult, Problem};
use crate::{now, AppState};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub municipalities: String,
    pub party: Option<String>,
    pub password_hash: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub revision: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: String,
    #[schema(example = "planner.taarnby")]
    pub username: String,
    #[schema(example = "Anna Jensen")]
    pub display_name: String,
    pub role: Role,
    /// Kommunekoder the user acts in (ignored for admins, who act everywhere).
    #[schema(example = json!(["185"]))]
    pub municipalities: Vec<String>,
    /// The consultee's party, e.g. "Handicaprådet".
    pub party: Option<String>,
    /// False once deactivated: its tokens stop working at once.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub etag: String,
}

impl TryFrom<UserRow> for User {
    type Error = ApiError;
    fn try_from(row: UserRow) -> ApiResult<Self> {
        Ok(User {
            role: stored(&row.role)?,
            municipalities: parse_codes(&row.municipalities)?,
            etag: http::etag(row.revision),
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            party: row.party,
            active: row.active,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(example = "planner.taarnby")]
    pub username: String,
    /// Defaults to the username.
    pub display_name: Option<String>,
    pub role: Role,
    #[serde(default)]
    #[schema(example = json!(["185"]))]
    pub municipalities: Vec<String>,
    /// Required for consultees, not allowed for other roles.
    pub party: Option<String>,
    /// At least 12 characters; stored only as an Argon2id hash.
    #[schema(write_only)]
    pub password: String,
}

/// The fields a merge patch may change. `password` is write-only: absent, it stays.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub display_name: String,
    pub role: Role,
    pub municipalities: Vec<String>,
    pub party: Option<String>,
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(write_only)]
    pub password: Option<String>,
}

fn parse_codes(text: &str) -> ApiResult<Vec<String>> {
    serde_json::from_str(text).map_err(|e| ApiError::Internal(format!("stored municipalities: {e}")))
}

/// Rules shared by users and clients: a role's municipalities and party.
fn check_principal(
    conn: &mut DbConnection,
    checks: &mut Checks,
    role: Role,
    municipalities: &[String],
    party: Option<&str>,
) -> ApiResult<()> {
    if role != Role::Admin && municipalities.is_empty() {
        checks.fail("municipalities", format!("a {} needs at least one municipality", role.as_str()));
    }
    for (i, code) in municipalities.iter().enumerate() {
        let field = format!("municipalities[{i}]");
        if !is_municipality_code(code) {
            checks.municipality_code(&field, code);
        } else if !municipalities::exists(conn, code)? {
            checks.fail(&field, format!("unknown municipality {code}"));
        }
    }
    match (role, party) {
        (Role::Consultee, None) => checks.fail("party", "a consultee needs its party, e.g. \"Handicaprådet\""),
        (Role::Consultee, Some(p)) => checks.text("party", p, 200),
        (_, Some(_)) => checks.fail("party", "only consultees have a party"),
        (_, None) => {}
    }
    Ok(())
}

fn check_password(checks: &mut Checks, password: &str) {
    let length = password.chars().count();
    if length < passwords::MIN_PASSWORD_LENGTH {
        checks.fail("password", format!("must be at least {} characters", passwords::MIN_PASSWORD_LENGTH));
    }
    checks.optional_text("password", Some(password), 1024);
}

fn check_username(checks: &mut Checks, username: &str) {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
    if username.len() < 2 || username.len() > 64 || !username.chars().all(allowed) {
        checks.fail("username", "2–64 characters: letters a–z, digits and . _ - @");
    }
}

pub fn find_user(conn: &mut DbConnection, id: &str) -> ApiResult<UserRow> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no user with id {id}")))
}

pub fn create_user(conn: &mut DbConnection, ctx: &RequestContext, input: NewUser) -> ApiResult<User> {
    policy::authorize(ctx.caller.as_ref(), Action::Administer, Target::service())?;
    let mut checks = Checks::new();
    check_username(&mut checks, &input.username);
    let display_name = input.display_name.clone().unwrap_or_else(|| input.username.clone());
    checks.text("display_name", &display_name, 200);
    check_password(&mut checks, &input.password);
    check_principal(conn, &mut checks, input.role, &input.municipalities, input.party.as_deref())?;
    checks.finish()?;
    // Hash before the write transaction: it is slow on purpose and needs no lock.
    let password_hash = passwords::hash(&input.password);
    conn.write(|conn| {
        let taken = users::table.filter(users::username.eq(&input.username)).count().get_result::<i64>(conn)? > 0;
        if taken {
            return Err(ApiError::Conflict(format!("the username {} is taken", input.username)));
        }
        let at = now();
        let row = UserRow {
            id: Uuid::now_v7().to_string(),
            username: input.username.clone(),
            display_name: display_name.trim().to_owned(),
            role: input.role.as_str().to_owned(),
            municipalities: serde_json::to_string(&input.municipalities)
                .map_err(|e| ApiError::Internal(e.to_string()))?,
            party: input.party.clone(),
            password_hash,
            active: true,
            created_at: at,
            updated_at: at,
            revision: 1,
        };
        diesel::insert_into(users::table).values(&row).execute(conn)?;
        let user = User::try_from(row)?;
        audit::record(conn, ctx, "create", "user", &user.id, None, snapshot(&user))?;
        Ok(user)
    })
}

#[derive(Debug, Deserialize, Serialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Only users with this role.
    pub role: Option<Role>,
    /// Only active (true) or deactivated (false) users.
    pub active: Option<bool>,
    /// At most this many items (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Skip this many items (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// List users, by username (admin).
#[utoipa::path(
    tag = "users",
    params(UserQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of users", body = ListOf<User>),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Limit or offset out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users")]
pub async fn list_users(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    query: web::Query<UserQuery>,
) -> ApiResult<HttpResponse> {
    policy::authorize(ctx.caller.as_ref(), Action::Administer, Target::service())?;
    let page = Page::new(query.limit, query.offset)?;
    let query = query.into_inner();
    let (total, rows) = state
        .db(move |conn| {
            let filtered = || {
                let mut q = users::table.into_boxed();
                if let Some(role) = query.role {
                    q = q.filter(users::role.eq(role.as_str()));
                }
                if let Some(active) = query.active {
                    q = q.filter(users::active.eq(active));
                }
                q
            };
            let total = filtered().count().get_result::<i64>(conn)?;
            let rows = filtered()
                .order(users::username)
                .limit(page.limit)
                .offset(page.offset)
                .select(UserRow::as_select())
                .load(conn)?;
            Ok::<_, ApiError>((total, rows))
        })
        .await?;
    let items = rows.into_iter().map(User::try_from).collect::<ApiResult<Vec<_>>>()?;
    Ok(http::list_response(&req, page, total, items))
}

/// Create a user (admin). The password is stored as an Argon2id hash and never returned.
#[utoipa::path(
    tag = "users",
    request_body = NewUser,
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response", min_length = 1, max_length = 255, pattern = r"^[!-~]([\t -~]*[!-~])?$")),
    responses(
        (status = 201, description = "Created", body = User, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The username is taken", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users")]
pub async fn create_user_handler(
    ctx: RequestContext,
    state: web::Data<AppState>,
    body: web::Json<NewUser>,
) -> ApiResult<HttpResponse> {
    let user = state.db(move |conn| create_user(conn, &ctx, body.into_inner())).await?;
    Ok(http::created(format!("/api/v1/users/{}", user.id), &user.etag, &user))
}

/// Read a user (admin).
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, description = "The user's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = User, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}")]
pub async fn get_user(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    policy::authorize(ctx.caller.as_ref(), Action::Administer, Target::service())?;
    let id = id.into_inner();
    let user = User::try_from(state.db(move |conn| find_user(conn, &id)).await?)?;
    Ok(http::entity_response(&req, &user.etag, &user))
}

/// Change a user (admin; JSON merge patch with `If-Match`): display name, role, municipalities,
/// party, `active`, or a new `password`.
#[utoipa::path(
    tag = "users",
    params(
        ("id" = String, Path, description = "The user's id"),
        ("If-Match" = String, Header, description = "The current ETag, or *"),
    ),
    request_body(content = UserPatch, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = User, headers(("ETag" = String))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An admin cannot deactivate or demote itself", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
    patch: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    policy::authorize(ctx.caller.as_ref(), Action::Administer, Target::service())?;
    let id = id.into_inner();
    let headers = req.headers().clone();
    let patch = patch.into_inner();
    let user = state
        .db(move |conn| {
            let row = find_user(conn, &id)?;
            http::check_if_match(&headers, &http::etag(row.revision))?;
            let before = User::try_from(row.clone())?;
            let current = UserPatch {
                display_name: before.display_name.clone(),
                role: before.role,
                municipalities: before.municipalities.clone(),
                party: before.party.clone(),
                active: before.active,
                password: None,
            };
            let changed: UserPatch =
                http::merge_patch(&current, &patch, &["id", "username", "created_at", "updated_at", "etag"])?;
            let mut checks = Checks::new();
            checks.text("display_name", &changed.display_name, 200);
            if let Some(password) = &changed.password {
                check_password(&mut checks, password);
            }
            check_principal(conn, &mut checks, changed.role, &changed.municipalities, changed.party.as_deref())?;
            checks.finish()?;
            ensure_not_self_lockout(&ctx, &row.id, changed.active, changed.role)?;
            let password_hash = changed.password.as_deref().map(passwords::hash).unwrap_or(row.password_hash.clone());
            conn.write(|conn| {
                let count =
                    diesel::update(users::table.filter(users::id.eq(&id)).filter(users::revision.eq(row.revision)))
                        .set((
                            users::display_name.eq(changed.display_name.trim()),
                            users::role.eq(changed.role.as_str()),
                            users::municipalities.eq(serde_json::to_string(&changed.municipalities)
                                .map_err(|e| ApiError::Internal(e.to_string()))?),
                            users::party.eq(&changed.party),
                            users::active.eq(changed.active),
                            users::password_hash.eq(password_hash),
                            users::updated_at.eq(now()),
                            users::revision.eq(row.revision + 1),
                        ))
                        .execute(conn)?;
                if count == 0 {
                    return Err(ApiError::PreconditionFailed);
                }
                let after = User::try_from(find_user(conn, &id)?)?;
                audit::record(conn, &ctx, "update", "user", &id, snapshot(&before), snapshot(&after))?;
                Ok(after)
            })
        })
        .await?;
    Ok(http::updated(&user.etag, &user))
}

/// An admin that locks itself out would leave nobody to undo it.
fn ensure_not_self_lockout(ctx: &RequestContext, user_id: &str, active: bool, role: Role) -> ApiResult<()> {
    let is_self = ctx.caller.as_ref().is_some_and(|c| c.id == user_id);
    if is_self && (!active || role != Role::Admin) {
        return Err(ApiError::Conflict("an admin cannot deactivate or demote itself".into()));
    }
    Ok(())
}

/// Deactivate a user (admin; needs `If-Match`). Its tokens stop working at once; the user and
/// its audit trail stay.
#[utoipa::path(
    tag = "users",
    params(
        ("id" = String, Path, description = "The user's id"),
        ("If-Match" = String, Header, description = "The current ETag, or *"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deactivated"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An admin cannot deactivate itself", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/users/{id}")]
pub async fn deactivate_user(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    policy::authorize(ctx.caller.as_ref(), Action::Administer, Target::service())?;
    let id = id.into_inner();
    let headers = req.headers().clone();
    state
        .db(move |conn| {
            conn.write(|conn| {
                let row = find_user(conn, &id)?;
                http::check_if_match(&headers, &http::etag(row.revision))?;
                ensure_not_self_lockout(&ctx, &row.id, false, Role::Admin)?;
                let before = User::try_from(row.clone())?;
                let count =
                    diesel::update(users::table.filter(users::id.eq(&id)).filter(users::revision.eq(row.revision)))
                        .set((
                            users::active.eq(false),
                            users::updated_at.eq(now()),
                            users::revision.eq(row.revision + 1),
                        ))
                        .execute(conn)?;
                if count == 0 {
                    return Err(ApiError::PreconditionFailed);
                }
                let after = User::try_from(find_user(conn, &id)?)?;
                audit::record(conn, &ctx, "deactivate", "user", &id, snapshot(&before), snapshot(&after))
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- service clients ----

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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Client {
    /// The `client_id` for the `client_credentials` grant.
    pub client_id: String,
    #[schema(example = "Jobindsats-import")]
    pub name: String,
    pub role: Role,
    pub municipalities: Vec<String>,
    pub party: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub etag: String,
}

impl TryFrom<ClientRow> for Client {
    type Error = ApiError;
    fn try_from(row: ClientRow) -> ApiResult<Self> {
        Ok(Client {
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
    pub client: Client,
    pub client_secret: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    #[schema(example = "Jobindsats-import")]
    pub name: String,
    pub role: Role,
    #[serde(default)]
    #[schema(example = json!(["849"]))]
    pub municipalities: Vec<String>,
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

/// Register a service client for a scripted integration (admin). The answer holds the
/// `client_secret`, shown only this once; as it is never stored, this `POST` ignores
/// `Idempotency-Key` (a retry registers another client).
#[utoipa::path(
    tag = "users",
    request_body = NewClient,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; keep the secret", body = CreatedClient, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/clients")]
pub async fn create_client(
    ctx: RequestContext,
    state: web::Data<AppState>,
    body: web::Json<NewClient>,
) -> ApiResult<HttpResponse> {
    policy::authorize(ctx.caller.as_ref(), Action::Administer, Target::service())?;
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
                    municipalities: serde_json::to_string(&input.municipalities)
                        .map_err(|e| ApiError::Internal(e.to_string()))?,
                    party: input.party.clone(),
                    secret_hash,
                    active: true,
                    created_at: at,
                    updated_at: at,
                    revision: 1,
                };
                diesel::insert_into(clients::table).values(&row).execute(conn)?;
                let client = Client::try_from(row)?;
                audit::record(conn, &ctx, "create", "client", &client.client_id, None, snapshot(&client))?;
                Ok(CreatedClient { client, client_secret: secret })
            })
        })
        .await?;
    Ok(http::created(format!("/api/v1/clients/{}", created.client.client_id), &created.client.etag, &created))
}

#[derive(Debug, Deserialize, Serialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClientQuery {
    /// At most this many items (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Skip this many items (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// List service clients (admin); secrets are never shown again.
#[utoipa::path(
    tag = "users",
    params(ClientQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of clients", body = ListOf<Client>),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Limit or offset out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/clients")]
pub async fn list_clients(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    query: web::Query<ClientQuery>,
) -> ApiResult<HttpResponse> {
    policy::authorize(ctx.caller.as_ref(), Action::Administer, Target::service())?;
    let page = Page::new(query.limit, query.offset)?;
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
    let items = rows.into_iter().map(Client::try_from).collect::<ApiResult<Vec<_>>>()?;
    Ok(http::list_response(&req, page, total, items))
}

/// Read a service client (admin); its secret is never shown again.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, description = "The client_id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The client", body = Client, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/clients/{id}")]
pub async fn get_client(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    policy::authorize(ctx.caller.as_ref(), Action::Administer, Target::service())?;
    let id = id.into_inner();
    let client = Client::try_from(state.db(move |conn| find_client(conn, &id)).await?)?;
    Ok(http::entity_response(&req, &client.etag, &client))
}

/// Deactivate a service client (admin; needs `If-Match`): its tokens stop working at once.
#[utoipa::path(
    tag = "users",
    params(
        ("id" = String, Path, description = "The client_id"),
        ("If-Match" = String, Header, description = "The current ETag, or *"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deactivated"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/clients/{id}")]
pub async fn deactivate_client(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    policy::authorize(ctx.caller.as_ref(), Action::Administer, Target::service())?;
    let id = id.into_inner();
    let headers = req.headers().clone();
    state
        .db(move |conn| {
            conn.write(|conn| {
                let row = find_client(conn, &id)?;
                http::check_if_match(&headers, &http::etag(row.revision))?;
                let before = Client::try_from(row.clone())?;
                diesel::update(clients::table.find(&id))
                    .set((
                        clients::active.eq(false),
                        clients::updated_at.eq(now()),
                        clients::revision.eq(row.revision + 1),
                    ))
                    .execute(conn)?;
                let after = Client::try_from(find_client(conn, &id)?)?;
                audit::record(conn, &ctx, "deactivate", "client", &id, snapshot(&before), snapshot(&after))
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
