//! The RFC 7807 problems of the X API v2 the simulator answers with, in the shapes the
//! reference notes quote (`/work/shared/reference/x-api-v2.md` §1.5), under the
//! `https://api.twitter.com/2/problems/` prefix that real payloads carry.

use serde_json::{Value, json};

/// Where every problem type lives.
pub const PROBLEMS: &str = "https://api.twitter.com/2/problems/";

/// Every `disconnect_type` an operational-disconnect line can carry.
pub const DISCONNECT_TYPES: &[&str] = &[
    "OperationalDisconnect",
    "UpstreamOperationalDisconnect",
    "ForceDisconnect",
    "UpstreamUncleanDisconnect",
    "SlowReader",
    "InternalError",
    "ClientApplicationStateDegraded",
    "InvalidRules",
];

fn problem_type(suffix: &str) -> String {
    format!("{PROBLEMS}{suffix}")
}

/// The in-stream line that precedes the server closing the stream.
pub fn operational_disconnect(disconnect_type: &str, detail: Option<&str>) -> Vec<u8> {
    let detail = detail.map_or_else(|| disconnect_detail(disconnect_type), str::to_string);
    json!({"errors": [{
        "title": "operational-disconnect",
        "disconnect_type": disconnect_type,
        "detail": detail,
        "type": problem_type("operational-disconnect"),
    }]})
    .to_string()
    .into_bytes()
}

fn disconnect_detail(disconnect_type: &str) -> String {
    match disconnect_type {
        "OperationalDisconnect" => "This stream has been disconnected for operational reasons.",
        "UpstreamOperationalDisconnect" => {
            "This stream has been disconnected upstream for operational reasons."
        }
        "ForceDisconnect" => "This stream has been disconnected by force.",
        "UpstreamUncleanDisconnect" => "This stream was disconnected upstream uncleanly.",
        "SlowReader" => {
            "This stream has been disconnected because your client was unable to keep up with \
             us."
        }
        "InternalError" => "This stream has been disconnected because of an internal error.",
        "ClientApplicationStateDegraded" => {
            "This stream has been disconnected because your client application is in a \
             degraded state."
        }
        "InvalidRules" => "This stream has been disconnected because its rules are invalid.",
        _ => "This stream has been disconnected (simulated, undocumented type).",
    }
    .to_string()
}

/// The bare 429 body of a second connection to a stream (or partition) already open.
pub fn too_many_connections() -> Vec<u8> {
    json!({
        "title": "ConnectionException",
        "detail": "This stream is currently at the maximum allowed connection limit.",
        "connection_issue": "TooManyConnections",
        "type": problem_type("streaming-connection"),
    })
    .to_string()
    .into_bytes()
}

/// The 429 body of an exhausted usage cap.
pub fn usage_capped(period: &str, scope: &str) -> Vec<u8> {
    json!({
        "title": "UsageCapExceeded",
        "detail": format!("Usage cap exceeded: {period} {} cap", scope.to_lowercase()),
        "type": problem_type("usage-capped"),
        "period": period,
        "scope": scope,
    })
    .to_string()
    .into_bytes()
}

/// A 400 `invalid-request` body naming the parameter at fault.
pub fn invalid_request(parameter: &str, value: &str, message: &str) -> Vec<u8> {
    json!({
        "errors": [{"parameters": {parameter: [value]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": problem_type("invalid-request"),
    })
    .to_string()
    .into_bytes()
}

/// A 404 for a `/2/` path the simulator does not serve.
pub fn not_found(path: &str) -> Vec<u8> {
    json!({
        "title": "Not Found Error",
        "detail": format!("Could not find the endpoint {path}"),
        "type": problem_type("resource-not-found"),
    })
    .to_string()
    .into_bytes()
}

/// An `errors` entry for a rule whose value cannot be parsed.
pub fn invalid_rule(value: &str, reason: &str) -> Value {
    json!({
        "value": value,
        "details": [reason],
        "title": "Invalid Rule",
        "type": problem_type("invalid-rules"),
    })
}

/// An `errors` entry for a rule whose value the stream already has.
pub fn duplicate_rule(value: &str, id: u64) -> Value {
    json!({
        "value": value,
        "id": id.to_string(),
        "title": "DuplicateRule",
        "type": problem_type("duplicate-rules"),
    })
}

/// An `errors` entry for an add that would hold more rules than allowed.
pub fn rule_cap(max: usize) -> Value {
    json!({
        "title": "RulesCapExceeded",
        "detail": format!("Rule cap of {max} rules exceeded: delete rules before adding more"),
        "type": problem_type("rule-cap"),
    })
}

/// An `errors` entry for a rule id to delete that the stream does not have.
pub fn rule_not_found(id: &str) -> Value {
    json!({
        "parameter": "ids",
        "value": id,
        "detail": format!("No rule with id {id}"),
        "title": "Not Found Error",
        "resource_type": "rule",
        "type": problem_type("resource-not-found"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_have_the_documented_shapes() {
        let v: Value = serde_json::from_slice(&too_many_connections()).unwrap();
        assert_eq!(v["connection_issue"], "TooManyConnections");
        assert_eq!(
            v["type"],
            "https://api.twitter.com/2/problems/streaming-connection"
        );
        let v: Value = serde_json::from_slice(&usage_capped("Monthly", "Product")).unwrap();
        assert_eq!(v["detail"], "Usage cap exceeded: Monthly product cap");
        assert_eq!(
            (v["period"].as_str(), v["scope"].as_str()),
            (Some("Monthly"), Some("Product"))
        );
        for t in DISCONNECT_TYPES {
            let v: Value = serde_json::from_slice(&operational_disconnect(t, None)).unwrap();
            assert_eq!(v["errors"][0]["disconnect_type"], *t);
            assert_eq!(v["errors"][0]["title"], "operational-disconnect");
        }
    }
}
