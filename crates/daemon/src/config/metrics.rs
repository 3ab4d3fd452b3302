//! `[metrics]`: where the Prometheus endpoint listens.

use super::{ConfigError, invalid};
use serde::Deserialize;

/// `[metrics]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    pub listen: Option<String>,
}

impl MetricsSettings {
    /// Checks that `listen`, if given, is a socket address.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(listen) = self.listen.as_deref() {
            if listen.parse::<std::net::SocketAddr>().is_err() {
                return Err(invalid(
                    "metrics.listen",
                    format!("{listen:?} is not an address like 127.0.0.1:9464"),
                ));
            }
        }
        Ok(())
    }

    /// The `[metrics]` table.
    pub(super) fn write_redacted(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(
            out,
            "\n[metrics]\nlisten = {:?}",
            self.listen.as_deref().unwrap_or("")
        );
    }
}
