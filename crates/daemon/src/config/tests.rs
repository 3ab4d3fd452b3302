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
    assert_eq!(s.streams[0].stall_timeout().as_secs(), 90);
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
fn v2_streams_load_with_their_defaults() {
    let s = load(
        r#"
        [[stream]]
        name = "filtered"
        family = "v2"
        url = "https://api.x.com/2/tweets/search/stream"
        rules = [{ value = "cat has:images", tag = "cats" }, { value = "dog" }]
        [[stream]]
        name = "firehose"
        family = "v2"
        url = "https://api.x.com/2/tweets/firehose/stream/lang/en"
        partitions = [1, 2, 20]
        backfill_minutes = 0
        [[stream]]
        name = "sample"
        family = "v2"
        url = "https://api.x.com/2/tweets/sample/stream"
        [[stream]]
        name = "hands-off"
        family = "v2"
        url = "https://api.x.com/2/tweets/search/stream"
        rules = "unmanaged"
        "#,
    )
    .unwrap();
    let filtered = &s.streams[0];
    assert_eq!(filtered.stall_timeout().as_secs(), 20);
    assert_eq!(filtered.effective_backfill_minutes(), 5);
    assert_eq!(filtered.v2_endpoint(), Some(V2Endpoint::Filtered));
    match &filtered.rules {
        Some(RulesSetting::Managed(rules)) => {
            assert_eq!(rules.len(), 2);
            assert_eq!(rules[0].tag.as_deref(), Some("cats"));
            assert_eq!(rules[1].tag, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.streams[1].partitions, [1, 2, 20]);
    assert_eq!(s.streams[1].effective_backfill_minutes(), 0);
    assert!(matches!(
        s.streams[3].rules,
        Some(RulesSetting::Unmanaged(_))
    ));
    let shown = s.redacted();
    assert!(shown.contains("partitions = [1, 2, 20]"), "{shown}");
    assert!(shown.contains("cat has:images"), "{shown}");
    assert!(shown.contains("rules = \"unmanaged\""), "{shown}");
}

#[test]
fn v2_mistakes_name_their_key() {
    let stream = |url: &str, extra: &str| {
        format!("[[stream]]\nname = \"s\"\nfamily = \"v2\"\nurl = \"{url}\"\n{extra}\n")
    };
    let filtered = "https://api.x.com/2/tweets/search/stream";
    let firehose = "https://api.x.com/2/tweets/firehose/stream";
    let compliance = "https://api.x.com/2/tweets/compliance/stream";
    let users = "https://api.x.com/2/users/compliance/stream";
    let cases = [
        (stream(compliance, ""), "stream[0].partitions"),
        (stream(users, "partitions = [5]"), "stream[0].partitions"),
        (stream(users, "partitions = [1, 2, 3, 4]\nrules = \"unmanaged\""), "stream[0].rules"),
        (
            stream(compliance, "partitions = [1]\nbackfill_minutes = 6"),
            "stream[0].backfill_minutes",
        ),
        (
            stream(compliance, "partitions = [1]\nparams = { \"tweet.fields\" = \"id\" }"),
            "stream[0].params.tweet.fields",
        ),
        (
            "[compliance]\nedits = \"sometimes\"\n".to_owned(),
            "compliance",
        ),
        (
            "[compliance]\nuser_delete_erases_after_days = 0\n".to_owned(),
            "compliance.user_delete_erases_after_days",
        ),
        (stream("https://api.x.com/2/tweets/nope", ""), "stream[0].url"),
        (stream(filtered, ""), "stream[0].rules"),
        (
            stream(filtered, "rules = [{ value = \"a\" }, { value = \" \" }]"),
            "stream[0].rules[1]",
        ),
        (
            stream(filtered, "rules = [{ value = \"a\" }, { value = \"a\", tag = \"t\" }]"),
            "stream[0].rules[1]",
        ),
        (stream(filtered, "rules = \"sometimes\""), "stream[0]"),
        (stream(filtered, "rules = \"unmanaged\"\npartitions = [1]"), "stream[0].partitions"),
        (stream(firehose, ""), "stream[0].partitions"),
        (stream(firehose, "partitions = [0]"), "stream[0].partitions"),
        (stream(firehose, "partitions = [21]"), "stream[0].partitions"),
        (stream(firehose, "partitions = [3, 3]"), "stream[0].partitions"),
        (
            stream(firehose, "partitions = [1]\nrules = \"unmanaged\""),
            "stream[0].rules",
        ),
        (
            stream(firehose, "partitions = [1]\nbackfill_minutes = 6"),
            "stream[0].backfill_minutes",
        ),
        (
            stream(firehose, "partitions = [1]\nparams = { partition = \"2\" }"),
            "stream[0].params.partition",
        ),
        (
            stream(firehose, "partitions = [1]\nmethod = \"POST\""),
            "stream[0].method",
        ),
        (
            "[[stream]]\nname = \"s\"\nfamily = \"ndjson\"\nurl = \"https://x/y\"\npartitions = [1]\n"
                .to_owned(),
            "stream[0].partitions",
        ),
    ];
    for (toml, key) in cases {
        let e = load(&toml).unwrap_err().to_string();
        assert!(e.contains(key), "{toml}\n=> {e}");
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

#[test]
fn compliance_streams_and_settings_load() {
    let s = load(
        r#"
        [compliance]
        edits = "history"
        user_delete_erases_after_days = 30
        [[stream]]
        name = "tweet-compliance"
        family = "v2"
        url = "https://api.x.com/2/tweets/compliance/stream"
        partitions = [1, 2, 3, 4]
        backfill_minutes = 0
        [[stream]]
        name = "user-compliance"
        family = "v2"
        url = "https://api.x.com/2/users/compliance/stream"
        partitions = [1, 2, 3, 4]
        "#,
    )
    .unwrap();
    assert_eq!(
        s.streams[0].v2_endpoint(),
        Some(V2Endpoint::TweetCompliance)
    );
    assert_eq!(s.streams[1].v2_endpoint(), Some(V2Endpoint::UserCompliance));
    assert!(s.streams[1].v2_params().is_empty());
    assert!(s.compliance.policy().keep_edit_history);
    assert_eq!(
        s.compliance.user_delete_erase_after(),
        Some(chrono::Duration::days(30))
    );
    let shown = s.redacted();
    assert!(shown.contains("edits = \"history\""), "{shown}");
    assert!(
        shown.contains("user_delete_erases_after_days = 30"),
        "{shown}"
    );
}
