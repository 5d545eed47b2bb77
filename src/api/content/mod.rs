//! The plan's content resources — sections, focus areas, goals, result requirements and
//! follow-up measures — and the one flow they all go through.
//!
//! A resource declares its names, types and table once with `content_resource!` (which writes
//! its [`Resource`]: the SQL every content table shares) and says what differs about its rules
//! by implementing [`Content`] (fields, checks, new rows, updates, dependents); the flow below does the rest the same way for all of them: every change takes the plan's lock
//! first, reads the item again after it, checks `If-Match`, compare-and-swaps on the revision,
//! keeps positions `0..n-1` and writes the audit record in the same transaction.
//! `content_routes!` declares the five HTTP operations of a resource with their OpenAPI
//! description, one line each.

// First: the macros it defines serve the modules after it.
#[macro_use]
mod table;
pub mod focus_areas;
pub mod follow_up_measures;
pub mod goals;
pub mod requirements;
pub mod sections;

use actix_web::http::header::HeaderMap;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use uuid::Uuid;

use crate::api::audit::{self, snapshot};
use crate::api::http::{self, Page};
use crate::api::plan_state::{self, PlanRow};
use crate::auth::RequestContext;
use crate::db::{expect_one, DbConnection};
use crate::domain::ordering;
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult};
use crate::{now, AppState};

pub use table::Resource;

/// Where an item stands: what the flow needs to know of any row.
pub struct Meta<'a> {
    pub id: &'a str,
    pub plan_id: &'a str,
    /// The plan or goal it is ordered within.
    pub parent_id: &'a str,
    pub position: i32,
    pub revision: i64,
}

/// The fields of a new item, with where it goes.
pub struct New<'a, F> {
    pub id: String,
    pub plan_id: &'a str,
    pub parent_id: &'a str,
    pub fields: F,
    pub position: i32,
    pub at: NaiveDateTime,
}

/// What differs about one content resource's rules; everything else is the shared flow.
pub trait Content: Resource {
    /// A row's editable fields, where a merge patch starts.
    fn fields(row: &Self::Row) -> ApiResult<Self::Fields>;
    /// Every rule the fields must satisfy within plan `plan_id`.
    fn check(conn: &mut DbConnection, plan_id: &str, fields: &Self::Fields) -> ApiResult<()>;
    /// The row of a new item.
    fn new_row(new: New<'_, Self::Fields>) -> ApiResult<Self::Row>;
    /// Stores changed fields, only if the row is still at `row`'s revision; returns the rows
    /// changed (the flow turns 0 into 412).
    fn update(conn: &mut DbConnection, row: &Self::Row, fields: &Self::Fields, at: NaiveDateTime) -> ApiResult<usize>;
    /// The plan a parent belongs to; 404 when it does not exist. Most parents are the plan.
    fn plan_of_parent(conn: &mut DbConnection, parent_id: &str) -> ApiResult<String> {
        plan_state::find(conn, parent_id).map(|plan| plan.id)
    }
    /// A page of the parent's items, in order (filtered, where the query has filters).
    fn list(
        conn: &mut DbConnection,
        parent_id: &str,
        _query: &Self::Query,
        page: Page,
    ) -> ApiResult<(i64, Vec<Self::View>)> {
        let (total, rows) = Self::page(conn, parent_id, page.limit, page.offset)?;
        Ok((total, rows.into_iter().map(Self::View::try_from).collect::<ApiResult<_>>()?))
    }
    /// What goes with a deleted item: removes or detaches it, and adds it to the audit record.
    fn delete_dependents(
        _conn: &mut DbConnection,
        _row: &Self::Row,
        _options: &Self::DeleteOptions,
        _before: &mut serde_json::Value,
    ) -> ApiResult<()> {
        Ok(())
    }
}

/// The options of a delete that has none.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoOptions {}

/// A list query: its page.
pub trait Paged {
    fn page(&self) -> ApiResult<Page>;
}

impl Paged for http::PageQuery {
    fn page(&self) -> ApiResult<Page> {
        http::PageQuery::page(self)
    }
}

/// An item as the flow answers it: the representation with what the response headers need.
pub struct Item<V> {
    pub id: String,
    pub etag: String,
    pub view: V,
}

fn item<K: Content>(row: K::Row) -> ApiResult<Item<K::View>> {
    let meta = K::meta(&row);
    let (id, etag) = (meta.id.to_owned(), http::etag(meta.revision));
    Ok(Item { id, etag, view: K::View::try_from(row)? })
}

/// The plan a goal belongs to (requirements and follow-up measures hang under goals).
pub fn plan_of_goal(conn: &mut DbConnection, goal_id: &str) -> ApiResult<String> {
    use crate::db::schema::goals;
    use diesel::prelude::*;
    goals::table
        .find(goal_id)
        .select(goals::plan_id)
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no goal with id {goal_id}")))
}

fn find<K: Content>(conn: &mut DbConnection, id: &str) -> ApiResult<K::Row> {
    K::find(conn, id)?.ok_or_else(|| ApiError::NotFound(format!("no {} with id {id}", K::KIND.replace('_', " "))))
}

/// An item for a change: learns its plan, takes the plan's lock (caller allowed, plan editable),
/// reads the item again after the lock and checks `If-Match` on what it read then.
fn locked<K: Content>(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    id: &str,
    headers: &HeaderMap,
) -> ApiResult<(PlanRow, K::Row)> {
    let plan_id = K::meta(&find::<K>(conn, id)?).plan_id.to_owned();
    let plan = plan_state::lock_for_content(conn, ctx, &plan_id)?;
    let row = find::<K>(conn, id)?;
    http::check_if_match(headers, &http::etag(K::meta(&row).revision))?;
    Ok((plan, row))
}

pub fn create<K: Content>(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    parent_id: &str,
    fields: K::Fields,
) -> ApiResult<Item<K::View>> {
    conn.write(|conn| {
        let plan_id = K::plan_of_parent(conn, parent_id)?;
        let plan = plan_state::lock_for_content(conn, ctx, &plan_id)?;
        // The parent may have gone while this waited for the lock.
        K::plan_of_parent(conn, parent_id)?;
        K::check(conn, &plan.id, &fields)?;
        let position = ordering::insert_at(K::position(&fields), K::count(conn, parent_id)?);
        K::open(conn, parent_id, position)?;
        let id = Uuid::now_v7().to_string();
        let row = K::new_row(New { id, plan_id: &plan.id, parent_id, fields, position, at: now() })?;
        K::insert(conn, &row)?;
        let item = item::<K>(row)?;
        audit::record(conn, ctx, "create", K::KIND, &item.id, None, snapshot(&item.view))?;
        Ok(item)
    })
}

pub fn read<K: Content>(conn: &mut DbConnection, ctx: &RequestContext, id: &str) -> ApiResult<Item<K::View>> {
    let row = find::<K>(conn, id)?;
    plan_state::for_content_read(conn, ctx, K::meta(&row).plan_id)?;
    item::<K>(row)
}

pub fn list<K: Content>(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    parent_id: &str,
    query: &K::Query,
    page: Page,
) -> ApiResult<(i64, Vec<K::View>)> {
    let plan_id = K::plan_of_parent(conn, parent_id)?;
    plan_state::for_content_read(conn, ctx, &plan_id)?;
    K::list(conn, parent_id, query, page)
}

pub fn update<K: Content>(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    id: &str,
    headers: &HeaderMap,
    patch: &serde_json::Value,
) -> ApiResult<Item<K::View>> {
    conn.write(|conn| {
        let (plan, row) = locked::<K>(conn, ctx, id, headers)?;
        let changed: K::Fields = http::merge_patch(&K::fields(&row)?, patch, K::READ_ONLY)?;
        K::check(conn, &plan.id, &changed)?;
        expect_one(K::update(conn, &row, &changed, now())?)?;
        let meta = K::meta(&row);
        if let Some(to) = K::position(&changed) {
            let to = ordering::move_to(to, K::count(conn, meta.parent_id)?);
            if to != meta.position {
                K::set_position(conn, id, -1)?;
                K::close(conn, meta.parent_id, meta.position)?;
                K::open(conn, meta.parent_id, to)?;
                K::set_position(conn, id, to)?;
            }
        }
        let after = item::<K>(find::<K>(conn, id)?)?;
        let before = K::View::try_from(row.clone())?;
        audit::record(conn, ctx, "update", K::KIND, id, snapshot(&before), snapshot(&after.view))?;
        Ok(after)
    })
}

pub fn delete<K: Content>(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    id: &str,
    headers: &HeaderMap,
    options: &K::DeleteOptions,
) -> ApiResult<()> {
    conn.write(|conn| {
        let (_, row) = locked::<K>(conn, ctx, id, headers)?;
        let mut before =
            serde_json::to_value(K::View::try_from(row.clone())?).map_err(|e| ApiError::Internal(e.to_string()))?;
        K::delete_dependents(conn, &row, options, &mut before)?;
        let meta = K::meta(&row);
        expect_one(K::delete(conn, id, meta.revision)?)?;
        K::close(conn, meta.parent_id, meta.position)?;
        audit::record(conn, ctx, "delete", K::KIND, id, Some(before), None)
    })
}

// ---- the HTTP side of the flow, called by the handlers `content_routes!` declares ----

pub async fn list_response<K: Content>(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    parent_id: String,
    query: K::Query,
) -> ApiResult<HttpResponse> {
    let page = query.page()?;
    let (total, items) = state.db(move |conn| list::<K>(conn, &ctx, &parent_id, &query, page)).await?;
    Ok(http::list_response(&req, page, total, items))
}

pub async fn create_response<K: Content>(
    ctx: RequestContext,
    state: web::Data<AppState>,
    parent_id: String,
    fields: K::Fields,
) -> ApiResult<HttpResponse> {
    let item = state.db(move |conn| create::<K>(conn, &ctx, &parent_id, fields)).await?;
    Ok(http::created(format!("{}/{}", K::COLLECTION, item.id), &item.etag, &item.view))
}

pub async fn read_response<K: Content>(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: String,
) -> ApiResult<HttpResponse> {
    let item = state.db(move |conn| read::<K>(conn, &ctx, &id)).await?;
    Ok(http::entity_response(&req, &item.etag, &item.view))
}

pub async fn update_response<K: Content>(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: String,
    patch: serde_json::Value,
) -> ApiResult<HttpResponse> {
    let headers = req.headers().clone();
    let item = state.db(move |conn| update::<K>(conn, &ctx, &id, &headers, &patch)).await?;
    Ok(http::updated(&item.etag, &item.view))
}

pub async fn delete_response<K: Content>(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: String,
    options: K::DeleteOptions,
) -> ApiResult<HttpResponse> {
    let headers = req.headers().clone();
    state.db(move |conn| delete::<K>(conn, &ctx, &id, &headers, &options)).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- rules several resources share ----

/// A requested position must not be negative.
pub fn check_position(checks: &mut Checks, position: Option<i32>) {
    if position.is_some_and(|p| p < 0) {
        checks.fail("position", "must be 0 or more");
    }
}

/// Text lists (target groups, initiatives): each entry present and bounded.
pub fn check_text_list(checks: &mut Checks, field: &str, items: &[String], max_items: usize, max_length: usize) {
    if items.len() > max_items {
        checks.fail(field, format!("at most {max_items} entries"));
    }
    for (i, item) in items.iter().enumerate() {
        checks.text(&format!("{field}[{i}]"), item, max_length);
    }
}
