//! The rows of a v2 line: a Post line's Posts, users and rule matches; an error line's detail.
//!
//! Each Post's row keeps the Post object as received, plus, under an `includes` member of its
//! own, the media and polls its `attachments` name: content that belongs to the Post goes where a
//! delete erases it. The place its `geo.place_id` names goes to the row's `place` column (and the
//! scrub of `geo` strips both). `events.raw` stays empty, as for v1.1 statuses, unless the line
//! carried partial `errors` beside its data: then it holds `{"errors": [...]}` alone.

use super::message::UserSink;
use super::{Api, Detail, MatchRow, MessageRecord, TweetRow, parse_twitter_time};
use crate::protocol::TweetUser;
use crate::protocol::v2::{Includes, Post, PostLine, Problem};
use crate::protocol::{self, v2::ComplianceEvent};
use serde_json::value::RawValue;

/// Adds a Post line's rows to `record`: included Posts first, then the Post itself.
pub(super) fn add_post_line(
    line: &PostLine<'_>,
    record: &mut MessageRecord,
    users: &mut UserSink<'_>,
) {
    let includes = &line.includes;
    let included: Vec<&Post<'_>> = includes.tweets.iter().collect();
    let authors: Vec<&TweetUser<'_>> = includes.users.iter().collect();
    add_post(&line.post, includes, &included, &authors, record, users);
    record.raw = line.errors.map(|e| format!("{{\"errors\":{}}}", e.get()));
    record.matches = line
        .matching_rules
        .iter()
        .map(|rule| MatchRow {
            tweet_id: line.post.id,
            rule_id: rule.id,
            tag: rule.tag.as_deref().map(Into::into),
        })
        .collect();
}

/// Adds one Post's rows to `record`: the `included` Posts first (as embedded rows), then the
/// Post itself, and the `authors` given. `lookups` resolves places, media and polls: a page's
/// Posts share their page's includes, each taking the rows it is given.
pub(super) fn add_post(
    post: &Post<'_>,
    lookups: &Includes<'_>,
    included: &[&Post<'_>],
    authors: &[&TweetUser<'_>],
    record: &mut MessageRecord,
    users: &mut UserSink<'_>,
) {
    for inner in included {
        record.tweets.push(row(inner, lookups, true));
    }
    record.tweets.push(row(post, lookups, false));
    for user in authors {
        users.push(user);
    }
    record.tweet_id = Some(post.id);
}

fn row(post: &Post<'_>, includes: &Includes<'_>, embedded: bool) -> TweetRow {
    let place = post.place_id.as_deref().and_then(|id| includes.place(id));
    TweetRow {
        tweet_id: post.id,
        user_id: post.author_id,
        created_at: post.created_at.as_deref().and_then(iso_time),
        text: post.text.as_deref().map(Into::into),
        lang: post.lang.as_deref().map(Into::into),
        in_reply_to_status_id: post.in_reply_to_status_id,
        retweeted_status_id: post.retweeted_status_id,
        quoted_status_id: post.quoted_status_id,
        longitude: post.point.map(|p| p.0),
        latitude: post.point.map(|p| p.1),
        place: place.map(|p| p.get().to_owned()),
        withheld_in_countries: post.withheld_in_countries.clone(),
        geo_scrubbed: false,
        located: post.located,
        raw: raw_with_attachments(post, includes),
        embedded,
        api: Api::V2,
        edit_initial_id: post.edit_initial_id(),
    }
}

/// A v2 time (ISO 8601, `2024-01-15T10:35:00.000Z`), read as RFC 3339 first: the v1.1 layout
/// tried first would cost every Post a failed parse. Other layouts fall back to the v1.1 reader.
fn iso_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::Datelike;
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
        .filter(|t| (1..=9999).contains(&t.year()))
        .or_else(|| parse_twitter_time(s))
}

/// The Post's raw with `"includes":{"media":[...],"polls":[...]}` added for what its
/// attachments name; the raw unchanged when they name nothing included.
fn raw_with_attachments(post: &Post<'_>, includes: &Includes<'_>) -> String {
    let (media, polls) = includes.attachments(post);
    let Some(body) = post
        .raw
        .strip_suffix('}')
        .filter(|_| !(media.is_empty() && polls.is_empty()))
    else {
        return post.raw.to_owned();
    };
    let list = |items: &[&RawValue]| {
        let parts: Vec<&str> = items.iter().map(|v| v.get()).collect();
        format!("[{}]", parts.join(","))
    };
    let mut members = Vec::new();
    if !media.is_empty() {
        members.push(format!("\"media\":{}", list(&media)));
    }
    if !polls.is_empty() {
        members.push(format!("\"polls\":{}", list(&polls)));
    }
    let sep = if body.trim_end().ends_with('{') {
        ""
    } else {
        ","
    };
    format!("{body}{sep}\"includes\":{{{}}}}}", members.join(","))
}

/// An error line's detail: its first operational disconnect as a `disconnects` row (no code,
/// the `disconnect_type` as its name, the `detail` as its reason), else its problems.
pub(super) fn problems_detail(problems: Vec<Problem>) -> Detail {
    match problems
        .iter()
        .find_map(|p| Some((p.disconnect_type()?, p)))
    {
        Some((kind, p)) => Detail::Disconnect {
            code: None,
            code_name: Some(kind.as_str().to_owned()),
            stream_name: None,
            reason: p.detail.clone(),
        },
        None => Detail::Problems(problems),
    }
}

/// A compliance event's detail: `delete`, `scrub_geo` and `user_withheld` become the v1.1
/// notices they mean (one engine applies both), every other event stays itself.
pub(super) fn compliance_detail(event: ComplianceEvent) -> Detail {
    match event {
        ComplianceEvent::Delete {
            tweet_id,
            author_id,
            ..
        } => Detail::Delete(protocol::Delete {
            tweet_id,
            user_id: Some(author_id),
        }),
        ComplianceEvent::ScrubGeo {
            user_id,
            up_to_tweet_id,
            ..
        } => Detail::ScrubGeo(protocol::ScrubGeo {
            user_id,
            up_to_status_id: up_to_tweet_id,
        }),
        ComplianceEvent::UserWithheld {
            user_id, countries, ..
        } => Detail::UserWithheld(protocol::UserWithheld { user_id, countries }),
        other => Detail::Compliance(other),
    }
}

#[cfg(test)]
mod tests;
