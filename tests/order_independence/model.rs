//! The model: what the compliance rules say the archive of every line of a world holds, checked
//! against the canonical archive so that the comparison cannot pass on two broken archives.

use super::snapshot::{Snapshot, TweetState};
use super::world::{Id, Notice, Status, StatusKind, World, original_text};
use crate::common::BIG;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn country_set(v: &Value) -> Option<BTreeSet<String>> {
    v.as_array()?
        .iter()
        .map(|c| c.as_str().map(str::to_owned))
        .collect()
}

/// What a world's notices ask for.
struct Asked {
    deleted: BTreeSet<i64>,
    /// (user, up to status id).
    scrubs: BTreeSet<(i64, i64)>,
    /// ("status" or "user", id) → every country named for it.
    withheld: BTreeMap<(&'static str, i64), BTreeSet<String>>,
}

impl Asked {
    fn of(world: &World) -> Asked {
        let deleted = world
            .notices
            .iter()
            .filter_map(|n| match n {
                Notice::Delete { id } => Some(*id),
                _ => None,
            })
            .collect();
        let scrubs = world
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
        Asked {
            deleted,
            scrubs,
            withheld,
        }
    }
}

/// Violations of the compliance rules in `snap`, the archive of all of `world`'s lines.
pub fn model_violations(world: &World, snap: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    let asked = Asked::of(world);
    let archived = archived_ids(world, &asked, snap, &mut out);
    for s in &world.statuses {
        if let Some(t) = snap.tweets.get(&Id(s.id)) {
            status_violations(s, t, &asked, &mut out);
        }
    }
    deleted_text_violations(world, &asked, snap, &mut out);
    user_violations(world, &asked, &archived, snap, &mut out);
    notice_violations(&asked, snap, &mut out);
    out
}

/// Which statuses are archived: every one that arrives (top-level or embedded) and is not
/// deleted (a pure retweet goes with its original). Returns the ids archived.
fn archived_ids(
    world: &World,
    asked: &Asked,
    snap: &Snapshot,
    out: &mut Vec<String>,
) -> BTreeSet<Id> {
    let deleted = &asked.deleted;
    let embedded = |id: i64| {
        world.statuses.iter().any(
            |s| matches!(s.kind, StatusKind::Retweet { of } | StatusKind::Quote { of } if of == id),
        )
    };
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
    archived
}

/// One archived status: its location (typed columns and `raw`) as the scrubs leave it, its
/// withheld countries, and the stub that stands for what it embeds.
fn status_violations(s: &Status, t: &TweetState, asked: &Asked, out: &mut Vec<String>) {
    let scrubbed = s.geo
        && asked
            .scrubs
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
    let want = asked
        .withheld
        .get(&("status", s.id))
        .cloned()
        .unwrap_or_default();
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
        StatusKind::Original { .. } => return,
    };
    let stub = serde_json::json!({"id": of, "id_str": of.to_string()});
    if t.raw.get(field) != Some(&stub) {
        out.push(format!("{id:?}: {field} should be a stub: {}", t.raw));
    }
}

/// A deleted original's text is nowhere.
fn deleted_text_violations(world: &World, asked: &Asked, snap: &Snapshot, out: &mut Vec<String>) {
    for s in &world.statuses {
        if let (true, StatusKind::Original { .. }) = (asked.deleted.contains(&s.id), &s.kind) {
            let text = original_text(s.id - BIG);
            for (id, t) in &snap.tweets {
                if t.raw.to_string().contains(&text) {
                    out.push(format!("{id:?} keeps the text of deleted {:?}", Id(s.id)));
                }
            }
        }
    }
}

/// Users: every archived author has a row, with the withheld countries of its notices.
fn user_violations(
    world: &World,
    asked: &Asked,
    archived: &BTreeSet<Id>,
    snap: &Snapshot,
    out: &mut Vec<String>,
) {
    for s in &world.statuses {
        if archived.contains(&Id(s.id)) && !snap.users.contains_key(&s.author) {
            out.push(format!("user {} of {:?} has no row", s.author, Id(s.id)));
        }
    }
    for (user, countries) in &snap.users {
        let want = asked
            .withheld
            .get(&("user", *user))
            .cloned()
            .unwrap_or_default();
        if country_set(&serde_json::from_str(countries).unwrap()).as_ref() != Some(&want) {
            out.push(format!(
                "user {user}: withheld_in_countries {countries} should be {want:?}"
            ));
        }
    }
}

/// The notices themselves: one deletion, scrub and withholding row each.
fn notice_violations(asked: &Asked, snap: &Snapshot, out: &mut Vec<String>) {
    let deletions: BTreeSet<Id> = asked.deleted.iter().map(|id| Id(*id)).collect();
    if snap.deletions != deletions {
        out.push(format!(
            "deletions {:?} should be {deletions:?}",
            snap.deletions
        ));
    }
    let geo_scrubs: BTreeSet<(i64, Id)> =
        asked.scrubs.iter().map(|(u, id)| (*u, Id(*id))).collect();
    if snap.geo_scrubs != geo_scrubs {
        out.push(format!(
            "geo_scrubs {:?} should be {geo_scrubs:?}",
            snap.geo_scrubs
        ));
    }
    let withholdings: BTreeMap<(String, Id), BTreeSet<String>> = asked
        .withheld
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
}
