//! Parser tests of refused input: broken JSON, broken known envelopes, unusable ids, bad
//! country codes and nesting past the bound, each a reject with a reason.

use super::*;

#[test]
fn bad_input_is_classified() {
    assert!(matches!(
        parse_line(b"{\"text\": \"cut"),
        Err(ParseError::Json(_))
    ));
    assert!(matches!(
        parse_line(b"{\"a\":\"\xff\"}"),
        Err(ParseError::InvalidUtf8(6))
    ));
    assert!(matches!(parse_line(b"[1,2]"), Err(ParseError::NotAnObject)));
    assert!(matches!(parse_line(b"nonsense"), Err(ParseError::Json(_))));
    assert!(matches!(
        parse_line(b"{\"delete\":{}}"),
        Err(ParseError::BadShape { .. })
    ));
    assert!(parse_line(b"{\"id\":1.5e3,\"text\":\"x\"}").is_err());
    assert!(matches!(parse_line(b"  \r"), Ok(Message::KeepAlive)));
}

fn reason(line: &str) -> String {
    match parse_line(line.as_bytes()) {
        Err(e) => e.to_string(),
        Ok(m) => panic!("{line}: parsed as {m:?}"),
    }
}

#[test]
fn broken_known_envelopes_are_rejects_with_a_reason() {
    assert_eq!(
        reason(r#"{"delete":null}"#),
        "delete message malformed: `delete` is null, not an object"
    );
    assert_eq!(
        reason(r#"{"scrub_geo":null}"#),
        "scrub_geo message malformed: `scrub_geo` is null, not an object"
    );
    assert_eq!(
        reason(r#"{"limit":null}"#),
        "limit message malformed: `limit` is null, not an object"
    );
    assert_eq!(
        reason(r#"{"status_withheld":[]}"#),
        "status_withheld message malformed: `status_withheld` is an array, not an object"
    );
    assert_eq!(
        reason(r#"{"disconnect":"x"}"#),
        "disconnect message malformed: `disconnect` is a string, not an object"
    );
    assert_eq!(
        reason(r#"{"user_withheld":1}"#),
        "user_withheld message malformed: `user_withheld` is a number, not an object"
    );
    assert_eq!(
        reason(r#"{"warning":true}"#),
        "warning message malformed: `warning` is a boolean, not an object"
    );
    assert_eq!(
        reason(r#"{"control":null}"#),
        "control message malformed: `control` is null, not an object"
    );
    assert_eq!(
        reason(r#"{"direct_message":null}"#),
        "direct_message message malformed: `direct_message` is null, not an object"
    );
    assert!(reason(r#"{"friends":null}"#).starts_with("friends message malformed"));
    assert!(reason(r#"{"event":null}"#).starts_with("event message malformed"));
    // Types nobody knows stay unknown events.
    assert!(matches!(
        parse_line(br#"{"brand_new":null}"#),
        Ok(Message::Unknown(_))
    ));
    assert!(matches!(
        parse_line(br#"{"brand_new":{"delete_me":1}}"#),
        Ok(Message::Unknown(_))
    ));
}

#[test]
fn a_usable_id_str_applies_the_notice_whatever_its_numeric_twin() {
    for bad in [
        "1.5e18",
        "-5",
        "\"x\"",
        "99999999999999999999",
        "true",
        "[1]",
        "{}",
    ] {
        let line = format!(
            r#"{{"delete":{{"status":{{"id":{bad},"id_str":"1234","user_id":{bad},"user_id_str":"3"}}}}}}"#
        );
        let Ok(Message::Delete(d)) = parse_line(line.as_bytes()) else {
            panic!("{line}")
        };
        assert_eq!((d.tweet_id, d.user_id), (1234, Some(3)), "{line}");
    }
    let Ok(Message::ScrubGeo(s)) = parse_line(
        br#"{"scrub_geo":{"user_id":1.4e7,"user_id_str":"14090452","up_to_status_id":-1,"up_to_status_id_str":"23260136625"}}"#,
    ) else {
        panic!()
    };
    assert_eq!((s.user_id, s.up_to_status_id), (14_090_452, 23_260_136_625));
    let Ok(Message::StatusWithheld(w)) = parse_line(
        br#"{"status_withheld":{"id":"junk","id_str":"7","user_id":1e3,"user_id_str":"8","withheld_in_countries":["DE"]}}"#,
    ) else {
        panic!()
    };
    assert_eq!((w.tweet_id, w.user_id), (7, Some(8)));
    let Ok(Message::UserWithheld(w)) =
        parse_line(br#"{"user_withheld":{"id":0.5,"id_str":"9","withheld_in_countries":["XX"]}}"#)
    else {
        panic!()
    };
    assert_eq!((w.user_id, w.countries), (9, vec!["XX".to_string()]));
    let Ok(Message::Warning(w)) = parse_line(
        br#"{"warning":{"code":"FOLLOWS_OVER_LIMIT","user_id":1.5,"user_id_str":"42"}}"#,
    ) else {
        panic!()
    };
    assert_eq!(w.user_id, Some(42));
    let Ok(Message::Event(e)) = parse_line(
        br#"{"event":"follow","source":{"id":1.5,"id_str":"1"},"target":{"id":2,"id_str":"x"},"target_object":{"id":-1,"id_str":"3"}}"#,
    ) else {
        panic!()
    };
    assert_eq!(
        (
            e.source_user_id,
            e.target_user_id,
            e.target_object_id,
            e.users.len()
        ),
        (Some(1), Some(2), Some(3), 2)
    );
}

#[test]
fn two_unusable_ids_are_a_reject_naming_both() {
    assert_eq!(
        reason(r#"{"delete":{"status":{"id":1.5e18,"id_str":"12x"}}}"#),
        r#"delete message malformed: no usable id (id_str: "12x" is not a decimal 64-bit integer; id: 1500000000000000000 is not an integer)"#
    );
    assert!(
        reason(r#"{"delete":{"status":{"id_str":"1","user_id":-2}}}"#)
            .contains("user_id: -2 is negative")
    );
    assert!(
        reason(r#"{"scrub_geo":{"user_id":"a","up_to_status_id":1}}"#)
            .starts_with("scrub_geo message malformed: no usable user_id")
    );
    assert!(
        reason(r#"{"status_withheld":{"id":1.5}}"#)
            .starts_with("status_withheld message malformed: no usable id")
    );
    assert!(
        reason(r#"{"warning":{"user_id":"z"}}"#)
            .starts_with("warning message malformed: no usable user_id")
    );
    assert!(
        reason(r#"{"event":"follow","source":{"id":1.5,"id_str":"s"}}"#)
            .starts_with("event message malformed: source: no usable id")
    );
    assert!(
        reason(r#"{"for_user":1.5,"message":{"friends":[]}}"#)
            .starts_with("for_user message malformed: no usable for_user")
    );
    // friends_str wins; a broken one falls back to friends.
    let Ok(Message::Friends(f)) = parse_line(br#"{"friends":[1,2],"friends_str":["1","x"]}"#)
    else {
        panic!()
    };
    assert_eq!(f.ids, vec![1, 2]);
}

#[test]
fn withheld_notices_need_two_letter_codes() {
    let Ok(Message::StatusWithheld(w)) = parse_line(
        br#"{"status_withheld":{"id_str":"1","withheld_in_countries":["DE","XY","XX","DE"]}}"#,
    ) else {
        panic!()
    };
    assert_eq!(w.countries, vec!["DE", "XX", "XY"]);
    assert_eq!(
        reason(r#"{"status_withheld":{"id_str":"1","withheld_in_countries":["DE","DEU"]}}"#),
        r#"status_withheld message malformed: invalid country code "DEU": expected two upper-case letters"#
    );
    for bad in [
        r#"" DE""#,
        r#""de""#,
        r#""D1""#,
        r#""""#,
        r#""\u00c9\u00c9""#,
    ] {
        let line =
            format!(r#"{{"user_withheld":{{"id_str":"1","withheld_in_countries":[{bad}]}}}}"#);
        assert!(reason(&line).contains("invalid country code"), "{line}");
    }
    assert!(
        reason(r#"{"user_withheld":{"id_str":"1","withheld_in_countries":[7]}}"#)
            .starts_with("user_withheld message malformed")
    );
}

#[test]
fn nesting_past_the_bound_is_a_reject_before_parsing() {
    let deep = |n: usize| {
        format!(
            r#"{{"id_str":"1","text":"x","e":{}{}}}"#,
            "[".repeat(n),
            "]".repeat(n)
        )
    };
    assert!(matches!(
        parse_line(deep(99).as_bytes()),
        Ok(Message::Tweet(_))
    ));
    assert_eq!(reason(&deep(100)), "JSON nested deeper than 100 levels");
    assert_eq!(reason(&deep(100_000)), "JSON nested deeper than 100 levels");
    let notice = format!(
        r#"{{"scrub_geo":{{"user_id":1,"up_to_status_id":2,"x":{}1{}}}}}"#,
        "{\"a\":".repeat(200),
        "}".repeat(200)
    );
    assert_eq!(reason(&notice), "JSON nested deeper than 100 levels");
}
