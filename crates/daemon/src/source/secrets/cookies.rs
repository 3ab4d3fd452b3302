//! Cookies for stream requests: read from a `cookies_file` or a systemd credential, in the
//! three formats users have at hand; only their names ever reach a log.

use super::{Secret, SecretError, files, read};
use crate::config::{ONE_COOKIES_SOURCE, StreamSettings};
use std::env::VarError;
use std::fmt;
use std::path::Path;

/// Reads the cookies of the `index`-th stream from its `cookies_file` or `cookies_credential`;
/// `None` when neither is set.
pub fn cookies(stream: &StreamSettings, index: usize) -> Result<Option<Cookies>, SecretError> {
    cookies_from(stream, index, |var| std::env::var(var))
}

/// [`cookies`] with the environment as an argument.
pub(super) fn cookies_from(
    stream: &StreamSettings,
    index: usize,
    env: impl Fn(&str) -> Result<String, VarError>,
) -> Result<Option<Cookies>, SecretError> {
    match (&stream.cookies_file, &stream.cookies_credential) {
        (Some(_), Some(_)) => Err(SecretError::Ambiguous {
            key: format!("stream[{index}].cookies_credential"),
            sources: ONE_COOKIES_SOURCE,
        }),
        (Some(path), None) => {
            let key = format!("stream[{index}].cookies_file");
            files::warn_if_readable(&key, path);
            Cookies::load(path, &key).map(Some)
        }
        (None, Some(name)) => {
            let key = format!("stream[{index}].cookies_credential");
            let path = files::credential_path(name, &key, &env)?;
            Cookies::load(&path, &key).map(Some)
        }
        (None, None) => Ok(None),
    }
}

/// Cookies from a `cookies_file`, in file order; `Debug` prints only their names.
#[derive(Clone)]
pub struct Cookies {
    pub(super) pairs: Vec<(String, String)>,
}

impl fmt::Debug for Cookies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cookies")
            .field("names", &self.names())
            .finish()
    }
}

impl Cookies {
    /// Parses the three formats users have at hand: one line in Cookie-header form
    /// (`a=b; ct0=c`, an optional `Cookie:` prefix allowed), a JSON object of names to string
    /// values (twikit's `save_cookies`), or a Netscape `cookies.txt` (`#HttpOnly_` lines are
    /// cookies). A name given twice keeps its last value. Errors never quote cookie values.
    pub fn parse(text: &str) -> Result<Cookies, String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let trimmed = text.trim();
        let pairs = if trimmed.is_empty() {
            return Err("the file is empty".into());
        } else if trimmed.starts_with('{') {
            parse_json(trimmed)?
        } else if trimmed.starts_with('[') {
            return Err(
                "a JSON array is not supported: expected a JSON object of cookie names \
                        to values, as twikit's save_cookies writes"
                    .into(),
            );
        } else if text
            .lines()
            .any(|l| l.trim_start().starts_with('#') || l.contains('\t'))
        {
            parse_netscape(text)?
        } else {
            parse_header(trimmed)?
        };
        let mut cookies = Cookies { pairs: Vec::new() };
        for (n, (name, value)) in pairs.into_iter().enumerate() {
            check(n + 1, &name, &value)?;
            match cookies.pairs.iter_mut().find(|(have, _)| *have == name) {
                Some(pair) => pair.1 = value,
                None => cookies.pairs.push((name, value)),
            }
        }
        if cookies.pairs.is_empty() {
            return Err("no cookies found".into());
        }
        Ok(cookies)
    }

    /// Reads and parses `path`; `key` (e.g. `stream[1].cookies_file`) names the setting in errors.
    pub fn load(path: &Path, key: &str) -> Result<Cookies, SecretError> {
        let text = read(path, key)?;
        Cookies::parse(&text).map_err(|reason| SecretError::File {
            key: key.into(),
            path: path.to_owned(),
            reason,
        })
    }

    /// The value of the `Cookie` header: `a=b; ct0=c`.
    pub fn header_value(&self) -> Secret {
        let parts: Vec<String> = self.pairs.iter().map(|(n, v)| format!("{n}={v}")).collect();
        Secret(parts.join("; "))
    }

    /// The `ct0` cookie, which the server also expects as the `x-csrf-token` header.
    pub fn csrf_token(&self) -> Option<Secret> {
        self.pairs
            .iter()
            .find(|(name, _)| name == "ct0")
            .map(|(_, value)| Secret::new(value.as_str()))
    }

    /// The cookie names, in file order: safe to log.
    pub fn names(&self) -> Vec<&str> {
        self.pairs.iter().map(|(name, _)| name.as_str()).collect()
    }
}

/// A name must be an HTTP token; a value must not end the cookie early or break the header line.
fn check(n: usize, name: &str, value: &str) -> Result<(), String> {
    let token_char = |c: char| c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?={}".contains(c);
    if name.is_empty() || !name.chars().all(token_char) {
        // The name itself is not shown: a malformed one may hold part of a value.
        return Err(format!(
            "cookie #{n} has an empty name or characters not allowed in a cookie name"
        ));
    }
    if value.chars().any(|c| c == ';' || c.is_control()) {
        return Err(format!(
            "the value of cookie {name:?} holds `;` or control characters"
        ));
    }
    Ok(())
}

fn parse_header(line: &str) -> Result<Vec<(String, String)>, String> {
    let lines = line.lines().filter(|l| !l.trim().is_empty()).count();
    if lines > 1 {
        return Err(format!(
            "expected one line in Cookie-header form (`name=value; name2=value2`), \
             a JSON object or a Netscape cookies.txt; found {lines} lines"
        ));
    }
    let line = match line.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("cookie:") => &line[7..],
        _ => line,
    };
    let mut pairs = Vec::new();
    for (n, part) in line.split(';').enumerate() {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| format!("part {} of the Cookie header has no `=`", n + 1))?;
        pairs.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(pairs)
}

fn parse_json(text: &str) -> Result<Vec<(String, String)>, String> {
    use serde_json::Value;
    // Only the category and position of a JSON error are shown: serde's own message may quote input.
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Eof => "unexpected end",
            serde_json::error::Category::Syntax | serde_json::error::Category::Data => {
                "syntax error"
            }
            serde_json::error::Category::Io => "read error",
        };
        format!(
            "not valid JSON: {what} at line {} column {}",
            e.line(),
            e.column()
        )
    })?;
    let Value::Object(map) = value else {
        return Err("expected a JSON object of cookie names to values".into());
    };
    map.into_iter()
        .map(|(name, value)| match value {
            Value::String(value) => Ok((name, value)),
            other => {
                let kind = match other {
                    Value::Null => "null",
                    Value::Bool(_) => "boolean",
                    Value::Number(_) => "number",
                    Value::Array(_) => "array",
                    Value::Object(_) | Value::String(_) => "object",
                };
                Err(format!(
                    "cookie {name:?} has a {kind} value; cookie values must be JSON strings"
                ))
            }
        })
        .collect()
}

/// Netscape `cookies.txt`: domain, subdomains flag, path, secure, expiry, name, value, separated
/// by tabs. A trailing empty value whose tab an editor stripped (6 fields) is accepted.
fn parse_netscape(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let record = match line.strip_prefix("#HttpOnly_") {
            Some(record) => record,
            None if line.trim().is_empty() || line.trim_start().starts_with('#') => continue,
            None => line,
        };
        let fields: Vec<&str> = record.trim_end_matches(['\r', '\n']).split('\t').collect();
        let (name, value) = match fields.as_slice() {
            [_, _, _, _, _, name, value] => (name, *value),
            [_, _, _, _, _, name] => (name, ""),
            _ => {
                return Err(format!(
                    "line {}: expected 7 tab-separated fields (domain, subdomains, path, \
                     secure, expiry, name, value), found {}",
                    n + 1,
                    fields.len()
                ));
            }
        };
        pairs.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(pairs)
}
