//! Order independence, as a property: replaying the same statuses and compliance notices in any
//! order, cut into transactions of any size, leaves the same compliance-relevant archive: the
//! same archived tweet ids, the same geo state (typed columns and `raw`) and
//! `withheld_in_countries` for every tweet and user, and the same sets of deletions, scrubs and
//! withholdings (times of receipt and the `arrived_before_tweet`/`deferred` flags aside).
//!
//! Each case builds a small universe (2–3 users, 3–8 originals, retweets and quotes of them,
//! notices about them, a few repeated lines), replays it in its canonical order (statuses, then
//! notices, then repeats) into one fresh archive and in a random permutation into another, and
//! compares the two. The canonical archive is also checked against a model of the rules, so the
//! comparison cannot pass on two equally broken archives.
//!
//! Cases per backend: 24, or `PROPTEST_CASES`.

mod common;

use common::{
    BIG, TestDb, delete, geo_tweet, quote, retweet, scrub_geo, status_withheld, tweet,
    user_withheld,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::OnceLock;
use streamvault::pipeline::PipelineConfig;

const USERS: [i64; 3] = [11, 12, 13];
/// Deliberately not sorted: the archive stores countries as a sorted set.
const COUNTRIES: [&str; 4] = ["DE", "FR", "AR", "BR"];
/// Retweets and quotes get the ids `BIG + DERIVED_BASE + j`; originals `BIG + k`.
const DERIVED_BASE: i64 = 100;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

/// Whether PostgreSQL is reachable (probed once; under `CI=true` the harness panics instead).
fn postgres_available() -> bool {
    static UP: OnceLock<bool> = OnceLock::new();
    *UP.get_or_init(|| {
        runtime().block_on(async {
            match TestDb::postgres().await {
                Some(db) => {
                    db.cleanup().await;
                    true
                }
                None => false,
            }
        })
    })
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(24),
        // No regression files next to the test: a failure is reported with its minimal stream.
        failure_persistence: None,
        // Shrinking replays two archives per step: enough steps to reach a minimal stream.
        max_shrink_iters: 1024,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// The generated universe
// ---------------------------------------------------------------------------------------------

/// A status id, shown as `#k` for `BIG + k`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Id(i64);

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if (BIG..BIG + 100_000).contains(&self.0) {
            write!(f, "#{}", self.0 - BIG)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// The scenario as generated (indices are reduced modulo what exists when resolved).
#[derive(Clone, Debug)]
struct Scenario {
    users: usize,
    originals: Vec<OriginalSpec>,
    derived: Vec<DerivedSpec>,
    notices: Vec<NoticeSpec>,
    repeats: Vec<usize>,
}

#[derive(Clone, Debug)]
struct OriginalSpec {
    author: usize,
    geo: bool,
    /// Also sent on its own (else it exists only embedded, if anything embeds it).
    top_level: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum DerivedKind {
    Retweet,
    Quote,
}

#[derive(Clone, Debug)]
struct DerivedSpec {
    kind: DerivedKind,
    /// An original, or a quote generated before this one.
    of: usize,
    by: usize,
    /// Quotes only: the quote itself is located.
    geo: bool,
}

#[derive(Clone, Debug)]
enum NoticeSpec {
    DeleteOriginal(usize),
    DeleteDerived(usize),
    ScrubGeo { user: usize, up_to: i64 },
    StatusWithheld { status: usize, countries: u8 },
    UserWithheld { user: usize, countries: u8 },
}

fn original_spec() -> impl Strategy<Value = OriginalSpec> {
    (0..3usize, any::<bool>(), prop::bool::weighted(0.8)).prop_map(|(author, geo, top_level)| {
        OriginalSpec {
            author,
            geo,
            top_level,
        }
    })
}

fn derived_spec() -> impl Strategy<Value = DerivedSpec> {
    (
        prop_oneof![Just(DerivedKind::Retweet), Just(DerivedKind::Quote)],
        0..12usize,
        0..2usize,
        any::<bool>(),
    )
        .prop_map(|(kind, of, by, geo)| DerivedSpec { kind, of, by, geo })
}

fn notice_spec() -> impl Strategy<Value = NoticeSpec> {
    prop_oneof![
        1 => (0..8usize).prop_map(NoticeSpec::DeleteOriginal),
        1 => (0..4usize).prop_map(NoticeSpec::DeleteDerived),
        2 => (0..3usize, prop_oneof![3 => 0..9i64, 1 => Just(DERIVED_BASE + 10)])
            .prop_map(|(user, up_to)| NoticeSpec::ScrubGeo { user, up_to }),
        1 => (0..12usize, 1..16u8)
            .prop_map(|(status, countries)| NoticeSpec::StatusWithheld { status, countries }),
        1 => (0..3usize, 1..16u8)
            .prop_map(|(user, countries)| NoticeSpec::UserWithheld { user, countries }),
    ]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        2..=3usize,
        prop::collection::vec(original_spec(), 3..=8),
        prop::collection::vec(derived_spec(), 0..=4),
        prop::collection::vec(notice_spec(), 0..=6),
        prop::collection::vec(0..64usize, 0..=3),
    )
        .prop_map(|(users, originals, derived, notices, repeats)| Scenario {
            users,
            originals,
            derived,
            notices,
            repeats,
        })
}

#[derive(Clone, Debug, PartialEq)]
enum StatusKind {
    Original { top_level: bool },
    Retweet { of: i64 },
    Quote { of: i64 },
}

#[derive(Clone, Debug)]
struct Status {
    id: i64,
    author: i64,
    geo: bool,
    kind: StatusKind,
}

#[derive(Clone, Debug)]
enum Notice {
    Delete {
        id: i64,
    },
    ScrubGeo {
        user: i64,
        up_to: i64,
    },
    StatusWithheld {
        id: i64,
        countries: Vec<&'static str>,
    },
    UserWithheld {
        user: i64,
        countries: Vec<&'static str>,
    },
}

/// One input line: a readable label and the JSON sent.
#[derive(Clone)]
struct Line {
    label: String,
    json: String,
}

/// The scenario made concrete.
#[derive(Clone, Debug)]
struct World {
    statuses: Vec<Status>,
    notices: Vec<Notice>,
    /// Canonical order: top-level originals, retweets and quotes, notices, repeats.
    lines: Vec<Line>,
}

impl fmt::Debug for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

fn subset(mask: u8) -> Vec<&'static str> {
    COUNTRIES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, c)| *c)
        .collect()
}

/// The text of original `k`; unique, and no text is a prefix of another.
fn original_text(k: i64) -> String {
    format!("text of original {k}.")
}

fn locate(line: &str) -> String {
    let located: Value = serde_json::from_str(&geo_tweet(0, 0, "")).unwrap();
    let mut v: Value = serde_json::from_str(line).unwrap();
    for key in ["coordinates", "geo", "place"] {
        v[key] = located[key].clone();
    }
    v.to_string()
}

fn resolve(s: &Scenario) -> World {
    let users = &USERS[..s.users];
    let mut statuses = Vec::new();
    let mut lines = Vec::new();
    // Every status's JSON, by index in `statuses`.
    let mut status_json = Vec::new();
    for (k, o) in s.originals.iter().enumerate() {
        let (id, author) = (BIG + k as i64, users[o.author % users.len()]);
        let text = original_text(k as i64);
        // Built once: the top-level copy and every embedded copy are the same JSON.
        let json = if o.geo {
            geo_tweet(id, author, &text)
        } else {
            tweet(id, author, &text)
        };
        if o.top_level {
            lines.push(Line {
                label: format!("T{:?}@{author}{}", Id(id), if o.geo { " geo" } else { "" }),
                json: json.clone(),
            });
        }
        status_json.push(json);
        statuses.push(Status {
            id,
            author,
            geo: o.geo,
            kind: StatusKind::Original {
                top_level: o.top_level,
            },
        });
    }
    for (j, d) in s.derived.iter().enumerate() {
        // Retweets and quotes are of an original or of an earlier quote.
        let targets: Vec<usize> = (0..statuses.len())
            .filter(|&i| !matches!(statuses[i].kind, StatusKind::Retweet { .. }))
            .collect();
        let of = targets[d.of % targets.len()];
        let orig = &statuses[of];
        let (of_id, of_author) = (orig.id, orig.author);
        let author_idx = users.iter().position(|u| *u == of_author).unwrap();
        let by = users[(author_idx + 1 + d.by % (users.len() - 1)) % users.len()];
        let id = BIG + DERIVED_BASE + j as i64;
        let (json, kind, geo, tag) = match d.kind {
            DerivedKind::Retweet => (
                retweet(id, by, &status_json[of]),
                StatusKind::Retweet { of: of_id },
                false,
                "RT",
            ),
            DerivedKind::Quote => {
                let q = quote(id, by, &status_json[of]);
                let q = if d.geo { locate(&q) } else { q };
                (q, StatusKind::Quote { of: of_id }, d.geo, "Q")
            }
        };
        lines.push(Line {
            label: format!(
                "{tag}{:?}@{by}({:?}){}",
                Id(id),
                Id(of_id),
                if geo { " geo" } else { "" }
            ),
            json: json.clone(),
        });
        status_json.push(json);
        statuses.push(Status {
            id,
            author: by,
            geo,
            kind,
        });
    }
    let mut notices = Vec::new();
    for n in &s.notices {
        let notice = match *n {
            NoticeSpec::DeleteDerived(j) if !s.derived.is_empty() => {
                let st = &statuses[s.originals.len() + j % s.derived.len()];
                Notice::Delete { id: st.id }
            }
            NoticeSpec::DeleteOriginal(k) | NoticeSpec::DeleteDerived(k) => Notice::Delete {
                id: statuses[k % s.originals.len()].id,
            },
            NoticeSpec::ScrubGeo { user, up_to } => Notice::ScrubGeo {
                user: users[user % users.len()],
                up_to: BIG + up_to,
            },
            NoticeSpec::StatusWithheld { status, countries } => Notice::StatusWithheld {
                id: statuses[status % statuses.len()].id,
                countries: subset(countries),
            },
            NoticeSpec::UserWithheld { user, countries } => Notice::UserWithheld {
                user: users[user % users.len()],
                countries: subset(countries),
            },
        };
        let author_of = |id: i64| statuses.iter().find(|s| s.id == id).unwrap().author;
        let line = match &notice {
            Notice::Delete { id } => Line {
                label: format!("DEL{:?}", Id(*id)),
                json: delete(*id, author_of(*id)),
            },
            Notice::ScrubGeo { user, up_to } => Line {
                label: format!("SCRUB@{user}<={:?}", Id(*up_to)),
                json: scrub_geo(*user, *up_to),
            },
            Notice::StatusWithheld { id, countries } => Line {
                label: format!("WH{:?}{countries:?}", Id(*id)),
                json: status_withheld(*id, author_of(*id), countries),
            },
            Notice::UserWithheld { user, countries } => Line {
                label: format!("UWH@{user}{countries:?}"),
                json: user_withheld(*user, countries),
            },
        };
        lines.push(line);
        notices.push(notice);
    }
    if !lines.is_empty() {
        let base = lines.len();
        for r in &s.repeats {
            let mut again = lines[r % base].clone();
            again.label.push_str(" (again)");
            lines.push(again);
        }
    }
    World {
        statuses,
        notices,
        lines,
    }
}

/// One property case: the universe, a permutation of its lines, and a batch size per replay.
#[derive(Clone)]
struct Case {
    world: World,
    order: Vec<usize>,
    canonical_batch: usize,
    permuted_batch: usize,
}

impl Case {
    fn canonical(&self) -> Vec<&Line> {
        self.world.lines.iter().collect()
    }

    fn permuted(&self) -> Vec<&Line> {
        self.order.iter().map(|&i| &self.world.lines[i]).collect()
    }
}

fn labels(lines: &[&Line]) -> String {
    lines
        .iter()
        .map(|l| l.label.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f)?;
        writeln!(
            f,
            "  canonical (batch {}): [{}]",
            self.canonical_batch,
            labels(&self.canonical())
        )?;
        writeln!(
            f,
            "  permuted  (batch {}): [{}]",
            self.permuted_batch,
            labels(&self.permuted())
        )?;
        writeln!(f, "  lines:")?;
        for l in &self.world.lines {
            writeln!(f, "    {}: {}", l.label, l.json)?;
        }
        Ok(())
    }
}

fn batch_size() -> impl Strategy<Value = usize> {
    // 1..=5 cuts the stream into many transactions; 1000 takes it whole.
    prop_oneof![3 => 1..=5usize, 1 => Just(1000usize)]
}

/// Most lines a scenario has: 8 originals, 4 retweets or quotes, 6 notices, 3 repeats.
const MAX_LINES: usize = 21;

fn case() -> impl Strategy<Value = Case> {
    // The permutation sorts the lines by a random key each (ties keep the canonical order), so
    // that it shrinks independently of the scenario, towards the canonical order.
    (
        scenario(),
        prop::collection::vec(0..32u8, MAX_LINES),
        batch_size(),
        batch_size(),
    )
        .prop_map(|(s, keys, canonical_batch, permuted_batch)| {
            let world = resolve(&s);
            let mut order: Vec<usize> = (0..world.lines.len()).collect();
            order.sort_by_key(|&i| (keys[i], i));
            Case {
                world,
                order,
                canonical_batch,
                permuted_batch,
            }
        })
}

// ---------------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------------

#[derive(PartialEq)]
struct TweetState {
    longitude: Option<f64>,
    latitude: Option<f64>,
    place: Option<Value>,
    geo_scrubbed: bool,
    withheld_in_countries: Value,
    raw: Value,
}

impl fmt::Debug for TweetState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = self.place.as_ref().map(Value::to_string);
        write!(
            f,
            "{{lon {:?}, lat {:?}, place {}, geo_scrubbed {}, withheld {}, raw {}}}",
            self.longitude,
            self.latitude,
            place.as_deref().unwrap_or("NULL"),
            self.geo_scrubbed,
            self.withheld_in_countries,
            self.raw
        )
    }
}

/// The compliance-relevant state of an archive, sorted.
#[derive(Debug, PartialEq)]
struct Snapshot {
    tweets: BTreeMap<Id, TweetState>,
    /// user id → `withheld_in_countries` (canonical JSON text).
    users: BTreeMap<i64, String>,
    deletions: BTreeSet<Id>,
    geo_scrubs: BTreeSet<(i64, Id)>,
    /// (target, target id) → countries (canonical JSON text).
    withholdings: BTreeMap<(String, Id), String>,
}

/// A JSON value with every object's keys in sorted order (for readable, stable output; equality
/// of `serde_json` maps ignores key order even with `preserve_order`).
fn canonical(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let sorted: BTreeMap<String, Value> =
                map.into_iter().map(|(k, v)| (k, canonical(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

fn json(text: &Option<String>) -> Value {
    let text = text.as_deref().expect("a NOT NULL JSON column");
    canonical(serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}")))
}

fn int(text: &Option<String>) -> i64 {
    text.as_deref().unwrap().parse().unwrap()
}

async fn snapshot(db: &TestDb) -> Snapshot {
    let tweets = db
        .rows(
            "SELECT CAST(tweet_id AS TEXT), CAST(longitude AS TEXT), CAST(latitude AS TEXT), \
             CAST(place AS TEXT), CASE WHEN geo_scrubbed THEN 'y' ELSE 'n' END, \
             CAST(withheld_in_countries AS TEXT), CAST(raw AS TEXT) FROM tweets ORDER BY tweets.tweet_id",
        )
        .await
        .into_iter()
        .map(|r| {
            (
                Id(int(&r[0])),
                TweetState {
                    longitude: r[1].as_deref().map(|x| x.parse().unwrap()),
                    latitude: r[2].as_deref().map(|x| x.parse().unwrap()),
                    place: r[3].as_ref().map(|_| json(&r[3])),
                    geo_scrubbed: r[4].as_deref() == Some("y"),
                    withheld_in_countries: json(&r[5]),
                    raw: json(&r[6]),
                },
            )
        })
        .collect();
    let users = db
        .rows(
            "SELECT CAST(user_id AS TEXT), CAST(withheld_in_countries AS TEXT) FROM users \
             ORDER BY user_id",
        )
        .await
        .into_iter()
        .map(|r| (int(&r[0]), json(&r[1]).to_string()))
        .collect();
    let deletions = db
        .rows("SELECT CAST(tweet_id AS TEXT) FROM deletions")
        .await
        .into_iter()
        .map(|r| Id(int(&r[0])))
        .collect();
    let geo_scrubs = db
        .rows("SELECT CAST(user_id AS TEXT), CAST(up_to_status_id AS TEXT) FROM geo_scrubs")
        .await
        .into_iter()
        .map(|r| (int(&r[0]), Id(int(&r[1]))))
        .collect();
    let withholdings = db
        .rows(
            "SELECT target, CAST(target_id AS TEXT), CAST(withheld_in_countries AS TEXT) \
             FROM withholdings",
        )
        .await
        .into_iter()
        .map(|r| {
            (
                (r[0].clone().unwrap(), Id(int(&r[1]))),
                json(&r[2]).to_string(),
            )
        })
        .collect();
    Snapshot {
        tweets,
        users,
        deletions,
        geo_scrubs,
        withholdings,
    }
}

/// Replays `lines` into a fresh archive and snapshots it.
async fn archive(lines: &[&Line], batch_size: usize, postgres: bool) -> Snapshot {
    let db = if postgres {
        TestDb::postgres().await.expect("PostgreSQL went away")
    } else {
        TestDb::sqlite().await
    };
    let bytes = lines
        .iter()
        .map(|l| l.json.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let config = PipelineConfig {
        batch_size,
        ..PipelineConfig::default()
    };
    db.replay_bytes(bytes.as_bytes(), config).await;
    let rejects = db.count("rejects").await;
    let snap = snapshot(&db).await;
    db.cleanup().await;
    assert_eq!(rejects, 0, "a generated line was rejected");
    snap
}

// ---------------------------------------------------------------------------------------------
// Reporting differences
// ---------------------------------------------------------------------------------------------

fn diff_maps<K: Ord + fmt::Debug, V: PartialEq + fmt::Debug>(
    name: &str,
    a: &BTreeMap<K, V>,
    b: &BTreeMap<K, V>,
    out: &mut Vec<String>,
) {
    for (k, va) in a {
        match b.get(k) {
            None => out.push(format!("{name} {k:?}: only in canonical: {va:?}")),
            Some(vb) if vb != va => out.push(format!(
                "{name} {k:?} differs:\n      canonical: {va:?}\n      permuted:  {vb:?}"
            )),
            Some(_) => {}
        }
    }
    for (k, vb) in b {
        if !a.contains_key(k) {
            out.push(format!("{name} {k:?}: only in permuted: {vb:?}"));
        }
    }
}

fn diff_sets<T: Ord + fmt::Debug>(
    name: &str,
    a: &BTreeSet<T>,
    b: &BTreeSet<T>,
    out: &mut Vec<String>,
) {
    let only_a: Vec<_> = a.difference(b).collect();
    let only_b: Vec<_> = b.difference(a).collect();
    if !only_a.is_empty() || !only_b.is_empty() {
        out.push(format!(
            "{name}: only in canonical {only_a:?}, only in permuted {only_b:?}"
        ));
    }
}

fn diff(a: &Snapshot, b: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    diff_maps("tweet", &a.tweets, &b.tweets, &mut out);
    diff_maps("user", &a.users, &b.users, &mut out);
    diff_sets("deletions", &a.deletions, &b.deletions, &mut out);
    diff_sets("geo_scrubs", &a.geo_scrubs, &b.geo_scrubs, &mut out);
    diff_maps("withholding", &a.withholdings, &b.withholdings, &mut out);
    out
}

// ---------------------------------------------------------------------------------------------
// The model: what the spec says the canonical archive holds
// ---------------------------------------------------------------------------------------------

fn country_set(v: &Value) -> Option<BTreeSet<String>> {
    v.as_array()?
        .iter()
        .map(|c| c.as_str().map(str::to_owned))
        .collect()
}

/// Violations of the compliance rules in `snap`, the archive of all of `world`'s lines.
fn model_violations(world: &World, snap: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    let deleted: BTreeSet<i64> = world
        .notices
        .iter()
        .filter_map(|n| match n {
            Notice::Delete { id } => Some(*id),
            _ => None,
        })
        .collect();
    let scrubs: BTreeSet<(i64, i64)> = world
        .notices
        .iter()
        .filter_map(|n| match n {
            Notice::ScrubGeo { user, up_to } => Some((*user, *up_to)),
            _ => None,
        })
        .collect();
    let mut withheld: BTreeMap<(&str, i64), BTreeSet<String>> = BTreeMap::new();
    for n in &world.notices {
        let (key, countries) = match n {
            Notice::StatusWithheld { id, countries } => (("status", *id), countries),
            Notice::UserWithheld { user, countries } => (("user", *user), countries),
            _ => continue,
        };
        let set = withheld.entry(key).or_default();
        set.extend(countries.iter().map(|c| c.to_string()));
    }
    let embedded = |id: i64| {
        world.statuses.iter().any(
            |s| matches!(s.kind, StatusKind::Retweet { of } | StatusKind::Quote { of } if of == id),
        )
    };

    // Which statuses are archived.
    let mut expected = BTreeSet::new();
    for s in &world.statuses {
        let arrives = match s.kind {
            StatusKind::Original { top_level } => top_level || embedded(s.id),
            _ => true,
        };
        let doomed = deleted.contains(&s.id)
            || matches!(s.kind, StatusKind::Retweet { of } if deleted.contains(&of));
        if arrives && !doomed {
            expected.insert(Id(s.id));
        }
    }
    let archived: BTreeSet<Id> = snap.tweets.keys().copied().collect();
    if archived != expected {
        out.push(format!(
            "archived ids {archived:?}, the rules say {expected:?}"
        ));
    }

    for s in &world.statuses {
        let Some(t) = snap.tweets.get(&Id(s.id)) else {
            continue;
        };
        let scrubbed = s.geo
            && scrubs
                .iter()
                .any(|(user, up_to)| *user == s.author && s.id <= *up_to);
        let located = s.geo && !scrubbed;
        let id = Id(s.id);
        if t.longitude.is_some() != located
            || t.latitude.is_some() != located
            || t.place.is_some() != located
        {
            out.push(format!("{id:?}: located should be {located}: {t:?}"));
        }
        if t.geo_scrubbed != scrubbed {
            out.push(format!("{id:?}: geo_scrubbed should be {scrubbed}"));
        }
        let raw_located = t.raw.get("coordinates").is_some_and(Value::is_object)
            && t.raw.get("place").is_some_and(Value::is_object);
        if raw_located != located {
            out.push(format!(
                "{id:?}: raw located should be {located}: {}",
                t.raw
            ));
        }
        if scrubbed
            && ["coordinates", "geo", "place"]
                .iter()
                .any(|k| t.raw.get(k).is_some())
        {
            out.push(format!(
                "{id:?}: scrubbed raw keeps location keys: {}",
                t.raw
            ));
        }
        let want = withheld.get(&("status", s.id)).cloned().unwrap_or_default();
        if country_set(&t.withheld_in_countries).as_ref() != Some(&want) {
            out.push(format!(
                "{id:?}: withheld_in_countries {} should be {want:?}",
                t.withheld_in_countries
            ));
        }
        // Embedded statuses are stored as their own rows; the carrier keeps a reference.
        let (field, of) = match s.kind {
            StatusKind::Retweet { of } => ("retweeted_status", of),
            StatusKind::Quote { of } => ("quoted_status", of),
            StatusKind::Original { .. } => continue,
        };
        let stub = serde_json::json!({"id": of, "id_str": of.to_string()});
        if t.raw.get(field) != Some(&stub) {
            out.push(format!("{id:?}: {field} should be a stub: {}", t.raw));
        }
    }

    // A deleted original's text is nowhere.
    for s in &world.statuses {
        if let (true, StatusKind::Original { .. }) = (deleted.contains(&s.id), &s.kind) {
            let text = original_text(s.id - BIG);
            for (id, t) in &snap.tweets {
                if t.raw.to_string().contains(&text) {
                    out.push(format!("{id:?} keeps the text of deleted {:?}", Id(s.id)));
                }
            }
        }
    }

    // Users: every archived author has a row, with the withheld countries of its notices.
    for s in &world.statuses {
        if archived.contains(&Id(s.id)) && !snap.users.contains_key(&s.author) {
            out.push(format!("user {} of {:?} has no row", s.author, Id(s.id)));
        }
    }
    for (user, countries) in &snap.users {
        let want = withheld.get(&("user", *user)).cloned().unwrap_or_default();
        if country_set(&serde_json::from_str(countries).unwrap()).as_ref() != Some(&want) {
            out.push(format!(
                "user {user}: withheld_in_countries {countries} should be {want:?}"
            ));
        }
    }

    // The notices themselves.
    let deletions: BTreeSet<Id> = deleted.iter().map(|id| Id(*id)).collect();
    if snap.deletions != deletions {
        out.push(format!(
            "deletions {:?} should be {deletions:?}",
            snap.deletions
        ));
    }
    let geo_scrubs: BTreeSet<(i64, Id)> = scrubs.iter().map(|(u, id)| (*u, Id(*id))).collect();
    if snap.geo_scrubs != geo_scrubs {
        out.push(format!(
            "geo_scrubs {:?} should be {geo_scrubs:?}",
            snap.geo_scrubs
        ));
    }
    let withholdings: BTreeMap<(String, Id), BTreeSet<String>> = withheld
        .iter()
        .map(|((target, id), c)| ((target.to_string(), Id(*id)), c.clone()))
        .collect();
    let stored: BTreeMap<(String, Id), Option<BTreeSet<String>>> = snap
        .withholdings
        .iter()
        .map(|(k, c)| (k.clone(), country_set(&serde_json::from_str(c).unwrap())))
        .collect();
    let expected_stored: BTreeMap<_, _> = withholdings
        .into_iter()
        .map(|(k, c)| (k, Some(c)))
        .collect();
    if stored != expected_stored {
        out.push(format!(
            "withholdings {stored:?} should be {expected_stored:?}"
        ));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------

async fn check(case: &Case, postgres: bool) -> Result<(), TestCaseError> {
    let (canonical, permuted) = (case.canonical(), case.permuted());
    let (a, b) = tokio::join!(
        archive(&canonical, case.canonical_batch, postgres),
        archive(&permuted, case.permuted_batch, postgres),
    );
    let violations = model_violations(&case.world, &a);
    if !violations.is_empty() {
        return Err(TestCaseError::fail(format!(
            "the canonical archive breaks the compliance rules:\n    {}\n  canonical snapshot: {a:#?}",
            violations.join("\n    ")
        )));
    }
    let differences = diff(&a, &b);
    if !differences.is_empty() {
        return Err(TestCaseError::fail(format!(
            "the archive depends on arrival order:\n    {}",
            differences.join("\n    ")
        )));
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn order_does_not_matter_sqlite(case in case()) {
        runtime().block_on(check(&case, false))?;
    }

    #[test]
    fn order_does_not_matter_postgres(case in case()) {
        if !postgres_available() {
            return Ok(());
        }
        runtime().block_on(check(&case, true))?;
    }
}
