//! Checking the v2 family's scenario options and steps.

use super::{opt, string, uint};
use crate::simulate::scenario::{Step, V2Settings};
use serde_json::{Map, Value};

/// The v2 family's top-level keys, defaults filled in.
pub(super) fn settings(
    minute_secs: Option<f64>,
    backfill: Option<&str>,
) -> Result<V2Settings, String> {
    let mut v2 = V2Settings::default();
    if let Some(secs) = minute_secs {
        if !secs.is_finite() || secs <= 0.0 || secs > 3600.0 {
            return Err(format!(
                "`backfill_minute_secs` must be a number in (0, 3600], got {secs}"
            ));
        }
        v2.minute_secs = secs;
    }
    v2.backfill_refused = match backfill {
        None | Some("allowed") => false,
        Some("refused") => true,
        Some(other) => {
            return Err(format!(
                "`backfill` is \"allowed\" or \"refused\", got {other:?}"
            ));
        }
    };
    Ok(v2)
}

/// `{ usage_capped = "Daily" | "Monthly", scope = "Product" | "Account", reset_secs = S }`.
pub(super) fn usage_capped_step(table: &Map<String, Value>, value: &Value) -> Result<Step, String> {
    let period = string("usage_capped", value)?;
    if period != "Daily" && period != "Monthly" {
        return Err(format!(
            "`usage_capped` is \"Daily\" or \"Monthly\", got {period:?}"
        ));
    }
    let scope = opt(table, "scope", string)?.unwrap_or_else(|| "Product".into());
    if scope != "Product" && scope != "Account" {
        return Err(format!(
            "`scope` is \"Product\" or \"Account\", got {scope:?}"
        ));
    }
    Ok(Step::UsageCapped {
        period,
        scope,
        reset_secs: opt(table, "reset_secs", uint)?,
    })
}

/// A string with something in it, on one line.
pub(super) fn nonempty(key: &str, value: &Value) -> Result<String, String> {
    match string(key, value)? {
        s if s.is_empty() || s.contains(['\n', '\r']) => {
            Err(format!("`{key}` takes a non-empty one-line string"))
        }
        s => Ok(s),
    }
}
