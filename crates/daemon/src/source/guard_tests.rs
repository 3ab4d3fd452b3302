//! Tests of the credential guards, on real local HTTP servers: two ports on 127.0.0.1 are two
//! origins.

use super::*;
use crate::reconnect::Ending;
use crate::source::{ERROR_BODY_BYTES, http_client, send};
use reqwest::header::{HeaderName, HeaderValue};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server that records every request head it receives and answers each with what `answer`
/// makes of the request's path.
async fn server(
    answer: impl Fn(&str) -> String + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (record, answer) = (record.clone(), answer.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                record.lock().unwrap().push(head);
                let _ = socket.write_all(answer(&path).as_bytes()).await;
            });
        }
    });
    (base, seen)
}

fn redirect_to(location: &str) -> String {
    format!(
        "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
}

fn answer(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The headers a topics stream sends: a bearer token, cookies with `ct0`, the CSRF token and a
/// configured extra header, each marked sensitive as the stream marks them.
fn credentials() -> HeaderMap {
    let mut headers = HeaderMap::new();
    let pairs = [
        ("authorization", "Bearer TOKEN-abc%2Fdef"),
        ("cookie", "auth_token=COOKIE-123; ct0=CSRF-456"),
        ("x-csrf-token", "CSRF-456"),
        ("x-extra", "EXTRA-789"),
    ];
    for (name, value) in pairs {
        let mut value = HeaderValue::from_static(value);
        value.set_sensitive(true);
        headers.insert(HeaderName::from_static(name), value);
    }
    headers
}

const SECRETS: [&str; 5] = ["TOKEN", "abc", "COOKIE", "CSRF", "EXTRA"];

#[tokio::test]
async fn no_credential_follows_a_redirect_to_another_origin() {
    let (other, other_seen) = server(|_| answer("200 OK", "{}")).await;
    let target = format!("{other}/elsewhere?sig=zzz");
    let (first, first_seen) = server(move |_| redirect_to(&target)).await;
    let client = http_client().unwrap();
    let request = client
        .get(format!("{first}/stream?track=x"))
        .headers(credentials());
    let report = send(request, Duration::from_secs(5)).await.unwrap_err();
    assert!(
        matches!(report.ending, Ending::Http { status: 302, .. }),
        "{report:?}"
    );
    let detail = report.detail.unwrap();
    assert!(detail.contains("not followed"), "{detail}");
    assert!(detail.contains(&other), "{detail}");
    assert!(!detail.contains("sig=zzz"), "{detail}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        other_seen.lock().unwrap().is_empty(),
        "the other origin was asked"
    );
    let first_seen = first_seen.lock().unwrap();
    assert_eq!(first_seen.len(), 1);
    assert!(first_seen[0].contains("CSRF-456"));
}

#[tokio::test]
async fn redirects_within_the_origin_keep_their_headers_and_send_no_referer() {
    let (base, seen) = server(|path| {
        if path.starts_with("/old") {
            redirect_to("/new")
        } else {
            answer("200 OK", "{}")
        }
    })
    .await;
    let client = http_client().unwrap();
    let request = client
        .get(format!("{base}/old?track=secret-param"))
        .headers(credentials());
    let response = send(request, Duration::from_secs(5)).await.unwrap();
    assert_eq!(response.status(), 200);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let second = seen[1].to_ascii_lowercase();
    assert!(second.starts_with("get /new "), "{second}");
    assert!(second.contains("x-csrf-token: csrf-456"), "{second}");
    assert!(second.contains("x-extra: extra-789"), "{second}");
    assert!(!second.contains("referer"), "{second}");
}

#[tokio::test]
async fn error_bodies_that_echo_the_request_are_scrubbed() {
    // An upstream that echoes the request head, padded so one token straddles the log bound.
    let (base, _) = server(|_| {
        // The last token starts at byte 505 of the body: it straddles the 512-byte bound.
        let pad = "x".repeat(ERROR_BODY_BYTES - 61);
        answer(
            "400 Bad Request",
            &format!("echo: Bearer TOKEN-abc%2Fdef COOKIE-123 TOKEN-abc/def {pad}TOKEN-abc%2Fdef"),
        )
    })
    .await;
    let client = http_client().unwrap();
    let request = client.get(format!("{base}/s")).headers(credentials());
    let report = send(request, Duration::from_secs(5)).await.unwrap_err();
    let detail = report.detail.unwrap();
    for secret in SECRETS {
        assert!(!detail.contains(secret), "{secret} in {detail}");
    }
    assert!(
        detail.starts_with("HTTP 400 Bad Request: echo: *** *** ***"),
        "{detail}"
    );
    assert!(detail.ends_with("xx***"), "{detail}");
    assert!(detail.len() <= "HTTP 400 Bad Request: ".len() + ERROR_BODY_BYTES);
}

#[test]
fn a_secret_cut_at_the_bound_leaves_nothing_of_itself() {
    let secrets = vec![b"SECRET".to_vec()];
    let scrubbed = |body: &[u8], limit| String::from_utf8(scrub(body, &secrets, limit)).unwrap();
    assert_eq!(scrubbed(b"a SECRET b", 100), "a *** b");
    // The secret starts inside the bound: hidden whole, nothing after the bound.
    assert_eq!(scrubbed(b"abcSECRETdef", 5), "abc***");
    // It starts after the bound: nothing of it.
    assert_eq!(scrubbed(b"abcdeSECRET", 5), "abcde");
    // Read only partly (the read bound was reached): it begins after the limit by construction.
    assert_eq!(read_bound(5, &secrets), 11);
    assert_eq!(scrubbed(b"SECRETSECRET", 100), "***");
    assert_eq!(scrubbed(b"", 100), "");
}

#[test]
fn the_secrets_of_a_request_include_their_decoded_and_encoded_forms() {
    let found = known_secrets(&credentials());
    let has = |s: &str| found.iter().any(|f| f == s.as_bytes());
    for s in [
        "Bearer TOKEN-abc%2Fdef",
        "TOKEN-abc%2Fdef",
        "TOKEN-abc/def",
        "COOKIE-123",
        "CSRF-456",
        "EXTRA-789",
        "auth_token=COOKIE-123; ct0=CSRF-456",
    ] {
        assert!(has(s), "{s} missing");
    }
    let mut plain = HeaderMap::new();
    plain.insert("accept", HeaderValue::from_static("application/json"));
    assert!(known_secrets(&plain).is_empty());
}

proptest::proptest! {
    /// Secrets (upper case and digits) anywhere in a body (lower case), read up to the bound
    /// as `error_body` reads it: nothing of any secret is left, whatever the limit.
    #[test]
    fn no_part_of_a_secret_survives_scrubbing(
        secrets in proptest::collection::vec("[A-Z0-9]{4,40}", 1..4),
        filler in proptest::collection::vec("[a-z ]{0,300}", 1..6),
        limit in 1usize..700,
    ) {
        let secrets: Vec<Vec<u8>> = secrets.into_iter().map(String::into_bytes).collect();
        let mut body = Vec::new();
        for (i, text) in filler.iter().enumerate() {
            body.extend_from_slice(text.as_bytes());
            body.extend_from_slice(&secrets[i % secrets.len()]);
        }
        body.truncate(read_bound(limit, &secrets));
        let out = scrub(&body, &secrets, limit);
        proptest::prop_assert!(
            !out.iter().any(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
            "{:?}", String::from_utf8_lossy(&out)
        );
        proptest::prop_assert!(out.len() <= limit + HIDDEN.len());
    }
}
