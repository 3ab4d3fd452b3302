//! Links: t.co codes, the URLs they expand to, and Twitter's shortened `display_url`.

use super::json::push_u64_str;
use super::random::Split;
use super::words::{B64URL, HANDLE_A, HANDLE_B, HEX, SLUG_WORDS};
use super::world::World;

/// The full URL behind a link entity: one of [`SITE_COUNT`] sites, with a path from `path`.
pub(super) fn expanded_url(site: u8, path: u64, s: &mut String) {
    let mut h = Split(path);
    s.clear();
    match site {
        0 => {
            s.push_str("https://www.nytimes.com/2022/0");
            push_u64_str(s, 1 + h.below(9));
            s.push('/');
            push_u64_str(s, 10 + h.below(18));
            s.push_str("/world/");
            push_slug(s, &mut h);
            s.push_str(".html");
        }
        1 => {
            s.push_str("https://github.com/");
            s.push_str(HANDLE_B[h.below(HANDLE_B.len() as u64) as usize]);
            s.push('/');
            push_slug(s, &mut h);
        }
        2 => {
            s.push_str("https://www.youtube.com/watch?v=");
            push_chars(s, &mut h, 11, B64URL);
        }
        3 => {
            s.push_str("https://www.bbc.co.uk/news/world-europe-");
            push_u64_str(s, 60_000_000 + h.below(9_999_999));
        }
        4 => {
            s.push_str("https://medium.com/@");
            s.push_str(HANDLE_A[h.below(HANDLE_A.len() as u64) as usize]);
            s.push('/');
            push_slug(s, &mut h);
            s.push('-');
            push_chars(s, &mut h, 12, HEX);
        }
        5 => {
            s.push_str("https://www.instagram.com/p/");
            push_chars(s, &mut h, 11, B64URL);
            s.push('/');
        }
        6 => {
            s.push_str("https://open.spotify.com/track/");
            push_chars(s, &mut h, 22, &B64URL[..62]);
            s.push_str("?si=");
            push_chars(s, &mut h, 16, HEX);
        }
        7 => {
            s.push_str("https://www.google.com/search?q=caf%C3%A9+");
            s.push_str(SLUG_WORDS[h.below(SLUG_WORDS.len() as u64) as usize]);
            s.push_str("&hl=fr&oq=caf%C3%A9");
        }
        _ => {
            s.push_str("https://www.amazon.de/dp/B0");
            push_chars(s, &mut h, 8, &B64URL[26..62]);
            s.push_str("?ref_=ast_sto_dp&th=1&psc=1");
        }
    }
}

/// How many sites [`expanded_url`] knows.
pub(super) const SITE_COUNT: u8 = 9;

/// The permalink of a status, as quote links use.
pub(super) fn quote_url(w: &World, id: u64, user: u32, s: &mut String) {
    s.clear();
    s.push_str("https://twitter.com/");
    w.screen_name(user, s);
    s.push_str("/status/");
    push_u64_str(s, id);
}

/// Twitter's `display_url`: no scheme, no `www.`, cut with an ellipsis past 26 characters.
pub(super) fn display_of(s: &mut String) {
    let mut start = s.find("://").map_or(0, |i| i + 3);
    if s[start..].starts_with("www.") {
        start += 4;
    }
    s.drain(..start);
    if let Some((cut, _)) = s.char_indices().nth(26) {
        s.truncate(cut);
        s.push('\u{2026}');
    }
}

/// A few words joined by `-`, like an article's URL.
fn push_slug(s: &mut String, h: &mut Split) {
    let n = 2 + h.below(5);
    for k in 0..n {
        if k > 0 {
            s.push('-');
        }
        s.push_str(SLUG_WORDS[h.below(SLUG_WORDS.len() as u64) as usize]);
    }
}

/// `n` characters drawn from `alphabet`.
fn push_chars(s: &mut String, h: &mut Split, n: usize, alphabet: &[u8]) {
    for _ in 0..n {
        s.push(alphabet[h.below(alphabet.len() as u64) as usize] as char);
    }
}

/// A t.co code filling `dst`, derived from `key` so that a link is the same in every copy.
pub(super) fn tco_code(key: u64, dst: &mut [u8]) {
    let mut h = Split(key);
    for b in dst.iter_mut() {
        *b = B64URL[h.below(62) as usize];
    }
}

/// Appends a 10-character t.co code derived from `key`.
pub(super) fn push_tco_code(s: &mut String, key: u64) {
    let mut code = [0u8; 10];
    tco_code(key, &mut code);
    s.extend(code.iter().map(|&b| b as char));
}

/// Appends the 15-character key of an image URL.
pub(super) fn push_media_key(s: &mut String, key: u64) {
    let mut h = Split(key);
    push_chars(s, &mut h, 15, B64URL);
}
