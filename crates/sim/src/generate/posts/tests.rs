//! Ids, shares, shapes and edits of the v2 Posts.

use super::*;
use serde_json::Value;

#[test]
fn ids_increase_and_carry_the_position_modulo_100() {
    let mut last = 0;
    for k in 0..5_000 {
        let id = post_id(3, k);
        assert!(id > last, "ids increase");
        assert_eq!(id % 100, k % 100);
        assert!((id >> 12) & 1023 < 512, "top-level worker");
        last = id;
    }
    assert!(last > 1_800_000_000_000_000_000, "19 digits: {last}");
}

#[test]
fn lines_have_the_v2_shape_and_are_pure_functions_of_seed_and_position() {
    let mut seen = [0u32; 6];
    for k in 0..3_000 {
        let facts = post_facts(9, k);
        let line = post_line(&facts, 9, Some(&[(17, Some("t".into()))]));
        assert_eq!(
            line,
            post_line(&post_facts(9, k), 9, Some(&[(17, Some("t".into()))]))
        );
        let v: Value = serde_json::from_slice(&line).unwrap();
        let data = &v["data"];
        assert_eq!(data["id"], facts.id.to_string());
        let created = data["created_at"].as_str().unwrap();
        assert!(created.ends_with('Z') && created.len() == 24, "{created}");
        assert_eq!(v["includes"]["users"][0]["id"], data["author_id"]);
        assert_eq!(v["matching_rules"][0]["id"], "17");
        let history = data["edit_history_tweet_ids"].as_array().unwrap();
        assert_eq!(history.last().unwrap(), &data["id"]);
        seen[0] += u32::from(history.len() == 2);
        seen[1] += u32::from(data.get("referenced_tweets").is_some());
        seen[2] += u32::from(data.get("geo").is_some());
        seen[3] += u32::from(data.get("note_tweet").is_some());
        seen[4] += u32::from(data.get("withheld").is_some());
        seen[5] += u32::from(facts.text.to_lowercase().contains("breaking news"));
        if let Some(refs) = data.get("referenced_tweets") {
            assert_eq!(v["includes"]["tweets"][0]["id"], refs[0]["id"]);
        }
        if let Some(note) = data.get("note_tweet") {
            assert!(note["text"].as_str().unwrap().len() > 280);
        }
    }
    assert!(
        seen.iter().all(|n| *n > 5),
        "every feature occurs: {seen:?}"
    );
}

#[test]
fn an_edit_repeats_its_original_and_names_it_first() {
    let k = (20..10_000).find(|k| edited_from(1, *k).is_some()).unwrap();
    let facts = post_facts(1, k);
    assert!(facts.text.ends_with(" (edited)"));
    let line: Value = serde_json::from_slice(&post_line(&facts, 1, None)).unwrap();
    assert_eq!(
        line["data"]["edit_history_tweet_ids"],
        serde_json::json!([post_id(1, k - 20).to_string(), post_id(1, k).to_string()])
    );
}
