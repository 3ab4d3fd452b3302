//! Subscription updates and their effects on a live session: topics added and removed, DM
//! topics refused, invalid topics, TTL expiry with and without renewal, forgotten sessions.

use super::frames::{self, session_id, topic, update};
use super::{start, wait_for};
use serde_json::Value;
use std::time::{Duration, Instant};

const EVENTS: &str = "/live_pipeline/events";

/// The topics of an answer's `errors`, and checks that every entry has a message.
fn error_topics(answer: &Value) -> Vec<String> {
    answer["subscriptions"]["errors"]
        .as_array()
        .expect("an errors list")
        .iter()
        .map(|e| {
            assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
            e["topic"].as_str().expect("topic").to_string()
        })
        .collect()
}

#[tokio::test]
async fn an_update_adds_and_removes_topics() {
    let simulator = start("rate = 300\n[[connection]]\nsteps = [{ live = \"forever\" }]").await;
    let mut session = frames::open(
        simulator.addr(),
        &format!("{EVENTS}?topics=/tweet_engagement/1"),
    )
    .await;
    let id = session_id(&session.frame().await);
    let before = session.events_until(|e| e.len() >= 5).await;
    assert!(
        before
            .iter()
            .all(|(_, f)| topic(f) == "/tweet_engagement/1")
    );
    let form = "sub_topics=%2Ftweet_engagement%2F2&unsub_topics=%2Ftweet_engagement%2F1";
    let (status, answer) = update(simulator.addr(), Some(&id), form).await;
    assert_eq!(status, 200);
    assert!(error_topics(&answer).is_empty());
    let after = session
        .events_until(|e| {
            e.iter()
                .filter(|(_, f)| topic(f) == "/tweet_engagement/2")
                .count()
                >= 10
        })
        .await;
    // Events are drawn from the subscriptions as they are when each chunk is built: once the
    // new topic appears, the old one is gone for good.
    let first_new = after
        .iter()
        .position(|(_, f)| topic(f) == "/tweet_engagement/2")
        .expect("the new topic");
    assert!(
        after[first_new..]
            .iter()
            .all(|(_, f)| topic(f) == "/tweet_engagement/2")
    );
    assert!(first_new <= 1, "{first_new} old events after the update");
    drop(session);
    let stats = wait_for(&simulator, |s| s.sessions[0].ended_at.is_some()).await;
    let s = &stats.sessions[0];
    assert_eq!(s.current_topics, ["/tweet_engagement/2"]);
    assert_eq!(s.updates.len(), 1);
    let u = &s.updates[0];
    assert_eq!(
        (u.sub.as_slice(), u.unsub.as_slice()),
        (
            &["/tweet_engagement/2".to_string()][..],
            &["/tweet_engagement/1".to_string()][..]
        )
    );
    assert_eq!((u.status, u.errors.len()), (200, 0));
    let sent = stats.connections[0].frames_sent - 1;
    assert_eq!(s.events_by_topic.values().sum::<u64>(), sent);
    simulator.stop().await;
}

#[tokio::test]
async fn dm_topics_are_refused_in_updates_unless_renewed_and_bad_topics_get_errors() {
    let simulator = start("rate = 50\n[[connection]]\nsteps = [{ live = \"forever\" }]").await;
    let target = format!("{EVENTS}?topics=/dm_update/1-2,/tweet_engagement/5");
    let mut session = frames::open(simulator.addr(), &target).await;
    let id = session_id(&session.frame().await);
    let form = "sub_topics=/dm_typing/1-2,/dm_update/1-2,/tweet_engagement/x,/nope,/tweet_engagement/6\
                &unsub_topics=/bogus";
    let (status, answer) = update(simulator.addr(), Some(&id), form).await;
    assert_eq!(status, 200);
    assert_eq!(
        error_topics(&answer),
        ["/bogus", "/dm_typing/1-2", "/tweet_engagement/x", "/nope"]
    );
    let dm = &answer["subscriptions"]["errors"][1]["message"];
    assert_eq!(dm, "DM topics can only be given when the session opens");
    let (status, answer) = update(simulator.addr(), Some(&id), "sub_topics=&unsub_topics=").await;
    assert_eq!((status, error_topics(&answer).len()), (200, 0));
    let stats = simulator.stats();
    let s = &stats.sessions[0];
    assert_eq!(
        s.current_topics,
        [
            "/dm_update/1-2",
            "/tweet_engagement/5",
            "/tweet_engagement/6"
        ]
    );
    assert_eq!(
        s.updates[0].errors,
        ["/bogus", "/dm_typing/1-2", "/tweet_engagement/x", "/nope"]
    );
    assert!(s.updates[1].sub.is_empty() && s.updates[1].unsub.is_empty());
    drop(session);
    simulator.stop().await;
}

#[tokio::test]
async fn subscriptions_expire_unless_renewed() {
    let simulator = start(
        "rate = 200\nttl_millis = 300\nheartbeat_millis = 100\n\
         [[connection]]\nsteps = [{ live = \"forever\" }]",
    )
    .await;
    let target = format!("{EVENTS}?topics=/tweet_engagement/1,/dm_typing/9");
    let mut session = frames::open(simulator.addr(), &target).await;
    let opened = Instant::now();
    let id = session_id(&session.frame().await);
    let addr = simulator.addr();
    let renewer = tokio::spawn(async move {
        let mut statuses = Vec::new();
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            // The DM topic may be renewed, since it is still subscribed.
            statuses.push(update(addr, Some(&id), "sub_topics=/dm_typing/9").await);
        }
        statuses
    });
    let events = session
        .events_until(|e| {
            e.last()
                .is_some_and(|(at, _)| *at >= opened + Duration::from_millis(900))
        })
        .await;
    for (status, answer) in renewer.await.expect("renewals") {
        assert_eq!(status, 200);
        assert!(error_topics(&answer).is_empty());
    }
    let last_tweet = events
        .iter()
        .filter(|(_, f)| topic(f) == "/tweet_engagement/1")
        .map(|(at, _)| *at)
        .max()
        .expect("tweet events before expiry");
    assert!(
        last_tweet < opened + Duration::from_millis(450),
        "tweet events after the TTL"
    );
    let late_dm = events
        .iter()
        .filter(|(at, f)| topic(f) == "/dm_typing/9" && *at > opened + Duration::from_millis(600))
        .count();
    assert!(
        late_dm > 20,
        "only {late_dm} renewed DM events late in the session"
    );
    let stats = simulator.stats();
    let s = &stats.sessions[0];
    assert_eq!(s.current_topics, ["/dm_typing/9"]);
    let expired: Vec<&str> = s.expired_topics.iter().map(|e| e.topic.as_str()).collect();
    assert_eq!(expired, ["/tweet_engagement/1"]);
    let started = chrono::DateTime::parse_from_rfc3339(&s.started_at).expect("time");
    let at = chrono::DateTime::parse_from_rfc3339(&s.expired_topics[0].at).expect("time");
    assert_eq!((at - started).num_milliseconds(), 300);
    drop(session);
    simulator.stop().await;
}

#[tokio::test]
async fn forgotten_ended_and_unknown_sessions_are_not_found() {
    let simulator = start(
        "[[connection]]\nsteps = [{ live = 3 }, { forget_session = true }, { idle = 0.3 }]\n\
         [[connection]]\nsteps = [{ live = 2 }]",
    )
    .await;
    let target = format!("{EVENTS}?topics=/tweet_engagement/1");
    let mut session = frames::open(simulator.addr(), &target).await;
    let id = session_id(&session.frame().await);
    session.events_until(|e| e.len() == 3).await;
    wait_for(&simulator, |s| s.sessions[0].forgotten).await;
    let (status, answer) = update(
        simulator.addr(),
        Some(&id),
        "sub_topics=/tweet_engagement/2",
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        answer,
        serde_json::json!({"errors": [{"message": "session not found"}]})
    );
    let (_, end) = session.rest().await;
    end.expect("a clean end");

    // A session whose stream ended is gone too.
    let mut second = frames::open(simulator.addr(), &target).await;
    let second_id = session_id(&second.frame().await);
    second.rest().await.1.expect("a clean end");
    let (status, _) = update(simulator.addr(), Some(&second_id), "sub_topics=").await;
    assert_eq!(status, 404);
    let (status, _) = update(simulator.addr(), Some("no-such-session"), "sub_topics=").await;
    assert_eq!(status, 404);
    let (status, _) = update(simulator.addr(), None, "sub_topics=").await;
    assert_eq!(status, 400);

    let stats = simulator.stop().await;
    let first = &stats.sessions[0];
    assert!(first.forgotten);
    assert_eq!(first.updates.len(), 1);
    assert_eq!(
        (first.updates[0].status, first.current_topics.len()),
        (404, 1)
    );
    assert!(!stats.sessions[1].forgotten);
    assert_eq!(stats.sessions[1].updates[0].status, 404);
    let unmatched: Vec<(Option<&str>, u16)> = stats
        .unmatched_updates
        .iter()
        .map(|u| (u.session_id.as_deref(), u.status))
        .collect();
    assert_eq!(unmatched, [(Some("no-such-session"), 404), (None, 400)]);
    assert_eq!(stats.totals.connections, 2, "updates are not connections");
}

#[tokio::test]
async fn a_builtin_not_found_session_closes_after_ten_events() {
    let simulator = start("[[connection]]\nsteps = [{ live = 1 }]").await;
    let target = format!("{EVENTS}?topics=/tweet_engagement/1&scenario=live-not-found");
    let mut session = frames::open(simulator.addr(), &target).await;
    let id = session_id(&session.frame().await);
    let (items, end) = session.rest().await;
    end.expect("a clean end");
    assert_eq!(
        items
            .iter()
            .filter(|i| matches!(i, frames::Item::Frame(_)))
            .count(),
        10
    );
    let (status, _) = update(simulator.addr(), Some(&id), "sub_topics=").await;
    assert_eq!(status, 404);
    let stats = simulator.stop().await;
    assert!(stats.sessions[0].forgotten);
}
