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
    /// An X API v2 problem ended the connection or refused it (see [`ProblemEnding`]).
    Problem(ProblemEnding),
}

/// What an X API v2 problem (an in-stream error line, or the body of a refused connection)
/// means for the policy.
#[derive(Debug, Clone, PartialEq)]
pub enum ProblemEnding {
    /// An operational disconnect on the server's side (or `SlowReader`): as a network error.
    Operational,
    /// The stream's setup is refused (invalid rules, degraded client state): as an HTTP error.
    Setup,
    /// Another client holds the connection (`TooManyConnections`).
    Contention,
    /// The usage cap is reached: nothing comes before it resets, this long from now.
    UsageCapped { reset_in: Duration },
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
    /// Until the usage cap resets (days, possibly): the one wait longer than [`MAX_WAIT`].
    UsageCapped,
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

/// The longest wait the policy ever takes, its own or the server's (`Retry-After`, rate-limit
/// reset): a server's header is not allowed to park a stream for longer than our own schedule
/// would at its slowest.
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

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
    .max_delay(MAX_WAIT);

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

    /// Whether the last ended connection counted as stable.
    #[cfg(test)]
    pub fn last_was_stable(&self) -> bool {
        self.last_stable
    }

    /// The last wait decided, scaled and jittered; zero after a stop or shutdown.
    #[cfg(test)]
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
            Class::UsageCapped => {
                if let Ending::Problem(ProblemEnding::UsageCapped { reset_in }) = ending {
                    return scaled(*reset_in, self.scale);
                }
                self.http.next()
            }
        }
        .unwrap_or(Duration::ZERO);
        let jittered = self.jitter(nominal);
        let retry_after = match ending {
            Ending::Http {
                retry_after: Some(after),
                ..
            } => scaled((*after).min(MAX_WAIT), self.scale),
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
pub(crate) fn random_seed() -> u64 {
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
        Ending::Problem(problem) => Verdict::Retry(match problem {
            ProblemEnding::Operational => Class::Network,
            ProblemEnding::Setup => Class::Http,
            ProblemEnding::Contention => Class::Contention,
            ProblemEnding::UsageCapped { .. } => Class::UsageCapped,
        }),
    }
}

/// The backoff class of an ending; `None` when there is no reconnect (stop for good, shutdown).
#[cfg(test)]
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
mod tests;
