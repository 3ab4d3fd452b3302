//! The simulator's reference stream: what a fresh simulator with a given seed sends, in order,
//! to compare an archive with as a prefix.

use std::time::Duration;

/// One line of the stream as the archive should show it: the event kind, and for a status its
/// id (the archive's `events.tweet_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefEvent {
    pub kind: String,
    pub tweet_id: Option<i64>,
    /// For a retweet, the id of the status it carries.
    pub retweet_of: Option<i64>,
}

/// The kind of an ndjson line by its top-level key, as the daemon names it.
pub fn classify(line: &[u8]) -> RefEvent {
    let v: serde_json::Value = serde_json::from_slice(line).expect("the simulator sends JSON");
    for key in [
        "delete",
        "scrub_geo",
        "limit",
        "status_withheld",
        "user_withheld",
        "disconnect",
        "warning",
    ] {
        if v.get(key).is_some() {
            return RefEvent {
                kind: key.into(),
                tweet_id: None,
                retweet_of: None,
            };
        }
    }
    let id = |v: &serde_json::Value| v["id_str"].as_str().and_then(|s| s.parse().ok());
    RefEvent {
        kind: "tweet".into(),
        tweet_id: id(&v),
        retweet_of: v.get("retweeted_status").and_then(id),
    }
}

/// The first `n` lines (keep-alives excluded) that a fresh simulator with `seed` and the
/// `clean` scenario sends on its first connection, read as fast as it can send them.
pub async fn reference_stream(seed: u64, n: usize) -> Vec<RefEvent> {
    reference_stream_of(super::daemon::builtin("clean"), seed, n).await
}

/// The first `n` lines (keep-alives excluded) that a fresh simulator with `seed` sends on the
/// first connection of `scenario` (its rate ignored: read as fast as it can be sent).
pub async fn reference_stream_of(
    scenario: streamvault::simulate::Scenario,
    seed: u64,
    n: usize,
) -> Vec<RefEvent> {
    use futures_util::StreamExt;
    let mut scenario = scenario;
    scenario.rate = Some(0.0);
    let sim = streamvault::simulate::Simulator::start(streamvault::simulate::SimulatorConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        scenario,
        rate: 0.0,
        seed,
        keepalive: Duration::from_secs(30),
        ..Default::default()
    })
    .await
    .unwrap();
    // No `?scenario=`: the simulator's own scenario serves the request.
    let url = format!("http://{}/1.1/statuses/filter.json", sim.addr());
    let response = reqwest::get(&url).await.unwrap();
    let mut body = response.bytes_stream();
    let mut pending = Vec::new();
    let mut out = Vec::with_capacity(n);
    'read: while let Some(chunk) = body.next().await {
        pending.extend_from_slice(&chunk.unwrap());
        let mut start = 0;
        while let Some(end) = memchr::memchr(b'\n', &pending[start..]) {
            let line = pending[start..start + end].trim_ascii();
            start += end + 1;
            if !line.is_empty() {
                out.push(classify(line));
                if out.len() == n {
                    break 'read;
                }
            }
        }
        pending.drain(..start);
    }
    drop(body);
    sim.stop().await;
    out
}
