//! Where secret files are and who else can read them: systemd credentials
//! (`LoadCredential=` and `$CREDENTIALS_DIRECTORY`) and the permission check behind the warning
//! about group- or world-readable secret files.

use super::SecretError;
use crate::config::StreamSettings;
use std::env::VarError;
use std::path::{Path, PathBuf};

/// The variable systemd sets for a unit with `LoadCredential=` (or `SetCredential=`): the
/// directory holding one file per credential, readable by the service alone.
pub const CREDENTIALS_DIRECTORY: &str = "CREDENTIALS_DIRECTORY";

/// The file of credential `name` (a `*_credential` setting, `key` in errors), in the directory
/// `$CREDENTIALS_DIRECTORY` names (`env` reads the environment).
pub(super) fn credential_path(
    name: &str,
    key: &str,
    env: &impl Fn(&str) -> Result<String, VarError>,
) -> Result<PathBuf, SecretError> {
    let fail = |reason: String| SecretError::Credential {
        key: key.into(),
        name: name.into(),
        reason,
    };
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(fail(
            "is not a credential name (LoadCredential=NAME:PATH; no `/`)".into(),
        ));
    }
    let dir = env(CREDENTIALS_DIRECTORY)
        .ok()
        .filter(|d| !d.is_empty())
        .ok_or_else(|| {
            fail(format!(
                "needs ${CREDENTIALS_DIRECTORY}, which is not set: systemd sets it when the unit \
                 has LoadCredential={name}:/path/to/the/secret"
            ))
        })?;
    Ok(Path::new(&dir).join(name))
}

/// Whether users other than the file's owner may read `path`: the permission bits for group
/// and others, as `0640`, when any is set. `None` when the file is private or cannot be read.
pub fn readable_by_others(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

/// The warning for a secret file others may read, or `None` when it is private.
pub fn permission_warning(key: &str, path: &Path) -> Option<String> {
    let mode = readable_by_others(path)?;
    let who = match (mode & 0o070 != 0, mode & 0o007 != 0) {
        (true, true) => "its group and every other user",
        (true, false) => "its group",
        _ => "every other user",
    };
    Some(format!(
        "`{key}`: {} is readable by {who} (mode {mode:04o}): make it 0600 and owned by the \
         daemon's user, or pass it with systemd's LoadCredential= and `*_credential`",
        path.display()
    ))
}

/// The permission warnings of every secret file the streams name (`check-config` prints them;
/// `run` logs each as it reads the file). Credentials are not checked: systemd keeps them
/// readable by the service alone.
pub fn file_warnings(streams: &[StreamSettings]) -> Vec<String> {
    let mut warnings = Vec::new();
    for (i, s) in streams.iter().enumerate() {
        let files = [
            ("bearer_token_file", &s.bearer_token_file),
            ("cookies_file", &s.cookies_file),
        ];
        for (name, path) in files {
            if let Some(path) = path {
                let key = format!("stream[{i}].{name}");
                warnings.extend(permission_warning(&key, path));
            }
        }
    }
    warnings
}

/// Logs the warning for `path` if it has one (at start, and whenever a stream is set up again).
pub(super) fn warn_if_readable(key: &str, path: &Path) {
    if let Some(warning) = permission_warning(key, path) {
        tracing::warn!("{warning}");
    }
}
