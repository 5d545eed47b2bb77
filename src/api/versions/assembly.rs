//! The plan's live content assembled into one document (what a new version freezes).

use diesel::prelude::*;

use crate::api::focus_areas::FocusAreaRow;
use crate::api::follow_up_measures::{FollowUpMeasure, FollowUpMeasureRow};
use crate::api::goals::{Goal, GoalRow};
use crate::api::plans::{self, PlanRow};
use crate::api::requirements::{Requirement, RequirementRow};
use crate::api::sections::SectionRow;
use crate::db::schema::{focus_areas, follow_up_measures, goals, requirements, sections};
use crate::db::DbConnection;
use crate::domain::document::*;
use crate::error::ApiResult;

/// The plan's current content as a document: five queries, whatever the plan's size.
pub fn current_document(conn: &mut DbConnection, plan: &PlanRow) -> ApiResult<Document> {
    let id = plan.id.as_str();
    let plan_view = plans::Plan::try_from(plan.clone())?;
    let section_rows: Vec<SectionRow> = sections::table
        .filter(sections::plan_id.eq(id))
        .order(sections::position)
        .select(SectionRow::as_select())
        .load(conn)?;
    let area_rows: Vec<FocusAreaRow> = focus_areas::table
        .filter(focus_areas::plan_id.eq(id))
        .order(focus_areas::position)
        .select(FocusAreaRow::as_select())
        .load(conn)?;
    let goal_rows: Vec<GoalRow> =
        goals::table.filter(goals::plan_id.eq(id)).order(goals::position).select(GoalRow::as_select()).load(conn)?;
    let requirement_rows: Vec<RequirementRow> = requirements::table
        .filter(requirements::plan_id.eq(id))
        .order((requirements::goal_id, requirements::position))
        .select(RequirementRow::as_select())
        .load(conn)?;
    let measure_rows: Vec<FollowUpMeasureRow> = follow_up_measures::table
        .filter(follow_up_measures::plan_id.eq(id))
        .order((follow_up_measures::goal_id, follow_up_measures::position))
        .select(FollowUpMeasureRow::as_select())
        .load(conn)?;

    let requirements = requirement_rows.into_iter().map(Requirement::try_from).collect::<ApiResult<Vec<_>>>()?;
    let measures = measure_rows.into_iter().map(FollowUpMeasure::try_from).collect::<ApiResult<Vec<_>>>()?;
    let goals = goal_rows
        .into_iter()
        .map(|row| {
            let goal = Goal::try_from(row)?;
            Ok(DocumentGoal {
                requirements: requirements
                    .iter()
                    .filter(|r| r.goal_id == goal.id)
                    .map(|r| DocumentRequirement {
                        id: r.id.clone(),
                        statement: r.statement.clone(),
                        indicator: r.indicator.clone(),
                        unit: r.unit,
                        comparator: r.comparator,
                        baseline: r.baseline.clone(),
                        target: r.target.clone(),
                        data_source: r.data_source.clone(),
                        frequency: r.frequency,
                        position: r.position,
                    })
                    .collect(),
                follow_up_measures: measures
                    .iter()
                    .filter(|m| m.goal_id == goal.id)
                    .map(|m| DocumentFollowUpMeasure {
                        id: m.id.clone(),
                        indicator: m.indicator.clone(),
                        description: m.description.clone(),
                        unit: m.unit,
                        data_source: m.data_source.clone(),
                        frequency: m.frequency,
                        position: m.position,
                    })
                    .collect(),
                id: goal.id,
                number: goal.number,
                title: goal.title,
                description: goal.description,
                kind: goal.kind,
                focus_area_id: goal.focus_area_id,
                target_groups: goal.target_groups,
                initiatives: goal.initiatives,
                position: goal.position,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Document {
        plan: DocumentPlan {
            id: plan_view.id,
            municipality: plan_view.municipality,
            covers: plan_view.covers,
            year: plan_view.year,
            title: plan_view.title,
            summary: plan_view.summary,
        },
        sections: section_rows
            .into_iter()
            .map(|s| DocumentSection { id: s.id, heading: s.heading, body: s.body, position: s.position })
            .collect(),
        focus_areas: area_rows
            .into_iter()
            .map(|a| DocumentFocusArea { id: a.id, title: a.title, description: a.description, position: a.position })
            .collect(),
        goals,
    })
}
