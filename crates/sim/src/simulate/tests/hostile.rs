//! The steps of hostile scenarios over real loopback TCP: `hostile`, `raw` and `unterminated`
//! write what they say, the stats count hostile lines apart from ordinary ones, and the CR-only
//! SSE format uses no LF at all.

use super::client::{self, split_lines};
use super::start;
use crate::simulate::Scenario;
use crate::simulate::hostile::{self, Expect};

#[tokio::test]
async fn hostile_lines_are_counted_apart_from_ordinary_ones() {
    let simulator = start(
        r#"
        [[connection]]
        steps = [
          { send = 10 }, { hostile = "all" }, { hostile = "oversize", bytes = 5000 },
          { hostile = "delete_null", count = 3 }, { raw = "{\"delete\":null}" }, { send = 5 },
          { unterminated = 1000 },
        ]
        "#,
    )
    .await;
    let mut response = client::get(simulator.addr(), "/1.1/statuses/sample.json")
        .await
        .expect("request");
    let (body, end) = response.body().await;
    end.expect("a clean end after the unterminated line");
    let (lines, rest) = split_lines(&body);
    assert_eq!(rest.len(), 1000, "the last line never ends");
    let stats = simulator.stop().await;
    let conn = &stats.connections[0];
    let sent: Vec<&[u8]> = lines.iter().copied().filter(|l| !l.is_empty()).collect();
    assert_eq!(sent.len() as u64, conn.lines_sent);
    assert_eq!(conn.partial_line_bytes, 1000);
    assert_eq!(conn.by_kind["raw"], 1);
    assert_eq!(conn.by_kind["hostile/delete_null"], 4);
    assert_eq!(conn.by_kind["hostile/oversize"], 1);
    let totals = &stats.totals;
    assert_eq!(totals.ordinary_lines, 10 + 5 + 1, "events and the raw line");
    assert_eq!(
        totals.hostile_lines + totals.ordinary_lines,
        totals.lines_sent
    );
    assert_eq!(
        totals.hostile_by_label.values().sum::<u64>(),
        totals.hostile_lines
    );
    for (label, _) in hostile::LABELS {
        assert!(totals.hostile_by_label.contains_key(*label), "{label}");
    }
    let garbage = sent
        .iter()
        .filter(|l| std::str::from_utf8(l).is_err())
        .count();
    assert!(garbage >= 2, "invalid UTF-8 reaches the wire");
    assert_eq!(
        hostile::expect("hostile/delete_null"),
        Some(Expect::Rejected(
            "delete message malformed: `delete` is null, not an object"
        ))
    );
    let huge = hostile::expect("hostile/huge_number").expect("a label");
    assert_eq!(huge.on(false), Expect::Archived("tweet"));
    assert!(matches!(huge.on(true), Expect::Rejected(r) if r.starts_with("database refused: ")));
}

#[tokio::test]
async fn cr_only_sse_has_no_line_feed() {
    let simulator =
        start("format = \"sse-cr\"\n[[connection]]\nsteps = [{ live = 5 }, { keepalive = 1 }]\n")
            .await;
    let target = "/live_pipeline/events?topics=/tweet_engagement/5";
    let mut response = client::get(simulator.addr(), target)
        .await
        .expect("request");
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    let (body, end) = response.body().await;
    end.expect("clean end");
    assert!(!body.contains(&b'\n'));
    let frames = body
        .split(|b| *b == b'\r')
        .filter(|l| l.starts_with(b"data: "));
    assert_eq!(frames.count(), 6, "config and 5 events");
    simulator.stop().await;
}

#[test]
fn hostile_steps_are_checked_when_loaded() {
    let invalid = |steps: &str| {
        let text = format!("[[connection]]\nsteps = [{steps}]\n");
        Scenario::from_toml_str(&text).expect_err(&text).to_string()
    };
    assert!(invalid(r#"{ hostile = "nope" }"#).contains("unknown hostile case `nope`"));
    assert!(invalid(r#"{ hostile = "oversize", bytes = 1 }"#).contains("`bytes`"));
    assert!(invalid(r#"{ send = 1, count = 2 }"#).contains("belongs to a `hostile` step"));
    assert!(invalid(r#"{ raw = "a\nb" }"#).contains("one line"));
    assert!(invalid(r#"{ unterminated = 0 }"#).contains("`unterminated`"));
    let e = Scenario::from_toml_str("format = \"cr\"\n[[connection]]\nsteps = []\n");
    assert!(e.expect_err("bad format").to_string().contains("sse-cr"));
}
