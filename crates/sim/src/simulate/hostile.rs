//! Hostile lines: every shape of issue 16 that once crashed the daemon, exhausted its memory,
//! sank the lines around it or slipped past compliance, each tagged with what the daemon must
//! make of it. A `{ hostile = "case" }` step writes one case's lines; the stats count them as
//! `hostile/<label>` in `by_kind` (the labels are [`LABELS`]), so that a test can check "archived = sent − hostile" and, per
//! label, what [`expect`] says.
//!
//! Ids are unique per call (a process-wide counter) and kept apart from generated traffic:
//! statuses and DMs from [`ID_BASE`] (below the generator's first id, above 2^53), users from
//! 1,000 to 9,000 (the generator's users start at 10,000).

mod cases;

pub(crate) use cases::lines;

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
/// The longitude every hostile geo status carries, so that a test can look for it in `raw`.
pub const GEO_LON: &str = "12.3456789";
/// The latitude every hostile geo status carries.
pub const GEO_LAT: &str = "41.9876543";
/// Default size of an `oversize` case line.
pub const DEFAULT_OVERSIZE: u64 = 2_000_000;

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
