//! The generated lines: statuses and notices with every field well formed or anything at all,
//! ids written every way a server might, and garbage; each line knows the scrub it asks for.

use super::json::{J, junk, number, string};
use proptest::prelude::*;

/// How an id pair (`x` and `x_str`) is written; `usable` is the id a correct reader takes.
#[derive(Debug, Clone)]
struct IdPair {
    number: Option<J>,
    string: Option<J>,
    usable: Option<i64>,
}

fn id_pair(pool: impl Strategy<Value = i64> + Clone) -> impl Strategy<Value = IdPair> {
    let pair = |number: Option<J>, string: Option<J>, usable: Option<i64>| IdPair {
        number,
        string,
        usable,
    };
    prop_oneof![
        pool.clone().prop_map(move |n| pair(
            Some(J::Num(n.to_string())),
            Some(J::Str(n.to_string())),
            Some(n)
        )),
        pool.clone()
            .prop_map(move |n| pair(Some(J::Num(n.to_string())), None, Some(n))),
        pool.clone()
            .prop_map(move |n| pair(None, Some(J::Str(n.to_string())), Some(n))),
        // The numeric twin is unusable (a float, or lost): the `_str` form carries the id.
        (
            pool.clone(),
            prop_oneof![Just(".5"), Just(".0"), Just("e0")]
        )
            .prop_map(move |(n, tail)| pair(
                Some(J::Num(format!("{n}{tail}"))),
                Some(J::Str(n.to_string())),
                Some(n)
            )),
        (pool, junk()).prop_map(move |(n, j)| pair(Some(j), Some(J::Str(n.to_string())), None)),
        (prop::option::of(junk()), prop::option::of(junk()))
            .prop_map(move |(a, b)| pair(a, b, None)),
    ]
}

/// A small id space, so that notices meet the statuses they name.
fn tweet_ids() -> impl Strategy<Value = i64> + Clone {
    prop_oneof![0i64..12, Just(crate::common::BIG), Just(i64::MAX)]
}

fn user_ids() -> impl Strategy<Value = i64> + Clone {
    prop_oneof![0i64..4, Just(crate::common::BIG)]
}

fn push_pair(fields: &mut Vec<(String, J)>, name: &str, pair: IdPair) {
    if let Some(n) = pair.number {
        fields.push((name.to_string(), n));
    }
    if let Some(s) = pair.string {
        fields.push((format!("{name}_str"), s));
    }
}

fn point() -> impl Strategy<Value = J> {
    let coordinate = prop_oneof![
        (-180.0f64..180.0).prop_map(|f| J::Num(format!("{f:?}"))),
        number().prop_map(J::Num),
        (-90.0f64..90.0).prop_map(|f| J::Str(f.to_string())),
    ];
    let shapes = prop_oneof![
        prop::collection::vec(coordinate.clone(), 2..=2).prop_map(J::Arr),
        prop::collection::vec(coordinate.clone(), 3..=3).prop_map(J::Arr),
        prop::collection::vec(coordinate, 0..5).prop_map(J::Arr),
        string().prop_map(J::Str),
        junk(),
    ];
    prop_oneof![
        3 => shapes.clone().prop_map(|c| J::obj(vec![("type", J::Str("Point".into())), ("coordinates", c)])),
        1 => shapes,
        1 => Just(J::Null),
    ]
}

fn place() -> impl Strategy<Value = J> {
    prop_oneof![
        Just(J::Null),
        (string(), string()).prop_map(|(id, name)| J::obj(vec![
            ("id", J::Str(id)),
            ("full_name", J::Str(name)),
            ("country_code", J::Str("DE".into())),
        ])),
        string().prop_map(J::Str),
        junk(),
    ]
}

fn created_at() -> impl Strategy<Value = J> {
    prop_oneof![
        Just(J::Str("Wed Oct 10 20:19:24 +0000 2018".into())),
        Just(J::Str("Wed\u{e9}ct 10 20:19:24 +0000 2018".into())),
        "[A-Za-z\u{e9}\u{1F600}]{3} [A-Z][a-z]{2} [0-9]{2} [0-9:]{8} [+-][0-9]{4} [0-9]{4}"
            .prop_map(J::Str),
        string().prop_map(J::Str),
        junk(),
    ]
}

/// A status: every field may be well formed or anything at all; embedded statuses nest.
fn status() -> impl Strategy<Value = J> {
    let user = prop_oneof![
        4 => (id_pair(user_ids()), string()).prop_map(|(id, name)| {
            let mut fields = Vec::new();
            push_pair(&mut fields, "id", id);
            fields.push(("screen_name".to_string(), J::Str(name)));
            J::Obj(fields)
        }),
        1 => junk(),
    ];
    let flat = (
        id_pair(tweet_ids()),
        prop_oneof![3 => string().prop_map(J::Str), 1 => junk()],
        created_at(),
        user,
        (point(), point(), place()),
        prop::collection::vec((string(), junk()), 0..3),
    )
        .prop_map(
            |(id, text, created, user, (coordinates, geo, place), extra)| {
                let mut fields = Vec::new();
                push_pair(&mut fields, "id", id);
                fields.push(("text".into(), text));
                fields.push(("created_at".into(), created));
                fields.push(("user".into(), user));
                fields.push(("coordinates".into(), coordinates));
                fields.push(("geo".into(), geo));
                fields.push(("place".into(), place));
                fields.extend(extra);
                fields
            },
        )
        .boxed();
    flat.clone()
        .prop_map(J::Obj)
        .prop_recursive(2, 4, 2, move |inner| {
            (
                flat.clone(),
                prop::option::of(inner.clone()),
                prop::option::of(inner),
            )
                .prop_map(|(mut fields, retweeted, quoted)| {
                    if let Some(r) = retweeted {
                        fields.push(("retweeted_status".into(), r));
                    }
                    if let Some(q) = quoted {
                        fields.push(("quoted_status".into(), q));
                    }
                    J::Obj(fields)
                })
        })
}

fn countries() -> impl Strategy<Value = J> {
    let code = prop_oneof![
        Just(J::Str("DE".into())),
        Just(J::Str("XY".into())),
        "[A-Za-z\u{e9}]{0,3}".prop_map(J::Str),
        junk(),
    ];
    prop_oneof![
        4 => prop::collection::vec(code, 0..4).prop_map(J::Arr),
        1 => junk(),
    ]
}

/// One generated line, and the scrub it asks for when its ids are usable.
#[derive(Clone)]
pub struct Line {
    pub bytes: Vec<u8>,
    pub scrub: Option<(i64, i64)>,
}

impl std::fmt::Debug for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.bytes.escape_ascii())?;
        match self.scrub {
            Some((user, up_to)) => write!(f, "  (scrubs user {user} up to {up_to})"),
            None => Ok(()),
        }
    }
}

fn line(j: J) -> Line {
    Line {
        bytes: j.text().into_bytes(),
        scrub: None,
    }
}

fn notice() -> impl Strategy<Value = Line> {
    let envelope = |name: &'static str, body: J| line(J::obj(vec![(name, body)]));
    let extra = || prop::collection::vec((string(), junk()), 0..2);
    prop_oneof![
        (id_pair(tweet_ids()), id_pair(user_ids()), extra()).prop_map(move |(id, user, x)| {
            let mut status = Vec::new();
            push_pair(&mut status, "id", id);
            push_pair(&mut status, "user_id", user);
            status.extend(x);
            envelope("delete", J::obj(vec![("status", J::Obj(status))]))
        }),
        (id_pair(tweet_ids()), id_pair(user_ids())).prop_map(move |(id, user)| {
            let mut dm = Vec::new();
            push_pair(&mut dm, "id", id);
            push_pair(&mut dm, "user_id", user);
            envelope("delete", J::obj(vec![("direct_message", J::Obj(dm))]))
        }),
        (id_pair(user_ids()), id_pair(tweet_ids()), extra()).prop_map(move |(user, up_to, x)| {
            let scrub = user.usable.zip(up_to.usable);
            let mut body = Vec::new();
            push_pair(&mut body, "user_id", user);
            push_pair(&mut body, "up_to_status_id", up_to);
            body.extend(x);
            Line {
                scrub,
                ..envelope("scrub_geo", J::Obj(body))
            }
        }),
        (id_pair(tweet_ids()), id_pair(user_ids()), countries()).prop_map(
            move |(id, user, countries)| {
                let mut body = Vec::new();
                push_pair(&mut body, "id", id);
                push_pair(&mut body, "user_id", user);
                body.push(("withheld_in_countries".into(), countries));
                envelope("status_withheld", J::Obj(body))
            }
        ),
        (id_pair(user_ids()), countries()).prop_map(move |(user, countries)| {
            let mut body = Vec::new();
            push_pair(&mut body, "id", user);
            body.push(("withheld_in_countries".into(), countries));
            envelope("user_withheld", J::Obj(body))
        }),
        prop_oneof![
            Just("delete"),
            Just("scrub_geo"),
            Just("status_withheld"),
            Just("user_withheld")
        ]
        .prop_flat_map(move |name| junk().prop_map(move |j| envelope(name, j))),
    ]
}

fn garbage() -> impl Strategy<Value = Line> {
    prop_oneof![
        junk().prop_map(line),
        any::<String>().prop_map(|s| Line {
            bytes: s.into_bytes(),
            scrub: None
        }),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|bytes| Line { bytes, scrub: None }),
    ]
    .prop_map(|mut l| {
        l.bytes.retain(|&b| b != b'\n');
        l
    })
}

pub fn lines() -> impl Strategy<Value = Vec<Line>> {
    let one = prop_oneof![5 => status().prop_map(line), 4 => notice(), 1 => garbage()];
    prop::collection::vec(one, 1..30)
}
