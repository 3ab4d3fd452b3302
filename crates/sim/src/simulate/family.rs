//! The stream families a request path selects.

use super::scenario::Step;
use super::v2::Route;

/// The stream families, told apart by the request path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    /// v1.1-style newline-delimited JSON: every path but the ones below.
    Ndjson,
    /// Topic-based live sessions: paths ending in `/live_pipeline/events`.
    Topics,
    /// X API v2: paths holding `/2/tweets/`, and the users compliance stream (see `v2`).
    V2,
}

impl Family {
    /// The family a request path selects.
    pub(super) fn of(path: &str) -> Family {
        if Route::of(path).is_some() {
            Family::V2
        } else if path.ends_with("/live_pipeline/events") {
            Family::Topics
        } else {
            Family::Ndjson
        }
    }

    /// The stats' `family` value.
    pub(super) fn name(self) -> &'static str {
        match self {
            Family::Ndjson => "ndjson",
            Family::Topics => "topics",
            Family::V2 => "v2",
        }
    }

    /// Whether a script step means something on this family's streams.
    pub(super) fn fits(self, step: &Step) -> bool {
        match self {
            Family::Ndjson => step.fits_ndjson(),
            Family::Topics => step.fits_topics(),
            Family::V2 => step.fits_v2(),
        }
    }
}
