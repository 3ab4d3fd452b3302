//! Every format of the report for the fixture archive checked for its shape: JSON, CSV (RFC
//! 4180 quoting, the hostile stream name kept intact), HTML (escaped) and text.

use super::fixture::EVIL;
use crate::common::*;
use std::collections::BTreeSet;
use streamvault::report::ReportFormat;
use streamvault::report::model::Report;

/// Splits one CSV record (RFC 4180 quoting, one line).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let (mut quoted, mut chars) = (false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    assert!(!quoted, "unbalanced quotes in {line:?}");
    fields
}

pub fn check_json(r: &Report) {
    let json: serde_json::Value = serde_json::from_str(&r.render(ReportFormat::Json)).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "report_version",
            "generated_at",
            "database",
            "window",
            "totals",
            "events",
            "rejects",
            "compliance",
            "connections",
            "disconnects",
            "undelivered",
            "warnings",
            "engagement"
        ]
    );
    assert_eq!(
        json["compliance"]["waiting_deletions"]["oldest"][0]["tweet_id"],
        "200"
    );
    assert_eq!(
        json["engagement"][0]["tweet_id"],
        BIG.to_string(),
        "64-bit ids are strings"
    );
    let gap = &json["connections"]["streams"][1]["gaps"][1];
    assert_eq!(gap["start"], "2026-01-01T00:01:00.000000Z");
    assert_eq!(gap["length_ms"], 6000);
    assert_eq!(gap["disconnect_name"], "Shed load");
}

pub fn check_csv(r: &Report) {
    let csv = r.render(ReportFormat::Csv);
    let mut sections = BTreeSet::new();
    for (i, line) in csv.lines().enumerate() {
        let fields = csv_fields(line);
        assert_eq!(fields.len(), 5, "line {i}: {line:?}");
        sections.insert(fields[0].clone());
        if fields[1] == EVIL {
            assert!(line.starts_with(&format!("{},\"<script>alert(\"\"x\"\")", fields[0])));
        }
    }
    for s in [
        "section",
        "report",
        "totals",
        "events_by_kind",
        "events_by_stream",
        "compliance",
        "waiting_deletions",
        "coverage",
        "connection",
        "gap",
        "disconnects",
        "undelivered",
        "warnings",
        "rejects_by_reason",
        "engagement",
    ] {
        assert!(
            sections.contains(s),
            "csv section {s} missing: {sections:?}"
        );
    }
    assert!(csv.contains("\ngap,filter,2,disconnect_name,Shed load\n"));
}

pub fn check_html_and_text(r: &Report) {
    let html = r.render(ReportFormat::Html);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<html").count(), 1, "one document");
    assert!(
        html.matches("<svg").count() >= 4,
        "events, timeline, likes, views"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external reference"
    );
    assert!(!html.contains("<script") && !html.contains("src="));
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;, evil"));
    assert!(html.contains("class=\"gap\""), "gaps drawn");

    let text = r.render(ReportFormat::Text);
    assert!(text.contains("Coverage: the share of the window during which a connection"));
    assert!(text.contains("Shed load"));
    assert!(text.contains("Coverage              97.50%"), "{text}");
}
