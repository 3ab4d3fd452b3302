//! RFC 7807 problems of the X API v2: in a stream's `{"errors": [...]}` line, and as the body of
//! an HTTP error (a bare problem for the 429 of a connection limit).
//!
//! The `type` URI is matched on its path suffix (`.../2/problems/operational-disconnect`): hosts
//! differ (`api.twitter.com`, `api.x.com`) and are not the problem's meaning. Values the spec
//! does not list are kept as received ([`DisconnectType::Other`] and alike), never refused.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// How many problems one error line or body may carry before the rest are ignored: a server
/// sends one; this bounds what a hostile line costs.
pub const MAX_PROBLEMS: usize = 64;

/// One problem, its typed extras read by its type.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Problem {
    /// The `type` URI as received (empty when absent).
    pub type_uri: String,
    pub title: Option<String>,
    pub detail: Option<String>,
    /// The HTTP status the problem names, when it names one.
    pub status: Option<i64>,
    pub kind: ProblemKind,
}

/// What a problem is, from its `type` suffix, with the fields that matter to a client.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ProblemKind {
    /// `operational-disconnect`: the server is closing the stream (an in-stream line).
    OperationalDisconnect(DisconnectType),
    /// `streaming-connection`: the connection was refused (`connection_issue`).
    StreamingConnection(ConnectionIssue),
    /// `usage-capped`: the Post cap of the period is used up.
    UsageCapped {
        period: Option<UsagePeriod>,
        /// `Account` or `Product`, as received.
        scope: Option<String>,
    },
    /// Any other type (`invalid-request`, `rule-cap`, `about:blank`, a future one): its suffix.
    Other(String),
}

/// `disconnect_type` of an `operational-disconnect` (OAS 2.166 `OperationalDisconnectProblem`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DisconnectType {
    OperationalDisconnect,
    UpstreamOperationalDisconnect,
    ForceDisconnect,
    UpstreamUncleanDisconnect,
    SlowReader,
    InternalError,
    ClientApplicationStateDegraded,
    InvalidRules,
    /// A value the spec does not list (or none: empty), as received.
    Other(String),
}

/// `connection_issue` of a `streaming-connection` problem (OAS 2.166 `ConnectionExceptionProblem`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ConnectionIssue {
    TooManyConnections,
    ProvisioningSubscription,
    RuleConfigurationIssue,
    RulesInvalidIssue,
    /// A value the spec does not list (or none: empty), as received.
    Other(String),
}

/// `period` of a `usage-capped` problem: when the cap resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum UsagePeriod {
    Daily,
    Monthly,
}

impl DisconnectType {
    fn from_wire(s: &str) -> Self {
        match s {
            "OperationalDisconnect" => Self::OperationalDisconnect,
            "UpstreamOperationalDisconnect" => Self::UpstreamOperationalDisconnect,
            "ForceDisconnect" => Self::ForceDisconnect,
            "UpstreamUncleanDisconnect" => Self::UpstreamUncleanDisconnect,
            "SlowReader" => Self::SlowReader,
            "InternalError" => Self::InternalError,
            "ClientApplicationStateDegraded" => Self::ClientApplicationStateDegraded,
            "InvalidRules" => Self::InvalidRules,
            other => Self::Other(bounded(other)),
        }
    }

    /// The wire name (what `disconnects.code_name` records).
    pub fn as_str(&self) -> &str {
        match self {
            Self::OperationalDisconnect => "OperationalDisconnect",
            Self::UpstreamOperationalDisconnect => "UpstreamOperationalDisconnect",
            Self::ForceDisconnect => "ForceDisconnect",
            Self::UpstreamUncleanDisconnect => "UpstreamUncleanDisconnect",
            Self::SlowReader => "SlowReader",
            Self::InternalError => "InternalError",
            Self::ClientApplicationStateDegraded => "ClientApplicationStateDegraded",
            Self::InvalidRules => "InvalidRules",
            Self::Other(s) => s,
        }
    }
}

impl ConnectionIssue {
    fn from_wire(s: &str) -> Self {
        match s {
            "TooManyConnections" => Self::TooManyConnections,
            "ProvisioningSubscription" => Self::ProvisioningSubscription,
            "RuleConfigurationIssue" => Self::RuleConfigurationIssue,
            "RulesInvalidIssue" => Self::RulesInvalidIssue,
            other => Self::Other(bounded(other)),
        }
    }

    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::TooManyConnections => "TooManyConnections",
            Self::ProvisioningSubscription => "ProvisioningSubscription",
            Self::RuleConfigurationIssue => "RuleConfigurationIssue",
            Self::RulesInvalidIssue => "RulesInvalidIssue",
            Self::Other(s) => s,
        }
    }
}

/// Received text kept in a problem, at most 1,000 characters (a reason, not a payload).
fn bounded(s: &str) -> String {
    match s.char_indices().nth(1000) {
        Some((end, _)) => s.get(..end).unwrap_or_default().to_owned(),
        None => s.to_owned(),
    }
}

/// The suffix of a problem type: the last path segment of the URI (`operational-disconnect`),
/// or the whole text when it has no `/` (`about:blank`).
pub fn type_suffix(type_uri: &str) -> &str {
    let path = type_uri.split(['?', '#']).next().unwrap_or_default();
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
}

/// Every field is read leniently: a field of the wrong type reads as absent (see `text`).
#[derive(Deserialize)]
struct ProblemWire<'a> {
    #[serde(borrow, rename = "type")]
    type_uri: Option<&'a RawValue>,
    #[serde(borrow)]
    title: Option<&'a RawValue>,
    #[serde(borrow)]
    detail: Option<&'a RawValue>,
    #[serde(borrow)]
    status: Option<&'a RawValue>,
    #[serde(borrow)]
    disconnect_type: Option<&'a RawValue>,
    #[serde(borrow)]
    connection_issue: Option<&'a RawValue>,
    #[serde(borrow)]
    period: Option<&'a RawValue>,
    #[serde(borrow)]
    scope: Option<&'a RawValue>,
}

/// A JSON string's value; `None` for anything else.
fn text(raw: Option<&RawValue>) -> Option<Cow<'_, str>> {
    raw.and_then(|r| serde_json::from_str::<Cow<'_, str>>(r.get()).ok())
}

impl ProblemWire<'_> {
    fn into_problem(self) -> Problem {
        let type_uri = text(self.type_uri).map(|t| bounded(&t)).unwrap_or_default();
        let extra = |raw| text(raw).unwrap_or_default();
        let kind = match type_suffix(&type_uri) {
            "operational-disconnect" => ProblemKind::OperationalDisconnect(
                DisconnectType::from_wire(&extra(self.disconnect_type)),
            ),
            "streaming-connection" => ProblemKind::StreamingConnection(ConnectionIssue::from_wire(
                &extra(self.connection_issue),
            )),
            "usage-capped" => ProblemKind::UsageCapped {
                period: match text(self.period).as_deref() {
                    Some("Daily") => Some(UsagePeriod::Daily),
                    Some("Monthly") => Some(UsagePeriod::Monthly),
                    _ => None,
                },
                scope: text(self.scope).map(|s| bounded(&s)),
            },
            other => ProblemKind::Other(other.to_owned()),
        };
        Problem {
            title: text(self.title).map(|s| bounded(&s)),
            detail: text(self.detail).map(|s| bounded(&s)),
            status: self
                .status
                .and_then(|r| serde_json::from_str::<i64>(r.get()).ok()),
            kind,
            type_uri,
        }
    }
}

/// Why an `errors` value is not a list of problems (the line becomes a reject saying so).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProblemError {
    #[error("`errors` is not an array of objects: {0}")]
    NotAList(String),
    #[error("`errors` is an empty array")]
    Empty,
}

/// Reads the value of an `errors` member: an array of problem objects. Unknown members of a
/// problem are ignored; fields of the wrong type read as absent; beyond [`MAX_PROBLEMS`] the
/// rest are skipped.
pub fn parse_problem_list(errors: &str) -> Result<Vec<Problem>, ProblemError> {
    let items: Vec<&RawValue> =
        serde_json::from_str(errors).map_err(|e| ProblemError::NotAList(e.to_string()))?;
    if items.is_empty() {
        return Err(ProblemError::Empty);
    }
    items
        .into_iter()
        .take(MAX_PROBLEMS)
        .enumerate()
        .map(|(i, item)| {
            serde_json::from_str::<ProblemWire<'_>>(item.get())
                .map(ProblemWire::into_problem)
                .map_err(|_| ProblemError::NotAList(format!("errors[{i}] is not an object")))
        })
        .collect()
}

/// The problems an HTTP error body holds: a bare problem (`{"type": ..., "title": ...}`, as
/// the 429 of a connection limit), or `{"errors": [...]}`. `None` when the body is neither
/// (not JSON, or JSON of another shape, such as v1.1's `{"errors":[{"code":88}]}` whose items
/// have no `type`: those read as problems of an empty type).
pub fn parse_problem_body(body: &[u8]) -> Option<Vec<Problem>> {
    let text = std::str::from_utf8(body).ok()?.trim();
    if super::super::nesting_exceeds(text.as_bytes(), super::super::MAX_NESTING) {
        return None;
    }
    #[derive(Deserialize)]
    struct Body<'a> {
        #[serde(borrow)]
        errors: Option<&'a RawValue>,
        #[serde(borrow, rename = "type")]
        type_uri: Option<&'a RawValue>,
        #[serde(borrow)]
        title: Option<&'a RawValue>,
    }
    let body: Body<'_> = serde_json::from_str(text).ok()?;
    if body.type_uri.is_some() || body.title.is_some() {
        let wire: ProblemWire<'_> = serde_json::from_str(text).ok()?;
        return Some(vec![wire.into_problem()]);
    }
    parse_problem_list(body.errors?.get()).ok()
}

impl Problem {
    /// The operational disconnect this problem announces, if it is one.
    pub fn disconnect_type(&self) -> Option<&DisconnectType> {
        match &self.kind {
            ProblemKind::OperationalDisconnect(d) => Some(d),
            _ => None,
        }
    }

    /// The connection issue this problem reports, if it is one.
    pub fn connection_issue(&self) -> Option<&ConnectionIssue> {
        match &self.kind {
            ProblemKind::StreamingConnection(c) => Some(c),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_match_on_their_suffix_whatever_the_host() {
        for host in ["https://api.twitter.com", "https://api.x.com", "http://h:1"] {
            let line = format!(
                r#"[{{"title":"operational-disconnect","disconnect_type":"SlowReader",
                "detail":"too slow","type":"{host}/2/problems/operational-disconnect"}}]"#
            );
            let p = parse_problem_list(&line).unwrap();
            assert_eq!(
                p[0].kind,
                ProblemKind::OperationalDisconnect(DisconnectType::SlowReader)
            );
            assert_eq!(p[0].detail.as_deref(), Some("too slow"));
        }
        assert_eq!(type_suffix("about:blank"), "about:blank");
        assert_eq!(type_suffix("https://x/2/problems/rule-cap/"), "rule-cap");
        assert_eq!(type_suffix(""), "");
    }

    #[test]
    fn the_429_body_is_a_bare_problem() {
        let body = br#"{"title":"ConnectionException","detail":"This stream is currently at the maximum allowed connection limit.",
            "connection_issue":"TooManyConnections","type":"https://api.twitter.com/2/problems/streaming-connection"}"#;
        let p = parse_problem_body(body).unwrap();
        assert_eq!(
            p[0].connection_issue(),
            Some(&ConnectionIssue::TooManyConnections)
        );
        let capped = br#"{"errors":[{"type":"https://api.x.com/2/problems/usage-capped","title":"Usage cap exceeded",
            "period":"Monthly","scope":"Product","status":429}]}"#;
        let p = parse_problem_body(capped).unwrap();
        assert_eq!(
            p[0].kind,
            ProblemKind::UsageCapped {
                period: Some(UsagePeriod::Monthly),
                scope: Some("Product".into())
            }
        );
        assert_eq!(p[0].status, Some(429));
        assert_eq!(parse_problem_body(b"<html>"), None);
        assert_eq!(parse_problem_body(b"[1]"), None);
        let v11 =
            parse_problem_body(br#"{"errors":[{"code":88,"message":"Rate limit exceeded"}]}"#);
        assert_eq!(v11.unwrap()[0].kind, ProblemKind::Other(String::new()));
    }

    #[test]
    fn the_fixture_bodies_parse() {
        let too_many = include_bytes!("../../../../../tests/fixtures/v2/too_many_connections.json");
        let p = parse_problem_body(too_many).unwrap();
        assert_eq!(
            p[0].connection_issue(),
            Some(&ConnectionIssue::TooManyConnections)
        );
        assert_eq!(p[0].title.as_deref(), Some("ConnectionException"));
        let daily = include_bytes!("../../../../../tests/fixtures/v2/usage_capped_daily.json");
        let p = parse_problem_body(daily).unwrap();
        assert_eq!(
            p[0].kind,
            ProblemKind::UsageCapped {
                period: Some(UsagePeriod::Daily),
                scope: Some("Account".into())
            }
        );
    }

    #[test]
    fn odd_values_are_kept_not_refused() {
        let p = parse_problem_list(
            r#"[{"type":7,"title":["x"],"disconnect_type":"Brand new"},
                {"type":"https://api.x.com/2/problems/operational-disconnect","disconnect_type":5}]"#,
        )
        .unwrap();
        assert_eq!(p[0].kind, ProblemKind::Other(String::new()));
        assert_eq!(p[0].title, None);
        assert_eq!(
            p[1].disconnect_type(),
            Some(&DisconnectType::Other(String::new()))
        );
        assert_eq!(parse_problem_list("[]"), Err(ProblemError::Empty));
        assert!(parse_problem_list("{}").is_err());
        assert!(parse_problem_list("[1]").is_err());
        let many = format!("[{}]", vec!["{}"; 500].join(","));
        assert_eq!(parse_problem_list(&many).unwrap().len(), MAX_PROBLEMS);
    }
}
