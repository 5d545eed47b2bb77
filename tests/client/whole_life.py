"""A plan's whole life through the Python client generated from openapi/openapi.json.

Run by tests/client/run.sh, which generates the package `beskplan_client`, puts it on PYTHONPATH
and starts a server with the demo data:

    python whole_life.py BASE_URL OPENAPI_JSON [--keep-going]

Every call goes through a generated operation (`beskplan_client.api.<tag>.<operation>
.sync_detailed`). Each step checks that
  - the status is the one expected, and one the contract documents for the operation (the clients
    raise on an undocumented status);
  - a success body parses into the contract's model: `response.parsed` is that model, not None or
    a dict (and a list's items are the item's own model, not a copy made for the list);
  - every header of the answer that this test knows the meaning of (ETag, Location, …) is
    declared for that operation and status in the contract.
The first failure ends the run with the step, the status and the body. With --keep-going a failed
contract check (a model, a header) is counted and the walk goes on; a wrong status still ends it.
The last line is `whole_life: N passed, M failed`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import traceback
import uuid
from typing import Any

import httpx

from beskplan_client import AuthenticatedClient, Client, errors
from beskplan_client import models as m
from beskplan_client.api.audit import list_audit
from beskplan_client.api.auth import issue_token, me
from beskplan_client.api.content import (
    create_focus_area,
    create_follow_up_measure,
    create_goal,
    create_requirement,
    create_section,
    get_goal,
    list_goals,
    list_sections,
    update_goal,
)
from beskplan_client.api.follow_up import (
    create_measure_measurement,
    create_requirement_measurement,
    follow_up_report,
    list_requirement_measurements,
)
from beskplan_client.api.hearings import (
    close_hearing,
    create_comment,
    create_hearing,
    get_hearing,
    hearing_summary,
    list_comments,
    respond,
    update_comment,
)
from beskplan_client.api.municipalities import list_municipalities
from beskplan_client.api.operations import readyz
from beskplan_client.api.plans import create_plan, get_plan, list_plans, update_plan
from beskplan_client.api.versions import create_version, diff_versions, get_version, list_versions, version_document
from beskplan_client.api.workflow import create_decision, get_readiness, list_decisions
from beskplan_client.types import File

PARTY = "Handicaprådet"  # the demo consultee's party
# Response headers whose meaning this test knows; one that is sent must be declared.
WATCHED_HEADERS = ("etag", "location", "link", "x-request-id", "idempotent-replayed", "cache-control", "retry-after")


def is_model(value: object) -> bool:
    """Whether `value` is an instance of one of the generated models (not a dict, None or Any)."""
    return type(value).__module__.startswith("beskplan_client.models.")


class Stop(Exception):
    """A failure after which the walk cannot go on."""


class Walk:
    def __init__(self, base_url: str, spec_path: str, keep_going: bool):
        self.base_url = base_url
        self.keep_going = keep_going
        self.passed = 0
        self.failed = 0
        # A failed contract check -> the steps where it failed (for the summary of --keep-going).
        self.issues: dict[str, list[str]] = {}
        self.last: httpx.Response | None = None  # the last raw answer, for messages
        with open(spec_path, encoding="utf-8") as f:
            spec = json.load(f)
        # operationId -> {status: {declared header names, lower case}}
        self.declared: dict[str, dict[str, set[str]]] = {}
        for item in spec["paths"].values():
            for op in item.values():
                if isinstance(op, dict) and "operationId" in op:
                    self.declared[op["operationId"]] = {
                        status: {h.lower() for h in (r.get("headers") or {})} for status, r in op["responses"].items()
                    }

    # --- clients -----------------------------------------------------------------------------
    def _keep(self, response: httpx.Response) -> None:
        self.last = response

    def _httpx_args(self) -> dict[str, Any]:
        # trust_env=False: no proxy from the environment for a loopback server.
        return {"event_hooks": {"response": [self._keep]}, "trust_env": False}

    def anonymous(self) -> Client:
        return Client(base_url=self.base_url, raise_on_unexpected_status=True, httpx_args=self._httpx_args())

    def authenticated(self, token: str) -> AuthenticatedClient:
        return AuthenticatedClient(
            base_url=self.base_url, token=token, raise_on_unexpected_status=True, httpx_args=self._httpx_args()
        )

    # --- checks ------------------------------------------------------------------------------
    def _body(self) -> str:
        if self.last is None:
            return "(no response)"
        try:
            text = self.last.read().decode("utf-8", "replace")
        except Exception as e:  # only for the message
            text = f"(unreadable: {e})"
        return text if len(text) <= 2000 else text[:2000] + "…"

    def stop(self, step: str, why: str, counted: bool = False) -> None:
        status = self.last.status_code if self.last is not None else "-"
        if not counted:
            self.failed += 1
        raise Stop(f"FAIL {step}: {why}\n  status: {status}\n  body: {self._body()}")

    def expect(self, step: str, condition: bool, why: str) -> None:
        if not condition:
            self.stop(step, why)

    def report(self, step: str, issues: list[str]) -> None:
        """One line for the step; failed contract checks end the run unless --keep-going."""
        if not issues:
            self.passed += 1
            return
        self.failed += 1
        for issue in issues:
            self.issues.setdefault(issue, []).append(step)
        if not self.keep_going:
            self.stop(step, "; ".join(issues), counted=True)
        print(f"FAIL {step}: {'; '.join(issues)}", flush=True)

    def check(self, step: str, condition: bool, issue: str) -> None:
        """A contract check outside call() (a nested model, a field's type)."""
        self.report(step, [] if condition else [issue])
        if condition:
            print(f"ok   {step}", flush=True)

    def call(
        self,
        step: str,
        operation: Any,
        status: int,
        model: type | None = None,
        /,
        *,
        items: type | None = None,
        **kwargs: Any,
    ):
        """Calls `operation.sync_detailed(**kwargs)` and checks the answer (see the module doc).

        The first four are positional-only, so that an operation's own `status` filter is a kwarg.

        Returns the response, or None when its body could not be parsed (with --keep-going)."""
        op_id = operation.__name__.rsplit(".", 1)[-1]
        self.last = None
        try:
            response = operation.sync_detailed(**kwargs)
        except errors.UnexpectedStatus as e:
            self.stop(step, f"status {e.status_code} is not in the contract of {op_id}")
        except Exception as e:  # the generated parser failed on the body
            if self.last is None:
                raise
            if self.last.status_code != status:
                self.stop(step, f"expected status {status}, got {self.last.status_code}")
            self.report(
                step, [f"{op_id} {status}: the body does not parse into the contract's model ({type(e).__name__}: {e})"]
            )
            return None
        if response.status_code != status:
            self.stop(step, f"expected status {status}, got {response.status_code}")
        issues = []
        parsed = response.parsed
        if model is not None and not isinstance(parsed, model):
            what = "None: the contract declares no schema for it" if parsed is None else type(parsed).__name__
            issues.append(f"{op_id} {status}: response.parsed is {what}, not {model.__name__}")
        if items is not None and parsed is not None and hasattr(parsed, "items"):
            odd = sorted({type(i).__name__ for i in parsed.items if not isinstance(i, items)})
            if odd:
                issues.append(f"{op_id} {status}: list items are {', '.join(odd)}, not {items.__name__}")
        declared = self.declared.get(op_id, {}).get(str(status), set())
        for header in WATCHED_HEADERS:
            if header in response.headers and header not in declared:
                issues.append(f"header {header} sent but not declared")
        self.report(step, issues)
        if not issues:
            print(f"ok   {step} -> {status} {type(parsed).__name__ if parsed is not None else ''}".rstrip(), flush=True)
        return response


def etag_of(walk: Walk, step: str, response) -> str:
    etag = response.headers.get("etag")
    walk.expect(step, bool(etag), "no ETag header")
    return etag


def whole_life(walk: Walk) -> None:
    # The generator types every operation that has a `security` entry as needing an
    # AuthenticatedClient, even where `{}` (no token) is allowed: the anonymous reads below pass a
    # plain Client, which the generated functions take all the same.
    anon = walk.anonymous()
    today = dt.date.today()
    now = dt.datetime.now(dt.UTC)

    walk.call("readyz", readyz, 200, m.Health, client=anon)

    # --- tokens --------------------------------------------------------------------------------
    tokens = {}
    for user in ("planner", "approver", "consultee", "viewer", "admin"):
        body = m.TokenRequest(grant_type="password", username=user, password=f"demo-{user}-password")
        r = walk.call(f"token ({user})", issue_token, 200, m.TokenResponse, client=anon, body=body)
        walk.expect("token", r.parsed.token_type.lower() == "bearer", f"token_type {r.parsed.token_type!r}")
        tokens[user] = r.parsed.access_token
    planner, approver, consultee, viewer, admin = (
        walk.authenticated(tokens[u]) for u in ("planner", "approver", "consultee", "viewer", "admin")
    )
    r = walk.call("me (consultee)", me, 200, m.Me, client=consultee)
    walk.expect("me (consultee)", r.parsed.party == PARTY, f"the consultee's party is {r.parsed.party!r}")
    # The plan goes to the consultee's municipality (Lyngby-Taarbæk in the demo data), so that its
    # party can be heard, in the first year from 2031 on that has no plan yet.
    muni = r.parsed.municipalities[0]
    bad = m.TokenRequest(grant_type="password", username="planner", password="not-the-password")
    walk.call("token with a wrong password", issue_token, 401, m.Problem, client=anon, body=bad)

    # --- municipalities and plans ----------------------------------------------------------------
    r = walk.call(
        "list municipalities (anonymous)",
        list_municipalities,
        200,
        m.ListOfMunicipality,
        items=m.Municipality,
        client=anon,
        limit=500,
    )
    walk.expect("list municipalities", muni in {i.code for i in r.parsed.items}, f"no municipality {muni}")
    r = walk.call(
        "list plans of the municipality",
        list_plans,
        200,
        m.ListOfPlan,
        items=m.Plan,
        client=planner,
        municipality=muni,
        limit=500,
    )
    taken = {p.year for p in r.parsed.items}
    year = next(y for y in range(2031, 2100) if y not in taken)

    new_plan = m.NewPlan(
        municipality=muni, year=year, title=f"Beskæftigelsesplan {year}", summary="Kladde til høring: æ ø å."
    )
    r = walk.call(
        "create plan", create_plan, 201, m.Plan, client=planner, body=new_plan, idempotency_key=str(uuid.uuid4())
    )
    plan = r.parsed
    walk.expect("create plan", bool(r.headers.get("location")), "no Location header")
    walk.expect("create plan", r.headers.get("etag") == plan.etag, "the ETag header and the etag field differ")
    walk.expect(
        "create plan", plan.status == m.PlanStatus.DRAFT and plan.latest_version is None, f"status {plan.status}"
    )
    walk.call("create the same plan again", create_plan, 409, m.Problem, client=planner, body=new_plan)

    # --- content -----------------------------------------------------------------------------
    section = m.SectionFields(heading="Indledning", body="Planen beskriver **indsatsen** i kommunen.")
    key = str(uuid.uuid4())
    first = walk.call(
        "create section",
        create_section,
        201,
        m.Section,
        client=planner,
        plan_id=plan.id,
        body=section,
        idempotency_key=key,
    )
    again = walk.call(
        "create section, retried with its Idempotency-Key",
        create_section,
        201,
        m.Section,
        client=planner,
        plan_id=plan.id,
        body=section,
        idempotency_key=key,
    )
    walk.expect(
        "idempotent retry",
        again.headers.get("idempotent-replayed") == "true" and again.parsed.id == first.parsed.id,
        "the retry was not a replay",
    )
    walk.call(
        "create a second section",
        create_section,
        201,
        m.Section,
        client=planner,
        plan_id=plan.id,
        body=m.SectionFields(heading="Udfordringer", body="Flere unge på kanten af arbejdsmarkedet.", position=0),
    )
    r = walk.call(
        "list sections", list_sections, 200, m.ListOfSection, items=m.Section, client=planner, plan_id=plan.id
    )
    walk.expect(
        "list sections",
        [s.heading for s in r.parsed.items] == ["Udfordringer", "Indledning"],
        "position 0 did not go first",
    )

    r = walk.call(
        "create focus area",
        create_focus_area,
        201,
        m.FocusArea,
        client=planner,
        plan_id=plan.id,
        body=m.FocusAreaFields(title="Unge", description="Unge under 30 år"),
    )
    focus_area = r.parsed
    r = walk.call(
        "create goal",
        create_goal,
        201,
        m.Goal,
        client=planner,
        plan_id=plan.id,
        body=m.GoalFields(
            title="Færre unge på offentlig forsørgelse",
            kind=m.GoalKind.MINISTERIAL,
            number="Mål 1",
            focus_area_id=focus_area.id,
            target_groups=["LAB 2.1"],
            initiatives=["Virksomhedsrettet indsats"],
        ),
    )
    goal = r.parsed
    r = walk.call(
        "create requirement",
        create_requirement,
        201,
        m.Requirement,
        client=planner,
        goal_id=goal.id,
        body=m.RequirementFields(
            statement=f"Antallet af unge på offentlig forsørgelse reduceres med 10 % i {year}",
            indicator="Unge på offentlig forsørgelse (antal personer)",
            unit=m.Unit.PERSONS,
            comparator=m.Comparator.DECREASE_BY_PERCENT,
            baseline=m.Baseline(value=400, as_of=dt.date(year - 1, 12, 31)),
            target=m.Target(value=10, due=dt.date(year, 12, 31), placeholder=False),
            data_source="Jobindsats.dk",
            frequency=m.Frequency.QUARTERLY,
        ),
    )
    requirement = r.parsed
    r = walk.call(
        "create follow-up measure",
        create_follow_up_measure,
        201,
        m.FollowUpMeasure,
        client=planner,
        goal_id=goal.id,
        body=m.FollowUpMeasureFields(
            indicator="Unge i virksomhedspraktik", unit=m.Unit.COUNT, frequency=m.Frequency.MONTHLY
        ),
    )
    measure = r.parsed
    walk.call(
        "list goals (kind filter)",
        list_goals,
        200,
        m.ListOfGoal,
        items=m.Goal,
        client=planner,
        plan_id=plan.id,
        kind=m.GoalKind.MINISTERIAL,
    )

    # --- measurements --------------------------------------------------------------------------
    walk.call(
        "record requirement measurement",
        create_requirement_measurement,
        201,
        m.Measurement,
        client=planner,
        id=requirement.id,
        body=m.NewMeasurement(period_end=dt.date(year, 3, 31), value=380, source="Jobindsats.dk"),
    )
    walk.call(
        "record follow-up measurement",
        create_measure_measurement,
        201,
        m.Measurement,
        client=planner,
        id=measure.id,
        body=m.NewMeasurement(period_end=dt.date(year, 1, 31), value=12),
    )
    walk.call(
        "list requirement measurements",
        list_requirement_measurements,
        200,
        m.ListOfMeasurement,
        items=m.Measurement,
        client=planner,
        id=requirement.id,
    )
    try:
        from beskplan_client.api.follow_up import import_measurements
    except ImportError:
        print("skip CSV measurement import: not in the generated client (text/csv request body)", flush=True)
    else:
        csv = f"kind,id,period_end,value\nrequirement,{requirement.id},{year}-06-30,370\n".encode()
        walk.call(
            "import measurements (CSV)",
            import_measurements,
            200,
            m.ImportResult,
            client=planner,
            plan_id=plan.id,
            body=File(payload=io.BytesIO(csv), file_name="measurements.csv", mime_type="text/csv"),
        )

    # --- a change with If-Match, two versions, their diff ----------------------------------------
    r = walk.call("get plan", get_plan, 200, m.Plan, client=planner, plan_id=plan.id)
    plan_etag = etag_of(walk, "get plan", r)
    # If-None-Match goes on a client of its own: with_headers() also changes the headers of the
    # client it is called on once that has made a request.
    cached = walk.authenticated(tokens["planner"]).with_headers({"If-None-Match": plan_etag})
    walk.call("get plan with If-None-Match", get_plan, 304, None, client=cached, plan_id=plan.id)
    walk.call(
        "patch plan with a stale If-Match",
        update_plan,
        412,
        m.Problem,
        client=planner,
        plan_id=plan.id,
        body=m.PlanMergePatch(title="Forældet"),
        if_match='"stale"',
    )
    r = walk.call(
        "patch plan with If-Match",
        update_plan,
        200,
        m.Plan,
        client=planner,
        plan_id=plan.id,
        body=m.PlanMergePatch(summary="Udkast til høring."),
        if_match=plan_etag,
    )
    walk.expect(
        "patch plan",
        r.parsed.summary == "Udkast til høring." and r.headers.get("etag") != plan_etag,
        "summary or ETag unchanged",
    )

    r = walk.call(
        "create version 1",
        create_version,
        201,
        m.VersionDocument,
        client=planner,
        plan_id=plan.id,
        body=m.NewVersion(label="Udkast 1"),
    )
    walk.expect(
        "create version 1", r.parsed.number == 1 and len(r.parsed.document.goals) == 1, f"version {r.parsed.number}"
    )
    r = walk.call("get goal", get_goal, 200, m.Goal, client=planner, id=goal.id)
    old_title = r.parsed.title
    new_title = "Færre unge på offentlig forsørgelse og flere i uddannelse"
    walk.call(
        "patch goal with If-Match",
        update_goal,
        200,
        m.Goal,
        client=planner,
        id=goal.id,
        body=m.GoalMergePatch(title=new_title),
        if_match=etag_of(walk, "get goal", r),
    )
    walk.call(
        "create version 2",
        create_version,
        201,
        m.VersionDocument,
        client=planner,
        plan_id=plan.id,
        body=m.NewVersion(label="Høringsudkast", note="Til høring"),
    )
    walk.call("list versions", list_versions, 200, m.ListOfVersion, items=m.Version, client=planner, plan_id=plan.id)
    r = walk.call("get version 2", get_version, 200, m.VersionDocument, client=planner, plan_id=plan.id, n=2)
    goals = r.parsed.document.goals
    walk.expect(
        "get version 2",
        goals[0].title == new_title and isinstance(goals[0].requirements[0], m.DocumentRequirement),
        "the document's goal",
    )
    r = walk.call(
        "diff version 2 against 1", diff_versions, 200, m.Diff, client=planner, plan_id=plan.id, n=2, against=1
    )
    if r is not None and isinstance(r.parsed, m.Diff):
        change = next((c for c in r.parsed.changed if c.id == goal.id), None)
        walk.expect(
            "diff", change is not None and "title" in change.fields, "the goal's title is not among the changes"
        )
        title = change.fields["title"]
        walk.check(
            "diff: the goal's title before/after",
            (title.before, title.after) == (old_title, new_title),
            f"FieldChange before/after are {title.before!r} / {title.after!r}, not the two titles",
        )

    # --- hearing ---------------------------------------------------------------------------------
    r = walk.call(
        "open hearing on version 2",
        create_hearing,
        201,
        m.Hearing,
        client=planner,
        plan_id=plan.id,
        body=m.NewHearing(
            version=2,
            title=f"Høring over beskæftigelsesplan {year}",
            closes_at=now + dt.timedelta(days=14),
            parties=[PARTY, "RAR Hovedstaden"],
        ),
    )
    hearing = r.parsed
    walk.expect("open hearing", hearing.status == m.HearingStatus.OPEN, f"hearing status {hearing.status}")
    r = walk.call("plan is in hearing", get_plan, 200, m.Plan, client=viewer, plan_id=plan.id)
    walk.expect("plan is in hearing", r.parsed.status == m.PlanStatus.IN_HEARING, f"plan status {r.parsed.status}")
    walk.call("consultee reads the hearing", get_hearing, 200, m.Hearing, client=consultee, id=hearing.id)
    r = walk.call(
        "consultee comments",
        create_comment,
        201,
        m.Comment,
        client=consultee,
        id=hearing.id,
        body=m.NewComment(
            body="Handicaprådet savner et mål for borgere med handicap.",
            stance=m.Stance.OBJECTS,
            target=m.CommentTarget(type_=m.TargetType.GOAL, id=goal.id),
        ),
    )
    comment = r.parsed
    walk.expect("consultee comments", comment.party == PARTY, f"recorded for party {comment.party!r}")
    r = walk.call(
        "consultee edits the comment",
        update_comment,
        200,
        m.Comment,
        client=consultee,
        id=comment.id,
        body=m.CommentMergePatch(body="Handicaprådet savner et mål for borgere med handicap i job."),
        if_match=comment.etag,
    )
    r = walk.call(
        "readiness while the hearing is open", get_readiness, 200, m.Readiness, client=planner, plan_id=plan.id
    )
    kinds = {b.kind for b in r.parsed.blockers} if r.parsed else set()
    walk.expect(
        "readiness",
        not r.parsed.ready and m.BlockerKind.OPEN_HEARING in kinds and m.BlockerKind.UNANSWERED_COMMENT in kinds,
        f"blockers {kinds}",
    )
    walk.call(
        "list comments",
        list_comments,
        200,
        m.ListOfComment,
        items=m.Comment,
        client=planner,
        id=hearing.id,
        party=PARTY,
    )
    r = walk.call(
        "planner responds",
        respond,
        200,
        m.Comment,
        client=planner,
        id=comment.id,
        body=m.NewResponse(
            disposition=m.Disposition.PARTIALLY_ACCOMMODATED, text="Målet udvides til at omfatte borgere med handicap."
        ),
    )
    walk.expect("planner responds", isinstance(r.parsed.response, m.CommentResponse), "the comment has no typed response")
    r = walk.call("close hearing", close_hearing, 200, m.Hearing, client=planner, id=hearing.id)
    walk.expect("close hearing", r.parsed.status == m.HearingStatus.CLOSED, f"hearing status {r.parsed.status}")
    r = walk.call("plan is a draft again", get_plan, 200, m.Plan, client=planner, plan_id=plan.id)
    walk.expect("plan is a draft again", r.parsed.status == m.PlanStatus.DRAFT, f"plan status {r.parsed.status}")
    # The contract names these two bodies' models as it likes; what counts is that they are typed.
    r = walk.call("hearing summary (JSON)", hearing_summary, 200, m.HearingSummary, client=planner, id=hearing.id)
    if r is not None and is_model(r.parsed):
        summary = r.parsed
        party = next((p for p in summary.parties if getattr(p, "party", None) == PARTY), None)
        walk.expect("hearing summary", party is not None and summary.unanswered == 0, f"no answered comment of {PARTY}")
        walk.check(
            "hearing summary: typed parts",
            isinstance(summary.hearing, m.Hearing)
            and is_model(party)
            and all(is_model(c) and isinstance(c.response, m.CommentResponse) for c in party.comments),
            "the hearing, the parties, their comments or the responses are not the contract's models",
        )
    r = walk.call(
        "follow-up report (JSON)",
        follow_up_report,
        200,
        m.FollowUpReport,
        client=planner,
        plan_id=plan.id,
        as_of=dt.date(year, 4, 30),
    )
    if r is not None and is_model(r.parsed):
        report = r.parsed
        line = next((q for q in report.requirements if getattr(q, "requirement_id", None) == requirement.id), None)
        walk.expect("follow-up report", line is not None, "the requirement is not in the report")
        walk.check(
            "follow-up report: typed parts",
            is_model(report.counts)
            and is_model(line)
            and isinstance(line.latest, m.Measurement)
            and isinstance(line.target, m.Target)
            and all(is_model(f) for f in report.follow_up_measures),
            "the counts, the requirement lines, their latest measurement or target are not the contract's models",
        )

    # --- decisions -------------------------------------------------------------------------------
    r = walk.call("readiness after the hearing", get_readiness, 200, m.Readiness, client=approver, plan_id=plan.id)
    walk.expect(
        "readiness",
        r.parsed.ready and r.parsed.version == 2,
        f"ready={r.parsed.ready} version={r.parsed.version} blockers={[b.detail for b in r.parsed.blockers]}",
    )
    walk.call(
        "committee recommends version 2",
        create_decision,
        201,
        m.Decision,
        client=approver,
        plan_id=plan.id,
        body=m.NewDecision(
            body="Beskæftigelsesudvalget",
            outcome=m.Outcome.RECOMMENDED,
            version=2,
            meeting_date=today,
            case_number="31.01.00-P15-1-30",
        ),
    )
    r = walk.call("plan awaits approval", get_plan, 200, m.Plan, client=approver, plan_id=plan.id)
    walk.expect(
        "plan awaits approval", r.parsed.status == m.PlanStatus.AWAITING_APPROVAL, f"plan status {r.parsed.status}"
    )
    walk.call(
        "council approves version 2",
        create_decision,
        201,
        m.Decision,
        client=approver,
        plan_id=plan.id,
        body=m.NewDecision(
            body="Kommunalbestyrelsen",
            outcome=m.Outcome.APPROVED,
            version=2,
            meeting_date=today,
            text="Godkendt uden bemærkninger.",
        ),
    )
    walk.call("list decisions", list_decisions, 200, m.ListOfDecision, items=m.Decision, client=viewer, plan_id=plan.id)

    # --- audit, then anonymous reads of the adopted plan -----------------------------------------
    r = walk.call(
        "audit log of the plan (admin)",
        list_audit,
        200,
        m.ListOfAuditEntry,
        items=m.AuditEntry,
        client=admin,
        entity_id=plan.id,
    )
    walk.expect("audit log", r.parsed.total >= 1, "no audit entries for the plan")
    walk.call("audit log (planner is refused)", list_audit, 403, m.Problem, client=planner)

    r = walk.call("anonymous: adopted plan", get_plan, 200, m.Plan, client=anon, plan_id=plan.id)
    walk.expect(
        "anonymous: adopted plan",
        r.parsed.status == m.PlanStatus.ADOPTED and r.parsed.adopted_version == 2,
        f"status {r.parsed.status}, adopted_version {r.parsed.adopted_version}",
    )
    r = walk.call(
        "anonymous: adopted plans of the municipality",
        list_plans,
        200,
        m.ListOfPlan,
        items=m.Plan,
        client=anon,
        municipality=muni,
        status=m.PlanStatus.ADOPTED,
    )
    walk.expect("anonymous: list plans", plan.id in {p.id for p in r.parsed.items}, "the adopted plan is not listed")
    walk.call("anonymous: adopted version", get_version, 200, m.VersionDocument, client=anon, plan_id=plan.id, n=2)
    r = walk.call("anonymous: rendered document", version_document, 200, None, client=anon, plan_id=plan.id, n=2)
    walk.expect(
        "anonymous: rendered document",
        r.headers.get("content-type", "").startswith("text/html"),
        r.headers.get("content-type", ""),
    )
    walk.call("anonymous: closed hearing", get_hearing, 200, m.Hearing, client=anon, id=hearing.id)
    walk.call(
        "anonymous: comments with responses",
        list_comments,
        200,
        m.ListOfComment,
        items=m.Comment,
        client=anon,
        id=hearing.id,
    )
    walk.call("anonymous: hearing summary", hearing_summary, 200, m.HearingSummary, client=anon, id=hearing.id)
    walk.call(
        "anonymous: a draft is not found", get_plan, 404, m.Problem, client=anon, plan_id=_draft_plan(walk, viewer)
    )


def _draft_plan(walk: Walk, viewer: AuthenticatedClient) -> str:
    r = walk.call(
        "viewer: draft plans", list_plans, 200, m.ListOfPlan, items=m.Plan, client=viewer, status=m.PlanStatus.DRAFT
    )
    walk.expect("viewer: draft plans", r.parsed.total > 0, "the demo data has no draft plan")
    return r.parsed.items[0].id


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--keep-going"]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    walk = Walk(args[0], args[1], keep_going="--keep-going" in sys.argv[1:])
    try:
        whole_life(walk)
    except Stop as e:
        print(e, flush=True)
    except Exception:  # a bug here, or a body shaped unlike its model
        walk.failed += 1
        print(
            f"FAIL (the walk itself broke; last status {walk.last.status_code if walk.last else '-'})\n{traceback.format_exc()}",
            flush=True,
        )
    if walk.keep_going and walk.issues:
        print("\nfailed contract checks (steps):")
        for issue, steps in walk.issues.items():
            shown = ", ".join(steps[:4]) + (f", … ({len(steps)} steps)" if len(steps) > 4 else "")
            print(f"  {issue}\n      {shown}")
    print(f"whole_life: {walk.passed} passed, {walk.failed} failed")
    return 1 if walk.failed else 0


if __name__ == "__main__":
    sys.exit(main())
