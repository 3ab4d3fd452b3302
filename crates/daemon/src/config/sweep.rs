//! `[compliance]` keys of the batch compliance sweep (X API v2 compliance jobs over the archive's ids):
//! where the API is, its token, how many ids per job, and the daemon's schedule.

use super::{ComplianceSettings, ConfigError, invalid};
use std::time::Duration;

/// The API host of X (the jobs API is `{api_base}/2/compliance/jobs`).
pub const DEFAULT_API_BASE: &str = "https://api.x.com";
/// Ids per job. No maximum is documented (reference §3.2); at ~20 bytes an id this is a 2 MB
/// upload, well within what twarc users upload in one job.
pub const DEFAULT_CHUNK_IDS: u64 = 100_000;
/// Largest chunk accepted: the chunk's ids are held in memory while uploading (16 B each).
const MAX_CHUNK_IDS: u64 = 10_000_000;

/// The sweep's defaults, as `[compliance]` takes them when its keys are left out.
pub(super) fn defaults() -> SweepDefaults {
    SweepDefaults {
        sweep_types: vec!["tweets".into()],
        api_base: DEFAULT_API_BASE.into(),
        chunk_ids: DEFAULT_CHUNK_IDS,
        max_attempts: 3,
        poll_max_secs: 60,
    }
}

/// The sweep keys of [`ComplianceSettings`] that have a default other than nothing.
pub(super) struct SweepDefaults {
    pub(super) sweep_types: Vec<String>,
    pub(super) api_base: String,
    pub(super) chunk_ids: u64,
    pub(super) max_attempts: u32,
    pub(super) poll_max_secs: u64,
}

impl ComplianceSettings {
    /// Checks the sweep's keys; the token itself is read when a sweep starts.
    pub(super) fn validate_sweep(&self) -> Result<(), ConfigError> {
        if let Some(every) = &self.sweep_every {
            parse_every(every).map_err(|reason| invalid("compliance.sweep_every", reason))?;
        }
        for t in &self.sweep_types {
            if t != "tweets" && t != "users" {
                return Err(invalid(
                    "compliance.sweep_types",
                    format!("`{t}` is neither \"tweets\" nor \"users\""),
                ));
            }
        }
        let base = url::Url::parse(&self.api_base)
            .map_err(|e| invalid("compliance.api_base", e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.host().is_none() {
            return Err(invalid("compliance.api_base", "must be an http(s) URL"));
        }
        if !(1..=MAX_CHUNK_IDS).contains(&self.chunk_ids) {
            return Err(invalid(
                "compliance.chunk_ids",
                format!("must be between 1 and {MAX_CHUNK_IDS}"),
            ));
        }
        if !(1..=100).contains(&self.max_attempts) {
            return Err(invalid(
                "compliance.max_attempts",
                "must be between 1 and 100",
            ));
        }
        if !(1..=3600).contains(&self.poll_max_secs) {
            return Err(invalid(
                "compliance.poll_max_secs",
                "must be between 1 and 3600",
            ));
        }
        Ok(())
    }

    /// The schedule, when the daemon sweeps.
    pub fn every(&self) -> Option<Duration> {
        self.sweep_every
            .as_deref()
            .and_then(|e| parse_every(e).ok())
    }

    /// The sweep's keys of the `[compliance]` table; the token is named by its source, never
    /// shown.
    pub(super) fn write_redacted_sweep(&self, out: &mut String) {
        use std::fmt::Write;
        if let Some(every) = &self.sweep_every {
            let _ = writeln!(out, "sweep_every = {every:?}");
        }
        let _ = writeln!(out, "sweep_types = {:?}", self.sweep_types);
        let _ = writeln!(
            out,
            "api_base = {:?}",
            streamvault_store::redact_url(&self.api_base)
        );
        if let Some(f) = &self.bearer_token_file {
            let _ = writeln!(out, "bearer_token_file = {:?}", f.display().to_string());
        }
        if let Some(c) = &self.bearer_token_credential {
            let _ = writeln!(out, "bearer_token_credential = {c:?}");
        }
        if let Some(v) = &self.bearer_token_env {
            let _ = writeln!(out, "bearer_token_env = {v:?}");
        }
        let _ = writeln!(out, "chunk_ids = {}", self.chunk_ids);
        let _ = writeln!(out, "max_attempts = {}", self.max_attempts);
        let _ = writeln!(out, "poll_max_secs = {}", self.poll_max_secs);
    }
}

/// `"24h"`: a positive whole number and a unit (s, m, h, d, w), at most a year.
pub fn parse_every(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{text}` has no unit (s, m, h, d or w)"))?;
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` does not start with a number"))?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(format!("unknown unit `{unit}` (use s, m, h, d or w)")),
    };
    let secs = n.saturating_mul(unit_secs);
    if n == 0 || secs > 366 * 86_400 {
        return Err(format!("`{text}` must be more than 0 and at most a year"));
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse_with_their_unit() {
        assert_eq!(parse_every("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_every("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_every("2s"), Ok(Duration::from_secs(2)));
        for bad in ["", "24", "h", "0h", "5y", "-3h", "999w"] {
            assert!(parse_every(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_keys_are_named() {
        let bad = |c: ComplianceSettings| c.validate_sweep().unwrap_err().to_string();
        let base = ComplianceSettings::default();
        assert!(base.validate_sweep().is_ok());
        assert!(
            bad(ComplianceSettings {
                sweep_every: Some("soon".into()),
                ..base.clone()
            })
            .contains("compliance.sweep_every")
        );
        assert!(
            bad(ComplianceSettings {
                chunk_ids: 0,
                ..base.clone()
            })
            .contains("compliance.chunk_ids")
        );
        assert!(
            bad(ComplianceSettings {
                api_base: "ftp://x".into(),
                ..base.clone()
            })
            .contains("compliance.api_base")
        );
        assert!(
            bad(ComplianceSettings {
                sweep_types: vec!["dms".into()],
                ..base
            })
            .contains("compliance.sweep_types")
        );
    }
}
