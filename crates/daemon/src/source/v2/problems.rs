//! X API v2 problems as the reconnect policy reads them: an in-stream `operational-disconnect`
//! line, or the body of a refused connection (`TooManyConnections`, `usage-capped`, a refused
//! `backfill_minutes`).
//!
//! Problem types are matched on the end of their path: the same problem comes as
//! `https://api.twitter.com/2/problems/...` and `https://api.x.com/2/problems/...`.

use crate::reconnect::{Ending, ProblemEnding};
use chrono::{DateTime, Datelike, TimeZone, Utc};
use std::time::Duration;
use streamvault_core::protocol::v2::{ConnectionIssue, Problem, ProblemKind, UsagePeriod};

/// How an in-stream `operational-disconnect` of type `disconnect_type` (as recorded in
/// `disconnects.code_name`) ends the connection, with the note for the log.
pub fn in_stream_ending(disconnect_type: &str) -> (ProblemEnding, &'static str) {
    match disconnect_type {
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
    }
}

/// How a refused connection's problem changes the policy's reading of its HTTP status, with
/// the note for the log; `None` leaves the status to decide.
pub fn refusal_ending(
    problem: &Problem,
    now: DateTime<Utc>,
    reset_header: Option<Duration>,
) -> Option<(Ending, String)> {
    match &problem.kind {
        ProblemKind::StreamingConnection(ConnectionIssue::TooManyConnections) => Some((
            Ending::Problem(ProblemEnding::Contention),
            "TooManyConnections: another client holds this stream's connection (or the server \
             still counts one we dropped)"
                .into(),
        )),
        ProblemKind::StreamingConnection(
            issue @ (ConnectionIssue::RuleConfigurationIssue | ConnectionIssue::RulesInvalidIssue),
        ) => Some((
            Ending::Problem(ProblemEnding::Setup),
            format!(
                "{}: the server refuses the stream's rules: check them",
                issue.as_str()
            ),
        )),
        ProblemKind::UsageCapped { period, scope } => {
            let reset_in = reset_header.unwrap_or_else(|| until_cap_resets(*period, now));
            let period = match period {
                Some(UsagePeriod::Daily) => "Daily",
                Some(UsagePeriod::Monthly) => "Monthly",
                None => "unknown period",
            };
            Some((
                Ending::Problem(ProblemEnding::UsageCapped { reset_in }),
                format!(
                    "usage cap reached ({period}, {}): nothing can be read until it resets in {} s",
                    scope.as_deref().unwrap_or("unknown scope"),
                    reset_in.as_secs()
                ),
            ))
        }
        _ => None,
    }
}

/// The time left until a usage cap of `period` resets: the next UTC midnight for `Daily`, the
/// first of next month for `Monthly` (and, for a period not given, the sooner of the two: the
/// next midnight, so that the stream tries again rather than sleep a month for nothing).
pub fn until_cap_resets(period: Option<UsagePeriod>, now: DateTime<Utc>) -> Duration {
    let next = if period == Some(UsagePeriod::Monthly) {
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
    use streamvault_core::protocol::v2::parse_problem_body;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn in_stream_disconnects_map_onto_the_policy() {
        let cases = [
            ("OperationalDisconnect", ProblemEnding::Operational),
            ("UpstreamOperationalDisconnect", ProblemEnding::Operational),
            ("ForceDisconnect", ProblemEnding::Operational),
            ("UpstreamUncleanDisconnect", ProblemEnding::Operational),
            ("InternalError", ProblemEnding::Operational),
            ("SlowReader", ProblemEnding::Operational),
            ("InvalidRules", ProblemEnding::Setup),
            ("ClientApplicationStateDegraded", ProblemEnding::Setup),
            ("SomethingNew", ProblemEnding::Operational),
        ];
        for (kind, want) in cases {
            assert_eq!(in_stream_ending(kind).0, want, "{kind}");
        }
        assert_eq!(in_stream_ending("SlowReader").1, "client too slow");
    }

    #[test]
    fn refused_connections_are_read_from_their_body() {
        let now = at("2026-12-05T13:00:00Z");
        let body = br#"{"title":"ConnectionException","detail":"This stream is currently at the maximum allowed connection limit.","connection_issue":"TooManyConnections","type":"https://api.twitter.com/2/problems/streaming-connection"}"#;
        let p = &parse_problem_body(body).unwrap()[0];
        assert_eq!(
            refusal_ending(p, now, None).unwrap().0,
            Ending::Problem(ProblemEnding::Contention)
        );
        let capped = br#"{"title":"UsageCapExceeded","detail":"Usage cap exceeded: Monthly product cap","type":"https://api.twitter.com/2/problems/usage-capped","period":"Monthly","scope":"Product"}"#;
        let p = &parse_problem_body(capped).unwrap()[0];
        let (ending, note) = refusal_ending(p, now, None).unwrap();
        // 26 days and 11 hours to 2027-01-01T00:00Z.
        let want = Duration::from_secs((26 * 24 + 11) * 3600);
        assert_eq!(
            ending,
            Ending::Problem(ProblemEnding::UsageCapped { reset_in: want })
        );
        assert!(note.contains("Monthly"), "{note}");
        let header = Some(Duration::from_secs(90));
        assert_eq!(
            refusal_ending(p, now, header).unwrap().0,
            Ending::Problem(ProblemEnding::UsageCapped {
                reset_in: Duration::from_secs(90)
            })
        );
        let rules = br#"{"title":"ConnectionException","connection_issue":"RulesInvalidIssue","type":"https://api.x.com/2/problems/streaming-connection"}"#;
        let p = &parse_problem_body(rules).unwrap()[0];
        assert_eq!(
            refusal_ending(p, now, None).unwrap().0,
            Ending::Problem(ProblemEnding::Setup)
        );
        let other =
            br#"{"title":"Not Found","type":"https://api.x.com/2/problems/resource-not-found"}"#;
        let p = &parse_problem_body(other).unwrap()[0];
        assert_eq!(refusal_ending(p, now, None), None);
    }

    #[test]
    fn caps_reset_at_midnight_or_the_first_of_the_month() {
        let now = at("2026-12-31T23:30:00Z");
        let daily = Some(UsagePeriod::Daily);
        let monthly = Some(UsagePeriod::Monthly);
        assert_eq!(until_cap_resets(daily, now), Duration::from_secs(1800));
        assert_eq!(until_cap_resets(monthly, now), Duration::from_secs(1800));
        assert_eq!(until_cap_resets(None, now), Duration::from_secs(1800));
        let now = at("2026-02-10T00:00:00Z");
        assert_eq!(
            until_cap_resets(monthly, now),
            Duration::from_secs(19 * 86_400)
        );
    }
}
