//! The compliance streams' scenario options: the events' rate, their mix, and how often a
//! state is toggled back on, read from a scenario's `[compliance]` table.

use serde_json::Value;

/// Every kind of compliance event the simulator sends, as the stats and the mix name them.
/// `delete_quote` and `withheld_quote` are the `delete` and `withheld` events that carry a
/// `quote_tweet_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventKind {
    Delete,
    DeleteQuote,
    Withheld,
    WithheldQuote,
    Drop,
    Undrop,
    TweetEdit,
    UserDelete,
    UserUndelete,
    UserProtect,
    UserUnprotect,
    UserSuspend,
    UserUnsuspend,
    UserWithheld,
    ScrubGeo,
    UserProfileModification,
}

/// Every kind, in the order of [`EventKind`] (and of [`ComplianceSettings::mix`]).
pub const EVENT_KINDS: [EventKind; 16] = [
    EventKind::Delete,
    EventKind::DeleteQuote,
    EventKind::Withheld,
    EventKind::WithheldQuote,
    EventKind::Drop,
    EventKind::Undrop,
    EventKind::TweetEdit,
    EventKind::UserDelete,
    EventKind::UserUndelete,
    EventKind::UserProtect,
    EventKind::UserUnprotect,
    EventKind::UserSuspend,
    EventKind::UserUnsuspend,
    EventKind::UserWithheld,
    EventKind::ScrubGeo,
    EventKind::UserProfileModification,
];

/// The default weights, in the order of [`EVENT_KINDS`]: deletes and profile changes are the
/// common events, every other kind is regular enough to show up in a few hundred events.
const DEFAULT_MIX: [u32; 16] = [30, 4, 4, 2, 8, 5, 6, 4, 3, 5, 4, 5, 4, 3, 4, 12];

impl EventKind {
    /// The stats' and the mix's name: the wire key, or `delete_quote` / `withheld_quote`.
    pub fn label(self) -> &'static str {
        match self {
            EventKind::Delete => "delete",
            EventKind::DeleteQuote => "delete_quote",
            EventKind::Withheld => "withheld",
            EventKind::WithheldQuote => "withheld_quote",
            EventKind::Drop => "drop",
            EventKind::Undrop => "undrop",
            EventKind::TweetEdit => "tweet_edit",
            EventKind::UserDelete => "user_delete",
            EventKind::UserUndelete => "user_undelete",
            EventKind::UserProtect => "user_protect",
            EventKind::UserUnprotect => "user_unprotect",
            EventKind::UserSuspend => "user_suspend",
            EventKind::UserUnsuspend => "user_unsuspend",
            EventKind::UserWithheld => "user_withheld",
            EventKind::ScrubGeo => "scrub_geo",
            EventKind::UserProfileModification => "user_profile_modification",
        }
    }

    /// The key of the event's object on the wire.
    pub fn wire_key(self) -> &'static str {
        match self {
            EventKind::DeleteQuote => "delete",
            EventKind::WithheldQuote => "withheld",
            other => other.label(),
        }
    }

    /// Whether the event goes on the Post (tweets) compliance stream, else the users one.
    pub fn is_tweet(self) -> bool {
        (self as usize) <= EventKind::TweetEdit as usize
    }
}

/// How the compliance streams of a scenario behave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ComplianceSettings {
    /// Events per second per partition connection, overriding the scenario's `rate`;
    /// `Some(0.0)`: unpaced.
    pub rate: Option<f64>,
    /// The weight of each kind, in the order of [`EVENT_KINDS`]; each stream draws among its
    /// own kinds (Post events on the tweets stream, user events on the users one).
    pub mix: [u32; 16],
    /// The chance (percent) that an event that puts a state on (drop, user_delete,
    /// user_protect, user_suspend) picks a target whose state was on before and was undone,
    /// so that states toggle several times.
    pub revisit_percent: u32,
    /// A `send = N` step on a compliance partition sends N × this / 100 events (at least 1),
    /// so that one script serves Posts and events in proportion.
    pub send_percent: u32,
}

impl Default for ComplianceSettings {
    /// The scenario's rate, the default mix, half of the "on" events revisiting.
    fn default() -> Self {
        ComplianceSettings {
            rate: None,
            mix: DEFAULT_MIX,
            revisit_percent: 50,
            send_percent: 100,
        }
    }
}

/// Reads the `[compliance]` table: `rate`, `revisit_percent`, `send_percent` and `mix` (a
/// table of weights by kind; kinds it leaves out weigh 0).
pub(crate) fn parse(value: &Value) -> Result<ComplianceSettings, String> {
    let Some(table) = value.as_object() else {
        return Err(format!("`compliance` is a table, got {value}"));
    };
    let mut settings = ComplianceSettings::default();
    for (key, value) in table {
        match key.as_str() {
            "rate" => match value.as_f64() {
                Some(rate) if rate.is_finite() && rate >= 0.0 => settings.rate = Some(rate),
                _ => {
                    return Err(format!(
                        "`compliance.rate` must be a number >= 0, got {value}"
                    ));
                }
            },
            "revisit_percent" => match value.as_u64() {
                Some(p) if p <= 100 => settings.revisit_percent = p as u32,
                _ => {
                    return Err(format!(
                        "`compliance.revisit_percent` takes 0..=100, got {value}"
                    ));
                }
            },
            "send_percent" => match value.as_u64() {
                Some(p) if (1..=10_000).contains(&p) => settings.send_percent = p as u32,
                _ => {
                    return Err(format!(
                        "`compliance.send_percent` takes 1..=10000, got {value}"
                    ));
                }
            },
            "mix" => settings.mix = mix(value)?,
            other => {
                return Err(format!(
                    "unknown key `compliance.{other}` (keys: rate, revisit_percent, send_percent, mix)"
                ));
            }
        }
    }
    Ok(settings)
}

fn mix(value: &Value) -> Result<[u32; 16], String> {
    let Some(table) = value.as_object() else {
        return Err(format!(
            "`compliance.mix` is a table of weights, got {value}"
        ));
    };
    let mut weights = [0; 16];
    for (key, weight) in table {
        let Some(i) = EVENT_KINDS.iter().position(|k| k.label() == key) else {
            let known: Vec<_> = EVENT_KINDS.iter().map(|k| k.label()).collect();
            return Err(format!(
                "unknown event kind `compliance.mix.{key}` (kinds: {})",
                known.join(", ")
            ));
        };
        weights[i] = weight
            .as_u64()
            .and_then(|w| u32::try_from(w).ok())
            .filter(|w| *w <= 1_000_000)
            .ok_or_else(|| {
                format!("`compliance.mix.{key}` takes a weight in 0..=1000000, got {weight}")
            })?;
    }
    if weights.iter().all(|w| *w == 0) {
        return Err("`compliance.mix` gives no event kind a weight".into());
    }
    Ok(weights)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_split_between_the_two_streams() {
        let tweets: Vec<_> = EVENT_KINDS.iter().filter(|k| k.is_tweet()).collect();
        assert_eq!(tweets.len(), 7);
        assert_eq!(EventKind::DeleteQuote.wire_key(), "delete");
        assert!(
            !EventKind::ScrubGeo.is_tweet(),
            "scrub_geo is a user event in v2"
        );
    }

    #[test]
    fn the_table_is_checked_key_by_key() {
        let ok = parse(&json!({
            "rate": 5.5,
            "revisit_percent": 80,
            "mix": {"drop": 3, "user_suspend": 2},
        }))
        .expect("parses");
        assert_eq!(ok.rate, Some(5.5));
        assert_eq!(ok.revisit_percent, 80);
        assert_eq!(ok.mix.iter().sum::<u32>(), 5);
        assert_eq!(ok.mix[EventKind::Drop as usize], 3);
        for (bad, expected) in [
            (json!({"rate": -1}), "compliance.rate"),
            (json!({"revisit_percent": 101}), "revisit_percent"),
            (json!({"send_percent": 0}), "send_percent"),
            (json!({"mix": {"explode": 1}}), "compliance.mix.explode"),
            (json!({"mix": {"drop": 0}}), "no event kind"),
            (json!({"mix": {"drop": -2}}), "compliance.mix.drop"),
            (json!({"colour": 1}), "compliance.colour"),
            (json!(3), "is a table"),
        ] {
            let err = parse(&bad).unwrap_err();
            assert!(err.contains(expected), "{bad}: {err}");
        }
    }
}
