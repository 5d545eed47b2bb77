//! The permission policy: the one place that answers "may this caller do this here?".
//! Every handler asks it; `tests/api/permissions.rs` walks every route × role × municipality.
//!
//! - `admin` may do everything everywhere.
//! - Other roles act only in their own municipalities: `planner` edits plans and their content,
//!   `approver` records decisions, and `planner`, `approver` and `viewer` read everything there,
//!   drafts included.
//! - `consultee` and anonymous callers read what is public: plans with an adopted version.
//! - Hearings: a consultee also reads the hearings its party is invited to (in its
//!   municipalities), the versions they are on, and its own party's comments; anyone reads closed
//!   hearings with their submitted comments; only a comment's author (or an admin) changes it.
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

/// What a caller gets for anything it may not see: the same as for what does not exist.
pub fn not_found() -> ApiError {
    ApiError::NotFound("no such resource, or it is not visible to this caller".into())
}

/// Paths that never look at a token: logging in (a stale token sent along, or HTTP Basic client
/// authentication, is no reason to refuse), and the operational and documentation endpoints
/// (the problem-type pages among them).
pub fn needs_no_token(path: &str) -> bool {
    matches!(path, "/api/v1/auth/token" | "/healthz" | "/readyz" | "/metrics" | "/openapi.json")
        || path == "/docs"
        || path.starts_with("/docs/")
        || path == "/problems"
        || path.starts_with("/problems/")
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

/// How much of a hearing a caller sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HearingAccess {
    /// The plan's own readers (admin; planner, approver and viewer of its municipality): everything.
    Full,
    /// A consultee of an invited party: the hearing, its own party's comments, and every
    /// submitted comment once the hearing has closed.
    Party(String),
    /// Anyone, once the hearing has closed: the submitted comments and responses.
    Public,
}

/// The party a caller speaks for in a hearing: a consultee acting in the plan's municipality
/// whose party is among the invited `parties`.
pub fn invited_party<'a>(caller: Option<&'a Caller>, municipality: &str, parties: &[String]) -> Option<&'a str> {
    let caller = caller.filter(|c| c.role == Role::Consultee && c.acts_in(municipality))?;
    let party = caller.party.as_deref()?;
    parties.iter().any(|p| p == party).then_some(party)
}

/// How much of a hearing on a plan of `municipality` the caller sees; `None`: nothing (404).
pub fn hearing_access(
    caller: Option<&Caller>,
    municipality: &str,
    parties: &[String],
    closed: bool,
) -> Option<HearingAccess> {
    if can_see(caller, Target::plan(municipality, false)) {
        Some(HearingAccess::Full)
    } else if let Some(party) = invited_party(caller, municipality, parties) {
        Some(HearingAccess::Party(party.to_owned()))
    } else {
        closed.then_some(HearingAccess::Public)
    }
}

/// Whether a caller with `access` to a hearing sees one of its comments, by the comment's
/// party and whether it is submitted (not withdrawn).
pub fn may_see_comment(access: &HearingAccess, hearing_closed: bool, party: &str, submitted: bool) -> bool {
    match access {
        HearingAccess::Full => true,
        HearingAccess::Party(own) => own == party || (hearing_closed && submitted),
        HearingAccess::Public => submitted,
    }
}

/// Whether a caller may edit or withdraw a comment submitted by `author`: only its author
/// (or an admin), never a colleague of the same party.
pub fn may_change_comment(caller: &Caller, author: &str) -> bool {
    caller.name == author || caller.role == Role::Admin
}

/// Whether a consultee may read a version of a plan of `municipality` that it may not read
/// otherwise: one of the hearings on that version (`invitations`, each hearing's invited
/// parties) invites its party.
pub fn consultee_may_read_version(caller: Option<&Caller>, municipality: &str, invitations: &[Vec<String>]) -> bool {
    invitations.iter().any(|parties| invited_party(caller, municipality, parties).is_some())
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

    fn consultee(party: &str) -> Caller {
        Caller { party: Some(party.into()), ..caller(Role::Consultee) }
    }

    #[test]
    fn hearing_access_and_comment_visibility() {
        let invited = ["Handicaprådet".to_owned(), "RAR Hovedstaden".to_owned()];
        let handicap = consultee("Handicaprådet");
        let other = consultee("Integrationsrådet");
        let access = |c: Option<&Caller>, m: &str, closed| hearing_access(c, m, &invited, closed);
        assert_eq!(access(Some(&caller(Role::Viewer)), "185", false), Some(HearingAccess::Full));
        assert_eq!(access(Some(&handicap), "185", false), Some(HearingAccess::Party("Handicaprådet".into())));
        // Invited, but the consultee does not act in the plan's municipality.
        assert_eq!(access(Some(&handicap), "201", false), None);
        assert_eq!(access(Some(&other), "185", false), None);
        assert_eq!(access(Some(&other), "185", true), Some(HearingAccess::Public));
        assert_eq!(access(None, "185", false), None);
        assert_eq!(access(None, "185", true), Some(HearingAccess::Public));

        let own = HearingAccess::Party("Handicaprådet".into());
        // (access, hearing closed, comment's party, submitted, expected)
        let cases = [
            (&HearingAccess::Full, false, "RAR Hovedstaden", false, true),
            (&own, false, "Handicaprådet", false, true),
            (&own, false, "RAR Hovedstaden", true, false),
            (&own, true, "RAR Hovedstaden", true, true),
            (&own, true, "RAR Hovedstaden", false, false),
            (&HearingAccess::Public, true, "RAR Hovedstaden", true, true),
            (&HearingAccess::Public, true, "RAR Hovedstaden", false, false),
        ];
        for (access, closed, party, submitted, expected) in cases {
            assert_eq!(may_see_comment(access, closed, party, submitted), expected, "{access:?} {closed} {party}");
        }
        assert!(may_change_comment(&handicap, "u"));
        assert!(!may_change_comment(&handicap, "someone else"));
        assert!(may_change_comment(&Caller { name: "root".into(), ..caller(Role::Admin) }, "u"));
    }

    #[test]
    fn consultees_read_versions_in_hearing() {
        let invitations = vec![vec!["RAR Hovedstaden".to_owned()], vec!["Handicaprådet".to_owned()]];
        assert!(consultee_may_read_version(Some(&consultee("Handicaprådet")), "185", &invitations));
        assert!(!consultee_may_read_version(Some(&consultee("Handicaprådet")), "201", &invitations));
        assert!(!consultee_may_read_version(Some(&consultee("Integrationsrådet")), "185", &invitations));
        assert!(!consultee_may_read_version(Some(&consultee("Handicaprådet")), "185", &[]));
        assert!(!consultee_may_read_version(None, "185", &invitations));
        // The party alone is not enough: only a consultee reads this way.
        let planner = Caller { party: Some("Handicaprådet".into()), ..caller(Role::Planner) };
        assert!(!consultee_may_read_version(Some(&planner), "201", &invitations));
    }

    #[test]
    fn list_visibility() {
        assert_eq!(plan_visibility(None), Visibility::Public);
        assert_eq!(plan_visibility(Some(&caller(Role::Admin))), Visibility::All);
        assert_eq!(plan_visibility(Some(&caller(Role::Viewer))), Visibility::PublicAnd(vec!["185".into()]));
        assert_eq!(plan_visibility(Some(&caller(Role::Consultee))), Visibility::Public);
    }
}
