//! SIGHUP: the configuration re-read and applied to the running streams.

use super::{Daemon, Settings};
use crate::config::{StreamFamily, StreamSettings};
use crate::shutdown::Control;
use streamvault_store::Store;

impl<S: Store> Daemon<S> {
    /// SIGHUP: re-reads the config; syncs changed rules (a rule the server refuses keeps the
    /// whole previous configuration); restarts changed streams, starts new ones, stops removed
    /// ones.
    pub(super) async fn reload(&mut self) {
        let loaded = Settings::load(
            self.config_path.as_deref(),
            self.database_override.as_deref(),
        );
        let new = match loaded {
            Ok(new) => new,
            Err(e) => {
                tracing::error!(error = %e, "reload refused: the configuration is invalid; running on the previous one");
                return;
            }
        };
        let changed_rules: Vec<(usize, StreamSettings)> = new
            .streams
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                let before = self.settings.streams.iter().find(|o| o.name == s.name);
                before.is_none_or(|o| {
                    o.rules != s.rules || o.url != s.url || o.rules_url != s.rules_url
                })
            })
            .map(|(i, s)| (i, s.clone()))
            .collect();
        if let Err(e) = self.sync_rules(&changed_rules).await {
            tracing::error!(error = %e, "reload refused: the server refuses a configured rule; running on the previous configuration");
            return;
        }
        if new.database.url != self.settings.database.url
            || new.database.batch_size != self.settings.database.batch_size
            || new.database.flush_interval_ms != self.settings.database.flush_interval_ms
        {
            tracing::warn!("database settings changed: they take effect at the next restart");
        }
        let old = std::mem::replace(&mut self.settings.streams, new.streams.clone());
        self.settings.reconnect = new.reconnect.clone();
        self.settings.ingest = new.ingest.clone();
        let mut changes = 0;
        for (name, running) in self.streams.iter_mut() {
            match new.streams.iter().find(|s| &s.name == name) {
                Some(s) if *s == running.settings => {}
                Some(s) if only_topics_differ(s, &running.settings) => {
                    // Applied to the live session by a subscription update.
                    changes += 1;
                    if let Some(topics) = &running.topics {
                        tracing::info!(stream = %name, topics = ?s.topics, "topics changed: updating the live session's subscriptions");
                        let _ = topics.send(s.topics.clone());
                    }
                    running.settings = s.clone();
                }
                Some(s) if only_rules_differ(s, &running.settings) => {
                    // Synced above; the server applies them to the open connection.
                    changes += 1;
                    tracing::info!(stream = %name, "rules changed: applied without reconnecting");
                    running.settings = s.clone();
                }
                _ => {
                    changes += 1;
                    let _ = running.control.send(Control::Reload);
                }
            }
        }
        for (index, stream) in new.streams.iter().enumerate() {
            let known = old.iter().any(|s| s.name == stream.name);
            if !known && !self.streams.contains_key(&stream.name) {
                changes += 1;
                if let Err(e) = self.start_stream(index, stream) {
                    tracing::error!(stream = %stream.name, error = %e, "new stream cannot start");
                }
            }
        }
        tracing::info!(changes, "configuration reloaded");
    }
}

/// Whether two settings of one stream differ in their topics only (a topics stream).
fn only_topics_differ(a: &StreamSettings, b: &StreamSettings) -> bool {
    a.family == StreamFamily::Topics
        && a.topics != b.topics
        && StreamSettings {
            topics: b.topics.clone(),
            ..a.clone()
        } == *b
}

/// Whether two settings of one stream differ in their rules only (a v2 filtered stream): the
/// server applies a rule change to the open connection, so the stream is not restarted.
fn only_rules_differ(a: &StreamSettings, b: &StreamSettings) -> bool {
    a.family == StreamFamily::V2
        && a.rules != b.rules
        && StreamSettings {
            rules: b.rules.clone(),
            ..a.clone()
        } == *b
}
