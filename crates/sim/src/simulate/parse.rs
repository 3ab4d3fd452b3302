//! Checking a scenario file's layout and steps, with errors that name the connection, the
//! step and the key: the format itself is documented in [`super::scenario`].

use super::scenario::{Amount, ConnectionScript, LiveFormat, LiveSettings, Period, Scenario, Step};

mod jobs;
mod v2;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::path::PathBuf;

/// Keys that make a step what it is; exactly one per step.
const KINDS: &[&str] = &[
    "send",
    "file",
    "disconnect",
    "http",
    "reset",
    "reset_mid_line",
    "stall",
    "trickle",
    "oversize",
    "malformed",
    "warning",
    "keepalive",
    "idle",
    "close",
    "live",
    "unknown_payload",
    "forget_session",
    "subscriptions_event",
    "hostile",
    "raw",
    "unterminated",
    "operational_disconnect",
    "usage_capped",
];

/// Optional keys and the step kind each belongs to.
const COMPANIONS: &[(&str, &str)] = &[
    ("reason", "disconnect"),
    ("stream_name", "disconnect"),
    ("retry_after", "http"),
    ("body", "http"),
    ("bytes_per_sec", "trickle"),
    ("percent_full", "warning"),
    ("message", "warning"),
    ("user_id", "warning"),
    ("count", "hostile"),
    ("bytes", "hostile"),
    ("detail", "operational_disconnect"),
    ("scope", "usage_capped"),
    ("reset_secs", "usage_capped"),
];

/// Largest `oversize` line: big enough for any line limit, small enough not to exhaust memory.
const MAX_OVERSIZE: u64 = 256 << 20;

/// The file layout, before the steps are checked one by one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ScenarioFile {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    rate: Option<f64>,
    keepalive_secs: Option<f64>,
    #[serde(default)]
    gzip: bool,
    queue_bytes: Option<u64>,
    format: Option<String>,
    ttl_millis: Option<u64>,
    heartbeat_millis: Option<u64>,
    backfill_minute_secs: Option<f64>,
    backfill: Option<String>,
    compliance: Option<Value>,
    jobs: Option<Value>,
    connection: Vec<ConnectionFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConnectionFile {
    steps: Vec<Value>,
}

impl TryFrom<ScenarioFile> for Scenario {
    type Error = String;

    fn try_from(file: ScenarioFile) -> Result<Self, String> {
        if let Some(rate) = file.rate {
            if !rate.is_finite() || rate < 0.0 {
                return Err(format!("`rate` must be a number >= 0, got {rate}"));
            }
        }
        if let Some(secs) = file.keepalive_secs {
            if !secs.is_finite() || secs <= 0.0 {
                return Err(format!("`keepalive_secs` must be a number > 0, got {secs}"));
            }
        }
        let live = live_settings(&file)?;
        let mut v2 = v2::settings(file.backfill_minute_secs, file.backfill.as_deref())?;
        if let Some(table) = &file.compliance {
            v2.compliance = super::v2::compliance::settings::parse(table)?;
        }
        let jobs = file.jobs.as_ref().map(jobs::settings).transpose()?;
        if file.connection.is_empty() {
            return Err("at least one [[connection]] with its `steps` is needed".into());
        }
        let mut connections = Vec::with_capacity(file.connection.len());
        for (c, conn) in file.connection.into_iter().enumerate() {
            let mut steps = Vec::with_capacity(conn.steps.len());
            for (s, value) in conn.steps.iter().enumerate() {
                let at = |reason: String| format!("connection {}, step {}: {reason}", c + 1, s + 1);
                let step = parse_step(value).map_err(at)?;
                if matches!(step, Step::Http { .. } | Step::UsageCapped { .. })
                    && conn.steps.len() > 1
                {
                    return Err(at(format!(
                        "an `{}` step answers instead of a stream, so it must be the \
                         connection's only step",
                        step.kind()
                    )));
                }
                steps.push(step);
            }
            connections.push(ConnectionScript { steps });
        }
        Ok(Scenario {
            name: file.name,
            description: file.description,
            rate: file.rate,
            keepalive_secs: file.keepalive_secs,
            gzip: file.gzip,
            queue_bytes: file.queue_bytes,
            connections,
            live,
            v2,
            jobs,
        })
    }
}

/// The topics family's top-level keys, defaults filled in.
fn live_settings(file: &ScenarioFile) -> Result<LiveSettings, String> {
    let defaults = LiveSettings::default();
    let format = match file.format.as_deref() {
        None | Some("sse") => LiveFormat::Sse,
        Some("lines") => LiveFormat::Lines,
        Some("sse-cr") => LiveFormat::SseCr,
        Some(other) => {
            return Err(format!(
                "`format` is \"sse\", \"sse-cr\" or \"lines\", got {other:?}"
            ));
        }
    };
    let positive = |key: &str, value: Option<u64>, default: u64| match value {
        Some(0) => Err(format!("`{key}` must be > 0")),
        Some(v) => Ok(v),
        None => Ok(default),
    };
    Ok(LiveSettings {
        format,
        ttl_millis: positive("ttl_millis", file.ttl_millis, defaults.ttl_millis)?,
        heartbeat_millis: positive(
            "heartbeat_millis",
            file.heartbeat_millis,
            defaults.heartbeat_millis,
        )?,
    })
}

/// One step from its table: exactly one kind key, and only that kind's companions.
pub(super) fn parse_step(value: &Value) -> Result<Step, String> {
    let Some(table) = value.as_object() else {
        return Err(format!(
            "a step is a table like {{ send = 10 }}, got {value}"
        ));
    };
    let kind = step_kind(table)?;
    let value = &table[kind];
    let step = match kind {
        "send" => Step::Send(amount(kind, value)?),
        "file" => Step::File(PathBuf::from(string(kind, value)?)),
        "disconnect" => disconnect_step(table, value)?,
        "http" => http_step(table, value)?,
        "reset" | "reset_mid_line" | "close" | "forget_session" | "subscriptions_event" => {
            flag_step(kind, value)?
        }
        "live" => Step::Live(amount(kind, value)?),
        "unknown_payload" => Step::UnknownPayload(uint(kind, value)?),
        "stall" => Step::Stall(period(kind, value)?),
        "idle" => Step::Idle(period(kind, value)?),
        "trickle" => trickle_step(table, value)?,
        "oversize" => Step::Oversize(bytes(kind, value, 64)?),
        "malformed" => Step::Malformed(uint(kind, value)?),
        "hostile" => hostile_step(table, value)?,
        "raw" => raw_step(value)?,
        "unterminated" => Step::Unterminated(bytes(kind, value, 1)?),
        "keepalive" => Step::Keepalive(uint(kind, value)?),
        "operational_disconnect" => Step::OperationalDisconnect {
            disconnect_type: v2::nonempty(kind, value)?,
            detail: opt(table, "detail", string)?,
        },
        "usage_capped" => v2::usage_capped_step(table, value)?,
        _ => warning_step(table, value)?,
    };
    Ok(step)
}

fn disconnect_step(table: &Map<String, Value>, value: &Value) -> Result<Step, String> {
    Ok(Step::Disconnect {
        code: u32::try_from(uint("disconnect", value)?)
            .map_err(|e| format!("`disconnect`: {e}"))?,
        reason: opt(table, "reason", string)?,
        stream_name: opt(table, "stream_name", string)?,
    })
}

fn trickle_step(table: &Map<String, Value>, value: &Value) -> Result<Step, String> {
    Ok(Step::Trickle {
        count: uint("trickle", value)?,
        bytes_per_sec: match opt(table, "bytes_per_sec", uint)? {
            Some(b) if b > 0 => b,
            _ => return Err("`trickle` needs `bytes_per_sec` > 0".into()),
        },
    })
}

/// The size of an `oversize` or `unterminated` line: `min..=MAX_OVERSIZE` bytes.
fn bytes(kind: &str, value: &Value, min: u64) -> Result<u64, String> {
    match uint(kind, value)? {
        b if (min..=MAX_OVERSIZE).contains(&b) => Ok(b),
        b => Err(format!(
            "`{kind}` takes {min}..={MAX_OVERSIZE} bytes, got {b}"
        )),
    }
}

/// One line of our own: a line break would make it two.
fn raw_step(value: &Value) -> Result<Step, String> {
    match string("raw", value)? {
        text if text.contains(['\n', '\r']) => Err("`raw` is one line: no line break in it".into()),
        text => Ok(Step::Raw(text)),
    }
}

fn warning_step(table: &Map<String, Value>, value: &Value) -> Result<Step, String> {
    Ok(Step::Warning {
        code: string("warning", value)?,
        message: opt(table, "message", string)?,
        percent_full: opt(table, "percent_full", uint)?
            .map(|p| u32::try_from(p).map_err(|e| format!("`percent_full`: {e}")))
            .transpose()?,
        user_id: opt(table, "user_id", uint)?,
    })
}

/// The step's one kind key; unknown keys and companions of another kind are refused.
fn step_kind(table: &Map<String, Value>) -> Result<&'static str, String> {
    let mut kind = None;
    for key in table.keys() {
        if let Some(known) = KINDS.iter().find(|k| *k == key) {
            if let Some(first) = kind {
                return Err(format!("a step has one kind, found `{first}` and `{key}`"));
            }
            kind = Some(*known);
        } else if !COMPANIONS.iter().any(|(k, _)| k == key) {
            return Err(format!(
                "unknown key `{key}` (step kinds: {})",
                KINDS.join(", ")
            ));
        }
    }
    let Some(kind) = kind else {
        return Err(format!("no step kind (one of {})", KINDS.join(", ")));
    };
    for (key, owner) in COMPANIONS {
        if table.contains_key(*key) && *owner != kind {
            return Err(format!("`{key}` belongs to a `{owner}` step, not `{kind}`"));
        }
    }
    Ok(kind)
}

/// `reset`, `reset_mid_line`, `close`, `forget_session` and `subscriptions_event`, which take
/// `true` and nothing else.
fn flag_step(kind: &str, value: &Value) -> Result<Step, String> {
    if value != &Value::Bool(true) {
        return Err(format!("`{kind}` takes `true`, got {value}"));
    }
    Ok(match kind {
        "close" => Step::Close,
        "forget_session" => Step::ForgetSession,
        "subscriptions_event" => Step::SubscriptionsEvent,
        _ => Step::Reset {
            mid_line: kind == "reset_mid_line",
        },
    })
}

fn http_step(table: &Map<String, Value>, value: &Value) -> Result<Step, String> {
    let status = match uint("http", value)? {
        s @ 200..=599 => s as u16,
        s => return Err(format!("`http` takes a status in 200..=599, got {s}")),
    };
    Ok(Step::Http {
        status,
        retry_after: opt(table, "retry_after", uint)?,
        body: opt(table, "body", string)?,
    })
}

/// `{ hostile = "case", count = N, bytes = B }`: a known case (or `all`), N ≥ 1 (default 1),
/// and B for `oversize` within the same bounds as an `oversize` step.
fn hostile_step(table: &Map<String, Value>, value: &Value) -> Result<Step, String> {
    let case = string("hostile", value)?;
    if case != "all" && !super::hostile::CASES.contains(&case.as_str()) {
        return Err(format!(
            "unknown hostile case `{case}` (cases: all, {})",
            super::hostile::CASES.join(", ")
        ));
    }
    let count = opt(table, "count", uint)?.unwrap_or(1);
    let bytes = opt(table, "bytes", uint)?.unwrap_or(super::hostile::DEFAULT_OVERSIZE);
    if !(64..=MAX_OVERSIZE).contains(&bytes) {
        return Err(format!("`bytes` takes 64..={MAX_OVERSIZE}, got {bytes}"));
    }
    Ok(Step::Hostile { case, count, bytes })
}

pub(super) fn opt<T>(
    table: &Map<String, Value>,
    key: &str,
    parse: fn(&str, &Value) -> Result<T, String>,
) -> Result<Option<T>, String> {
    table.get(key).map(|v| parse(key, v)).transpose()
}

pub(super) fn uint(key: &str, value: &Value) -> Result<u64, String> {
    value
        .as_u64()
        .ok_or_else(|| format!("`{key}` takes an integer >= 0, got {value}"))
}

pub(super) fn string(key: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        _ => Err(format!("`{key}` takes a string, got {value}")),
    }
}

fn amount(key: &str, value: &Value) -> Result<Amount, String> {
    match value {
        Value::String(s) if s == "forever" => Ok(Amount::Forever),
        _ => value
            .as_u64()
            .map(Amount::Events)
            .ok_or_else(|| format!("`{key}` takes a count of events or \"forever\", got {value}")),
    }
}

fn period(key: &str, value: &Value) -> Result<Period, String> {
    match value {
        Value::String(s) if s == "forever" => Ok(Period::Forever),
        _ => match value.as_f64() {
            Some(secs) if secs.is_finite() && secs >= 0.0 => Ok(Period::Seconds(secs)),
            _ => Err(format!(
                "`{key}` takes seconds >= 0 or \"forever\", got {value}"
            )),
        },
    }
}
