//! `Debug` forms of values that may hold secrets, so that a `{:?}` of the settings (in a log
//! line, a panic message, a test failure) shows their shape but never a credential.

use std::collections::BTreeMap;
use std::fmt;

/// A URL with its credentials (userinfo, secret-looking query parameters) hidden.
pub(crate) struct Url<'a>(pub(crate) &'a str);

impl fmt::Debug for Url<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", streamvault_store::redact_url(self.0))
    }
}

/// An optional URL, as [`Url`].
pub(crate) struct OptionalUrl<'a>(pub(crate) Option<&'a str>);

impl fmt::Debug for OptionalUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(url) => f.debug_tuple("Some").field(&Url(url)).finish(),
            None => f.write_str("None"),
        }
    }
}

/// A map whose names are shown and whose values are not (headers: `Authorization`, `Cookie`,
/// `x-csrf-token` carry credentials; query parameters may carry keys).
pub(crate) struct Names<'a>(pub(crate) &'a BTreeMap<String, String>);

impl fmt::Debug for Names<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, Hidden)))
            .finish()
    }
}

/// What stands for a hidden value.
struct Hidden;

impl fmt::Debug for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}
