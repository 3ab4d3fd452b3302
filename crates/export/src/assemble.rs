//! JSONL's messages made whole again from the archive's rows, only from what may be shared.
//!
//! The archive keeps each embedded status as a row of its own and a reference
//! `{"id": N, "id_str": "N"}` in its carrier's `raw`. A v1.1 status gets its `retweeted_status`
//! and `quoted_status` back from those rows (and theirs, one level further); a reference whose
//! row is gone (deleted) or may not be shown (dropped, its author's state, withheld in the
//! export's countries) is removed, so the copy is left out as the archive itself leaves it out.
//! A v2 Post becomes `{"data": Post, "includes": {...}}` as twarc writes stream lines: its
//! author (when the user may be shown), the referenced Posts that may be shown and their
//! authors, its place, and the media and polls stored with it.

use crate::read::{Conn, ReadError};
use crate::sql;
use serde_json::{Map, Value};
use std::future::Future;
use std::pin::Pin;

/// How deep embedded statuses are restored: a retweet's original and the status it quotes.
const MAX_DEPTH: u8 = 2;

/// Rebuilds messages with look-ups on one connection, for the export's countries.
pub struct Assembler<'a> {
    pub conn: &'a mut Conn,
    pub codes: &'a [String],
    /// Embedded copies left out because their status is gone or may not be shown.
    pub copies_left_out: u64,
}

type Boxed<'f, T> = Pin<Box<dyn Future<Output = Result<T, ReadError>> + Send + 'f>>;

fn unreadable(e: serde_json::Error) -> ReadError {
    ReadError::Value {
        what: "raw",
        detail: e.to_string(),
    }
}

impl Assembler<'_> {
    /// The whole message of a stored status of shape `api`, as one line of JSON.
    pub async fn message(
        &mut self,
        api: &str,
        raw: &str,
        place: Option<&str>,
        author: Option<i64>,
    ) -> Result<String, ReadError> {
        let embeds = raw.contains("\"retweeted_status\"") || raw.contains("\"quoted_status\"");
        if api != "v2" && !embeds && !raw.contains(['\n', '\r']) {
            // Nothing embedded: the stored message is already whole, and on one line.
            return Ok(raw.to_owned());
        }
        let value: Value = serde_json::from_str(raw).map_err(unreadable)?;
        let whole = if api == "v2" {
            self.v2(value, place, author).await?
        } else {
            let mut value = value;
            self.restore(&mut value, 0).await?;
            value
        };
        serde_json::to_string(&whole).map_err(unreadable)
    }

    /// Puts back, in place, the embedded statuses of a v1.1 status at `depth`.
    fn restore<'f>(&'f mut self, value: &'f mut Value, depth: u8) -> Boxed<'f, ()> {
        Box::pin(async move {
            let Some(object) = value.as_object_mut() else {
                return Ok(());
            };
            for member in ["retweeted_status", "quoted_status"] {
                let Some(id) = object.get(member).and_then(stub_id) else {
                    continue;
                };
                let restored = if depth < MAX_DEPTH {
                    self.visible_raw(id).await?
                } else {
                    None
                };
                match restored {
                    Some((_, raw)) => {
                        let mut inner: Value = serde_json::from_str(&raw).map_err(unreadable)?;
                        self.restore(&mut inner, depth + 1).await?;
                        object.insert(member.into(), inner);
                    }
                    None => {
                        object.remove(member);
                        self.copies_left_out += 1;
                    }
                }
            }
            Ok(())
        })
    }

    /// A status's stored `raw` and author when it may be shown, else `None`.
    async fn visible_raw(&mut self, id: i64) -> Result<Option<(Option<i64>, String)>, ReadError> {
        let st = sql::status(self.conn.dialect(), self.codes, id);
        Ok(match self.conn.status(&st).await? {
            Some((row, None)) => Some((row.user_id, row.raw)),
            _ => None,
        })
    }

    /// A user's stored profile when the user may be shown.
    async fn visible_user(&mut self, id: i64) -> Result<Option<Value>, ReadError> {
        let st = sql::visible_user(self.conn.dialect(), self.codes, id);
        match self.conn.text(&st).await? {
            Some(raw) => Ok(Some(serde_json::from_str(&raw).map_err(unreadable)?)),
            None => Ok(None),
        }
    }

    /// `{"data": Post, "includes": {...}}` for a stored v2 Post.
    async fn v2(
        &mut self,
        mut post: Value,
        place: Option<&str>,
        author: Option<i64>,
    ) -> Result<Value, ReadError> {
        let mut includes = Includes::default();
        if let Some(own) = post.as_object_mut().and_then(|o| o.remove("includes")) {
            includes.take_attachments(own);
        }
        if let Some(place) = place {
            includes
                .places
                .push(serde_json::from_str(place).map_err(unreadable)?);
        }
        if let Some(id) = author {
            self.add_user(&mut includes, id).await?;
        }
        for id in referenced_ids(&post) {
            match self.visible_raw(id).await? {
                Some((referenced_author, raw)) => {
                    let mut referenced: Value = serde_json::from_str(&raw).map_err(unreadable)?;
                    if let Some(own) = referenced
                        .as_object_mut()
                        .and_then(|o| o.remove("includes"))
                    {
                        includes.take_attachments(own);
                    }
                    includes.tweets.push(referenced);
                    if let Some(a) = referenced_author {
                        self.add_user(&mut includes, a).await?;
                    }
                }
                None => self.copies_left_out += 1,
            }
        }
        let mut line = Map::new();
        line.insert("data".into(), post);
        line.insert("includes".into(), includes.into_value());
        Ok(Value::Object(line))
    }

    async fn add_user(&mut self, includes: &mut Includes, id: i64) -> Result<(), ReadError> {
        if includes.user_ids.contains(&id) {
            return Ok(());
        }
        includes.user_ids.push(id);
        if let Some(user) = self.visible_user(id).await? {
            includes.users.push(user);
        }
        Ok(())
    }
}

/// The id of a reference stub (`{"id": N, "id_str": "N"}`), `None` for anything else.
fn stub_id(value: &Value) -> Option<i64> {
    let object = value.as_object()?;
    if object.len() > 2 || object.keys().any(|k| k != "id" && k != "id_str") {
        return None;
    }
    match object.get("id") {
        Some(Value::Number(n)) => n.as_i64(),
        _ => object.get("id_str")?.as_str()?.parse().ok(),
    }
}

/// The ids of a v2 Post's `referenced_tweets`.
fn referenced_ids(post: &Value) -> Vec<i64> {
    post.get("referenced_tweets")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .filter_map(|r| r.get("id")?.as_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// A v2 line's `includes`, built up.
#[derive(Default)]
struct Includes {
    users: Vec<Value>,
    user_ids: Vec<i64>,
    tweets: Vec<Value>,
    places: Vec<Value>,
    media: Vec<Value>,
    polls: Vec<Value>,
}

impl Includes {
    /// The media and polls a stored Post keeps under its own `includes`.
    fn take_attachments(&mut self, own: Value) {
        let Value::Object(mut own) = own else { return };
        for (key, list) in [("media", &mut self.media), ("polls", &mut self.polls)] {
            if let Some(Value::Array(items)) = own.remove(key) {
                list.extend(items);
            }
        }
    }

    /// The members that have something, as twarc's lines have them.
    fn into_value(self) -> Value {
        let mut out = Map::new();
        for (key, list) in [
            ("users", self.users),
            ("tweets", self.tweets),
            ("places", self.places),
            ("media", self.media),
            ("polls", self.polls),
        ] {
            if !list.is_empty() {
                out.insert(key.into(), Value::Array(list));
            }
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reference_stubs_are_restored() {
        assert_eq!(
            stub_id(&serde_json::json!({"id": 5, "id_str": "5"})),
            Some(5)
        );
        assert_eq!(stub_id(&serde_json::json!({"id_str": "6"})), Some(6));
        assert_eq!(
            stub_id(&serde_json::json!({"id": 5, "text": "whole"})),
            None
        );
        assert_eq!(stub_id(&serde_json::json!(null)), None);
    }

    #[test]
    fn referenced_posts_are_read_from_the_post() {
        let post = serde_json::json!({"id": "9", "referenced_tweets": [
            {"type": "quoted", "id": "7"}, {"type": "replied_to", "id": "x"}]});
        assert_eq!(referenced_ids(&post), [7]);
    }
}
