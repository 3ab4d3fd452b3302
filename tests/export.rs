//! `streamvault export` on both backends: every format round-trips what was received minus what
//! compliance removed; nothing deleted, dropped, of a hidden author, superseded or withheld in
//! the chosen country is written; the manifest's digests and counts are exact; and
//! Parquet reads back with its types; `export --check` (the real binary) names exactly the ids that changed since, exit 5, or
//! exit 0 when nothing did.

#[path = "export/cli.rs"]
mod cli;
mod common;
#[path = "export/csv_parse.rs"]
mod csv_parse;
#[path = "v2_compliance/lines.rs"]
mod lines;
#[path = "export/parquet_read.rs"]
mod parquet_read;
#[path = "export/v1.rs"]
mod v1;
#[path = "export/v2.rs"]
mod v2;
#[path = "v2_compliance/views.rs"]
mod views;

use common::TestDb;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use streamvault::export::{self, Exported, Filters, Format, Manifest, Request, Target, TimeBasis};

/// The v1.1 collection: statuses, a retweet of a status later deleted (erased with it), a
/// retweet and a quote whose originals arrive embedded, a quote of the deleted status, a text
/// a spreadsheet would run, one withheld in DE, one whose location is scrubbed. Returns the
/// lines and the received top-level messages by id.
fn v1_collection() -> (Vec<String>, BTreeMap<i64, Value>) {
    let s2 = v1::status(102, 2, "to be deleted", false);
    let s5 = v1::status(105, 4, "an original", false);
    let s8 = v1::status(108, 6, "a quoted original", false);
    let received = [
        v1::status(101, 1, "hello", true),
        s2.clone(),
        v1::retweet(103, 3, s2.clone()),
        v1::retweet(104, 3, s5),
        v1::quote(106, 1, "quoting the deleted one", s2),
        v1::quote(107, 5, "quoting", s8),
        v1::status(109, 7, "=SUM(A1), \"quoted\"\nsecond line", false),
        v1::status(110, 7, "withheld in DE", false),
        v1::status(111, 8, "located, then scrubbed", true),
    ];
    let mut lines: Vec<String> = received.iter().map(Value::to_string).collect();
    lines.push(v1::delete(102, 2));
    lines.push(v1::withheld(110, 7, &["DE"]));
    lines.push(v1::scrub_geo(8, 111));
    let by_id = received
        .into_iter()
        .map(|v| (v["id"].as_i64().unwrap(), v))
        .collect();
    (lines, by_id)
}

async fn archive_v1(db: &TestDb) -> BTreeMap<i64, Value> {
    let (lines, received) = v1_collection();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    db.replay_lines(&lines).await;
    received
}

/// Exports `format` to a file in the test's folder.
async fn export_to(
    db: &TestDb,
    format: Format,
    name: &str,
    filters: Filters,
) -> (PathBuf, Exported) {
    let path = db.dir.path().join(name);
    let request = Request {
        format,
        target: Target::File(path.clone()),
        manifest: None,
        filters: filters.validated().unwrap(),
        progress: false,
    };
    let exported = export::export(&db.backend, &request).await.unwrap();
    (path, exported)
}

fn ids_in(path: &Path) -> Vec<i64> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect()
}

fn reasons(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn country(cc: &str) -> Filters {
    Filters {
        countries: vec![cc.into()],
        ..Filters::default()
    }
}

both_backends!(ids_leave_out_what_compliance_removed, |db| async {
    archive_v1(&db).await;
    let (path, exported) = export_to(&db, Format::Ids, "all.ids", Filters::default()).await;
    assert_eq!(ids_in(&path), [101, 104, 106, 107, 109, 110, 111]);
    assert_eq!(exported.counts.written, 7);
    assert!(exported.counts.left_out.is_empty());
    let (path, exported) = export_to(&db, Format::Ids, "de.ids", country("de")).await;
    assert_eq!(ids_in(&path), [101, 104, 106, 107, 109, 111]);
    assert_eq!(exported.counts.left_out, reasons(&[("withheld", 1)]));
    // The manifest: the file's digest, the ids file is the export itself, the filters.
    let (manifest_path, manifest) = exported.manifest.unwrap();
    assert_eq!(manifest_path, db.dir.path().join("de.ids.manifest.json"));
    assert_eq!(Manifest::load(&manifest_path).unwrap(), manifest);
    assert_eq!(manifest.ids_file, "de.ids");
    assert_eq!(
        manifest.sha256.as_deref(),
        Some(manifest.ids_sha256.as_str())
    );
    assert_eq!(
        manifest.sha256.unwrap(),
        export::output::sha256_of(&path).unwrap()
    );
    assert_eq!(manifest.filters.countries, ["DE"]);
    assert_eq!(manifest.compliance.deletions_known, 1);
    assert!(manifest.compliance.last_action_id.is_some());
    // A stream that received nothing selects nothing.
    let other = Filters {
        stream: Some("other".into()),
        ..Filters::default()
    };
    let (path, _) = export_to(&db, Format::Ids, "other.ids", other).await;
    assert!(ids_in(&path).is_empty());
    // Windows: every status was posted on 2018-10-10 and archived now.
    let day = |d: &str| Some(streamvault::report::parse_time(d).unwrap());
    for (by, since, until, n) in [
        (TimeBasis::Created, day("2018-10-10"), day("2018-10-11"), 7),
        (TimeBasis::Created, day("2018-10-11"), None, 0),
        (TimeBasis::Archived, day("2018-10-11"), None, 7),
        (TimeBasis::Archived, None, day("2018-10-11"), 0),
    ] {
        let window = Filters {
            since,
            until,
            by,
            ..Filters::default()
        };
        let (path, _) = export_to(&db, Format::Ids, "window.ids", window).await;
        assert_eq!(ids_in(&path).len(), n, "{by:?} {since:?} {until:?}");
    }
    let by_user = Filters {
        user: Some(7),
        ..Filters::default()
    };
    let (path, _) = export_to(&db, Format::Ids, "user.ids", by_user).await;
    assert_eq!(ids_in(&path), [109, 110]);
});

/// `v` without its location members.
fn strip_location(mut v: Value) -> Value {
    for key in ["coordinates", "geo", "place"] {
        v.as_object_mut().unwrap().remove(key);
    }
    v
}

/// Asserts that a scrub left no location in `v` (removed or null).
fn no_location(v: &Value) {
    for key in ["coordinates", "geo", "place"] {
        let member = v.get(key);
        assert!(
            member.is_none() || member == Some(&Value::Null),
            "{key} left: {member:?}"
        );
    }
}

both_backends!(
    jsonl_is_what_was_received_minus_what_compliance_removed,
    |db| async {
        let received = archive_v1(&db).await;
        let (path, exported) = export_to(&db, Format::Jsonl, "all.jsonl", Filters::default()).await;
        let lines: Vec<Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let ids: Vec<i64> = lines.iter().map(|v| v["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [101, 104, 106, 107, 109, 110, 111]);
        for line in &lines {
            let id = line["id"].as_i64().unwrap();
            let mut expected = received[&id].clone();
            match id {
                // The quoted status was deleted: its embedded copy is left out, its id stays.
                106 => {
                    expected.as_object_mut().unwrap().remove("quoted_status");
                }
                111 => {
                    no_location(line);
                    assert_eq!(strip_location(line.clone()), strip_location(expected));
                    continue;
                }
                _ => {}
            }
            assert_eq!(line, &expected, "status {id}");
        }
        assert_eq!(lines[1]["retweeted_status"]["text"], "an original");
        assert_eq!(lines[3]["quoted_status"]["text"], "a quoted original");
        assert_eq!(exported.counts.written, 7);
        assert_eq!(
            exported.counts.embedded_copies_left_out, 1,
            "106's quoted status"
        );
        // The manifest names the ids sidecar that --check reads.
        let (_, manifest) = exported.manifest.unwrap();
        assert_eq!(manifest.ids_file, "all.jsonl.ids");
        assert_eq!(ids_in(&db.dir.path().join("all.jsonl.ids")), ids);
    }
);

both_backends!(csv_parses_with_the_expected_columns, |db| async {
    archive_v1(&db).await;
    let (path, _) = export_to(&db, Format::Csv, "all.csv", Filters::default()).await;
    let records = csv_parse::parse(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(records[0], export::csv::COLUMNS);
    assert_eq!(records.len(), 8);
    let column = |name: &str| {
        export::csv::COLUMNS
            .iter()
            .position(|c| *c == name)
            .unwrap()
    };
    let by_id: BTreeMap<&str, &Vec<String>> =
        records[1..].iter().map(|r| (r[0].as_str(), r)).collect();
    let r101 = by_id["101"];
    assert_eq!(r101[column("created_at")], "2018-10-10T20:19:24Z");
    assert_eq!(r101[column("author_id")], "1");
    assert_eq!(r101[column("author_screen_name")], "user1");
    assert_eq!(r101[column("longitude")], "13.4");
    assert_eq!(r101[column("latitude")], "52.5");
    assert_eq!(r101[column("place_full_name")], "Berlin, Germany");
    assert_eq!(r101[column("retweet_count")], "3");
    assert_eq!(r101[column("like_count")], "5");
    assert_eq!(r101[column("reply_count")], "");
    // Line breaks, commas and quotes survive; a formula does not run.
    assert_eq!(
        by_id["109"][column("text")],
        "'=SUM(A1), \"quoted\"\nsecond line"
    );
    assert_eq!(by_id["104"][column("retweeted_status_id")], "105");
    assert_eq!(by_id["107"][column("quoted_status_id")], "108");
    assert_eq!(by_id["110"][column("withheld_in_countries")], "DE");
    assert_eq!(by_id["111"][column("longitude")], "");
    assert_eq!(by_id["111"][column("place_full_name")], "");
    // For Germany, the status withheld there is not a row.
    let (path, _) = export_to(&db, Format::Csv, "de.csv", country("DE")).await;
    let records = csv_parse::parse(&std::fs::read_to_string(&path).unwrap());
    let ids: Vec<&str> = records[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, ["101", "104", "106", "107", "109", "111"]);
});

both_backends!(
    parquet_reads_back_typed_with_what_compliance_removed_left_out,
    |db| async {
        let received = archive_v1(&db).await;
        let (path, exported) =
            export_to(&db, Format::Parquet, "all.parquet", Filters::default()).await;
        let rows = parquet_read::rows(&path);
        let ids: Vec<i64> = rows
            .iter()
            .map(|r| r["tweet_id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [101, 104, 106, 107, 109, 110, 111]);
        assert_eq!(exported.counts.written, 7);
        let by_id: BTreeMap<i64, &BTreeMap<String, Value>> =
            ids.iter().copied().zip(&rows).collect();
        let r101 = by_id[&101];
        assert_eq!(r101["created_at"], "2018-10-10T20:19:24Z");
        assert_eq!(r101["user_id"], 1);
        assert_eq!(r101["screen_name"], "user1");
        assert_eq!(r101["longitude"], 13.4);
        assert_eq!(r101["latitude"], 52.5);
        assert_eq!(r101["retweet_count"], 3);
        assert_eq!(r101["like_count"], 5);
        assert_eq!(r101["reply_count"], Value::Null);
        assert_eq!(r101["withheld_in_countries"], serde_json::json!([]));
        assert_eq!(r101["api"], "v1.1");
        // Text is kept as received (Parquet is not a spreadsheet: no formula guard).
        assert_eq!(by_id[&109]["text"], received[&109]["text"]);
        assert_eq!(by_id[&104]["retweeted_status_id"], 105);
        assert_eq!(by_id[&107]["quoted_status_id"], 108);
        assert_eq!(
            by_id[&110]["withheld_in_countries"],
            serde_json::json!(["DE"])
        );
        // The scrub reached the typed columns and the stored message.
        let r111 = by_id[&111];
        for column in ["longitude", "latitude", "place"] {
            assert_eq!(r111[column], Value::Null, "{column}");
        }
        let raw: Value = serde_json::from_str(r111["raw"].as_str().unwrap()).unwrap();
        no_location(&raw);
        // Nothing of the deleted status in any column of any row (106 quoted it: its embedded
        // copy is gone from `raw`).
        for row in &rows {
            for (column, value) in row.iter() {
                assert!(
                    !value.to_string().contains("to be deleted"),
                    "{column} of {} holds the deleted status",
                    row["tweet_id"]
                );
            }
        }
        // For Germany, the status withheld there is not a row.
        let (path, exported) = export_to(&db, Format::Parquet, "de.parquet", country("DE")).await;
        let ids: Vec<i64> = parquet_read::rows(&path)
            .iter()
            .map(|r| r["tweet_id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [101, 104, 106, 107, 109, 111]);
        assert_eq!(exported.counts.left_out, reasons(&[("withheld", 1)]));
    }
);
