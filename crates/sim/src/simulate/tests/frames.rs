//! Reading a topics session as a client does: SSE or JSON-lines frames out of the raw body,
//! heartbeats told apart, each frame with the time it arrived.

use super::client::{self, Response};
use serde_json::Value;
use std::io;
use std::net::SocketAddr;
use std::time::Instant;

/// One thing a session's body carried.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A data frame, parsed.
    Frame(Value),
    /// A data frame that is not JSON (a `malformed` step), as bytes.
    Broken(Vec<u8>),
    /// An SSE comment or a blank line.
    Heartbeat,
}

/// A session's body, read frame by frame.
pub struct Session {
    pub response: Response,
    sse: bool,
    buf: Vec<u8>,
    /// Every byte of the body read so far.
    pub bytes: usize,
}

/// Opens a session on `target`.
pub async fn open(addr: SocketAddr, target: &str) -> Session {
    // The raw client's futures hold 64 KiB read buffers: boxed, so that tests awaiting many of
    // them stay within a test thread's stack in debug builds.
    let response = Box::pin(client::get(addr, target)).await.expect("request");
    assert_eq!(response.status, 200, "{target}");
    let sse = response.header("content-type") == Some("text/event-stream");
    Session {
        response,
        sse,
        buf: Vec::new(),
        bytes: 0,
    }
}

impl Session {
    /// The next item; `Ok(None)` at a clean end of the body.
    pub async fn next(&mut self) -> io::Result<Option<Item>> {
        loop {
            if let Some(item) = self.take() {
                return Ok(Some(item));
            }
            match Box::pin(self.response.chunk()).await? {
                Some(data) => {
                    self.bytes += data.len();
                    self.buf.extend_from_slice(&data);
                }
                None if self.buf.is_empty() => return Ok(None),
                None => return Err(io::ErrorKind::UnexpectedEof.into()),
            }
        }
    }

    /// The next data frame, skipping heartbeats; panics at the end of the body.
    pub async fn frame(&mut self) -> Value {
        loop {
            match self.next().await.expect("a frame") {
                Some(Item::Frame(value)) => return value,
                Some(Item::Heartbeat) => {}
                other => panic!("expected a frame, got {other:?}"),
            }
        }
    }

    /// Every item up to the end of the body, and how the body ended.
    pub async fn rest(&mut self) -> (Vec<Item>, io::Result<()>) {
        let mut items = Vec::new();
        loop {
            match self.next().await {
                Ok(Some(item)) => items.push(item),
                Ok(None) => return (items, Ok(())),
                Err(e) => return (items, Err(e)),
            }
        }
    }

    /// Event frames (tweet engagement and DM) with their arrival time, until `done` says so.
    pub async fn events_until(
        &mut self,
        mut done: impl FnMut(&[(Instant, Value)]) -> bool,
    ) -> Vec<(Instant, Value)> {
        let mut events = Vec::new();
        while !done(&events) {
            let frame = self.frame().await;
            if !frame["topic"]
                .as_str()
                .unwrap_or("")
                .starts_with("/system/")
            {
                events.push((Instant::now(), frame));
            }
        }
        events
    }

    fn take(&mut self) -> Option<Item> {
        let end: &[u8] = if self.sse { b"\n\n" } else { b"\r\n" };
        let at = self.buf.windows(end.len()).position(|w| w == end)?;
        let block: Vec<u8> = self.buf.drain(..at + end.len()).take(at).collect();
        if block.is_empty() || block.starts_with(b":") {
            assert!(self.sse || block.is_empty(), "an SSE comment in JSON lines");
            return Some(Item::Heartbeat);
        }
        let data = if self.sse {
            block
                .strip_prefix(b"data: ")
                .unwrap_or_else(|| panic!("not an SSE data line: {block:?}"))
        } else {
            &block
        };
        assert!(!data.contains(&b'\n'), "a line break inside a frame");
        Some(match serde_json::from_slice(data) {
            Ok(value) => Item::Frame(value),
            Err(_) => Item::Broken(data.to_vec()),
        })
    }
}

/// A subscription update: its status and its body as JSON (`Null` when it is not JSON).
pub async fn update(addr: SocketAddr, session_id: Option<&str>, form: &str) -> (u16, Value) {
    let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
    if let Some(id) = session_id {
        headers.push(("LivePipeline-Session", id));
    }
    let path = "/1.1/live_pipeline/update_subscriptions";
    let mut response = Box::pin(client::request(addr, "POST", path, &headers, Some(form)))
        .await
        .expect("update request");
    let (body, end) = Box::pin(response.body()).await;
    end.expect("a whole answer");
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (response.status, value)
}

/// The session id of a config frame, checking the frame's shape.
pub fn session_id(config: &Value) -> String {
    assert_eq!(config["topic"], "/system/config", "{config}");
    let id = config["payload"]["config"]["session_id"]
        .as_str()
        .expect("a session id string");
    assert!(!id.is_empty());
    id.to_string()
}

/// The topic of a frame.
pub fn topic(frame: &Value) -> &str {
    frame["topic"].as_str().expect("a topic string")
}
