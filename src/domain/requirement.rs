//! Result requirements (resultatkrav): what a measurable target can say, and the rules that keep
//! one meaningful. Every target in the seed plans can be written with these.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::validate::FieldError;

/// How the measured value is compared with the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Comparator {
    /// "maksimalt 4 førtidspensioner pr. måned", "højst 12,5 pct."
    AtMost,
    /// "minimum 100", "mindst 27 %"
    AtLeast,
    /// "minimum 100, dog maksimalt 175": `value` ≤ x ≤ `value_max`
    Between,
    /// "udslusningsgrad 27 %"
    Equal,
    /// "skal falde med 1 uge i forhold til 2016": baseline − value
    DecreaseBy,
    /// baseline + value
    IncreaseBy,
    /// "reduceres med 20 % fra januar 2014": baseline × (1 − value/100)
    DecreaseByPercent,
    /// baseline × (1 + value/100)
    IncreaseByPercent,
    /// A qualitative requirement: done or not done.
    Done,
}

impl Comparator {
    pub const ALL: [Comparator; 9] = [
        Comparator::AtMost,
        Comparator::AtLeast,
        Comparator::Between,
        Comparator::Equal,
        Comparator::DecreaseBy,
        Comparator::IncreaseBy,
        Comparator::DecreaseByPercent,
        Comparator::IncreaseByPercent,
        Comparator::Done,
    ];

    /// Targets measured from a baseline.
    pub fn is_relative(self) -> bool {
        matches!(self, Self::DecreaseBy | Self::IncreaseBy | Self::DecreaseByPercent | Self::IncreaseByPercent)
    }

    pub fn is_percent(self) -> bool {
        matches!(self, Self::DecreaseByPercent | Self::IncreaseByPercent)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Persons (fuldtidspersoner, helårspersoner)
    Persons,
    Count,
    Percent,
    PercentagePoints,
    Weeks,
    Dkk,
    /// Cases per month
    PerMonth,
    None,
}

/// How often the indicator is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Monthly,
    Quarterly,
    /// "måles ½ årligt oktober og april"
    HalfYearly,
    Yearly,
    Irregular,
}

/// Writes whole numbers without a decimal point (`20`, not `20.0`), so a value reads back the way
/// it was sent.
pub mod number {
    use serde::Serializer;

    pub fn serialize<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => serializer.serialize_i64(*v as i64),
            Some(v) => serializer.serialize_f64(*v),
            None => serializer.serialize_none(),
        }
    }
}

/// Where the indicator stood before: `{"value": 168, "as_of": "2014-01-31"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// May be left out for an absolute decrease/increase whose starting level is not known yet.
    #[serde(default, serialize_with = "number::serialize")]
    #[schema(minimum = 0)]
    pub value: Option<f64>,
    /// The date the baseline value describes (`YYYY-MM-DD`).
    #[schema(example = "2014-01-31", format = Date)]
    pub as_of: String,
}

/// Where the indicator must be by `due`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Absent for `done` and for a placeholder ("xx pct." in a draft).
    #[serde(default, serialize_with = "number::serialize")]
    #[schema(minimum = 0)]
    pub value: Option<f64>,
    /// The upper bound of `between`.
    #[serde(default, serialize_with = "number::serialize")]
    #[schema(minimum = 0)]
    pub value_max: Option<f64>,
    /// The deadline (`YYYY-MM-DD`); may be absent only on a placeholder.
    #[serde(default)]
    #[schema(example = "2015-12-31", format = Date)]
    pub due: Option<String>,
    /// A target still to be decided ("skal falde med x pct."): blocks any decision.
    #[serde(default)]
    pub placeholder: bool,
}

/// The parsed, checked target of a requirement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckedTarget {
    pub comparator: Comparator,
    pub baseline_value: Option<f64>,
    pub baseline_as_of: Option<NaiveDate>,
    pub value: Option<f64>,
    pub value_max: Option<f64>,
    pub due: Option<NaiveDate>,
    pub placeholder: bool,
}

fn parse_date(field: &str, text: &str, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(date) if text.len() == 10 => Some(date),
        _ => {
            errors.push(FieldError::new(field, format!("{text:?} is not a real date in the form YYYY-MM-DD")));
            None
        }
    }
}

/// Checks that comparator, unit, baseline and target fit together; returns every problem.
pub fn check_target(
    comparator: Comparator,
    unit: Unit,
    baseline: Option<&Baseline>,
    target: &Target,
) -> Result<CheckedTarget, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut fail = |field: &str, message: &str| errors.push(FieldError::new(field, message));

    for (field, value) in [
        ("baseline.value", baseline.and_then(|b| b.value)),
        ("target.value", target.value),
        ("target.value_max", target.value_max),
    ] {
        if let Some(v) = value {
            if !v.is_finite() || v < 0.0 {
                fail(field, "must be a number of zero or more");
            }
        }
    }
    if comparator == Comparator::Done {
        if target.value.is_some() || target.value_max.is_some() {
            fail("target.value", "a qualitative (done) requirement takes no number");
        }
        if baseline.is_some() {
            fail("baseline", "a qualitative (done) requirement has no baseline");
        }
    } else {
        if target.value.is_none() && !target.placeholder {
            fail("target.value", "is required unless the target is a placeholder");
        }
        match (comparator, target.value, target.value_max) {
            (Comparator::Between, Some(min), Some(max)) if max < min => {
                fail("target.value_max", "must be at least target.value");
            }
            (Comparator::Between, _, None) if !target.placeholder => {
                fail("target.value_max", "is required for between");
            }
            (Comparator::Between, _, _) => {}
            (_, _, Some(_)) => fail("target.value_max", "is only for between"),
            _ => {}
        }
    }
    if comparator.is_relative() {
        match baseline {
            None => fail("baseline", "is required for a decrease or increase"),
            Some(b) if comparator.is_percent() && b.value.is_none() && !target.placeholder => {
                fail("baseline.value", "is required for a change in percent (unless the target is a placeholder)")
            }
            Some(_) => {}
        }
    }
    if comparator == Comparator::DecreaseByPercent && target.value.is_some_and(|v| v > 100.0) {
        fail("target.value", "a decrease cannot be more than 100 percent");
    }
    let absolute_percent = unit == Unit::Percent && !comparator.is_relative() && comparator != Comparator::Done;
    if absolute_percent && (target.value.is_some_and(|v| v > 100.0) || target.value_max.is_some_and(|v| v > 100.0)) {
        fail("target.value", "a percentage is at most 100");
    }
    if target.due.is_none() && !target.placeholder {
        fail("target.due", "is required unless the target is a placeholder");
    }
    let baseline_as_of = baseline.and_then(|b| parse_date("baseline.as_of", &b.as_of, &mut errors));
    let due = target.due.as_deref().and_then(|d| parse_date("target.due", d, &mut errors));
    if let (Some(as_of), Some(due)) = (baseline_as_of, due) {
        if as_of >= due {
            errors.push(FieldError::new("target.due", "must be after baseline.as_of"));
        }
    }
    if errors.is_empty() {
        Ok(CheckedTarget {
            comparator,
            baseline_value: baseline.and_then(|b| b.value),
            baseline_as_of,
            value: target.value,
            value_max: target.value_max,
            due,
            placeholder: target.placeholder,
        })
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(value: Option<f64>, value_max: Option<f64>, due: Option<&str>, placeholder: bool) -> Target {
        Target { value, value_max, due: due.map(str::to_owned), placeholder }
    }

    fn baseline(value: Option<f64>, as_of: &str) -> Baseline {
        Baseline { value, as_of: as_of.into() }
    }

    fn fields(result: Result<CheckedTarget, Vec<FieldError>>) -> Vec<String> {
        result.err().unwrap_or_default().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn the_seeds_targets_are_accepted() {
        use Comparator::*;
        let cases: Vec<(Comparator, Unit, Option<Baseline>, Target)> = vec![
            // Jammerbugt 2015: "reduceres med 20 % fra januar 2014 til december 2015" (168 → 134)
            (
                DecreaseByPercent,
                Unit::Persons,
                Some(baseline(Some(168.0), "2014-01-31")),
                target(Some(20.0), None, Some("2015-12-31"), false),
            ),
            // "Der må maksimalt tildeles 4 førtidspensioner pr. måned i 2015"
            (AtMost, Unit::PerMonth, None, target(Some(4.0), None, Some("2015-12-31"), false)),
            // "minimum 100 igangværende revalideringsbevillinger, dog maksimalt 175"
            (
                Between,
                Unit::Count,
                Some(baseline(Some(142.0), "2014-09-30")),
                target(Some(100.0), Some(175.0), Some("2015-12-31"), false),
            ),
            // Allerød 2017: "højst 12,5 pct. ved udgangen af 2017"
            (
                AtMost,
                Unit::Percent,
                Some(baseline(Some(13.9), "2015-12-31")),
                target(Some(12.5), None, Some("2017-12-31"), false),
            ),
            // Tårnby 2017: "udslusningsgrad 27 %"
            (Equal, Unit::Percent, None, target(Some(27.0), None, Some("2017-12-31"), false)),
            // Tårnby 2017: "varighed skal falde med 1 uge i forhold til 2016" (level not stated)
            (
                DecreaseBy,
                Unit::Weeks,
                Some(baseline(None, "2016-12-31")),
                target(Some(1.0), None, Some("2017-12-31"), false),
            ),
            // Jammerbugt: "Mindst 1 gang om året ... dialogmøde"
            (Done, Unit::None, None, target(None, None, Some("2015-12-31"), false)),
            // Lyngby-Taarbæk 2019 draft: "skal falde med x pct. fra 2018 til 2019"
            (
                DecreaseByPercent,
                Unit::Persons,
                Some(baseline(Some(3120.0), "2018-12-31")),
                target(None, None, Some("2019-12-31"), true),
            ),
            // "skal minimum være xx pct." with neither value nor deadline yet
            (AtLeast, Unit::Percent, None, target(None, None, None, true)),
        ];
        for (comparator, unit, baseline, target) in cases {
            let checked = check_target(comparator, unit, baseline.as_ref(), &target);
            assert!(checked.is_ok(), "{comparator:?}: {checked:?}");
        }
    }

    #[test]
    fn between_needs_an_upper_bound_at_or_above_the_lower() {
        use Comparator::Between;
        let due = Some("2015-12-31");
        assert_eq!(
            fields(check_target(Between, Unit::Count, None, &target(Some(100.0), Some(99.0), due, false))),
            ["target.value_max"]
        );
        assert_eq!(
            fields(check_target(Between, Unit::Count, None, &target(Some(100.0), None, due, false))),
            ["target.value_max"]
        );
        assert!(check_target(Between, Unit::Count, None, &target(Some(100.0), Some(100.0), due, false)).is_ok());
        assert_eq!(
            fields(check_target(Comparator::AtMost, Unit::Count, None, &target(Some(1.0), Some(2.0), due, false))),
            ["target.value_max"]
        );
    }

    #[test]
    fn relative_targets_need_a_baseline_and_percent_ones_its_value() {
        let t = target(Some(10.0), None, Some("2015-12-31"), false);
        assert_eq!(fields(check_target(Comparator::DecreaseByPercent, Unit::Persons, None, &t)), ["baseline"]);
        assert_eq!(fields(check_target(Comparator::IncreaseBy, Unit::Persons, None, &t)), ["baseline"]);
        let no_value = baseline(None, "2014-01-31");
        assert_eq!(
            fields(check_target(Comparator::IncreaseByPercent, Unit::Persons, Some(&no_value), &t)),
            ["baseline.value"]
        );
        assert!(check_target(Comparator::IncreaseBy, Unit::Persons, Some(&no_value), &t).is_ok());
        // A draft's "skal falde med x pct. fra 2018 til 2019" may not know the 2018 level yet.
        let draft = target(None, None, Some("2019-12-31"), true);
        assert!(check_target(Comparator::DecreaseByPercent, Unit::Persons, Some(&no_value), &draft).is_ok());
        let too_much = target(Some(120.0), None, Some("2015-12-31"), false);
        let b = baseline(Some(100.0), "2014-01-31");
        assert_eq!(
            fields(check_target(Comparator::DecreaseByPercent, Unit::Persons, Some(&b), &too_much)),
            ["target.value"]
        );
        assert!(check_target(Comparator::IncreaseByPercent, Unit::Persons, Some(&b), &too_much).is_ok());
    }

    #[test]
    fn placeholders_need_no_value_and_others_do() {
        let due = Some("2019-12-31");
        assert_eq!(
            fields(check_target(Comparator::AtLeast, Unit::Percent, None, &target(None, None, due, false))),
            ["target.value"]
        );
        assert!(check_target(Comparator::AtLeast, Unit::Percent, None, &target(None, None, due, true)).is_ok());
        assert_eq!(
            fields(check_target(Comparator::AtLeast, Unit::Percent, None, &target(Some(5.0), None, None, false))),
            ["target.due"]
        );
    }

    #[test]
    fn done_takes_no_number() {
        let due = Some("2015-12-31");
        assert_eq!(
            fields(check_target(Comparator::Done, Unit::None, None, &target(Some(1.0), None, due, false))),
            ["target.value"]
        );
        let b = baseline(Some(1.0), "2014-01-31");
        assert_eq!(
            fields(check_target(Comparator::Done, Unit::None, Some(&b), &target(None, None, due, false))),
            ["baseline"]
        );
    }

    #[test]
    fn dates_are_real_and_in_order() {
        let b = baseline(Some(168.0), "2014-02-30");
        let t = target(Some(20.0), None, Some("2015-13-01"), false);
        assert_eq!(
            fields(check_target(Comparator::DecreaseByPercent, Unit::Persons, Some(&b), &t)),
            ["baseline.as_of", "target.due"]
        );
        let late = baseline(Some(168.0), "2016-01-31");
        let t = target(Some(20.0), None, Some("2015-12-31"), false);
        assert_eq!(fields(check_target(Comparator::DecreaseByPercent, Unit::Persons, Some(&late), &t)), ["target.due"]);
        let t = target(Some(20.0), None, Some("31-12-2015"), false);
        assert_eq!(fields(check_target(Comparator::AtMost, Unit::Persons, None, &t)), ["target.due"]);
        let t = target(Some(20.0), None, Some("2015-1-31"), false);
        assert_eq!(fields(check_target(Comparator::AtMost, Unit::Persons, None, &t)), ["target.due"]);
    }

    #[test]
    fn numbers_are_non_negative_and_percentages_at_most_100() {
        let due = Some("2015-12-31");
        assert_eq!(
            fields(check_target(Comparator::AtMost, Unit::Count, None, &target(Some(-1.0), None, due, false))),
            ["target.value"]
        );
        assert_eq!(
            fields(check_target(Comparator::AtMost, Unit::Percent, None, &target(Some(112.5), None, due, false))),
            ["target.value"]
        );
        assert!(check_target(Comparator::AtMost, Unit::Dkk, None, &target(Some(1_500_000.0), None, due, false)).is_ok());
    }
}
