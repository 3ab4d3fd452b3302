//! Unit tests of systemd credentials and of the permission check on secret files.

use super::*;
use crate::source::secrets::cookies::cookies_from;

/// An environment holding only `$CREDENTIALS_DIRECTORY`, as systemd sets it.
fn credentials_env(dir: Option<&Path>) -> impl Fn(&str) -> Result<String, VarError> {
    let dir = dir.map(|d| d.display().to_string());
    move |var| {
        assert_eq!(var, CREDENTIALS_DIRECTORY);
        dir.clone().ok_or(VarError::NotPresent)
    }
}

#[test]
fn secrets_come_from_systemd_credentials() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("filter.token"), format!("{TOKEN}\n")).unwrap();
    std::fs::write(
        dir.path().join("live.cookies"),
        "auth_token=a1b2c3; ct0=c5rf",
    )
    .unwrap();
    let s = stream(serde_json::json!({
        "bearer_token_credential": "filter.token", "cookies_credential": "live.cookies"
    }));
    let env = || credentials_env(Some(dir.path()));
    let token = bearer_token_from(&s, 0, env()).unwrap().unwrap();
    assert_eq!(token.expose(), TOKEN);
    let c = cookies_from(&s, 0, env()).unwrap().unwrap();
    assert_eq!(c.csrf_token().unwrap().expose(), "c5rf");

    // Outside systemd (no $CREDENTIALS_DIRECTORY) the error says what to add to the unit.
    let e = bearer_token_from(&s, 3, credentials_env(None)).unwrap_err();
    assert_safe(
        &e,
        &[
            "stream[3].bearer_token_credential",
            "filter.token",
            "LoadCredential=filter.token:",
        ],
        TOKEN,
    );
    let e = cookies_from(&s, 3, credentials_env(None)).unwrap_err();
    assert_safe(
        &e,
        &["stream[3].cookies_credential", "CREDENTIALS_DIRECTORY"],
        TOKEN,
    );
    // A name is one file of the directory, not a path out of it.
    for name in ["../etc/passwd", "a/b", "", ".."] {
        let s = stream(serde_json::json!({ "bearer_token_credential": name }));
        let e = bearer_token_from(&s, 0, env()).unwrap_err();
        assert_safe(
            &e,
            &["stream[0].bearer_token_credential", "not a credential name"],
            TOKEN,
        );
    }
    let missing = stream(serde_json::json!({ "bearer_token_credential": "nope" }));
    let e = bearer_token_from(&missing, 0, env()).unwrap_err();
    assert_safe(&e, &["stream[0].bearer_token_credential", "nope"], TOKEN);
    let both = stream(serde_json::json!({
        "cookies_file": "/x", "cookies_credential": "live.cookies"
    }));
    let e = cookies_from(&both, 1, env()).unwrap_err();
    assert_safe(&e, &["stream[1].cookies_credential", "not both"], TOKEN);
}

#[test]
fn secret_files_others_can_read_are_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let (f, s) = token_file(TOKEN);
    let cookie_file = file("ct0=c5rf");
    let mut s = s;
    s.cookies_file = Some(cookie_file.path().to_owned());
    let chmod = |path: &Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    chmod(f.path(), 0o600);
    chmod(cookie_file.path(), 0o400);
    assert!(file_warnings(std::slice::from_ref(&s)).is_empty());
    for (mode, who) in [
        (0o640, "by its group (mode 0640)"),
        (0o604, "by every other user (mode 0604)"),
        (0o644, "by its group and every other user (mode 0644)"),
    ] {
        chmod(f.path(), mode);
        let warnings = file_warnings(&[stream(serde_json::json!({})), s.clone()]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let w = &warnings[0];
        let path = f.path().display().to_string();
        for needle in [
            "`stream[1].bearer_token_file`",
            &path,
            who,
            "0600",
            "LoadCredential",
        ] {
            assert!(w.contains(needle), "{w:?} lacks {needle:?}");
        }
        assert!(!w.contains(TOKEN));
        // The token is still read: the warning does not stop the daemon.
        assert_eq!(bearer_token(&s, 1).unwrap().unwrap().expose(), TOKEN);
    }
    chmod(cookie_file.path(), 0o644);
    assert_eq!(file_warnings(std::slice::from_ref(&s)).len(), 2);
    assert_eq!(readable_by_others(Path::new("/nonexistent/x")), None);
}
