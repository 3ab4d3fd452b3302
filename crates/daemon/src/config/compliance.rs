//! `[compliance]`: what the archive does with the compliance events whose handling is a
//! choice: superseded edit versions, and the content of users deleted for good.
//!
//! A table of its own so that later compliance settings (a scheduled sweep) join it as fields.

use super::{ConfigError, invalid};
use serde::Deserialize;
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

/// `[compliance]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ComplianceSettings {
    /// `edits = "latest" | "history"`.
    pub edits: EditsSetting,
    /// Erase the content of a user whose `user_delete` was not undone within this many days
    /// (default: never; X follows with tweet deletes after 30 days).
    pub user_delete_erases_after_days: Option<u32>,
}

impl ComplianceSettings {
    /// Checks the erase delay's range.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
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
