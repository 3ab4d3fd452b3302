//! The scenario as proptest generates it: how many users, which originals, retweets, quotes
//! and notices, which lines repeat. Indices are reduced modulo what exists when resolved.

use proptest::prelude::*;

pub const USERS: [i64; 3] = [11, 12, 13];
/// Deliberately not sorted: the archive stores countries as a sorted set.
pub const COUNTRIES: [&str; 4] = ["DE", "FR", "AR", "BR"];
/// Retweets and quotes get the ids `BIG + DERIVED_BASE + j`; originals `BIG + k`.
pub const DERIVED_BASE: i64 = 100;

/// The scenario as generated (indices are reduced modulo what exists when resolved).
#[derive(Clone, Debug)]
pub struct Scenario {
    pub users: usize,
    pub originals: Vec<OriginalSpec>,
    pub derived: Vec<DerivedSpec>,
    pub notices: Vec<NoticeSpec>,
    pub repeats: Vec<usize>,
}

#[derive(Clone, Debug)]
pub struct OriginalSpec {
    pub author: usize,
    pub geo: bool,
    /// Also sent on its own (else it exists only embedded, if anything embeds it).
    pub top_level: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DerivedKind {
    Retweet,
    Quote,
}

#[derive(Clone, Debug)]
pub struct DerivedSpec {
    pub kind: DerivedKind,
    /// An original, or a quote generated before this one.
    pub of: usize,
    pub by: usize,
    /// Quotes only: the quote itself is located.
    pub geo: bool,
}

#[derive(Clone, Debug)]
pub enum NoticeSpec {
    DeleteOriginal(usize),
    DeleteDerived(usize),
    ScrubGeo { user: usize, up_to: i64 },
    StatusWithheld { status: usize, countries: u8 },
    UserWithheld { user: usize, countries: u8 },
}

fn original_spec() -> impl Strategy<Value = OriginalSpec> {
    (0..3usize, any::<bool>(), prop::bool::weighted(0.8)).prop_map(|(author, geo, top_level)| {
        OriginalSpec {
            author,
            geo,
            top_level,
        }
    })
}

fn derived_spec() -> impl Strategy<Value = DerivedSpec> {
    (
        prop_oneof![Just(DerivedKind::Retweet), Just(DerivedKind::Quote)],
        0..12usize,
        0..2usize,
        any::<bool>(),
    )
        .prop_map(|(kind, of, by, geo)| DerivedSpec { kind, of, by, geo })
}

fn notice_spec() -> impl Strategy<Value = NoticeSpec> {
    prop_oneof![
        1 => (0..8usize).prop_map(NoticeSpec::DeleteOriginal),
        1 => (0..4usize).prop_map(NoticeSpec::DeleteDerived),
        2 => (0..3usize, prop_oneof![3 => 0..9i64, 1 => Just(DERIVED_BASE + 10)])
            .prop_map(|(user, up_to)| NoticeSpec::ScrubGeo { user, up_to }),
        1 => (0..12usize, 1..16u8)
            .prop_map(|(status, countries)| NoticeSpec::StatusWithheld { status, countries }),
        1 => (0..3usize, 1..16u8)
            .prop_map(|(user, countries)| NoticeSpec::UserWithheld { user, countries }),
    ]
}

pub fn scenario() -> impl Strategy<Value = Scenario> {
    (
        2..=3usize,
        prop::collection::vec(original_spec(), 3..=8),
        prop::collection::vec(derived_spec(), 0..=4),
        prop::collection::vec(notice_spec(), 0..=6),
        prop::collection::vec(0..64usize, 0..=3),
    )
        .prop_map(|(users, originals, derived, notices, repeats)| Scenario {
            users,
            originals,
            derived,
            notices,
            repeats,
        })
}
