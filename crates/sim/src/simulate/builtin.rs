//! The built-in scenarios: one per fault the daemon must survive, plus a demo, so that tests and
//! first-time users need no scenario files.

use super::scenario::{
    Amount, ConnectionScript, LiveFormat, LiveSettings, Period, Scenario, Step, V2Settings,
};

/// Every built-in name, in the order `--help` lists them.
pub(super) const NAMES: &[&str] = &[
    "clean",
    "finite",
    "faults",
    "stall",
    "reset",
    "trickle",
    "gzip",
    "demo",
    "disconnect-1",
    "disconnect-2",
    "disconnect-3",
    "disconnect-4",
    "disconnect-5",
    "disconnect-6",
    "disconnect-7",
    "disconnect-8",
    "disconnect-9",
    "disconnect-10",
    "disconnect-11",
    "disconnect-12",
    "http-401",
    "http-403",
    "http-420",
    "http-429",
    "http-500",
    "http-503",
    "live",
    "live-lines",
    "live-ttl",
    "live-unknown",
    "live-not-found",
    "live-stall",
    "live-drop",
    "live-finite",
    "hostile",
    "hostile-retry",
    "hostile-ttl",
    "hostile-cr",
    "hostile-endless",
    "v2-disconnect-OperationalDisconnect",
    "v2-disconnect-UpstreamOperationalDisconnect",
    "v2-disconnect-ForceDisconnect",
    "v2-disconnect-UpstreamUncleanDisconnect",
    "v2-disconnect-SlowReader",
    "v2-disconnect-InternalError",
    "v2-disconnect-ClientApplicationStateDegraded",
    "v2-disconnect-InvalidRules",
    "v2-usage-capped",
    "v2-gap",
    "v2-no-backfill",
    "v2-stall",
    "v2-compliance",
    "v2-compliance-forever",
];

/// The built-in scenario of that name, if there is one.
pub(super) fn scenario(name: &str) -> Option<Scenario> {
    if !NAMES.contains(&name) {
        return None;
    }
    if let Some(code) = name.strip_prefix("disconnect-") {
        return code.parse().ok().map(disconnect);
    }
    if let Some(status) = name.strip_prefix("http-") {
        return status.parse().ok().map(http);
    }
    if name.starts_with("v2-") {
        return super::builtin_v2::scenario(name);
    }
    if name.starts_with("hostile") {
        return super::builtin_hostile::scenario(name);
    }
    if name.starts_with("live") {
        return Some(live(name));
    }
    let scenario = match name {
        "clean" => clean(),
        "finite" => finite(),
        "faults" => faults(),
        "stall" => stall(),
        "reset" => reset(),
        "trickle" => trickle(),
        "gzip" => gzip(),
        _ => demo(),
    };
    Some(scenario)
}

const FOREVER: Step = Step::Send(Amount::Forever);
const LIVE_FOREVER: Step = Step::Live(Amount::Forever);

/// `clean`: one script that sends forever; the simulator's default.
pub(super) fn clean() -> Scenario {
    build("clean", "one connection that sends forever", &[&[FOREVER]])
}

/// A scenario of plain scripts, with the simulator's defaults for everything else.
pub(super) fn build(name: &str, description: &str, scripts: &[&[Step]]) -> Scenario {
    Scenario {
        name: name.to_string(),
        description: description.to_string(),
        rate: None,
        keepalive_secs: None,
        gzip: false,
        queue_bytes: None,
        live: LiveSettings::default(),
        v2: V2Settings::default(),
        jobs: None,
        connections: scripts
            .iter()
            .map(|steps| ConnectionScript {
                steps: steps.to_vec(),
            })
            .collect(),
    }
}

/// `finite`: a known number of events, then silence but for keep-alives.
fn finite() -> Scenario {
    build(
        "finite",
        "500 events, then only keep-alives: lets a test wait for an exact count",
        &[&[Step::Send(Amount::Events(500)), Step::Idle(Period::Forever)]],
    )
}

/// `stall`: a connection that goes silent, keep-alives included.
fn stall() -> Scenario {
    build(
        "stall",
        "10 events then silence until the client gives up; later connections send forever",
        &[
            &[Step::Send(Amount::Events(10)), Step::Stall(Period::Forever)],
            &[FOREVER],
        ],
    )
}

/// `reset`: a TCP reset in the middle of a line.
fn reset() -> Scenario {
    build(
        "reset",
        "10 events then a TCP reset in the middle of a line; later connections send forever",
        &[
            &[Step::Send(Amount::Events(10)), reset_mid_line()],
            &[FOREVER],
        ],
    )
}

/// `trickle`: events written a few bytes at a time.
fn trickle() -> Scenario {
    build(
        "trickle",
        "3 events at 4 KiB/s, each split over many writes, then sends forever",
        &[&[
            Step::Trickle {
                count: 3,
                bytes_per_sec: 4096,
            },
            FOREVER,
        ]],
    )
}

/// `gzip`: a gzip-encoded body for clients that accept it.
fn gzip() -> Scenario {
    Scenario {
        gzip: true,
        ..build(
            "gzip",
            "sends forever, gzip-encoded for clients that accept it",
            &[&[FOREVER]],
        )
    }
}

fn reset_mid_line() -> Step {
    Step::Reset { mid_line: true }
}

fn disconnect_step(code: u32) -> Step {
    Step::Disconnect {
        code,
        reason: None,
        stream_name: None,
    }
}

fn falling_behind(percent_full: u32) -> Step {
    Step::Warning {
        code: "FALLING_BEHIND".into(),
        message: None,
        percent_full: Some(percent_full),
        user_id: None,
    }
}

/// `disconnect-N`: 20 events then disconnect code N; later connections send forever.
fn disconnect(code: u32) -> Scenario {
    build(
        &format!("disconnect-{code}"),
        &format!("20 events then disconnect code {code}; later connections send forever"),
        &[
            &[Step::Send(Amount::Events(20)), disconnect_step(code)],
            &[FOREVER],
        ],
    )
}

/// `http-STATUS`: the first request gets that status, later ones a stream. 429 carries
/// `Retry-After: 1`, so that the header's precedence can be tested without a long wait.
fn http(status: u16) -> Scenario {
    let (retry_after, text) = match status {
        401 => (None, "Unauthorized: the credentials were refused"),
        403 => (None, "Forbidden: this account may not use this stream"),
        420 => (None, "Enhance your calm: too many connection attempts"),
        429 => (Some(1), "Too many requests"),
        500 => (None, "Internal server error"),
        _ => (None, "Service unavailable: over capacity"),
    };
    let step = Step::Http {
        status,
        retry_after,
        body: Some(text.to_string()),
    };
    build(
        &format!("http-{status}"),
        &format!("the first request gets HTTP {status}; later connections send forever"),
        &[&[step], &[FOREVER]],
    )
}

/// Every fault once, in the order a long-running daemon might meet them.
fn faults() -> Scenario {
    let http = Step::Http {
        status: 503,
        retry_after: None,
        body: Some("Service unavailable: over capacity".into()),
    };
    build(
        "faults",
        "a 503, a disconnect (code 10), a reset mid-line, then malformed and oversize lines, a \
         FALLING_BEHIND warning, a 3 s stall and data forever",
        &[
            &[http],
            &[Step::Send(Amount::Events(50)), disconnect_step(10)],
            &[Step::Send(Amount::Events(30)), reset_mid_line()],
            &[
                Step::Send(Amount::Events(20)),
                Step::Malformed(5),
                Step::Oversize(2 << 20),
                Step::Send(Amount::Events(20)),
                falling_behind(60),
                Step::Send(Amount::Events(20)),
                Step::Stall(Period::Seconds(3.0)),
                FOREVER,
            ],
        ],
    )
}

/// The demo's 15 seconds (see `builtin_demo`).
fn demo() -> Scenario {
    Scenario::demo(15)
}

/// The topics family's scenarios: `live` and one per fault a session client must survive.
fn live(name: &str) -> Scenario {
    let first_10 = Step::Live(Amount::Events(10));
    let (description, scripts): (&str, &[&[Step]]) = match name {
        "live-lines" => (
            "a session in JSON lines: config, then events forever",
            &[&[LIVE_FOREVER]],
        ),
        "live-ttl" => (
            "subscriptions expire after 1.5 s unless re-asserted; events forever while they live",
            &[&[LIVE_FOREVER]],
        ),
        "live-unknown" => (
            "20 events, one frame with an unknown payload key, then events forever",
            &[&[
                Step::Live(Amount::Events(20)),
                Step::UnknownPayload(1),
                LIVE_FOREVER,
            ]],
        ),
        "live-not-found" => (
            "10 events, then the server forgets the session and closes the stream; later \
             sessions send forever",
            &[
                &[first_10, Step::ForgetSession, Step::Close],
                &[LIVE_FOREVER],
            ],
        ),
        "live-stall" => (
            "10 events then silence, heartbeats included; later sessions send forever",
            &[&[first_10, Step::Stall(Period::Forever)], &[LIVE_FOREVER]],
        ),
        "live-finite" => (
            "500 events, then only heartbeats: lets a test wait for an exact count",
            &[&[Step::Live(Amount::Events(500)), Step::Idle(Period::Forever)]],
        ),
        "live-drop" => (
            "10 events then a clean end of the stream; later sessions send forever",
            &[&[first_10, Step::Close], &[LIVE_FOREVER]],
        ),
        _ => (
            "a session in Server-Sent Events: config, then events forever",
            &[&[LIVE_FOREVER]],
        ),
    };
    let mut scenario = build(name, description, scripts);
    match name {
        "live-lines" => scenario.live.format = LiveFormat::Lines,
        "live-ttl" => scenario.live.ttl_millis = 1_500,
        _ => {}
    }
    scenario
}
