//! Loading and validation of whole configuration files.

use super::*;
use std::io::Write;

fn load(toml: &str) -> Result<Settings, ConfigError> {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(toml.as_bytes()).unwrap();
    Settings::load(Some(f.path()), None)
}

#[test]
fn the_contract_example_loads() {
    let s = load(
        r#"
        [database]
        url = "sqlite:///tmp/x.db"
        batch_size = 500
        [[stream]]
        name = "filter"
        family = "ndjson"
        url = "https://stream.example/1.1/statuses/filter.json"
        params = { track = "rust" }
        bearer_token_file = "/etc/streamvault/filter.token"
        [metrics]
        listen = "127.0.0.1:9464"
        "#,
    )
    .unwrap();
    assert_eq!(s.database.batch_size, 500);
    assert_eq!(s.streams[0].stall_timeout_secs, 90);
    assert_eq!(s.streams[0].family, StreamFamily::Ndjson);
}

#[test]
fn bad_values_name_their_key() {
    let e = load("[database]\nbatch_size = 0\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("database.batch_size"), "{e}");
    let e = load("[database]\nurl = \"mysql://x\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("database.url"), "{e}");
    let e = load("[database]\nbatch_sise = 3\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("batch_sise"), "{e}");
    let e = load(
        "[[stream]]\nname=\"a\"\nfamily=\"topics\"\nurl=\"http://x/e\"\nupdate_url=\"http://x/u\"\ntopics=[\"/tweet_engagement/1\", \"/likes/2\"]\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("stream[0].topics[1]") && e.contains("/likes/2"),
        "{e}"
    );
    let e = load("[[stream]]\nname=\"a\"\nfamily=\"ndjson\"\nurl=\"ftp://x\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("stream[0].url"), "{e}");
}

#[test]
fn byte_bounds_have_defaults_and_limits() {
    let s = load("").unwrap();
    assert_eq!(s.database.batch_max_bytes, 4 << 20);
    assert_eq!(s.ingest.max_reject_bytes, 1 << 20);
    assert_eq!(s.pipeline().batch_max_bytes, 4 << 20);
    let s = load("[database]\nbatch_max_bytes = 1048576\n").unwrap();
    assert_eq!(s.pipeline().batch_max_bytes, 1 << 20);
    assert!(s.redacted().contains("batch_max_bytes = 1048576"));
    for bad in [
        "[database]\nbatch_max_bytes = 1000\n",
        "[database]\nbatch_max_bytes = 2000000000\n",
        "[ingest]\nmax_line_bytes = 100000000\n",
        "[ingest]\nmax_reject_bytes = 100000000\n",
    ] {
        let e = load(bad).unwrap_err().to_string();
        let key = bad.lines().nth(1).unwrap().split(' ').next().unwrap();
        assert!(e.contains(key), "{bad}: {e}");
    }
}

#[test]
fn parse_errors_do_not_quote_the_file() {
    for bad in [
        "[database]\nurl = postgres://u:hunter2@h/db\n",
        "[database]\nurl = \"postgres://u:hunter2@h/db\"\nbatch_size = \"hunter2\"\n",
        "[[stream]]\nname = \"a\"\nfamily = \"ndjson\"\nurl = \"https://x/y\"\nheaders = \"hunter2\"\n",
    ] {
        let e = load(bad).unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(e.contains("line 2") || e.contains('`'), "{e}");
    }
}

#[test]
fn debug_output_holds_no_secret() {
    let s = load(
        r#"
        [database]
        url = "postgres://archiver:db-pass-1@db.example/archive?sslpassword=ssl-pass-2"
        [[stream]]
        name = "filter"
        family = "ndjson"
        url = "https://user:url-pass-3@stream.example/1.1/statuses/filter.json?access_token=url-token-4"
        params = { track = "rust", api_key = "param-key-5" }
        headers = { "X-Api-Key" = "header-key-6", Cookie = "ct0=cookie-7; auth_token=cookie-8", "x-csrf-token" = "csrf-9" }
        bearer_token_file = "/etc/streamvault/filter.token"
        [[stream]]
        name = "live"
        family = "topics"
        url = "https://tok-10@live.example/live_pipeline/events"
        update_url = "https://live.example/update?auth=update-token-11"
        topics = ["/tweet_engagement/1"]
        cookies_file = "/etc/streamvault/live.cookies"
        "#,
    )
    .unwrap();
    let secrets = [
        "db-pass-1",
        "ssl-pass-2",
        "url-pass-3",
        "url-token-4",
        "param-key-5",
        "header-key-6",
        "cookie-7",
        "cookie-8",
        "csrf-9",
        "tok-10",
        "update-token-11",
    ];
    for text in [
        format!("{s:?}"),
        format!("{s:#?}"),
        format!("{:?}", s.streams[0]),
        format!("{:?}", s.database),
    ] {
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    // What is not secret is still there to debug with.
    let text = format!("{s:?}");
    for shown in [
        "db.example",
        "stream.example/1.1/statuses/filter.json",
        "\"X-Api-Key\": \"***\"",
        "\"track\": \"***\"",
        "/etc/streamvault/filter.token",
        "/etc/streamvault/live.cookies",
        "/tweet_engagement/1",
        "batch_size: 1000",
    ] {
        assert!(text.contains(shown), "{shown} missing from {text}");
    }
}
