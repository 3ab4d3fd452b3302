//! Drops and user states toggled many times, out of time order, some in one transaction, with
//! Posts arriving between them: after every transaction `tweets_visible` and `users_visible`
//! are exactly what the rule says (each state takes its latest event's value, "on" at equal
//! times), checked against a model.

use super::common::TestDb;
use super::lines::*;
use super::views::{visible, visible_users};
use std::collections::{BTreeMap, BTreeSet};

const USERS: [i64; 3] = [61, 62, 63];
const STATES: [(&str, &str); 3] = [
    ("user_delete", "user_undelete"),
    ("user_protect", "user_unprotect"),
    ("user_suspend", "user_unsuspend"),
];

/// A state's events so far: (event_at, on) → the latest, "on" winning a tie.
#[derive(Default)]
struct Model {
    states: BTreeMap<(i64, usize), (i64, bool)>,
    posts: BTreeMap<i64, i64>,
}

impl Model {
    fn set(&mut self, key: (i64, usize), at: i64, on: bool) {
        let e = self.states.entry(key).or_insert((at, on));
        if (at, on) > *e {
            *e = (at, on);
        }
    }

    /// A new Post by `author`, ids from `b` in arrival order.
    fn add_post(&mut self, b: i64, author: i64, lines: &mut Vec<String>) {
        let id = b + self.posts.len() as i64;
        self.posts.insert(id, author);
        lines.push(post(id, author, &format!("post {id}"), &[]));
    }

    fn on(&self, key: (i64, usize)) -> bool {
        self.states.get(&key).is_some_and(|s| s.1)
    }

    /// Users are "user" targets 0..3 of their states; a Post's drop is state 3 of its id.
    fn expected(&self) -> (BTreeSet<i64>, BTreeSet<i64>) {
        let hidden = |u: i64| (0..3).any(|s| self.on((u, s)));
        let posts = self
            .posts
            .iter()
            .filter(|(id, author)| !self.on((**id, 3)) && !hidden(**author))
            .map(|(id, _)| *id)
            .collect();
        let users = USERS.iter().copied().filter(|u| !hidden(*u)).collect();
        (posts, users)
    }
}

/// A small deterministic generator (no dependency on the run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (self.0 >> 33) % n
    }
}

pub async fn views_follow_every_toggle(db: &TestDb, b: i64) {
    let mut model = Model::default();
    let mut rng = Lcg(20);
    let mut first = Vec::new();
    for u in USERS {
        model.add_post(b, u, &mut first);
        model.add_post(b, u, &mut first);
    }
    db.replay_lines(&first.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    let (mut toggles, mut arrivals) = (0, 0);
    for step in 0..40 {
        let mut lines = Vec::new();
        for _ in 0..=rng.next(3) {
            let (at, on) = (rng.next(8) as i64, rng.next(2) == 1);
            if rng.next(3) == 0 {
                let id = b + rng.next(model.posts.len() as u64) as i64;
                let name = if on { "drop" } else { "undrop" };
                lines.push(tweet_event(name, id, model.posts[&id], at));
                model.set((id, 3), at, on);
            } else {
                let (u, s) = (rng.next(3) as usize, rng.next(3) as usize);
                let name = if on { STATES[s].0 } else { STATES[s].1 };
                lines.push(user_event(name, USERS[u], at));
                model.set((USERS[u], s), at, on);
            }
            toggles += 1;
        }
        if rng.next(4) == 0 {
            let author = USERS[rng.next(3) as usize];
            model.add_post(b, author, &mut lines);
            arrivals += 1;
        }
        db.replay_lines(&lines.iter().map(String::as_str).collect::<Vec<_>>())
            .await;
        let (posts, users) = model.expected();
        let shown: BTreeSet<i64> = visible(db).await.into_iter().collect();
        let shown_users: BTreeSet<i64> = visible_users(db).await.into_iter().collect();
        assert_eq!(shown, posts, "Posts shown after step {step}: {lines:?}");
        assert_eq!(
            shown_users, users,
            "users shown after step {step}: {lines:?}"
        );
    }
    assert!(
        toggles > 60 && arrivals > 5,
        "{toggles} toggles, {arrivals} arrivals"
    );
    let stored = model.posts.len() as i64;
    assert_eq!(db.count("tweets").await, stored, "states hide, never erase");
}
