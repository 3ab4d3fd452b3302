//! Unit tests of the reconnect policy: backoff sequences per class, jitter, resets and notes.

use super::*;

const MS: fn(u64) -> Duration = Duration::from_millis;
const S: fn(u64) -> Duration = Duration::from_secs;

impl ReconnectPolicy {
    /// No jitter: the nominal table × scale, so sequences can be asserted exactly.
    fn exact(scale: f64) -> Self {
        let mut policy = Self::with_seed(scale, 0);
        policy.rng = None;
        policy
    }
}

fn http(status: u16) -> Ending {
    Ending::Http {
        status,
        retry_after: None,
    }
}

fn wait(decision: Decision) -> Duration {
    match decision {
        Decision::Reconnect { wait, .. } => wait,
        other => panic!("expected a reconnect, got {other:?}"),
    }
}

fn waits(policy: &mut ReconnectPolicy, ending: &Ending, n: usize) -> Vec<Duration> {
    (0..n).map(|_| wait(policy.decide(ending))).collect()
}

#[test]
fn linear_backoff_grows_by_its_step_up_to_its_maximum() {
    let mut linear = LinearBackoff::from_millis(100);
    assert_eq!(
        linear.by_ref().take(3).collect::<Vec<_>>(),
        [MS(100), MS(200), MS(300)]
    );
    let seq: Vec<_> = NETWORK.take(70).collect();
    assert_eq!(&seq[..4], [MS(250), MS(500), MS(750), MS(1000)]);
    assert_eq!(seq[62], MS(15_750));
    assert!(seq[63..].iter().all(|d| *d == S(16)), "{seq:?}");
    let mut capped = LinearBackoff::from_millis(50).max_delay(MS(20));
    assert_eq!((capped.next(), capped.next()), (Some(MS(20)), Some(MS(20))));
}

#[test]
fn exponential_strategies_give_the_contract_sequences() {
    let http: Vec<_> = HTTP.take(8).collect();
    assert_eq!(http, [5, 10, 20, 40, 80, 160, 320, 320].map(S));
    let slow: Vec<_> = SLOW.take(7).collect();
    assert_eq!(slow, [60, 120, 240, 480, 900, 900, 900].map(S));
}

#[test]
fn every_disconnect_code_has_its_row() {
    use Class::*;
    let expected: [(i64, Option<Class>); 15] = [
        (1, Some(Network)),
        (2, Some(Contention)),
        (3, Some(Network)),
        (4, Some(Network)),
        (5, Some(Network)),
        (6, None),
        (7, Some(Contention)),
        (8, Some(Http)),
        (9, Some(Network)),
        (10, Some(Network)),
        (11, Some(Network)),
        (12, Some(Network)),
        (42, Some(Http)),
        (0, Some(Http)),
        (-1, Some(Http)),
    ];
    for (code, class) in expected {
        assert_eq!(class_of(&Ending::Disconnect(code)), class, "code {code}");
        let decision = ReconnectPolicy::exact(1.0).decide(&Ending::Disconnect(code));
        let first = match class {
            Some(Network) => MS(250),
            Some(Http) => S(5),
            Some(Contention) => S(60),
            Some(RateLimited | UsageCapped) | None => Duration::ZERO,
        };
        match (class, decision) {
            (Some(class), decision) => assert_eq!(
                decision,
                Decision::Reconnect {
                    wait: first,
                    class,
                    drop_count_param: code == 9
                },
                "code {code}"
            ),
            (None, Decision::StopForGood { reason }) => {
                assert!(
                    reason.contains("code 6") && reason.contains("revoked"),
                    "{reason}"
                )
            }
            (None, other) => panic!("code {code}: {other:?}"),
        }
    }
}

#[test]
fn http_statuses_have_their_rows() {
    for (status, class) in [
        (420, Class::RateLimited),
        (429, Class::RateLimited),
        (500, Class::Http),
        (503, Class::Http),
        (404, Class::Http),
        (406, Class::Http),
    ] {
        assert_eq!(class_of(&http(status)), Some(class), "HTTP {status}");
    }
    for status in [401, 403] {
        assert_eq!(class_of(&http(status)), None);
        let mut policy = ReconnectPolicy::exact(1.0);
        match policy.decide(&http(status)) {
            Decision::StopForGood { reason } => {
                assert!(reason.contains(&format!("HTTP {status}")), "{reason}");
                assert!(reason.contains("credentials"), "{reason}");
            }
            other => panic!("HTTP {status}: {other:?}"),
        }
        assert_eq!(policy.current_backoff(), Duration::ZERO);
    }
}

#[test]
fn network_class_is_linear_and_capped_at_16_s() {
    let mut policy = ReconnectPolicy::exact(1.0);
    let endings = [
        Ending::Network,
        Ending::Eof,
        Ending::Stall,
        Ending::Disconnect(12),
    ];
    let seq: Vec<_> = (0..80)
        .map(|i| wait(policy.decide(&endings[i % 4])))
        .collect();
    assert_eq!(&seq[..5], [250, 500, 750, 1000, 1250].map(MS));
    assert_eq!(seq[62], MS(15_750));
    assert!(seq[63..].iter().all(|d| *d == S(16)));
    assert_eq!(policy.current_backoff(), S(16));
}

#[test]
fn http_class_doubles_from_5_s_up_to_320_s() {
    let mut policy = ReconnectPolicy::exact(1.0);
    let mut seq = waits(&mut policy, &http(500), 3);
    seq.extend(waits(&mut policy, &http(404), 2));
    seq.extend(waits(&mut policy, &Ending::Disconnect(42), 4));
    assert_eq!(seq, [5, 10, 20, 40, 80, 160, 320, 320, 320].map(S));
}

#[test]
fn rate_limits_double_from_60_s_up_to_15_min() {
    let mut policy = ReconnectPolicy::exact(1.0);
    let mut seq = waits(&mut policy, &http(420), 3);
    seq.extend(waits(&mut policy, &http(429), 3));
    assert_eq!(seq, [60, 120, 240, 480, 900, 900].map(S));
}

#[test]
fn contention_doubles_from_60_s_up_to_15_min() {
    let mut policy = ReconnectPolicy::exact(1.0);
    let mut seq = waits(&mut policy, &Ending::Disconnect(2), 2);
    seq.extend(waits(&mut policy, &Ending::Disconnect(7), 4));
    assert_eq!(seq, [60, 120, 240, 480, 900, 900].map(S));
}

#[test]
fn retry_after_wins_for_rate_limits_exactly_and_scaled() {
    let limited = |secs| Ending::Http {
        status: 429,
        retry_after: Some(S(secs)),
    };
    let mut policy = ReconnectPolicy::with_seed(1.0, 7);
    assert_eq!(wait(policy.decide(&limited(7))), S(7));
    assert_eq!(policy.current_backoff(), S(7));
    // Longer than the schedule, too, and without jitter, up to the policy's maximum.
    assert_eq!(wait(policy.decide(&limited(600))), S(600));
    assert_eq!(wait(policy.decide(&limited(3600))), MAX_WAIT);
    assert_eq!(wait(policy.decide(&limited(999_999_999))), MAX_WAIT);
    let mut policy = ReconnectPolicy::with_seed(0.01, 7);
    assert_eq!(wait(policy.decide(&limited(7))), MS(70));
    // The attempt still counts: the next rate limit without a header is the second step.
    let mut policy = ReconnectPolicy::exact(1.0);
    wait(policy.decide(&limited(1)));
    assert_eq!(wait(policy.decide(&http(429))), S(120));
}

#[test]
fn retry_after_on_a_server_error_is_a_floor() {
    let unavailable = |secs| Ending::Http {
        status: 503,
        retry_after: Some(S(secs)),
    };
    let mut policy = ReconnectPolicy::exact(1.0);
    assert_eq!(wait(policy.decide(&unavailable(30))), S(30));
    assert_eq!(wait(policy.decide(&unavailable(1))), S(10));
    assert_eq!(wait(policy.decide(&unavailable(u32::MAX.into()))), MAX_WAIT);
}

#[test]
fn jitter_stays_within_20_percent_and_varies() {
    let cases = [
        (Ending::Network, MS(250)),
        (http(500), S(5)),
        (http(429), S(60)),
        (Ending::Disconnect(2), S(60)),
    ];
    for (ending, nominal) in cases {
        let (low, high) = (
            nominal.mul_f64(0.8) - MS(1) / 1000,
            nominal.mul_f64(1.2) + MS(1) / 1000,
        );
        let seen: Vec<_> = (0..500)
            .map(|seed| wait(ReconnectPolicy::with_seed(1.0, seed).decide(&ending)))
            .collect();
        for w in &seen {
            assert!(
                *w >= low && *w <= high,
                "{ending:?}: {w:?} outside {low:?}..={high:?}"
            );
        }
        let (min, max) = (seen.iter().min(), seen.iter().max());
        assert!(min < max, "{ending:?}: no jitter");
        // Spread over the whole range, not a narrow band.
        assert!(*min.unwrap_or(&high) < nominal.mul_f64(0.85), "{ending:?}");
        assert!(*max.unwrap_or(&low) > nominal.mul_f64(1.15), "{ending:?}");
    }
    // Later steps are jittered too.
    let mut policy = ReconnectPolicy::with_seed(1.0, 3);
    let third = waits(&mut policy, &http(500), 3)[2];
    assert!(third >= S(16) && third <= S(24), "{third:?}");
}

#[test]
fn a_seed_repeats_and_new_policies_differ() {
    let run = |mut p: ReconnectPolicy| waits(&mut p, &Ending::Network, 10);
    assert_eq!(
        run(ReconnectPolicy::with_seed(1.0, 9)),
        run(ReconnectPolicy::with_seed(1.0, 9))
    );
    let firsts: Vec<_> = (0..20).map(|_| run(ReconnectPolicy::new(1.0))).collect();
    assert!(firsts.iter().any(|seq| *seq != firsts[0]));
}

#[test]
fn scale_multiplies_every_wait() {
    let mut policy = ReconnectPolicy::exact(0.01);
    assert_eq!(waits(&mut policy, &http(503), 2), [MS(50), MS(100)]);
    assert_eq!(
        waits(&mut policy, &Ending::Stall, 2),
        [Duration::from_micros(2500), MS(5)]
    );
    assert_eq!(wait(policy.decide(&Ending::Disconnect(7))), MS(600));
    let jittered = wait(ReconnectPolicy::with_seed(0.01, 1).decide(&http(500)));
    assert!(jittered >= MS(40) && jittered <= MS(60), "{jittered:?}");
    // Nonsense scales fall back to real time rather than panicking.
    assert_eq!(
        wait(ReconnectPolicy::exact(f64::NAN).decide(&http(500))),
        S(5)
    );
    assert_eq!(wait(ReconnectPolicy::exact(-1.0).decide(&http(500))), S(5));
}

#[tokio::test(start_paused = true)]
async fn a_stable_connection_resets_every_class() {
    let mut policy = ReconnectPolicy::exact(1.0);
    assert_eq!(
        waits(&mut policy, &Ending::Network, 3),
        [MS(250), MS(500), MS(750)]
    );
    assert_eq!(waits(&mut policy, &http(500), 3), [S(5), S(10), S(20)]);
    assert_eq!(wait(policy.decide(&http(429))), S(60));
    policy.connected();
    tokio::time::advance(STABLE_AFTER).await;
    assert_eq!(wait(policy.decide(&Ending::Eof)), Duration::ZERO);
    assert!(policy.last_was_stable());
    assert_eq!(policy.current_backoff(), Duration::ZERO);
    assert_eq!(wait(policy.decide(&Ending::Network)), MS(250));
    assert!(!policy.last_was_stable());
    assert_eq!(wait(policy.decide(&http(500))), S(5));
    assert_eq!(wait(policy.decide(&http(429))), S(60));

    // A stable connection ending in the HTTP class starts that class afresh too.
    wait(policy.decide(&http(500)));
    policy.connected();
    tokio::time::advance(S(3600)).await;
    assert_eq!(wait(policy.decide(&Ending::Disconnect(42))), S(5));
    assert_eq!(wait(policy.decide(&Ending::Network)), MS(250));
}

#[tokio::test(start_paused = true)]
async fn a_short_connection_resets_nothing() {
    let mut policy = ReconnectPolicy::exact(1.0);
    assert_eq!(waits(&mut policy, &Ending::Network, 2), [MS(250), MS(500)]);
    assert_eq!(waits(&mut policy, &http(502), 2), [S(5), S(10)]);
    policy.connected();
    tokio::time::advance(STABLE_AFTER - MS(1)).await;
    assert_eq!(wait(policy.decide(&Ending::Stall)), MS(750));
    assert!(!policy.last_was_stable());
    assert_eq!(wait(policy.decide(&http(500))), S(20));
    // The clock runs from connected(), not from the previous decision.
    tokio::time::advance(S(120)).await;
    assert_eq!(wait(policy.decide(&Ending::Network)), MS(1000));
}

#[test]
fn classes_count_their_own_attempts() {
    let mut policy = ReconnectPolicy::exact(1.0);
    assert_eq!(waits(&mut policy, &http(500), 2), [S(5), S(10)]);
    assert_eq!(wait(policy.decide(&Ending::Network)), MS(250));
    assert_eq!(wait(policy.decide(&Ending::Disconnect(2))), S(60));
    assert_eq!(wait(policy.decide(&http(420))), S(60));
    assert_eq!(wait(policy.decide(&http(500))), S(20));
    assert_eq!(wait(policy.decide(&Ending::Eof)), MS(500));
}

#[test]
fn code_9_drops_the_count_parameter_and_nothing_else_does() {
    let mut policy = ReconnectPolicy::exact(1.0);
    assert_eq!(
        policy.decide(&Ending::Disconnect(9)),
        Decision::Reconnect {
            wait: MS(250),
            class: Class::Network,
            drop_count_param: true
        }
    );
    for ending in [Ending::Disconnect(1), Ending::Eof, http(500), http(429)] {
        match policy.decide(&ending) {
            Decision::Reconnect {
                drop_count_param, ..
            } => assert!(!drop_count_param, "{ending:?}"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn shutdown_is_not_a_reconnect() {
    let mut policy = ReconnectPolicy::exact(1.0);
    wait(policy.decide(&http(500)));
    assert_eq!(policy.current_backoff(), S(5));
    assert_eq!(policy.decide(&Ending::Shutdown), Decision::Shutdown);
    assert_eq!(class_of(&Ending::Shutdown), None);
    assert_eq!(policy.current_backoff(), Duration::ZERO);
    // Stopping did not advance any class.
    assert_eq!(wait(policy.decide(&http(500))), S(10));
}

#[test]
fn notes_explain_the_codes_that_need_a_log_line() {
    assert_eq!(disconnect_class_note(4), Some("client too slow"));
    for code in [2, 7] {
        assert_eq!(
            disconnect_class_note(code),
            Some("another client uses these credentials")
        );
    }
    assert!(disconnect_class_note(9).is_some_and(|n| n.contains("count")));
    assert_eq!(disconnect_class_note(1), None);
    assert_eq!(disconnect_class_note(42), None);
}

#[test]
fn v2_problems_take_their_class() {
    use Class::*;
    let cases = [
        (ProblemEnding::Operational, MS(250), Network),
        (ProblemEnding::Setup, S(5), Http),
        (ProblemEnding::Contention, S(60), Contention),
    ];
    for (problem, first, class) in cases {
        let decision = ReconnectPolicy::exact(1.0).decide(&Ending::Problem(problem.clone()));
        assert_eq!(
            decision,
            Decision::Reconnect {
                wait: first,
                class,
                drop_count_param: false
            },
            "{problem:?}"
        );
    }
    // A usage cap waits until it resets, however long, scaled like every wait.
    let week = S(7 * 86_400);
    let capped = Ending::Problem(ProblemEnding::UsageCapped { reset_in: week });
    let decision = ReconnectPolicy::exact(1.0).decide(&capped);
    assert_eq!(
        decision,
        Decision::Reconnect {
            wait: week,
            class: UsageCapped,
            drop_count_param: false
        }
    );
    let decision = ReconnectPolicy::exact(0.001).decide(&capped);
    assert!(
        matches!(decision, Decision::Reconnect { wait, .. } if wait == Duration::from_secs_f64(604.8)),
        "{decision:?}"
    );
}
