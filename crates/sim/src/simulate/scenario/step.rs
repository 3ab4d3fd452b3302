//! The steps of a connection script: what one request does, in order, and which family of
//! streams each step fits (see the table in [`super`]).

use std::path::PathBuf;

/// How many events a `send` step produces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Amount {
    /// Exactly this many events (keep-alive lines not included).
    Events(u64),
    /// Until the client goes away or the simulator stops.
    Forever,
}

impl Amount {
    /// Events to send; `Forever` as a count no run reaches.
    pub fn events(self) -> u64 {
        match self {
            Amount::Events(n) => n,
            Amount::Forever => u64::MAX,
        }
    }
}

/// How long a `stall` or `idle` step lasts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Period {
    /// This many seconds (fractions allowed, so that tests stay fast).
    Seconds(f64),
    /// Until the client goes away or the simulator stops.
    Forever,
}

/// One thing a connection does; see the module documentation for the file syntax.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Generated events at the connection's rate.
    Send(Amount),
    /// The lines of a recorded stream (plain or `.gz`).
    File(PathBuf),
    /// A `disconnect` message, then a clean end of the body.
    Disconnect {
        /// The disconnect code (1–12 are documented; others test unknown-code handling).
        code: u32,
        /// Defaults to the documented meaning of the code.
        reason: Option<String>,
        /// Defaults to a name derived from the request path.
        stream_name: Option<String>,
    },
    /// An HTTP error status instead of a stream.
    Http {
        /// The status code, 200–599.
        status: u16,
        /// Sent as `Retry-After` (seconds) when given.
        retry_after: Option<u64>,
        /// The response body; defaults to a short JSON error.
        body: Option<String>,
    },
    /// An abrupt TCP reset.
    Reset {
        /// Write half of a generated line (no terminator) before resetting.
        mid_line: bool,
    },
    /// Total silence, keep-alives included.
    Stall(Period),
    /// Events written a few bytes at a time.
    Trickle {
        /// Events to write.
        count: u64,
        /// Write speed.
        bytes_per_sec: u64,
    },
    /// One valid JSON object of about this many bytes.
    Oversize(u64),
    /// This many malformed lines.
    Malformed(u64),
    /// A stall warning message.
    Warning {
        /// e.g. `FALLING_BEHIND` or `FOLLOWS_OVER_LIMIT`.
        code: String,
        /// Defaults to a sentence built from the code and `percent_full`.
        message: Option<String>,
        /// The queue fill level of a `FALLING_BEHIND` warning.
        percent_full: Option<u32>,
        /// The user of a `FOLLOWS_OVER_LIMIT` warning.
        user_id: Option<u64>,
    },
    /// This many blank keep-alive lines.
    Keepalive(u64),
    /// Only keep-alive lines, every keep-alive interval.
    Idle(Period),
    /// A clean end of the body.
    Close,
    /// Topics family: events on the session's live topics at the rate (the same as `send`).
    Live(Amount),
    /// Topics family: this many frames with a payload key no client knows.
    UnknownPayload(u64),
    /// Topics family: the server forgets the session; later updates naming it get 404.
    ForgetSession,
    /// Topics family: an extra `/system/subscriptions` frame with an empty error list.
    SubscriptionsEvent,
    /// ndjson: the lines of a hostile case, `count` times.
    Hostile {
        /// One of `hostile::CASES`, or `all`.
        case: String,
        /// How many times the case's lines are written.
        count: u64,
        /// The size of an `oversize` case's line.
        bytes: u64,
    },
    /// ndjson: one line of our own, written as it is.
    Raw(String),
    /// A line (topics: a `data:` field) of this many bytes that never ends; the body then ends.
    Unterminated(u64),
    /// v2: an `operational-disconnect` error line, then a clean end of the body.
    OperationalDisconnect {
        /// The `disconnect_type`, e.g. `OperationalDisconnect` or `SlowReader`.
        disconnect_type: String,
        /// Defaults to a sentence for the type.
        detail: Option<String>,
    },
    /// v2: HTTP 429 with a `usage-capped` problem instead of a stream.
    UsageCapped {
        /// `Daily` or `Monthly`.
        period: String,
        /// `Product` (default) or `Account`.
        scope: String,
        /// Sent as `x-rate-limit-reset`, this many seconds from now, when given.
        reset_secs: Option<u64>,
    },
}

impl Step {
    /// The step's kind key in a scenario file, for messages naming a step.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Send(_) => "send",
            Step::File(_) => "file",
            Step::Disconnect { .. } => "disconnect",
            Step::Http { .. } => "http",
            Step::Reset { mid_line: false } => "reset",
            Step::Reset { mid_line: true } => "reset_mid_line",
            Step::Stall(_) => "stall",
            Step::Trickle { .. } => "trickle",
            Step::Oversize(_) => "oversize",
            Step::Malformed(_) => "malformed",
            Step::Warning { .. } => "warning",
            Step::Keepalive(_) => "keepalive",
            Step::Idle(_) => "idle",
            Step::Close => "close",
            Step::Live(_) => "live",
            Step::UnknownPayload(_) => "unknown_payload",
            Step::ForgetSession => "forget_session",
            Step::SubscriptionsEvent => "subscriptions_event",
            Step::Hostile { .. } => "hostile",
            Step::Raw(_) => "raw",
            Step::Unterminated(_) => "unterminated",
            Step::OperationalDisconnect { .. } => "operational_disconnect",
            Step::UsageCapped { .. } => "usage_capped",
        }
    }

    /// Whether the step means something on an ndjson stream.
    pub fn fits_ndjson(&self) -> bool {
        !matches!(
            self,
            Step::UnknownPayload(_)
                | Step::ForgetSession
                | Step::SubscriptionsEvent
                | Step::OperationalDisconnect { .. }
                | Step::UsageCapped { .. }
        )
    }

    /// Whether the step means something on an X API v2 stream: v1.1 notices and generated
    /// v1.1 lines (trickles, cut lines, hostile cases) do not; a file serves its lines as
    /// they are (a recorded or generated v2 stream).
    pub fn fits_v2(&self) -> bool {
        matches!(
            self,
            Step::Send(_)
                | Step::File(_)
                | Step::Http { .. }
                | Step::Reset { mid_line: false }
                | Step::Stall(_)
                | Step::Idle(_)
                | Step::Oversize(_)
                | Step::Malformed(_)
                | Step::Keepalive(_)
                | Step::Close
                | Step::Raw(_)
                | Step::Unterminated(_)
                | Step::OperationalDisconnect { .. }
                | Step::UsageCapped { .. }
        )
    }

    /// Whether the step means something on a topics session.
    pub fn fits_topics(&self) -> bool {
        !matches!(
            self,
            Step::File(_)
                | Step::Disconnect { .. }
                | Step::Warning { .. }
                | Step::Hostile { .. }
                | Step::Raw(_)
                | Step::OperationalDisconnect { .. }
                | Step::UsageCapped { .. }
        )
    }
}
