//! Parser tests over the fixture stream, one per message kind; refused input is in `rejects`.

mod rejects;

use super::*;

const ALL_KINDS: &str = include_str!("../../../../tests/fixtures/all_kinds.jsonl");
const BIG: i64 = 1_234_567_890_123_456_789;

fn lines() -> Vec<&'static [u8]> {
    ALL_KINDS.split('\n').map(str::as_bytes).collect()
}

fn parse(i: usize) -> Message<'static> {
    parse_line(lines()[i]).unwrap_or_else(|e| panic!("line {i}: {e}"))
}

#[test]
fn every_fixture_line_parses_and_carriage_returns_are_tolerated() {
    let kinds: Vec<_> = lines()
        .into_iter()
        .map(|l| parse_line(l).unwrap().kind())
        .collect();
    assert_eq!(kinds[0], Some(Kind::Tweet));
    assert_eq!(kinds[1], None, "blank line is a keep-alive");
    assert!(kinds.contains(&Some(Kind::Unknown)));
}

#[test]
fn tweet_ids_above_2_pow_53_are_exact() {
    let Message::Tweet(t) = parse(0) else {
        panic!()
    };
    assert_eq!(t.id, BIG);
    assert_eq!(t.user_id, Some(2_244_994_945));
    assert_eq!(t.text.as_deref(), Some("hello archive #rust"));
    assert_eq!(t.lang.as_deref(), Some("en"));
}

#[test]
fn extended_tweet_and_geo() {
    let Message::Tweet(t) = parse(2) else {
        panic!()
    };
    assert_eq!(
        t.text.as_deref(),
        Some("the full text of a long status with location")
    );
    assert_eq!(t.point, Some((13.405, 52.52)));
    assert!(t.place.unwrap().get().contains("Berlin"));
}

#[test]
fn retweet_carries_its_original() {
    let Message::Tweet(t) = parse(3) else {
        panic!()
    };
    assert_eq!(t.retweeted_status_id(), Some(BIG + 2));
    let original = &t.retweeted_status.as_ref().unwrap().tweet;
    assert_eq!(original.user_id, Some(783_214));
    assert!(
        t.raw.contains(original.raw),
        "embedded raw is a slice of the carrier"
    );
}

#[test]
fn quote_and_reply() {
    let Message::Tweet(q) = parse(4) else {
        panic!()
    };
    assert_eq!(q.quoted_id(), Some(BIG + 4));
    assert_eq!(
        q.quoted_status.as_ref().unwrap().tweet.text.as_deref(),
        Some("a quoted status")
    );
    let Message::Tweet(r) = parse(5) else {
        panic!()
    };
    assert_eq!(r.in_reply_to_status_id, Some(BIG));
}

#[test]
fn compliance_notices() {
    assert_eq!(
        match parse(6) {
            Message::Delete(d) => d,
            m => panic!("{m:?}"),
        },
        Delete {
            tweet_id: 1234,
            user_id: Some(3)
        }
    );
    assert_eq!(
        match parse(7) {
            Message::ScrubGeo(s) => s,
            m => panic!("{m:?}"),
        },
        ScrubGeo {
            user_id: 14_090_452,
            up_to_status_id: 23_260_136_625
        }
    );
    assert_eq!(
        match parse(8) {
            Message::Limit(l) => l,
            m => panic!("{m:?}"),
        },
        Limit { track: 1234 }
    );
    let Message::StatusWithheld(s) = parse(9) else {
        panic!()
    };
    assert_eq!((s.tweet_id, s.user_id), (1_234_567_890, Some(123_456)));
    assert_eq!(s.countries, vec!["AR", "DE"]);
    let Message::UserWithheld(u) = parse(10) else {
        panic!()
    };
    assert_eq!((u.user_id, u.countries.len()), (123_456, 2));
}

#[test]
fn disconnects_known_and_unknown() {
    let Message::Disconnect(d) = parse(11) else {
        panic!()
    };
    assert_eq!((d.code, disconnect_code_name(d.code)), (4, "Stall"));
    assert_eq!(d.stream_name.as_deref(), Some("filter-1"));
    let Message::Disconnect(d) = parse(12) else {
        panic!()
    };
    assert_eq!((d.code, disconnect_code_name(d.code)), (42, "Unknown"));
    let names: Vec<_> = (1..=12).map(disconnect_code_name).collect();
    assert_eq!(names[5], "Token revoked");
    assert_eq!(names[11], "Shed load");
}

#[test]
fn warnings() {
    let Message::Warning(w) = parse(13) else {
        panic!()
    };
    assert_eq!(
        (w.code.as_deref(), w.percent_full),
        (Some("FALLING_BEHIND"), Some(60))
    );
    let Message::Warning(w) = parse(14) else {
        panic!()
    };
    assert_eq!(
        (w.code.as_deref(), w.user_id),
        (Some("FOLLOWS_OVER_LIMIT"), Some(2_244_994_945))
    );
    let Message::Warning(w) = parse(15) else {
        panic!()
    };
    assert_eq!(w.code.as_deref(), Some("SOMETHING_NEW"));
}

#[test]
fn user_stream_events() {
    let Message::Event(fav) = parse(16) else {
        panic!()
    };
    assert_eq!(fav.event, "favorite");
    assert_eq!(
        (fav.source_user_id, fav.target_user_id),
        (Some(2_244_994_945), Some(783_214))
    );
    assert_eq!(fav.target_status.as_ref().map(|t| t.id), Some(BIG + 7));
    let Message::Event(follow) = parse(17) else {
        panic!()
    };
    assert_eq!(
        (follow.event.as_ref(), follow.target_object_id),
        ("follow", None)
    );
    let Message::Event(list) = parse(18) else {
        panic!()
    };
    assert_eq!(
        (list.target_object_id, list.target_status.is_none()),
        (Some(99), true)
    );
    let Message::Event(update) = parse(19) else {
        panic!()
    };
    assert_eq!(
        (update.event.as_ref(), update.users.len()),
        ("user_update", 2)
    );
    let Message::Event(revoked) = parse(20) else {
        panic!()
    };
    assert_eq!(revoked.event, "access_revoked");
}

#[test]
fn friends_dm_control() {
    let Message::Friends(f) = parse(21) else {
        panic!()
    };
    assert_eq!(f.ids, vec![1497, 169_686_021, 790_205, 15_211_564]);
    let Message::Friends(f) = parse(22) else {
        panic!()
    };
    assert_eq!(f.ids[2], i64::MAX);
    assert!(matches!(parse(23), Message::DirectMessage(_)));
    let Message::Control(c) = parse(24) else {
        panic!()
    };
    assert!(c.control_uri.unwrap().starts_with("/1.1/site/c/"));
}

#[test]
fn site_stream_envelopes_wrap_any_message() {
    let Message::ForUser { for_user, message } = parse(25) else {
        panic!()
    };
    assert_eq!(for_user, 1888);
    assert!(matches!(*message, Message::Friends(ref f) if f.ids.is_empty()));
    let Message::ForUser { for_user, message } = parse(26) else {
        panic!()
    };
    assert_eq!(for_user, 9_160_152);
    assert_eq!(message.kind(), Some(Kind::Tweet));
}

#[test]
fn unknown_objects_are_kept_whole() {
    let Message::Unknown(raw) = parse(27) else {
        panic!()
    };
    assert!(raw.contains("brand_new_type"));
}
