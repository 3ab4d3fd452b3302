//! Unit tests of secret loading: tokens and cookies from files, systemd credentials and the
//! environment, redaction, the permission check.

use super::*;
use std::io::Write;

const TOKEN: &str = "AAAAAAAAAAAAAAAAAAAAAsekrit%2Ftoken";

fn stream(extra: serde_json::Value) -> StreamSettings {
    let mut value = serde_json::json!({
        "name": "filter", "family": "ndjson", "url": "https://stream.example/x.json"
    });
    if let (Some(map), serde_json::Value::Object(extra)) = (value.as_object_mut(), extra) {
        map.extend(extra);
    }
    serde_json::from_value(value).unwrap()
}

fn file(content: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(content.as_bytes()).unwrap();
    f
}

fn token_file(content: &str) -> (tempfile::NamedTempFile, StreamSettings) {
    let f = file(content);
    let s = stream(serde_json::json!({ "bearer_token_file": f.path() }));
    (f, s)
}

/// The error's text and Debug name `needles` and never show `secret`.
fn assert_safe(error: &SecretError, needles: &[&str], secret: &str) {
    let (text, debug) = (error.to_string(), format!("{error:?}"));
    for needle in needles {
        assert!(text.contains(needle), "{text:?} lacks {needle:?}");
    }
    assert!(
        !text.contains(secret) && !debug.contains(secret),
        "{text} / {debug}"
    );
}

#[test]
fn secrets_print_as_stars() {
    let secret = Secret::new(TOKEN);
    assert_eq!(secret.expose(), TOKEN);
    assert_eq!(
        format!("{secret:?} {secret} {:?}", Some(&secret)),
        "*** *** Some(***)"
    );
}

#[test]
fn token_files_are_trimmed() {
    for content in [
        TOKEN.to_string(),
        format!("{TOKEN}\n"),
        format!("  {TOKEN}\r\n\n"),
        format!("\t{TOKEN} \n"),
    ] {
        let (_f, s) = token_file(&content);
        let token = bearer_token(&s, 0).unwrap().unwrap();
        assert_eq!(token.expose(), TOKEN, "{content:?}");
    }
    assert!(
        bearer_token(&stream(serde_json::json!({})), 0)
            .unwrap()
            .is_none()
    );
}

#[test]
fn bad_token_files_name_key_and_path_only() {
    let (f, s) = token_file(" \n\n");
    let e = bearer_token(&s, 3).unwrap_err();
    let path = f.path().display().to_string();
    assert_safe(
        &e,
        &["stream[3].bearer_token_file", &path, "no token"],
        TOKEN,
    );
    // A second line (a comment, a second token) would make an invalid header.
    let (f, s) = token_file(&format!("{TOKEN}\n# staging token\n"));
    let e = bearer_token(&s, 0).unwrap_err();
    let path = f.path().display().to_string();
    assert_safe(&e, &["stream[0].bearer_token_file", &path, "alone"], TOKEN);
    assert!(!e.to_string().contains("staging"));

    let s = stream(serde_json::json!({ "bearer_token_file": "/nonexistent/streamvault.token" }));
    let e = bearer_token(&s, 1).unwrap_err();
    assert_safe(
        &e,
        &[
            "stream[1].bearer_token_file",
            "/nonexistent/streamvault.token",
            "cannot read",
        ],
        TOKEN,
    );
    assert!(matches!(e, SecretError::Read { .. }));
}

#[test]
fn tokens_come_from_the_environment() {
    let s = stream(serde_json::json!({ "bearer_token_env": "SV_TOKEN" }));
    fn env(value: Result<&str, VarError>) -> impl Fn(&str) -> Result<String, VarError> {
        let value = value.map(str::to_owned);
        move |var| {
            assert_eq!(var, "SV_TOKEN");
            value.clone()
        }
    }
    let padded = format!(" {TOKEN}\n");
    let token = bearer_token_from(&s, 0, env(Ok(&padded))).unwrap().unwrap();
    assert_eq!(token.expose(), TOKEN);

    let e = bearer_token_from(&s, 2, env(Err(VarError::NotPresent))).unwrap_err();
    assert_safe(
        &e,
        &["stream[2].bearer_token_env", "`SV_TOKEN`", "is not set"],
        TOKEN,
    );
    let e = bearer_token_from(&s, 2, env(Ok("  "))).unwrap_err();
    assert_safe(
        &e,
        &["stream[2].bearer_token_env", "`SV_TOKEN`", "no token"],
        TOKEN,
    );
}

#[test]
fn tokens_come_from_the_real_environment() {
    let unset = "STREAMVAULT_TEST_SURELY_UNSET_7f3a9c1e";
    let s = stream(serde_json::json!({ "bearer_token_env": unset }));
    let e = bearer_token(&s, 0).unwrap_err();
    assert_safe(
        &e,
        &["stream[0].bearer_token_env", unset, "is not set"],
        TOKEN,
    );
    // HOME is one word in any sane environment; the variable is read, not a fixture.
    if let Ok(home) = std::env::var("HOME") {
        if !home.trim().is_empty() && !home.trim().contains(char::is_whitespace) {
            let s = stream(serde_json::json!({ "bearer_token_env": "HOME" }));
            let token = bearer_token(&s, 0).unwrap().unwrap();
            assert_eq!(token.expose(), home.trim());
        }
    }
}

#[test]
fn file_and_variable_together_are_refused() {
    let (_f, mut s) = token_file(TOKEN);
    s.bearer_token_env = Some("SV_TOKEN".into());
    let e = bearer_token(&s, 0).unwrap_err();
    assert_safe(&e, &["stream[0].bearer_token_env", "give one of"], TOKEN);
    s.bearer_token_env = None;
    s.bearer_token_credential = Some("filter.token".into());
    let e = bearer_token(&s, 0).unwrap_err();
    assert_safe(
        &e,
        &["stream[0].bearer_token_credential", "give one of"],
        TOKEN,
    );
}

fn pairs(c: &Cookies) -> Vec<(String, String)> {
    c.pairs.clone()
}

#[test]
fn cookie_header_form() {
    let c = Cookies::parse(&format!("auth_token={TOKEN}; ct0=c5rf; lang=en\n")).unwrap();
    assert_eq!(c.names(), ["auth_token", "ct0", "lang"]);
    assert_eq!(
        c.header_value().expose(),
        format!("auth_token={TOKEN}; ct0=c5rf; lang=en")
    );
    assert_eq!(c.csrf_token().unwrap().expose(), "c5rf");
    let debug = format!("{c:?}");
    assert_eq!(debug, r#"Cookies { names: ["auth_token", "ct0", "lang"] }"#);
    // A pasted header line, trailing `;`, `=` inside a value, a repeated name.
    let c = Cookies::parse("Cookie: a=b==; ;ct0=x; a=c;").unwrap();
    assert_eq!(
        pairs(&c),
        [("a".into(), "c".into()), ("ct0".into(), "x".into())]
    );
    let c = Cookies::parse("guest_id=v1%3A17").unwrap();
    assert!(c.csrf_token().is_none());
}

#[test]
fn cookie_json_object_as_twikit_writes_it() {
    let text = format!(
        r#"{{"guest_id": "v1%3A173", "auth_token": "{TOKEN}", "ct0": "c5rf", "personalization_id": "\"v1_abc==\""}}"#
    );
    let c = Cookies::parse(&text).unwrap();
    assert_eq!(
        c.names(),
        ["guest_id", "auth_token", "ct0", "personalization_id"]
    );
    assert_eq!(
        c.header_value().expose(),
        format!("guest_id=v1%3A173; auth_token={TOKEN}; ct0=c5rf; personalization_id=\"v1_abc==\"")
    );
    assert_eq!(c.csrf_token().unwrap().expose(), "c5rf");
    assert!(!format!("{c:?}").contains(TOKEN));
}

#[test]
fn cookie_json_errors_do_not_quote_values() {
    let e = Cookies::parse(r#"{"auth_token": "ok", "ct0": 918273645}"#).unwrap_err();
    assert!(e.contains("\"ct0\"") && e.contains("number"), "{e}");
    assert!(!e.contains("918273645"), "{e}");
    let e = Cookies::parse(&format!(r#"{{"auth_token": "{TOKEN}", "ct0": tru}}"#)).unwrap_err();
    assert!(e.contains("not valid JSON") && e.contains("line 1"), "{e}");
    assert!(!e.contains(TOKEN) && !e.contains("tru}"), "{e}");
    let e = Cookies::parse(&format!(r#"{{"auth_token": "{TOKEN}"#)).unwrap_err();
    assert!(e.contains("unexpected end") && !e.contains(TOKEN), "{e}");
    let e = Cookies::parse(&format!(r#"{{"auth_token": "{TOKEN}\r\nx"}}"#)).unwrap_err();
    assert!(e.contains("auth_token") && !e.contains(TOKEN), "{e}");
    let e = Cookies::parse(r#"[{"name": "ct0", "value": "x"}]"#).unwrap_err();
    assert!(e.contains("JSON object"), "{e}");
    assert_eq!(Cookies::parse("{}").unwrap_err(), "no cookies found");
}

#[test]
fn netscape_cookies_txt_with_http_only_lines() {
    let text = format!(
        "# Netscape HTTP Cookie File\r\n\
         # https://curl.se/docs/http-cookies.html\r\n\
         \r\n\
         .x.com\tTRUE\t/\tTRUE\t1767225600\tguest_id\tv1%3A173\r\n\
         #HttpOnly_.x.com\tTRUE\t/\tTRUE\t1767225600\tauth_token\t{TOKEN}\r\n\
         \n\
         .x.com\tTRUE\t/\tTRUE\t0\tct0\tc5rf\n\
         .x.com\tTRUE\t/\tFALSE\t0\tempty\t\n"
    );
    let c = Cookies::parse(&text).unwrap();
    assert_eq!(c.names(), ["guest_id", "auth_token", "ct0", "empty"]);
    assert_eq!(
        c.header_value().expose(),
        format!("guest_id=v1%3A173; auth_token={TOKEN}; ct0=c5rf; empty=")
    );
    assert_eq!(c.csrf_token().unwrap().expose(), "c5rf");
    // No header comment: detected by its tabs.
    let c = Cookies::parse(".x.com\tTRUE\t/\tTRUE\t0\tct0\tc5rf\n").unwrap();
    assert_eq!(c.names(), ["ct0"]);
    // Only comments: nothing to send.
    let e = Cookies::parse("# Netscape HTTP Cookie File\n# nothing\n").unwrap_err();
    assert_eq!(e, "no cookies found");
    let e = Cookies::parse(&format!(
        "# Netscape HTTP Cookie File\n.x.com\tTRUE\t{TOKEN}\n"
    ))
    .unwrap_err();
    assert!(e.contains("line 2") && e.contains("found 3"), "{e}");
    assert!(!e.contains(TOKEN), "{e}");
}

#[test]
fn unusable_cookie_text_is_refused() {
    assert_eq!(
        Cookies::parse("\u{feff} \n").unwrap_err(),
        "the file is empty"
    );
    let e = Cookies::parse(&format!("auth_token={TOKEN}\nct0=x\n")).unwrap_err();
    assert!(e.contains("one line") && !e.contains(TOKEN), "{e}");
    let e = Cookies::parse(&format!("auth_token={TOKEN}; {TOKEN}")).unwrap_err();
    assert!(e.contains("part 2") && !e.contains(TOKEN), "{e}");
    let e = Cookies::parse(&format!("auth token={TOKEN}")).unwrap_err();
    assert!(e.contains("cookie #1") && !e.contains(TOKEN), "{e}");
}

#[test]
fn cookie_files_load_and_errors_name_key_and_path() {
    let f = file(&format!("\u{feff}auth_token={TOKEN}; ct0=c5rf\n"));
    let c = Cookies::load(f.path(), "stream[1].cookies_file").unwrap();
    assert_eq!(c.names(), ["auth_token", "ct0"]);
    let s = stream(serde_json::json!({ "cookies_file": f.path() }));
    let c = cookies(&s, 1).unwrap().unwrap();
    assert_eq!(c.csrf_token().unwrap().expose(), "c5rf");
    assert!(
        cookies(&stream(serde_json::json!({})), 0)
            .unwrap()
            .is_none()
    );

    let f = file(&format!("{{\"auth_token\": \"{TOKEN}\", \"ct0\": 5}}"));
    let e = Cookies::load(f.path(), "stream[1].cookies_file").unwrap_err();
    let path = f.path().display().to_string();
    assert_safe(&e, &["stream[1].cookies_file", &path, "\"ct0\""], TOKEN);

    let missing = Path::new("/nonexistent/live.cookies");
    let s = stream(serde_json::json!({ "cookies_file": missing }));
    let e = cookies(&s, 4).unwrap_err();
    assert_safe(
        &e,
        &["stream[4].cookies_file", "/nonexistent/live.cookies"],
        TOKEN,
    );
}

#[path = "files_tests.rs"]
mod files;
