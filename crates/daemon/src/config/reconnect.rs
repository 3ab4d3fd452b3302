//! `[reconnect]`: tuning of the reconnect policy.

use super::{ConfigError, invalid};
use serde::Deserialize;

/// `[reconnect]`: tuning of the reconnect policy (the policy itself is the contract's table).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReconnectSettings {
    /// Multiplies every wait of the policy. 1.0 in production; simulations and tests shrink it
    /// so that a 60 s rate-limit backoff can be watched in under a second.
    pub backoff_scale: f64,
}

impl Default for ReconnectSettings {
    fn default() -> Self {
        ReconnectSettings { backoff_scale: 1.0 }
    }
}

impl ReconnectSettings {
    /// Checks that the scale is positive and bounded.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let scale = self.backoff_scale;
        if !(scale > 0.0 && scale <= 10.0) {
            return Err(invalid(
                "reconnect.backoff_scale",
                "must be greater than 0 and at most 10",
            ));
        }
        Ok(())
    }

    /// The `[reconnect]` table, only when it differs from the default (production) policy.
    pub(super) fn write_redacted(&self, out: &mut String) {
        use std::fmt::Write;
        if *self != ReconnectSettings::default() {
            let _ = writeln!(out, "\n[reconnect]\nbackoff_scale = {}", self.backoff_scale);
        }
    }
}
