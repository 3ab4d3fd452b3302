//! What keeps a stream's credentials with the server they are meant for: redirects only within
//! the request's origin, no `Referer`, and error bodies scrubbed of the request's secrets.
//!
//! reqwest drops `Authorization` and `Cookie` on a redirect to another host, but keeps every
//! other header: the `x-csrf-token` (the `ct0` cookie's value) and configured extra headers
//! would reach the other host. So the client follows a redirect only when it stays on the
//! same origin (scheme, host and port), where every header may go; any other is not followed,
//! and the attempt ends as an HTTP error whose log line names the refused origin.

use reqwest::header::{AUTHORIZATION, COOKIE, HeaderMap, LOCATION, PROXY_AUTHORIZATION};

/// Redirects followed within one origin before the attempt fails (reqwest's own default).
const MAX_REDIRECTS: usize = 10;

/// Secrets shorter than this are not looked for in bodies: they would only garble the text
/// (`lang=en`), and such a value is no credential.
const MIN_SECRET_BYTES: usize = 4;

/// What replaces a secret in a logged body.
const HIDDEN: &[u8] = b"***";

/// The redirect policy of every stream client: follow within the origin of the first request,
/// stop (hand the 3xx back) on a redirect anywhere else.
pub fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error("too many redirects");
        }
        let same = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if same {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// Why a 3xx answer was not followed, for the log: the origin it pointed to (never its path or
/// query, which may carry a signed token).
pub fn refused_redirect(response: &reqwest::Response) -> String {
    let target = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| response.url().join(v).ok())
        .map_or_else(
            || "an unreadable Location".to_owned(),
            |url| url.origin().ascii_serialization(),
        );
    format!(
        "redirect to another origin ({target}) not followed: the request's credentials would go with it"
    )
}

/// Every secret value `headers` carry, as a server might echo them: the value of every
/// sensitive header (the bearer token, cookies, the CSRF token and every configured extra
/// header are marked so) and of `Authorization`/`Cookie`, the token after `Bearer `, each
/// cookie's value; each also percent-decoded and form-encoded.
pub fn known_secrets(headers: &HeaderMap) -> Vec<Vec<u8>> {
    let mut found: Vec<Vec<u8>> = Vec::new();
    for (name, value) in headers {
        let credential = [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION].contains(name)
            || name.as_str() == "x-csrf-token";
        if !(value.is_sensitive() || credential) {
            continue;
        }
        let bytes = value.as_bytes();
        found.push(bytes.to_vec());
        if let Some(token) = bytes.strip_prefix(b"Bearer ") {
            found.push(token.to_vec());
        }
        if *name == COOKIE {
            for pair in bytes.split(|&b| b == b';') {
                if let Some(eq) = pair.iter().position(|&b| b == b'=') {
                    found.push(pair[eq + 1..].trim_ascii().to_vec());
                }
            }
        }
    }
    let variants: Vec<Vec<u8>> = found
        .iter()
        .flat_map(|s| {
            let decoded: Vec<u8> = url::form_urlencoded::parse(&[b"x=", s.as_slice()].concat())
                .next()
                .map(|(_, v)| v.into_owned().into_bytes())
                .unwrap_or_default();
            let encoded: String = url::form_urlencoded::byte_serialize(s).collect();
            [decoded, encoded.into_bytes()]
        })
        .collect();
    found.extend(variants);
    found.retain(|s| s.len() >= MIN_SECRET_BYTES);
    found.sort_unstable();
    found.dedup();
    found
}

/// How much of an error body to read so that, after scrubbing, `limit` bytes can be shown:
/// a secret that starts before `limit` must be read whole to be recognised.
pub fn read_bound(limit: usize, secrets: &[Vec<u8>]) -> usize {
    limit + secrets.iter().map(Vec::len).max().unwrap_or(0)
}

/// `body` as it may be logged: every occurrence of a secret replaced by `***`, and only what
/// began within the first `limit` bytes kept. A secret cut off at the end of what was read
/// begins after `limit` (see [`read_bound`]), so no part of it is shown.
pub fn scrub(body: &[u8], secrets: &[Vec<u8>], limit: usize) -> Vec<u8> {
    let mut hidden = vec![false; body.len()];
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        for start in 0..body.len().saturating_sub(secret.len() - 1) {
            if body[start..].starts_with(secret) {
                hidden[start..start + secret.len()].fill(true);
            }
        }
    }
    let mut out = Vec::with_capacity(limit.min(body.len()));
    let mut i = 0;
    while i < body.len().min(limit) {
        if hidden[i] {
            out.extend_from_slice(HIDDEN);
            while i < body.len() && hidden[i] {
                i += 1;
            }
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
