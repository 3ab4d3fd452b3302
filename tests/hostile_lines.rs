//! Property: whatever a server sends as lines, each one ends in the archive exactly once, and
//! `scrub_geo` leaves no location behind.
//!
//! Statuses and notices (delete, scrub_geo, status_withheld, user_withheld) are generated with
//! arbitrary strings, numbers (floats, huge exponents, negative and string ids) and nesting in
//! every field, mixed with garbage lines, and replayed one line at a time through the real
//! pipeline into a real archive. Checked after every line: no panic, and the line added exactly
//! one `events` row or exactly one `rejects` row (a blank keep-alive neither). Checked at the
//! end: for every scrub_geo whose ids are usable (integers, or `*_str` decimal strings when the
//! number is unusable), no status of that user up to that id keeps a location, in its typed
//! columns or in its `raw` (`coordinates`, `geo` and `place` absent or null), whichever came
//! first, the status or the notice.
mod common;

use common::TestDb;
use futures_util::FutureExt;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::value::RawValue;
use std::fmt::Write;

/// A JSON value written out by hand, so that it can hold what `serde_json::Value` cannot:
/// numbers such as `1e999999`, lone surrogate escapes, nesting past any parser's limit.
#[derive(Debug, Clone)]
enum J {
    Null,
    Bool(bool),
    /// A number's literal text.
    Num(String),
    Str(String),
    /// A string literal's raw text between the quotes (escapes included as written).
    RawStr(&'static str),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
    /// `depth` levels of `[` around the value.
    Deep(usize, Box<J>),
}

impl J {
    fn write(&self, out: &mut String) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => write!(out, "{b}").unwrap(),
            J::Num(n) => out.push_str(n),
            J::Str(s) => out.push_str(&serde_json::to_string(s).unwrap()),
            J::RawStr(s) => write!(out, "\"{s}\"").unwrap(),
            J::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            J::Obj(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(key).unwrap());
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
            J::Deep(depth, inner) => {
                out.push_str(&"[".repeat(*depth));
                inner.write(out);
                out.push_str(&"]".repeat(*depth));
            }
        }
    }

    fn text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn obj(fields: Vec<(&str, J)>) -> J {
        J::Obj(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (-5i64..30).prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:?}")),
        Just("1e999999".to_string()),
        Just("-1e999999".to_string()),
        Just("1.5".to_string()),
        Just("-0".to_string()),
        Just("1E2".to_string()),
        Just("18446744073709551616".to_string()),
        Just("-9223372036854775809".to_string()),
        Just("123456789012345678901234567890".to_string()),
    ]
}

fn string() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-z]{0,6}", "\\PC{0,12}"]
}

fn raw_string() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("\\ud800"),
        Just("\\udfff\\ud800x"),
        Just("\\u0000"),
        Just("\\ud83d\\ude00"),
        Just("a\\nb\\\"c"),
    ]
}

/// Any JSON value, nested up to a few levels, sometimes very deep.
fn junk() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        number().prop_map(J::Num),
        string().prop_map(J::Str),
        raw_string().prop_map(J::RawStr),
    ];
    let tree = leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Arr),
            prop::collection::vec((string(), inner), 0..4).prop_map(J::Obj),
        ]
    });
    prop_oneof![
        10 => tree,
        1 => (prop_oneof![Just(129usize), Just(1100usize)], number())
            .prop_map(|(d, n)| J::Deep(d, Box::new(J::Num(n)))),
    ]
}

/// How an id pair (`x` and `x_str`) is written; `usable` is the id a correct reader takes.
#[derive(Debug, Clone)]
struct IdPair {
    number: Option<J>,
    string: Option<J>,
    usable: Option<i64>,
}

fn id_pair(pool: impl Strategy<Value = i64> + Clone) -> impl Strategy<Value = IdPair> {
    let pair = |number: Option<J>, string: Option<J>, usable: Option<i64>| IdPair {
        number,
        string,
        usable,
    };
    prop_oneof![
        pool.clone().prop_map(move |n| pair(
            Some(J::Num(n.to_string())),
            Some(J::Str(n.to_string())),
            Some(n)
        )),
        pool.clone()
            .prop_map(move |n| pair(Some(J::Num(n.to_string())), None, Some(n))),
        pool.clone()
            .prop_map(move |n| pair(None, Some(J::Str(n.to_string())), Some(n))),
        // The numeric twin is unusable (a float, or lost): the `_str` form carries the id.
        (
            pool.clone(),
            prop_oneof![Just(".5"), Just(".0"), Just("e0")]
        )
            .prop_map(move |(n, tail)| pair(
                Some(J::Num(format!("{n}{tail}"))),
                Some(J::Str(n.to_string())),
                Some(n)
            )),
        (pool, junk()).prop_map(move |(n, j)| pair(Some(j), Some(J::Str(n.to_string())), None)),
        (prop::option::of(junk()), prop::option::of(junk()))
            .prop_map(move |(a, b)| pair(a, b, None)),
    ]
}

/// A small id space, so that notices meet the statuses they name.
fn tweet_ids() -> impl Strategy<Value = i64> + Clone {
    prop_oneof![0i64..12, Just(common::BIG), Just(i64::MAX)]
}

fn user_ids() -> impl Strategy<Value = i64> + Clone {
    prop_oneof![0i64..4, Just(common::BIG)]
}

fn push_pair(fields: &mut Vec<(String, J)>, name: &str, pair: IdPair) {
    if let Some(n) = pair.number {
        fields.push((name.to_string(), n));
    }
    if let Some(s) = pair.string {
        fields.push((format!("{name}_str"), s));
    }
}

fn point() -> impl Strategy<Value = J> {
    let coordinate = prop_oneof![
        (-180.0f64..180.0).prop_map(|f| J::Num(format!("{f:?}"))),
        number().prop_map(J::Num),
        (-90.0f64..90.0).prop_map(|f| J::Str(f.to_string())),
    ];
    let shapes = prop_oneof![
        prop::collection::vec(coordinate.clone(), 2..=2).prop_map(J::Arr),
        prop::collection::vec(coordinate.clone(), 3..=3).prop_map(J::Arr),
        prop::collection::vec(coordinate, 0..5).prop_map(J::Arr),
        string().prop_map(J::Str),
        junk(),
    ];
    prop_oneof![
        3 => shapes.clone().prop_map(|c| J::obj(vec![("type", J::Str("Point".into())), ("coordinates", c)])),
        1 => shapes,
        1 => Just(J::Null),
    ]
}

fn place() -> impl Strategy<Value = J> {
    prop_oneof![
        Just(J::Null),
        (string(), string()).prop_map(|(id, name)| J::obj(vec![
            ("id", J::Str(id)),
            ("full_name", J::Str(name)),
            ("country_code", J::Str("DE".into())),
        ])),
        string().prop_map(J::Str),
        junk(),
    ]
}

fn created_at() -> impl Strategy<Value = J> {
    prop_oneof![
        Just(J::Str("Wed Oct 10 20:19:24 +0000 2018".into())),
        Just(J::Str("Wed\u{e9}ct 10 20:19:24 +0000 2018".into())),
        "[A-Za-z\u{e9}\u{1F600}]{3} [A-Z][a-z]{2} [0-9]{2} [0-9:]{8} [+-][0-9]{4} [0-9]{4}"
            .prop_map(J::Str),
        string().prop_map(J::Str),
        junk(),
    ]
}

/// A status: every field may be well formed or anything at all; embedded statuses nest.
fn status() -> impl Strategy<Value = J> {
    let user = prop_oneof![
        4 => (id_pair(user_ids()), string()).prop_map(|(id, name)| {
            let mut fields = Vec::new();
            push_pair(&mut fields, "id", id);
            fields.push(("screen_name".to_string(), J::Str(name)));
            J::Obj(fields)
        }),
        1 => junk(),
    ];
    let flat = (
        id_pair(tweet_ids()),
        prop_oneof![3 => string().prop_map(J::Str), 1 => junk()],
        created_at(),
        user,
        (point(), point(), place()),
        prop::collection::vec((string(), junk()), 0..3),
    )
        .prop_map(
            |(id, text, created, user, (coordinates, geo, place), extra)| {
                let mut fields = Vec::new();
                push_pair(&mut fields, "id", id);
                fields.push(("text".into(), text));
                fields.push(("created_at".into(), created));
                fields.push(("user".into(), user));
                fields.push(("coordinates".into(), coordinates));
                fields.push(("geo".into(), geo));
                fields.push(("place".into(), place));
                fields.extend(extra);
                fields
            },
        )
        .boxed();
    flat.clone()
        .prop_map(J::Obj)
        .prop_recursive(2, 4, 2, move |inner| {
            (
                flat.clone(),
                prop::option::of(inner.clone()),
                prop::option::of(inner),
            )
                .prop_map(|(mut fields, retweeted, quoted)| {
                    if let Some(r) = retweeted {
                        fields.push(("retweeted_status".into(), r));
                    }
                    if let Some(q) = quoted {
                        fields.push(("quoted_status".into(), q));
                    }
                    J::Obj(fields)
                })
        })
}

fn countries() -> impl Strategy<Value = J> {
    let code = prop_oneof![
        Just(J::Str("DE".into())),
        Just(J::Str("XY".into())),
        "[A-Za-z\u{e9}]{0,3}".prop_map(J::Str),
        junk(),
    ];
    prop_oneof![
        4 => prop::collection::vec(code, 0..4).prop_map(J::Arr),
        1 => junk(),
    ]
}

/// One generated line, and the scrub it asks for when its ids are usable.
#[derive(Clone)]
struct Line {
    bytes: Vec<u8>,
    scrub: Option<(i64, i64)>,
}

impl std::fmt::Debug for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.bytes.escape_ascii())?;
        match self.scrub {
            Some((user, up_to)) => write!(f, "  (scrubs user {user} up to {up_to})"),
            None => Ok(()),
        }
    }
}

fn line(j: J) -> Line {
    Line {
        bytes: j.text().into_bytes(),
        scrub: None,
    }
}

fn notice() -> impl Strategy<Value = Line> {
    let envelope = |name: &'static str, body: J| line(J::obj(vec![(name, body)]));
    let extra = || prop::collection::vec((string(), junk()), 0..2);
    prop_oneof![
        (id_pair(tweet_ids()), id_pair(user_ids()), extra()).prop_map(move |(id, user, x)| {
            let mut status = Vec::new();
            push_pair(&mut status, "id", id);
            push_pair(&mut status, "user_id", user);
            status.extend(x);
            envelope("delete", J::obj(vec![("status", J::Obj(status))]))
        }),
        (id_pair(tweet_ids()), id_pair(user_ids())).prop_map(move |(id, user)| {
            let mut dm = Vec::new();
            push_pair(&mut dm, "id", id);
            push_pair(&mut dm, "user_id", user);
            envelope("delete", J::obj(vec![("direct_message", J::Obj(dm))]))
        }),
        (id_pair(user_ids()), id_pair(tweet_ids()), extra()).prop_map(move |(user, up_to, x)| {
            let scrub = user.usable.zip(up_to.usable);
            let mut body = Vec::new();
            push_pair(&mut body, "user_id", user);
            push_pair(&mut body, "up_to_status_id", up_to);
            body.extend(x);
            Line {
                scrub,
                ..envelope("scrub_geo", J::Obj(body))
            }
        }),
        (id_pair(tweet_ids()), id_pair(user_ids()), countries()).prop_map(
            move |(id, user, countries)| {
                let mut body = Vec::new();
                push_pair(&mut body, "id", id);
                push_pair(&mut body, "user_id", user);
                body.push(("withheld_in_countries".into(), countries));
                envelope("status_withheld", J::Obj(body))
            }
        ),
        (id_pair(user_ids()), countries()).prop_map(move |(user, countries)| {
            let mut body = Vec::new();
            push_pair(&mut body, "id", user);
            body.push(("withheld_in_countries".into(), countries));
            envelope("user_withheld", J::Obj(body))
        }),
        prop_oneof![
            Just("delete"),
            Just("scrub_geo"),
            Just("status_withheld"),
            Just("user_withheld")
        ]
        .prop_flat_map(move |name| junk().prop_map(move |j| envelope(name, j))),
    ]
}

fn garbage() -> impl Strategy<Value = Line> {
    prop_oneof![
        junk().prop_map(line),
        any::<String>().prop_map(|s| Line {
            bytes: s.into_bytes(),
            scrub: None
        }),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|bytes| Line { bytes, scrub: None }),
    ]
    .prop_map(|mut l| {
        l.bytes.retain(|&b| b != b'\n');
        l
    })
}

fn lines() -> impl Strategy<Value = Vec<Line>> {
    let one = prop_oneof![5 => status().prop_map(line), 4 => notice(), 1 => garbage()];
    prop::collection::vec(one, 1..30)
}

/// A blank line is a keep-alive: neither archived nor rejected.
fn is_keepalive(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    std::str::from_utf8(bytes).is_ok_and(|t| t.trim().is_empty())
}

/// An object's members in order, duplicates kept, values unparsed: what a stored `raw` holds
/// even when it carries what `serde_json::Value` refuses (a lone surrogate escape, `1e999999`).
fn members(text: &str) -> Option<Vec<(String, Box<RawValue>)>> {
    struct Members;
    impl<'de> serde::de::Visitor<'de> for Members {
        type Value = Vec<(String, Box<RawValue>)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(member) = map.next_entry()? {
                out.push(member);
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    serde::Deserializer::deserialize_map(&mut de, Members).ok()
}

fn member<'m>(members: &'m [(String, Box<RawValue>)], key: &str) -> Option<&'m str> {
    members
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.get())
}

/// The usable id of a status's author as stored: the column, else what `raw` says.
fn author(column: Option<&str>, raw: &[(String, Box<RawValue>)]) -> Option<i64> {
    if let Some(id) = column.and_then(|c| c.parse().ok()) {
        return Some(id);
    }
    let user = members(member(raw, "user")?)?;
    let from_str = member(&user, "id_str")
        .and_then(|v| serde_json::from_str::<String>(v).ok())
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse().ok());
    from_str.or_else(|| {
        member(&user, "id")
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|n| *n >= 0)
    })
}

async fn check(db: &TestDb, lines: &[Line]) -> Result<(), TestCaseError> {
    // What became of each line, for the messages.
    let mut outcomes = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let (events, rejects) = (db.count("events").await, db.count("rejects").await);
        db.replay_bytes(&line.bytes, Default::default()).await;
        let added = (
            db.count("events").await - events,
            db.count("rejects").await - rejects,
        );
        let expected: &[(i64, i64)] = if is_keepalive(&line.bytes) {
            &[(0, 0)]
        } else {
            &[(1, 0), (0, 1)]
        };
        prop_assert!(
            expected.contains(&added),
            "line {i} added (events, rejects) = {added:?}: {}",
            String::from_utf8_lossy(&line.bytes)
        );
        outcomes.push(match added {
            (1, 0) => "archived".to_string(),
            (0, 1) => format!(
                "rejected: {}",
                db.text("SELECT reason FROM rejects ORDER BY reject_id DESC LIMIT 1")
                    .await
                    .unwrap_or_default()
            ),
            _ => "keep-alive".to_string(),
        });
    }
    // Only notices that were archived apply: one the decoder or the database refused (nested
    // too deep, a number PostgreSQL cannot hold) is a reject, kept with its reason, and binds
    // nothing.
    let scrubs: Vec<(i64, i64, &str)> = lines
        .iter()
        .zip(&outcomes)
        .filter(|(_, outcome)| *outcome == "archived")
        .filter_map(|(l, outcome)| l.scrub.map(|(u, n)| (u, n, outcome.as_str())))
        .collect();
    if scrubs.is_empty() {
        return Ok(());
    }
    let rows = db
        .rows(
            "SELECT CAST(tweet_id AS TEXT), CAST(user_id AS TEXT), CAST(longitude AS TEXT), \
             CAST(latitude AS TEXT), CAST(place AS TEXT), CAST(raw AS TEXT) FROM tweets",
        )
        .await;
    for row in rows {
        let tweet_id: i64 = row[0].as_deref().unwrap().parse().unwrap();
        let text = row[5].as_deref().unwrap();
        let raw = members(text).ok_or_else(|| {
            TestCaseError::fail(format!(
                "tweet {tweet_id}: raw is not a JSON object: {text}"
            ))
        })?;
        let Some(user) = author(row[1].as_deref(), &raw) else {
            continue;
        };
        let Some((_, up_to, outcome)) = scrubs
            .iter()
            .find(|(u, up_to, _)| *u == user && tweet_id <= *up_to)
        else {
            continue;
        };
        prop_assert!(
            row[2..5].iter().all(Option::is_none),
            "tweet {tweet_id} of user {user}, scrubbed up to {up_to} (notice {outcome}), keeps typed location {:?}",
            &row[2..5]
        );
        for (key, value) in &raw {
            prop_assert!(
                !["coordinates", "geo", "place"].contains(&key.as_str()) || value.get() == "null",
                "tweet {tweet_id} of user {user}, scrubbed up to {up_to} (notice {outcome}), keeps `{key}` in raw: {text}"
            );
        }
    }
    Ok(())
}

fn run(postgres: bool) {
    // Building and shrinking nested strategies takes more stack than a test thread has in a
    // debug build; the archive's own threads keep their usual stacks.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || run_cases(postgres))
        .unwrap()
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

fn run_cases(postgres: bool) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // PostgreSQL round trips cost more per line: fewer cases there (PROPTEST_CASES overrides).
    let config = Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(if postgres { 24 } else { 64 }),
        max_shrink_iters: 400,
        max_shrink_time: 90_000,
        failure_persistence: None,
        ..Config::default()
    };
    if postgres {
        // Skipped with a note when PostgreSQL is not reachable (never under CI=true).
        let probe = runtime.block_on(TestDb::postgres());
        let Some(db) = probe else { return };
        runtime.block_on(db.cleanup());
    }
    let mut runner = TestRunner::new(config);
    let result = runner.run(&lines(), |lines| {
        runtime.block_on(async {
            let db = if postgres {
                TestDb::postgres().await.expect("PostgreSQL was reachable")
            } else {
                TestDb::sqlite().await
            };
            let outcome = std::panic::AssertUnwindSafe(check(&db, &lines))
                .catch_unwind()
                .await;
            db.cleanup().await;
            match outcome {
                Ok(result) => result,
                Err(panic) => Err(TestCaseError::fail(format!(
                    "panicked: {}",
                    panic
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| panic.downcast_ref::<&str>().copied())
                        .unwrap_or("(no message)")
                ))),
            }
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn every_line_is_archived_or_rejected_and_scrubs_leave_no_location_sqlite() {
    run(false);
}

#[test]
fn every_line_is_archived_or_rejected_and_scrubs_leave_no_location_postgres() {
    run(true);
}

// Found by the property on PostgreSQL: a NUL (`\u0000`) inside `withheld_in_countries` (of a
// status, of its author, or of a withholding notice) reached a `jsonb` column unnormalised and
// failed the whole batch, stopping the writer.
both_backends!(
    a_nul_in_withheld_countries_does_not_sink_the_batch,
    |db| async {
        let lines = [
        common::tweet(1, 2, "neighbour"),
        r#"{"id":3,"id_str":"3","text":"a","user":{"id":2},"withheld_in_countries":["\u0000"]}"#
            .to_string(),
        r#"{"id":4,"id_str":"4","text":"a","user":{"id":5,"withheld_in_countries":["DE\u0000"]}}"#
            .to_string(),
        common::tweet(6, 2, "neighbour"),
    ];
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        db.replay_lines(&refs).await;
        assert_eq!(db.count("events").await + db.count("rejects").await, 4);
        assert_eq!(
            db.int("SELECT COUNT(*) FROM tweets WHERE tweet_id IN (1, 6)")
                .await,
            2
        );
    }
);
