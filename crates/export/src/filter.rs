//! What an export selects: its time window, stream, rule, author and the countries it is for.
//!
//! The filters are written into the manifest as they were given, so that `--check` re-applies
//! the same countries and a reader of the manifest knows what the dataset claims to be.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which time `--since`/`--until` compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeBasis {
    /// The status's own `created_at` (when it was posted); a status without one is left out
    /// of a windowed export, since it cannot be placed in the window.
    #[default]
    Created,
    /// When the archive (or the collector of an imported file) first saw it: `first_seen_at`.
    Archived,
}

/// The selection of one export. Every filter narrows; none given: every shareable status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    /// Inclusive start of the window.
    pub since: Option<DateTime<Utc>>,
    /// Exclusive end of the window.
    pub until: Option<DateTime<Utc>>,
    /// Which time the window applies to.
    #[serde(default)]
    pub by: TimeBasis,
    /// Only statuses this stream (or replay collection) received as messages of their own.
    pub stream: Option<String>,
    /// Only v2 Posts that matched a filtered-stream rule with this tag.
    pub rule: Option<String>,
    /// Only statuses by this author.
    pub user: Option<i64>,
    /// The countries the dataset is for: what is withheld in any of them is left out
    /// (upper-case ISO codes). What is withheld everywhere (`XX`) is always left out.
    #[serde(default)]
    pub countries: Vec<String>,
}

/// A filter value the command cannot use.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FilterError {
    #[error("--country {0:?} is not a two-letter country code")]
    Country(String),
    #[error("--since must be before --until")]
    Window,
}

impl Filters {
    /// Normalises the countries (upper case, sorted, once each) and checks the window.
    pub fn validated(mut self) -> Result<Filters, FilterError> {
        let mut countries = Vec::with_capacity(self.countries.len());
        for c in &self.countries {
            let upper = c.trim().to_ascii_uppercase();
            if upper.len() != 2 || !upper.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(FilterError::Country(c.clone()));
            }
            countries.push(upper);
        }
        countries.sort();
        countries.dedup();
        self.countries = countries;
        if let (Some(since), Some(until)) = (self.since, self.until) {
            if since >= until {
                return Err(FilterError::Window);
            }
        }
        Ok(self)
    }

    /// The codes a status or user must not be withheld in: the chosen countries and `XX`.
    pub fn withheld_codes(&self) -> Vec<String> {
        let mut codes = self.countries.clone();
        codes.push("XX".into());
        codes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_are_normalised_and_checked() {
        let f = Filters {
            countries: vec!["de".into(), "FR".into(), "DE".into()],
            ..Filters::default()
        }
        .validated()
        .unwrap();
        assert_eq!(f.countries, ["DE", "FR"]);
        assert_eq!(f.withheld_codes(), ["DE", "FR", "XX"]);
        let bad = Filters {
            countries: vec!["DEU".into()],
            ..Filters::default()
        };
        assert_eq!(bad.validated(), Err(FilterError::Country("DEU".into())));
    }

    #[test]
    fn an_empty_window_is_refused() {
        let t = Utc::now();
        let f = Filters {
            since: Some(t),
            until: Some(t),
            ..Filters::default()
        };
        assert_eq!(f.validated(), Err(FilterError::Window));
    }
}
