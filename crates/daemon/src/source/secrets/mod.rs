//! Secrets for stream requests: bearer tokens and cookies, read from files, systemd credentials
//! or the environment.
//!
//! Values are wrapped in [`Secret`] as soon as they are read, so `Debug`, `Display` and error
//! messages can only ever show `***`, cookie names, config keys, paths and variable names.

mod files;

use crate::config::{ONE_COOKIES_SOURCE, ONE_TOKEN_SOURCE, StreamSettings};
pub use files::{CREDENTIALS_DIRECTORY, file_warnings, permission_warning, readable_by_others};
use std::env::VarError;
use std::fmt;
use std::path::{Path, PathBuf};

/// A secret value; `Debug` and `Display` print `***` so it cannot reach a log by accident.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value that must not be logged.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for building the request; never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A secret that cannot be read. Messages name the config key, the file or variable and the
/// reason, never the content; they are configuration errors (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The file cannot be opened or is not UTF-8.
    #[error("invalid configuration key `{key}`: cannot read {}: {reason}", .path.display())]
    Read {
        key: String,
        path: PathBuf,
        reason: String,
    },
    /// The file was read but does not hold a usable secret.
    #[error("invalid configuration key `{key}`: {}: {reason}", .path.display())]
    File {
        key: String,
        path: PathBuf,
        reason: String,
    },
    /// The environment variable is missing, empty or unusable.
    #[error("invalid configuration key `{key}`: environment variable `{var}` {reason}")]
    Env {
        key: String,
        var: String,
        reason: String,
    },
    /// A systemd credential (`*_credential`) that cannot be located.
    #[error("invalid configuration key `{key}`: credential `{name}` {reason}")]
    Credential {
        key: String,
        name: String,
        reason: String,
    },
    /// More than one source of one secret is set: which one is meant is unclear.
    #[error("invalid configuration key `{key}`: {sources}")]
    Ambiguous { key: String, sources: &'static str },
}

/// Reads the bearer token of the `index`-th stream: `bearer_token_file` (whole file, surrounding
/// whitespace trimmed), `bearer_token_credential` (the same, from `$CREDENTIALS_DIRECTORY`) or
/// `bearer_token_env`. `None` when none is set; an empty token is an error, so a misconfigured
/// deployment fails at start rather than with 401s. A token file others may read is logged as
/// a warning.
pub fn bearer_token(stream: &StreamSettings, index: usize) -> Result<Option<Secret>, SecretError> {
    bearer_token_from(stream, index, |var| std::env::var(var))
}

/// Where a bearer token may come from: the three keys of a section that takes one.
#[derive(Debug, Clone, Copy)]
pub struct TokenSources<'a> {
    pub file: Option<&'a PathBuf>,
    pub credential: Option<&'a String>,
    pub env: Option<&'a String>,
}

/// Reads a bearer token from `sources` as [`bearer_token`] does for a stream; `section` names
/// the keys in messages (`compliance` gives `compliance.bearer_token_file`).
pub fn bearer_token_of(
    sources: TokenSources<'_>,
    section: &str,
) -> Result<Option<Secret>, SecretError> {
    token_from(sources, &|name: &str| format!("{section}.{name}"), |var| {
        std::env::var(var)
    })
}

/// [`bearer_token`] with the environment as an argument: tests cannot set variables without
/// `unsafe` in edition 2024.
fn bearer_token_from(
    stream: &StreamSettings,
    index: usize,
    env: impl Fn(&str) -> Result<String, VarError>,
) -> Result<Option<Secret>, SecretError> {
    let sources = TokenSources {
        file: stream.bearer_token_file.as_ref(),
        credential: stream.bearer_token_credential.as_ref(),
        env: stream.bearer_token_env.as_ref(),
    };
    token_from(
        sources,
        &|name: &str| format!("stream[{index}].{name}"),
        env,
    )
}

/// Reads a token from whichever one of its sources is set; `key` names a source's config key.
fn token_from(
    sources: TokenSources<'_>,
    key: &dyn Fn(&str) -> String,
    env: impl Fn(&str) -> Result<String, VarError>,
) -> Result<Option<Secret>, SecretError> {
    let (file, credential, var) = (sources.file, sources.credential, sources.env);
    let set = [file.is_some(), credential.is_some(), var.is_some()];
    if set.iter().filter(|s| **s).count() > 1 {
        let which = if var.is_some() {
            "bearer_token_env"
        } else {
            "bearer_token_credential"
        };
        return Err(SecretError::Ambiguous {
            key: key(which),
            sources: ONE_TOKEN_SOURCE,
        });
    }
    let (path, key) = match (file, credential, var) {
        (Some(path), _, _) => {
            let key = key("bearer_token_file");
            files::warn_if_readable(&key, path);
            (path.clone(), key)
        }
        (_, Some(name), _) => {
            let key = key("bearer_token_credential");
            (files::credential_path(name, &key, &env)?, key)
        }
        (_, _, Some(var)) => {
            let fail = |reason: &str| SecretError::Env {
                key: key("bearer_token_env"),
                var: var.clone(),
                reason: reason.into(),
            };
            let text = env(var).map_err(|e| match e {
                VarError::NotPresent => fail("is not set"),
                VarError::NotUnicode(_) => fail("is not valid UTF-8"),
            })?;
            return Ok(Some(token(&text).map_err(fail)?));
        }
        (None, None, None) => return Ok(None),
    };
    let text = read(&path, &key)?;
    let token = token(&text).map_err(|reason| SecretError::File {
        key,
        path,
        reason: reason.into(),
    })?;
    Ok(Some(token))
}

/// Reads the cookies of the `index`-th stream from its `cookies_file` or `cookies_credential`;
/// `None` when neither is set.
pub fn cookies(stream: &StreamSettings, index: usize) -> Result<Option<Cookies>, SecretError> {
    cookies_from(stream, index, |var| std::env::var(var))
}

/// [`cookies`] with the environment as an argument.
fn cookies_from(
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

fn read(path: &Path, key: &str) -> Result<String, SecretError> {
    std::fs::read_to_string(path).map_err(|e| SecretError::Read {
        key: key.into(),
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// The token alone: trimmed, not empty, one word (a second line would make an invalid header).
fn token(text: &str) -> Result<Secret, &'static str> {
    let token = text.trim();
    if token.is_empty() {
        return Err("holds no token (empty or only whitespace)");
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(
            "holds whitespace or control characters inside the token; it must hold the token alone",
        );
    }
    Ok(Secret::new(token))
}

/// Cookies from a `cookies_file`, in file order; `Debug` prints only their names.
#[derive(Clone)]
pub struct Cookies {
    pairs: Vec<(String, String)>,
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

#[cfg(test)]
mod tests;
