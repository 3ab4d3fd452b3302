//! The filtered streams' rules, applied at start and on SIGHUP.
//!
//! A rule the server refuses is a configuration error: at start the daemon exits 2 naming
//! `stream[i].rules[j]` and the server's reason, on SIGHUP the previous configuration stays.
//! An unreachable rules endpoint is not: the stream starts anyway (the server keeps the rules
//! it had) and the sync is retried in the background until it is done.

use super::Daemon;
use crate::config::{ConfigError, RulesSetting, StreamSettings};
use crate::source::v2::V2Stream;
use crate::source::v2::rules::{RulesError, RulesOutcome, ServerRule};
use std::time::Duration;
use streamvault_store::{Store, StreamRule};

/// How long a sync may hold up a start or a reload before it goes on in the background.
const SYNC_WITHIN: Duration = Duration::from_secs(20);
/// Waits between background retries: from 5 s, doubling, at most 5 minutes.
const RETRY_FIRST: Duration = Duration::from_secs(5);
const RETRY_MAX: Duration = Duration::from_secs(300);

/// How a sync attempt went, for the caller.
pub(super) enum Synced {
    Done,
    /// Not reachable now: the stream starts, the sync goes on in the background.
    Later(String),
}

impl<S: Store> Daemon<S> {
    /// Syncs the rules of every filtered stream in `streams` (the `index`-th of the
    /// configuration each; an unmanaged one's rules are only read, for the history); a refused
    /// rule is returned as the configuration error it is.
    pub(super) async fn sync_rules(
        &mut self,
        streams: &[(usize, StreamSettings)],
    ) -> Result<(), ConfigError> {
        for (index, settings) in streams {
            if settings.rules.is_none() {
                continue;
            }
            match sync_once(&self.store, *index, settings).await? {
                Synced::Done => {}
                Synced::Later(why) => {
                    tracing::warn!(stream = %settings.name, error = %why, "the stream's rules cannot be synced now: it starts with the rules the server holds, and the sync is retried in the background");
                    let (store, index, settings) = (self.store.clone(), *index, settings.clone());
                    self.background
                        .spawn(retry_until_synced(store, index, settings));
                }
            }
        }
        Ok(())
    }
}

/// One sync of `settings`' rules, bounded by [`SYNC_WITHIN`], its outcome recorded.
async fn sync_once<S: Store>(
    store: &S,
    index: usize,
    settings: &StreamSettings,
) -> Result<Synced, ConfigError> {
    let wanted = match &settings.rules {
        Some(RulesSetting::Managed(wanted)) => Some(wanted.as_slice()),
        Some(RulesSetting::Unmanaged(_)) => None,
        None => return Ok(Synced::Done),
    };
    let endpoint = V2Stream::new(index, settings, None, 1 << 20, 1 << 20)
        .map_err(|e| ConfigError::Invalid {
            key: format!("stream[{index}]"),
            reason: e.to_string(),
        })?
        .rules_endpoint();
    let work = async {
        match wanted {
            Some(wanted) => endpoint.sync(wanted).await,
            // Unmanaged: the server's rules are only read, for the history.
            None => endpoint.list().await.map(|kept| RulesOutcome {
                kept,
                ..RulesOutcome::default()
            }),
        }
    };
    let outcome = match tokio::time::timeout(SYNC_WITHIN, work).await {
        Err(_) => {
            return Ok(Synced::Later(format!(
                "no answer within {} s",
                SYNC_WITHIN.as_secs()
            )));
        }
        Ok(Err(RulesError::Refused {
            index: j,
            value,
            reason,
        })) => {
            return Err(ConfigError::Invalid {
                key: format!("stream[{index}].rules[{j}]"),
                reason: format!("the server refuses {value:?}: {reason}"),
            });
        }
        Ok(Err(RulesError::Unavailable(why))) => return Ok(Synced::Later(why)),
        Ok(Ok(outcome)) => outcome,
    };
    log_outcome(&settings.name, &outcome);
    if let Err(e) = record(store, &settings.name, &outcome).await {
        // The server holds the rules; only their history misses this change.
        tracing::error!(stream = %settings.name, error = %e, "the rules were synced but their history could not be recorded");
    }
    Ok(Synced::Done)
}

/// Retries a sync that could not reach the server until it is done, or refused (logged: the
/// stream goes on with the server's rules until the configuration is fixed and reloaded).
async fn retry_until_synced<S: Store>(store: S, index: usize, settings: StreamSettings) {
    let mut wait = RETRY_FIRST;
    loop {
        tokio::time::sleep(wait).await;
        match sync_once(&store, index, &settings).await {
            Ok(Synced::Done) => {
                tracing::info!(stream = %settings.name, "the stream's rules are synced");
                return;
            }
            Ok(Synced::Later(why)) => {
                tracing::warn!(stream = %settings.name, error = %why, retry_in_secs = wait.as_secs(), "the stream's rules still cannot be synced");
            }
            Err(e) => {
                tracing::error!(stream = %settings.name, error = %e, "the server refuses a configured rule: the stream runs with the rules the server holds until the configuration is fixed and reloaded");
                return;
            }
        }
        wait = (wait * 2).min(RETRY_MAX);
    }
}

/// Brings the stream's rule history in line with what the server holds after a sync: every
/// rule kept or added is current (recorded once, from when it was first seen), every other
/// rule recorded as current is removed now.
async fn record<S: Store>(
    store: &S,
    stream: &str,
    outcome: &RulesOutcome,
) -> Result<(), streamvault_store::StoreError> {
    let now = chrono::Utc::now();
    let held: Vec<&ServerRule> = outcome.kept.iter().chain(&outcome.added).collect();
    for rule in &held {
        let Ok(rule_id) = rule.id.parse::<i64>() else {
            tracing::warn!(stream, rule_id = %rule.id, "a rule id the server gave is not a number: not recorded");
            continue;
        };
        let row = StreamRule {
            rule_id,
            value: rule.value.clone(),
            tag: rule.tag.clone(),
            added_at: now,
        };
        store.record_rule_added(stream, &row).await?;
    }
    for recorded in store.current_rules(stream).await? {
        let still = held.iter().any(|r| r.id == recorded.rule_id.to_string());
        if !still {
            store
                .record_rule_removed(stream, recorded.rule_id, now)
                .await?;
        }
    }
    Ok(())
}

fn log_outcome(stream: &str, outcome: &RulesOutcome) {
    if outcome.added.is_empty() && outcome.removed.is_empty() {
        tracing::info!(
            stream,
            rules = outcome.kept.len(),
            "the server already holds the configured rules"
        );
    } else {
        tracing::info!(
            stream,
            kept = outcome.kept.len(),
            added = outcome.added.len(),
            removed = outcome.removed.len(),
            "rules synced"
        );
    }
}
