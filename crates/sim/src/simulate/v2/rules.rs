//! `GET` and `POST {prefix}/2/tweets/search/stream/rules`: the rules the filtered stream of a
//! prefix matches Posts against.
//!
//! - `GET` answers `{"data": [{id, value, tag}], "meta": {sent, result_count}}` (no `data` when
//!   there are no rules); `?ids=1,2` lists only those.
//! - `POST {"add": [{value, tag}]}` validates every rule (see [`super::matcher`]). A rule that
//!   does not parse is an `invalid-rules` error (`value`, `details`, `title`) and then **no**
//!   rule of the request is created; a value the prefix already holds (or that the request
//!   repeats) is a `duplicate-rules` error (`value`, `id`) and is skipped, the others are
//!   created. `meta.summary` is `{created, not_created, valid, invalid}` (duplicates count as
//!   invalid); `data` lists the rules created, with their new ids.
//! - `POST {"delete": {"ids": [..]}}` (or `"values"`) deletes; unknown ones are
//!   `resource-not-found` errors; `meta.summary` is `{deleted, not_deleted}`.
//! - `?dry_run=true` answers the same without changing anything (a dry run's ids are fresh
//!   and never used); `?delete_all=true` deletes every rule.
//! - An add that would take the prefix over [`MAX_RULES`] rules creates none and answers a
//!   `rule-cap` error.
//! - A well-formed request answers 200 whatever its rules' errors; a body that is not JSON, or
//!   holds neither (or both) `add` and `delete`, answers 400 `invalid-request`.

use super::matcher;
use super::problems;
use super::state::{Rule, V2State};
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

/// Most rules a prefix holds (the Pro access level's cap).
pub const MAX_RULES: usize = 1000;

/// A whole answer: status and JSON body.
pub type Answer = (u16, Vec<u8>);

/// Answers one rules request.
pub fn handle(
    state: &mut V2State,
    prefix: &str,
    method: &str,
    params: &std::collections::BTreeMap<String, String>,
    body: Option<&str>,
    seed: u64,
) -> Answer {
    let flag = |name: &str| params.get(name).is_some_and(|v| v == "true");
    match method {
        "GET" => list(state, prefix, params.get("ids").map(String::as_str)),
        "POST" if flag("delete_all") => {
            let ids: Vec<String> = state
                .rules_of(prefix)
                .iter()
                .map(|r| r.id.to_string())
                .collect();
            delete(state, prefix, &ids, &[], flag("dry_run"))
        }
        "POST" => {
            let request: Value = match body.map(serde_json::from_str) {
                Some(Ok(v)) => v,
                _ => return bad("body", body.unwrap_or(""), "The request body is not JSON"),
            };
            match (request.get("add"), request.get("delete")) {
                (Some(add), None) => add_rules(state, prefix, add, flag("dry_run"), seed),
                (None, Some(del)) => {
                    let strings = |key: &str| -> Vec<String> {
                        del.get(key)
                            .and_then(Value::as_array)
                            .map(|a| {
                                a.iter()
                                    .filter_map(|v| v.as_str().map(str::to_string))
                                    .collect()
                            })
                            .unwrap_or_default()
                    };
                    let (ids, values) = (strings("ids"), strings("values"));
                    if ids.is_empty() && values.is_empty() {
                        return bad(
                            "delete",
                            &del.to_string(),
                            "`delete` needs `ids` or `values`",
                        );
                    }
                    delete(state, prefix, &ids, &values, flag("dry_run"))
                }
                _ => bad(
                    "body",
                    &request.to_string(),
                    "Exactly one of `add`, `delete` or `?delete_all=true` must be given",
                ),
            }
        }
        _ => bad(
            "method",
            method,
            "Only GET and POST are allowed on the rules endpoint",
        ),
    }
}

fn bad(parameter: &str, value: &str, message: &str) -> Answer {
    (400, problems::invalid_request(parameter, value, message))
}

fn sent() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn rule_json(rule: &Rule) -> Value {
    let mut v = json!({"id": rule.id.to_string(), "value": rule.value});
    if let Some(tag) = &rule.tag {
        v["tag"] = json!(tag);
    }
    v
}

fn list(state: &V2State, prefix: &str, ids: Option<&str>) -> Answer {
    let wanted: Option<Vec<&str>> = ids.map(|ids| ids.split(',').map(str::trim).collect());
    let rules = state.rules_of(prefix);
    let data: Vec<Value> = rules
        .iter()
        .filter(|r| {
            wanted
                .as_ref()
                .is_none_or(|w| w.contains(&r.id.to_string().as_str()))
        })
        .map(rule_json)
        .collect();
    let mut answer = json!({"meta": {"sent": sent(), "result_count": data.len()}});
    if !data.is_empty() {
        answer["data"] = Value::Array(data);
    }
    (200, answer.to_string().into_bytes())
}

fn add_rules(state: &mut V2State, prefix: &str, add: &Value, dry_run: bool, seed: u64) -> Answer {
    let Some(items) = add.as_array().filter(|a| !a.is_empty()) else {
        return bad(
            "add",
            &add.to_string(),
            "`add` must be a non-empty array of rules",
        );
    };
    let mut current: Vec<Rule> = state.rules_of(prefix).as_ref().clone();
    let (mut fresh, mut errors, mut invalid, mut duplicates) = (Vec::new(), Vec::new(), 0, 0);
    for item in items {
        let Some(value) = item.get("value").and_then(Value::as_str) else {
            return bad(
                "add",
                &item.to_string(),
                "Every rule needs a string `value`",
            );
        };
        let tag = item.get("tag").and_then(Value::as_str).map(str::to_string);
        let expr = match matcher::parse(value) {
            Ok(expr) => expr,
            Err(reason) => {
                errors.push(problems::invalid_rule(value, &reason));
                invalid += 1;
                continue;
            }
        };
        let existing = current
            .iter()
            .chain(fresh.iter())
            .find(|r: &&Rule| r.value == value);
        if let Some(existing) = existing {
            errors.push(problems::duplicate_rule(value, existing.id));
            duplicates += 1;
            continue;
        }
        let id = state.next_rule_id(seed);
        fresh.push(Rule {
            id,
            value: value.to_string(),
            tag,
            expr,
        });
    }
    if current.len() + fresh.len() > MAX_RULES {
        errors.push(problems::rule_cap(MAX_RULES));
        invalid += fresh.len();
        fresh.clear();
    }
    if invalid > 0 {
        fresh.clear();
    }
    let created = fresh.len() as u64;
    let mut answer = json!({"meta": {"sent": sent(), "summary": {
        "created": created,
        "not_created": items.len() as u64 - created,
        "valid": items.len() - invalid - duplicates,
        "invalid": invalid + duplicates,
    }}});
    if !fresh.is_empty() {
        answer["data"] = Value::Array(fresh.iter().map(rule_json).collect());
    }
    if !errors.is_empty() {
        answer["errors"] = Value::Array(errors);
    }
    if !dry_run && created > 0 {
        current.extend(fresh);
        state.set_rules(prefix, current, created, 0);
    }
    (200, answer.to_string().into_bytes())
}

fn delete(
    state: &mut V2State,
    prefix: &str,
    ids: &[String],
    values: &[String],
    dry_run: bool,
) -> Answer {
    let current = state.rules_of(prefix);
    let mut errors = Vec::new();
    let mut gone: Vec<u64> = Vec::new();
    for id in ids {
        match current.iter().find(|r| r.id.to_string() == *id) {
            Some(r) if !gone.contains(&r.id) => gone.push(r.id),
            Some(_) => {}
            None => errors.push(problems::rule_not_found(id)),
        }
    }
    for value in values {
        match current.iter().find(|r| r.value == *value) {
            Some(r) if !gone.contains(&r.id) => gone.push(r.id),
            Some(_) => {}
            None => errors.push(problems::rule_not_found(value)),
        }
    }
    let deleted = gone.len() as u64;
    let mut answer = json!({"meta": {"sent": sent(), "summary": {
        "deleted": deleted,
        "not_deleted": errors.len(),
    }}});
    if !errors.is_empty() {
        answer["errors"] = Value::Array(errors);
    }
    if !dry_run && deleted > 0 {
        let kept = current
            .iter()
            .filter(|r| !gone.contains(&r.id))
            .cloned()
            .collect();
        state.set_rules(prefix, kept, 0, deleted);
    }
    (200, answer.to_string().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn post(state: &mut V2State, body: &str, dry_run: bool) -> Value {
        let mut params = BTreeMap::new();
        if dry_run {
            params.insert("dry_run".to_string(), "true".to_string());
        }
        let (status, body) = handle(state, "", "POST", &params, Some(body), 1);
        assert_eq!(status, 200);
        serde_json::from_slice(&body).unwrap()
    }

    fn get(state: &mut V2State) -> Value {
        let (status, body) = handle(state, "", "GET", &BTreeMap::new(), None, 1);
        assert_eq!(status, 200);
        serde_json::from_slice(&body).unwrap()
    }

    #[test]
    fn add_list_duplicate_and_delete() {
        let mut state = V2State::default();
        let empty = get(&mut state);
        assert!(empty.get("data").is_none());
        assert_eq!(empty["meta"]["result_count"], 0);
        let dry = post(
            &mut state,
            r#"{"add":[{"value":"cat","tag":"cats"}]}"#,
            true,
        );
        assert_eq!(dry["meta"]["summary"]["created"], 1);
        assert_eq!(
            get(&mut state)["meta"]["result_count"],
            0,
            "a dry run changes nothing"
        );
        let added = post(
            &mut state,
            r#"{"add":[{"value":"cat","tag":"cats"},{"value":"dog"}]}"#,
            false,
        );
        assert_eq!(added["meta"]["summary"]["created"], 2);
        let cat_id = added["data"][0]["id"].as_str().unwrap().to_string();
        assert_eq!(cat_id.len(), 19, "{cat_id}");
        let listed = get(&mut state);
        assert_eq!(
            listed["data"][0],
            json!({"id": cat_id, "value": "cat", "tag": "cats"})
        );
        let dup = post(
            &mut state,
            r#"{"add":[{"value":"cat"},{"value":"bird"}]}"#,
            false,
        );
        assert_eq!(
            dup["errors"][0]["type"],
            "https://api.twitter.com/2/problems/duplicate-rules"
        );
        assert_eq!(dup["errors"][0]["id"], cat_id.as_str());
        assert_eq!(
            dup["meta"]["summary"],
            json!({"created":1,"not_created":1,"valid":1,"invalid":1})
        );
        let bad = post(
            &mut state,
            r#"{"add":[{"value":"rain"},{"value":"foo:bar"}]}"#,
            false,
        );
        assert_eq!(
            bad["errors"][0]["type"],
            "https://api.twitter.com/2/problems/invalid-rules"
        );
        assert_eq!(bad["errors"][0]["value"], "foo:bar");
        assert!(
            bad["errors"][0]["details"][0]
                .as_str()
                .unwrap()
                .contains("foo:bar")
        );
        assert_eq!(
            bad["meta"]["summary"]["created"], 0,
            "an invalid rule creates none"
        );
        assert_eq!(get(&mut state)["meta"]["result_count"], 3);
        let del = post(
            &mut state,
            &format!(r#"{{"delete":{{"ids":["{cat_id}","1"]}}}}"#),
            false,
        );
        assert_eq!(del["meta"]["summary"], json!({"deleted":1,"not_deleted":1}));
        assert_eq!(get(&mut state)["meta"]["result_count"], 2);
    }

    #[test]
    fn the_rule_cap_refuses_the_whole_add() {
        let mut state = V2State::default();
        let add = |from: usize, n: usize| {
            let rules: Vec<Value> = (from..from + n)
                .map(|i| json!({"value": format!("w{i}")}))
                .collect();
            json!({"add": rules}).to_string()
        };
        let full = post(&mut state, &add(0, MAX_RULES), false);
        assert_eq!(full["meta"]["summary"]["created"], MAX_RULES);
        let over = post(&mut state, &add(MAX_RULES, 1), false);
        assert_eq!(over["meta"]["summary"]["created"], 0);
        assert_eq!(
            over["errors"][0]["type"],
            "https://api.twitter.com/2/problems/rule-cap"
        );
        assert_eq!(get(&mut state)["meta"]["result_count"], MAX_RULES);
    }

    #[test]
    fn malformed_requests_are_400() {
        let mut state = V2State::default();
        for body in [
            "nope",
            "{}",
            r#"{"add":[]}"#,
            r#"{"add":[{"tag":"x"}]}"#,
            r#"{"delete":{}}"#,
        ] {
            let (status, text) = handle(&mut state, "", "POST", &BTreeMap::new(), Some(body), 1);
            assert_eq!(status, 400, "{body}");
            let v: Value = serde_json::from_slice(&text).unwrap();
            assert_eq!(
                v["type"],
                "https://api.twitter.com/2/problems/invalid-request"
            );
        }
    }
}
