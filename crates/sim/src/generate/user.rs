//! Writing a user object, derived from the user's index so that a user looks the same in
//! every status.

use super::json::{Esc, push_u64_str, put_date, put_str, put_str_body, put_u64};
use super::links::{push_media_key, push_tco_code};
use super::random::{Split, pow10};
use super::words::{DESC_SEPS, DESCRIPTIONS, LOCATIONS, THEMES};
use super::world::{FIRST_ID, World};

/// A full v1.1 user object (~1.2–1.5 KB), derived from the user's index; only the counters move.
/// Every part draws from the same hash `h`, in the order written.
pub(super) fn write_user(w: &World, out: &mut Vec<u8>, tmp: &mut String, idx: u32, esc: Esc) {
    let uid = w.user_id(idx);
    let mut h = Split(w.user_hash(idx) ^ 0x0F11E);
    write_profile(w, out, tmp, idx, uid, &mut h, esc);
    write_counters(w, out, idx, &mut h);
    let default_theme = write_theme(out, tmp, &mut h, esc);
    let default_image = write_images(out, tmp, uid, &mut h, esc);
    out.extend_from_slice(if default_theme {
        b",\"default_profile\":true"
    } else {
        b",\"default_profile\":false"
    });
    out.extend_from_slice(if default_image {
        b",\"default_profile_image\":true"
    } else {
        b",\"default_profile_image\":false"
    });
    out.extend_from_slice(
        b",\"following\":null,\"follow_request_sent\":null,\"notifications\":null",
    );
    out.extend_from_slice(if h.below(1000) < 2 {
        b",\"withheld_in_countries\":[\"DE\"]"
    } else {
        b",\"withheld_in_countries\":[]"
    });
    out.push(b'}');
}

/// The ids, names, `location`, `url` and `description` of user `idx`, whose id is `uid`.
#[inline]
fn write_profile(
    w: &World,
    out: &mut Vec<u8>,
    tmp: &mut String,
    idx: u32,
    uid: u64,
    h: &mut Split,
    esc: Esc,
) {
    out.extend_from_slice(b"{\"id\":");
    put_u64(out, uid);
    out.extend_from_slice(b",\"id_str\":\"");
    put_u64(out, uid);
    out.extend_from_slice(b"\",\"name\":");
    tmp.clear();
    w.name(idx, tmp);
    put_str(out, tmp, esc);
    out.extend_from_slice(b",\"screen_name\":");
    tmp.clear();
    w.screen_name(idx, tmp);
    put_str(out, tmp, esc);
    out.extend_from_slice(b",\"location\":");
    if h.below(100) < 72 {
        put_str(
            out,
            LOCATIONS[h.below(LOCATIONS.len() as u64) as usize],
            esc,
        );
    } else {
        out.extend_from_slice(b"null");
    }
    out.extend_from_slice(b",\"url\":");
    if h.below(100) < 38 {
        tmp.clear();
        tmp.push_str("https://t.co/");
        push_tco_code(tmp, h.next());
        put_str(out, tmp, esc);
    } else {
        out.extend_from_slice(b"null");
    }
    out.extend_from_slice(b",\"description\":");
    if h.below(100) < 92 {
        tmp.clear();
        let n = 2 + h.below(3);
        for k in 0..n {
            if k > 0 {
                tmp.push_str(DESC_SEPS[h.below(DESC_SEPS.len() as u64) as usize]);
            }
            tmp.push_str(DESCRIPTIONS[h.below(DESCRIPTIONS.len() as u64) as usize]);
        }
        put_str(out, tmp, esc);
    } else {
        out.extend_from_slice(b"null");
    }
}

/// `translator_type` to `is_translator`: flags, the counters (which grow with what the user
/// posted) and `created_at`.
#[inline]
fn write_counters(w: &World, out: &mut Vec<u8>, idx: u32, h: &mut Split) {
    let posted = w.posted[idx as usize] as u64;
    out.extend_from_slice(if h.below(100) < 2 {
        b",\"translator_type\":\"regular\",\"protected\":false"
    } else {
        b",\"translator_type\":\"none\",\"protected\":false"
    });
    let popular = idx < 500;
    let verified = h.below(1000) < if popular { 300 } else { 8 };
    out.extend_from_slice(if verified {
        b",\"verified\":true"
    } else {
        b",\"verified\":false"
    });
    let boost = if popular { 1_000.0 } else { 1.0 };
    let followers = (pow10(h.unit() * 4.2) * boost) as u64 + posted / 2;
    out.extend_from_slice(b",\"followers_count\":");
    put_u64(out, followers);
    out.extend_from_slice(b",\"friends_count\":");
    put_u64(out, pow10(h.unit() * 3.6) as u64);
    out.extend_from_slice(b",\"listed_count\":");
    put_u64(out, followers / (50 + h.below(400)));
    out.extend_from_slice(b",\"favourites_count\":");
    put_u64(out, pow10(h.unit() * 4.8) as u64);
    out.extend_from_slice(b",\"statuses_count\":");
    put_u64(out, pow10(1.0 + h.unit() * 4.3) as u64 + posted);
    out.extend_from_slice(b",\"created_at\":\"");
    put_date(out, w.user_created_ms(idx));
    out.extend_from_slice(b"\",\"utc_offset\":null,\"time_zone\":null");
    out.extend_from_slice(if h.below(100) < 35 {
        b",\"geo_enabled\":true"
    } else {
        b",\"geo_enabled\":false"
    });
    out.extend_from_slice(b",\"lang\":null,\"contributors_enabled\":false,\"is_translator\":false");
}

/// The `profile_*` colours and background of one of the [`THEMES`]; whether it is the default.
#[inline]
fn write_theme(out: &mut Vec<u8>, tmp: &mut String, h: &mut Split, esc: Esc) -> bool {
    let default_theme = h.below(100) < 55;
    let theme = if default_theme {
        &THEMES[0]
    } else {
        &THEMES[h.below(THEMES.len() as u64) as usize]
    };
    out.extend_from_slice(b",\"profile_background_color\":\"");
    out.extend_from_slice(theme.bg.as_bytes());
    for (key, scheme) in [
        (&b"\",\"profile_background_image_url\":\""[..], "http:"),
        (
            &b"\",\"profile_background_image_url_https\":\""[..],
            "https:",
        ),
    ] {
        out.extend_from_slice(key);
        out.extend_from_slice(scheme.as_bytes());
        tmp.clear();
        tmp.push_str("//abs.twimg.com/images/themes/theme");
        push_u64_str(tmp, theme.number as u64);
        tmp.push_str("/bg.png");
        put_str_body(out, tmp, esc);
    }
    out.extend_from_slice(b"\",\"profile_background_tile\":false,\"profile_link_color\":\"");
    out.extend_from_slice(theme.link.as_bytes());
    out.extend_from_slice(b"\",\"profile_sidebar_border_color\":\"");
    out.extend_from_slice(theme.border.as_bytes());
    out.extend_from_slice(b"\",\"profile_sidebar_fill_color\":\"");
    out.extend_from_slice(theme.fill.as_bytes());
    out.extend_from_slice(b"\",\"profile_text_color\":\"");
    out.extend_from_slice(theme.text.as_bytes());
    out.extend_from_slice(if theme.use_image {
        b"\",\"profile_use_background_image\":true"
    } else {
        b"\",\"profile_use_background_image\":false"
    });
    default_theme
}

/// The profile image URLs and, for most users, a banner; whether the image is the default.
#[inline]
fn write_images(out: &mut Vec<u8>, tmp: &mut String, uid: u64, h: &mut Split, esc: Esc) -> bool {
    let default_image = h.below(100) < 3;
    tmp.clear();
    if default_image {
        tmp.push_str("//abs.twimg.com/sticky/default_profile_images/default_profile_normal.png");
    } else {
        tmp.push_str("//pbs.twimg.com/profile_images/");
        push_u64_str(tmp, FIRST_ID - 400_000_000_000_000_000 + (h.next() >> 5));
        tmp.push('/');
        push_media_key(tmp, h.next());
        tmp.push_str("_normal.jpg");
    }
    out.extend_from_slice(b",\"profile_image_url\":\"http:");
    put_str_body(out, tmp, esc);
    out.extend_from_slice(b"\",\"profile_image_url_https\":\"https:");
    put_str_body(out, tmp, esc);
    out.push(b'"');
    if h.below(100) < 70 {
        out.extend_from_slice(b",\"profile_banner_url\":");
        tmp.clear();
        tmp.push_str("https://pbs.twimg.com/profile_banners/");
        push_u64_str(tmp, uid);
        tmp.push('/');
        push_u64_str(tmp, 1_400_000_000 + h.below(240_000_000));
        put_str(out, tmp, esc);
    }
    default_image
}
