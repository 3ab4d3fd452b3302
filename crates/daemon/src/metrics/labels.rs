//! The label sets of the daemon's metric families. Stream names are shared `Arc<str>`s, so that
//! making a label set to look a series up costs a reference count, not an allocation.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use std::fmt::Write as _;
use std::sync::Arc;
use streamvault_core::protocol::disconnect_code_name;

/// `{stream="…"}`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct StreamLabel {
    pub(super) stream: Arc<str>,
}

/// `{stream="…",kind="…"}`: events committed.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct EventLabels {
    pub(super) stream: Arc<str>,
    pub(super) kind: &'static str,
}

/// `{stream="…",code="…",name="…"}`: disconnect messages received.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct DisconnectLabels {
    stream: Arc<str>,
    code: Code,
    pub(super) name: &'static str,
}

impl DisconnectLabels {
    pub(super) fn new(stream: Arc<str>, code: i64) -> DisconnectLabels {
        DisconnectLabels {
            stream,
            code: Code(Some(code)),
            name: disconnect_code_name(code),
        }
    }

    /// An X API v2 `operational-disconnect`: no code, named by its type (`name`).
    pub(super) fn v2(stream: Arc<str>, name: &'static str) -> DisconnectLabels {
        DisconnectLabels {
            stream,
            code: Code(None),
            name,
        }
    }
}

/// The label value of a v2 `disconnect_type`: the types the API documents, else `other`, so
/// that what a server sends cannot grow the metric's series without bound.
pub(super) fn v2_disconnect_name(disconnect_type: &str) -> &'static str {
    const KNOWN: [&str; 8] = [
        "OperationalDisconnect",
        "UpstreamOperationalDisconnect",
        "ForceDisconnect",
        "UpstreamUncleanDisconnect",
        "SlowReader",
        "InternalError",
        "ClientApplicationStateDegraded",
        "InvalidRules",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == disconnect_type)
        .unwrap_or("other")
}

/// A disconnect code as a label value (written in decimal; empty for a v2 disconnect).
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub(super) struct Code(pub(super) Option<i64>);

impl EncodeLabelValue for Code {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        match self.0 {
            Some(code) => write!(encoder, "{code}"),
            None => Ok(()),
        }
    }
}
