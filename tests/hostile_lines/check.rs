//! The property's checks: each line adds exactly one event or one reject (a keep-alive
//! neither), and no status that an archived `scrub_geo` covers keeps a location.

use super::generate::Line;
use crate::common::TestDb;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::value::RawValue;

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

/// Replays the lines one at a time, checking what each adds, then the scrubs.
pub async fn check(db: &TestDb, lines: &[Line]) -> Result<(), TestCaseError> {
    let outcomes = replay_each(db, lines).await?;
    scrubs_leave_no_location(db, lines, &outcomes).await
}

/// Replays each line on its own: it must add exactly one event or one reject (a keep-alive
/// neither). Returns what became of each line, for the messages.
async fn replay_each(db: &TestDb, lines: &[Line]) -> Result<Vec<String>, TestCaseError> {
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
    Ok(outcomes)
}

/// No status of a user up to an archived scrub's id keeps a location, typed or in `raw`.
async fn scrubs_leave_no_location(
    db: &TestDb,
    lines: &[Line],
    outcomes: &[String],
) -> Result<(), TestCaseError> {
    // Only notices that were archived apply: one the decoder or the database refused (nested
    // too deep, a number PostgreSQL cannot hold) is a reject, kept with its reason, and binds
    // nothing.
    let scrubs: Vec<(i64, i64, &str)> = lines
        .iter()
        .zip(outcomes)
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
