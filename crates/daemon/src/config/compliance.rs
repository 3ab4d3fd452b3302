//! `[compliance]`: what the archive does with the compliance events whose handling is a
//! choice: superseded edit versions, and the content of users deleted for good.
//!
//! A table of its own so that later compliance settings (a scheduled sweep) join it as fields.

use super::{ConfigError, invalid};
use serde::Deserialize;
use std::path::PathBuf;
use streamvault_core::compliance::Policy;

/// The longest `user_delete_erases_after_days` taken: ten years.
const MAX_ERASE_AFTER_DAYS: u32 = 3650;

/// What happens to the content of an edit chain's older versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EditsSetting {
    /// Older versions' content is erased (physically), their ids kept as the audit trail: X's
    /// policy asks stored content to follow changes made on X.
    #[default]
    Latest,
    /// Older versions are kept (hidden from `tweets_visible`), for agreements that allow it.
    History,
}

/// `[compliance]`: the choices above, and the batch compliance sweep (its keys are checked and
/// used in `config::sweep` and `crate::sweep`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ComplianceSettings {
    /// `edits = "latest" | "history"`.
    pub edits: EditsSetting,
    /// Erase the content of a user whose `user_delete` was not undone within this many days
    /// (default: never; X follows with tweet deletes after 30 days).
    pub user_delete_erases_after_days: Option<u32>,
    /// How often the daemon sweeps (`"24h"`, `"7d"`, `"90m"`; units s, m, h, d, w); absent: the
    /// daemon never sweeps (`streamvault compliance sweep` still does).
    pub sweep_every: Option<String>,
    /// What a scheduled sweep covers: `"tweets"`, `"users"` or both.
    pub sweep_types: Vec<String>,
    /// Scheme and host of the API (`http://127.0.0.1:PORT` for the simulator).
    pub api_base: String,
    /// The app's bearer token: one of a file, a systemd credential or a variable.
    pub bearer_token_file: Option<PathBuf>,
    pub bearer_token_credential: Option<String>,
    pub bearer_token_env: Option<String>,
    /// Ids per job; larger archives are swept in several jobs, one after another.
    pub chunk_ids: u64,
    /// Jobs that end `failed` or `expired` are retried as a new job this many times per chunk.
    pub max_attempts: u32,
    /// Longest wait between two polls of a job (the reconnect policy's `backoff_scale` applies).
    pub poll_max_secs: u64,
}

impl Default for ComplianceSettings {
    fn default() -> Self {
        let sweep = super::sweep::defaults();
        ComplianceSettings {
            edits: EditsSetting::default(),
            user_delete_erases_after_days: None,
            sweep_every: None,
            sweep_types: sweep.sweep_types,
            api_base: sweep.api_base,
            bearer_token_file: None,
            bearer_token_credential: None,
            bearer_token_env: None,
            chunk_ids: sweep.chunk_ids,
            max_attempts: sweep.max_attempts,
            poll_max_secs: sweep.poll_max_secs,
        }
    }
}

impl ComplianceSettings {
    /// Checks the erase delay's range and the sweep's keys.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        self.validate_sweep()?;
        match self.user_delete_erases_after_days {
            Some(d) if !(1..=MAX_ERASE_AFTER_DAYS).contains(&d) => Err(invalid(
                "compliance.user_delete_erases_after_days",
                format!(
                    "must be between 1 and {MAX_ERASE_AFTER_DAYS} days (leave it out for never)"
                ),
            )),
            _ => Ok(()),
        }
    }

    /// What the write path needs of these settings.
    pub fn policy(&self) -> Policy {
        Policy {
            keep_edit_history: self.edits == EditsSetting::History,
        }
    }

    /// The erase delay as a duration, when set.
    pub fn user_delete_erase_after(&self) -> Option<chrono::Duration> {
        self.user_delete_erases_after_days
            .map(|d| chrono::Duration::days(i64::from(d)))
    }

    /// The `[compliance]` table.
    pub(super) fn write_redacted(&self, out: &mut String) {
        use std::fmt::Write;
        let edits = match self.edits {
            EditsSetting::Latest => "latest",
            EditsSetting::History => "history",
        };
        let _ = writeln!(out, "\n[compliance]\nedits = \"{edits}\"");
        if let Some(d) = self.user_delete_erases_after_days {
            let _ = writeln!(out, "user_delete_erases_after_days = {d}");
        }
        self.write_redacted_sweep(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_erase_old_edits_and_keep_deleted_users() {
        let s = ComplianceSettings::default();
        assert!(s.validate().is_ok());
        assert!(!s.policy().keep_edit_history);
        assert_eq!(s.user_delete_erase_after(), None);
        let mut out = String::new();
        s.write_redacted(&mut out);
        assert!(out.contains("edits = \"latest\""), "{out}");
    }

    #[test]
    fn the_erase_delay_is_bounded() {
        for (days, ok) in [(0, false), (1, true), (30, true), (3651, false)] {
            let s = ComplianceSettings {
                user_delete_erases_after_days: Some(days),
                ..Default::default()
            };
            assert_eq!(s.validate().is_ok(), ok, "{days}");
        }
    }
}
