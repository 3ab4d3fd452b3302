//! Credentials out of URLs before they are shown: logs, `check-config`, error messages.
//!
//! A URL is parsed with the `url` crate (WHATWG rules, as sqlx and reqwest parse it) rather than
//! sliced by hand, so a password holding `@`, `:` or `/`, or percent-encoded, is found whole.
//! When the parse fails, or disagrees with the text (an `@` the parser did not take as the end of
//! the userinfo), the URL is redacted conservatively: everything between `://` and the last `@`
//! goes, whatever it was.

/// What replaces a credential.
const HIDDEN: &str = "***";

/// A URL with every credential replaced by `***`, safe to log: the password of the userinfo
/// (`user:***@`; for http(s) the whole userinfo, `***@`, as a token may be the user name) and the value of every query or fragment parameter whose name suggests a
/// secret (`password`, `sslpassword`, `access_token`, `api_key`, `auth`, `signature`, …).
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(url) if agrees_with(raw, &url) => match redact_parsed(url) {
            // Nothing to hide: shown as written (a path with a space stays a space).
            Some(None) => raw.to_owned(),
            Some(Some(redacted)) => redacted,
            None => redact_raw(raw),
        },
        _ => redact_raw(raw),
    }
}

/// Whether the parse took every `@` after the scheme as part of the userinfo: an `@` left in
/// the host, path, query or fragment may end a password the parser cut short (`u:p/w@h` parses
/// as host `u`, path `/w@h`), so such a URL is redacted by the conservative rule instead.
fn agrees_with(raw: &str, url: &url::Url) -> bool {
    let Some(at) = raw.rfind('@') else {
        return true;
    };
    if url.username().is_empty() && url.password().is_none() {
        return false;
    }
    // The userinfo ends at the authority's last `@`; the authority ends at the first `/`, `?`
    // or `#` after it (and, for http(s), `\`).
    let start = scheme_end(raw);
    let end_of_userinfo = raw[start..]
        .find(['/', '?', '#', '\\'])
        .map_or(raw.len(), |i| start + i);
    raw[start..end_of_userinfo]
        .rfind('@')
        .is_some_and(|i| start + i == at)
}

/// Redacts a URL the parser understood: `Some(None)` when it holds no credential, `None` when it
/// cannot be rewritten (then the caller falls back to the conservative rule).
fn redact_parsed(mut url: url::Url) -> Option<Option<String>> {
    let mut changed = false;
    // An HTTP server's userinfo is a credential whole: `https://TOKEN@host` is a common form.
    if matches!(url.scheme(), "http" | "https" | "ws" | "wss") && !url.username().is_empty() {
        url.set_password(None).ok()?;
        url.set_username(HIDDEN).ok()?;
        changed = true;
    } else if url.password().is_some() {
        url.set_password(Some(HIDDEN)).ok()?;
        changed = true;
    }
    if let Some(query) = url.query() {
        let redacted = redact_params(query);
        if redacted != query {
            url.set_query(Some(&redacted));
            changed = true;
        }
    }
    if let Some(fragment) = url.fragment() {
        let redacted = redact_params(fragment);
        if redacted != fragment {
            url.set_fragment(Some(&redacted));
            changed = true;
        }
    }
    Some(changed.then(|| url.to_string()))
}

/// The conservative rule for text the parser refused or misread: the scheme is kept,
/// everything up to the last `@` is hidden, and secret-looking parameters are hidden. When the
/// hidden part opened a query or fragment, the `@` was inside a parameter's value: the rest of
/// that value goes too.
fn redact_raw(raw: &str) -> String {
    let (head, rest) = raw.split_at(scheme_end(raw));
    let Some(at) = rest.rfind('@') else {
        return format!("{head}{}", redact_after_query(rest));
    };
    let (hidden, tail) = rest.split_at(at);
    if hidden.contains(['?', '#']) {
        let next = tail.find(['&', ';']).unwrap_or(tail.len());
        let (_, tail) = tail.split_at(next);
        return format!("{head}{HIDDEN}{}", redact_params(tail));
    }
    format!("{head}{HIDDEN}{}", redact_after_query(tail))
}

/// Where what follows the scheme starts: after `scheme://`, `scheme:`, or 0 when `raw` does
/// not start with a scheme (a `://` inside a password is not one).
fn scheme_end(raw: &str) -> usize {
    let Some(colon) = raw.find(':') else {
        return 0;
    };
    let name = &raw[..colon];
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c));
    match (valid, raw[colon..].starts_with("://")) {
        (false, _) => 0,
        (true, true) => colon + 3,
        (true, false) => colon + 1,
    }
}

/// `text` with the parameters after its first `?` redacted.
fn redact_after_query(text: &str) -> String {
    match text.split_once('?') {
        Some((before, params)) => format!("{before}?{}", redact_params(params)),
        None => text.to_owned(),
    }
}

/// `a=1&password=x;token=y#k=z` with the values of secret-looking names hidden; separators and
/// other parameters are kept as written.
fn redact_params(params: &str) -> String {
    let mut out = String::with_capacity(params.len());
    let mut rest = params;
    loop {
        let end = rest.find(['&', ';', '#']).unwrap_or(rest.len());
        let (part, tail) = rest.split_at(end);
        out.push_str(&redact_param(part));
        match tail.chars().next() {
            Some(sep) => {
                out.push(sep);
                rest = &tail[1..];
            }
            None => return out,
        }
    }
}

fn redact_param(part: &str) -> String {
    let Some((name, _)) = part.split_once('=') else {
        return part.to_owned();
    };
    // The name as the server reads it: `pass%77ord` is `password`.
    let decoded = url::form_urlencoded::parse(name.as_bytes())
        .next()
        .map_or_else(String::new, |(n, _)| n.into_owned());
    if is_secret_name(&decoded) {
        format!("{name}={HIDDEN}")
    } else {
        part.to_owned()
    }
}

/// Parameter names that carry credentials, by substring: erring towards hiding.
fn is_secret_name(name: &str) -> bool {
    const SECRET: [&str; 10] = [
        "pass", "pwd", "secret", "token", "key", "auth", "cred", "sig", "session", "cookie",
    ];
    let name = name.to_ascii_lowercase();
    SECRET.iter().any(|s| name.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn passwords_never_reach_logs() {
        let cases = [
            ("postgres://u:secret@h/db", "postgres://u:***@h/db"),
            ("postgres://u@h/db", "postgres://u@h/db"),
            ("sqlite://a.db", "sqlite://a.db"),
            ("sqlite:///var/lib/x.db", "sqlite:///var/lib/x.db"),
            ("sqlite::memory:", "sqlite::memory:"),
            (
                "sqlite:///tmp/a b.db?mode=rwc",
                "sqlite:///tmp/a b.db?mode=rwc",
            ),
            ("postgres://u@DB.example/x", "postgres://u@DB.example/x"),
            ("postgres://u:p@ss@h:5432/db", "postgres://u:***@h:5432/db"),
            ("postgres://u:p%40s%3As@h/db", "postgres://u:***@h/db"),
            ("postgres://u:p:a:s@h/db", "postgres://u:***@h/db"),
            ("postgres://u:pa/ss@h/db", "postgres://***@h/db"),
            ("postgres://u:pa?ss@h/db", "postgres://***"),
            ("postgres://u:pa#ss@h/db", "postgres://***"),
            (
                "postgres://h/db?user=u&password=sec&sslmode=require",
                "postgres://h/db?user=u&password=***&sslmode=require",
            ),
            (
                "postgresql://h/db?sslpassword=x&PASSWORD=y&pass%77ord=z",
                "postgresql://h/db?sslpassword=***&PASSWORD=***&pass%77ord=***",
            ),
            (
                "https://u:tok@stream.example/1.1/filter.json?access_token=abc&track=x",
                "https://***@stream.example/1.1/filter.json?access_token=***&track=x",
            ),
            (
                "https://ghp_T0KEN@stream.example/x",
                "https://***@stream.example/x",
            ),
            (
                "https://stream.example/s#auth=abc",
                "https://stream.example/s#auth=***",
            ),
            ("not a url u:pw@h?password=x", "***@h?password=***"),
            ("weird:u:pw@h", "weird:***@h"),
        ];
        for (raw, want) in cases {
            assert_eq!(redact_url(raw), want, "{raw}");
        }
    }

    /// Password characters: upper-case letters (which the surrounding URLs never hold) and
    /// every character that has a meaning in a URL.
    fn password() -> impl Strategy<Value = String> {
        "[A-Z@:/?#%&=+;\\\\ \\[\\]!$'()*,~.-]{0,24}[A-Z][A-Z@:/?#%+;\\\\ !$*,~.-]{0,24}"
    }

    /// True when no letter of the password (upper case) is left in the output.
    fn hidden(out: &str) -> bool {
        !out.chars().any(|c| c.is_ascii_uppercase())
    }

    proptest! {
        #[test]
        fn no_generated_password_survives(pw in password(), scheme in "(postgres|postgresql|https|http|sqlite|odd)") {
            let encoded: String = url::form_urlencoded::byte_serialize(pw.as_bytes()).collect();
            let encoded = encoded.to_lowercase_hex();
            let forms = [
                format!("{scheme}://user:{pw}@db.example:5432/archive"),
                format!("{scheme}://user:{encoded}@db.example/archive?sslmode=require"),
                format!("{scheme}://user:{pw}@db.example/archive?application_name=a@b"),
                format!("{scheme}://db.example/archive?sslmode=require&password={encoded}"),
                format!("{scheme}://db.example/archive?user=u&password={encoded}&x=y"),
                format!("{scheme}:user:{pw}@db.example"),
            ];
            for raw in forms {
                let out = redact_url(&raw);
                prop_assert!(hidden(&out), "{raw:?} -> {out:?}");
            }
        }

        #[test]
        fn query_passwords_without_separators_are_hidden_raw(pw in "[A-Z@:/?%+ !$*,~.-]{1,24}") {
            let raw = format!("postgres://db.example/archive?password={pw}&sslmode=require");
            let out = redact_url(&raw);
            prop_assert!(hidden(&out), "{raw:?} -> {out:?}");
        }
    }

    /// Percent-encoding with lower-case hex digits, so the check for upper-case letters sees
    /// only the password's own letters.
    trait LowerHex {
        fn to_lowercase_hex(&self) -> String;
    }

    impl LowerHex for String {
        fn to_lowercase_hex(&self) -> String {
            let mut out = String::with_capacity(self.len());
            let mut hex = 0;
            for c in self.chars() {
                if c == '%' {
                    hex = 2;
                    out.push(c);
                } else if hex > 0 {
                    hex -= 1;
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}
