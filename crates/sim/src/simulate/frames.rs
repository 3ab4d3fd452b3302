//! The frames of a topics session and how each format puts them on the wire: Server-Sent
//! Events (`data: <json>` and a blank line; `:heartbeat` comments) or JSON lines (CRLF after
//! each; blank lines as heartbeats). Every frame is `{"topic": "...", "payload": {...}}`.

use super::scenario::LiveFormat;
use super::topic::TopicError;
use serde_json::{Value, json};

/// The topic of the session's configuration frame, always the first.
pub(crate) const CONFIG_TOPIC: &str = "/system/config";
/// The topic of subscription status frames.
pub(crate) const SUBSCRIPTIONS_TOPIC: &str = "/system/subscriptions";

/// The `content-type` of a session's body in `format`.
pub(crate) fn content_type(format: LiveFormat) -> &'static str {
    match format {
        LiveFormat::Sse | LiveFormat::SseCr => "text/event-stream",
        LiveFormat::Lines => "application/json",
    }
}

/// One heartbeat in `format`: an SSE comment, or a blank line.
pub(crate) fn heartbeat(format: LiveFormat) -> &'static [u8] {
    match format {
        LiveFormat::Sse => b":heartbeat\n\n",
        LiveFormat::SseCr => b":heartbeat\r\r",
        LiveFormat::Lines => b"\r\n",
    }
}

/// Appends `json` (one line, no line break) to `out` as one frame in `format`.
pub(crate) fn push(format: LiveFormat, json: &[u8], out: &mut Vec<u8>) {
    match format {
        LiveFormat::Sse => {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(json);
            out.extend_from_slice(b"\n\n");
        }
        LiveFormat::SseCr => {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(json);
            out.extend_from_slice(b"\r\r");
        }
        LiveFormat::Lines => {
            out.extend_from_slice(json);
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// `{"topic": topic, "payload": {key: value}}` as JSON text.
pub(crate) fn frame(topic: &str, key: &str, value: Value) -> Vec<u8> {
    let mut payload = serde_json::Map::new();
    payload.insert(key.to_string(), value);
    json!({"topic": topic, "payload": payload})
        .to_string()
        .into_bytes()
}

/// The first frame of every session: its id and the parameters the client must honour.
pub(crate) fn config(session_id: &str, ttl_millis: u64, heartbeat_millis: u64) -> Vec<u8> {
    let config = json!({
        "session_id": session_id,
        "subscription_ttl_millis": ttl_millis,
        "heartbeat_millis": heartbeat_millis,
    });
    frame(CONFIG_TOPIC, "config", config)
}

/// The `errors` list of a subscriptions frame or of an update's answer.
fn errors_json(errors: &[TopicError]) -> Value {
    let list = errors
        .iter()
        .map(|e| json!({"topic": e.topic, "message": e.message}))
        .collect();
    Value::Array(list)
}

/// A `/system/subscriptions` frame listing `errors` (possibly none).
pub(crate) fn subscriptions(errors: &[TopicError]) -> Vec<u8> {
    let value = json!({"errors": errors_json(errors)});
    frame(SUBSCRIPTIONS_TOPIC, "subscriptions", value)
}

/// The body answering a subscription update: `{"subscriptions": {"errors": [...]}}`.
pub(crate) fn update_answer(errors: &[TopicError]) -> Vec<u8> {
    json!({"subscriptions": {"errors": errors_json(errors)}})
        .to_string()
        .into_bytes()
}

/// A frame whose payload key no client knows: they must keep it, not crash on it.
pub(crate) fn unknown(topic: &str, n: u64) -> Vec<u8> {
    frame(topic, "reaction_burst", json!({"x": 1, "n": n}))
}

/// A valid frame of exactly `bytes` bytes (at least its fixed part) with an unknown payload key:
/// tests a client's frame size limit.
pub(crate) fn oversize(bytes: u64) -> Vec<u8> {
    let mut text = frame("/system/oversize", "oversize", json!({"padding": ""}));
    let total = usize::try_from(bytes).unwrap_or(usize::MAX);
    let fill = total.saturating_sub(text.len());
    // The padding string is empty: its closing quote sits before the three closing braces.
    let at = text.len() - 4;
    let padding = (0..fill).map(|i| b'a' + (i % 26) as u8);
    text.splice(at..at, padding);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_framed_per_format() {
        let json = config("s1", 60_000, 1_000);
        let mut sse = Vec::new();
        push(LiveFormat::Sse, &json, &mut sse);
        assert!(sse.starts_with(b"data: {\"topic\":\"/system/config\""));
        assert!(sse.ends_with(b"}\n\n"));
        let mut lines = Vec::new();
        push(LiveFormat::Lines, &json, &mut lines);
        assert_eq!(lines, [json.as_slice(), b"\r\n"].concat());
        let mut cr = Vec::new();
        push(LiveFormat::SseCr, &json, &mut cr);
        assert_eq!(cr, [b"data: ", json.as_slice(), b"\r\r"].concat());
        assert!(!heartbeat(LiveFormat::SseCr).contains(&b'\n'));
        let value: Value = serde_json::from_slice(&json).expect("JSON");
        assert_eq!(
            value["payload"]["config"]["subscription_ttl_millis"],
            60_000
        );
    }

    #[test]
    fn oversize_frames_have_the_exact_size_and_stay_valid() {
        let text = oversize(5000);
        assert_eq!(text.len(), 5000);
        let value: Value = serde_json::from_slice(&text).expect("JSON");
        assert_eq!(value["topic"], "/system/oversize");
        assert!(!text.contains(&b'\n'));
    }

    #[test]
    fn update_answers_list_their_errors() {
        let errors = [TopicError {
            topic: "/x".into(),
            message: "bad".into(),
        }];
        let value: Value = serde_json::from_slice(&update_answer(&errors)).expect("JSON");
        assert_eq!(value["subscriptions"]["errors"][0]["topic"], "/x");
        let value: Value = serde_json::from_slice(&subscriptions(&[])).expect("JSON");
        assert_eq!(value["payload"]["subscriptions"]["errors"], json!([]));
    }
}
