//! Small validation rules shared by resources. Each returns the field errors it finds, so a
//! request is answered with every problem at once. The errors are plain values: `error.rs` maps
//! [`Invalid`] to a 422 problem, so the domain knows nothing of HTTP.

use serde::Serialize;
use utoipa::ToSchema;

/// A field-level validation message, e.g. `{"field": "target.value", "message": "…"}`.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

/// Input that breaks one or more rules: every error found, in the order found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub Vec<FieldError>);

/// Collects field errors; `finish` turns them into [`Invalid`] when there are any.
#[derive(Debug, Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Text that must be present (not blank) and at most `max` characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) {
        if is_blank(value) {
            self.fail(field, "must not be blank");
        }
        self.optional_text(field, Some(value), max);
    }

    pub fn optional_text(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(value) = value {
            // PostgreSQL cannot store NUL in text; no plan needs it.
            if value.contains('\0') {
                self.fail(field, "must not contain NUL characters");
            }
            let length = value.chars().count();
            if length > max {
                self.fail(field, format!("must be at most {max} characters (is {length})"));
            }
        }
    }

    pub fn range(&mut self, field: &str, value: i64, min: i64, max: i64) {
        if value < min || value > max {
            self.fail(field, format!("must be between {min} and {max}"));
        }
    }

    /// A list of at most `max` entries; `false` (and an error) when it is longer, so that its
    /// entries are not checked one by one.
    pub fn at_most(&mut self, field: &str, len: usize, max: usize) -> bool {
        if len > max {
            self.fail(field, format!("at most {max} entries"));
        }
        len <= max
    }

    pub fn municipality_code(&mut self, field: &str, code: &str) {
        if !is_municipality_code(code) {
            self.fail(field, "must be a three-digit kommunekode, e.g. \"185\"");
        }
    }

    /// Adds errors found by another rule (e.g. `requirement::check_target`).
    pub fn extend(&mut self, errors: impl IntoIterator<Item = FieldError>) {
        self.0.extend(errors);
    }

    pub fn finish(self) -> Result<(), Invalid> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Invalid(self.0))
        }
    }
}

/// Whether a text shows nothing: only whitespace and characters that render as nothing (zero-width
/// spaces and joiners, word joiner, byte order mark, soft hyphen), which `str::trim` keeps.
pub fn is_blank(value: &str) -> bool {
    value.chars().all(|c| {
        c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}')
    })
}

/// Danish municipality codes (kommunekoder) are three digits, e.g. "185" Tårnby, "101" København.
/// The most municipalities a list may name: Denmark has 98.
pub const MAX_MUNICIPALITIES: usize = 98;

pub fn is_municipality_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn municipality_codes() {
        for good in ["185", "155", "849", "101"] {
            assert!(is_municipality_code(good), "{good}");
        }
        for bad in ["", "18", "1850", "18a", " 85", "١٨٥"] {
            assert!(!is_municipality_code(bad), "{bad}");
        }
    }

    #[test]
    fn text_of_only_invisible_characters_is_blank() {
        for blank in
            ["", "   ", "\u{200B}", "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}", " \u{200B}\t\u{00A0}\n", "\u{00AD}"]
        {
            let mut checks = Checks::new();
            checks.text("title", blank, 100);
            assert_eq!(checks.finish(), Err(Invalid(vec![FieldError::new("title", "must not be blank")])), "{blank:?}");
        }
        for shown in ["a", "\u{200B}a\u{200B}", "Beskæftigelsesplan 2017", "\u{200D}👍"] {
            let mut checks = Checks::new();
            checks.text("title", shown, 100);
            assert_eq!(checks.finish(), Ok(()), "{shown:?}");
        }
    }

    #[test]
    fn text_rules_collect_every_error() {
        let mut checks = Checks::new();
        checks.text("title", "   ", 10);
        checks.text("name", "Tårnby Kommune", 5);
        checks.text("ok", "Dragør", 6);
        checks.range("year", 1999, 2000, 2100);
        let Err(Invalid(errors)) = checks.finish() else {
            panic!("expected validation errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "name", "year"]);
    }
}
