//! The subscription update endpoint of the topics family (any path ending in
//! `/update_subscriptions`): `POST` with the `LivePipeline-Session` header and a form body
//! `sub_topics=a,b&unsub_topics=c`, answered `{"subscriptions": {"errors": [...]}}`.
//!
//! Updates are not streams: they appear in their session's stats (`updates`), or in
//! `unmatched_updates` when they name no session, never in `connections`, and they do not move
//! any script position.

use super::frames;
use super::handler::{ResponseBody, error, whole};
use super::live::UpdateError;
use super::registry::Registry;
use super::request::RequestInfo;
use super::topic;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

/// What a client gets for a session that is unknown, forgotten or over: open a new one.
const NOT_FOUND: &str = r#"{"errors":[{"message":"session not found"}]}"#;

/// Applies one subscription update and answers it.
pub(crate) async fn handle(
    request: Request<Incoming>,
    registry: &Registry,
) -> Response<ResponseBody> {
    let info = match RequestInfo::read(request).await {
        Ok(info) => info,
        Err(reason) => {
            registry.unmatched_update(None, 400);
            return error(StatusCode::BAD_REQUEST, &reason);
        }
    };
    let session_id = info.live_session.as_deref().filter(|id| !id.is_empty());
    if info.method != "POST" {
        registry.unmatched_update(session_id, 405);
        let message = "subscription updates are POST requests";
        return error(StatusCode::METHOD_NOT_ALLOWED, message);
    }
    let Some(session_id) = session_id else {
        registry.unmatched_update(None, 400);
        let message = "a subscription update needs the LivePipeline-Session header";
        return error(StatusCode::BAD_REQUEST, message);
    };
    let list = |key: &str| {
        info.params
            .get(key)
            .map(|l| topic::split_list(l))
            .unwrap_or_default()
    };
    match registry.update(session_id, list("sub_topics"), list("unsub_topics")) {
        Ok(errors) => {
            let body = frames::update_answer(&errors);
            whole(StatusCode::OK, "application/json", body, None)
        }
        Err(UpdateError::Unknown | UpdateError::Gone) => {
            let body = NOT_FOUND.as_bytes().to_vec();
            whole(StatusCode::NOT_FOUND, "application/json", body, None)
        }
    }
}
