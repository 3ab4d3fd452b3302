//! Stream-health messages of the v1.1 streams: `limit`, `disconnect` and `warning`.

use super::ParseError;
use super::bad;
use super::fields::{borrowed, field, ids, object};
use super::ids::WireId;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// `limit`: how many matching statuses were not delivered since the connection opened.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    pub track: i64,
}

/// `disconnect`: the server says why it is closing the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Disconnect<'a> {
    pub code: i64,
    pub stream_name: Option<Cow<'a, str>>,
    pub reason: Option<Cow<'a, str>>,
}

/// `warning`: stall warnings (`FALLING_BEHIND`), follow caps (`FOLLOWS_OVER_LIMIT`) and others.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning<'a> {
    pub code: Option<Cow<'a, str>>,
    pub message: Option<Cow<'a, str>>,
    pub percent_full: Option<i64>,
    pub user_id: Option<i64>,
}

#[derive(Deserialize)]
struct LimitWire {
    track: Option<i64>,
}

#[derive(Deserialize)]
struct DisconnectWire<'a> {
    code: Option<i64>,
    #[serde(borrow)]
    stream_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct WarningWire<'a> {
    #[serde(borrow)]
    code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    message: Option<Cow<'a, str>>,
    percent_full: Option<i64>,
    user_id: Option<WireId>,
    user_id_str: Option<WireId>,
}

#[inline]
pub(super) fn limit(raw: &RawValue) -> Result<Limit, ParseError> {
    let wire: LimitWire = field(object(raw, "limit")?, "limit")?;
    let track = wire.track.ok_or_else(|| bad("limit", "no track count"))?;
    Ok(Limit { track })
}

#[inline]
pub(super) fn disconnect(raw: &RawValue) -> Result<Disconnect<'_>, ParseError> {
    let wire: DisconnectWire<'_> = borrowed(object(raw, "disconnect")?, "disconnect")?;
    let code = wire.code.ok_or_else(|| bad("disconnect", "no code"))?;
    Ok(Disconnect {
        code,
        stream_name: wire.stream_name,
        reason: wire.reason,
    })
}

#[inline]
pub(super) fn warning(raw: &RawValue) -> Result<Warning<'_>, ParseError> {
    let wire: WarningWire<'_> = borrowed(object(raw, "warning")?, "warning")?;
    Ok(Warning {
        user_id: ids(&wire.user_id_str, &wire.user_id, "user_id", "warning")?,
        code: wire.code,
        message: wire.message,
        percent_full: wire.percent_full,
    })
}
