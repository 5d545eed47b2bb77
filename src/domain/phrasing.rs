//! Targets written out in Danish the way the plans phrase them, e.g. "højst 12,5 pct. ved
//! udgangen af 2017" or "et fald på 20 pct. fra 168 personer i januar 2014 til 134 personer ved
//! udgangen af 2015".

use chrono::{Datelike, NaiveDate};

use super::document::DocumentRequirement;
use super::requirement::{Comparator, Unit};

const MONTHS: [&str; 12] = [
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
];

/// A number in Danish notation: decimal comma, thousands separated by dots, at most two decimals.
pub fn number(value: f64) -> String {
    let rounded = (value * 100.0).round() / 100.0;
    let negative = rounded < 0.0;
    let whole = rounded.abs().trunc() as u64;
    let cents = ((rounded.abs() - whole as f64) * 100.0).round() as u64;
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    let decimals = match cents {
        0 => String::new(),
        c if c % 10 == 0 => format!(",{}", c / 10),
        c => format!(",{c:02}"),
    };
    format!("{}{grouped}{decimals}", if negative { "-" } else { "" })
}

/// A value with its unit ("12,5 pct.", "1 uge", "168 personer"); `None` is a placeholder ("x").
pub fn quantity(value: Option<f64>, unit: Unit) -> String {
    let Some(v) = value else {
        return match unit {
            Unit::Percent => "xx pct.".into(),
            _ => format!("x{}", unit_suffix(unit, 2.0)),
        };
    };
    format!("{}{}", number(v), unit_suffix(unit, v))
}

fn unit_suffix(unit: Unit, value: f64) -> &'static str {
    let one = value == 1.0;
    match unit {
        Unit::Persons if one => " person",
        Unit::Persons => " personer",
        Unit::Percent => " pct.",
        Unit::PercentagePoints => " procentpoint",
        Unit::Weeks if one => " uge",
        Unit::Weeks => " uger",
        Unit::Dkk => " kr.",
        Unit::PerMonth => " pr. måned",
        Unit::Count | Unit::None => "",
    }
}

/// "ved udgangen af 2017" for the last day of a year, otherwise "senest 30. september 2016".
pub fn deadline(due: NaiveDate) -> String {
    if due.month() == 12 && due.day() == 31 {
        format!("ved udgangen af {}", due.year())
    } else {
        format!("senest {}", date(due))
    }
}

/// "januar 2014" for the last day of a month (statistics describe months), else "15. januar 2014".
pub fn month_or_date(day: NaiveDate) -> String {
    let last_of_month = day.succ_opt().is_none_or(|next| next.month() != day.month());
    if last_of_month {
        format!("{} {}", MONTHS[day.month0() as usize], day.year())
    } else {
        date(day)
    }
}

/// "28. september 2016"
pub fn date(day: NaiveDate) -> String {
    format!("{}. {} {}", day.day(), MONTHS[day.month0() as usize], day.year())
}

fn parse(date: Option<&str>) -> Option<NaiveDate> {
    date.and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

/// A computed level, rounded the way the plans round: whole persons and cases, otherwise one
/// decimal.
fn level(value: f64, unit: Unit) -> f64 {
    match unit {
        Unit::Persons | Unit::Count | Unit::PerMonth => value.round(),
        _ => (value * 10.0).round() / 10.0,
    }
}

/// The target of a requirement in Danish.
pub fn target_text(requirement: &DocumentRequirement) -> String {
    let target = &requirement.target;
    let unit = requirement.unit;
    let due = parse(target.due.as_deref());
    let baseline_value = requirement.baseline.as_ref().and_then(|b| b.value);
    let baseline_date = requirement.baseline.as_ref().and_then(|b| parse(Some(&b.as_of)));
    let by = due.map(|d| format!(" {}", deadline(d))).unwrap_or_default();
    let from = match (baseline_value, baseline_date) {
        (Some(v), Some(d)) => format!(" fra {} i {}", quantity(Some(v), unit), month_or_date(d)),
        (None, Some(d)) => format!(" i forhold til {}", month_or_date(d)),
        _ => String::new(),
    };
    let change = |word: &str, sign: f64, percent: bool| {
        let amount = if percent { quantity(target.value, Unit::Percent) } else { quantity(target.value, unit) };
        let reached = match (baseline_value, target.value) {
            (Some(b), Some(v)) if percent => Some(b * (1.0 + sign * v / 100.0)),
            (Some(b), Some(v)) => Some(b + sign * v),
            _ => None,
        };
        let to = reached.map(|r| format!(" til {}", quantity(Some(level(r, unit)), unit))).unwrap_or_default();
        format!("{word} {amount}{from}{to}{by}")
    };
    let text = match requirement.comparator {
        Comparator::AtMost => format!("højst {}{by}", quantity(target.value, unit)),
        Comparator::AtLeast => format!("mindst {}{by}", quantity(target.value, unit)),
        Comparator::Between => {
            format!(
                "mindst {}, dog højst {}{by}",
                quantity(target.value, Unit::Count),
                quantity(target.value_max, unit)
            )
        }
        Comparator::Equal => format!("{}{by}", quantity(target.value, unit)),
        Comparator::DecreaseBy => change("et fald på", -1.0, false),
        Comparator::IncreaseBy => change("en stigning på", 1.0, false),
        Comparator::DecreaseByPercent => change("et fald på", -1.0, true),
        Comparator::IncreaseByPercent => change("en stigning på", 1.0, true),
        Comparator::Done => format!("gennemføres{by}"),
    };
    if target.placeholder {
        format!("{text} (måltallet fastsættes senere)")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::requirement::{Baseline, Target};

    fn requirement(
        comparator: Comparator,
        unit: Unit,
        baseline: Option<(Option<f64>, &str)>,
        target: Target,
    ) -> DocumentRequirement {
        DocumentRequirement {
            id: "r".into(),
            statement: String::new(),
            indicator: String::new(),
            unit,
            comparator,
            baseline: baseline.map(|(value, as_of)| Baseline { value, as_of: as_of.into() }),
            target,
            data_source: None,
            frequency: None,
            position: 0,
        }
    }

    fn target(value: Option<f64>, value_max: Option<f64>, due: Option<&str>, placeholder: bool) -> Target {
        Target { value, value_max, due: due.map(str::to_owned), placeholder }
    }

    #[test]
    fn numbers_in_danish() {
        assert_eq!(number(12.5), "12,5");
        assert_eq!(number(134.0), "134");
        assert_eq!(number(1_500_000.0), "1.500.000");
        assert_eq!(number(1234.56), "1.234,56");
        assert_eq!(number(0.05), "0,05");
        assert_eq!(number(-1.4), "-1,4");
    }

    #[test]
    fn the_seeds_targets_in_their_own_words() {
        let cases = [
            // Allerød 2017
            (
                requirement(
                    Comparator::AtMost,
                    Unit::Percent,
                    None,
                    target(Some(12.5), None, Some("2017-12-31"), false),
                ),
                "højst 12,5 pct. ved udgangen af 2017",
            ),
            // Jammerbugt 2015, Mål 3
            (
                requirement(
                    Comparator::DecreaseByPercent,
                    Unit::Persons,
                    Some((Some(168.0), "2014-01-31")),
                    target(Some(20.0), None, Some("2015-12-31"), false),
                ),
                "et fald på 20 pct. fra 168 personer i januar 2014 til 134 personer ved udgangen af 2015",
            ),
            // Jammerbugt 2015, Mål 1
            (
                requirement(
                    Comparator::DecreaseByPercent,
                    Unit::Persons,
                    Some((Some(280.0), "2014-01-31")),
                    target(Some(10.0), None, Some("2015-12-31"), false),
                ),
                "et fald på 10 pct. fra 280 personer i januar 2014 til 252 personer ved udgangen af 2015",
            ),
            (
                requirement(
                    Comparator::AtMost,
                    Unit::PerMonth,
                    None,
                    target(Some(4.0), None, Some("2015-12-31"), false),
                ),
                "højst 4 pr. måned ved udgangen af 2015",
            ),
            (
                requirement(
                    Comparator::Between,
                    Unit::Count,
                    None,
                    target(Some(100.0), Some(175.0), Some("2015-12-31"), false),
                ),
                "mindst 100, dog højst 175 ved udgangen af 2015",
            ),
            // Tårnby 2017
            (
                requirement(
                    Comparator::DecreaseBy,
                    Unit::Weeks,
                    Some((None, "2016-12-31")),
                    target(Some(1.0), None, Some("2017-12-31"), false),
                ),
                "et fald på 1 uge i forhold til december 2016 ved udgangen af 2017",
            ),
            (
                requirement(
                    Comparator::Equal,
                    Unit::Percent,
                    None,
                    target(Some(27.0), None, Some("2017-12-31"), false),
                ),
                "27 pct. ved udgangen af 2017",
            ),
            (
                requirement(Comparator::Done, Unit::None, None, target(None, None, Some("2015-12-31"), false)),
                "gennemføres ved udgangen af 2015",
            ),
            (
                requirement(Comparator::AtLeast, Unit::Percent, None, target(None, None, Some("2019-12-31"), true)),
                "mindst xx pct. ved udgangen af 2019 (måltallet fastsættes senere)",
            ),
            (
                requirement(
                    Comparator::IncreaseBy,
                    Unit::Dkk,
                    Some((Some(1_000_000.0), "2016-09-30")),
                    target(Some(250_000.0), None, Some("2017-06-30"), false),
                ),
                "en stigning på 250.000 kr. fra 1.000.000 kr. i september 2016 til 1.250.000 kr. senest 30. juni 2017",
            ),
        ];
        for (requirement, expected) in cases {
            assert_eq!(target_text(&requirement), expected);
        }
    }

    #[test]
    fn dates() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(deadline(d("2017-12-31")), "ved udgangen af 2017");
        assert_eq!(deadline(d("2016-09-28")), "senest 28. september 2016");
        assert_eq!(month_or_date(d("2014-02-28")), "februar 2014");
        assert_eq!(month_or_date(d("2016-02-28")), "28. februar 2016");
    }
}
