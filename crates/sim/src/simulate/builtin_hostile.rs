//! The built-in `hostile` scenarios (issue 16): ordinary traffic with every hostile case mixed
//! in, and one scenario per hostile thing a server does to a connection rather than to a line.
//! A daemon test points one stream at each (`?scenario=hostile-retry`, ...).

use super::builtin::build;
use super::scenario::{Amount, LiveFormat, Scenario, Step};

/// Every hostile built-in name (also in the list of `builtin`).
#[cfg(test)]
const NAMES: &[&str] = &[
    "hostile",
    "hostile-retry",
    "hostile-ttl",
    "hostile-cr",
    "hostile-endless",
];

/// Rounds of ordinary events and hostile lines before the stream sends forever: about a minute
/// at the scenario's rate.
const ROUNDS: u64 = 150;
/// Ordinary events of one round.
const ROUND_EVENTS: u64 = 150;
/// The oversize lines and the round each comes in (about 0, 4, 26 and 52 s into the stream): 44 MB
/// in all, whatever the run's length.
const OVERSIZE: &[(u64, u64)] = &[
    (0, 2_000_000),
    (10, 17_000_000),
    (60, 8_000_000),
    (120, 17_000_000),
];
/// The length of the `data:` line that never ends.
const ENDLESS_BYTES: u64 = 40_000_000;
/// `heartbeat_millis` of `hostile-ttl`: eleven and a half days.
const HUGE_HEARTBEAT_MILLIS: u64 = 999_999_999;

/// The hostile scenario of that name, if it is one; 50 events/s unless it says otherwise.
pub(super) fn scenario(name: &str) -> Option<Scenario> {
    let scenario = match name {
        "hostile" => mixed(),
        "hostile-retry" => retry(),
        "hostile-ttl" => ttl(),
        "hostile-cr" => cr(),
        "hostile-endless" => endless(),
        _ => return None,
    };
    Some(Scenario {
        rate: scenario.rate.or(Some(50.0)),
        ..scenario
    })
}

/// `hostile`: ordinary traffic with every hostile line mixed in.
fn mixed() -> Scenario {
    Scenario {
        rate: Some(400.0),
        ..build(
            "hostile",
            "ordinary traffic at 400 events/s, every hostile line of issue 16 after each \
             150 events, four oversize lines (2 to 17 MB) over the first minute",
            &[&rounds()],
        )
    }
}

/// `hostile-retry`: a `Retry-After` no client should honour as given.
fn retry() -> Scenario {
    build(
        "hostile-retry",
        "HTTP 429 with Retry-After: 999999999 once; later connections send forever",
        &[
            &[Step::Http {
                status: 429,
                retry_after: Some(999_999_999),
                body: Some("Too many requests".into()),
            }],
            &[Step::Send(Amount::Forever)],
        ],
    )
}

/// `hostile-ttl`: session parameters at both extremes.
fn ttl() -> Scenario {
    let mut s = build(
        "hostile-ttl",
        "a topics session with subscription_ttl_millis = 1 and heartbeat_millis = \
         999999999, events forever",
        &[&[Step::Live(Amount::Forever)]],
    );
    s.live.ttl_millis = 1;
    s.live.heartbeat_millis = HUGE_HEARTBEAT_MILLIS;
    s
}

/// `hostile-cr`: Server-Sent Events with CR-only line endings.
fn cr() -> Scenario {
    let mut s = build(
        "hostile-cr",
        "a topics session in SSE with CR-only line endings, events forever",
        &[&[Step::Live(Amount::Forever)]],
    );
    s.live.format = LiveFormat::SseCr;
    s
}

/// `hostile-endless`: a `data:` line that never ends.
fn endless() -> Scenario {
    build(
        "hostile-endless",
        "a topics session: 20 events, then a 40 MB `data:` line that never ends and a clean \
         end; later sessions send forever",
        &[
            &[
                Step::Live(Amount::Events(20)),
                Step::Unterminated(ENDLESS_BYTES),
            ],
            &[Step::Live(Amount::Forever)],
        ],
    )
}

/// The `hostile` script: rounds of events and every hostile case, the oversize lines in their
/// rounds, then events forever.
fn rounds() -> Vec<Step> {
    let mut steps = Vec::new();
    for round in 0..ROUNDS {
        steps.push(Step::Send(Amount::Events(ROUND_EVENTS)));
        steps.push(hostile("all", 0));
        for (_, bytes) in OVERSIZE.iter().filter(|(r, _)| *r == round) {
            steps.push(hostile("oversize", *bytes));
        }
    }
    steps.push(Step::Send(Amount::Forever));
    steps
}

fn hostile(case: &str, bytes: u64) -> Step {
    Step::Hostile {
        case: case.into(),
        count: 1,
        bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hostile_name_builds_and_fits_its_family() {
        for name in NAMES {
            let s = Scenario::builtin(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(s.name, *name);
            assert!(Scenario::builtin_names().contains(name));
            let topics = name.ends_with("ttl") || name.ends_with("cr") || name.ends_with("less");
            for script in &s.connections {
                for step in &script.steps {
                    assert!(if topics {
                        step.fits_topics()
                    } else {
                        step.fits_ndjson()
                    });
                }
            }
        }
        let main = Scenario::builtin("hostile").expect("hostile");
        let oversize: u64 = main.connections[0]
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Hostile { case, bytes, .. } if case == "oversize" => Some(*bytes),
                _ => None,
            })
            .sum();
        assert!(oversize < 50_000_000, "{oversize}");
    }
}
