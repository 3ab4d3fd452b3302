//! Hostile lines: every shape of issue 16 that once crashed the daemon, exhausted its memory,
//! sank the lines around it or slipped past compliance, each tagged with what the daemon must
//! make of it. A `{ hostile = "case" }` step writes one case's lines; the stats count them as
//! `hostile/<label>` in `by_kind` (the labels are [`LABELS`]), so that a test can check "archived = sent − hostile" and, per
//! label, what [`expect`] says.
//!
//! Ids are unique per call (a process-wide counter) and kept apart from generated traffic:
//! statuses and DMs from [`ID_BASE`] (below the generator's first id, above 2^53), users from
//! 1,000 to 9,000 (the generator's users start at 10,000).

use std::sync::atomic::{AtomicU64, Ordering};

/// Every case a `hostile` step may name; `all` is every one of them except `oversize`.
pub const CASES: &[&str] = &[
    "created_at_multibyte",
    "oversize",
    "unparsed_values",
    "scrub_geo_shapes",
    "deep_nesting",
    "delete_float_id",
    "delete_null",
    "withheld_countries",
    "dm_delete",
    "garbage",
];

/// First id of hostile statuses and DMs: 1.4e18, below the generator's 1.5e18, above 2^53.
pub const ID_BASE: u64 = 1_400_000_000_000_000_000;
/// Ids each call reserves.
const IDS_PER_CALL: u64 = 16;
/// The longitude every hostile geo status carries, so that a test can look for it in `raw`.
pub const GEO_LON: &str = "12.3456789";
/// The latitude every hostile geo status carries.
pub const GEO_LAT: &str = "41.9876543";
/// Default size of an `oversize` case line.
pub const DEFAULT_OVERSIZE: u64 = 2_000_000;

/// The other user of an event or a DM: `user + PARTNER` stays below 9,000.
const PARTNER: u64 = 4_000;

static CALLS: AtomicU64 = AtomicU64::new(0);
/// The first id of the last `deep_nesting` call, plus one (0: none yet).
static LAST_DEEP: AtomicU64 = AtomicU64::new(0);

/// What the daemon makes of a hostile line now that issue 16 is fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A `rejects` row whose reason contains this text, never an event.
    Rejected(&'static str),
    /// An event of this kind, never a reject.
    Archived(&'static str),
    /// An event of this kind on SQLite, which keeps `raw` as text; on PostgreSQL, whose `jsonb`
    /// cannot hold it, a reject whose reason contains `refused` (the database's own refusal).
    ArchivedUnlessPostgres {
        kind: &'static str,
        refused: &'static str,
    },
}

impl Expect {
    /// What the line becomes on one backend: [`Expect::Rejected`] or [`Expect::Archived`].
    pub fn on(self, postgres: bool) -> Expect {
        match self {
            Expect::ArchivedUnlessPostgres { refused, .. } if postgres => Expect::Rejected(refused),
            Expect::ArchivedUnlessPostgres { kind, .. } => Expect::Archived(kind),
            other => other,
        }
    }
}

/// The reason of a line nested deeper than the parser's bound (`protocol::depth`).
pub const TOO_DEEP: &str = "JSON nested deeper than 100 levels";

/// Every label a hostile line is counted under, with what becomes of it.
pub const LABELS: &[(&str, Expect)] = &[
    // Not a date: archived with a NULL time (the event keeps its `raw`).
    ("hostile/created_at_multibyte", Expect::Archived("tweet")),
    (
        "hostile/event_created_at_multibyte",
        Expect::Archived("event"),
    ),
    (
        "hostile/oversize",
        Expect::Rejected("bytes exceeds ingest.max_line_bytes"),
    ),
    // A lone surrogate escape: PostgreSQL's copy has U+FFFD in its place, SQLite's is as sent.
    ("hostile/lone_surrogate", Expect::Archived("tweet")),
    // `1e999999`: no `numeric` holds it, and no other number says the same.
    (
        "hostile/huge_number",
        Expect::ArchivedUnlessPostgres {
            kind: "tweet",
            refused: "database refused: value overflows numeric format",
        },
    ),
    ("hostile/geo_3d_point", Expect::Archived("tweet")),
    ("hostile/geo_string_coords", Expect::Archived("tweet")),
    ("hostile/scrub_geo", Expect::Archived("scrub_geo")),
    ("hostile/deep_150", Expect::Rejected(TOO_DEEP)),
    ("hostile/deep_1200", Expect::Rejected(TOO_DEEP)),
    ("hostile/delete_target", Expect::Archived("tweet")),
    // Applied from `id_str`: its target ends up deleted.
    ("hostile/delete_float_id", Expect::Archived("delete")),
    (
        "hostile/delete_null",
        Expect::Rejected("delete message malformed: `delete` is null, not an object"),
    ),
    (
        "hostile/withheld_bad_country",
        Expect::Rejected("withheld message malformed: invalid country code"),
    ),
    (
        "hostile/status_withheld_xx",
        Expect::Archived("status_withheld"),
    ),
    (
        "hostile/user_withheld_xy",
        Expect::Archived("user_withheld"),
    ),
    ("hostile/direct_message", Expect::Archived("direct_message")),
    ("hostile/dm_delete", Expect::Archived("delete")),
    (
        "hostile/invalid_utf8",
        Expect::Rejected("invalid UTF-8 at byte "),
    ),
    (
        "hostile/control_bytes",
        Expect::Rejected("malformed JSON: "),
    ),
];

/// The prefix of every hostile label: `by_kind` keys starting with it are hostile lines.
pub const PREFIX: &str = "hostile/";

/// What must become of a line counted under `label` (`None` for a label no case writes).
pub fn expect(label: &str) -> Option<Expect> {
    LABELS.iter().find(|(l, _)| *l == label).map(|(_, e)| *e)
}

/// The lines of `case` (one of [`CASES`]; `bytes` is the size of an `oversize` line), each with
/// its label; `None` for an unknown case.
pub(crate) fn lines(case: &str, bytes: u64) -> Option<Vec<(&'static str, Vec<u8>)>> {
    let n = CALLS.fetch_add(1, Ordering::Relaxed);
    let base = ID_BASE + n * IDS_PER_CALL;
    let ids = Ids {
        base,
        user: user_of(base),
    };
    let lines = match case {
        "created_at_multibyte" => created_at_multibyte(&ids, n),
        "oversize" => vec![("hostile/oversize", super::lines::oversize(bytes))],
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_writes_single_lines_with_known_labels() {
        for case in CASES {
            let lines = lines(case, 4096).expect("a known case");
            assert!(!lines.is_empty(), "{case}");
            for (label, line) in lines {
                assert!(expect(label).is_some(), "{case}: label {label}");
                assert!(!line.is_empty(), "{case}");
                assert!(!line.contains(&b'\n') && !line.contains(&b'\r'), "{case}");
            }
        }
        assert!(lines("nope", 0).is_none());
    }

    #[test]
    fn lines_that_must_be_archived_parse_and_the_others_are_refused_as_said() {
        for case in CASES.iter().filter(|c| **c != "oversize") {
            for (label, line) in lines(case, 4096).expect("known") {
                // The daemon's own parser: serde_json's `Value` refuses `\ud800` and `1e999999`.
                let parsed = streamvault_core::protocol::parse_line(&line);
                match expect(label).expect("a label") {
                    Expect::Rejected(reason) => {
                        let e = parsed.err().unwrap_or_else(|| panic!("{label}: parsed"));
                        assert!(e.to_string().contains(reason), "{label}: {e}");
                    }
                    Expect::Archived(_) | Expect::ArchivedUnlessPostgres { .. } => {
                        assert!(parsed.is_ok(), "{label}: {:?}", parsed.err());
                    }
                }
            }
        }
        let first = lines("deep_nesting", 0).expect("known");
        let (label, deep) = first.last().expect("lines");
        assert_eq!(*label, "hostile/deep_1200");
        assert!(deep.windows(1_200).any(|w| w.iter().all(|b| *b == b'[')));
        // The next call starts with the notice covering the statuses of an earlier one (this
        // one, unless a test running alongside called the case in between).
        let next = lines("deep_nesting", 0).expect("known");
        let (label, notice) = &next[0];
        assert_eq!(*label, "hostile/scrub_geo");
        let notice: serde_json::Value = serde_json::from_slice(notice).expect("JSON");
        let up_to = notice["scrub_geo"]["up_to_status_id"].as_u64().expect("id");
        let (label, deep_150) = &first[first.len() - 2];
        assert_eq!(*label, "hostile/deep_150");
        // Too deep for serde_json: the status id is the first `"id":` of the line.
        let text = std::str::from_utf8(deep_150).expect("UTF-8");
        let id = text
            .split("\"id\":")
            .nth(1)
            .and_then(|t| t.split(',').next());
        assert!(up_to > id.expect("an id").parse::<u64>().expect("digits"));
    }
}
