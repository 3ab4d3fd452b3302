//! Topics of the live-session family: which strings are valid topics, what kind of events each
//! carries, and how comma-joined topic lists are read.

/// The message of the error entry refusing a DM topic in a subscription update.
pub(crate) const DM_ONLY_AT_OPEN: &str = "DM topics can only be given when the session opens";

/// One entry of a subscriptions frame's `errors`: a refused topic and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicError {
    /// The topic as the client gave it.
    pub topic: String,
    /// Why it was refused.
    pub message: String,
}

impl TopicError {
    /// An error entry for `topic`.
    pub fn new(topic: &str, message: impl Into<String>) -> TopicError {
        TopicError {
            topic: topic.to_string(),
            message: message.into(),
        }
    }
}

/// What a valid topic carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TopicKind {
    /// `/tweet_engagement/{tweet_id}`: engagement counts of one tweet.
    TweetEngagement,
    /// `/dm_update/{conversation_id}`: a new message in a conversation.
    DmUpdate,
    /// `/dm_typing/{conversation_id}`: someone typing in a conversation.
    DmTyping,
}

impl TopicKind {
    /// The payload key (and stats kind) of this topic's events.
    pub fn payload_key(self) -> &'static str {
        match self {
            TopicKind::TweetEngagement => "tweet_engagement",
            TopicKind::DmUpdate => "dm_update",
            TopicKind::DmTyping => "dm_typing",
        }
    }

    /// DM topics can only be subscribed to when a session opens.
    pub fn is_dm(self) -> bool {
        self != TopicKind::TweetEngagement
    }
}

/// The kind of `topic` and the id after its prefix, or the message of its error entry.
pub(crate) fn parse(topic: &str) -> Result<(TopicKind, &str), String> {
    let prefixes = [
        ("/tweet_engagement/", TopicKind::TweetEngagement),
        ("/dm_update/", TopicKind::DmUpdate),
        ("/dm_typing/", TopicKind::DmTyping),
    ];
    let Some((kind, id)) = prefixes
        .iter()
        .find_map(|(prefix, kind)| topic.strip_prefix(prefix).map(|id| (*kind, id)))
    else {
        return Err(format!(
            "unknown topic `{topic}`: expected /tweet_engagement/{{tweet_id}}, \
             /dm_update/{{conversation_id}} or /dm_typing/{{conversation_id}}"
        ));
    };
    let valid = match kind {
        TopicKind::TweetEngagement => is_digits(id),
        _ => match id.split_once('-') {
            Some((a, b)) => is_digits(a) && is_digits(b),
            None => is_digits(id),
        },
    };
    if valid {
        Ok((kind, id))
    } else if kind == TopicKind::TweetEngagement {
        Err(format!("invalid tweet id `{id}`: digits expected"))
    } else {
        Err(format!(
            "invalid conversation id `{id}`: digits, or two digit groups joined by `-`, expected"
        ))
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The topics of a comma-joined list, trimmed, without empty items or repeats, in order.
pub(crate) fn split_list(list: &str) -> Vec<String> {
    let mut topics: Vec<String> = Vec::new();
    for topic in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if !topics.iter().any(|t| t == topic) {
            topics.push(topic.to_string());
        }
    }
    topics
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_validated_by_kind() {
        let kind = |t| parse(t).map(|(k, _)| k);
        assert_eq!(kind("/tweet_engagement/17"), Ok(TopicKind::TweetEngagement));
        assert_eq!(kind("/dm_update/12-34"), Ok(TopicKind::DmUpdate));
        assert_eq!(kind("/dm_typing/1234"), Ok(TopicKind::DmTyping));
        for bad in [
            "/tweet_engagement/",
            "/tweet_engagement/1-2",
            "/tweet_engagement/x",
            "/dm_update/1-",
            "/dm_typing/a-b",
            "/dm_update/1-2-3",
            "/likes/1",
            "tweet_engagement/1",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(
            parse("/nope/1")
                .unwrap_err()
                .contains("/tweet_engagement/{tweet_id}")
        );
    }

    #[test]
    fn lists_are_split_trimmed_and_deduplicated() {
        assert_eq!(split_list(" /a, /b,,/a ,"), ["/a", "/b"]);
        assert!(split_list("").is_empty());
    }
}
