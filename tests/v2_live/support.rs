//! What the v2 tests share: v2 stream specs, the simulator's v2 stats, archive counts.

use crate::common::TestDb;
use crate::common::daemon::*;
use std::collections::BTreeSet;
use std::time::Duration;
use streamvault::simulate::{Simulator, Stats, V2StreamStats};

pub const SEARCH: &str = "/2/tweets/search/stream";
pub const SAMPLE: &str = "/2/tweets/sample/stream";
pub const FIREHOSE: &str = "/2/tweets/firehose/stream";

/// Keeps every version of the simulator's edited Posts (the default, `edits = "latest"`, erases
/// the older ones): what tests that count the Posts delivered run with.
pub const KEEP_EDITS: &str = "[compliance]\nedits = \"history\"\n";

/// A simulator whose default scenario is the TOML text (v2 requests carry no `?scenario=`).
pub async fn sim_toml(db: &TestDb, toml: &str) -> Simulator {
    simulator(scenario_toml(db.dir.path(), toml), 200.0).await
}

/// A `family = "v2"` stream reading `path` (prefix included) of `sim`, with more keys.
pub fn v2(name: &str, sim: &Simulator, path: &str, extra: &str) -> StreamSpec {
    StreamSpec {
        name: name.into(),
        family: "v2",
        url: format!("http://{}{path}", sim.addr()),
        extra: extra.into(),
    }
}

/// The `rules = [...]` key of a filtered stream (and its rules URL on `sim`).
pub fn rules_key(sim: &Simulator, rules: &[(&str, Option<&str>)]) -> String {
    let items: Vec<String> = rules
        .iter()
        .map(|(value, tag)| match tag {
            Some(tag) => format!("{{ value = {value:?}, tag = {tag:?} }}"),
            None => format!("{{ value = {value:?} }}"),
        })
        .collect();
    format!(
        "rules = [{}]\nrules_url = \"http://{}{SEARCH}/rules\"\n",
        items.join(", "),
        sim.addr()
    )
}

/// The stats of one v2 stream (no prefix), if it was ever requested.
pub fn v2_stream(stats: &Stats, endpoint: &str, partition: Option<u32>) -> Option<V2StreamStats> {
    stats
        .v2_streams
        .iter()
        .find(|s| s.prefix.is_empty() && s.endpoint == endpoint && s.partition == partition)
        .cloned()
}

/// The rules the simulator holds (no prefix): (id, value, tag), in creation order.
pub fn server_rules(stats: &Stats) -> Vec<(String, String, Option<String>)> {
    stats
        .v2_rules
        .iter()
        .find(|r| r.prefix.is_empty())
        .map(|r| {
            r.rules
                .iter()
                .map(|x| (x.id.clone(), x.value.clone(), x.tag.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The rules requests the simulator answered: (method, dry run, JSON body), in order.
pub fn rules_requests(stats: &Stats) -> Vec<(String, bool, Option<serde_json::Value>)> {
    stats
        .connections
        .iter()
        .filter(|c| c.path.ends_with("/stream/rules"))
        .map(|c| {
            (
                c.method.clone(),
                c.params.get("dry_run").is_some_and(|v| v == "true"),
                c.form_body
                    .as_deref()
                    .and_then(|b| serde_json::from_str(b).ok()),
            )
        })
        .collect()
}

/// The stream connections (not rules requests) the simulator had on `path`.
pub fn stream_requests(stats: &Stats, path: &str) -> Vec<streamvault::simulate::ConnectionStats> {
    stats
        .connections
        .iter()
        .filter(|c| c.path == path)
        .cloned()
        .collect()
}

/// Snowflake worker of a line's Post (below 512; referenced Posts in `includes` use 768..1023).
pub const LINE_POST: &str = "(tweet_id / 4096) % 1024 < 512";

/// Tweets rows of Posts that came as lines (not as another Post's `includes`).
pub async fn line_posts(db: &TestDb, stream: &str) -> i64 {
    db.int(&format!(
        "SELECT COUNT(*) FROM tweets WHERE stream = '{stream}' AND {LINE_POST}"
    ))
    .await
}

/// (Post events, distinct Posts among them) of `stream`.
pub async fn post_events(db: &TestDb, stream: &str) -> (i64, i64) {
    let all = db
        .int(&format!(
            "SELECT COUNT(*) FROM events WHERE stream = '{stream}' AND kind = 'tweet'"
        ))
        .await;
    let distinct = db
        .int(&format!(
            "SELECT COUNT(DISTINCT tweet_id) FROM events WHERE stream = '{stream}' AND kind = 'tweet'"
        ))
        .await;
    (all, distinct)
}

/// Waits until `stream`'s archive holds `n` distinct Posts.
pub async fn wait_posts(db: &TestDb, stream: &str, n: i64) {
    wait_until(
        &format!("{n} distinct Posts archived on {stream}"),
        Duration::from_secs(20),
        || async move { post_events(db, stream).await.1 >= n },
    )
    .await;
}

/// [`wait_posts`], showing the daemon's log when they do not come.
pub async fn wait_posts_logged(db: &TestDb, stream: &str, n: i64, daemon: &Daemon) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while post_events(db, stream).await.1 < n {
        assert!(
            std::time::Instant::now() < deadline,
            "{n} distinct Posts never archived on {stream}; log:\n{}",
            daemon.log_text()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Waits until `probe` holds on the simulator's stats.
pub async fn wait_stats(sim: &Simulator, what: &str, probe: impl Fn(&Stats) -> bool) {
    wait_until(what, Duration::from_secs(20), || {
        let ok = probe(&sim.stats());
        async move { ok }
    })
    .await;
}

/// The `stream_rules` rows of `stream`: (rule id, value, tag, removed).
pub async fn rule_history(
    db: &TestDb,
    stream: &str,
) -> BTreeSet<(String, String, Option<String>, bool)> {
    db.rows(&format!(
        "SELECT CAST(rule_id AS TEXT), value, tag, CAST(removed_at AS TEXT), CAST(added_at AS TEXT) \
         FROM stream_rules WHERE stream = '{stream}'"
    ))
    .await
    .into_iter()
    .map(|r| {
        assert!(r[4].is_some(), "a rule without added_at: {r:?}");
        (
            r[0].clone().unwrap(),
            r[1].clone().unwrap(),
            r[2].clone(),
            r[3].is_some(),
        )
    })
    .collect()
}

/// The gaps `streamvault report --format json` finds in `stream`'s connections after its
/// first connection (the one before it, `no_earlier_connection`, had nothing to recover).
pub fn report_gaps(db: &TestDb, stream: &str) -> Vec<serde_json::Value> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(["--database", &db.url, "report", "--format", "json"])
        .current_dir(db.dir.path())
        .env_remove("STREAMVAULT__DATABASE__URL")
        .output()
        .expect("run streamvault report");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "report: {stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("report JSON: {e}: {stderr}"));
    json["connections"]["streams"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["stream"] == stream))
        .unwrap_or_else(|| panic!("no stream {stream} in the report: {}", json["connections"]))
        ["gaps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|g| g["cause"] != "no_earlier_connection")
        .cloned()
        .collect()
}

/// `connections.backfill_minutes` of `stream`'s connected attempts, in order (NULL as -1). A
/// refused attempt's row has it NULL, whatever it asked.
pub async fn backfill_asked(db: &TestDb, stream: &str) -> Vec<i64> {
    db.rows(&format!(
        "SELECT CAST(backfill_minutes AS TEXT) FROM connections WHERE stream = '{stream}' \
         AND connected_at IS NOT NULL ORDER BY connections.connection_id"
    ))
    .await
    .into_iter()
    .map(|r| r[0].as_deref().map_or(-1, |m| m.parse().unwrap()))
    .collect()
}
