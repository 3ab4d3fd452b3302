//! Writing a status's `entities`: hashtags, links, mentions, symbols and media, with
//! Twitter's code-point `indices`.

use super::content::{Ent, EntKind, Media, Scratch};
use super::json::Esc;
use super::json::{comma, push_u64_str, put_indices, put_str, put_str_body, put_u64};
use super::links::{display_of, expanded_url, push_media_key, push_tco_code, quote_url};
use super::memory::StatusSpec;
use super::world::World;

/// The `entities` object for the entities that end at or before code point `max_cp`, plus the
/// compatibility link to the full status when the text was cut.
#[allow(clippy::too_many_arguments)]
pub(super) fn write_entities(
    w: &World,
    out: &mut Vec<u8>,
    tmp: &mut String,
    sc: &Scratch,
    st: &StatusSpec,
    max_cp: u32,
    self_link: Option<(u64, u32)>,
    esc: Esc,
) {
    out.extend_from_slice(b"{\"hashtags\":[");
    write_tags(out, sc, max_cp, EntKind::Hashtag, esc);
    out.extend_from_slice(b"],\"urls\":[");
    let mut sep = write_urls(w, out, tmp, sc, max_cp, esc);
    if let Some((id, c0)) = self_link {
        comma(out, &mut sep);
        write_self_link(out, tmp, id, c0, esc);
    }
    out.extend_from_slice(b"],\"user_mentions\":[");
    write_mentions(w, out, tmp, sc, max_cp, esc);
    out.extend_from_slice(b"],\"symbols\":[");
    write_tags(out, sc, max_cp, EntKind::Symbol, esc);
    out.push(b']');
    if sc.media.is_some() && sc.display_end < max_cp {
        out.extend_from_slice(b",\"media\":[");
        write_media(w, out, tmp, sc, st, esc);
        out.push(b']');
    }
    out.push(b'}');
}

/// Whether an entity ends at or before code point `max_cp`, so that it is listed.
#[inline]
fn visible(e: &&Ent, max_cp: u32) -> bool {
    e.c1 <= max_cp
}

/// The visible hashtags or symbols (`kind`), without their leading `#` or `$`.
#[inline]
fn write_tags(out: &mut Vec<u8>, sc: &Scratch, max_cp: u32, kind: EntKind, esc: Esc) {
    let mut sep = false;
    for e in sc.ents.iter().filter(|e| visible(e, max_cp)) {
        if e.kind == kind {
            comma(out, &mut sep);
            out.extend_from_slice(b"{\"text\":");
            put_str(out, &sc.text[e.b0 as usize + 1..e.b1 as usize], esc);
            put_indices(out, e.c0, e.c1);
            out.push(b'}');
        }
    }
}

/// The visible links to sites and quoted statuses; whether any was written.
#[inline]
fn write_urls(
    w: &World,
    out: &mut Vec<u8>,
    tmp: &mut String,
    sc: &Scratch,
    max_cp: u32,
    esc: Esc,
) -> bool {
    let mut sep = false;
    for e in sc.ents.iter().filter(|e| visible(e, max_cp)) {
        let expanded_done = match e.kind {
            EntKind::Url { site, path } => {
                expanded_url(site, path, tmp);
                true
            }
            EntKind::QuoteLink { id, user } => {
                quote_url(w, id, user, tmp);
                true
            }
            _ => false,
        };
        if expanded_done {
            comma(out, &mut sep);
            out.extend_from_slice(b"{\"url\":");
            put_str(out, &sc.text[e.b0 as usize..e.b1 as usize], esc);
            out.extend_from_slice(b",\"expanded_url\":");
            put_str(out, tmp, esc);
            out.extend_from_slice(b",\"display_url\":");
            display_of(tmp);
            put_str(out, tmp, esc);
            put_indices(out, e.c0, e.c1);
            out.push(b'}');
        }
    }
    sep
}

/// The link a cut text ends with, to status `id`, at code point `c0`.
#[inline]
fn write_self_link(out: &mut Vec<u8>, tmp: &mut String, id: u64, c0: u32, esc: Esc) {
    tmp.clear();
    tmp.push_str("https://t.co/");
    push_tco_code(tmp, id ^ 0x5E1F);
    out.extend_from_slice(b"{\"url\":");
    put_str(out, tmp, esc);
    tmp.clear();
    tmp.push_str("https://twitter.com/i/web/status/");
    push_u64_str(tmp, id);
    out.extend_from_slice(b",\"expanded_url\":");
    put_str(out, tmp, esc);
    out.extend_from_slice(b",\"display_url\":");
    display_of(tmp);
    put_str(out, tmp, esc);
    put_indices(out, c0, c0 + 23);
    out.push(b'}');
}

/// The visible `@mentions`, with the mentioned user's name and id.
#[inline]
fn write_mentions(
    w: &World,
    out: &mut Vec<u8>,
    tmp: &mut String,
    sc: &Scratch,
    max_cp: u32,
    esc: Esc,
) {
    let mut sep = false;
    for e in sc.ents.iter().filter(|e| visible(e, max_cp)) {
        if let EntKind::Mention(user) = e.kind {
            comma(out, &mut sep);
            let uid = w.user_id(user);
            out.extend_from_slice(b"{\"screen_name\":");
            put_str(out, &sc.text[e.b0 as usize + 1..e.b1 as usize], esc);
            out.extend_from_slice(b",\"name\":");
            tmp.clear();
            w.name(user, tmp);
            put_str(out, tmp, esc);
            out.extend_from_slice(b",\"id\":");
            put_u64(out, uid);
            out.extend_from_slice(b",\"id_str\":\"");
            put_u64(out, uid);
            out.push(b'"');
            put_indices(out, e.c0, e.c1);
            out.push(b'}');
        }
    }
}

/// The photo's media object, as listed in `entities` and `extended_entities`.
pub(super) fn write_media(
    w: &World,
    out: &mut Vec<u8>,
    tmp: &mut String,
    sc: &Scratch,
    st: &StatusSpec,
    esc: Esc,
) {
    let Some(m) = sc.media else { return };
    let Some(e) = sc.ents.iter().find(|e| e.kind == EntKind::Media) else {
        return;
    };
    out.extend_from_slice(b"{\"id\":");
    put_u64(out, m.id);
    out.extend_from_slice(b",\"id_str\":\"");
    put_u64(out, m.id);
    out.push(b'"');
    put_indices(out, e.c0, e.c1);
    tmp.clear();
    tmp.push_str("pbs.twimg.com/media/");
    push_media_key(tmp, m.key);
    tmp.push_str(".jpg");
    out.extend_from_slice(b",\"media_url\":\"http:");
    put_str_body(out, "//", esc);
    put_str_body(out, tmp, esc);
    out.extend_from_slice(b"\",\"media_url_https\":\"https:");
    put_str_body(out, "//", esc);
    put_str_body(out, tmp, esc);
    out.extend_from_slice(b"\",\"url\":");
    let link = &sc.text[e.b0 as usize..e.b1 as usize];
    put_str(out, link, esc);
    out.extend_from_slice(b",\"display_url\":\"pic.twitter.com");
    put_str_body(out, &link[12..], esc);
    out.extend_from_slice(b"\",\"expanded_url\":");
    tmp.clear();
    tmp.push_str("https://twitter.com/");
    w.screen_name(st.user, tmp);
    tmp.push_str("/status/");
    push_u64_str(tmp, st.id);
    tmp.push_str("/photo/1");
    put_str(out, tmp, esc);
    out.extend_from_slice(
        b",\"type\":\"photo\",\"sizes\":{\"thumb\":{\"w\":150,\"h\":150,\"resize\":\"crop\"}",
    );
    write_sizes(out, m);
    out.extend_from_slice(b"}}");
}

/// The `medium`, `small` and `large` sizes of a photo: its own, scaled down to fit each.
#[inline]
fn write_sizes(out: &mut Vec<u8>, m: Media) {
    let sizes: [(&[u8], u32); 3] = [
        (b",\"medium\":{\"w\":", 1200),
        (b",\"small\":{\"w\":", 680),
        (b",\"large\":{\"w\":", 2048),
    ];
    for (name, max) in sizes {
        let scale = max.min(m.w.max(m.h));
        let (sw, sh) = if m.w >= m.h {
            (scale, m.h * scale / m.w)
        } else {
            (m.w * scale / m.h, scale)
        };
        out.extend_from_slice(name);
        put_u64(out, sw as u64);
        out.extend_from_slice(b",\"h\":");
        put_u64(out, sh as u64);
        out.extend_from_slice(b",\"resize\":\"fit\"}");
    }
}
