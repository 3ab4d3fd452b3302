//! The JSON pieces of a v2 Post line, written straight into bytes.

use std::io::Write as _;

/// A Post seen only inside another.
pub(super) struct Embedded {
    pub(super) id: u64,
    pub(super) author: u64,
    pub(super) created_at: String,
    /// The one filler word of its text.
    pub(super) word: &'static str,
}

/// A JSON string, escaped as `serde_json` escapes it.
pub(super) fn string(out: &mut Vec<u8>, text: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// An id as v2 writes ids: a string of digits.
pub(super) fn id(out: &mut Vec<u8>, id: u64) {
    let _ = write!(out, "\"{id}\"");
}

/// An `includes.tweets` entry.
pub(super) fn embedded(out: &mut Vec<u8>, post: &Embedded) {
    let (id, author) = (post.id, post.author);
    let _ = write!(
        out,
        "{{\"id\":\"{id}\",\"text\":\"original post {}\",\"author_id\":\"{author}\",\
         \"created_at\":\"{}\",\"lang\":\"en\",\"conversation_id\":\"{id}\",\
         \"edit_history_tweet_ids\":[\"{id}\"]}}",
        post.word, post.created_at
    );
}

/// An `includes.users` entry.
pub(super) fn user(out: &mut Vec<u8>, id: u64) {
    let _ = write!(
        out,
        "{{\"id\":\"{id}\",\"username\":\"user_{id}\",\"name\":\"User {id}\",\
         \"created_at\":\"2015-06-01T12:00:00.000Z\",\"verified\":false}}"
    );
}

/// An `includes.places` entry.
pub(super) fn place(out: &mut Vec<u8>, id: &str) {
    let _ = write!(
        out,
        "{{\"id\":\"{id}\",\"full_name\":\"Place {id}\",\"name\":\"Place {id}\",\
         \"country_code\":\"US\",\"place_type\":\"city\"}}"
    );
}

/// `,"matching_rules":[...]`, a tag only where the rule has one.
pub(super) fn matching_rules(out: &mut Vec<u8>, rules: &[(u64, Option<String>)]) {
    out.extend_from_slice(b",\"matching_rules\":[");
    for (i, (rule, tag)) in rules.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"id\":");
        id(out, *rule);
        if let Some(tag) = tag {
            out.extend_from_slice(b",\"tag\":");
            string(out, tag);
        }
        out.push(b'}');
    }
    out.push(b']');
}
