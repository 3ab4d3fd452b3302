//! The v2 steps and options of the scenario format, and the v2 built-ins.

use crate::simulate::v2::problems::DISCONNECT_TYPES;
use crate::simulate::{Scenario, Step, V2Settings};

#[test]
fn v2_steps_and_options_parse() {
    let scenario = Scenario::from_toml_str(
        r#"
        backfill_minute_secs = 0.5
        backfill = "refused"
        [[connection]]
        steps = [{ usage_capped = "Daily", scope = "Account", reset_secs = 30 }]
        [[connection]]
        steps = [{ send = 5 }, { operational_disconnect = "SlowReader", detail = "too slow" }]
        "#,
    )
    .expect("parses");
    assert_eq!(
        scenario.v2,
        V2Settings {
            minute_secs: 0.5,
            backfill_refused: true,
            ..V2Settings::default()
        }
    );
    assert_eq!(
        scenario.connections[0].steps[0],
        Step::UsageCapped {
            period: "Daily".into(),
            scope: "Account".into(),
            reset_secs: Some(30)
        }
    );
    assert_eq!(
        scenario.connections[1].steps[1],
        Step::OperationalDisconnect {
            disconnect_type: "SlowReader".into(),
            detail: Some("too slow".into())
        }
    );
    let default = Scenario::from_toml_str("[[connection]]\nsteps = [{ send = 1 }]").unwrap();
    assert_eq!(default.v2, V2Settings::default());
    assert_eq!(default.v2.minute_secs, 60.0);
}

#[test]
fn bad_v2_steps_and_options_name_what_is_wrong() {
    for (toml, expected) in [
        ("backfill_minute_secs = 0", "backfill_minute_secs"),
        ("backfill = \"sometimes\"", "backfill"),
        ("[[x]]", "unknown field"),
    ] {
        let text = format!("{toml}\n[[connection]]\nsteps = [{{ send = 1 }}]");
        let err = Scenario::from_toml_str(&text).unwrap_err().to_string();
        assert!(err.contains(expected), "{toml}: {err}");
    }
    for (steps, expected) in [
        (r#"{ usage_capped = "Weekly" }"#, "Daily"),
        (r#"{ usage_capped = "Daily", scope = "World" }"#, "scope"),
        (r#"{ usage_capped = "Daily" }, { send = 1 }"#, "only step"),
        (r#"{ operational_disconnect = "" }"#, "non-empty"),
        (r#"{ send = 1, detail = "x" }"#, "operational_disconnect"),
    ] {
        let text = format!("[[connection]]\nsteps = [{steps}]");
        let err = Scenario::from_toml_str(&text).unwrap_err().to_string();
        assert!(err.contains(expected), "{steps}: {err}");
    }
}

#[test]
fn every_v2_builtin_exists_and_fits_v2_streams() {
    for kind in DISCONNECT_TYPES {
        let name = format!("v2-disconnect-{kind}");
        assert!(Scenario::builtin_names().contains(&name.as_str()), "{name}");
        let scenario = Scenario::builtin(&name).expect("built-in");
        assert!(matches!(
            scenario.connections[0].steps.last(),
            Some(Step::OperationalDisconnect { disconnect_type, .. }) if disconnect_type == kind
        ));
    }
    for name in ["v2-usage-capped", "v2-gap", "v2-no-backfill", "v2-stall"] {
        let scenario = Scenario::builtin(name).expect(name);
        for script in &scenario.connections {
            assert!(script.steps.iter().all(Step::fits_v2), "{name}");
        }
    }
    assert!(
        Scenario::builtin("v2-no-backfill")
            .unwrap()
            .v2
            .backfill_refused
    );
    assert_eq!(Scenario::builtin("v2-gap").unwrap().v2.minute_secs, 1.0);
    assert!(
        !Step::Warning {
            code: "X".into(),
            message: None,
            percent_full: None,
            user_id: None
        }
        .fits_v2()
    );
    assert!(!Step::Reset { mid_line: true }.fits_v2());
}

#[test]
fn a_file_step_serves_its_lines_on_v2_post_and_compliance_streams() {
    super::big_stack(a_file_step_serves_its_lines_on_v2_post_and_compliance_streams_body());
}

async fn a_file_step_serves_its_lines_on_v2_post_and_compliance_streams_body() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lines =
        "{\"data\":{\"id\":\"1\",\"text\":\"a\"}}\n\n{\"data\":{\"id\":\"2\",\"text\":\"b\"}}\n";
    std::fs::write(dir.path().join("v2.jsonl"), lines).expect("write");
    let path = dir.path().join("v2file.toml");
    std::fs::write(&path, "[[connection]]\nsteps = [{ file = \"v2.jsonl\" }]").expect("write");
    let scenario = Scenario::load(&path.to_string_lossy()).expect("loads");
    let simulator = super::start_with(scenario).await;
    let expected = "{\"data\":{\"id\":\"1\",\"text\":\"a\"}}\r\n\r\n{\"data\":{\"id\":\"2\",\"text\":\"b\"}}\r\n";
    for target in [
        "/2/tweets/sample/stream",
        "/2/tweets/firehose/stream?partition=3",
        "/2/users/compliance/stream?partition=1",
    ] {
        let mut response = super::client::get(simulator.addr(), target)
            .await
            .expect("request");
        assert_eq!(response.status, 200, "{target}");
        let (body, end) = response.body().await;
        end.expect("a clean end");
        assert_eq!(String::from_utf8(body).unwrap(), expected, "{target}");
    }
    let stats = simulator.stop().await;
    for conn in &stats.connections {
        assert_eq!(
            (conn.lines_sent, conn.keepalives_sent),
            (2, 1),
            "{}",
            conn.path
        );
        assert_eq!(conn.by_kind["file"], 2);
    }
    assert!(stats.v2_streams.iter().all(|s| s.published == 0));
}
