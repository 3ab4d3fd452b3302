//! X API v2 problems as the reconnect policy reads them: an in-stream `operational-disconnect`
//! line, or the body of a refused connection (`TooManyConnections`, `usage-capped`, a refused
//! `backfill_minutes`).
//!
//! Problem types are matched on the end of their path: the same problem comes as
//! `https://api.twitter.com/2/problems/...` and `https://api.x.com/2/problems/...`.

use crate::reconnect::{Ending, ProblemEnding};
use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde::Deserialize;
use std::time::Duration;

/// The fields of an RFC 7807 problem the policy looks at.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Problem {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub disconnect_type: Option<String>,
    #[serde(default)]
    pub connection_issue: Option<String>,
    #[serde(default)]
    pub period: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub parameters: Option<serde_json::Value>,
}

impl Problem {
    /// The type's last path segment (`operational-disconnect`), whatever the host.
    pub fn type_name(&self) -> &str {
        self.kind.rsplit('/').next().unwrap_or("")
    }

    /// The problems of a body: a bare problem (as a refused connection sends it) or an
    /// `errors` array (as a stream line or an API answer does). Anything else: none.
    pub fn all_in(body: &[u8]) -> Vec<Problem> {
        #[derive(Deserialize)]
        struct Errors {
            errors: Vec<serde_json::Value>,
        }
        if let Ok(Errors { errors }) = serde_json::from_slice::<Errors>(body) {
            return errors
                .into_iter()
                .filter_map(|e| serde_json::from_value(e).ok())
                .collect();
        }
        match serde_json::from_slice::<Problem>(body) {
            Ok(p) if !p.kind.is_empty() => vec![p],
            _ => Vec::new(),
        }
    }

    /// Whether this problem refuses the `backfill_minutes` parameter (an access level without
    /// backfill): the stream then reconnects without it.
    pub fn refuses_backfill(&self) -> bool {
        let mentions = |text: &str| text.contains("backfill_minutes");
        self.detail.as_deref().is_some_and(mentions)
            || self.title.as_deref().is_some_and(mentions)
            || self
                .parameters
                .as_ref()
                .is_some_and(|p| mentions(&p.to_string()))
    }
}

/// How an in-stream `operational-disconnect` ends the connection, with the note for the log;
/// `None` for a problem that does not end it (the server closes the stream if it means to).
pub fn in_stream_ending(problem: &Problem) -> Option<(ProblemEnding, &'static str)> {
    if problem.type_name() != "operational-disconnect" {
        return None;
    }
    Some(match problem.disconnect_type.as_deref().unwrap_or("") {
        "SlowReader" => (ProblemEnding::Operational, "client too slow"),
        "InvalidRules" => (
            ProblemEnding::Setup,
            "the server refuses the stream's rules: check them",
        ),
        "ClientApplicationStateDegraded" => (
            ProblemEnding::Setup,
            "the server reports the client application's state as degraded",
        ),
        // OperationalDisconnect, UpstreamOperationalDisconnect, ForceDisconnect,
        // UpstreamUncleanDisconnect, InternalError, and types added later.
        _ => (
            ProblemEnding::Operational,
            "disconnected by the server for operational reasons",
        ),
    })
}

/// How a refused connection's problem changes the policy's reading of its HTTP status, with
/// the note for the log; `None` leaves the status to decide.
pub fn refusal_ending(
    status: u16,
    problem: &Problem,
    now: DateTime<Utc>,
    reset_header: Option<Duration>,
) -> Option<(Ending, String)> {
    match (problem.type_name(), problem.connection_issue.as_deref()) {
        ("streaming-connection", Some("TooManyConnections")) => Some((
            Ending::Problem(ProblemEnding::Contention),
            "TooManyConnections: another client holds this stream's connection (or the server \
             still counts one we dropped)"
                .into(),
        )),
        (
            "streaming-connection",
            Some(issue @ ("RuleConfigurationIssue" | "RulesInvalidIssue")),
        ) => Some((
            Ending::Problem(ProblemEnding::Setup),
            format!("{issue}: the server refuses the stream's rules: check them"),
        )),
        ("usage-capped", _) => {
            let period = problem.period.as_deref().unwrap_or("");
            let reset_in = reset_header.unwrap_or_else(|| until_cap_resets(period, now));
            Some((
                Ending::Problem(ProblemEnding::UsageCapped { reset_in }),
                format!(
                    "usage cap reached ({period} {}): nothing can be read until it resets in {} s",
                    problem.scope.as_deref().unwrap_or(""),
                    reset_in.as_secs()
                ),
            ))
        }
        _ if status == 429 => None,
        _ => None,
    }
}

/// The time left until a usage cap of `period` resets: the next UTC midnight for `Daily`, the
/// first of next month for `Monthly` (and for a period we do not know, the safer of the two
/// that still retries: the next midnight).
pub fn until_cap_resets(period: &str, now: DateTime<Utc>) -> Duration {
    let next = if period.eq_ignore_ascii_case("Monthly") {
        let (year, month) = if now.month() == 12 {
            (now.year() + 1, 1)
        } else {
            (now.year(), now.month() + 1)
        };
        Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0).single()
    } else {
        now.date_naive()
            .succ_opt()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
    };
    next.and_then(|at| (at - now).to_std().ok())
        .unwrap_or(Duration::from_secs(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn in_stream_disconnects_map_onto_the_policy() {
        let line = br#"{"errors":[{"title":"operational-disconnect","disconnect_type":"UpstreamOperationalDisconnect","detail":"This stream has been disconnected upstream for operational reasons.","type":"https://api.x.com/2/problems/operational-disconnect"}]}"#;
        let problems = Problem::all_in(line);
        assert_eq!(problems.len(), 1);
        assert_eq!(
            in_stream_ending(&problems[0]).map(|e| e.0),
            Some(ProblemEnding::Operational)
        );
        let cases = [
            ("OperationalDisconnect", ProblemEnding::Operational),
            ("ForceDisconnect", ProblemEnding::Operational),
            ("UpstreamUncleanDisconnect", ProblemEnding::Operational),
            ("InternalError", ProblemEnding::Operational),
            ("SlowReader", ProblemEnding::Operational),
            ("InvalidRules", ProblemEnding::Setup),
            ("ClientApplicationStateDegraded", ProblemEnding::Setup),
            ("SomethingNew", ProblemEnding::Operational),
        ];
        for (kind, want) in cases {
            let p = Problem {
                kind: "https://api.twitter.com/2/problems/operational-disconnect".into(),
                disconnect_type: Some(kind.into()),
                ..Problem::default()
            };
            assert_eq!(in_stream_ending(&p).map(|e| e.0), Some(want), "{kind}");
        }
        let other = Problem {
            kind: "https://api.x.com/2/problems/resource-not-found".into(),
            ..Problem::default()
        };
        assert_eq!(in_stream_ending(&other), None);
    }

    #[test]
    fn refused_connections_are_read_from_their_body() {
        let now = at("2026-12-05T13:00:00Z");
        let body = br#"{"title":"ConnectionException","detail":"This stream is currently at the maximum allowed connection limit.","connection_issue":"TooManyConnections","type":"https://api.twitter.com/2/problems/streaming-connection"}"#;
        let p = &Problem::all_in(body)[0];
        assert_eq!(
            refusal_ending(429, p, now, None).unwrap().0,
            Ending::Problem(ProblemEnding::Contention)
        );
        let capped = br#"{"title":"UsageCapExceeded","detail":"Usage cap exceeded: Monthly product cap","type":"https://api.twitter.com/2/problems/usage-capped","period":"Monthly","scope":"Product"}"#;
        let p = &Problem::all_in(capped)[0];
        let (ending, note) = refusal_ending(429, p, now, None).unwrap();
        // 26 days and 11 hours to 2027-01-01T00:00Z.
        let want = Duration::from_secs((26 * 24 + 11) * 3600);
        assert_eq!(
            ending,
            Ending::Problem(ProblemEnding::UsageCapped { reset_in: want })
        );
        assert!(note.contains("Monthly"), "{note}");
        let header = Some(Duration::from_secs(90));
        assert_eq!(
            refusal_ending(429, p, now, header).unwrap().0,
            Ending::Problem(ProblemEnding::UsageCapped {
                reset_in: Duration::from_secs(90)
            })
        );
        assert_eq!(refusal_ending(429, &Problem::default(), now, None), None);
    }

    #[test]
    fn caps_reset_at_midnight_or_the_first_of_the_month() {
        let now = at("2026-12-31T23:30:00Z");
        assert_eq!(until_cap_resets("Daily", now), Duration::from_secs(1800));
        assert_eq!(until_cap_resets("Monthly", now), Duration::from_secs(1800));
        let now = at("2026-02-10T00:00:00Z");
        assert_eq!(
            until_cap_resets("Monthly", now),
            Duration::from_secs(19 * 86_400)
        );
    }

    #[test]
    fn bodies_that_are_not_problems_give_none() {
        for body in [&b""[..], b"nope", b"{}", b"[1,2]", br#"{"errors":"x"}"#] {
            assert!(Problem::all_in(body).is_empty(), "{body:?}");
        }
        let refused = br#"{"errors":[{"parameters":{"backfill_minutes":["5"]},"message":"The `backfill_minutes` query parameter value [5] is not one of [0]"}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.twitter.com/2/problems/invalid-request"}"#;
        // The errors array wins; its entry names the parameter.
        let problems = Problem::all_in(refused);
        assert!(
            problems.iter().any(Problem::refuses_backfill),
            "{problems:?}"
        );
    }
}
