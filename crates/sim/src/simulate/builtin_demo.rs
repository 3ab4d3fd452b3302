//! The `demo` scenario, fitted to the demo's length: `streamvault demo --seconds N` meets its
//! scripted faults within those N seconds, so that even a short demo shows a fault and the
//! reconnect after it.

use super::builtin::build;
use super::scenario::{Amount, Period, Scenario, Step};

/// Events per second of the demo's stream.
const RATE: f64 = 200.0;
/// How long the demo's stall lasts: longer than the demo daemon's 2 s stall timeout.
const STALL_SECS: f64 = 3.0;
/// The shortest demo that also has room for the stall, its detection and the reconnect.
const STALL_FROM_SECS: u64 = 8;
/// Fewest events of a `send` step, so that every connection shows some traffic.
const MIN_EVENTS: u64 = 20;

impl Scenario {
    /// The `demo` scenario for a run of `seconds` at 200 events/s: the first connection ends
    /// with a disconnect (code 12, shed load) at about 30 % of the run, after a
    /// `FALLING_BEHIND` warning and two malformed lines; the second stalls for 3 s at about
    /// 40 % (runs of 8 s and more) and the third sends until the end. `Scenario::builtin("demo")`
    /// is the 15-second run.
    pub fn demo(seconds: u64) -> Scenario {
        let events = |share: f64| ((seconds as f64 * share * RATE) as u64).max(MIN_EVENTS);
        let first = vec![
            Step::Send(Amount::Events(events(0.2))),
            Step::Warning {
                code: "FALLING_BEHIND".into(),
                message: None,
                percent_full: Some(60),
                user_id: None,
            },
            Step::Malformed(2),
            Step::Send(Amount::Events(events(0.1))),
            Step::Disconnect {
                code: 12,
                reason: None,
                stream_name: None,
            },
        ];
        let mut second = vec![Step::Send(Amount::Events(events(0.1)))];
        if seconds >= STALL_FROM_SECS {
            second.push(Step::Stall(Period::Seconds(STALL_SECS)));
        }
        second.push(Step::Send(Amount::Forever));
        let description = format!(
            "{seconds} s of traffic at {RATE} events/s with a warning, rejects, a disconnect \
             (code 12){}",
            if seconds >= STALL_FROM_SECS {
                " and a 3 s stall"
            } else {
                ""
            }
        );
        Scenario {
            rate: Some(RATE),
            ..build("demo", &description, &[&first, &second])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// When each fault comes, in seconds from the connection's start at the demo's rate.
    fn disconnect_at(scenario: &Scenario) -> f64 {
        let steps = &scenario.connections[0].steps;
        let events: u64 = steps
            .iter()
            .map(|s| match s {
                Step::Send(Amount::Events(n)) => *n,
                _ => 0,
            })
            .sum();
        assert!(matches!(
            steps.last(),
            Some(Step::Disconnect { code: 12, .. })
        ));
        events as f64 / RATE
    }

    #[test]
    fn the_faults_fall_within_the_requested_run() {
        for seconds in [1, 5, 15, 60, 3600] {
            let scenario = Scenario::demo(seconds);
            let at = disconnect_at(&scenario);
            assert!(at <= seconds as f64 * 0.3 + 0.01, "{seconds}: {at}");
            let stalls = scenario.connections[1]
                .steps
                .iter()
                .any(|s| matches!(s, Step::Stall(_)));
            assert_eq!(stalls, seconds >= STALL_FROM_SECS, "{seconds}");
        }
        assert_eq!(Scenario::builtin("demo"), Some(Scenario::demo(15)));
    }
}
