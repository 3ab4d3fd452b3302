//! The filtered stream's rules, kept as configuration: read what the server holds, validate the
//! difference with `dry_run`, then delete what the configuration no longer has and add what is
//! new. A rule whose value and tag are unchanged is never touched, so a restart churns nothing
//! (X counts rule changes against a rate limit, and a re-added rule gets a new id).

use super::super::{ANSWER_BYTES, describe, guard, read_capped};
use crate::config::RuleSetting;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;
use streamvault_core::protocol::v2::type_suffix;

/// A rule as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ServerRule {
    pub id: String,
    pub value: String,
    #[serde(default)]
    pub tag: Option<String>,
}

/// What a sync must do: `keep` is untouched, `delete` goes, `add` (with each rule's index in
/// the configuration, to name `rules[j]` in errors) comes.
#[derive(Debug, Default, PartialEq)]
pub struct RulesPlan {
    pub keep: Vec<ServerRule>,
    pub delete: Vec<ServerRule>,
    pub add: Vec<(usize, RuleSetting)>,
}

impl RulesPlan {
    /// Nothing to change on the server.
    pub fn is_empty(&self) -> bool {
        self.delete.is_empty() && self.add.is_empty()
    }
}

/// What a sync did, for the `stream_rules` history.
#[derive(Debug, Default, PartialEq)]
pub struct RulesOutcome {
    pub kept: Vec<ServerRule>,
    pub removed: Vec<ServerRule>,
    pub added: Vec<ServerRule>,
}

/// Why a sync did not complete.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The server refused rule `index` of the configuration, for `reason`: the configuration
    /// is wrong (exit 2 at start, the old configuration kept on SIGHUP).
    #[error("the server refuses rules[{index}] ({value:?}): {reason}")]
    Refused {
        index: usize,
        value: String,
        reason: String,
    },
    /// The rules endpoint could not be used (network, HTTP error, unreadable answer): the
    /// stream retries the sync before its next connection.
    #[error("the rules endpoint failed: {0}")]
    Unavailable(String),
}

/// Longest a rules request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Pages of rules read at most (1,000 rules a page: more than any access level allows).
const MAX_PAGES: usize = 100;
/// A rules answer is read up to this many bytes (1,000 rules of 2,048 characters fit).
const RULES_ANSWER_BYTES: usize = 8 << 20;

/// Compares the configuration with the server's rules: a server rule with the value and tag of
/// a configured one is kept (the first, if the server holds copies), every other server rule is
/// deleted, and every configured rule not kept is added.
pub fn plan(wanted: &[RuleSetting], server: &[ServerRule]) -> RulesPlan {
    let mut plan = RulesPlan::default();
    let mut matched = vec![false; wanted.len()];
    for rule in server {
        let same = wanted.iter().enumerate().position(|(j, w)| {
            !matched[j] && w.value == rule.value && normal(&w.tag) == normal(&rule.tag)
        });
        match same {
            Some(j) => {
                matched[j] = true;
                plan.keep.push(rule.clone());
            }
            None => plan.delete.push(rule.clone()),
        }
    }
    for (j, rule) in wanted.iter().enumerate() {
        if !matched[j] {
            plan.add.push((j, rule.clone()));
        }
    }
    plan
}

/// An absent tag and an empty one are the same tag.
fn normal(tag: &Option<String>) -> Option<&str> {
    tag.as_deref().filter(|t| !t.is_empty())
}

/// The rules endpoint of one stream, with the stream's client and credentials.
pub struct RulesEndpoint {
    pub client: reqwest::Client,
    pub headers: HeaderMap,
    pub url: String,
}

impl RulesEndpoint {
    /// Makes the server hold exactly `wanted`: a dry run of the whole change first, so that an
    /// invalid rule changes nothing; then the deletes, then the adds.
    pub async fn sync(&self, wanted: &[RuleSetting]) -> Result<RulesOutcome, RulesError> {
        let server = self.list().await?;
        let plan = plan(wanted, &server);
        if plan.is_empty() {
            return Ok(RulesOutcome {
                kept: plan.keep,
                ..RulesOutcome::default()
            });
        }
        self.change(&plan, true).await?;
        let (removed, added) = self.change(&plan, false).await?;
        Ok(RulesOutcome {
            kept: plan.keep,
            removed,
            added,
        })
    }

    /// Every rule the server holds, page by page.
    pub async fn list(&self) -> Result<Vec<ServerRule>, RulesError> {
        #[derive(Deserialize)]
        struct Meta {
            next_token: Option<String>,
        }
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            data: Vec<ServerRule>,
            meta: Option<Meta>,
        }
        let mut rules = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut request = self.client.get(&self.url).headers(self.headers.clone());
            if let Some(t) = &token {
                request = request.query(&[("pagination_token", t)]);
            }
            let body = self.answer(request).await?;
            let page: Page = serde_json::from_slice(&body)
                .map_err(|e| RulesError::Unavailable(format!("unreadable list of rules: {e}")))?;
            rules.extend(page.data);
            token = page.meta.and_then(|m| m.next_token);
            if token.is_none() {
                return Ok(rules);
            }
        }
        Err(RulesError::Unavailable(format!(
            "more than {MAX_PAGES} pages of rules"
        )))
    }

    /// Sends the plan's deletes, then its adds (`dry_run`: validated, nothing changed);
    /// returns the rules removed and added.
    async fn change(
        &self,
        plan: &RulesPlan,
        dry_run: bool,
    ) -> Result<(Vec<ServerRule>, Vec<ServerRule>), RulesError> {
        let mut removed = Vec::new();
        if !plan.delete.is_empty() {
            let ids: Vec<&str> = plan.delete.iter().map(|r| r.id.as_str()).collect();
            let answer = self
                .post(json!({ "delete": { "ids": ids } }), dry_run)
                .await?;
            if let Some(p) = answer.errors.first() {
                return Err(RulesError::Unavailable(format!(
                    "deleting rules was refused: {}",
                    reason(p)
                )));
            }
            removed = plan.delete.clone();
        }
        let mut added = Vec::new();
        if !plan.add.is_empty() {
            let add: Vec<_> = plan
                .add
                .iter()
                .map(|(_, r)| match &r.tag {
                    Some(tag) => json!({ "value": r.value, "tag": tag }),
                    None => json!({ "value": r.value }),
                })
                .collect();
            let answer = self.post(json!({ "add": add }), dry_run).await?;
            // In a dry run the rules being replaced (same value, new tag) are still there.
            let replaced = |value: &str| dry_run && plan.delete.iter().any(|d| d.value == value);
            for problem in &answer.errors {
                let value = problem.value.as_deref().unwrap_or("");
                if problem.type_name() == "duplicate-rules" && replaced(value) {
                    continue;
                }
                let index = plan.add.iter().find(|(_, r)| r.value == value);
                return Err(match index {
                    Some((index, rule)) => RulesError::Refused {
                        index: *index,
                        value: rule.value.clone(),
                        reason: reason(problem),
                    },
                    None => RulesError::Unavailable(format!(
                        "adding rules was refused: {}",
                        reason(problem)
                    )),
                });
            }
            added = answer.data;
        }
        Ok((removed, added))
    }

    async fn post(
        &self,
        body: serde_json::Value,
        dry_run: bool,
    ) -> Result<RulesAnswer, RulesError> {
        let mut request = self
            .client
            .post(&self.url)
            .headers(self.headers.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        if dry_run {
            request = request.query(&[("dry_run", "true")]);
        }
        let body = self.answer(request).await?;
        serde_json::from_slice(&body)
            .map_err(|e| RulesError::Unavailable(format!("unreadable rules answer: {e}")))
    }

    /// The body of a successful answer; any other answer is an error with its body, scrubbed.
    async fn answer(&self, request: reqwest::RequestBuilder) -> Result<Vec<u8>, RulesError> {
        let secrets = guard::known_secrets(&self.headers);
        let response = tokio::time::timeout(REQUEST_TIMEOUT, request.send())
            .await
            .map_err(|_| {
                RulesError::Unavailable(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()))
            })?
            .map_err(|e| RulesError::Unavailable(describe(e)))?;
        let status = response.status();
        if status.is_success() {
            let (body, cut) = read_capped(response, RULES_ANSWER_BYTES, REQUEST_TIMEOUT).await;
            if cut {
                return Err(RulesError::Unavailable(format!(
                    "an answer longer than {RULES_ANSWER_BYTES} bytes"
                )));
            }
            return Ok(body);
        }
        let (body, _) = read_capped(response, ANSWER_BYTES, REQUEST_TIMEOUT).await;
        let text = super::super::loggable(&body, &secrets);
        Err(RulesError::Unavailable(format!("HTTP {status}{text}")))
    }
}

/// The answer to a rules change.
#[derive(Debug, Default, Deserialize)]
struct RulesAnswer {
    #[serde(default)]
    data: Vec<ServerRule>,
    #[serde(default)]
    errors: Vec<RuleProblem>,
}

/// A problem about one rule (`invalid-rules`, `duplicate-rules`, ...): the value it concerns
/// and the server's reasons.
#[derive(Debug, Deserialize)]
struct RuleProblem {
    value: Option<String>,
    #[serde(default)]
    details: Vec<String>,
    #[serde(rename = "type", default)]
    type_uri: String,
    title: Option<String>,
    detail: Option<String>,
}

impl RuleProblem {
    fn type_name(&self) -> &str {
        type_suffix(&self.type_uri)
    }
}

/// The server's reason, as one line.
fn reason(p: &RuleProblem) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if let Some(title) = p.title.as_deref() {
        parts.push(title);
    }
    parts.extend(p.details.iter().map(String::as_str));
    if let Some(detail) = p.detail.as_deref() {
        parts.push(detail);
    }
    if parts.is_empty() {
        parts.push(p.type_name());
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(value: &str, tag: Option<&str>) -> RuleSetting {
        RuleSetting {
            value: value.into(),
            tag: tag.map(Into::into),
        }
    }

    fn server(id: &str, value: &str, tag: Option<&str>) -> ServerRule {
        ServerRule {
            id: id.into(),
            value: value.into(),
            tag: tag.map(Into::into),
        }
    }

    #[test]
    fn unchanged_rules_are_kept_and_the_rest_replaced() {
        let wanted = [
            rule("cat", Some("cats")),
            rule("dog", None),
            rule("bird", Some("new tag")),
        ];
        let held = [
            server("1", "cat", Some("cats")),
            server("2", "dog", Some("")),
            server("3", "bird", Some("old tag")),
            server("4", "fish", None),
            server("5", "cat", Some("cats")),
        ];
        let plan = plan(&wanted, &held);
        let ids = |rules: &[ServerRule]| rules.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&plan.keep), ["1", "2"]);
        assert_eq!(ids(&plan.delete), ["3", "4", "5"]);
        assert_eq!(plan.add, vec![(2, rule("bird", Some("new tag")))]);
        let same = super::plan(&wanted[..2], &held[..2]);
        assert!(same.is_empty());
        assert_eq!(super::plan(&[], &held).delete.len(), 5);
    }

    #[test]
    fn rule_problems_give_their_reason() {
        let answer: RulesAnswer = serde_json::from_str(
            r#"{"errors":[{"value":"(cat","details":["Unbalanced parentheses"],"title":"Invalid Rule","type":"https://api.twitter.com/2/problems/invalid-rules"}],"meta":{"sent":"x","summary":{"created":0,"not_created":1,"valid":0,"invalid":1}}}"#,
        )
        .unwrap();
        assert_eq!(answer.errors[0].value.as_deref(), Some("(cat"));
        assert_eq!(
            reason(&answer.errors[0]),
            "Invalid Rule: Unbalanced parentheses"
        );
        assert_eq!(answer.errors[0].type_name(), "invalid-rules");
    }
}
