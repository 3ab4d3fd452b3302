//! The session's timing, bounded whatever the server says: when subscriptions are renewed
//! (from the TTL) and how much silence is a stall (from the heartbeat). Server values out of
//! bounds are clamped; the caller logs a warning.

use std::time::Duration;
use tokio::time::Instant;

/// Silence tolerated whatever the heartbeat, unless the stream's stall timeout is shorter.
pub(super) const SILENCE_FLOOR: Duration = Duration::from_secs(15);
/// Subscriptions are re-asserted at this share of their TTL.
pub(super) const RENEW_AT: f64 = 0.8;
/// Subscriptions are re-asserted at most this often, however short the server's TTL: a TTL of
/// 1 ms must not turn the client into a flood of updates (short real TTLs, such as 1.5 s, are
/// still renewed in time).
pub(super) const RENEW_FLOOR: Duration = Duration::from_secs(1);
/// ... and at least this often, however long the TTL (renewing early costs one small request).
pub(super) const RENEW_CEILING: Duration = Duration::from_secs(30 * 60);

/// `from + wait`, or a year from `from` when that is out of the clock's range.
pub(super) fn deadline(from: Instant, wait: Duration) -> Instant {
    from.checked_add(wait)
        .unwrap_or(from + Duration::from_secs(365 * 86_400))
}

/// When to re-assert subscriptions of this TTL: at 0.8 × TTL, within [`RENEW_FLOOR`] and
/// [`RENEW_CEILING`].
pub(super) fn renew_interval(ttl: Duration) -> Duration {
    Duration::try_from_secs_f64(ttl.as_secs_f64() * RENEW_AT)
        .unwrap_or(Duration::MAX)
        .clamp(RENEW_FLOOR, RENEW_CEILING)
}

/// Silence tolerated with a server heartbeat of `heartbeat`: 3 beats, within `floor` and
/// `ceiling`.
pub(super) fn silence_limit(heartbeat: Duration, floor: Duration, ceiling: Duration) -> Duration {
    heartbeat
        .saturating_mul(3)
        .clamp(floor.min(ceiling), ceiling)
}

pub(super) fn millis(ms: i64) -> Option<Duration> {
    (ms > 0).then(|| Duration::from_millis(ms as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn renewals_are_bounded_whatever_the_ttl() {
        assert_eq!(renew_interval(Duration::from_millis(1)), RENEW_FLOOR);
        assert_eq!(renew_interval(S(60)), S(48));
        assert_eq!(renew_interval(S(86_400)), RENEW_CEILING);
        assert_eq!(renew_interval(millis(i64::MAX).unwrap()), RENEW_CEILING);
        assert_eq!(millis(0), None);
        assert_eq!(millis(-5), None);
    }

    #[test]
    fn stall_detection_survives_any_heartbeat() {
        let (floor, ceiling) = (S(15), S(90));
        assert_eq!(silence_limit(S(10), floor, ceiling), S(30));
        assert_eq!(
            silence_limit(Duration::from_millis(1), floor, ceiling),
            S(15)
        );
        assert_eq!(silence_limit(S(3600), floor, ceiling), S(90));
        let huge = millis(i64::MAX).unwrap();
        assert_eq!(silence_limit(huge, floor, ceiling), S(90));
        // A stall timeout shorter than the floor is both bounds.
        assert_eq!(silence_limit(S(1), S(5), S(5)), S(5));
        assert_eq!(silence_limit(S(1), S(15), S(5)), S(5));
    }
}
