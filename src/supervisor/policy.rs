//! The reconnect policy of the contract: how long to wait after a connection ends, by how it ended.
//!
//! Each backoff class keeps its own consecutive-attempt sequence (tokio-retry strategies, plus
//! [`LinearBackoff`] for network errors); every wait gets ±20 % jitter so that many clients cut off
//! together do not reconnect together; a connection that stayed up for [`STABLE_AFTER`] resets
//! every class. Time is `tokio::time`, so tests drive it with paused time.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;
use tokio::time::Instant;
use tokio_retry::strategy::ExponentialBackoff;

/// How a connection attempt ended, as far as the policy cares.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// TCP/TLS error, connection refused or reset.
    Network,
    /// The server closed the stream cleanly.
    Eof,
    /// No byte arrived for the stream's `stall_timeout_secs`.
    Stall,
    /// A disconnect message with this code.
    Disconnect(i64),
    /// A non-200 HTTP response, with its `Retry-After` (or rate-limit reset) when the server gave one.
    Http {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// SIGTERM/SIGINT.
    Shutdown,
}

/// Backoff classes of the contract's table; each keeps its own attempt count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Linear from 250 ms to 16 s: network trouble usually clears quickly.
    Network,
    /// Exponential from 5 s to 320 s: the server answered but is unwell.
    Http,
    /// Exponential from 60 s to 15 min, or the server's `Retry-After`.
    RateLimited,
    /// Exponential from 60 s to 15 min: another client uses these credentials.
    Contention,
}

/// What the supervisor does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Wait, then connect again; without the `count` parameter when `drop_count_param` is set
    /// (disconnect code 9: repeating the backfill would hit the same limit).
    Reconnect {
        wait: Duration,
        class: Class,
        drop_count_param: bool,
    },
    /// The credentials were refused: retrying cannot help (exit 3 when no stream is left).
    StopForGood { reason: String },
    /// The daemon is shutting down.
    Shutdown,
}

/// A connection up for at least this long before it ended resets every class's backoff.
pub const STABLE_AFTER: Duration = Duration::from_secs(60);

/// The network class: 250 ms, +250 ms a try, at most 16 s.
const NETWORK: LinearBackoff = LinearBackoff::from_millis(250)
    .step(Duration::from_millis(250))
    .max_delay(Duration::from_secs(16));
/// The HTTP class: 5 s, 10 s, 20 s, ... at most 320 s (`2^n × 2500 ms`).
const HTTP: ExponentialBackoff = ExponentialBackoff::from_millis(2)
    .factor(2_500)
    .max_delay(Duration::from_secs(320));
/// Rate limits and credential contention: 60 s, 120 s, ... at most 15 min (`2^n × 30 s`).
const SLOW: ExponentialBackoff = ExponentialBackoff::from_millis(2)
    .factor(30_000)
    .max_delay(Duration::from_secs(15 * 60));

/// Jitter bounds: every wait is multiplied by a factor drawn uniformly from this range.
const JITTER: (f64, f64) = (0.8, 1.2);

/// A linear retry strategy in the style of `tokio_retry::strategy`: `start`, `start + step`, ...
/// up to an optional maximum. Infinite; bound it with `take` when needed.
#[derive(Debug, Clone)]
pub struct LinearBackoff {
    current: Duration,
    step: Duration,
    max_delay: Option<Duration>,
}

impl LinearBackoff {
    /// Starts at `millis`, growing by the same amount each try unless [`step`](Self::step) says otherwise.
    pub const fn from_millis(millis: u64) -> Self {
        LinearBackoff {
            current: Duration::from_millis(millis),
            step: Duration::from_millis(millis),
            max_delay: None,
        }
    }

    /// How much each try adds to the previous delay.
    pub const fn step(mut self, step: Duration) -> Self {
        self.step = step;
        self
    }

    /// No delay will be longer than this.
    pub const fn max_delay(mut self, duration: Duration) -> Self {
        self.max_delay = Some(duration);
        self
    }
}

impl Iterator for LinearBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if let Some(max) = self.max_delay {
            if self.current >= max {
                return Some(max);
            }
        }
        let delay = self.current;
        self.current = self.current.saturating_add(self.step);
        Some(delay)
    }
}

/// The contract's reconnect table, with per-class attempt counts and the stability clock.
#[derive(Debug)]
pub struct ReconnectPolicy {
    scale: f64,
    /// `None` only in tests that check nominal waits exactly.
    rng: Option<SmallRng>,
    network: LinearBackoff,
    http: ExponentialBackoff,
    rate_limited: ExponentialBackoff,
    contention: ExponentialBackoff,
    connected_at: Option<Instant>,
    last_stable: bool,
    current: Duration,
}

impl ReconnectPolicy {
    /// A policy with random jitter. `scale` multiplies every wait (1.0 in production; simulations
    /// use e.g. 0.01); a negative or non-finite scale is treated as 1.0.
    pub fn new(scale: f64) -> Self {
        Self::with_seed(scale, random_seed())
    }

    /// Like [`new`](Self::new) with a fixed jitter seed, so tests and simulations repeat exactly.
    pub fn with_seed(scale: f64, seed: u64) -> Self {
        let scale = if scale.is_finite() && scale >= 0.0 {
            scale
        } else {
            1.0
        };
        ReconnectPolicy {
            scale,
            rng: Some(SmallRng::seed_from_u64(seed)),
            network: NETWORK,
            http: HTTP,
            rate_limited: SLOW,
            contention: SLOW,
            connected_at: None,
            last_stable: false,
            current: Duration::ZERO,
        }
    }

    /// The connection is up and delivering (HTTP 200 received): starts the stability clock.
    pub fn connected(&mut self) {
        self.connected_at = Some(Instant::now());
    }

    /// Decides the wait after an attempt ended. A connection that was up for [`STABLE_AFTER`] or
    /// more before this ending first resets the backoff of every class.
    pub fn decide(&mut self, ending: &Ending) -> Decision {
        self.last_stable = self
            .connected_at
            .take()
            .is_some_and(|at| at.elapsed() >= STABLE_AFTER);
        if self.last_stable {
            self.reset();
        }
        let class = match verdict(ending) {
            Verdict::Retry(class) => class,
            Verdict::Stop(reason) => {
                self.current = Duration::ZERO;
                return Decision::StopForGood { reason };
            }
            Verdict::Shutdown => {
                self.current = Duration::ZERO;
                return Decision::Shutdown;
            }
        };
        let wait = self.wait_for(class, ending);
        self.current = wait;
        Decision::Reconnect {
            wait,
            class,
            drop_count_param: *ending == Ending::Disconnect(9),
        }
    }

    /// Whether the last ended connection counted as stable (for logs).
    pub fn last_was_stable(&self) -> bool {
        self.last_stable
    }

    /// The last wait decided, scaled and jittered; zero after a stop or shutdown (for metrics).
    pub fn current_backoff(&self) -> Duration {
        self.current
    }

    fn reset(&mut self) {
        self.network = NETWORK;
        self.http = HTTP;
        self.rate_limited = SLOW;
        self.contention = SLOW;
    }

    /// Advances the class's sequence and turns its nominal delay into the real wait.
    fn wait_for(&mut self, class: Class, ending: &Ending) -> Duration {
        let nominal = match class {
            // Right after a stable connection the first retry is immediate; the sequence was
            // reset, so the next failure in a row waits 250 ms.
            Class::Network if self.last_stable => Some(Duration::ZERO),
            Class::Network => self.network.next(),
            Class::Http => self.http.next(),
            Class::RateLimited => self.rate_limited.next(),
            Class::Contention => self.contention.next(),
        }
        .unwrap_or(Duration::ZERO);
        let jittered = self.jitter(nominal);
        let retry_after = match ending {
            Ending::Http {
                retry_after: Some(after),
                ..
            } => scaled(*after, self.scale),
            _ => return jittered,
        };
        match class {
            // The server said when: that wins over our own schedule.
            Class::RateLimited => retry_after,
            // A 503 with Retry-After: never earlier than the server asked.
            _ => jittered.max(retry_after),
        }
    }

    fn jitter(&mut self, nominal: Duration) -> Duration {
        let factor = match &mut self.rng {
            Some(rng) => rng.random_range(JITTER.0..=JITTER.1),
            None => 1.0,
        };
        scaled(nominal, factor * self.scale)
    }
}

/// `duration × factor`, saturating instead of panicking on overflow.
fn scaled(duration: Duration, factor: f64) -> Duration {
    Duration::try_from_secs_f64(duration.as_secs_f64() * factor).unwrap_or(Duration::MAX)
}

/// A seed that differs between processes and policies, without needing an OS RNG feature of
/// `rand`: std's `RandomState` keys are drawn from the OS once per thread and then incremented.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    hasher.finish()
}

/// The table's row for an ending.
enum Verdict {
    Retry(Class),
    Stop(String),
    Shutdown,
}

fn verdict(ending: &Ending) -> Verdict {
    match ending {
        Ending::Shutdown => Verdict::Shutdown,
        Ending::Network | Ending::Eof | Ending::Stall => Verdict::Retry(Class::Network),
        Ending::Disconnect(code) => match code {
            1 | 3 | 4 | 5 | 9..=12 => Verdict::Retry(Class::Network),
            2 | 7 => Verdict::Retry(Class::Contention),
            6 => Verdict::Stop(
                "disconnect code 6 (token revoked): the stream refused our credentials for good"
                    .into(),
            ),
            // 8 is reserved, the rest undocumented: treat like a server error.
            _ => Verdict::Retry(Class::Http),
        },
        Ending::Http { status, .. } => match status {
            401 => Verdict::Stop(
                "HTTP 401 Unauthorized: the stream refused our credentials for good".into(),
            ),
            403 => Verdict::Stop(
                "HTTP 403 Forbidden: the stream refused these credentials for good".into(),
            ),
            420 | 429 => Verdict::Retry(Class::RateLimited),
            _ => Verdict::Retry(Class::Http),
        },
    }
}

/// The backoff class of an ending; `None` when there is no reconnect (stop for good, shutdown).
pub fn class_of(ending: &Ending) -> Option<Class> {
    match verdict(ending) {
        Verdict::Retry(class) => Some(class),
        Verdict::Stop(_) | Verdict::Shutdown => None,
    }
}

/// What a disconnect code means for the operator, for the codes whose handling deserves a log
/// line of its own (codes 2 and 7 at error level: someone else is using these credentials).
pub fn disconnect_class_note(code: i64) -> Option<&'static str> {
    match code {
        2 | 7 => Some("another client uses these credentials"),
        4 => Some("client too slow"),
        6 => Some("token revoked: the stream stops for good"),
        9 => Some("max message limit: reconnecting without the count parameter"),
        12 => Some("server shedding load"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
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
                Some(RateLimited) | None => Duration::ZERO,
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
        // Longer than the schedule, too, and without jitter.
        assert_eq!(wait(policy.decide(&limited(3600))), S(3600));
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
}
