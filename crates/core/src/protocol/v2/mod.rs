//! The X API v2 stream lines, told apart by their envelope: `{"data": Post, "includes": {...},
//! "matching_rules": [...]}` is a Post line, `{"errors": [Problem, ...]}` (without `data`) an
//! error line. A `data` object without an `id` whose only key names a compliance event
//! (`delete`, `tweet_edit`, `user_suspend`, ...) is a compliance-stream line (see
//! [`compliance`]); one whose only key is an object of a name not known here is kept as an
//! unknown message, never mistaken for a Post. A `data` array is a response page (search,
//! timelines) and a Post object at the top level with v2 keys is a flattened Post (twarc2's
//! output): both are read by the record layer ([`Message::Page`], [`Message::Flattened`]).

pub mod compliance;
mod includes;
mod post;
mod problem;

pub use compliance::{ComplianceEvent, UserState};
pub use includes::{Includes, parse_includes, parse_user_v2};
pub use post::{Post, PostError, parse_post};
pub use problem::{
    ConnectionIssue, DisconnectType, MAX_PROBLEMS, Problem, ProblemError, ProblemKind, UsagePeriod,
    parse_problem_body, parse_problem_list, type_suffix,
};

use super::{Message, ParseError, bad};
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The `data` keys of the v2 compliance streams (OAS 2.166 `TweetComplianceData`,
/// `UserComplianceData`).
pub const COMPLIANCE_KEYS: &[&str] = &[
    "delete",
    "withheld",
    "drop",
    "undrop",
    "tweet_edit",
    "user_protect",
    "user_unprotect",
    "user_delete",
    "user_undelete",
    "user_suspend",
    "user_unsuspend",
    "user_withheld",
    "scrub_geo",
    "user_profile_modification",
];

/// A Post line: the Post, what it expanded, and the rules it matched.
#[derive(Debug)]
pub struct PostLine<'a> {
    pub post: Post<'a>,
    pub includes: Includes<'a>,
    pub matching_rules: Vec<MatchingRule<'a>>,
    /// Partial errors beside the data (a referenced Post that could not be expanded), as
    /// received; kept in `events.raw`.
    pub errors: Option<&'a RawValue>,
    /// twarc's `__twarc` metadata (`url`, `version`, `retrieved_at`), when the line has it.
    pub twarc: Option<&'a RawValue>,
}

/// One `matching_rules` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchingRule<'a> {
    pub id: i64,
    pub tag: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct LineWire<'a> {
    #[serde(borrow)]
    data: &'a RawValue,
    #[serde(borrow)]
    includes: Option<&'a RawValue>,
    #[serde(borrow)]
    matching_rules: Option<&'a RawValue>,
    #[serde(borrow)]
    errors: Option<&'a RawValue>,
    #[serde(borrow, rename = "__twarc")]
    twarc: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RuleWire<'a> {
    id: Option<super::WireId>,
    #[serde(borrow)]
    tag: Option<&'a RawValue>,
}

/// Decides what a line with a top-level `data` or `errors` is.
pub(super) fn classify<'a>(
    text: &'a str,
    data: Option<&'a RawValue>,
    errors: Option<&'a RawValue>,
) -> Result<Message<'a>, ParseError> {
    match data.map(|d| d.get().as_bytes().first()) {
        Some(Some(b'{')) => {}
        // A response page (`data` is an array of Posts), read by the record layer.
        Some(Some(b'[')) => return Ok(Message::Page(text)),
        Some(_) if errors.is_none() => {
            return Err(bad("tweet", "v2 `data` is not an object"));
        }
        _ => return problems(errors),
    }
    let shape = data.map(data_shape).unwrap_or_default();
    if !shape.has_id {
        if let (1, Some(data)) = (shape.keys, data) {
            if let Some(message) = event_line(text, data)? {
                return Ok(message);
            }
        }
        return Err(bad("tweet", "v2 `data` object has no id"));
    }
    post_line(text).map(|line| Message::Post(Box::new(line)))
}

/// A `data` object of one member: a compliance event when the member names one, an unknown
/// event when its value is an object of another name, else `None` (a broken Post).
fn event_line<'a>(text: &'a str, data: &'a RawValue) -> Result<Option<Message<'a>>, ParseError> {
    let one: std::collections::BTreeMap<Cow<'a, str>, &'a RawValue> =
        serde_json::from_str(data.get()).map_err(|e| bad("tweet", e.to_string()))?;
    let Some((name, body)) = one.into_iter().next() else {
        return Ok(None);
    };
    if let Some(event) = compliance::parse_event(&name, body)? {
        return Ok(Some(Message::Compliance(event)));
    }
    let object = body.get().as_bytes().first() == Some(&b'{');
    Ok(object.then_some(Message::Unknown(text)))
}

/// An error line: its problems.
fn problems(errors: Option<&RawValue>) -> Result<Message<'_>, ParseError> {
    let raw = errors.ok_or_else(|| bad("error", "no `errors`"))?;
    problem::parse_problem_list(raw.get())
        .map(Message::Problems)
        .map_err(|e| bad("error", e.to_string()))
}

/// Parses a whole Post line.
fn post_line(text: &str) -> Result<PostLine<'_>, ParseError> {
    let wire: LineWire<'_> = serde_json::from_str(text).map_err(|e| bad("tweet", e.to_string()))?;
    let post = parse_post(wire.data.get()).map_err(|e| bad("tweet", e.to_string()))?;
    let includes = includes::parse(wire.includes)?;
    let mut matching_rules = Vec::new();
    for (i, rule) in post::elements(wire.matching_rules).into_iter().enumerate() {
        let rule: RuleWire<'_> = serde_json::from_str(rule.get())
            .map_err(|_| bad("tweet", format!("matching_rules[{i}] is not an object")))?;
        let id = super::pick(&None, &rule.id, "id")
            .map_err(|why| bad("tweet", format!("matching_rules[{i}]: {why}")))?
            .ok_or_else(|| bad("tweet", format!("matching_rules[{i}] has no id")))?;
        matching_rules.push(MatchingRule {
            id,
            tag: post::string(rule.tag),
        });
    }
    Ok(PostLine {
        post,
        includes,
        matching_rules,
        errors: wire.errors,
        twarc: wire.twarc,
    })
}

/// The keys that only a v2 Post has at its top level (a v1.1 status has none of them).
#[derive(Deserialize)]
struct V2Keys<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    author_id: Option<IgnoredAny>,
    edit_history_tweet_ids: Option<IgnoredAny>,
    #[serde(rename = "__twarc")]
    twarc: Option<IgnoredAny>,
}

/// Whether a status-shaped object without `id_str` and `user` is a v2 Post (a flattened one,
/// or a bare Post): it has `author_id`, `edit_history_tweet_ids` or `__twarc`, or its `id` is a
/// string (v1.1 ids are numbers, their strings are in `id_str`).
pub(super) fn looks_flattened(text: &str) -> bool {
    serde_json::from_str::<V2Keys<'_>>(text).is_ok_and(|k| {
        k.author_id.is_some()
            || k.edit_history_tweet_ids.is_some()
            || k.twarc.is_some()
            || k.id.is_some_and(|id| id.get().starts_with('"'))
    })
}

/// What the keys of a `data` object say.
#[derive(Default)]
struct DataShape {
    keys: usize,
    has_id: bool,
}

fn data_shape(raw: &RawValue) -> DataShape {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = DataShape;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DataShape, A::Error> {
            let mut shape = DataShape::default();
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                map.next_value::<IgnoredAny>()?;
                shape.keys += 1;
                shape.has_id |= key == "id";
            }
            Ok(shape)
        }
    }
    let mut de = serde_json::Deserializer::from_str(raw.get());
    serde::Deserializer::deserialize_map(&mut de, V).unwrap_or_default()
}

#[cfg(test)]
mod tests;
