//! Order independence of the v2 compliance events, as a property: v2 Posts (one edit chain
//! among them, one located Post per user) and compliance events (`drop`/`undrop`, the user
//! states at random times with ties, `tweet_edit`, `delete`, `withheld`, `user_withheld`,
//! `scrub_geo`, `user_profile_modification`) replayed in their canonical order and in a random
//! permutation, each cut into transactions of random sizes, leave the same archive: stored and
//! visible Posts, visible users, every state flag, withholdings of Posts and users, locations,
//! profiles, deletions and edit chains. The
//! canonical archive is also checked against a model of the rules (latest `event_at` wins, "on"
//! at equal times; a deleted version deletes its chain; `edits = "latest"` keeps the newest).
//!
//! Cases: 16 on SQLite, 6 on PostgreSQL, or `PROPTEST_CASES`.

mod common;
#[path = "v2_compliance/lines.rs"]
mod lines;

use common::{BIG, TestDb};
use lines::*;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use streamvault::pipeline::PipelineConfig;

const USERS: [i64; 3] = [21, 22, 23];
const STATES: [(&str, &str); 3] = [
    ("user_delete", "user_undelete"),
    ("user_protect", "user_unprotect"),
    ("user_suspend", "user_unsuspend"),
];
/// The located Post of `USERS[u]` is `BIG + LOCATED + u` (by [`author`] of its offset too).
const LOCATED: i64 = 30;
/// The edit chain's versions: `CHAIN[0]` first.
const CHAIN: [i64; 3] = [BIG + 50, BIG + 51, BIG + 52];

#[derive(Clone, Debug)]
enum Ev {
    Drop {
        post: usize,
        on: bool,
        t: i64,
    },
    User {
        user: usize,
        state: usize,
        on: bool,
        t: i64,
    },
    Edit,
    Delete {
        post: usize,
    },
    DeleteVersion {
        v: usize,
    },
    Withheld {
        post: usize,
        de: bool,
    },
    UserWithheld {
        user: usize,
        de: bool,
    },
    ScrubGeo {
        user: usize,
    },
    /// A new description, its value given by its time (one value per time, as on X).
    Profile {
        user: usize,
        t: i64,
    },
}

#[derive(Clone, Debug)]
struct World {
    posts: usize,
    versions: Vec<usize>,
    events: Vec<Ev>,
}

fn ev() -> impl Strategy<Value = Ev> {
    prop_oneof![
        4 => (0..6usize, any::<bool>(), 0..4i64).prop_map(|(post, on, t)| Ev::Drop { post, on, t }),
        6 => (0..3usize, 0..3usize, any::<bool>(), 0..4i64)
            .prop_map(|(user, state, on, t)| Ev::User { user, state, on, t }),
        1 => Just(Ev::Edit),
        1 => (0..6usize).prop_map(|post| Ev::Delete { post }),
        1 => (0..3usize).prop_map(|v| Ev::DeleteVersion { v }),
        1 => (0..6usize, any::<bool>()).prop_map(|(post, de)| Ev::Withheld { post, de }),
        1 => (0..3usize, any::<bool>()).prop_map(|(user, de)| Ev::UserWithheld { user, de }),
        1 => (0..3usize).prop_map(|user| Ev::ScrubGeo { user }),
        1 => (0..3usize, 0..4i64).prop_map(|(user, t)| Ev::Profile { user, t }),
    ]
}

fn world() -> impl Strategy<Value = World> {
    (
        1..=6usize,
        prop::sample::subsequence(vec![0usize, 1, 2], 0..=3),
        prop::collection::vec(ev(), 0..12),
    )
        .prop_map(|(posts, versions, events)| World {
            posts,
            versions,
            events,
        })
}

fn post_id(k: usize) -> i64 {
    BIG + k as i64
}

fn author(k: usize) -> i64 {
    USERS[k % USERS.len()]
}

impl World {
    fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = (0..self.posts)
            .map(|k| post(post_id(k), author(k), &format!("post {k}"), &[]))
            .collect();
        for (u, &user) in USERS.iter().enumerate() {
            out.push(geo_post(BIG + LOCATED + u as i64, user, "located"));
        }
        for &v in &self.versions {
            out.push(post(
                CHAIN[v],
                USERS[0],
                &format!("version {v}"),
                &CHAIN[..=v],
            ));
        }
        for e in &self.events {
            out.push(match *e {
                Ev::Drop { post, on, t } => {
                    let name = if on { "drop" } else { "undrop" };
                    tweet_event(name, post_id(post), author(post), t)
                }
                Ev::User { user, state, on, t } => {
                    let (a, b) = STATES[state];
                    user_event(if on { a } else { b }, USERS[user], t)
                }
                Ev::Edit => tweet_edit(&CHAIN, 0),
                Ev::Delete { post } => tweet_event("delete", post_id(post), author(post), 0),
                Ev::DeleteVersion { v } => tweet_event("delete", CHAIN[v], USERS[0], 0),
                Ev::Withheld { post, de } => {
                    withheld(post_id(post), author(post), &[if de { "DE" } else { "FR" }])
                }
                Ev::UserWithheld { user, de } => {
                    user_withheld(USERS[user], &[if de { "DE" } else { "FR" }])
                }
                Ev::ScrubGeo { user } => scrub_geo(USERS[user], BIG + LOCATED + 2),
                Ev::Profile { user, t } => {
                    profile(USERS[user], "profile.description", &format!("desc {t}"), t)
                }
            });
        }
        out
    }

    /// The rules applied to the world by hand: (stored, visible) Post ids.
    fn model(&self) -> (BTreeSet<i64>, BTreeSet<i64>) {
        let latest = |pairs: Vec<(i64, bool)>| pairs.into_iter().max().is_some_and(|(_, on)| on);
        let mut stored: BTreeSet<i64> = (0..self.posts).map(post_id).collect();
        stored.extend((0..3).map(|u| BIG + LOCATED + u));
        // The versions known to be one chain: all with the event, else every Post's history.
        let edit = self.events.iter().any(|e| matches!(e, Ev::Edit));
        let known: BTreeSet<usize> = if edit {
            (0..3).collect()
        } else {
            self.versions
                .iter()
                .filter(|v| **v >= 1)
                .flat_map(|v| 0..=*v)
                .collect()
        };
        let mut deleted = BTreeSet::new();
        for e in &self.events {
            match e {
                Ev::Delete { post } => {
                    deleted.insert(post_id(*post));
                }
                // A delete of a known version deletes every known one; of another, itself.
                Ev::DeleteVersion { v } if known.contains(v) => {
                    deleted.extend(known.iter().map(|k| CHAIN[*k]));
                }
                Ev::DeleteVersion { v } => {
                    deleted.insert(CHAIN[*v]);
                }
                _ => {}
            }
        }
        let newest = known.iter().copied().max();
        for &v in &self.versions {
            if newest.is_none_or(|n| v >= n) {
                stored.insert(CHAIN[v]);
            }
        }
        stored.retain(|id| !deleted.contains(id));
        let dropped = |id: i64| {
            latest(
                self.events
                    .iter()
                    .filter_map(|e| match e {
                        Ev::Drop { post, on, t } if post_id(*post) == id => Some((*t, *on)),
                        _ => None,
                    })
                    .collect(),
            )
        };
        let hidden_user = |u: i64| {
            (0..3).any(|s| {
                latest(
                    self.events
                        .iter()
                        .filter_map(|e| match e {
                            Ev::User { user, state, on, t } if USERS[*user] == u && *state == s => {
                                Some((*t, *on))
                            }
                            _ => None,
                        })
                        .collect(),
                )
            })
        };
        let visible = stored
            .iter()
            .copied()
            .filter(|id| {
                let a = if CHAIN.contains(id) {
                    USERS[0]
                } else {
                    author((*id - BIG) as usize)
                };
                !dropped(*id) && !hidden_user(a)
            })
            .collect();
        (stored, visible)
    }
}

/// What the property compares.
type Snapshot = BTreeMap<&'static str, Vec<Vec<Option<String>>>>;

async fn archive(lines: &[&String], batch_size: usize, postgres: bool) -> Snapshot {
    let db = if postgres {
        TestDb::postgres().await.expect("PostgreSQL went away")
    } else {
        TestDb::sqlite().await
    };
    let bytes = lines
        .iter()
        .map(|l| l.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let config = PipelineConfig {
        batch_size,
        ..PipelineConfig::default()
    };
    db.replay_bytes(bytes.as_bytes(), config).await;
    let mut snap = Snapshot::new();
    for (name, sql) in [
        (
            "stored",
            "SELECT CAST(tweet_id AS TEXT) FROM tweets ORDER BY tweet_id",
        ),
        (
            "visible",
            "SELECT CAST(tweet_id AS TEXT) FROM tweets_visible ORDER BY tweet_id",
        ),
        (
            "users",
            "SELECT CAST(user_id AS TEXT) FROM users_visible ORDER BY user_id",
        ),
        (
            "withheld",
            "SELECT CAST(tweet_id AS TEXT), CAST(withheld_in_countries AS TEXT) FROM tweets ORDER BY tweet_id",
        ),
        (
            "states",
            "SELECT CAST(user_id AS TEXT), CASE WHEN deleted THEN 'd' END, CASE WHEN protected THEN 'p' END, CASE WHEN suspended THEN 's' END FROM user_states ORDER BY user_id",
        ),
        (
            "drops",
            "SELECT CAST(tweet_id AS TEXT), CASE WHEN dropped THEN 'y' ELSE 'n' END FROM tweet_drops ORDER BY tweet_id",
        ),
        (
            "deletions",
            "SELECT CAST(tweet_id AS TEXT) FROM deletions ORDER BY tweet_id",
        ),
        (
            "chains",
            "SELECT CAST(tweet_id AS TEXT) FROM edit_chains ORDER BY tweet_id",
        ),
        (
            "located",
            "SELECT CAST(tweet_id AS TEXT), CASE WHEN longitude IS NULL THEN 'n' ELSE 'y' END, CASE WHEN geo_scrubbed THEN 's' END FROM tweets ORDER BY tweet_id",
        ),
        (
            "users withheld",
            "SELECT CAST(user_id AS TEXT), CAST(withheld_in_countries AS TEXT) FROM users ORDER BY user_id",
        ),
        (
            "profiles",
            "SELECT CAST(user_id AS TEXT), CAST(raw AS TEXT) FROM users ORDER BY user_id",
        ),
        ("rejects", "SELECT reason FROM rejects"),
    ] {
        snap.insert(name, db.rows(sql).await);
    }
    db.cleanup().await;
    snap
}

fn ids(rows: &[Vec<Option<String>>]) -> BTreeSet<i64> {
    rows.iter()
        .map(|r| r[0].as_ref().unwrap().parse().unwrap())
        .collect()
}

async fn check(
    w: &World,
    order: &[usize],
    batches: (usize, usize),
    pg: bool,
) -> Result<(), TestCaseError> {
    let lines = w.lines();
    let canonical: Vec<&String> = lines.iter().collect();
    let permuted: Vec<&String> = order.iter().filter_map(|&i| lines.get(i)).collect();
    let permuted: Vec<&String> = if permuted.len() == lines.len() {
        permuted
    } else {
        canonical.clone()
    };
    let (a, b) = tokio::join!(
        archive(&canonical, batches.0, pg),
        archive(&permuted, batches.1, pg)
    );
    prop_assert!(a["rejects"].is_empty(), "rejects: {:?}", a["rejects"]);
    let (stored, visible) = w.model();
    prop_assert_eq!(ids(&a["stored"]), stored, "stored, against the model");
    prop_assert_eq!(ids(&a["visible"]), visible, "visible, against the model");
    prop_assert_eq!(a, b, "the archive depends on arrival order");
    Ok(())
}

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

/// `PROPTEST_CASES`, else `default` (PostgreSQL's archives cost a schema and its migrations
/// each: fewer cases there).
fn config(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
        failure_persistence: None,
        max_shrink_iters: 512,
        ..ProptestConfig::default()
    }
}

fn case() -> impl Strategy<Value = (World, Vec<usize>, (usize, usize))> {
    let batch = || prop_oneof![3 => 1..=4usize, 1 => Just(1000usize)];
    (
        world(),
        prop::collection::vec(0..32u8, 24),
        batch(),
        batch(),
    )
        .prop_map(|(w, keys, a, b)| {
            let n = w.lines().len();
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by_key(|&i| (keys.get(i).copied().unwrap_or(0), i));
            (w, order, (a, b))
        })
}

proptest! {
    #![proptest_config(config(16))]

    #[test]
    fn v2_events_and_user_states_do_not_depend_on_order_sqlite((w, order, batches) in case()) {
        runtime().block_on(check(&w, &order, batches, false))?;
    }
}

proptest! {
    #![proptest_config(config(6))]

    #[test]
    fn v2_events_and_user_states_do_not_depend_on_order_postgres((w, order, batches) in case()) {
        if !postgres_available() {
            return Ok(());
        }
        runtime().block_on(check(&w, &order, batches, true))?;
    }
}
