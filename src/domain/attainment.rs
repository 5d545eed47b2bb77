//! Attainment: where a result requirement stands on a date, from its measurements.
//!
//! - `no_data`: no measurement for a period ending on or before the date, a placeholder target,
//!   or a relative target whose baseline value is unknown.
//! - On or after the deadline: `met` if the measurement for the latest period up to the
//!   deadline meets the target, else `not_met`.
//! - Before the deadline:
//!   - decrease/increase targets: `met` when the latest value already reaches the target;
//!     `on_track` when it is at or beyond the straight line from the baseline (at its date) to
//!     the target (at the deadline), evaluated at the end of the measured period; else `at_risk`.
//!   - at most / at least / between / equal: `on_track` while the latest value satisfies the
//!     target (a level must hold until the deadline), else `at_risk`.
//!   - done: `met` once a measurement says done (1), otherwise `on_track`.
//! - `equal` is met within 1 % of the target. For revised figures of one period the latest
//!   recorded counts.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::requirement::{CheckedTarget, Comparator};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Met,
    OnTrack,
    AtRisk,
    NotMet,
    NoData,
}

/// One measured value of an indicator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub period_end: NaiveDate,
    pub value: f64,
    pub recorded_at: NaiveDateTime,
}

/// The measurement that counts up to `until`: the latest period, and of revised figures for that
/// period the latest recorded.
pub fn latest(points: &[Point], until: NaiveDate) -> Option<Point> {
    points.iter().filter(|p| p.period_end <= until).max_by_key(|p| (p.period_end, p.recorded_at)).copied()
}

/// The level the target asks for: `(low, high)` bounds that meet it.
fn bounds(target: &CheckedTarget) -> Option<(f64, f64)> {
    if target.comparator == Comparator::Done {
        return Some((1.0, f64::INFINITY));
    }
    let v = target.value?;
    let b = target.baseline_value;
    Some(match target.comparator {
        Comparator::AtMost => (f64::NEG_INFINITY, v),
        Comparator::AtLeast => (v, f64::INFINITY),
        Comparator::Between => (v, target.value_max?),
        Comparator::Equal => (v - v.abs() * 0.01, v + v.abs() * 0.01),
        Comparator::DecreaseBy => (f64::NEG_INFINITY, b? - v),
        Comparator::IncreaseBy => (b? + v, f64::INFINITY),
        Comparator::DecreaseByPercent => (f64::NEG_INFINITY, b? * (1.0 - v / 100.0)),
        Comparator::IncreaseByPercent => (b? * (1.0 + v / 100.0), f64::INFINITY),
        Comparator::Done => unreachable!("handled above"),
    })
}

fn meets(bounds: (f64, f64), value: f64) -> bool {
    value >= bounds.0 && value <= bounds.1
}

/// The status of a requirement on `as_of`.
pub fn status(target: &CheckedTarget, points: &[Point], as_of: NaiveDate) -> Status {
    if target.placeholder {
        return Status::NoData;
    }
    let (Some(due), Some(bounds)) = (target.due, bounds(target)) else { return Status::NoData };
    if as_of >= due {
        return match latest(points, due) {
            Some(point) if meets(bounds, point.value) => Status::Met,
            Some(_) => Status::NotMet,
            None => Status::NoData,
        };
    }
    let Some(point) = latest(points, as_of) else { return Status::NoData };
    let reached = meets(bounds, point.value);
    match target.comparator {
        Comparator::Done => {
            if reached {
                Status::Met
            } else {
                Status::OnTrack
            }
        }
        Comparator::AtMost | Comparator::AtLeast | Comparator::Between | Comparator::Equal => {
            if reached {
                Status::OnTrack
            } else {
                Status::AtRisk
            }
        }
        _ if reached => Status::Met,
        comparator => {
            let (Some(baseline), Some(start)) = (target.baseline_value, target.baseline_as_of) else {
                return Status::AtRisk;
            };
            let goal = if comparator == Comparator::DecreaseBy || comparator == Comparator::DecreaseByPercent {
                bounds.1
            } else {
                bounds.0
            };
            let span = (due - start).num_days().max(1) as f64;
            let elapsed = ((point.period_end - start).num_days() as f64).clamp(0.0, span);
            let line = baseline + (goal - baseline) * elapsed / span;
            let on_line = if goal < baseline { point.value <= line + 1e-9 } else { point.value >= line - 1e-9 };
            if on_line {
                Status::OnTrack
            } else {
                Status::AtRisk
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn point(period_end: &str, value: f64) -> Point {
        Point { period_end: d(period_end), value, recorded_at: d(period_end).and_hms_opt(12, 0, 0).unwrap() }
    }

    fn target(
        comparator: Comparator,
        baseline: Option<(f64, &str)>,
        value: Option<f64>,
        value_max: Option<f64>,
        due: &str,
    ) -> CheckedTarget {
        CheckedTarget {
            comparator,
            baseline_value: baseline.map(|b| b.0),
            baseline_as_of: baseline.map(|b| d(b.1)),
            value,
            value_max,
            due: Some(d(due)),
            placeholder: false,
        }
    }

    /// Jammerbugt 2015, Mål 3: "fra 168 i januar 2014 til 134 i december 2015" (−20 %).
    fn long_term_unemployed() -> CheckedTarget {
        target(Comparator::DecreaseByPercent, Some((168.0, "2014-01-31")), Some(20.0), None, "2015-12-31")
    }

    #[test]
    fn decrease_by_percent_follows_the_straight_line() {
        let t = long_term_unemployed();
        // Halfway in time (about 31 December 2014) the line stands at about 151.
        let mid = "2014-12-31";
        assert_eq!(status(&t, &[point(mid, 150.0)], d("2015-01-15")), Status::OnTrack);
        assert_eq!(status(&t, &[point(mid, 152.0)], d("2015-01-15")), Status::AtRisk);
        assert_eq!(status(&t, &[point(mid, 134.0)], d("2015-01-15")), Status::Met, "reached ahead of time");
        assert_eq!(status(&t, &[point(mid, 134.5)], d("2015-01-15")), Status::OnTrack);
        // At the deadline.
        assert_eq!(status(&t, &[point("2015-12-31", 134.4)], d("2016-01-31")), Status::Met);
        assert_eq!(status(&t, &[point("2015-12-31", 134.5)], d("2016-01-31")), Status::NotMet);
        assert_eq!(status(&t, &[], d("2016-01-31")), Status::NoData);
        assert_eq!(
            status(&t, &[point("2016-01-31", 100.0)], d("2016-02-28")),
            Status::NoData,
            "only periods up to the deadline count"
        );
    }

    #[test]
    fn at_most_four_early_retirements_a_month() {
        let t = target(Comparator::AtMost, None, Some(4.0), None, "2015-12-31");
        assert_eq!(status(&t, &[point("2015-06-30", 4.0)], d("2015-07-10")), Status::OnTrack);
        assert_eq!(status(&t, &[point("2015-06-30", 5.0)], d("2015-07-10")), Status::AtRisk);
        assert_eq!(status(&t, &[point("2015-12-31", 4.0)], d("2015-12-31")), Status::Met);
        assert_eq!(status(&t, &[point("2015-12-31", 5.0)], d("2015-12-31")), Status::NotMet);
    }

    #[test]
    fn between_100_and_175_rehabilitations() {
        let t = target(Comparator::Between, None, Some(100.0), Some(175.0), "2015-12-31");
        for (value, expected) in
            [(99.0, Status::AtRisk), (100.0, Status::OnTrack), (175.0, Status::OnTrack), (176.0, Status::AtRisk)]
        {
            assert_eq!(status(&t, &[point("2015-09-30", value)], d("2015-10-15")), expected, "{value}");
        }
        for (value, expected) in [(99.0, Status::NotMet), (142.0, Status::Met), (175.5, Status::NotMet)] {
            assert_eq!(status(&t, &[point("2015-12-31", value)], d("2016-03-01")), expected, "{value}");
        }
    }

    #[test]
    fn allerod_at_most_12_5_percent_by_the_end_of_2017() {
        let t = target(Comparator::AtMost, Some((13.9, "2015-12-31")), Some(12.5), None, "2017-12-31");
        assert_eq!(status(&t, &[point("2017-04-30", 12.6)], d("2017-05-15")), Status::AtRisk);
        assert_eq!(status(&t, &[point("2017-10-31", 12.5)], d("2017-11-15")), Status::OnTrack);
        assert_eq!(status(&t, &[point("2017-12-31", 12.4)], d("2018-01-31")), Status::Met);
        assert_eq!(status(&t, &[point("2017-12-31", 12.51)], d("2018-01-31")), Status::NotMet);
    }

    #[test]
    fn at_least_and_equal() {
        let t = target(Comparator::AtLeast, None, Some(45.0), None, "2017-12-31");
        assert_eq!(status(&t, &[point("2017-06-30", 44.9)], d("2017-07-01")), Status::AtRisk);
        assert_eq!(status(&t, &[point("2017-06-30", 45.0)], d("2017-07-01")), Status::OnTrack);
        let t = target(Comparator::Equal, None, Some(27.0), None, "2017-12-31");
        assert_eq!(status(&t, &[point("2017-12-31", 27.2)], d("2018-01-01")), Status::Met, "within 1 %");
        assert_eq!(status(&t, &[point("2017-12-31", 27.3)], d("2018-01-01")), Status::NotMet);
    }

    #[test]
    fn increases_and_absolute_decreases() {
        let t = target(Comparator::IncreaseBy, Some((100.0, "2016-12-31")), Some(20.0), None, "2017-12-31");
        assert_eq!(status(&t, &[point("2017-06-30", 110.0)], d("2017-07-01")), Status::OnTrack);
        assert_eq!(status(&t, &[point("2017-06-30", 109.0)], d("2017-07-01")), Status::AtRisk);
        assert_eq!(status(&t, &[point("2017-06-30", 120.0)], d("2017-07-01")), Status::Met);
        let t = target(Comparator::IncreaseByPercent, Some((3.2, "2015-12-31")), Some(17.1875), None, "2017-12-31");
        assert_eq!(status(&t, &[point("2017-12-31", 3.75)], d("2018-01-31")), Status::Met);
        assert_eq!(status(&t, &[point("2017-12-31", 3.7)], d("2018-01-31")), Status::NotMet);
        // Tårnby: "falde med 1 uge i forhold til 2016", level unknown: no data.
        let t = CheckedTarget {
            baseline_value: None,
            ..target(Comparator::DecreaseBy, Some((0.0, "2016-12-31")), Some(1.0), None, "2017-12-31")
        };
        assert_eq!(status(&t, &[point("2017-06-30", 20.0)], d("2017-07-01")), Status::NoData);
    }

    #[test]
    fn qualitative_done() {
        let t = CheckedTarget { value: None, ..target(Comparator::Done, None, None, None, "2015-12-31") };
        assert_eq!(status(&t, &[], d("2015-06-01")), Status::NoData);
        assert_eq!(status(&t, &[point("2015-03-31", 0.0)], d("2015-06-01")), Status::OnTrack);
        assert_eq!(status(&t, &[point("2015-05-31", 1.0)], d("2015-06-01")), Status::Met);
        assert_eq!(status(&t, &[point("2015-05-31", 0.0)], d("2016-01-01")), Status::NotMet);
        assert_eq!(status(&t, &[point("2015-11-30", 1.0)], d("2016-01-01")), Status::Met);
    }

    #[test]
    fn placeholders_have_no_data_and_revisions_replace_figures() {
        let placeholder = CheckedTarget { placeholder: true, value: None, ..long_term_unemployed() };
        assert_eq!(status(&placeholder, &[point("2014-12-31", 10.0)], d("2015-01-15")), Status::NoData);
        let first = point("2014-12-31", 160.0);
        let revised = Point { value: 150.0, recorded_at: first.recorded_at + chrono::Duration::days(20), ..first };
        assert_eq!(latest(&[revised, first], d("2015-01-31")), Some(revised));
        assert_eq!(status(&long_term_unemployed(), &[first, revised], d("2015-01-31")), Status::OnTrack);
        assert_eq!(status(&long_term_unemployed(), &[first], d("2015-01-31")), Status::AtRisk);
    }
}
