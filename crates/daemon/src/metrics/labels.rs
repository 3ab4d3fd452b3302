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
    name: &'static str,
}

impl DisconnectLabels {
    pub(super) fn new(stream: Arc<str>, code: i64) -> DisconnectLabels {
        DisconnectLabels {
            stream,
            code: Code(code),
            name: disconnect_code_name(code),
        }
    }
}

/// A disconnect code as a label value (written in decimal).
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub(super) struct Code(pub(super) i64);

impl EncodeLabelValue for Code {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        write!(encoder, "{}", self.0)
    }
}
