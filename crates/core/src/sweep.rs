//! The result lines of an X API v2 batch compliance job, and what each verdict asks of the
//! archive.
//!
//! A job's results are JSON lines, one per non-compliant id (ids absent from the results are
//! compliant): `{"id": "…", "action": "delete", "created_at": "…", "redacted_at": "…",
//! "reason": "deleted"}` (`../shared/reference/x-api-v2.md` §3.3). The download is a server's
//! answer, so every line is hostile: [`parse_line`] never panics, bounds what it keeps, and turns
//! anything it cannot read into a [`Malformed`] with a reason, never an error that stops the
//! lines after it.

use crate::protocol::WireId;
use serde::Deserialize;

/// Longest result line read; a real line is under 200 bytes. Longer lines are malformed.
pub const MAX_RESULT_LINE_BYTES: usize = 4096;
/// Longest text kept of a verdict's `action`, `reason` and times (a hostile server may send
/// megabytes in one field; what is kept goes to the archive and the log).
const MAX_FIELD_CHARS: usize = 64;

/// Which ids a job holds: Posts or users (`type` of the job), never a mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobType {
    Tweets,
    Users,
}

impl JobType {
    /// The API's name (`type` of a job, `compliance_jobs.job_type`).
    pub fn as_str(self) -> &'static str {
        match self {
            JobType::Tweets => "tweets",
            JobType::Users => "users",
        }
    }

    /// The type named `s` (`tweets` or `users`).
    pub fn parse(s: &str) -> Option<JobType> {
        match s {
            "tweets" => Some(JobType::Tweets),
            "users" => Some(JobType::Users),
            _ => None,
        }
    }

    /// `compliance_verified.target` and `compliance_verdicts.target` of this type's ids.
    pub fn target(self) -> &'static str {
        match self {
            JobType::Tweets => "tweet",
            JobType::Users => "user",
        }
    }
}

/// One readable result line.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub id: i64,
    pub action: String,
    pub reason: Option<String>,
    /// As the server wrote them (kept, not interpreted).
    pub created_at: Option<String>,
    pub redacted_at: Option<String>,
}

/// A line that is no verdict, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Malformed {
    pub reason: String,
}

/// What a verdict asks of the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ruling {
    /// Erase the Post, as a status delete does (tweets jobs: `delete` with reason `deleted`,
    /// `deactivated`, `protected` or `suspended`).
    DeletePost,
    /// Scrub the location of the Post's author up to this Post (reason `scrub_geo`).
    ScrubGeo,
    /// Erase the user's profile and Posts (users jobs: `delete` with a known reason).
    EraseUser,
    /// An action or reason this version does not know: kept and reported, not applied.
    Unknown,
}

/// The reasons of a `delete` that mean the content must go (DOCS-2024 batch-compliance
/// introduction). `bounced` is listed only by the 2026 docs and is kept as unknown.
const DELETE_REASONS: &[&str] = &["deleted", "deactivated", "protected", "suspended"];

impl Verdict {
    /// What this verdict asks of an archive swept with a job of `job_type`.
    pub fn ruling(&self, job_type: JobType) -> Ruling {
        let reason = self.reason.as_deref();
        match (job_type, self.action.as_str(), reason) {
            (JobType::Tweets, "delete" | "scrub_geo", Some("scrub_geo")) => Ruling::ScrubGeo,
            (JobType::Tweets, "delete", Some(r)) if DELETE_REASONS.contains(&r) => {
                Ruling::DeletePost
            }
            (JobType::Users, "delete", Some(r)) if DELETE_REASONS.contains(&r) => Ruling::EraseUser,
            _ => Ruling::Unknown,
        }
    }
}

#[derive(Deserialize)]
struct Wire {
    id: Option<WireId>,
    action: Option<serde_json::Value>,
    reason: Option<serde_json::Value>,
    created_at: Option<serde_json::Value>,
    redacted_at: Option<serde_json::Value>,
}

/// Reads one result line (without its line end; a trailing `\r` and surrounding blanks are
/// tolerated). `Ok(None)` for a blank line.
pub fn parse_line(line: &[u8]) -> Result<Option<Verdict>, Malformed> {
    let bad = |reason: String| Malformed { reason };
    if line.len() > MAX_RESULT_LINE_BYTES {
        return Err(bad(format!(
            "line of {} bytes exceeds {MAX_RESULT_LINE_BYTES}",
            line.len()
        )));
    }
    let text = std::str::from_utf8(line)
        .map_err(|e| bad(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?
        .trim();
    if text.is_empty() {
        return Ok(None);
    }
    if !text.starts_with('{') {
        return Err(bad("not a JSON object".into()));
    }
    let wire: Wire = serde_json::from_str(text).map_err(|e| bad(format!("malformed JSON: {e}")))?;
    let id = match wire.id {
        Some(WireId::Usable(id)) if id > 0 => id,
        Some(WireId::Usable(id)) => return Err(bad(format!("id {id} is not positive"))),
        Some(WireId::Unusable(why)) => return Err(bad(format!("unusable id: {why}"))),
        None => return Err(bad("no id".into())),
    };
    let action = match text_field(wire.action, "action")? {
        Some(action) => action,
        None => return Err(bad("no action".into())),
    };
    Ok(Some(Verdict {
        id,
        action,
        reason: text_field(wire.reason, "reason")?,
        created_at: text_field(wire.created_at, "created_at")?,
        redacted_at: text_field(wire.redacted_at, "redacted_at")?,
    }))
}

/// A string field, at most [`MAX_FIELD_CHARS`] characters of it; `null` or absent is `None`.
fn text_field(value: Option<serde_json::Value>, name: &str) -> Result<Option<String>, Malformed> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.chars().take(MAX_FIELD_CHARS).collect())),
        Some(_) => Err(Malformed {
            reason: format!("{name} is not a string"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCS: &str = r#"{"id":"1265324480517361664","action":"delete","created_at":"2019-10-29T17:02:47.000Z","redacted_at":"2020-07-29T17:02:47.000Z","reason":"deleted"}"#;

    #[test]
    fn the_documented_line_is_a_post_delete() {
        let v = parse_line(DOCS.as_bytes()).unwrap().unwrap();
        assert_eq!(v.id, 1_265_324_480_517_361_664);
        assert_eq!(v.action, "delete");
        assert_eq!(v.reason.as_deref(), Some("deleted"));
        assert_eq!(v.redacted_at.as_deref(), Some("2020-07-29T17:02:47.000Z"));
        assert_eq!(v.ruling(JobType::Tweets), Ruling::DeletePost);
        assert_eq!(v.ruling(JobType::Users), Ruling::EraseUser);
    }

    #[test]
    fn reasons_decide_the_ruling() {
        let verdict = |action: &str, reason: Option<&str>| Verdict {
            id: 1,
            action: action.into(),
            reason: reason.map(Into::into),
            created_at: None,
            redacted_at: None,
        };
        for r in ["deleted", "deactivated", "protected", "suspended"] {
            assert_eq!(
                verdict("delete", Some(r)).ruling(JobType::Tweets),
                Ruling::DeletePost
            );
        }
        let scrub = verdict("delete", Some("scrub_geo"));
        assert_eq!(scrub.ruling(JobType::Tweets), Ruling::ScrubGeo);
        assert_eq!(scrub.ruling(JobType::Users), Ruling::Unknown);
        for unknown in [
            verdict("delete", Some("bounced")),
            verdict("delete", None),
            verdict("edit", Some("deleted")),
        ] {
            assert_eq!(unknown.ruling(JobType::Tweets), Ruling::Unknown);
        }
    }

    #[test]
    fn hostile_lines_are_malformed_with_a_reason() {
        let cases: &[(&[u8], &str)] = &[
            (b"[1,2]", "not a JSON object"),
            (b"{\"id\":", "malformed JSON"),
            (b"{\"action\":\"delete\"}", "no id"),
            (b"{\"id\":\"12x\",\"action\":\"delete\"}", "unusable id"),
            (b"{\"id\":-4,\"action\":\"delete\"}", "negative"),
            (b"{\"id\":0,\"action\":\"delete\"}", "not positive"),
            (b"{\"id\":\"5\"}", "no action"),
            (b"{\"id\":\"5\",\"action\":7}", "action is not a string"),
            (
                b"{\"id\":\"5\",\"action\":\"delete\",\"reason\":[]}",
                "reason is not",
            ),
            (b"\xff\xfe{}", "invalid UTF-8"),
            (b"{\"id\":1.5e300,\"action\":\"delete\"}", "unusable id"),
        ];
        for (line, why) in cases {
            let err = parse_line(line).unwrap_err();
            assert!(err.reason.contains(why), "{line:?}: {}", err.reason);
        }
        let long = vec![b' '; MAX_RESULT_LINE_BYTES + 1];
        assert!(parse_line(&long).unwrap_err().reason.contains("exceeds"));
    }

    #[test]
    fn blank_lines_and_crlf_are_tolerated_and_fields_bounded() {
        assert_eq!(parse_line(b"  \r").unwrap(), None);
        let line = format!(
            "{{\"id\":7,\"action\":\"delete\",\"reason\":\"{}\"}}\r",
            "x".repeat(1000)
        );
        let v = parse_line(line.as_bytes()).unwrap().unwrap();
        assert_eq!(v.id, 7);
        assert_eq!(v.reason.unwrap().len(), MAX_FIELD_CHARS);
    }
}
