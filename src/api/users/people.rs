//! Users: people who log in with a username and password.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{admin_only, check_principal, parse_codes, store_codes};
use crate::api::audit::{self, snapshot};
use crate::api::docs::{
    AdminCreateProblems, AdminItemProblems, AdminListProblems, DeleteProblems, IdempotencyKey, IfMatch, UpdateProblems,
};
use crate::api::http::{self, ListOf, Page};
use crate::auth::{passwords, Caller, RequestContext, Role};
use crate::config::Settings;
use crate::db::schema::users;
use crate::db::{expect_one, stored, DbConnection};
use crate::domain::validate::Checks;
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
    #[schema(example = json!(["185"]), max_items = 98)]
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
    #[schema(example = "planner.taarnby", min_length = 2, max_length = 64, pattern = r"^[A-Za-z0-9._@-]{2,64}$")]
    pub username: String,
    /// Defaults to the username.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub display_name: Option<String>,
    pub role: Role,
    #[serde(default)]
    #[schema(example = json!(["185"]), max_items = 98)]
    pub municipalities: Vec<String>,
    /// Required for consultees, not allowed for other roles.
    #[schema(max_length = 200)]
    pub party: Option<String>,
    /// At least 12 characters; stored only as an Argon2id hash.
    #[schema(write_only, min_length = 12, max_length = 1024)]
    pub password: String,
}

/// The fields a merge patch may change. `password` is write-only: absent, it stays.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub display_name: String,
    pub role: Role,
    #[schema(max_items = 98)]
    pub municipalities: Vec<String>,
    #[schema(max_length = 200)]
    pub party: Option<String>,
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(write_only, min_length = 12, max_length = 1024)]
    pub password: Option<String>,
}

impl From<&User> for UserPatch {
    fn from(user: &User) -> Self {
        UserPatch {
            display_name: user.display_name.clone(),
            role: user.role,
            municipalities: user.municipalities.clone(),
            party: user.party.clone(),
            active: user.active,
            password: None,
        }
    }
}

/// Representation fields a merge patch may not name.
const READ_ONLY: &[&str] = &["id", "username", "created_at", "updated_at", "etag"];

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
    admin_only(ctx)?;
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
        // A racing create of the same username fails on the unique index instead (409 too).
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
            municipalities: store_codes(&input.municipalities)?,
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

/// Creates the first admin when the database has no users. Returns the generated password when
/// none was configured, for the caller to show once.
pub fn bootstrap_admin(conn: &mut DbConnection, settings: &Settings) -> ApiResult<Option<String>> {
    let existing = users::table.count().get_result::<i64>(conn)?;
    if existing > 0 {
        return Ok(None);
    }
    let (password, generated) = match &settings.admin_password {
        Some(p) => (p.clone(), false),
        None => (passwords::random_secret(12), true),
    };
    let input = NewUser {
        username: settings.admin_username.clone(),
        display_name: Some("Administrator".into()),
        role: Role::Admin,
        municipalities: Vec::new(),
        party: None,
        password: password.clone(),
    };
    create_user(conn, &RequestContext::system(Caller::system()), input)?;
    Ok(generated.then_some(password))
}

/// An admin that locks itself out would leave nobody to undo it.
fn ensure_not_self_lockout(ctx: &RequestContext, user_id: &str, active: bool, role: Role) -> ApiResult<()> {
    let is_self = ctx.caller.as_ref().is_some_and(|c| c.id == user_id);
    if is_self && (!active || role != Role::Admin) {
        return Err(ApiError::Conflict("an admin cannot deactivate or demote itself".into()));
    }
    Ok(())
}

/// Stores a user's changed fields (and a new password hash), compare-and-swapped on the revision
/// `row` was read at: a change that came in between makes this one 412 and the transaction
/// rolls back. The audit record is written in the same transaction.
fn store(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    action: &str,
    row: &UserRow,
    changed: &UserPatch,
    password_hash: Option<String>,
) -> ApiResult<User> {
    ensure_not_self_lockout(ctx, &row.id, changed.active, changed.role)?;
    let before = User::try_from(row.clone())?;
    let municipalities = store_codes(&changed.municipalities)?;
    conn.write(|conn| {
        let count = diesel::update(users::table.filter(users::id.eq(&row.id)).filter(users::revision.eq(row.revision)))
            .set((
                users::display_name.eq(changed.display_name.trim()),
                users::role.eq(changed.role.as_str()),
                users::municipalities.eq(municipalities),
                users::party.eq(&changed.party),
                users::active.eq(changed.active),
                users::password_hash.eq(password_hash.as_deref().unwrap_or(&row.password_hash)),
                users::updated_at.eq(now()),
                users::revision.eq(row.revision + 1),
            ))
            .execute(conn)?;
        expect_one(count)?;
        let after = User::try_from(find_user(conn, &row.id)?)?;
        audit::record(conn, ctx, action, "user", &row.id, snapshot(&before), snapshot(&after))?;
        Ok(after)
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
    responses((status = 200, description = "A page of users", body = ListOf<User>), AdminListProblems)
)]
#[get("/users")]
pub async fn list_users(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    query: web::Query<UserQuery>,
) -> ApiResult<HttpResponse> {
    admin_only(&ctx)?;
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

/// Create a user (admin).
///
/// The password is stored as an Argon2id hash and never returned.
#[utoipa::path(
    tag = "users",
    operation_id = "create_user",
    request_body = NewUser,
    security(("bearer" = [])),
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Created", body = User, headers(("Location" = String), ("ETag" = String))),
        AdminCreateProblems,
        (status = 409, description = "The username is taken, or a request with this Idempotency-Key is still in progress", body = Problem, content_type = "application/problem+json"),
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
        AdminItemProblems,
    )
)]
#[get("/users/{id}")]
pub async fn get_user(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    admin_only(&ctx)?;
    let id = id.into_inner();
    let user = User::try_from(state.db(move |conn| find_user(conn, &id)).await?)?;
    Ok(http::entity_response(&req, &user.etag, &user))
}

/// Change a user (admin; JSON merge patch with `If-Match`).
///
/// Display name, role, municipalities, party, `active`, or a new `password`.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, description = "The user's id"), IfMatch),
    request_body(content = UserPatch, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = User, headers(("ETag" = String))),
        UpdateProblems,
        (status = 409, description = "An admin cannot deactivate or demote itself", body = Problem, content_type = "application/problem+json"),
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
    admin_only(&ctx)?;
    let (id, headers, patch) = (id.into_inner(), req.headers().clone(), patch.into_inner());
    let user = state
        .db(move |conn| {
            let row = find_user(conn, &id)?;
            http::check_if_match(&headers, &http::etag(row.revision))?;
            let changed: UserPatch =
                http::merge_patch(&UserPatch::from(&User::try_from(row.clone())?), &patch, READ_ONLY)?;
            let mut checks = Checks::new();
            checks.text("display_name", &changed.display_name, 200);
            if let Some(password) = &changed.password {
                check_password(&mut checks, password);
            }
            check_principal(conn, &mut checks, changed.role, &changed.municipalities, changed.party.as_deref())?;
            checks.finish()?;
            // Hashed outside the write transaction (slow on purpose); `store`'s compare-and-swap
            // still refuses it if the user changed meanwhile.
            let password_hash = changed.password.as_deref().map(passwords::hash);
            store(conn, &ctx, "update", &row, &changed, password_hash)
        })
        .await?;
    Ok(http::updated(&user.etag, &user))
}

/// Deactivate a user (admin; needs `If-Match`).
///
/// Its tokens stop working at once; the user and its audit trail stay.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, description = "The user's id"), IfMatch),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deactivated"),
        DeleteProblems,
        (status = 409, description = "An admin cannot deactivate itself", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/users/{id}")]
pub async fn deactivate_user(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    admin_only(&ctx)?;
    let (id, headers) = (id.into_inner(), req.headers().clone());
    state
        .db(move |conn| {
            let row = find_user(conn, &id)?;
            http::check_if_match(&headers, &http::etag(row.revision))?;
            let changed = UserPatch { active: false, ..UserPatch::from(&User::try_from(row.clone())?) };
            store(conn, &ctx, "deactivate", &row, &changed, None)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
