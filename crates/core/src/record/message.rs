//! Building a [`MessageRecord`] from a parsed message: its rows, its detail and the profiles
//! of the users it carries, embedded statuses replaced by stubs.

use super::stubs::stub_spans;
use super::{Detail, DmRow, MessageRecord, Origin, TweetRow, UserRow, parse_twitter_time};
use crate::protocol::{self, Kind, Message, Tweet};

/// Decides from a profile's id, fingerprint and withheld countries whether to keep it.
pub(super) type KeepUser<'k> = &'k mut dyn FnMut(i64, u64, &[String]) -> bool;

/// The record of one parsed message; an envelope's `for_user` is passed down to its content.
#[inline]
pub(super) fn from_message(
    message: Message<'_>,
    line: &str,
    origin: &Origin,
    for_user: Option<i64>,
    keep: KeepUser<'_>,
) -> MessageRecord {
    let kind = match message {
        // Only read at the top level: inside an envelope, a page is content kept whole.
        Message::Page(_) | Message::Flattened(_) => Kind::Unknown,
        _ => message.kind().unwrap_or(Kind::Unknown),
    };
    let mut record = MessageRecord {
        origin: origin.clone(),
        kind,
        for_user,
        tweet_id: None,
        // What was received, envelope included; statuses and events replace it below.
        raw: (kind != Kind::Tweet).then(|| line.to_owned()),
        tweets: Vec::new(),
        users: Vec::new(),
        detail: Detail::None,
        matches: Vec::new(),
    };
    let mut users = UserSink {
        rows: Vec::new(),
        keep,
    };
    match message {
        Message::Tweet(tweet) => {
            record.tweet_id = Some(tweet.id);
            add_tweet(&tweet, false, &mut record.tweets, &mut users);
        }
        Message::ForUser { for_user, message } => {
            return from_message(*message, line, origin, Some(for_user), users.keep);
        }
        Message::Event(event) => add_event(&event, line, &mut record, &mut users),
        Message::Post(post) => super::v2::add_post_line(&post, &mut record, &mut users),
        other => add_detail(other, &mut record),
    }
    record.users = users.rows;
    record
}

/// A user-stream event: the status it is about becomes a tweet row (a stub in the event's
/// `raw`), the users it carries refresh their profiles.
#[inline]
fn add_event(
    event: &protocol::UserEvent<'_>,
    line: &str,
    record: &mut MessageRecord,
    users: &mut UserSink<'_>,
) {
    if let Some(status) = &event.target_status {
        record.tweet_id = Some(status.id);
        add_tweet(status, true, &mut record.tweets, users);
        record.raw = Some(stub_spans(line, &[(status.raw, status.id)]));
    }
    for user in &event.users {
        if let Ok(Some(user)) = protocol::parse_user(user.get()) {
            users.push(&user);
        }
    }
    record.detail = Detail::UserEvent {
        event: event.event.to_string(),
        created_at: event.created_at.as_deref().and_then(parse_twitter_time),
        source_user_id: event.source_user_id,
        target_user_id: event.target_user_id,
        target_object_id: event.target_object_id,
    };
}

/// The detail of a notice or a stream message; statuses, events and envelopes are the
/// caller's, and the rest carry nothing to keep beyond `events.raw`.
#[inline]
fn add_detail(message: Message<'_>, record: &mut MessageRecord) {
    match message {
        Message::Delete(d) => {
            record.tweet_id = Some(d.tweet_id);
            record.detail = Detail::Delete(d);
        }
        Message::DmDelete(d) => record.detail = Detail::DmDelete(d),
        Message::DirectMessage(dm) => {
            // The content lives in `direct_messages` only, where a delete can erase it.
            record.raw = None;
            record.detail = Detail::DirectMessage(DmRow::new(&dm));
        }
        Message::ScrubGeo(s) => record.detail = Detail::ScrubGeo(s),
        Message::StatusWithheld(w) => {
            record.tweet_id = Some(w.tweet_id);
            record.detail = Detail::StatusWithheld(w);
        }
        Message::UserWithheld(w) => record.detail = Detail::UserWithheld(w),
        Message::Limit(l) => record.detail = Detail::Limit { track: l.track },
        Message::Problems(problems) => record.detail = super::v2::problems_detail(problems),
        Message::Compliance(event) => {
            record.tweet_id = event.tweet_id();
            record.detail = super::v2::compliance_detail(event);
        }
        Message::Disconnect(d) => {
            record.detail = Detail::Disconnect {
                code: Some(d.code),
                code_name: None,
                stream_name: d.stream_name.map(Into::into),
                reason: d.reason.map(Into::into),
            }
        }
        Message::Warning(w) => {
            record.detail = Detail::Warning {
                code: w.code.map(Into::into),
                message: w.message.map(Into::into),
                percent_full: w.percent_full,
                user_id: w.user_id,
            }
        }
        Message::KeepAlive | Message::Friends(_) | Message::Control(_) | Message::Unknown(_) => {}
        // Read by the record layer at the top level (`import`); nested in an envelope they are
        // kept whole, as unknown content is.
        Message::Page(_) | Message::Flattened(_) => {}
        Message::Tweet(_) | Message::Event(_) | Message::ForUser { .. } | Message::Post(_) => {}
    }
}

/// Adds a status and its embedded statuses (embedded first), with their authors.
fn add_tweet(
    tweet: &Tweet<'_>,
    embedded: bool,
    tweets: &mut Vec<TweetRow>,
    users: &mut UserSink<'_>,
) {
    let mut stubs = Vec::with_capacity(2);
    for inner in [&tweet.retweeted_status, &tweet.quoted_status]
        .into_iter()
        .flatten()
    {
        add_tweet(&inner.tweet, true, tweets, users);
        stubs.push((inner.tweet.raw, inner.tweet.id));
    }
    if let Some(user) = &tweet.user {
        users.push(user);
    }
    tweets.push(TweetRow {
        tweet_id: tweet.id,
        user_id: tweet.user_id,
        created_at: tweet.created_at.as_deref().and_then(parse_twitter_time),
        text: tweet.text.as_deref().map(Into::into),
        lang: tweet.lang.as_deref().map(Into::into),
        in_reply_to_status_id: tweet.in_reply_to_status_id,
        retweeted_status_id: tweet.retweeted_status_id(),
        quoted_status_id: tweet.quoted_id(),
        longitude: tweet.point.map(|p| p.0),
        latitude: tweet.point.map(|p| p.1),
        place: tweet.place.map(|p| p.get().to_owned()),
        withheld_in_countries: tweet.withheld_in_countries.clone(),
        geo_scrubbed: false,
        located: tweet.located,
        raw: stub_spans(tweet.raw, &stubs),
        embedded,
        api: super::Api::V1_1,
        edit_initial_id: None,
    });
}

/// A message's author profiles: only those the caller keeps are copied out of the line.
pub(super) struct UserSink<'k> {
    rows: Vec<UserRow>,
    keep: KeepUser<'k>,
}

impl<'k> UserSink<'k> {
    /// A sink keeping the profiles `keep` accepts.
    pub(super) fn new(keep: KeepUser<'k>) -> Self {
        UserSink {
            rows: Vec::new(),
            keep,
        }
    }

    /// The profiles kept.
    pub(super) fn into_rows(self) -> Vec<UserRow> {
        self.rows
    }

    pub(super) fn push(&mut self, user: &protocol::TweetUser<'_>) {
        let countries = &user.withheld_in_countries;
        if (self.keep)(user.id, user.profile_hash, countries) {
            self.rows.push(UserRow {
                user_id: user.id,
                screen_name: user.screen_name.as_deref().map(Into::into),
                withheld_in_countries: countries.clone(),
                profile_hash: user.profile_hash,
                raw: user.raw.to_owned(),
            });
        }
    }
}
