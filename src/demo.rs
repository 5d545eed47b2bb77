//! Demo data: the five seed documents as the municipalities would have entered them, through the
//! same functions the API calls, so every rule applies and the data is always valid.
//!
//! Loaded into an empty database by `BESKPLAN_DEMO=1` at start-up or by `beskplan demo`.

use actix_web::http::header::HeaderMap;
use diesel::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::api::content::focus_areas::FocusAreas;
use crate::api::content::follow_up_measures::FollowUpMeasures;
use crate::api::content::goals::Goals;
use crate::api::content::requirements::Requirements;
use crate::api::content::sections::Sections;
use crate::api::follow_up::{self, Subject};
use crate::api::versions::VersionCache;
use crate::api::{content, hearings, municipalities, plans, users, versions, workflow};
use crate::auth::{Caller, PrincipalKind, RequestContext};
use crate::db::schema::plans as plans_table;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};

/// The demo users: `(username, role, password)`. Their municipalities are all six; the consultee
/// is Handicaprådet in Lyngby-Taarbæk.
pub const USERS: [(&str, &str, &str); 4] = [
    ("planner", "planner", "demo-planner-password"),
    ("approver", "approver", "demo-approver-password"),
    ("consultee", "consultee", "demo-consultee-password"),
    ("viewer", "viewer", "demo-viewer-password"),
];

/// The admin's password in a demo, unless `BESKPLAN_ADMIN_PASSWORD` says otherwise.
pub const ADMIN_PASSWORD: &str = "demo-admin-password";

const MUNICIPALITIES: [(&str, &str); 6] = [
    ("155", "Dragør Kommune"),
    ("165", "Albertslund Kommune"),
    ("173", "Lyngby-Taarbæk Kommune"),
    ("185", "Tårnby Kommune"),
    ("201", "Allerød Kommune"),
    ("849", "Jammerbugt Kommune"),
];

fn input<T: DeserializeOwned>(value: Value) -> ApiResult<T> {
    serde_json::from_value(value).map_err(|e| ApiError::Internal(format!("demo data: {e}")))
}

struct Demo<'a> {
    conn: &'a mut DbConnection,
    ctx: RequestContext,
    cache: &'a VersionCache,
}

/// What one goal brings: its fields, its requirements, its follow-up measures.
type GoalSpec = (Value, Vec<Value>, Vec<&'static str>);

impl Demo<'_> {
    fn plan(&mut self, body: Value) -> ApiResult<String> {
        Ok(plans::create(self.conn, &self.ctx, input(body)?)?.id)
    }

    fn section(&mut self, plan: &str, heading: &str, body: &str) -> ApiResult<()> {
        content::create::<Sections>(self.conn, &self.ctx, plan, input(json!({"heading": heading, "body": body}))?)?;
        Ok(())
    }

    fn focus_area(&mut self, plan: &str, title: &str, description: Option<&str>) -> ApiResult<String> {
        Ok(content::create::<FocusAreas>(
            self.conn,
            &self.ctx,
            plan,
            input(json!({"title": title, "description": description}))?,
        )?
        .id)
    }

    /// A goal with its requirements and follow-up measures; returns the requirements' ids.
    fn goal(&mut self, plan: &str, (goal, requirement_bodies, measures): GoalSpec) -> ApiResult<Vec<String>> {
        let goal_id = content::create::<Goals>(self.conn, &self.ctx, plan, input(goal)?)?.id;
        let mut ids = Vec::new();
        for body in requirement_bodies {
            ids.push(content::create::<Requirements>(self.conn, &self.ctx, &goal_id, input(body)?)?.id);
        }
        for indicator in measures {
            let body = json!({"indicator": indicator, "unit": "persons"});
            content::create::<FollowUpMeasures>(self.conn, &self.ctx, &goal_id, input(body)?)?;
        }
        Ok(ids)
    }

    fn version(&mut self, plan: &str, label: &str) -> ApiResult<i32> {
        Ok(versions::create(self.conn, &self.ctx, plan, input(json!({"label": label}))?)?.0.number)
    }

    fn decide(&mut self, plan: &str, body: Value) -> ApiResult<()> {
        workflow::decide(self.conn, self.cache, &self.ctx, plan, input(body)?)?;
        Ok(())
    }

    /// Version 1, recommended by a committee and approved by the council.
    fn adopt(&mut self, plan: &str, committee: (&str, &str, Option<&str>), council: (&str, &str)) -> ApiResult<()> {
        let number = self.version(plan, "Vedtaget")?;
        let (body, date, case_number) = committee;
        self.decide(plan, json!({"body": body, "outcome": "recommended", "version": number, "meeting_date": date, "case_number": case_number}))?;
        let (body, date) = council;
        self.decide(
            plan,
            json!({"body": body, "outcome": "approved", "version": number, "meeting_date": date,
                                 "text": "Datoen for byrådets behandling er illustrativ i demodata."}),
        )
    }

    fn measure(&mut self, requirement: &str, period_end: &str, value: f64) -> ApiResult<()> {
        let body = json!({"period_end": period_end, "value": value, "source": "Jobindsats.dk"});
        follow_up::record(self.conn, &self.ctx, Subject::Requirement(requirement), input(body)?)?;
        Ok(())
    }
}

fn requirement(
    statement: &str,
    indicator: &str,
    unit: &str,
    comparator: &str,
    baseline: Option<(Option<f64>, &str)>,
    target: Value,
) -> Value {
    json!({
        "statement": statement, "indicator": indicator, "unit": unit, "comparator": comparator,
        "baseline": baseline.map(|(value, as_of)| json!({"value": value, "as_of": as_of})),
        "target": target, "data_source": "Jobindsats.dk",
    })
}

/// Whether the database holds no plans yet.
pub fn is_empty(conn: &mut DbConnection) -> ApiResult<bool> {
    Ok(plans_table::table.count().get_result::<i64>(conn)? == 0)
}

/// Loads the demo into an empty database; returns false (and does nothing) when it holds plans.
pub fn load(conn: &mut DbConnection, cache: &VersionCache) -> ApiResult<bool> {
    if !is_empty(conn)? {
        return Ok(false);
    }
    let system = RequestContext::system(Caller::system());
    conn.write(|conn| {
        for (code, name) in MUNICIPALITIES {
            if !municipalities::exists(conn, code)? {
                municipalities::create(conn, &system, input(json!({"code": code, "name": name}))?)?;
            }
        }
        let codes: Vec<&str> = MUNICIPALITIES.iter().map(|(code, _)| *code).collect();
        let mut consultee = None;
        for (username, role, password) in USERS {
            let (municipalities, party) =
                if role == "consultee" { (vec!["173"], Some("Handicaprådet")) } else { (codes.clone(), None) };
            let body = json!({"username": username, "display_name": format!("Demo {role}"), "role": role,
                              "municipalities": municipalities, "party": party, "password": password});
            let user = users::create_user(conn, &system, input(body)?)?;
            if role == "consultee" {
                consultee = Some(Caller {
                    id: user.id,
                    name: user.username,
                    display_name: user.display_name,
                    kind: PrincipalKind::User,
                    role: user.role,
                    municipalities: user.municipalities,
                    party: user.party,
                });
            }
        }
        let mut demo = Demo { conn, ctx: system.clone(), cache };
        taarnby(&mut demo)?;
        jammerbugt(&mut demo)?;
        lyngby_taarbaek(&mut demo, consultee.expect("the consultee was created"))?;
        allerod(&mut demo)?;
        albertslund(&mut demo)?;
        Ok(true)
    })
}

/// Tårnby Kommune, Beskæftigelsesplan 2017: Jobcenter Tårnby also serves Dragør; six goals.
fn taarnby(demo: &mut Demo) -> ApiResult<()> {
    let plan = demo.plan(
        json!({"municipality": "185", "year": 2017, "title": "Beskæftigelsesplan 2017", "covers": ["185", "155"],
        "summary": "Jobcenter Tårnby varetager beskæftigelsesindsatsen for Tårnby og Dragør Kommuner."}),
    )?;
    demo.section(&plan, "Indledning", "Målene og resultatkravene i Beskæftigelsesplanen er bygget op omkring de landspolitiske mål udmeldt af Beskæftigelsesministeren, samt lokalpolitiske mål og resultatkrav, som er formuleret i forbindelse med budgettet for det kommende år.")?;
    let due = json!({"due": "2017-12-31"});
    let with = |value: f64| json!({"value": value, "due": "2017-12-31"});
    let goals: Vec<GoalSpec> = vec![
        (json!({"number": "Beskæftigelsesmål 1", "title": "Borgere i udkanten af arbejdsmarkedet, herunder langtidsledige kontanthjælpsmodtagere, skal tættere på arbejdsmarkedet.", "kind": "ministerial", "target_groups": ["LAB 2.1", "LAB 2.2", "LAB 2.3"]}),
         vec![requirement("Den gennemsnitlige varighed skal falde med 1 uge i forhold til 2016.", "Gennemsnitlig varighed (uger)", "weeks", "decrease_by", Some((None, "2016-12-31")), with(1.0)),
              requirement("Den overordnede udslusningsgrad skal være 27 %.", "Udslusningsgrad", "percent", "equal", None, with(27.0))], vec![]),
        (json!({"number": "Beskæftigelsesmål 2", "title": "Flere unge under 30 år skal tage en kompetencegivende uddannelse.", "kind": "ministerial", "target_groups": ["LAB 2.12", "LAB 2.13"]}),
         vec![requirement("Frafaldsprocenten på uddannelser skal reduceres til 20 % for uddannelsesparate, som er i ordinær uddannelse.", "Frafaldsprocent", "percent", "at_most", None, with(20.0))], vec![]),
        (json!({"number": "Beskæftigelsesmål 3", "title": "En omkostningseffektiv indsats – Indholdet i Visitationssamtalerne.", "kind": "local"}),
         vec![requirement("En gennemsnitlig refusionsprocent på 23 %", "Refusionsprocent", "percent", "equal", None, with(23.0))], vec![]),
        (json!({"number": "Beskæftigelsesmål 4", "title": "Virksomhederne skal sikres den nødvendige og kvalificerede arbejdskraft", "kind": "ministerial"}),
         vec![requirement("Udslusningsgraden skal være 27 %.", "Udslusningsgrad", "percent", "equal", None, with(27.0)),
              requirement("SOSU holdene skal være fyldt op i 2017, og alle uddannelsespuljer skal bruges.", "SOSU-hold fyldt op", "none", "done", None, due.clone())], vec![]),
        (json!({"number": "Beskæftigelsesmål 5", "title": "Flere flygtninge og familiesammenførte skal så vidt muligt fastholde deres tilknytning til arbejdspladsen.", "kind": "ministerial"}),
         vec![requirement("Alle jobparate flygtninge skal være i virksomhedsrettet aktivering senest 4 uger efter ankomsten til kommunen.", "Andel i virksomhedsrettet aktivering inden 4 uger", "percent", "at_least", None, with(100.0))], vec![]),
        (json!({"number": "Beskæftigelsesmål 6", "title": "Sygemeldte borgere skal så vidt muligt fastholde deres tilknytning til arbejdspladsen.", "kind": "ministerial", "target_groups": ["LAB 2.5", "LAB 2.14"]}),
         vec![requirement("Den gennemsnitlige varighed af sygedagpenge skal falde med 2 uger i forhold til 2016", "Gennemsnitlig varighed af sygedagpenge (uger)", "weeks", "decrease_by", Some((None, "2016-12-31")), with(2.0)),
              requirement("Den virksomhedsrettede indsats for sygedagpenge skal minimum svare til landsgennemsnittet.", "Virksomhedsrettet indsats på niveau med landsgennemsnittet", "none", "done", None, due.clone())], vec![]),
    ];
    for goal in goals {
        demo.goal(&plan, goal)?;
    }
    demo.adopt(&plan, ("Beskæftigelsesudvalget", "2016-11-15", None), ("Kommunalbestyrelsen", "2016-12-15"))
}

/// Jobcenter Jammerbugt, Beskæftigelsesplan 2015: ministerial, local and qualitative goals, with
/// measurements through 2015.
fn jammerbugt(demo: &mut Demo) -> ApiResult<()> {
    let plan = demo.plan(
        json!({"municipality": "849", "year": 2015, "title": "Beskæftigelsesplan 2015 for Jobcenter Jammerbugt"}),
    )?;
    demo.section(&plan, "Indledning", "Som noget nyt vil der i Beskæftigelsesplan 2015 indgå flere kvalitative mål. Dette er valgt ud fra en overbevisning om, at kvaliteten i beskæftigelsesindsatsen er af meget væsentlig betydning i forhold til borgerne.")?;
    let with = |value: f64| json!({"value": value, "due": "2015-12-31"});
    let goals: Vec<GoalSpec> = vec![
        (json!({"number": "Mål 1", "title": "Flere unge skal have en uddannelse", "kind": "ministerial", "target_groups": ["LAB 2.12", "LAB 2.13"]}),
         vec![requirement("Antallet af unge på uddannelseshjælp reduceres med 10 % fra januar 2014 til december 2015, svarende til et fald fra 280 i januar 2014 til 252 i december 2015.", "Unge på uddannelseshjælp (antal personer)", "persons", "decrease_by_percent", Some((Some(280.0), "2014-01-31")), with(10.0))], vec![]),
        (json!({"number": "Mål 2", "title": "Langvarige modtagere af offentlig forsørgelse skal have en tværfaglig og sammenhængende indsats, der har sigte på en større tilknytning til arbejdsmarkedet.", "kind": "ministerial"}),
         vec![requirement("Der må maksimalt tildeles 4 førtidspensioner pr. måned i 2015.", "Tilkendte førtidspensioner pr. måned", "per_month", "at_most", None, with(4.0))], vec![]),
        (json!({"number": "Mål 3", "title": "Langtidsledigheden skal bekæmpes", "kind": "ministerial", "target_groups": ["LAB 2.1"]}),
         vec![requirement("Antallet af langtidsledige reduceres med 20 % fra januar 2014 til december 2015, svarende til et fald fra 168 personer i januar 2014 til 134 personer i december 2015.", "Langtidsledige (antal personer)", "persons", "decrease_by_percent", Some((Some(168.0), "2014-01-31")), with(20.0))], vec![]),
        (json!({"number": "Mål 4", "title": "En tættere kontakt og styrket dialog med de lokale virksomheder", "kind": "ministerial"}), vec![], vec![]),
        (json!({"title": "Sygedagpengeområdet", "kind": "local"}),
         vec![requirement("Der forventes gennemsnitligt at være maksimalt 80 sygedagpengesager med en varighed på over 52 uger.", "Sygedagpengesager over 52 uger", "count", "at_most", Some((Some(96.0), "2014-09-30")), with(80.0))], vec![]),
        (json!({"title": "Revalidering", "kind": "local"}),
         vec![requirement("Der forventes gennemsnitligt at være minimum 100 igangværende revalideringsbevillinger, dog maksimalt 175.", "Igangværende revalideringsbevillinger", "count", "between", Some((Some(142.0), "2014-09-30")), json!({"value": 100, "value_max": 175, "due": "2015-12-31"}))], vec![]),
        (json!({"title": "Fleksjob og ledighedsydelse", "kind": "local"}),
         vec![requirement("Der forventes gennemsnitligt i 2015 at være 20 borgere, der har modtaget ledighedsydelse i maksimalt 18 måneder.", "Ledighedsydelsesmodtagere over 18 måneder", "persons", "at_most", Some((Some(26.0), "2014-09-30")), with(20.0))], vec![]),
        (json!({"title": "Kontanthjælp", "kind": "local"}),
         vec![requirement("Der forventes gennemsnitligt at være maksimalt 670 kontanthjælpsmodtagere / uddannelseshjælpsmodtagere.", "Kontanthjælps- og uddannelseshjælpsmodtagere", "persons", "at_most", Some((Some(655.0), "2014-09-30")), with(670.0))], vec![]),
        (json!({"title": "Borgertilfredshed", "kind": "qualitative"}),
         vec![requirement("Mindst 1 gang om året inviterer Jobcenter Jammerbugt en repræsentativ gruppe af borgere til dialogmøde.", "Dialogmøde med borgere afholdt", "none", "done", None, json!({"due": "2015-12-31"}))], vec![]),
    ];
    let mut ids = Vec::new();
    for goal in goals {
        ids.extend(demo.goal(&plan, goal)?);
    }
    demo.adopt(&plan, ("Beskæftigelsesudvalget", "2014-11-05", None), ("Kommunalbestyrelsen", "2014-11-27"))?;
    // [unge, førtidspension, langtidsledige, sygedagpenge, revalidering, ledighedsydelse, kontanthjælp, dialogmøde]
    let august = [262.0, 3.0, 140.0, 84.0, 142.0, f64::NAN, 655.0, f64::NAN];
    let december = [255.0, 4.0, 131.0, 79.0, 138.0, f64::NAN, 668.0, f64::NAN];
    for ((id, aug), dec) in ids.iter().zip(august).zip(december) {
        if aug.is_finite() {
            demo.measure(id, "2015-08-31", aug)?;
            demo.measure(id, "2015-12-31", dec)?;
        }
    }
    demo.measure(&ids[7], "2015-05-31", 1.0)
}

/// Lyngby-Taarbæk, the UDKAST of Beskæftigelsesplan 2019 in a closed hearing with Handicaprådet's
/// comments of 21 November 2018 and the administration's responses.
fn lyngby_taarbaek(demo: &mut Demo, consultee: Caller) -> ApiResult<()> {
    let plan = demo.plan(json!({"municipality": "173", "year": 2019, "title": "Beskæftigelsesplan 2019 – UDKAST"}))?;
    demo.section(
        &plan,
        "Indledning",
        "Lyngby-Taarbæk Kommune arbejder målrettet for, at ledige kommer så hurtigt som muligt i job eller uddannelse.",
    )?;
    let x_percent = |comparator: &str| json!({"comparator": comparator, "unit": "percent"});
    let placeholder = |statement: &str, indicator: &str, shape: Value| {
        let mut body = requirement(
            statement,
            indicator,
            shape["unit"].as_str().unwrap_or("percent"),
            shape["comparator"].as_str().unwrap_or("at_least"),
            None,
            json!({"due": "2019-12-31", "placeholder": true}),
        );
        if shape["comparator"].as_str().is_some_and(|c| c.ends_with("_percent")) {
            body["baseline"] = json!({"value": null, "as_of": "2018-12-31"});
        }
        body
    };
    // (focus area, [(number, title, the target's shape or null for none, follow-up measures)])
    type DraftGoal<'a> = (&'a str, &'a str, Value, Vec<&'a str>);
    let areas: Vec<(&str, Vec<DraftGoal>)> = vec![
        ("Flere i beskæftigelse", vec![("MÅL 1", "Antallet af personer der modtager offentlig forsørgelse skal falde med x pct. fra 2018 til 2019.", json!({"comparator": "decrease_by_percent", "unit": "persons"}), vec!["Antallet af personer der modtager offentlig forsørgelse i mere end 52 uger."])]),
        ("Unge", vec![
            ("MÅL 2", "Antallet af job- og uddannelsesparate unge under 30 år skal falde med X pct. fra 2018 til 2019.", json!({"comparator": "decrease_by_percent", "unit": "persons"}), vec![]),
            ("MÅL 3", "Antallet af aktivitetsparate unge under 30 år skal falde med x pct. fra 2018 til 2019.", json!({"comparator": "decrease_by_percent", "unit": "persons"}), vec![]),
        ]),
        ("Virksomhedssamarbejde", vec![
            ("MÅL 4", "Andelen af personer i virksomhedsrettet tilbud ud af det samlede antal ledige borgere i tilbud skal minimum være xx pct. i 2018.", x_percent("at_least"), vec![]),
            ("Mål 5", "Andelen af delvis raskmeldte sygedagpengemodtagere skal være xx pct. i 2019", x_percent("equal"), vec![]),
        ]),
        ("Jobrettet integration for flygtninge og familiesammenførte", vec![("MÅL 6", "xx pct. af flygtninge og familiesammenførte til flygtninge skal være i beskæftigelse i gennemsnit over månederne i 2018.", x_percent("at_least"), vec!["Andelen af kvindelige flygtninge og familiesammenførte som er i selvforsørgelse følges.", "Andelen af borgere, der efter endt IGU-forløb overgår til selvforsørgelse følges.", "Overblik over virksomheder som jobcentret samarbejder med om integration."])]),
        ("Kontanthjælpsmodtagere", vec![
            ("MÅL 7", "Antallet af jobparate kontanthjælpsmodtagere skal falde med x pct. fra december 2018 til december 2019.", json!({"comparator": "decrease_by_percent", "unit": "persons"}), vec!["xx pct. aktivitetsparate kvinder med ikke-vestlig baggrund skal være i virksomhedsrettet forløb i gennemsnit i 2019."]),
            ("Mål 8", "X pct. af de aktivitetsparate kontanthjælpsmodtagere skal have supplerende indtægter i form af ordinære timer og småjobs i 2019.", x_percent("at_least"), vec![]),
        ]),
        ("Bekæmpelse af socialt bedrageri", vec![("MÅL 9", "Bekæmpelse af socialt bedrageri og fejludbetalinger skal styrkes.", Value::Null, vec![])]),
        ("Udsatte ledige", vec![("MÅL 10", "X pct. af borgere i ressourceforløb skal være i virksomhedsrettet tilbud i gennemsnit i 2019", x_percent("at_least"), vec!["Antal afholdte samtaler for aktivitetsparate kontanthjælpsmodtagere med over 6 måneders ledighed følges."])]),
        ("Flere personer med handicap i beskæftigelse", vec![("MÅL 11", "Flere personer med handicap skal i uddannelse og beskæftigelse", Value::Null, vec![])]),
    ];
    let mut goal_ids = std::collections::HashMap::new();
    for (area, goals_in_area) in areas {
        let area_id = demo.focus_area(&plan, area, None)?;
        for (number, title, shape, measures) in goals_in_area {
            let kind = if shape.is_null() { "qualitative" } else { "ministerial" };
            let requirement_bodies = if shape.is_null() { vec![] } else { vec![placeholder(title, title, shape)] };
            let goal = json!({"number": number, "title": title, "kind": kind, "focus_area_id": area_id});
            demo.goal(&plan, (goal, requirement_bodies, measures))?;
            let id: String = crate::db::schema::goals::table
                .filter(crate::db::schema::goals::plan_id.eq(&plan))
                .filter(crate::db::schema::goals::number.eq(number))
                .select(crate::db::schema::goals::id)
                .first(demo.conn)?;
            goal_ids.insert(number, id);
        }
    }
    let number = demo.version(&plan, "UDKAST til høring")?;
    let closes_at = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let hearing = hearings::open_hearing(
        demo.conn,
        &demo.ctx,
        &plan,
        input(json!({
        "version": number, "title": "Høring af beskæftigelsesplanen 2019",
        "description": "Handicaprådet behandlede udkastet på sit møde den 21. november 2018, punkt 8.",
        "opens_at": "2018-11-01T08:00:00Z", "closes_at": closes_at,
        "parties": ["Handicaprådet", "RAR Hovedstaden", "Integrationsrådet"]}))?,
    )?;
    let consultee_ctx = RequestContext::system(consultee);
    let points: [(&str, Option<&str>, &str, &str, &str); 4] = [
        ("Rådets medlemmer lægger vægt på at Jobcentret skaber kontakter direkte til virksomheder for at skabe beskæftigelse, også for borgere udenfor LAB; borgere der ønsker skånejob fx.", Some("MÅL 11"), "supports",
         "accommodated", "Jobcentret vil styrke den direkte virksomhedskontakt, også for borgere uden for målgrupperne i LAB, fx borgere der ønsker skånejob."),
        ("Det er vigtigt, at borgeren ikke oplever sagsbehandlerskifte, da det er afgørende at der er kontinuitet i sagsbehandlingen, når handicappede borgere skal i beskæftigelse.", Some("MÅL 11"), "neutral",
         "partially_accommodated", "Kontinuitet i sagsbehandlingen prioriteres; skift kan ikke altid undgås."),
        ("Genoptræning og rehabilitering er vigtigt, da borgere der får en genoptræning og rehabilitering hurtigere får meningsfulde job, både på kort og på langt sigt.", Some("MÅL 10"), "supports",
         "noted", "Rehabilitering indgår i indsatsen for borgere i ressourceforløb."),
        ("Det er en god ide at udvide antallet af sagsbehandlere i Jobcentret på handicapområdet.", None, "supports",
         "not_accommodated", "Antallet af sagsbehandlere fastlægges i budgettet."),
    ];
    for (body, goal, stance, disposition, response) in points {
        let target = goal.map(|number| json!({"type": "goal", "id": goal_ids[number]}));
        let comment = hearings::submit_comment(
            demo.conn,
            demo.cache,
            &consultee_ctx,
            &hearing.id,
            input(json!({"body": body, "stance": stance, "target": target}))?,
        )?;
        hearings::answer(
            demo.conn,
            &demo.ctx,
            &comment.id,
            input(json!({"disposition": disposition, "text": response}))?,
            &HeaderMap::new(),
        )?;
    }
    hearings::close(demo.conn, &demo.ctx, &hearing.id)?;
    Ok(())
}

/// Allerød, Beskæftigelsesplan 2017: five result goals; recommended by Erhvervs- og
/// Beskæftigelsesudvalget on 28 September 2016 (case 13/4229) and approved.
fn allerod(demo: &mut Demo) -> ApiResult<()> {
    let plan = demo
        .plan(json!({"municipality": "201", "year": 2017, "title": "Beskæftigelsesplan 2017 for Allerød Kommune"}))?;
    demo.section(&plan, "Indledning", "Beskæftigelsesplanen skal beskrive udfordringer og muligheder for beskæftigelsesindsatsen, og fastlægge mål og strategier for beskæftigelsesindsatsen i det kommende år og udgør planlægningsgrundlaget for indsatsen.")?;
    let with = |value: f64| json!({"value": value, "due": "2017-12-31"});
    let done = json!({"due": "2017-12-31"});
    let goals: Vec<GoalSpec> = vec![
        (json!({"number": "Resultatmål 1", "title": "Virksomhederne skal sikres den nødvendige og kvalificerede arbejdskraft", "kind": "ministerial"}),
         vec![requirement("Der skal i 2017 etableres samarbejde om rekruttering, fastholdelse eller virksomhedsrettet aktivering med 45 virksomheder, som ikke tidligere har samarbejdet med Jobcenter Allerød om beskæftigelsesindsatsen.", "Nye samarbejdsvirksomheder", "count", "at_least", None, with(45.0)),
              requirement("Der etableres et erhvervsnetværk med lokale virksomheder.", "Erhvervsnetværk etableret", "none", "done", None, done.clone())], vec![]),
        (json!({"number": "Resultatmål 2", "title": "Flere unge skal have en uddannelse", "kind": "ministerial"}),
         vec![requirement("Den gennemsnitlige andel af unge på offentlig forsørgelse, som påbegynder en ordinær uddannelse skal i 2017 hver måned være på 3,75 pct.", "Andel unge der påbegynder uddannelse pr. måned", "percent", "at_least", Some((Some(3.2), "2015-12-31")), with(3.75))], vec![]),
        (json!({"number": "Resultatmål 3", "title": "Borgere i udkanten af arbejdsmarkedet herunder langtidsledige kontanthjælpsmodtagere skal tættere på arbejdsmarkedet.", "kind": "ministerial"}),
         vec![requirement("Den gennemsnitlige andel af langtidsforsørgede borgere, som har deltaget i et virksomhedsrettet tilbud inden for de seneste 6 måned, skal i 2017 som minimum, udgøre 45 pct.", "Andel langtidsforsørgede i virksomhedsrettet tilbud", "percent", "at_least", None, with(45.0))], vec![]),
        (json!({"number": "Resultatmål 4", "title": "Flere flygtninge og familiesammenførte skal være selvforsørgende.", "kind": "ministerial"}),
         vec![requirement("Minimum 33% af alle voksne flygtninge er i ordinær beskæftigelse inden for det første år.", "Andel flygtninge i ordinær beskæftigelse", "percent", "at_least", None, with(33.0)),
              requirement("Mindst 10 flygtninge, der allerede er i arbejde fungerer som rollemodeller i netværksgrupper.", "Flygtninge som rollemodeller", "persons", "at_least", None, with(10.0))], vec![]),
        (json!({"number": "Resultatmål 5", "title": "Færre langvarige sygedagpengeforløb", "kind": "local"}),
         vec![{
             let mut body = requirement("Andelen af langvarige sygedagpengeforløb med over 26 ugers varighed skal nedbringes til højst 12,5 pct. ved udgangen af 2017, svarende til et fald på 1,4 pct. point fra niveauet i 2015.", "Andel sygedagpengeforløb over 26 uger", "percent", "at_most", Some((Some(13.9), "2015-12-31")), with(12.5));
             body["frequency"] = json!("half_yearly");
             body
         }], vec![]),
    ];
    for goal in goals {
        demo.goal(&plan, goal)?;
    }
    demo.adopt(&plan, ("Erhvervs- og Beskæftigelsesudvalget", "2016-09-28", Some("13/4229")), ("Byrådet", "2016-10-27"))
}

/// Albertslund, Beskæftigelsesplan 2019: three focus areas with their central means; the
/// ministerial goals without quantitative targets, with the reasons the plan gives.
fn albertslund(demo: &mut Demo) -> ApiResult<()> {
    let plan = demo.plan(
        json!({"municipality": "165", "year": 2019, "title": "Beskæftigelsesplan 2019 for Albertslund Kommune"}),
    )?;
    demo.section(&plan, "Indledning og opsamling på fokusområder", "Der er forslag om tre fokusområder.")?;
    let areas = [
        ("Tæt samarbejde med virksomheder", vec!["Opsøgende overfor virksomheder, så de får hjælp til at få den arbejdskraft, der er brug for, og så arbejdsløse i Albertslund kommer i spil til de ledige job.", "Samarbejde mellem jobcentrene i Hovedstadens Rekrutteringsservice om rekruttering og opkvalificering af ledige på områder med arbejdskraftmangel.", "Fokus på muligheden for kombination af praktik og ordinære timer gennem småjobs."], "Ministermål 2", "Virksomhederne skal sikres den nødvendige og kvalificerede arbejdskraft.", "Dette mål er drevet af efterspørgslen hos virksomhederne og der er ikke på nuværende tidspunkt et effektivt opfølgingsværktøj. Vi forventer at STAR understøtter opfølgning på målet i jobindsats."),
        ("Flere i arbejde – fokus på dagpengemodtagere", vec!["Flere ledige skal have tilbud om relevante virksomhedspraktikker, løntilskud m.v.", "Ledige skal have opkvalificerende tilbud på områder, hvor der er konkrete beskæftigelsesmuligheder.", "Formidling af de konkrete jobs, som virksomhedskonsulenterne hjemtager gennem deres opsøgende arbejde."], "Ministermål 1", "Flere personer skal i beskæftigelse eller uddannelse i stedet for at være på offentlig forsørgelse.", "I budgettet for 2019 er indarbejdet en forudsætning på et samlet fald på 172 helårspersoner i forhold til budgettet for 2018."),
        ("Udsatte ledige – fokus på tværfaglig udvikling og afklaring", vec!["Udvikling af tættere samarbejde med de øvrige kommunale enheder, der arbejder med de samme borgere eller deres familie.", "Tæt samarbejde med Albertslund Kommunes Rusmiddelcenter for at få borgere igennem misbrugsbehandling og i selvforsørgelse.", "Færdiggørelse af \"Flere skal med\" med flest mulige i virksomhedsrettede forløb."], "Ministermål 6", "Udsatte ledige skal have en indsats", "Albertslund Kommune har siden 2017 været med i projektet Flere skal med og vil fortsætte indsatsen, så projektet i løbet af 2019 udvides til at omfatte alle aktivitetsparate kontanthjælpsmodtagere."),
    ];
    for (area, means, number, title, reason) in areas {
        let area_id = demo.focus_area(&plan, area, None)?;
        let goal = json!({"number": number, "title": title, "kind": "ministerial", "focus_area_id": area_id, "initiatives": means, "description": reason});
        demo.goal(&plan, (goal, vec![], vec![]))?;
    }
    for (number, title, reason) in [
        ("Ministermål 3", "Flere flygtninge og familiesammenførte skal være selvforsørgende.", "Da Albertslund er såkaldt nul-kommune, har vi ingen flygtninge. Det vil derfor ikke give mening af fastsætte kvantitative mål i 2019."),
        ("Ministermål 4", "Flere jobparate personer på kontanthjælp skal i beskæftigelse, og flere aktivitetsparate bliver jobparate eller kommer i beskæftigelse.", "Der er endnu ikke et målepunkt i jobindsats.dk. Vi forventer at STAR understøtter opfølgning på målet i jobindsats snarest."),
        ("Ministermål 5", "Bekæmpelsen af socialt bedrageri og fejludbetalinger skal styrkes", "Kontrolteamet i Borger- og Ydelsescentret gennemfører en løbende og systematisk kontrol af ydelserne og fejludbetalinger."),
        ("Ministermål 7", "Handicappede", "Beskæftigelsesministeren har annonceret et 7. mål, som endnu ikke er udmeldt. Når der foreligger et mål, vil det blive indarbejdet."),
    ] {
        demo.goal(&plan, (json!({"number": number, "title": title, "kind": "ministerial", "description": reason}), vec![], vec![]))?;
    }
    demo.adopt(
        &plan,
        ("Beskæftigelses- og Integrationsudvalget", "2018-11-13", None),
        ("Kommunalbestyrelsen", "2018-12-11"),
    )
}
