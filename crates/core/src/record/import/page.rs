//! A v2 response page as twarc2 writes it from search and timelines: `{"data": [Post, ...],
//! "includes": {...}, "meta": {...}, "errors": [...], "__twarc": {...}}`.
//!
//! Each Post is a record of its own (an `events` row of kind `tweet`), archived with the
//! includes of its own page: places, media and polls go to the Posts that name them, each
//! included Post is a row carried by the first Post of the page that references it (else by the
//! last), the page's users are carried by its first Post. The page's `errors` (Posts and users
//! that could not be returned: deleted, suspended, protected) are one record of kind `error`
//! holding `{"errors": [...]}`. `meta` (counts, paging tokens) describes the request, not
//! content, and is not kept. A Post element that cannot be read is a reject of its own; its
//! neighbours are archived all the same.

use super::super::message::{KeepUser, UserSink};
use super::super::v2::{add_post, problems_detail};
use super::super::{Detail, MessageRecord, Origin, Record, reject};
use super::collected_at;
use crate::protocol::Kind;
use crate::protocol::v2::{Includes, Post, parse_includes, parse_post, parse_problem_list};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Posts a page may hold: the API's largest page holds 500 (full-archive search). A longer
/// `data` is kept whole as a reject: a line of tiny elements must not become a flood of
/// records, each far larger than its bytes.
pub const MAX_PAGE_POSTS: usize = 1000;

#[derive(Deserialize)]
struct PageWire<'a> {
    #[serde(borrow)]
    data: Vec<&'a RawValue>,
    #[serde(borrow)]
    includes: Option<&'a RawValue>,
    #[serde(borrow)]
    errors: Option<&'a RawValue>,
    #[serde(borrow, rename = "__twarc")]
    twarc: Option<&'a RawValue>,
}

/// Appends a page's records to `out`: one per Post, then one for its `errors`.
pub(in super::super) fn page(
    text: &str,
    origin: &Origin,
    trusted: bool,
    keep: KeepUser<'_>,
    out: &mut Vec<Record>,
) {
    let whole = |why: &dyn std::fmt::Display| {
        reject(
            text.as_bytes(),
            origin,
            &format!("tweet message malformed: v2 page: {why}"),
        )
    };
    let wire: PageWire<'_> = match serde_json::from_str(text) {
        Ok(wire) => wire,
        Err(e) => return out.push(whole(&e)),
    };
    if wire.data.len() > MAX_PAGE_POSTS {
        let why = format!("{} Posts, more than {MAX_PAGE_POSTS}", wire.data.len());
        return out.push(whole(&why));
    }
    let includes = match parse_includes(wire.includes) {
        Ok(includes) => includes,
        Err(e) => return out.push(whole(&e)),
    };
    let origin = collected_at(origin, wire.twarc, trusted);
    let (posts, bad) = read_posts(&wire.data, &origin);
    let included_anything = !includes.tweets.is_empty() || !includes.users.is_empty();
    if posts.is_empty() && included_anything {
        // Nothing to carry the included rows: the page is kept whole.
        return out.push(whole(&"includes without a usable Post"));
    }
    post_records(&posts, &includes, &origin, keep, out);
    out.extend(bad);
    match wire.errors {
        Some(errors) => out.push(errors_record(errors, &origin)),
        // An empty page (no Post, no errors): kept whole, as an unknown message.
        None if posts.is_empty() && wire.data.is_empty() => {
            out.push(Record::Message(Box::new(empty(
                &origin,
                Kind::Unknown,
                Some(text.to_owned()),
            ))));
        }
        None => {}
    }
}

/// The page's Posts, and a reject for each element that is not one.
fn read_posts<'a>(data: &[&'a RawValue], origin: &Origin) -> (Vec<Post<'a>>, Vec<Record>) {
    let mut posts = Vec::with_capacity(data.len());
    let mut bad = Vec::new();
    for (i, raw) in data.iter().enumerate() {
        match parse_post(raw.get()) {
            Ok(post) => posts.push(post),
            Err(e) => bad.push(reject(
                raw.get().as_bytes(),
                origin,
                &format!("tweet message malformed: data[{i}]: {e}"),
            )),
        }
    }
    (posts, bad)
}

/// A record per Post, each with the rows it carries: the page's users ride with the first.
fn post_records(
    posts: &[Post<'_>],
    includes: &Includes<'_>,
    origin: &Origin,
    keep: KeepUser<'_>,
    out: &mut Vec<Record>,
) {
    let carried = carriers(posts, includes);
    for (j, post) in posts.iter().enumerate() {
        let authors: Vec<_> = match j {
            0 => includes.users.iter().collect(),
            _ => Vec::new(),
        };
        let mut record = empty(origin, Kind::Tweet, None);
        let mut sink = UserSink::new(&mut *keep);
        add_post(
            post,
            includes,
            &carried[j],
            &authors,
            &mut record,
            &mut sink,
        );
        record.users = sink.into_rows();
        out.push(Record::Message(Box::new(record)));
    }
}

/// For each Post, the included Posts its record carries: each included Post once, by the first
/// Post that references it, else by the last Post.
fn carriers<'p, 'a>(posts: &[Post<'a>], includes: &'p Includes<'a>) -> Vec<Vec<&'p Post<'a>>> {
    let mut carried: Vec<Vec<&Post<'_>>> = vec![Vec::new(); posts.len()];
    let Some(last) = posts.len().checked_sub(1) else {
        return carried;
    };
    let mut first_ref = rustc_hash::FxHashMap::default();
    for (j, post) in posts.iter().enumerate() {
        let refs = [
            post.in_reply_to_status_id,
            post.retweeted_status_id,
            post.quoted_status_id,
        ];
        for id in refs.into_iter().flatten() {
            first_ref.entry(id).or_insert(j);
        }
    }
    let mut seen = rustc_hash::FxHashSet::default();
    for inner in &includes.tweets {
        if seen.insert(inner.id) {
            let j = first_ref.get(&inner.id).copied().unwrap_or(last);
            carried[j].push(inner);
        }
    }
    carried
}

/// A record with no rows yet.
fn empty(origin: &Origin, kind: Kind, raw: Option<String>) -> MessageRecord {
    MessageRecord {
        origin: origin.clone(),
        kind,
        for_user: None,
        tweet_id: None,
        raw,
        tweets: Vec::new(),
        users: Vec::new(),
        detail: Detail::None,
        matches: Vec::new(),
    }
}

/// The page's `errors` as an `error` record (`events.raw` holds `{"errors": [...]}`), or a
/// reject saying why they cannot be read.
fn errors_record(errors: &RawValue, origin: &Origin) -> Record {
    let raw = format!("{{\"errors\":{}}}", errors.get());
    match parse_problem_list(errors.get()) {
        Ok(problems) => {
            let mut record = empty(origin, Kind::Error, None);
            record.detail = problems_detail(problems);
            record.raw = Some(raw);
            Record::Message(Box::new(record))
        }
        Err(e) => reject(
            raw.as_bytes(),
            origin,
            &format!("error message malformed: page errors: {e}"),
        ),
    }
}
