//! The scenario made concrete ([`World`]): statuses with ids and authors, notices about them,
//! and the ndjson lines that carry them, each with a readable label.

use super::scenario::{
    COUNTRIES, DERIVED_BASE, DerivedKind, DerivedSpec, NoticeSpec, OriginalSpec, Scenario, USERS,
};
use crate::common::{
    BIG, delete, geo_tweet, quote, retweet, scrub_geo, status_withheld, tweet, user_withheld,
};
use serde_json::Value;
use std::fmt;

/// A status id, shown as `#k` for `BIG + k`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(pub i64);

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if (BIG..BIG + 100_000).contains(&self.0) {
            write!(f, "#{}", self.0 - BIG)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum StatusKind {
    Original { top_level: bool },
    Retweet { of: i64 },
    Quote { of: i64 },
}

#[derive(Clone, Debug)]
pub struct Status {
    pub id: i64,
    pub author: i64,
    pub geo: bool,
    pub kind: StatusKind,
}

#[derive(Clone, Debug)]
pub enum Notice {
    Delete {
        id: i64,
    },
    ScrubGeo {
        user: i64,
        up_to: i64,
    },
    StatusWithheld {
        id: i64,
        countries: Vec<&'static str>,
    },
    UserWithheld {
        user: i64,
        countries: Vec<&'static str>,
    },
}

/// One input line: a readable label and the JSON sent.
#[derive(Clone)]
pub struct Line {
    pub label: String,
    pub json: String,
}

/// The scenario made concrete.
#[derive(Clone, Debug)]
pub struct World {
    pub statuses: Vec<Status>,
    pub notices: Vec<Notice>,
    /// Canonical order: top-level originals, retweets and quotes, notices, repeats.
    pub lines: Vec<Line>,
}

impl fmt::Debug for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

pub fn subset(mask: u8) -> Vec<&'static str> {
    COUNTRIES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, c)| *c)
        .collect()
}

/// The text of original `k`; unique, and no text is a prefix of another.
pub fn original_text(k: i64) -> String {
    format!("text of original {k}.")
}

pub fn locate(line: &str) -> String {
    let located: Value = serde_json::from_str(&geo_tweet(0, 0, "")).unwrap();
    let mut v: Value = serde_json::from_str(line).unwrap();
    for key in ["coordinates", "geo", "place"] {
        v[key] = located[key].clone();
    }
    v.to_string()
}

/// Makes the scenario concrete: its originals, then its retweets and quotes, then its notices,
/// then its repeated lines, each appended to the canonical order.
pub fn resolve(s: &Scenario) -> World {
    let users = &USERS[..s.users];
    let mut world = Builder {
        users,
        statuses: Vec::new(),
        status_json: Vec::new(),
        lines: Vec::new(),
    };
    for (k, o) in s.originals.iter().enumerate() {
        world.original(k, o);
    }
    for (j, d) in s.derived.iter().enumerate() {
        world.derived(j, d);
    }
    let mut notices = Vec::new();
    for n in &s.notices {
        let notice = notice(s, n, &world.statuses, users);
        world.lines.push(notice_line(&notice, &world.statuses));
        notices.push(notice);
    }
    let mut lines = world.lines;
    if !lines.is_empty() {
        let base = lines.len();
        for r in &s.repeats {
            let mut again = lines[r % base].clone();
            again.label.push_str(" (again)");
            lines.push(again);
        }
    }
    World {
        statuses: world.statuses,
        notices,
        lines,
    }
}

/// A world's statuses as they are made, with their lines.
struct Builder<'a> {
    users: &'a [i64],
    statuses: Vec<Status>,
    /// Every status's JSON, by index in `statuses`.
    status_json: Vec<String>,
    lines: Vec<Line>,
}

impl Builder<'_> {
    /// Original `k`, with a line of its own if it is sent top-level.
    fn original(&mut self, k: usize, o: &OriginalSpec) {
        let users = self.users;
        let (id, author) = (BIG + k as i64, users[o.author % users.len()]);
        let text = original_text(k as i64);
        // Built once: the top-level copy and every embedded copy are the same JSON.
        let json = if o.geo {
            geo_tweet(id, author, &text)
        } else {
            tweet(id, author, &text)
        };
        if o.top_level {
            self.lines.push(Line {
                label: format!("T{:?}@{author}{}", Id(id), if o.geo { " geo" } else { "" }),
                json: json.clone(),
            });
        }
        self.status_json.push(json);
        self.statuses.push(Status {
            id,
            author,
            geo: o.geo,
            kind: StatusKind::Original {
                top_level: o.top_level,
            },
        });
    }

    /// Retweet or quote `j`, by another user than the author of what it carries.
    fn derived(&mut self, j: usize, d: &DerivedSpec) {
        let (users, statuses) = (self.users, &self.statuses);
        // Retweets and quotes are of an original or of an earlier quote.
        let targets: Vec<usize> = (0..statuses.len())
            .filter(|&i| !matches!(statuses[i].kind, StatusKind::Retweet { .. }))
            .collect();
        let of = targets[d.of % targets.len()];
        let orig = &statuses[of];
        let (of_id, of_author) = (orig.id, orig.author);
        let author_idx = users.iter().position(|u| *u == of_author).unwrap();
        let by = users[(author_idx + 1 + d.by % (users.len() - 1)) % users.len()];
        let id = BIG + DERIVED_BASE + j as i64;
        let (json, kind, geo, tag) = match d.kind {
            DerivedKind::Retweet => (
                retweet(id, by, &self.status_json[of]),
                StatusKind::Retweet { of: of_id },
                false,
                "RT",
            ),
            DerivedKind::Quote => {
                let q = quote(id, by, &self.status_json[of]);
                let q = if d.geo { locate(&q) } else { q };
                (q, StatusKind::Quote { of: of_id }, d.geo, "Q")
            }
        };
        self.lines.push(Line {
            label: format!(
                "{tag}{:?}@{by}({:?}){}",
                Id(id),
                Id(of_id),
                if geo { " geo" } else { "" }
            ),
            json: json.clone(),
        });
        self.status_json.push(json);
        self.statuses.push(Status {
            id,
            author: by,
            geo,
            kind,
        });
    }
}

/// The notice a spec names, about statuses and users that exist.
fn notice(s: &Scenario, n: &NoticeSpec, statuses: &[Status], users: &[i64]) -> Notice {
    match *n {
        NoticeSpec::DeleteDerived(j) if !s.derived.is_empty() => {
            let st = &statuses[s.originals.len() + j % s.derived.len()];
            Notice::Delete { id: st.id }
        }
        NoticeSpec::DeleteOriginal(k) | NoticeSpec::DeleteDerived(k) => Notice::Delete {
            id: statuses[k % s.originals.len()].id,
        },
        NoticeSpec::ScrubGeo { user, up_to } => Notice::ScrubGeo {
            user: users[user % users.len()],
            up_to: BIG + up_to,
        },
        NoticeSpec::StatusWithheld { status, countries } => Notice::StatusWithheld {
            id: statuses[status % statuses.len()].id,
            countries: subset(countries),
        },
        NoticeSpec::UserWithheld { user, countries } => Notice::UserWithheld {
            user: users[user % users.len()],
            countries: subset(countries),
        },
    }
}

/// The line that carries a notice.
fn notice_line(notice: &Notice, statuses: &[Status]) -> Line {
    let author_of = |id: i64| statuses.iter().find(|s| s.id == id).unwrap().author;
    match notice {
        Notice::Delete { id } => Line {
            label: format!("DEL{:?}", Id(*id)),
            json: delete(*id, author_of(*id)),
        },
        Notice::ScrubGeo { user, up_to } => Line {
            label: format!("SCRUB@{user}<={:?}", Id(*up_to)),
            json: scrub_geo(*user, *up_to),
        },
        Notice::StatusWithheld { id, countries } => Line {
            label: format!("WH{:?}{countries:?}", Id(*id)),
            json: status_withheld(*id, author_of(*id), countries),
        },
        Notice::UserWithheld { user, countries } => Line {
            label: format!("UWH@{user}{countries:?}"),
            json: user_withheld(*user, countries),
        },
    }
}
