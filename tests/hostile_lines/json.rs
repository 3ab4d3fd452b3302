//! JSON written out by hand ([`J`]), so that a generated line can hold what
//! `serde_json::Value` cannot, and the strategies for values of any shape.

use proptest::prelude::*;
use std::fmt::Write;

/// A JSON value written out by hand, so that it can hold what `serde_json::Value` cannot:
/// numbers such as `1e999999`, lone surrogate escapes, nesting past any parser's limit.
#[derive(Debug, Clone)]
pub enum J {
    Null,
    Bool(bool),
    /// A number's literal text.
    Num(String),
    Str(String),
    /// A string literal's raw text between the quotes (escapes included as written).
    RawStr(&'static str),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
    /// `depth` levels of `[` around the value.
    Deep(usize, Box<J>),
}

impl J {
    pub fn write(&self, out: &mut String) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => write!(out, "{b}").unwrap(),
            J::Num(n) => out.push_str(n),
            J::Str(s) => out.push_str(&serde_json::to_string(s).unwrap()),
            J::RawStr(s) => write!(out, "\"{s}\"").unwrap(),
            J::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            J::Obj(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(key).unwrap());
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
            J::Deep(depth, inner) => {
                out.push_str(&"[".repeat(*depth));
                inner.write(out);
                out.push_str(&"]".repeat(*depth));
            }
        }
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    pub fn obj(fields: Vec<(&str, J)>) -> J {
        J::Obj(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }
}

pub fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (-5i64..30).prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:?}")),
        Just("1e999999".to_string()),
        Just("-1e999999".to_string()),
        Just("1.5".to_string()),
        Just("-0".to_string()),
        Just("1E2".to_string()),
        Just("18446744073709551616".to_string()),
        Just("-9223372036854775809".to_string()),
        Just("123456789012345678901234567890".to_string()),
    ]
}

pub fn string() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-z]{0,6}", "\\PC{0,12}"]
}

fn raw_string() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("\\ud800"),
        Just("\\udfff\\ud800x"),
        Just("\\u0000"),
        Just("\\ud83d\\ude00"),
        Just("a\\nb\\\"c"),
    ]
}

/// Any JSON value, nested up to a few levels, sometimes very deep.
pub fn junk() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        number().prop_map(J::Num),
        string().prop_map(J::Str),
        raw_string().prop_map(J::RawStr),
    ];
    let tree = leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Arr),
            prop::collection::vec((string(), inner), 0..4).prop_map(J::Obj),
        ]
    });
    prop_oneof![
        10 => tree,
        1 => (prop_oneof![Just(129usize), Just(1100usize)], number())
            .prop_map(|(d, n)| J::Deep(d, Box::new(J::Num(n)))),
    ]
}
