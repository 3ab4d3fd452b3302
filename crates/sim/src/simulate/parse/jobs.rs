//! Checking a scenario's `[jobs]` table: how the batch compliance jobs API behaves when the
//! simulator is run from the command line (`streamvault simulate --scenario FILE`), where no
//! test can set [`JobsSettings`] itself.

use super::{string, uint};
use crate::simulate::jobs::JobsSettings;
use serde_json::{Map, Value};
use std::time::Duration;

/// The table's keys.
const KEYS: &[&str] = &[
    "outcomes",
    "in_progress_secs",
    "rate_limited_polls",
    "foreign_job_secs",
    "delete_every",
    "verdicts",
    "extra_lines",
];

/// The job outcomes a scenario may script.
const OUTCOMES: &[&str] = &["complete", "failed", "expired"];

/// The longest a job may be scripted to stay `in_progress` (or a foreign job to hold a type).
const MAX_SECS: f64 = 86_400.0;

/// The `[jobs]` table, defaults for what it leaves out (see `docs/simulator.md`).
pub(crate) fn settings(table: &Value) -> Result<JobsSettings, String> {
    let at = |reason: String| format!("[jobs]: {reason}");
    let Some(table) = table.as_object() else {
        return Err(at(format!("a table, got {table}")));
    };
    if let Some(key) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(at(format!(
            "unknown key `{key}` (keys: {})",
            KEYS.join(", ")
        )));
    }
    let mut jobs = JobsSettings::default();
    if let Some(list) = table.get("outcomes") {
        jobs.outcomes = strings("outcomes", list).map_err(at)?;
        if let Some(bad) = jobs
            .outcomes
            .iter()
            .find(|o| !OUTCOMES.contains(&o.as_str()))
        {
            return Err(at(format!(
                "`outcomes` are {}, got {bad:?}",
                OUTCOMES.join(", ")
            )));
        }
    }
    if let Some(v) = table.get("in_progress_secs") {
        jobs.in_progress_for = secs("in_progress_secs", v).map_err(at)?;
    }
    if let Some(v) = table.get("foreign_job_secs") {
        jobs.foreign_job_for = Some(secs("foreign_job_secs", v).map_err(at)?);
    }
    if let Some(v) = table.get("rate_limited_polls") {
        let n = uint("rate_limited_polls", v).map_err(at)?;
        jobs.rate_limited_polls =
            u32::try_from(n).map_err(|e| at(format!("`rate_limited_polls`: {e}")))?;
    }
    if let Some(v) = table.get("delete_every") {
        jobs.delete_every = uint("delete_every", v).map_err(at)?;
    }
    if let Some(v) = table.get("extra_lines") {
        jobs.extra_lines = strings("extra_lines", v).map_err(at)?;
        if jobs.extra_lines.iter().any(|l| l.contains(['\n', '\r'])) {
            return Err(at("`extra_lines` are lines: no line break in one".into()));
        }
    }
    if let Some(v) = table.get("verdicts") {
        jobs.verdicts = verdicts(v).map_err(at)?;
    }
    Ok(jobs)
}

/// Seconds in `0..=MAX_SECS`.
fn secs(key: &str, value: &Value) -> Result<Duration, String> {
    match value.as_f64() {
        Some(s) if s.is_finite() && (0.0..=MAX_SECS).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!(
            "`{key}` takes seconds in 0..={MAX_SECS}, got {value}"
        )),
    }
}

fn strings(key: &str, value: &Value) -> Result<Vec<String>, String> {
    let Some(list) = value.as_array() else {
        return Err(format!("`{key}` takes a list of strings, got {value}"));
    };
    list.iter().map(|v| string(key, v)).collect()
}

/// `[{ id = 5, action = "delete", reason = "deleted" }, ...]`: exactly what the results say of
/// those ids (any action or reason, so unknown ones can be scripted too).
fn verdicts(value: &Value) -> Result<std::collections::BTreeMap<i64, (String, String)>, String> {
    let Some(list) = value.as_array() else {
        return Err(format!("`verdicts` takes a list of tables, got {value}"));
    };
    let mut out = std::collections::BTreeMap::new();
    for (i, v) in list.iter().enumerate() {
        let at = |reason: String| format!("verdict {}: {reason}", i + 1);
        let Some(t) = v.as_object() else {
            return Err(at(format!(
                "a table like {{ id = 5, action = \"delete\", reason = \"deleted\" }}, got {v}"
            )));
        };
        if let Some(key) = t
            .keys()
            .find(|k| !["id", "action", "reason"].contains(&k.as_str()))
        {
            return Err(at(format!("unknown key `{key}` (id, action, reason)")));
        }
        let id = field(t, "id", uint).map_err(at)?;
        let id = i64::try_from(id).map_err(|e| at(format!("`id`: {e}")))?;
        let action = field(t, "action", string).map_err(at)?;
        let reason = field(t, "reason", string).map_err(at)?;
        if out.insert(id, (action, reason)).is_some() {
            return Err(at(format!("id {id} has a verdict already")));
        }
    }
    Ok(out)
}

fn field<T>(
    t: &Map<String, Value>,
    key: &str,
    parse: fn(&str, &Value) -> Result<T, String>,
) -> Result<T, String> {
    match t.get(key) {
        Some(v) => parse(key, v),
        None => Err(format!("`{key}` is needed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<JobsSettings, String> {
        let v: Value = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        settings(&v)
    }

    #[test]
    fn every_key_is_read() {
        let j = parse(
            r#"
            outcomes = ["failed", "expired", "complete"]
            in_progress_secs = 1.5
            rate_limited_polls = 2
            foreign_job_secs = 3
            delete_every = 7
            extra_lines = ["not json"]
            verdicts = [{ id = 5, action = "delete", reason = "suspended" }]
            "#,
        )
        .unwrap();
        assert_eq!(j.outcomes, ["failed", "expired", "complete"]);
        assert_eq!(j.in_progress_for, Duration::from_millis(1500));
        assert_eq!(j.rate_limited_polls, 2);
        assert_eq!(j.foreign_job_for, Some(Duration::from_secs(3)));
        assert_eq!(j.delete_every, 7);
        assert_eq!(j.extra_lines, ["not json"]);
        assert_eq!(j.verdict_of(5), Some(("delete".into(), "suspended".into())));
        assert_eq!(j.verdict_of(14), Some(("delete".into(), "deleted".into())));
        assert_eq!(parse("").unwrap(), JobsSettings::default());
    }

    #[test]
    fn mistakes_are_named() {
        for (text, says) in [
            ("outcome = []", "unknown key `outcome`"),
            (r#"outcomes = ["done"]"#, "got \"done\""),
            ("in_progress_secs = -1", "in_progress_secs"),
            ("foreign_job_secs = 1e9", "foreign_job_secs"),
            ("rate_limited_polls = 1e3", "rate_limited_polls"),
            (
                r#"verdicts = [{ id = 5, action = "delete" }]"#,
                "verdict 1: `reason` is needed",
            ),
            (
                r#"verdicts = [{ id = 5, action = "a", reason = "r" }, { id = 5, action = "b", reason = "r" }]"#,
                "verdict 2: id 5 has a verdict already",
            ),
            (r#"extra_lines = ["a\nb"]"#, "line break"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }
}
