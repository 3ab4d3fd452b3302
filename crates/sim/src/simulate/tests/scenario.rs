//! Scenario files: every step kind, every kind of mistake, the built-ins and the shipped examples.

use crate::simulate::{Amount, LiveFormat, LiveSettings, Period, Scenario, ScenarioError, Step};
use std::path::PathBuf;

fn invalid(toml: &str) -> String {
    match Scenario::from_toml_str(toml) {
        Ok(scenario) => panic!("accepted: {scenario:?}"),
        Err(e) => e.to_string(),
    }
}

/// A scenario with every ndjson step kind, companions included.
const EVERY_STEP: &str = r#"
        name = "all"
        description = "every step"
        rate = 200
        keepalive_secs = 0.2
        gzip = true

        [[connection]]
        steps = [{ http = 429, retry_after = 7, body = "slow down" }]

        [[connection]]
        steps = [
          { send = 10 },
          { send = "forever" },
          { file = "/tmp/x.jsonl" },
          { disconnect = 10, reason = "r", stream_name = "s" },
          { disconnect = 4 },
          { reset = true },
          { reset_mid_line = true },
          { stall = 1.5 },
          { stall = "forever" },
          { trickle = 3, bytes_per_sec = 100 },
          { oversize = 2000000 },
          { malformed = 4 },
          { warning = "FALLING_BEHIND", percent_full = 60 },
          { warning = "FOLLOWS_OVER_LIMIT", message = "m", user_id = 12 },
          { keepalive = 2 },
          { idle = 3 },
          { idle = "forever" },
          { close = true },
        ]
        "#;

/// The steps of [`EVERY_STEP`]'s second connection, in order.
fn every_step() -> Vec<Step> {
    vec![
        Step::Send(Amount::Events(10)),
        Step::Send(Amount::Forever),
        Step::File(PathBuf::from("/tmp/x.jsonl")),
        Step::Disconnect {
            code: 10,
            reason: Some("r".into()),
            stream_name: Some("s".into()),
        },
        Step::Disconnect {
            code: 4,
            reason: None,
            stream_name: None,
        },
        Step::Reset { mid_line: false },
        Step::Reset { mid_line: true },
        Step::Stall(Period::Seconds(1.5)),
        Step::Stall(Period::Forever),
        Step::Trickle {
            count: 3,
            bytes_per_sec: 100,
        },
        Step::Oversize(2_000_000),
        Step::Malformed(4),
        Step::Warning {
            code: "FALLING_BEHIND".into(),
            message: None,
            percent_full: Some(60),
            user_id: None,
        },
        Step::Warning {
            code: "FOLLOWS_OVER_LIMIT".into(),
            message: Some("m".into()),
            percent_full: None,
            user_id: Some(12),
        },
        Step::Keepalive(2),
        Step::Idle(Period::Seconds(3.0)),
        Step::Idle(Period::Forever),
        Step::Close,
    ]
}

#[test]
fn every_step_kind_parses() {
    let scenario = Scenario::from_toml_str(EVERY_STEP).expect("parses");
    assert_eq!(scenario.name, "all");
    assert_eq!(scenario.rate, Some(200.0));
    assert_eq!(scenario.keepalive_secs, Some(0.2));
    assert!(scenario.gzip);
    let http = Step::Http {
        status: 429,
        retry_after: Some(7),
        body: Some("slow down".into()),
    };
    assert_eq!(scenario.connections[0].steps, vec![http]);
    let expected = every_step();
    assert_eq!(scenario.connections[1].steps, expected);
}

#[test]
fn json_has_the_same_layout() {
    let scenario = Scenario::from_json_str(
        r#"{"name": "j", "connection": [{"steps": [{"send": 5}, {"stall": 0.5}]}]}"#,
    )
    .expect("parses");
    let steps = &scenario.connections[0].steps;
    assert_eq!(steps[0], Step::Send(Amount::Events(5)));
    assert_eq!(steps[1], Step::Stall(Period::Seconds(0.5)));
}

#[test]
fn mistakes_name_the_key_and_the_step() {
    let e = invalid("colour = 1\n[[connection]]\nsteps = []");
    assert!(e.contains("`colour`"), "{e}");
    let e = invalid("[[connection]]\nsteps = [{ send = 1 }, { sned = 2 }]");
    assert!(
        e.contains("connection 1, step 2") && e.contains("`sned`"),
        "{e}"
    );
    let e = invalid("[[connection]]\nsteps = [{ send = 1, stall = 2 }]");
    assert!(e.contains("`send`") && e.contains("`stall`"), "{e}");
    let e = invalid("[[connection]]\nsteps = [{ send = 1, reason = \"x\" }]");
    assert!(e.contains("`reason` belongs to a `disconnect` step"), "{e}");
    let e = invalid("[[connection]]\nsteps = [{ send = 1 }, { http = 503 }]");
    assert!(e.contains("step 2") && e.contains("only step"), "{e}");
    let e = invalid("[[connection]]\nsteps = [{ send = -1 }]");
    assert!(e.contains("`send`"), "{e}");
    let e = invalid("[[connection]]\nsteps = [{ stall = \"never\" }]");
    assert!(e.contains("`stall`"), "{e}");
    let e = invalid("[[connection]]\nsteps = [{ trickle = 3 }]");
    assert!(e.contains("bytes_per_sec"), "{e}");
    let e = invalid("[[connection]]\nsteps = [{ reset = false }]");
    assert!(e.contains("`reset` takes `true`"), "{e}");
    let e = invalid("[[connection]]\nsteps = [{ http = 99 }]");
    assert!(e.contains("200..=599"), "{e}");
    let e = invalid("rate = -1\n[[connection]]\nsteps = []");
    assert!(e.contains("`rate`"), "{e}");
    let e = invalid("[[connection]]\nsteps = [{ keepalive = 1 }]\n[[connection]]\nstep = []");
    assert!(e.contains("`step`"), "{e}");
    let e = invalid("name = \"x\"");
    assert!(e.contains("connection"), "{e}");
}

#[test]
fn the_last_script_repeats() {
    let scenario = Scenario::from_toml_str(
        "[[connection]]\nsteps = [{ send = 1 }]\n[[connection]]\nsteps = [{ send = 2 }]",
    )
    .expect("parses");
    let sends = |n| scenario.script(n).map(|s| s.steps[0].clone());
    assert_eq!(sends(0), Some(Step::Send(Amount::Events(1))));
    assert_eq!(sends(1), Some(Step::Send(Amount::Events(2))));
    assert_eq!(sends(9), Some(Step::Send(Amount::Events(2))));
}

#[test]
fn builtins_are_all_valid() {
    for name in Scenario::builtin_names() {
        let scenario = Scenario::builtin(name).unwrap_or_else(|| panic!("{name} is missing"));
        assert_eq!(scenario.name, *name);
        assert!(!scenario.description.is_empty(), "{name}");
        assert!(!scenario.connections.is_empty(), "{name}");
        for script in &scenario.connections {
            let http = script
                .steps
                .iter()
                .position(|s| matches!(s, Step::Http { .. }));
            assert!(
                http.is_none() || script.steps.len() == 1,
                "{name}: http not alone"
            );
        }
    }
    for code in 1..=12 {
        assert!(Scenario::builtin(&format!("disconnect-{code}")).is_some());
    }
    assert!(Scenario::builtin("disconnect-13").is_none());
    assert!(Scenario::builtin("nope").is_none());
    let e = Scenario::load("nope").expect_err("unknown").to_string();
    assert!(e.contains("nope") && e.contains("faults"), "{e}");
}

#[test]
fn shipped_examples_load() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut loaded = 0;
    for entry in std::fs::read_dir(&dir).expect("scenarios/ exists") {
        let path = entry.expect("readable entry").path();
        if path.extension().is_some_and(|e| e == "toml" || e == "json") {
            let scenario = Scenario::load(&path.to_string_lossy())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(!scenario.name.is_empty());
            loaded += 1;
        }
    }
    assert!(loaded >= 3, "only {loaded} example scenarios");
}

#[test]
fn load_names_the_file_and_resolves_relative_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[connection]]\nsteps = [{ stal = 1 }]").expect("write");
    let e = Scenario::load(&bad.to_string_lossy()).expect_err("invalid");
    assert!(matches!(e, ScenarioError::Invalid { .. }));
    let e = e.to_string();
    assert!(
        e.contains("bad.toml") && e.contains("connection 1, step 1"),
        "{e}"
    );

    let missing = dir.path().join("missing.toml");
    std::fs::write(
        &missing,
        "[[connection]]\nsteps = [{ file = \"nowhere.jsonl\" }]",
    )
    .expect("write");
    let e = Scenario::load(&missing.to_string_lossy()).expect_err("missing file");
    assert!(e.to_string().contains("nowhere.jsonl"), "{e}");

    std::fs::write(dir.path().join("lines.jsonl"), "{}\n").expect("write");
    let good = dir.path().join("replay.toml");
    std::fs::write(
        &good,
        "[[connection]]\nsteps = [{ file = \"lines.jsonl\" }]",
    )
    .expect("write");
    let scenario = Scenario::load(&good.to_string_lossy()).expect("loads");
    assert_eq!(scenario.name, "replay");
    assert_eq!(
        scenario.connections[0].steps[0],
        Step::File(dir.path().join("lines.jsonl"))
    );
}

#[test]
fn topics_steps_and_settings_parse() {
    let scenario = Scenario::from_toml_str(
        r#"
        format = "lines"
        ttl_millis = 1500
        heartbeat_millis = 200
        [[connection]]
        steps = [
          { live = 10 },
          { live = "forever" },
          { unknown_payload = 2 },
          { forget_session = true },
          { subscriptions_event = true },
        ]
        "#,
    )
    .expect("parses");
    let live = LiveSettings {
        format: LiveFormat::Lines,
        ttl_millis: 1500,
        heartbeat_millis: 200,
    };
    assert_eq!(scenario.live, live);
    let expected = vec![
        Step::Live(Amount::Events(10)),
        Step::Live(Amount::Forever),
        Step::UnknownPayload(2),
        Step::ForgetSession,
        Step::SubscriptionsEvent,
    ];
    assert_eq!(scenario.connections[0].steps, expected);
    assert!(expected.iter().all(Step::fits_topics));
    assert!(!Step::ForgetSession.fits_ndjson() && Step::Live(Amount::Forever).fits_ndjson());
    let defaults = Scenario::from_toml_str("[[connection]]\nsteps = []").expect("parses");
    assert_eq!(defaults.live, LiveSettings::default());
    assert_eq!(
        (
            defaults.live.format,
            defaults.live.ttl_millis,
            defaults.live.heartbeat_millis
        ),
        (LiveFormat::Sse, 60_000, 1_000)
    );

    let e = invalid("format = \"xml\"\n[[connection]]\nsteps = []");
    assert!(e.contains("`format`") && e.contains("xml"), "{e}");
    let e = invalid("ttl_millis = 0\n[[connection]]\nsteps = []");
    assert!(e.contains("`ttl_millis`"), "{e}");
    let e = invalid("heartbeat_millis = 0\n[[connection]]\nsteps = []");
    assert!(e.contains("`heartbeat_millis`"), "{e}");
    let e = invalid("[[connection]]\nsteps = [{ forget_session = false }]");
    assert!(e.contains("`forget_session` takes `true`"), "{e}");
    let e = invalid("[[connection]]\nsteps = [{ live = -3 }]");
    assert!(e.contains("`live`"), "{e}");
}

#[test]
fn live_builtins_have_their_settings() {
    let names = [
        "live",
        "live-lines",
        "live-ttl",
        "live-unknown",
        "live-not-found",
        "live-stall",
        "live-drop",
        "live-finite",
    ];
    for name in names {
        assert!(Scenario::builtin_names().contains(&name), "{name}");
        let scenario = Scenario::builtin(name).expect("builtin");
        let steps = scenario.connections.iter().flat_map(|c| &c.steps);
        assert!(steps.clone().all(Step::fits_topics), "{name}");
        assert!(steps.clone().any(|s| matches!(s, Step::Live(_))), "{name}");
    }
    let format = |n| Scenario::builtin(n).map(|s| s.live.format);
    assert_eq!(format("live-lines"), Some(LiveFormat::Lines));
    assert_eq!(format("live"), Some(LiveFormat::Sse));
    let ttl = Scenario::builtin("live-ttl").map(|s| s.live.ttl_millis);
    assert_eq!(ttl, Some(1500));
    let not_found = Scenario::builtin("live-not-found").expect("builtin");
    assert_eq!(
        not_found.connections[0].steps,
        [
            Step::Live(Amount::Events(10)),
            Step::ForgetSession,
            Step::Close
        ]
    );
}

/// Found by the `scenario` fuzz target: through the `config` crate, a quoted key with an index
/// (`"a[99999999]"`) grew an array to that index, 400 MB from a 20-byte file. It is now an
/// unknown key like any other, refused at once.
#[test]
fn an_indexed_key_is_refused_without_allocating_to_its_index() {
    for text in [
        "\"a[99999999]\" = 1",
        "name = \"x\"\n\"connection[99999999]\" = 1",
    ] {
        let err = Scenario::from_toml_str(text).unwrap_err().to_string();
        assert!(err.contains("unknown field"), "{text}: {err}");
    }
}
