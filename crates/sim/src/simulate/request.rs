//! What the simulator keeps of a request: method, path, parameters, and whether credentials and
//! gzip were offered, so that tests can check what the daemon sent (never the credentials).

use http_body_util::{BodyExt, Limited};
use hyper::Request;
use hyper::body::Incoming;
use hyper::header::{ACCEPT_ENCODING, AUTHORIZATION, USER_AGENT};
use std::collections::BTreeMap;

/// The header naming the session a subscription update is for.
const LIVE_SESSION: &str = "livepipeline-session";
/// Largest request body read; a form of stream parameters is far smaller.
const MAX_BODY: usize = 1 << 20;

/// A request, as recorded in the stats.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestInfo {
    pub method: String,
    pub path: String,
    pub query: String,
    pub form_body: Option<String>,
    pub params: BTreeMap<String, String>,
    pub had_authorization: bool,
    /// The `User-Agent` header, if any.
    pub user_agent: Option<String>,
    pub accepts_gzip: bool,
    /// The `LivePipeline-Session` header of a subscription update.
    pub live_session: Option<String>,
}

impl RequestInfo {
    /// Reads the request, its body included; `Err` says why the body could not be read.
    pub async fn read(request: Request<Incoming>) -> Result<RequestInfo, String> {
        let (parts, body) = request.into_parts();
        let query = parts.uri.query().unwrap_or("").to_string();
        let mut params = BTreeMap::new();
        decode_form(&query, &mut params);
        let body = Limited::new(body, MAX_BODY)
            .collect()
            .await
            .map_err(|e| format!("cannot read the request body: {e}"))?
            .to_bytes();
        let form_body = (!body.is_empty()).then(|| String::from_utf8_lossy(&body).into_owned());
        // A JSON body (the v2 rules API) is no form.
        if let Some(form) = form_body
            .as_ref()
            .filter(|b| !b.trim_start().starts_with(['{', '[']))
        {
            decode_form(form, &mut params);
        }
        let accepts_gzip = parts
            .headers
            .get_all(ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(accepts_gzip);
        Ok(RequestInfo {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            query,
            form_body,
            params,
            had_authorization: parts.headers.contains_key(AUTHORIZATION),
            user_agent: parts
                .headers
                .get(USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            accepts_gzip,
            live_session: parts
                .headers
                .get(LIVE_SESSION)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string()),
        })
    }
}

/// Whether an `accept-encoding` value lists gzip without refusing it (`q=0`).
fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or("");
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f64>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        name.eq_ignore_ascii_case("gzip") && !refused
    })
}

/// Adds the pairs of an `application/x-www-form-urlencoded` string (also a query string).
fn decode_form(form: &str, into: &mut BTreeMap<String, String>) {
    for pair in form.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        into.insert(percent_decode(key), percent_decode(value));
    }
}

/// `+` is a space, `%XX` a byte; anything malformed is kept as it is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (other, _) => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_queries_are_decoded() {
        let mut params = BTreeMap::new();
        decode_form(
            "track=rust+lang%2Cserde&follow=12&empty&bad=%zz%4",
            &mut params,
        );
        assert_eq!(params["track"], "rust lang,serde");
        assert_eq!(params["follow"], "12");
        assert_eq!(params["empty"], "");
        assert_eq!(params["bad"], "%zz%4");
    }

    #[test]
    fn gzip_is_accepted_unless_refused() {
        assert!(accepts_gzip("gzip"));
        assert!(accepts_gzip("deflate, GZIP;q=0.5"));
        assert!(!accepts_gzip("gzip;q=0, br"));
        assert!(!accepts_gzip("identity"));
    }
}
