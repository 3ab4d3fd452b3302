//! Writing a status object: its own members, its place, and the status it retweets or quotes.

use super::content::{Geo, Scratch};
use super::entities::{write_entities, write_media};
use super::json::{Esc, put_date, put_hex16, put_micro, put_str, put_str_body, put_u64};
use super::links::{display_of, push_tco_code, quote_url, tco_code};
use super::memory::StatusSpec;
use super::random::mix64;
use super::user::write_user;
use super::words::{CITIES, HEX, SOURCES};
use super::world::World;

/// What a status embeds: nothing, the original it retweets, or the status it quotes.
pub(super) enum Shape<'a> {
    Plain,
    /// The original and its content; the written status's own scratch holds the `RT @` text.
    Retweet(&'a StatusSpec, &'a Scratch),
    /// The quoted status and its content.
    Quote(&'a StatusSpec, &'a Scratch),
}

/// Where the compatibility `text` of a long status is cut.
const COMPAT_CUT: u32 = 113;

/// A full status object, embedded statuses included; `top` adds the `timestamp_ms` that only
/// top-level statuses carry.
#[allow(clippy::too_many_arguments)]
pub(super) fn write_status(
    w: &World,
    out: &mut Vec<u8>,
    tmp: &mut String,
    st: &StatusSpec,
    sc: &Scratch,
    shape: Shape<'_>,
    top: bool,
    esc: Esc,
) {
    let extended = sc.cps > 140;
    let cut_c = write_head(out, tmp, st, sc, extended, esc);
    write_reply(w, out, tmp, st, esc);
    out.extend_from_slice(b",\"user\":");
    write_user(w, out, tmp, st.user, esc);
    match sc.geo {
        Some(g) => write_geo(out, tmp, g, esc),
        None => out.extend_from_slice(b",\"geo\":null,\"coordinates\":null,\"place\":null"),
    }
    out.extend_from_slice(b",\"contributors\":null");
    let is_quote = write_embedded(w, out, tmp, shape, esc);
    out.extend_from_slice(if is_quote {
        b",\"is_quote_status\":true"
    } else {
        b",\"is_quote_status\":false"
    });
    if extended {
        write_extended(w, out, tmp, st, sc, esc);
    }
    let names: [&[u8]; 4] = [
        b",\"quote_count\":",
        b",\"reply_count\":",
        b",\"retweet_count\":",
        b",\"favorite_count\":",
    ];
    for (name, count) in names.iter().zip(st.counts) {
        out.extend_from_slice(name);
        put_u64(out, count as u64);
    }
    out.extend_from_slice(b",\"entities\":");
    if extended {
        let link = (st.id, cut_c + 2);
        write_entities(w, out, tmp, sc, st, cut_c, Some(link), esc);
    } else {
        write_entities(w, out, tmp, sc, st, u32::MAX, None, esc);
        write_extended_media(w, out, tmp, sc, st, esc);
    }
    write_tail(out, st, sc, top);
}

/// `created_at`, the ids, the (compatibility) `text`, `source` and `truncated`; returns the
/// code point where a long text was cut (its length when it was not).
#[inline]
fn write_head(
    out: &mut Vec<u8>,
    tmp: &mut String,
    st: &StatusSpec,
    sc: &Scratch,
    extended: bool,
    esc: Esc,
) -> u32 {
    out.extend_from_slice(b"{\"created_at\":\"");
    put_date(out, st.ms);
    out.extend_from_slice(b"\",\"id\":");
    put_u64(out, st.id);
    out.extend_from_slice(b",\"id_str\":\"");
    put_u64(out, st.id);
    out.extend_from_slice(b"\",\"text\":\"");
    // In compatibility mode a long text is cut and ends with a link to the full status.
    let (cut_b, cut_c) = if extended {
        sc.bounds
            .iter()
            .copied()
            .take_while(|&(_, c)| c <= COMPAT_CUT)
            .last()
            .unwrap_or((0, 0))
    } else {
        (sc.text.len() as u32, sc.cps)
    };
    put_str_body(out, &sc.text[..cut_b as usize], esc);
    if extended {
        put_str_body(out, "\u{2026} https://t.co/", esc);
        let mut code = [0u8; 10];
        tco_code(st.id ^ 0x5E1F, &mut code);
        out.extend_from_slice(&code);
    }
    out.extend_from_slice(b"\",\"source\":");
    let (src_name, src_url) = SOURCES[sc.source].0;
    tmp.clear();
    tmp.push_str("<a href=\"");
    tmp.push_str(src_url);
    tmp.push_str("\" rel=\"nofollow\">");
    tmp.push_str(src_name);
    tmp.push_str("</a>");
    put_str(out, tmp, esc);
    out.extend_from_slice(if extended {
        b",\"truncated\":true"
    } else {
        b",\"truncated\":false"
    });
    cut_c
}

/// The five `in_reply_to_*` members, null for a status that replies to nothing.
#[inline]
fn write_reply(w: &World, out: &mut Vec<u8>, tmp: &mut String, st: &StatusSpec, esc: Esc) {
    match st.reply {
        Some((rid, ruser)) => {
            let ruid = w.user_id(ruser);
            out.extend_from_slice(b",\"in_reply_to_status_id\":");
            put_u64(out, rid);
            out.extend_from_slice(b",\"in_reply_to_status_id_str\":\"");
            put_u64(out, rid);
            out.extend_from_slice(b"\",\"in_reply_to_user_id\":");
            put_u64(out, ruid);
            out.extend_from_slice(b",\"in_reply_to_user_id_str\":\"");
            put_u64(out, ruid);
            out.extend_from_slice(b"\",\"in_reply_to_screen_name\":");
            tmp.clear();
            w.screen_name(ruser, tmp);
            put_str(out, tmp, esc);
        }
        None => out.extend_from_slice(
            b",\"in_reply_to_status_id\":null,\"in_reply_to_status_id_str\":null,\
              \"in_reply_to_user_id\":null,\"in_reply_to_user_id_str\":null,\
              \"in_reply_to_screen_name\":null",
        ),
    }
}

/// The retweeted or quoted status, with a quote's id and permalink; whether it is a quote.
#[inline]
fn write_embedded(
    w: &World,
    out: &mut Vec<u8>,
    tmp: &mut String,
    shape: Shape<'_>,
    esc: Esc,
) -> bool {
    match shape {
        Shape::Plain => false,
        Shape::Retweet(orig, orig_sc) => {
            out.extend_from_slice(b",\"retweeted_status\":");
            write_status(w, out, tmp, orig, orig_sc, Shape::Plain, false, esc);
            false
        }
        Shape::Quote(quoted, quoted_sc) => {
            out.extend_from_slice(b",\"quoted_status_id\":");
            put_u64(out, quoted.id);
            out.extend_from_slice(b",\"quoted_status_id_str\":\"");
            put_u64(out, quoted.id);
            out.extend_from_slice(b"\",\"quoted_status\":");
            write_status(w, out, tmp, quoted, quoted_sc, Shape::Plain, false, esc);
            out.extend_from_slice(b",\"quoted_status_permalink\":{\"url\":");
            tmp.clear();
            tmp.push_str("https://t.co/");
            push_tco_code(tmp, quoted.id ^ 0x9107);
            put_str(out, tmp, esc);
            out.extend_from_slice(b",\"expanded\":");
            quote_url(w, quoted.id, quoted.user, tmp);
            put_str(out, tmp, esc);
            out.extend_from_slice(b",\"display\":");
            display_of(tmp);
            put_str(out, tmp, esc);
            out.push(b'}');
            true
        }
    }
}

/// A long status's `extended_tweet`: the full text, its display range and all its entities.
#[inline]
fn write_extended(
    w: &World,
    out: &mut Vec<u8>,
    tmp: &mut String,
    st: &StatusSpec,
    sc: &Scratch,
    esc: Esc,
) {
    out.extend_from_slice(b",\"extended_tweet\":{\"full_text\":");
    put_str(out, &sc.text, esc);
    out.extend_from_slice(b",\"display_text_range\":[");
    put_u64(out, sc.display_start as u64);
    out.push(b',');
    put_u64(out, sc.display_end as u64);
    out.extend_from_slice(b"],\"entities\":");
    write_entities(w, out, tmp, sc, st, u32::MAX, None, esc);
    write_extended_media(w, out, tmp, sc, st, esc);
    out.push(b'}');
}

/// `extended_entities`, for a status with a photo.
#[inline]
fn write_extended_media(
    w: &World,
    out: &mut Vec<u8>,
    tmp: &mut String,
    sc: &Scratch,
    st: &StatusSpec,
    esc: Esc,
) {
    if sc.media.is_some() {
        out.extend_from_slice(b",\"extended_entities\":{\"media\":[");
        write_media(w, out, tmp, sc, st, esc);
        out.extend_from_slice(b"]}");
    }
}

/// The flags after the entities, `lang`, and a top-level status's `timestamp_ms`.
#[inline]
fn write_tail(out: &mut Vec<u8>, st: &StatusSpec, sc: &Scratch, top: bool) {
    out.extend_from_slice(b",\"favorited\":false,\"retweeted\":false");
    if sc.has_links {
        out.extend_from_slice(if sc.sensitive {
            b",\"possibly_sensitive\":true"
        } else {
            b",\"possibly_sensitive\":false"
        });
    }
    out.extend_from_slice(b",\"filter_level\":\"low\",\"lang\":\"");
    out.extend_from_slice(sc.lang.as_bytes());
    if top {
        out.extend_from_slice(b"\",\"timestamp_ms\":\"");
        put_u64(out, st.ms as u64);
    }
    out.extend_from_slice(b"\"}");
}

/// The `geo`, `coordinates` (longitude first) and `place` members of a located status.
fn write_geo(out: &mut Vec<u8>, tmp: &mut String, g: Geo, esc: Esc) {
    let c = &CITIES[g.city];
    out.extend_from_slice(b",\"geo\":{\"type\":\"Point\",\"coordinates\":[");
    put_micro(out, g.lat);
    out.push(b',');
    put_micro(out, g.lon);
    out.extend_from_slice(b"]},\"coordinates\":{\"type\":\"Point\",\"coordinates\":[");
    put_micro(out, g.lon);
    out.push(b',');
    put_micro(out, g.lat);
    out.extend_from_slice(b"]},\"place\":{\"id\":\"");
    let pid = mix64(0x91ACE ^ g.city as u64);
    put_hex16(out, pid);
    out.extend_from_slice(b"\",\"url\":");
    tmp.clear();
    tmp.push_str("https://api.twitter.com/1.1/geo/id/");
    for k in (0..16).rev() {
        tmp.push(HEX[((pid >> (k * 4)) & 15) as usize] as char);
    }
    tmp.push_str(".json");
    put_str(out, tmp, esc);
    out.extend_from_slice(b",\"place_type\":\"city\",\"name\":");
    put_str(out, c.name, esc);
    out.extend_from_slice(b",\"full_name\":");
    put_str(out, c.full_name, esc);
    out.extend_from_slice(b",\"country_code\":\"");
    out.extend_from_slice(c.cc.as_bytes());
    out.extend_from_slice(b"\",\"country\":");
    put_str(out, c.country, esc);
    out.extend_from_slice(b",\"bounding_box\":{\"type\":\"Polygon\",\"coordinates\":[[");
    let (la0, la1, lo0, lo1) = (
        c.lat - c.half,
        c.lat + c.half,
        c.lon - c.half,
        c.lon + c.half,
    );
    for (k, (lo, la)) in [(lo0, la0), (lo0, la1), (lo1, la1), (lo1, la0)]
        .into_iter()
        .enumerate()
    {
        if k > 0 {
            out.push(b',');
        }
        out.push(b'[');
        put_micro(out, lo);
        out.push(b',');
        put_micro(out, la);
        out.push(b']');
    }
    out.extend_from_slice(b"]]},\"attributes\":{}}");
}
