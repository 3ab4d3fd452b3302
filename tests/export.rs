//! `streamvault export` on both backends: every format round-trips what was received minus what
//! compliance removed; nothing deleted, dropped, of a hidden author, superseded or withheld in
//! the chosen country is written; the manifest's digests and counts are exact; and
//! `export --check` (the real binary) names exactly the ids that changed since, exit 5, or
//! exit 0 when nothing did.

mod common;
#[path = "export/csv_parse.rs"]
mod csv_parse;
#[path = "v2_compliance/lines.rs"]
mod lines;
#[path = "export/v1.rs"]
mod v1;
#[path = "v2_compliance/views.rs"]
mod views;

use common::TestDb;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use streamvault::export::{self, Exported, Filters, Format, Manifest, Request, Target};

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
});

/// The v2 scenario of the compliance tests: Posts, then every event.
async fn archive_v2(db: &TestDb, b: i64, u: i64) -> Vec<String> {
    let data = v2_data(b, u);
    let (_, events) = v2_scenario(b, u);
    let refs: Vec<&str> = data.iter().chain(&events).map(String::as_str).collect();
    db.replay_lines(&refs).await;
    data
}

fn v2_scenario(b: i64, u: i64) -> (Vec<String>, Vec<String>) {
    use lines::*;
    let events = vec![
        tweet_event("delete", b + 1, u + 1, 0),
        withheld(b + 2, u + 1, &["DE"]),
        tweet_event("drop", b + 3, u + 2, 0),
        user_event("user_delete", u + 3, 0),
        user_event("user_protect", u + 4, 0),
        user_event("user_unsuspend", u + 5, 2),
        user_event("user_suspend", u + 5, 1),
        tweet_edit(&[b + 10, b + 11], 0),
        user_withheld(u + 8, &["FR"]),
    ];
    (v2_data(b, u), events)
}

fn v2_data(b: i64, u: i64) -> Vec<String> {
    use lines::post;
    vec![
        post(b + 1, u + 1, "deleted", &[]),
        post(b + 2, u + 1, "withheld in DE", &[]),
        post(b + 3, u + 2, "dropped", &[]),
        post(b + 5, u + 3, "author deleted", &[]),
        post(b + 6, u + 4, "author protected", &[]),
        post(b + 7, u + 5, "author suspended then unsuspended", &[]),
        post(b + 10, u + 6, "first version", &[]),
        post(b + 11, u + 6, "second version", &[b + 10, b + 11]),
        post(b + 21, u + 8, "author withheld in FR", &[]),
    ]
}

both_backends!(
    v2_posts_export_as_twarc_lines_only_when_visible,
    |db| async {
        let (b, u) = (1_600_000_000_000_000_000, 7_000);
        let data = archive_v2(&db, b, u).await;
        let (path, exported) = export_to(&db, Format::Jsonl, "v2.jsonl", Filters::default()).await;
        let lines: Vec<Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let ids: Vec<i64> = lines
            .iter()
            .map(|l| l["data"]["id"].as_str().unwrap().parse().unwrap())
            .collect();
        assert_eq!(ids, [b + 2, b + 7, b + 11, b + 21]);
        assert_eq!(
            ids,
            views::visible(&db).await,
            "the export is what the view shows"
        );
        assert_eq!(
            exported.counts.left_out,
            reasons(&[("dropped", 1), ("user_deleted", 1), ("user_protected", 1)])
        );
        let received: BTreeMap<String, Value> = data
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .map(|v| (v["data"]["id"].as_str().unwrap().to_owned(), v))
            .collect();
        for line in &lines {
            let id = line["data"]["id"].as_str().unwrap();
            assert_eq!(line["data"], received[id]["data"], "Post {id}");
            assert_eq!(
                line["includes"]["users"], received[id]["includes"]["users"],
                "author of {id}"
            );
        }
        for (cc, gone, reason) in [("DE", b + 2, "withheld"), ("FR", b + 21, "user_withheld")] {
            let (path, exported) =
                export_to(&db, Format::Ids, &format!("{cc}.ids"), country(cc)).await;
            let expected: Vec<i64> = ids.iter().copied().filter(|i| *i != gone).collect();
            assert_eq!(ids_in(&path), expected, "{cc}");
            assert_eq!(ids_in(&path), views::visible_in(&db, cc).await, "{cc}");
            assert_eq!(exported.counts.left_out[reason], 1, "{cc}");
        }
    }
);

fn streamvault(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(args)
        .current_dir(dir)
        .env_remove("STREAMVAULT__DATABASE__URL")
        .output()
        .expect("run streamvault")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

both_backends!(
    check_names_exactly_what_changed_since_the_export,
    |db| async {
        archive_v1(&db).await;
        let dir = db.dir.path();
        // The real binary, read-only: a CSV export and its manifest.
        let out = streamvault(
            &[
                "--database",
                &db.url,
                "export",
                "--format",
                "csv",
                "--output",
                "shared.csv",
            ],
            dir,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("export: 7 statuses written"),
            "{}",
            text(&out.stderr)
        );
        let check = |extra: &[&str]| {
            let mut args = vec![
                "--database",
                db.url.as_str(),
                "export",
                "--check",
                "shared.csv.manifest.json",
            ];
            args.extend_from_slice(extra);
            streamvault(&args, dir)
        };
        let unchanged = check(&[]);
        assert_eq!(
            unchanged.status.code(),
            Some(0),
            "{}",
            text(&unchanged.stderr)
        );
        assert_eq!(text(&unchanged.stdout), "");
        // Since the export: an original deleted (its retweet goes with it), an author protected,
        // a status dropped, a location scrubbed.
        let later = [
            v1::delete(105, 4),
            lines::user_event("user_protect", 5, 0),
            lines::tweet_event("drop", 109, 7, 0),
            v1::scrub_geo(1, 101),
        ];
        let later: Vec<&str> = later.iter().map(String::as_str).collect();
        db.replay_lines(&later).await;
        let changed = check(&[]);
        assert_eq!(changed.status.code(), Some(5), "{}", text(&changed.stderr));
        assert_eq!(
            text(&changed.stdout),
            "101\tgeo_scrubbed\n104\terased\n107\tuser_protected\n109\tdropped\n"
        );
        assert!(text(&changed.stderr).contains("4 of 7 exported ids must be removed"));
        let to_file = check(&["--output", "remove.ids"]);
        assert_eq!(to_file.status.code(), Some(5));
        assert_eq!(ids_in(&dir.join("remove.ids")), [101, 104, 107, 109]);
        // An ids export taken now is compliant again: its check finds nothing.
        let out = streamvault(
            &["--database", &db.url, "export", "--output", "now.ids"],
            dir,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(ids_in(&dir.join("now.ids")), [101, 106, 110, 111]);
        let again = streamvault(
            &[
                "--database",
                &db.url,
                "export",
                "--check",
                "now.ids.manifest.json",
            ],
            dir,
        );
        assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    }
);
