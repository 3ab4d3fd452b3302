//! The lines of each hostile case: small valid statuses and notices of one call's own ids,
//! bent in the one way the case is about.

use super::{GEO_LAT, GEO_LON, ID_BASE};
use std::sync::atomic::{AtomicU64, Ordering};

/// Ids each call reserves.
const IDS_PER_CALL: u64 = 16;

/// The other user of an event or a DM: `user + PARTNER` stays below 9,000.
const PARTNER: u64 = 4_000;

static CALLS: AtomicU64 = AtomicU64::new(0);
/// The first id of the last `deep_nesting` call, plus one (0: none yet).
static LAST_DEEP: AtomicU64 = AtomicU64::new(0);

/// The lines of `case` (one of [`CASES`](super::CASES); `bytes` is the size of an `oversize`
/// line), each with its label; `None` for an unknown case.
pub(crate) fn lines(case: &str, bytes: u64) -> Option<Vec<(&'static str, Vec<u8>)>> {
    let n = CALLS.fetch_add(1, Ordering::Relaxed);
    let base = ID_BASE + n * IDS_PER_CALL;
    let ids = Ids {
        base,
        user: user_of(base),
    };
    let lines = match case {
        "created_at_multibyte" => created_at_multibyte(&ids, n),
        "oversize" => vec![("hostile/oversize", crate::simulate::lines::oversize(bytes))],
        "unparsed_values" => vec![
            (
                "hostile/lone_surrogate",
                ids.status(0, r#","x_note":"\ud800 alone""#),
            ),
            (
                "hostile/huge_number",
                ids.status(1, r#","x_metric":1e999999"#),
            ),
        ],
        "scrub_geo_shapes" => scrub_geo_shapes(&ids),
        "deep_nesting" => deep_nesting(&ids),
        "delete_float_id" => delete_float_id(&ids),
        "delete_null" => vec![("hostile/delete_null", br#"{"delete":null}"#.to_vec())],
        "withheld_countries" => withheld_countries(&ids),
        "dm_delete" => dm_delete(&ids),
        "garbage" => garbage(),
        _ => return None,
    };
    Some(lines)
}

/// The user of the call whose ids start at `base`: one of its own.
fn user_of(base: u64) -> u64 {
    1_000 + (base - ID_BASE) / IDS_PER_CALL % 4_000
}

/// The ids of one call: statuses `base + k` (k < 16), one user of its own.
struct Ids {
    base: u64,
    user: u64,
}

const GOOD_TIME: &str = "Wed Oct 10 20:19:24 +0000 2018";

impl Ids {
    fn id(&self, k: u64) -> u64 {
        self.base + k
    }

    /// A small, valid status `base + k` of the call's user, with `extra` members appended
    /// (`,"key":value`).
    fn status(&self, k: u64, extra: &str) -> Vec<u8> {
        self.status_at(k, &format!("{GOOD_TIME:?}"), extra)
    }

    /// The same with `created_at` given as JSON text.
    fn status_at(&self, k: u64, created_at: &str, extra: &str) -> Vec<u8> {
        let (id, user) = (self.id(k), self.user);
        format!(
            r#"{{"created_at":{created_at},"id":{id},"id_str":"{id}","text":"hostile {k}","user":{user_json},"entities":{{"hashtags":[],"urls":[],"user_mentions":[]}},"lang":"en"{extra}}}"#,
            user_json = user_json(user),
        )
        .into_bytes()
    }
}

fn user_json(user: u64) -> String {
    format!(r#"{{"id":{user},"id_str":"{user}","screen_name":"hostile_{user}","name":"Hostile"}}"#)
}

/// A status and a user event whose `created_at` has a two-byte character at byte 3, written
/// raw in UTF-8 on even calls and as a `\u00e9` escape on odd ones.
fn created_at_multibyte(ids: &Ids, n: u64) -> Vec<(&'static str, Vec<u8>)> {
    let time = if n % 2 == 0 {
        "\"Wed\u{e9}ct 10 20:19:24 +0000 2018\""
    } else {
        r#""Wed\u00e9ct 10 20:19:24 +0000 2018""#
    };
    let status = ids.status_at(0, time, "");
    let target = String::from_utf8_lossy(&ids.status(1, "")).into_owned();
    let event = format!(
        r#"{{"event":"favorite","created_at":{time},"source":{src},"target":{dst},"target_object":{target}}}"#,
        src = user_json(ids.user + PARTNER),
        dst = user_json(ids.user),
    );
    vec![
        ("hostile/created_at_multibyte", status),
        ("hostile/event_created_at_multibyte", event.into_bytes()),
    ]
}

fn point(lon: &str, lat: &str, alt: Option<&str>) -> String {
    let alt = alt.map(|a| format!(",{a}")).unwrap_or_default();
    format!(
        r#","geo":{{"type":"Point","coordinates":[{lat},{lon}{alt}]}},"coordinates":{{"type":"Point","coordinates":[{lon},{lat}{alt}]}}"#
    )
}

/// Statuses whose points are `[lon, lat, alt]` or strings, before and after a `scrub_geo` for
/// their user that covers all of them: none may keep a coordinate in `raw`.
fn scrub_geo_shapes(ids: &Ids) -> Vec<(&'static str, Vec<u8>)> {
    let three_d = point(GEO_LON, GEO_LAT, Some("30.5"));
    let strings = point(&format!("{GEO_LON:?}"), &format!("{GEO_LAT:?}"), None);
    vec![
        ("hostile/geo_3d_point", ids.status(0, &three_d)),
        ("hostile/geo_string_coords", ids.status(1, &strings)),
        ("hostile/scrub_geo", scrub_geo(ids, 3)),
        ("hostile/geo_3d_point", ids.status(2, &three_d)),
        ("hostile/geo_string_coords", ids.status(3, &strings)),
    ]
}

/// Statuses with a point and a field nested about 150 and 1,200 levels deep. The `scrub_geo`
/// covering them comes with the next call of the case (it starts with the notice for the
/// previous call's statuses), so that a daemon meets it with the statuses already stored, where
/// the scrub runs in the database.
fn deep_nesting(ids: &Ids) -> Vec<(&'static str, Vec<u8>)> {
    let geo = point(GEO_LON, GEO_LAT, None);
    let nested = |depth: usize| {
        format!(
            r#"{geo},"x_nested":{}1{}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        )
    };
    let mut lines = Vec::new();
    let previous = LAST_DEEP.swap(ids.base + 1, Ordering::Relaxed);
    if let Some(base) = previous.checked_sub(1) {
        let user = user_of(base);
        lines.push(("hostile/scrub_geo", scrub_geo(&Ids { base, user }, 1)));
    }
    lines.push(("hostile/deep_150", ids.status(0, &nested(150))));
    lines.push(("hostile/deep_1200", ids.status(1, &nested(1_200))));
    lines
}

/// A `scrub_geo` for the call's user, up to status `base + k`.
fn scrub_geo(ids: &Ids, k: u64) -> Vec<u8> {
    let (user, up_to) = (ids.user, ids.id(k));
    format!(
        r#"{{"scrub_geo":{{"user_id":{user},"user_id_str":"{user}","up_to_status_id":{up_to},"up_to_status_id_str":"{up_to}"}}}}"#
    )
    .into_bytes()
}

/// A status, then its delete whose `id` is a float (unusable) and whose `id_str` is right.
fn delete_float_id(ids: &Ids) -> Vec<(&'static str, Vec<u8>)> {
    let (id, user) = (ids.id(0), ids.user);
    let delete = format!(
        r#"{{"delete":{{"status":{{"id":{float:e},"id_str":"{id}","user_id":{user},"user_id_str":"{user}"}}}}}}"#,
        float = id as f64,
    );
    vec![
        ("hostile/delete_target", ids.status(0, "")),
        ("hostile/delete_float_id", delete.into_bytes()),
    ]
}

/// Withheld notices with country codes that are not two upper-case letters, then good ones
/// (the API's `XX`, all countries, and `XY`, a DMCA notice).
fn withheld_countries(ids: &Ids) -> Vec<(&'static str, Vec<u8>)> {
    let (id, user) = (ids.id(0), ids.user);
    let status = |c: &str| {
        format!(
            r#"{{"status_withheld":{{"id":{id},"user_id":{user},"withheld_in_countries":[{c}]}}}}"#
        )
        .into_bytes()
    };
    let user_notice = |c: &str| {
        format!(r#"{{"user_withheld":{{"id":{user},"withheld_in_countries":[{c}]}}}}"#).into_bytes()
    };
    let mut lines = Vec::new();
    for bad in [r#""D""#, r#""123""#, r#""de-DE""#] {
        lines.push(("hostile/withheld_bad_country", status(bad)));
        lines.push(("hostile/withheld_bad_country", user_notice(bad)));
    }
    lines.push(("hostile/status_withheld_xx", status(r#""XX""#)));
    lines.push(("hostile/user_withheld_xy", user_notice(r#""XY""#)));
    lines
}

/// Two direct messages, then their delete notices as user streams send them: one with
/// `id_str`, one without.
fn dm_delete(ids: &Ids) -> Vec<(&'static str, Vec<u8>)> {
    let (sender, recipient) = (ids.user, ids.user + PARTNER);
    let dm = |k: u64| {
        let id = ids.id(k);
        format!(
            r#"{{"direct_message":{{"id":{id},"id_str":"{id}","text":"hostile dm {k}","sender_id":{sender},"sender_id_str":"{sender}","recipient_id":{recipient},"recipient_id_str":"{recipient}","sender_screen_name":"hostile_{sender}","recipient_screen_name":"hostile_{recipient}","created_at":"{GOOD_TIME}"}}}}"#
        )
        .into_bytes()
    };
    let (a, b) = (ids.id(0), ids.id(1));
    vec![
        ("hostile/direct_message", dm(0)),
        ("hostile/direct_message", dm(1)),
        (
            "hostile/dm_delete",
            format!(r#"{{"delete":{{"direct_message":{{"id":{a},"id_str":"{a}","user_id":{sender},"user_id_str":"{sender}"}}}}}}"#)
                .into_bytes(),
        ),
        (
            "hostile/dm_delete",
            format!(r#"{{"delete":{{"direct_message":{{"id":{b},"user_id":{sender}}}}}}}"#)
                .into_bytes(),
        ),
    ]
}

/// Bytes that are not text: invalid UTF-8 (a UTF-8-encoded surrogate included), and valid
/// UTF-8 of NULs and control bytes that is not JSON (never a line break).
fn garbage() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "hostile/invalid_utf8",
            vec![0xff, 0xfe, 0x00, 0x01, 0xc3, 0x28, 0x80, 0x7f],
        ),
        (
            "hostile/invalid_utf8",
            b"{\"text\":\"\xed\xa0\x80 surrogate in UTF-8\"}".to_vec(),
        ),
        (
            "hostile/control_bytes",
            b"\x1b[31m\x00\x00\x00binary\x08\x0b\x0c".to_vec(),
        ),
    ]
}
