//! Collected files: the shapes twarc2 and v2 API scripts write, read into the same records as
//! live lines.
//!
//! - A response page (`{"data": [Post, ...], "includes", "meta", "errors", "__twarc"}`) becomes
//!   one record per Post ([`page`]), plus one `error` record for its `errors`.
//! - A flattened Post (twarc2's `flatten`: one Post per line, expansions inlined) has its
//!   expansions put back into `includes` ([`flat`]) and is then read as a stream line.
//! - A stream line (`{"data": Post, "includes", "matching_rules"}`) is read as live, with or
//!   without `__twarc`.
//!
//! When the decoder is told to trust them ([`super::Decoder::for_import`]), `__twarc.retrieved_at`
//! is the records' `received_at`: the time the Post was collected, which becomes its
//! `first_seen_at`.

mod flat;
mod page;

use super::message::KeepUser;
use super::{Origin, Record, reject};
use crate::protocol::{self, Message};
use chrono::{DateTime, Datelike, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

pub(super) use page::page;

#[derive(Deserialize)]
struct TwarcWire<'a> {
    #[serde(borrow)]
    retrieved_at: Option<Cow<'a, str>>,
}

/// `__twarc.retrieved_at` as a time (RFC 3339, years 1–9999); `None` when absent or unreadable.
pub(super) fn retrieved_at(twarc: Option<&RawValue>) -> Option<DateTime<Utc>> {
    let wire: TwarcWire<'_> = serde_json::from_str(twarc?.get()).ok()?;
    DateTime::parse_from_rfc3339(wire.retrieved_at?.as_ref())
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .filter(|t| (1..=9999).contains(&t.year()))
}

/// `origin`, received when the line says it was collected, if `trusted` and it says so.
pub(super) fn collected_at<'o>(
    origin: &'o Origin,
    twarc: Option<&RawValue>,
    trusted: bool,
) -> Cow<'o, Origin> {
    match retrieved_at(twarc.filter(|_| trusted)) {
        Some(at) => Cow::Owned(Origin {
            received_at: at,
            ..origin.clone()
        }),
        None => Cow::Borrowed(origin),
    }
}

/// The origin of a parsed message: a v2 Post line's collection time when trusted.
pub(super) fn collected<'o>(
    message: &Message<'_>,
    origin: &'o Origin,
    trusted: bool,
) -> Cow<'o, Origin> {
    match message {
        Message::Post(line) if trusted => collected_at(origin, line.twarc, true),
        _ => Cow::Borrowed(origin),
    }
}

/// A flattened Post: its expansions put back into `includes`, then read as a stream line. A
/// line whose expansions cannot be put back is a reject saying why, kept as received.
pub(super) fn flattened(
    line: &[u8],
    text: &str,
    origin: &Origin,
    trusted: bool,
    keep: KeepUser<'_>,
    out: &mut Vec<Record>,
) {
    let rebuilt = match flat::unflatten(text) {
        Ok(rebuilt) => rebuilt,
        Err(why) => return out.push(reject(line, origin, &format!("flattened Post: {why}"))),
    };
    match protocol::parse_text(&rebuilt) {
        Ok(message @ Message::Post(_)) => {
            let origin = collected(&message, origin, trusted);
            let record = super::message::from_message(message, &rebuilt, &origin, None, keep);
            out.push(Record::Message(Box::new(record)));
        }
        Ok(_) => out.push(reject(
            line,
            origin,
            &"flattened Post: not a Post once rebuilt",
        )),
        Err(err) => out.push(reject(line, origin, &format!("flattened Post: {err}"))),
    }
}

#[cfg(test)]
mod tests;
