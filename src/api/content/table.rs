//! The SQL every content table shares, and the HTTP operations every content resource has, as
//! macros over the table and the resource (diesel's table types and utoipa's per-route
//! functions cannot be generic, so the one definition is a macro).

use diesel::QueryResult;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::content::{Meta, Paged};
use crate::db::DbConnection;
use crate::error::ApiError;

/// What a content resource is made of — its names, types and table — with the SQL every content
/// table shares: items ordered within a parent (a plan or a goal). `content_resource!` writes it.
pub trait Resource: 'static {
    /// Its name in audit records and messages, e.g. `goal`.
    const KIND: &'static str;
    /// Where its items live, e.g. `/api/v1/goals` (the `Location` of a new item).
    const COLLECTION: &'static str;
    /// Representation fields a merge patch may not name.
    const READ_ONLY: &'static [&'static str];

    type Row: Clone + Send + 'static;
    type View: TryFrom<Self::Row, Error = ApiError> + Serialize + Send + 'static;
    /// The body of a create; a merge patch changes them.
    type Fields: Serialize + DeserializeOwned + Send + 'static;
    /// The list's filters and page.
    type Query: Paged + Send + 'static;
    /// Options of a delete (most have none: `NoOptions`).
    type DeleteOptions: Send + 'static;

    fn meta(row: &Self::Row) -> Meta<'_>;
    /// Where the fields ask the item to stand, if anywhere.
    fn position(fields: &Self::Fields) -> Option<i32>;
    fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Self::Row>>;
    fn insert(conn: &mut DbConnection, row: &Self::Row) -> QueryResult<usize>;
    /// Deletes the item only if it is still at `revision` (a compare-and-swap).
    fn delete(conn: &mut DbConnection, id: &str, revision: i64) -> QueryResult<usize>;
    /// The parent's items, in order, a page of them, and how many there are.
    fn page(conn: &mut DbConnection, parent: &str, limit: i64, offset: i64) -> QueryResult<(i64, Vec<Self::Row>)>;
    fn count(conn: &mut DbConnection, parent: &str) -> QueryResult<i32>;
    /// Makes room at `at`: the items there and after move down one.
    fn open(conn: &mut DbConnection, parent: &str, at: i32) -> QueryResult<usize>;
    /// Closes the gap an item left at `at`.
    fn close(conn: &mut DbConnection, parent: &str, at: i32) -> QueryResult<usize>;
    fn set_position(conn: &mut DbConnection, id: &str, position: i32) -> QueryResult<usize>;
}

/// `content_resource!(Sections { kind = "section", collection = "/api/v1/sections", …, table =
/// sections, parent = plan_id })`: the resource's `Resource`, over a schema table whose items are
/// ordered by `position` within `parent`.
macro_rules! content_resource {
    ($(#[$doc:meta])* $name:ident {
        kind = $kind:tt, collection = $collection:tt, read_only = [$($read_only:tt),*],
        row = $row:ty, view = $view:ty, fields = $fields:ty, query = $query:ty, delete_options = $options:ty,
        table = $table:ident, parent = $parent:ident $(,)?
    }) => {
        $(#[$doc])*
        pub struct $name;

        impl $crate::api::content::Resource for $name {
            const KIND: &'static str = $kind;
            const COLLECTION: &'static str = $collection;
            const READ_ONLY: &'static [&'static str] = &[$($read_only),*];
            type Row = $row;
            type View = $view;
            type Fields = $fields;
            type Query = $query;
            type DeleteOptions = $options;

            fn meta(row: &$row) -> $crate::api::content::Meta<'_> {
                $crate::api::content::Meta {
                    id: &row.id,
                    plan_id: &row.plan_id,
                    parent_id: &row.$parent,
                    position: row.position,
                    revision: row.revision,
                }
            }

            fn position(fields: &$fields) -> Option<i32> {
                fields.position
            }

            fn find(conn: &mut $crate::db::DbConnection, id: &str) -> diesel::QueryResult<Option<$row>> {
                use diesel::prelude::*;
                $crate::db::schema::$table::table.find(id).select(<$row>::as_select()).first(conn).optional()
            }

            fn insert(conn: &mut $crate::db::DbConnection, row: &$row) -> diesel::QueryResult<usize> {
                use diesel::prelude::*;
                diesel::insert_into($crate::db::schema::$table::table).values(row).execute(conn)
            }

            fn delete(conn: &mut $crate::db::DbConnection, id: &str, revision: i64) -> diesel::QueryResult<usize> {
                use diesel::prelude::*;
                use $crate::db::schema::$table as t;
                diesel::delete(t::table.filter(t::id.eq(id)).filter(t::revision.eq(revision))).execute(conn)
            }

            fn page(
                conn: &mut $crate::db::DbConnection,
                parent: &str,
                limit: i64,
                offset: i64,
            ) -> diesel::QueryResult<(i64, Vec<$row>)> {
                use diesel::prelude::*;
                use $crate::db::schema::$table as t;
                let total = t::table.filter(t::$parent.eq(parent)).count().get_result(conn)?;
                let rows = t::table
                    .filter(t::$parent.eq(parent))
                    .order(t::position)
                    .limit(limit)
                    .offset(offset)
                    .select(<$row>::as_select())
                    .load(conn)?;
                Ok((total, rows))
            }

            fn count(conn: &mut $crate::db::DbConnection, parent: &str) -> diesel::QueryResult<i32> {
                use diesel::prelude::*;
                use $crate::db::schema::$table as t;
                let n: i64 = t::table.filter(t::$parent.eq(parent)).count().get_result(conn)?;
                Ok(i32::try_from(n).unwrap_or(i32::MAX))
            }

            fn open(conn: &mut $crate::db::DbConnection, parent: &str, at: i32) -> diesel::QueryResult<usize> {
                use diesel::prelude::*;
                use $crate::db::schema::$table as t;
                diesel::update(t::table.filter(t::$parent.eq(parent)).filter(t::position.ge(at)))
                    .set(t::position.eq(t::position + 1))
                    .execute(conn)
            }

            fn close(conn: &mut $crate::db::DbConnection, parent: &str, at: i32) -> diesel::QueryResult<usize> {
                use diesel::prelude::*;
                use $crate::db::schema::$table as t;
                diesel::update(t::table.filter(t::$parent.eq(parent)).filter(t::position.gt(at)))
                    .set(t::position.eq(t::position - 1))
                    .execute(conn)
            }

            fn set_position(
                conn: &mut $crate::db::DbConnection,
                id: &str,
                position: i32,
            ) -> diesel::QueryResult<usize> {
                use diesel::prelude::*;
                use $crate::db::schema::$table as t;
                diesel::update(t::table.find(id)).set(t::position.eq(position)).execute(conn)
            }
        }
    };
}

/// The five operations of a content resource, each an annotated handler of a line that calls the
/// shared flow. Literals are passed as token trees so that the route and OpenAPI attributes see
/// plain literals.
macro_rules! content_routes {
    (
        $kind:ty, view = $view:ident, fields = $fields:ident, query = $query:ident, delete_options = $options:ident,
        parent = ($parent:tt, $parent_description:tt), collection = $collection:tt, item = $item:tt,
        list = ($list:ident, $list_doc:tt),
        create = ($create:ident, $create_doc:tt),
        get = ($get:ident, $get_doc:tt),
        update = ($update:ident, $update_doc:tt),
        delete = ($delete:ident, $delete_doc:tt),
    ) => {
        use actix_web::{delete, get, patch, post};

        #[doc = $list_doc]
        #[utoipa::path(
            tag = "content",
            params(($parent = String, Path, description = $parent_description), $query),
            security((), ("bearer" = [])),
            responses((status = 200, description = "A page of items, in order", body = $crate::api::http::ListOf<$view>), $crate::api::docs::ListProblems)
        )]
        #[get($collection)]
        pub async fn $list(
            req: actix_web::HttpRequest,
            ctx: $crate::auth::RequestContext,
            state: actix_web::web::Data<$crate::AppState>,
            parent: actix_web::web::Path<String>,
            query: actix_web::web::Query<$query>,
        ) -> $crate::error::ApiResult<actix_web::HttpResponse> {
            $crate::api::content::list_response::<$kind>(req, ctx, state, parent.into_inner(), query.into_inner()).await
        }

        #[doc = $create_doc]
        #[utoipa::path(
            tag = "content",
            params(($parent = String, Path, description = $parent_description), $crate::api::docs::IdempotencyKey),
            request_body = $fields,
            security(("bearer" = [])),
            responses((status = 201, description = "Created", body = $view, headers(("Location" = String), ("ETag" = String))), $crate::api::docs::CreateProblems)
        )]
        #[post($collection)]
        pub async fn $create(
            ctx: $crate::auth::RequestContext,
            state: actix_web::web::Data<$crate::AppState>,
            parent: actix_web::web::Path<String>,
            body: actix_web::web::Json<$fields>,
        ) -> $crate::error::ApiResult<actix_web::HttpResponse> {
            $crate::api::content::create_response::<$kind>(ctx, state, parent.into_inner(), body.into_inner()).await
        }

        #[doc = $get_doc]
        #[utoipa::path(
            tag = "content",
            params(("id" = String, Path, description = "The item's id")),
            security((), ("bearer" = [])),
            responses(
                (status = 200, description = "The item", body = $view, headers(("ETag" = String))),
                (status = 304, description = "Not modified (If-None-Match)"),
                $crate::api::docs::ItemProblems
            )
        )]
        #[get($item)]
        pub async fn $get(
            req: actix_web::HttpRequest,
            ctx: $crate::auth::RequestContext,
            state: actix_web::web::Data<$crate::AppState>,
            id: actix_web::web::Path<String>,
        ) -> $crate::error::ApiResult<actix_web::HttpResponse> {
            $crate::api::content::read_response::<$kind>(req, ctx, state, id.into_inner()).await
        }

        #[doc = $update_doc]
        #[utoipa::path(
            tag = "content",
            params(("id" = String, Path, description = "The item's id"), $crate::api::docs::IfMatch),
            request_body(content = $fields, content_type = "application/merge-patch+json"),
            security(("bearer" = [])),
            responses((status = 200, description = "Updated", body = $view, headers(("ETag" = String))), $crate::api::docs::UpdateProblems)
        )]
        #[patch($item)]
        pub async fn $update(
            req: actix_web::HttpRequest,
            ctx: $crate::auth::RequestContext,
            state: actix_web::web::Data<$crate::AppState>,
            id: actix_web::web::Path<String>,
            patch: actix_web::web::Json<serde_json::Value>,
        ) -> $crate::error::ApiResult<actix_web::HttpResponse> {
            $crate::api::content::update_response::<$kind>(req, ctx, state, id.into_inner(), patch.into_inner()).await
        }

        #[doc = $delete_doc]
        #[utoipa::path(
            tag = "content",
            params(("id" = String, Path, description = "The item's id"), $crate::api::docs::IfMatch, $options),
            security(("bearer" = [])),
            responses((status = 204, description = "Deleted"), $crate::api::docs::DeleteProblems)
        )]
        #[delete($item)]
        pub async fn $delete(
            req: actix_web::HttpRequest,
            ctx: $crate::auth::RequestContext,
            state: actix_web::web::Data<$crate::AppState>,
            id: actix_web::web::Path<String>,
            options: actix_web::web::Query<$options>,
        ) -> $crate::error::ApiResult<actix_web::HttpResponse> {
            $crate::api::content::delete_response::<$kind>(req, ctx, state, id.into_inner(), options.into_inner()).await
        }
    };
}
