//! The permission policy: the one place that answers "may this caller do this here?".
//! Every handler asks it; `tests/permissions.rs` walks every route × role × municipality.
//!
//! - `admin` may do everything everywhere.
//! - Other roles act only in their own municipalities: `planner` edits plans and their content,
//!   `approver` records decisions, and `planner`, `approver` and `viewer` read everything there,
//!   drafts included.
//! - `consultee` and anonymous callers read what is public: plans with an adopted version.
//! - Not allowed to see → 404 (existence is not revealed); allowed to see but not to act → 403;
//!   administration by a non-admin → 403; an anonymous caller who tries to act → 401.

use super::{Caller, Role};
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read a resource.
    Read,
    /// Create and change plans and their content.
    EditPlan,
    /// Record decisions (recommend, approve, reject, return).
    Decide,
    /// Municipalities, users, service clients, the audit log.
    Administer,
}

/// Which roles may take which action (in their own municipalities; admin everywhere).
const GRANTS: &[(Role, Action)] = &[(Role::Planner, Action::EditPlan), (Role::Approver, Action::Decide)];

/// Roles that read everything in their municipalities, drafts included.
const READS_ALL: &[Role] = &[Role::Planner, Role::Approver, Role::Viewer];

/// What an action is aimed at.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The municipality that owns it; `None` for service-wide things (users, the audit log).
    pub municipality: Option<&'a str>,
    /// Visible to anyone (an adopted plan, a municipality).
    pub public: bool,
}

impl<'a> Target<'a> {
    /// A plan, or anything inside it: public once it has an adopted version.
    pub fn plan(municipality: &'a str, has_adopted_version: bool) -> Self {
        Target { municipality: Some(municipality), public: has_adopted_version }
    }

    /// A municipality itself (public), e.g. as the place a new plan is created.
    pub fn municipality(code: &'a str) -> Self {
        Target { municipality: Some(code), public: true }
    }

    /// Something that belongs to no municipality and that only admins see.
    pub fn service() -> Self {
        Target { municipality: None, public: false }
    }
}

pub fn can_see(caller: Option<&Caller>, target: Target) -> bool {
    if target.public {
        return true;
    }
    match caller {
        Some(c) if c.role == Role::Admin => true,
        Some(c) => READS_ALL.contains(&c.role) && target.municipality.is_some_and(|m| c.acts_in(m)),
        None => false,
    }
}

fn may(caller: &Caller, action: Action, target: Target) -> bool {
    caller.role == Role::Admin
        || (GRANTS.contains(&(caller.role, action)) && target.municipality.is_some_and(|m| caller.acts_in(m)))
}

/// `Ok` when the caller may take the action on the target; otherwise the error to answer.
pub fn authorize(caller: Option<&Caller>, action: Action, target: Target) -> ApiResult<()> {
    if action == Action::Read {
        return if can_see(caller, target) { Ok(()) } else { Err(not_found()) };
    }
    let Some(caller) = caller else {
        return Err(ApiError::Unauthorized("this needs a bearer token".into()));
    };
    // Administration is refused openly (403): its routes are no secret.
    if action != Action::Administer && !can_see(Some(caller), target) {
        return Err(not_found());
    }
    if may(caller, action, target) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!("the role {} may not do this here", caller.role.as_str())))
    }
}

fn not_found() -> ApiError {
    ApiError::NotFound("no such resource, or it is not visible to this caller".into())
}

/// Paths that never look at a token: logging in (a stale token sent along, or HTTP Basic client
/// authentication, is no reason to refuse), and the operational and documentation endpoints.
pub fn needs_no_token(path: &str) -> bool {
    matches!(path, "/api/v1/auth/token" | "/healthz" | "/readyz" | "/metrics" | "/openapi.json")
        || path == "/docs"
        || path.starts_with("/docs/")
}

/// Anonymous callers only read; the one thing they may send is a token request.
pub fn anonymous_may_call(method: &actix_web::http::Method, path: &str) -> bool {
    use actix_web::http::Method;
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) || path == "/api/v1/auth/token"
}

/// Which plans a caller's lists show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    All,
    /// Public plans and every plan of these municipalities.
    PublicAnd(Vec<String>),
    Public,
}

pub fn plan_visibility(caller: Option<&Caller>) -> Visibility {
    match caller {
        Some(c) if c.role == Role::Admin => Visibility::All,
        Some(c) if READS_ALL.contains(&c.role) => Visibility::PublicAnd(c.municipalities.clone()),
        _ => Visibility::Public,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::PrincipalKind;

    fn caller(role: Role) -> Caller {
        Caller {
            id: "u".into(),
            name: "u".into(),
            display_name: "U".into(),
            kind: PrincipalKind::User,
            role,
            municipalities: vec!["185".into()],
            party: None,
        }
    }

    fn status(result: ApiResult<()>) -> u16 {
        use actix_web::ResponseError;
        result.map_or_else(|e| e.status_code().as_u16(), |_| 200)
    }

    #[test]
    fn the_table() {
        let own_draft = Target::plan("185", false);
        let other_draft = Target::plan("201", false);
        let other_adopted = Target::plan("201", true);
        // (role, action, target, expected)
        let none: Option<Role> = None;
        let cases = [
            (none, Action::Read, own_draft, 404),
            (none, Action::Read, other_adopted, 200),
            (none, Action::EditPlan, other_adopted, 401),
            (none, Action::EditPlan, own_draft, 401),
            (Some(Role::Admin), Action::EditPlan, other_draft, 200),
            (Some(Role::Admin), Action::Administer, Target::service(), 200),
            (Some(Role::Planner), Action::Read, own_draft, 200),
            (Some(Role::Planner), Action::Read, other_draft, 404),
            (Some(Role::Planner), Action::EditPlan, own_draft, 200),
            (Some(Role::Planner), Action::EditPlan, other_draft, 404),
            (Some(Role::Planner), Action::EditPlan, other_adopted, 403),
            (Some(Role::Planner), Action::EditPlan, Target::municipality("201"), 403),
            (Some(Role::Planner), Action::Decide, own_draft, 403),
            (Some(Role::Planner), Action::Administer, Target::service(), 403),
            (Some(Role::Approver), Action::Decide, own_draft, 200),
            (Some(Role::Approver), Action::Decide, other_adopted, 403),
            (Some(Role::Approver), Action::EditPlan, own_draft, 403),
            (Some(Role::Viewer), Action::Read, own_draft, 200),
            (Some(Role::Viewer), Action::EditPlan, own_draft, 403),
            (Some(Role::Consultee), Action::Read, own_draft, 404),
            (Some(Role::Consultee), Action::Read, other_adopted, 200),
            (Some(Role::Consultee), Action::EditPlan, other_adopted, 403),
            (Some(Role::Admin), Action::Administer, Target::municipality("185"), 200),
            (Some(Role::Viewer), Action::Administer, Target::municipality("185"), 403),
        ];
        for (role, action, target, expected) in cases {
            let who = role.map(caller);
            assert_eq!(status(authorize(who.as_ref(), action, target)), expected, "{role:?} {action:?} {target:?}");
        }
    }

    #[test]
    fn list_visibility() {
        assert_eq!(plan_visibility(None), Visibility::Public);
        assert_eq!(plan_visibility(Some(&caller(Role::Admin))), Visibility::All);
        assert_eq!(plan_visibility(Some(&caller(Role::Viewer))), Visibility::PublicAnd(vec!["185".into()]));
        assert_eq!(plan_visibility(Some(&caller(Role::Consultee))), Visibility::Public);
    }
}
