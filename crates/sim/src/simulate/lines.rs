//! The lines the simulator writes itself, as opposed to generated traffic: disconnect and
//! warning notices, oversize objects and malformed input. None contains a line break.

use serde_json::json;

/// A `disconnect` message; the reason defaults to the documented meaning of the code.
pub(crate) fn disconnect(code: u32, stream_name: &str, reason: Option<&str>) -> Vec<u8> {
    let reason = reason.unwrap_or_else(|| disconnect_reason(code));
    let line = json!({"disconnect": {"code": code, "stream_name": stream_name, "reason": reason}});
    line.to_string().into_bytes()
}

/// The documented meaning of a disconnect code, in our own words.
fn disconnect_reason(code: u32) -> &'static str {
    match code {
        1 => "Shutdown: the stream was shut down, for instance for a restart",
        2 => "Duplicate stream: too many connections to this endpoint with these credentials",
        3 => "Control request: a control stream closed this stream",
        4 => "Stall: the client read too slowly",
        5 => "Normal: the client appears to have closed the stream",
        6 => "Token revoked: the credentials are no longer valid for this stream",
        7 => "Admin logout: a newer connection with the same credentials replaced this one",
        8 => "Reserved: internal use",
        9 => "Max message limit: the backfill requested with a negative count was delivered",
        10 => "Stream exception: an internal error closed the stream",
        11 => "Broker stall: an internal error closed the stream",
        12 => "Shed load: the host was overloaded; reconnect as usual",
        _ => "Simulated disconnect with an undocumented code",
    }
}

/// A stall warning; the message defaults to one built from the code and the fill level.
pub(crate) fn warning(
    code: &str,
    message: Option<&str>,
    percent_full: Option<u32>,
    user_id: Option<u64>,
) -> Vec<u8> {
    let message = match (message, percent_full) {
        (Some(m), _) => m.to_string(),
        (None, Some(p)) => format!(
            "Simulated {code}: messages are queueing up for this connection; the queue is {p}% \
             full and the stream is closed when it is full."
        ),
        (None, None) => format!("Simulated {code} warning."),
    };
    let mut warning = json!({"code": code, "message": message});
    if let Some(p) = percent_full {
        warning["percent_full"] = json!(p);
    }
    if let Some(id) = user_id {
        warning["user_id"] = json!(id);
        warning["user_id_str"] = json!(id.to_string());
    }
    json!({ "warning": warning }).to_string().into_bytes()
}

/// A syntactically valid JSON object of exactly `bytes` bytes (at least its fixed part, ~40).
pub(crate) fn oversize(bytes: u64) -> Vec<u8> {
    const HEAD: &[u8] = br#"{"simulator":"oversize","padding":""#;
    const TAIL: &[u8] = br#""}"#;
    let total = usize::try_from(bytes).unwrap_or(usize::MAX);
    let fill = total.saturating_sub(HEAD.len() + TAIL.len());
    let mut line = Vec::with_capacity(HEAD.len() + fill + TAIL.len());
    line.extend_from_slice(HEAD);
    line.extend((0..fill).map(|i| b'a' + (i % 26) as u8));
    line.extend_from_slice(TAIL);
    line
}

/// The `n`th malformed line: the variants cycle so that a handful of lines covers every way
/// input can be broken (the daemon must keep each one in `rejects`, byte for byte).
pub(crate) fn malformed(n: u64) -> Vec<u8> {
    match n % 6 {
        // Truncated in the middle of an object, as a cut connection leaves it.
        0 => br#"{"created_at":"Thu Mar 03 12:00:00 +0000 2022","id":1500000000000000000,"te"#
            .to_vec(),
        // Invalid UTF-8 inside a string.
        1 => {
            let mut line = br#"{"text":"broken "#.to_vec();
            line.extend_from_slice(&[0xff, 0xfe, 0xc3]);
            line.extend_from_slice(br#""}"#);
            line
        }
        // Valid JSON, but not an object.
        2 => b"12345".to_vec(),
        3 => br#"["an","array"]"#.to_vec(),
        // Not JSON at all: what a misbehaving proxy might send.
        4 => b"<html><body>Bad gateway</body></html>".to_vec(),
        // An object with a missing closing brace.
        _ => {
            br#"{"delete":{"status":{"id":1,"id_str":"1","user_id":2,"user_id_str":"2"}}"#.to_vec()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_are_single_json_lines() {
        for line in [
            disconnect(10, "s", None),
            warning("FALLING_BEHIND", None, Some(60), None),
            oversize(5000),
        ] {
            assert!(!line.contains(&b'\n') && !line.contains(&b'\r'));
            let value: serde_json::Value = serde_json::from_slice(&line).expect("valid JSON");
            assert!(value.is_object());
        }
        assert_eq!(oversize(5000).len(), 5000);
        let w: serde_json::Value =
            serde_json::from_slice(&warning("FALLING_BEHIND", None, Some(60), None))
                .expect("valid JSON");
        assert_eq!(w["warning"]["percent_full"], 60);
    }

    #[test]
    fn malformed_lines_are_never_objects_and_never_blank() {
        for n in 0..12 {
            let line = malformed(n);
            assert!(!line.is_empty() && !line.contains(&b'\n') && !line.contains(&b'\r'));
            let parsed = serde_json::from_slice::<serde_json::Value>(&line);
            assert!(!matches!(parsed, Ok(serde_json::Value::Object(_))), "{n}");
        }
    }
}
