//! Plan documents for people: a complete, accessible HTML page and Markdown, from askama
//! templates (`templates/`). HTML is escaped by the template engine; section bodies are Markdown
//! rendered with any raw HTML in them escaped, so no content can inject markup.

use askama::Template;
use pulldown_cmark::{html, Event, Options, Parser};

use crate::api::hearings::Summary;
use crate::domain::document::{Document, DocumentGoal, GoalKind};
use crate::domain::phrasing;

/// What a rendered plan shows besides the document itself.
#[derive(Debug, Clone)]
pub struct VersionInfo {
    pub number: i32,
    pub label: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub municipality_name: String,
}

struct RequirementView {
    statement: String,
    target: String,
    indicator: String,
    data_source: Option<String>,
}

struct GoalView {
    anchor: String,
    heading: String,
    kind: &'static str,
    description: Option<String>,
    target_groups: String,
    initiatives: Vec<String>,
    requirements: Vec<RequirementView>,
    follow_up_measures: Vec<String>,
}

struct GroupView {
    anchor: String,
    title: String,
    description: Option<String>,
    goals: Vec<GoalView>,
}

struct SectionView {
    anchor: String,
    heading: String,
    /// Safe HTML (HTML page) or escaped Markdown (Markdown document).
    body: String,
}

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanHtml {
    title: String,
    subtitle: String,
    summary: Option<String>,
    sections: Vec<SectionView>,
    groups: Vec<GroupView>,
}

#[derive(Template)]
#[template(path = "plan.md")]
struct PlanMarkdown {
    title: String,
    subtitle: String,
    summary: Option<String>,
    sections: Vec<SectionView>,
    groups: Vec<GroupView>,
}

fn kind_name(kind: GoalKind) -> &'static str {
    match kind {
        GoalKind::Ministerial => "Ministermål",
        GoalKind::Local => "Lokalpolitisk mål",
        GoalKind::Qualitative => "Kvalitativt mål",
    }
}

/// Markdown to HTML with raw HTML shown as text, never passed through.
pub fn markdown_to_safe_html(markdown: &str) -> String {
    let events =
        Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|event| match event {
            Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
            other => other,
        });
    let mut out = String::new();
    html::push_html(&mut out, events);
    // Headings inside a section sit below the section's own heading (h2).
    out.replace("<h1>", "<h3>").replace("</h1>", "</h3>").replace("<h2>", "<h3>").replace("</h2>", "</h3>")
}

/// Text for a Markdown document: characters that would start HTML are escaped.
fn md(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn goal_view(goal: &DocumentGoal, escape: &dyn Fn(&str) -> String) -> GoalView {
    let heading = match &goal.number {
        Some(number) => format!("{number}: {}", goal.title),
        None => goal.title.clone(),
    };
    GoalView {
        anchor: format!("mål-{}", goal.id),
        heading: escape(&heading),
        kind: kind_name(goal.kind),
        description: goal.description.as_deref().map(escape),
        target_groups: escape(&goal.target_groups.join(", ")),
        initiatives: goal.initiatives.iter().map(|i| escape(i)).collect(),
        requirements: goal
            .requirements
            .iter()
            .map(|r| RequirementView {
                statement: escape(&r.statement),
                target: phrasing::target_text(r),
                indicator: escape(&r.indicator),
                data_source: r.data_source.as_deref().map(escape),
            })
            .collect(),
        follow_up_measures: goal.follow_up_measures.iter().map(|m| escape(&m.indicator)).collect(),
    }
}

/// Goals grouped by focus area in the areas' order; goals in no area come last.
fn groups(document: &Document, escape: &dyn Fn(&str) -> String) -> Vec<GroupView> {
    let mut groups: Vec<GroupView> = document
        .focus_areas
        .iter()
        .map(|area| GroupView {
            anchor: format!("indsatsområde-{}", area.id),
            title: escape(&area.title),
            description: area.description.as_deref().map(escape),
            goals: document.goals_in(Some(&area.id)).map(|g| goal_view(g, escape)).collect(),
        })
        .collect();
    let loose: Vec<GoalView> = document.goals_in(None).map(|g| goal_view(g, escape)).collect();
    if !loose.is_empty() {
        let title = if groups.is_empty() { "Mål" } else { "Øvrige mål" };
        groups.push(GroupView { anchor: "øvrige-mål".into(), title: title.into(), description: None, goals: loose });
    }
    groups
}

fn subtitle(info: &VersionInfo) -> String {
    format!(
        "{} · version {} ({}) · {}",
        info.municipality_name,
        info.number,
        info.label,
        phrasing::date(info.created_at.date_naive())
    )
}

pub fn plan_html(info: &VersionInfo, document: &Document) -> String {
    let plain = |text: &str| text.to_owned();
    let page = PlanHtml {
        title: document.plan.title.clone(),
        subtitle: subtitle(info),
        summary: document.plan.summary.clone(),
        sections: document
            .sections
            .iter()
            .map(|s| SectionView {
                anchor: format!("afsnit-{}", s.id),
                heading: s.heading.clone(),
                body: markdown_to_safe_html(&s.body),
            })
            .collect(),
        groups: groups(document, &plain),
    };
    page.render().expect("the plan template renders")
}

pub fn plan_markdown(info: &VersionInfo, document: &Document) -> String {
    let page = PlanMarkdown {
        title: md(&document.plan.title),
        subtitle: md(&subtitle(info)),
        summary: document.plan.summary.as_deref().map(md),
        sections: document
            .sections
            .iter()
            .map(|s| SectionView { anchor: String::new(), heading: md(&s.heading), body: md(&s.body) })
            .collect(),
        groups: groups(document, &md),
    };
    page.render().expect("the plan template renders")
}

struct ResponseView {
    disposition: &'static str,
    paragraphs: Vec<String>,
}

struct CommentView {
    label: String,
    stance: Option<&'static str>,
    paragraphs: Vec<String>,
    response: Option<ResponseView>,
}

struct PartyView {
    anchor: String,
    party: String,
    comments: Vec<CommentView>,
}

#[derive(Template)]
#[template(path = "summary.html")]
struct SummaryHtml {
    title: String,
    subtitle: String,
    parties: Vec<PartyView>,
}

#[derive(Template)]
#[template(path = "summary.md")]
struct SummaryMarkdown {
    title: String,
    subtitle: String,
    parties: Vec<PartyView>,
}

/// Plain text split into paragraphs at blank lines.
fn paragraphs(text: &str, escape: &dyn Fn(&str) -> String) -> Vec<String> {
    text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).map(escape).collect()
}

fn summary_parts(summary: &Summary, escape: &dyn Fn(&str) -> String) -> (String, String, Vec<PartyView>) {
    let hearing = &summary.hearing;
    let title = escape(&format!("Høringsnotat: {}", hearing.title));
    // A hearing closed before its deadline shows when it closed.
    let ended = match hearing.closed_at {
        Some(at) => format!("afsluttet {}", phrasing::date(at.date_naive())),
        None => format!("høringsfrist {}", phrasing::date(hearing.closes_at.date_naive())),
    };
    let subtitle = escape(&format!("{} · version {} · {ended}", summary.plan_title, hearing.version));
    let parties = summary
        .parties
        .iter()
        .enumerate()
        .map(|(i, group)| PartyView {
            anchor: format!("part-{}", i + 1),
            party: escape(&group.party),
            comments: group
                .comments
                .iter()
                .map(|c| CommentView {
                    label: escape(c.target_label.as_deref().unwrap_or("Planen generelt")),
                    stance: c.stance.map(|s| s.danish()),
                    paragraphs: paragraphs(&c.body, escape),
                    response: c.response.as_ref().map(|r| ResponseView {
                        disposition: r.disposition.danish(),
                        paragraphs: paragraphs(&r.text, escape),
                    }),
                })
                .collect(),
        })
        .collect();
    (title, subtitle, parties)
}

pub fn summary_html(summary: &Summary) -> String {
    let (title, subtitle, parties) = summary_parts(summary, &|t: &str| t.to_owned());
    SummaryHtml { title, subtitle, parties }.render().expect("the summary template renders")
}

pub fn summary_markdown(summary: &Summary) -> String {
    let (title, subtitle, parties) = summary_parts(summary, &md);
    SummaryMarkdown { title, subtitle, parties }.render().expect("the summary template renders")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_in_markdown_comes_out_as_text() {
        let html = markdown_to_safe_html("Hej <script>alert(1)</script> **fed**\n\n<img src=x onerror=alert(1)>");
        assert!(!html.contains("<script>") && !html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;") && html.contains("<strong>fed</strong>"), "{html}");
    }

    #[test]
    fn markdown_text_cannot_open_tags() {
        assert_eq!(md("<b>Tårnby & Dragør</b>"), "&lt;b&gt;Tårnby &amp; Dragør&lt;/b&gt;");
    }
}

#[derive(Template)]
#[template(path = "problem.html")]
struct ProblemPage<'a> {
    heading: String,
    problems: &'a [crate::error::ProblemType],
    index: bool,
}

/// The page of one problem type, or of them all (`problem: None`).
pub fn problem_page(problem: Option<&crate::error::ProblemType>) -> Result<String, askama::Error> {
    match problem {
        Some(problem) => ProblemPage {
            heading: format!("{} ({})", problem.title, problem.status),
            problems: std::slice::from_ref(problem),
            index: false,
        }
        .render(),
        None => {
            ProblemPage { heading: "Problem types".into(), problems: crate::error::PROBLEM_TYPES, index: true }.render()
        }
    }
}
