//! The compliance streams' ground truth against the lines actually sent: the shape checker
//! and the recomputation the other compliance tests use, and states toggled several times.

use super::v2_compliance::{Run, run};
use crate::simulate::{ComplianceTruth, EditChain, QuotePair, UserStateEvents};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

const PROFILE_FIELDS: &[&str] = &[
    "profile.name",
    "profile.location",
    "profile.description",
    "profile.url",
    "profile.profileBanner",
    "profile.profileBanner.url",
    "profile.profileImage",
    "profile.profileImage.url",
];

fn is_id(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| (1..=19).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
}

fn countries_ok(v: &Value) -> bool {
    v.as_array().is_some_and(|a| {
        !a.is_empty()
            && a.iter().all(|c| {
                c.as_str()
                    .is_some_and(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
            })
    })
}

fn keys(event: &Value) -> BTreeSet<&str> {
    event
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// Checks a line against §2.2 (required fields, id strings, nothing undocumented) and returns
/// its label (`delete_quote` / `withheld_quote` for those with a `quote_tweet_id`) and the id
/// its partition is drawn from.
pub(super) fn shape(line: &Value) -> Result<(String, u64), String> {
    let data = line["data"].as_object().ok_or("no data object")?;
    if line.as_object().map(|o| o.len()) != Some(1) || data.len() != 1 {
        return Err("one data key holding one event".into());
    }
    let (key, event) = data.iter().next().ok_or("empty data")?;
    let at = event["event_at"].as_str().ok_or("no event_at")?;
    chrono::DateTime::parse_from_rfc3339(at).map_err(|e| format!("event_at {at}: {e}"))?;
    if !(at.ends_with('Z') || at.ends_with("+00:00")) {
        return Err(format!("event_at {at} is not UTC"));
    }
    let id = |v: &Value| -> Result<u64, String> {
        if !is_id(v) {
            return Err(format!("{v} is not an id string"));
        }
        v.as_str().unwrap_or("").parse().map_err(|e| format!("{e}"))
    };
    let has = |expected: &[&str]| -> Result<(), String> {
        let found = keys(event);
        let want: BTreeSet<&str> = expected.iter().copied().collect();
        (found == want)
            .then_some(())
            .ok_or(format!("{key}: keys {found:?}, expected {want:?}"))
    };
    let quote = event.get("quote_tweet_id").is_some();
    let with_quote = |mut k: Vec<&'static str>| {
        if quote {
            k.push("quote_tweet_id");
        }
        k
    };
    match key.as_str() {
        "delete" | "drop" | "undrop" | "withheld" => {
            let mut expected = with_quote(vec!["tweet", "event_at"]);
            if key == "withheld" {
                expected.push("withheld_in_countries");
                if !countries_ok(&event["withheld_in_countries"]) {
                    return Err("withheld_in_countries".into());
                }
            }
            has(&expected)?;
            if quote && !matches!(key.as_str(), "delete" | "withheld") {
                return Err(format!("{key} with a quote_tweet_id"));
            }
            if quote {
                id(&event["quote_tweet_id"])?;
            }
            if keys(&event["tweet"]) != BTreeSet::from(["id", "author_id"]) {
                return Err("tweet is {id, author_id}".into());
            }
            id(&event["tweet"]["author_id"])?;
            let label = if quote {
                format!("{key}_quote")
            } else {
                key.clone()
            };
            Ok((label, id(&event["tweet"]["id"])?))
        }
        "tweet_edit" => {
            has(&["tweet", "initial_tweet_id", "edit_tweet_ids", "event_at"])?;
            let ids = event["edit_tweet_ids"].as_array().ok_or("edit_tweet_ids")?;
            if ids.is_empty() || keys(&event["tweet"]) != BTreeSet::from(["id"]) {
                return Err("an edit chain and tweet {id}".into());
            }
            let chain: Vec<u64> = ids.iter().map(id).collect::<Result<_, _>>()?;
            let newest = id(&event["tweet"]["id"])?;
            if chain.first() != Some(&id(&event["initial_tweet_id"])?)
                || chain.last() != Some(&newest)
            {
                return Err("the chain runs from initial_tweet_id to tweet.id".into());
            }
            Ok((key.clone(), newest))
        }
        _ => {
            let mut expected = vec!["user", "event_at"];
            match key.as_str() {
                "user_withheld" => {
                    expected.push("withheld_in_countries");
                    if !countries_ok(&event["withheld_in_countries"]) {
                        return Err("withheld_in_countries".into());
                    }
                }
                "scrub_geo" => {
                    expected.push("up_to_tweet_id");
                    id(&event["up_to_tweet_id"])?;
                }
                "user_profile_modification" => {
                    expected.extend(["profile_field", "new_value"]);
                    let field = event["profile_field"].as_str().unwrap_or("");
                    if !PROFILE_FIELDS.contains(&field) || !event["new_value"].is_string() {
                        return Err(format!("profile_field {field} / new_value"));
                    }
                }
                "user_delete" | "user_undelete" | "user_protect" | "user_unprotect"
                | "user_suspend" | "user_unsuspend" => {}
                other => return Err(format!("undocumented event {other}")),
            }
            has(&expected)?;
            if keys(&event["user"]) != BTreeSet::from(["id"]) {
                return Err("user is {id}".into());
            }
            Ok((key.clone(), id(&event["user"]["id"])?))
        }
    }
}

fn n(v: &Value) -> u64 {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_default()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str().map(str::to_string))
        .collect()
}

/// The ground truth recomputed from the lines: each partition's lines in order, each
/// target's last event deciding its state.
pub(super) fn expected_truth(run: &Run) -> ComplianceTruth {
    let mut t = ComplianceTruth {
        pool_posts: run.posts.len() as u64,
        ..ComplianceTruth::default()
    };
    let (mut deleted, mut quotes, mut withheld_quotes) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let (mut dropped, mut edits, mut scrubbed) =
        (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let (mut states, mut events) = (
        BTreeMap::new(),
        BTreeMap::<u64, (u64, VecDeque<String>)>::new(),
    );
    let (mut withheld, mut users_withheld) = (BTreeMap::new(), BTreeMap::new());
    for line in run.partitions.iter().flat_map(|p| &p.lines) {
        let (label, target) = shape(line).expect("a documented shape");
        *t.delivered_by_kind.entry(label.clone()).or_default() += 1;
        let (key, e) = line["data"].as_object().unwrap().iter().next().unwrap();
        let quote = e.get("quote_tweet_id").map(n);
        match key.as_str() {
            "delete" => {
                deleted.insert(target);
                quote.map(|q| quotes.insert((target, q)));
            }
            "withheld" => {
                withheld.insert(target, strings(&e["withheld_in_countries"]));
                quote.map(|q| withheld_quotes.insert((target, q)));
            }
            "drop" | "undrop" => {
                dropped.insert(target, key == "drop");
            }
            "tweet_edit" => {
                edits.insert(n(&e["initial_tweet_id"]), target);
            }
            "user_withheld" => {
                users_withheld.insert(target, strings(&e["withheld_in_countries"]));
            }
            "scrub_geo" => {
                let up_to: &mut u64 = scrubbed.entry(target).or_default();
                *up_to = (*up_to).max(n(&e["up_to_tweet_id"]));
            }
            "user_profile_modification" => {
                let field = e["profile_field"].as_str().unwrap().to_string();
                let value = e["new_value"].as_str().unwrap().to_string();
                t.profiles
                    .entry(target.to_string())
                    .or_default()
                    .insert(field, value);
            }
            state => {
                let on = !state.starts_with("user_un");
                let name = state.replace("user_un", "user_");
                states.insert((target, name), on);
                let (count, last) = events.entry(target).or_default();
                *count += 1;
                if last.len() == 16 {
                    last.pop_front();
                }
                last.push_back(state.to_string());
            }
        }
    }
    let s = |set: &BTreeSet<u64>| set.iter().map(u64::to_string).collect();
    let pairs = |set: &BTreeSet<(u64, u64)>| {
        set.iter()
            .map(|(a, b)| QuotePair {
                tweet_id: a.to_string(),
                quote_tweet_id: b.to_string(),
            })
            .collect()
    };
    let keyed = |m: &BTreeMap<u64, Vec<String>>| {
        m.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    };
    t.deleted_tweets = s(&deleted);
    t.quote_deletes = pairs(&quotes);
    t.quote_withholdings = pairs(&withheld_quotes);
    t.withheld_tweets = keyed(&withheld);
    t.users_withheld = keyed(&users_withheld);
    let live = dropped.iter().filter(|(id, _)| !deleted.contains(id));
    let (now, before): (Vec<_>, Vec<_>) = live.partition(|(_, d)| **d);
    t.dropped_tweets = now.iter().map(|(id, _)| id.to_string()).collect();
    t.undropped_tweets = before.iter().map(|(id, _)| id.to_string()).collect();
    t.edits = edits
        .iter()
        .map(|(i, nw)| EditChain {
            initial_tweet_id: i.to_string(),
            newest_tweet_id: nw.to_string(),
            edit_tweet_ids: vec![i.to_string(), nw.to_string()],
        })
        .collect();
    let users_in = |name: &str| -> Vec<String> {
        states
            .iter()
            .filter(|((_, s), on)| s == name && **on)
            .map(|((id, _), _)| id.to_string())
            .collect()
    };
    t.users_deleted = users_in("user_delete");
    t.users_protected = users_in("user_protect");
    t.users_suspended = users_in("user_suspend");
    t.user_state_events = events
        .into_iter()
        .map(|(id, (count, last))| {
            (
                id.to_string(),
                UserStateEvents {
                    count,
                    last: last.into(),
                },
            )
        })
        .collect();
    t.scrubbed_geo = scrubbed
        .iter()
        .map(|(u, v)| (u.to_string(), v.to_string()))
        .collect();
    t
}

#[test]
fn user_states_and_drops_toggle_several_times() {
    super::big_stack(user_states_and_drops_toggle_several_times_body());
}

async fn user_states_and_drops_toggle_several_times_body() {
    let toml = r#"
        [compliance]
        revisit_percent = 100
        mix = { drop = 1, undrop = 1, user_suspend = 1, user_unsuspend = 1, user_protect = 1, user_unprotect = 1 }
        [[connection]]
        steps = [{ send = 40 }]
    "#;
    let run = run(toml).await;
    let truth = &run.stats.v2_compliance_truth[0];
    assert_eq!(truth, &expected_truth(&run));
    let toggled = truth.user_state_events.values().filter(|e| {
        let suspends: Vec<&String> = e.last.iter().filter(|k| k.contains("suspend")).collect();
        suspends.len() >= 3
    });
    assert!(
        toggled.count() > 0,
        "a user suspended, unsuspended, suspended: {truth:#?}"
    );
    let mut drops: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for line in run.partitions.iter().flat_map(|p| &p.lines) {
        for key in ["drop", "undrop"] {
            if let Some(e) = line["data"].get(key) {
                let id = e["tweet"]["id"].as_str().unwrap().to_string();
                drops.entry(id).or_default().push(key);
            }
        }
    }
    assert!(
        drops
            .values()
            .any(|d| d.starts_with(&["drop", "undrop", "drop"])),
        "a Post dropped, undropped, dropped"
    );
    assert!(
        drops
            .values()
            .all(|d| d[0] == "drop" && d.windows(2).all(|w| w[0] != w[1])),
        "drops and undrops alternate, starting with a drop"
    );
    assert!(!truth.users_suspended.is_empty() && !truth.dropped_tweets.is_empty());
}
