//! The audit log: every successful change, written in the same transaction as the change.

use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::http::{self, CursorPage, ListOf};
use crate::auth::policy::{self, Action, Target};
use crate::auth::RequestContext;
use crate::db::schema::audit_log;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult, Problem};
use crate::{now, AppState};

/// A resource as the audit log keeps it.
pub fn snapshot<T: Serialize>(value: &T) -> Option<Value> {
    serde_json::to_value(value).ok()
}

/// Records a change. Call it inside the change's write transaction, so that a change never
/// exists without its record.
pub fn record(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    before: Option<Value>,
    after: Option<Value>,
) -> ApiResult<()> {
    let to_text = |v: Option<Value>| v.map(|v| v.to_string());
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(Uuid::now_v7().to_string()),
            audit_log::at.eq(now()),
            audit_log::actor.eq(ctx.actor()),
            audit_log::action.eq(action),
            audit_log::entity_type.eq(entity_type),
            audit_log::entity_id.eq(entity_id),
            audit_log::request_id.eq(ctx.request_id.as_deref()),
            audit_log::before.eq(to_text(before)),
            audit_log::after.eq(to_text(after)),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
struct AuditRow {
    id: String,
    at: NaiveDateTime,
    actor: String,
    action: String,
    entity_type: String,
    entity_id: String,
    request_id: Option<String>,
    before: Option<String>,
    after: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    /// Username, client id, or `system`.
    #[schema(example = "planner.taarnby")]
    pub actor: String,
    /// `create`, `update`, `delete`, `deactivate`, `token_issued`, …
    #[schema(example = "update")]
    pub action: String,
    #[schema(example = "plan")]
    pub entity_type: String,
    pub entity_id: String,
    pub request_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
}

impl From<AuditRow> for AuditEntry {
    fn from(row: AuditRow) -> Self {
        let parse = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
        AuditEntry {
            id: row.id,
            at: row.at.and_utc(),
            actor: row.actor,
            action: row.action,
            entity_type: row.entity_type,
            entity_id: row.entity_id,
            request_id: row.request_id,
            before: parse(row.before),
            after: parse(row.after),
        }
    }
}

#[derive(Debug, Deserialize, Serialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries about this kind of resource, e.g. `plan`.
    pub entity_type: Option<String>,
    /// Only entries about this resource.
    pub entity_id: Option<String>,
    /// Only entries by this actor.
    pub actor: Option<String>,
    /// Only entries at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// At most this many items (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Skip this many items (default 0); with `after`, counted from the cursor.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
    /// Continue after this entry: the `next_cursor` of the previous page. Pages read this way are
    /// not shifted by entries recorded meanwhile (offsets are).
    pub after: Option<String>,
}

/// Who did what, when, to which resource; newest first (admin).
///
/// Read page after page by `after` (the `next_cursor` of the page before, as the `next` link does).
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of audit entries", body = ListOf<AuditEntry>),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Limit or offset out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit")]
pub async fn list_audit(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    policy::authorize(ctx.caller.as_ref(), Action::Administer, Target::service())?;
    let page = CursorPage::new(query.limit, query.offset, query.after.clone())?;
    let query = query.into_inner();
    let read = page.clone();
    let (total, rows) = state
        .db(move |conn| {
            // The cursor entry's place in the order (at, id), newest first.
            let cursor =
                read.key(|[at, id]| Some((NaiveDateTime::parse_from_str(at, http::CURSOR_TIME).ok()?, id.to_owned())))?;
            let filtered = || {
                let mut q = audit_log::table.into_boxed();
                if let Some(v) = &query.entity_type {
                    q = q.filter(audit_log::entity_type.eq(v.clone()));
                }
                if let Some(v) = &query.entity_id {
                    q = q.filter(audit_log::entity_id.eq(v.clone()));
                }
                if let Some(v) = &query.actor {
                    q = q.filter(audit_log::actor.eq(v.clone()));
                }
                if let Some(since) = query.since {
                    q = q.filter(audit_log::at.ge(since.naive_utc()));
                }
                q
            };
            let total = filtered().count().get_result::<i64>(conn)?;
            let mut rows = filtered();
            if let Some((at, id)) = cursor {
                rows = rows.filter(audit_log::at.lt(at).or(audit_log::at.eq(at).and(audit_log::id.lt(id))));
            }
            let rows = rows
                .order((audit_log::at.desc(), audit_log::id.desc()))
                .limit(read.rows())
                .offset(read.page.offset)
                .select(AuditRow::as_select())
                .load(conn)?;
            Ok::<_, ApiError>((total, rows))
        })
        .await?;
    let items: Vec<AuditEntry> = rows.into_iter().map(AuditEntry::from).collect();
    Ok(http::cursor_list_response(&req, &page, total, items, |entry| {
        vec![entry.at.naive_utc().format(http::CURSOR_TIME).to_string(), entry.id.clone()]
    }))
}
