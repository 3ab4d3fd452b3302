//! Secrets for stream requests: bearer tokens and cookies, read from files, systemd credentials
//! or the environment.
//!
//! Values are wrapped in [`Secret`] as soon as they are read, so `Debug`, `Display` and error
//! messages can only ever show `***`, cookie names, config keys, paths and variable names.

mod cookies;
mod files;

use crate::config::{ONE_TOKEN_SOURCE, StreamSettings};
pub use cookies::{Cookies, cookies};
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

#[cfg(test)]
mod tests;
