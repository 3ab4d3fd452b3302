//! `streamvault run` against a compliance stream served by this test (hyper on 127.0.0.1:0),
//! in 4 partitions, on both backends: one connection per partition asking its `partition` and
//! no field parameters, every partition's events archived and applied to Posts archived before.

mod common;
#[path = "v2_compliance/lines.rs"]
mod lines;

use bytes::Bytes;
use common::BIG;
use common::daemon::{Daemon, StreamSpec, wait_until};
use http_body_util::{BodyExt, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use lines::*;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PATH: &str = "/2/tweets/compliance/stream";

/// The events partition `p` serves (then keep-alives until the client goes).
fn partition_events(p: u32) -> Vec<String> {
    match p {
        1 => vec![tweet_event("delete", BIG + 1, 11, 0)],
        2 => vec![
            tweet_event("drop", BIG + 2, 12, 0),
            r#"{"data":{"drop":{"tweet":{"id":"not a number","author_id":"12"},"event_at":"2022-12-23T12:34:56.789Z"}}}"#.into(),
        ],
        3 => vec![user_event("user_protect", 13, 0)],
        _ => vec![tweet_edit(&[BIG + 4, BIG + 5], 0), withheld(BIG + 6, 14, &["DE"])],
    }
}

/// The query strings the server was asked, one per request.
type Seen = Arc<Mutex<Vec<String>>>;

async fn handle(
    seen: Seen,
    req: Request<Incoming>,
) -> Result<Response<BoxBody<Bytes, Infallible>>, Infallible> {
    let query = req.uri().query().unwrap_or("").to_owned();
    let path_ok = req.uri().path() == PATH;
    seen.lock().unwrap().push(query.clone());
    let partition: u32 = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("partition="))
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let lines = if path_ok {
        partition_events(partition)
    } else {
        Vec::new()
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    tokio::spawn(async move {
        for line in lines {
            if tx.send(Bytes::from(format!("{line}\r\n"))).await.is_err() {
                return;
            }
        }
        // Keep-alives until the client goes.
        while tx.send(Bytes::from_static(b"\r\n")).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let bytes = rx.recv().await?;
        Some((Ok::<_, Infallible>(Frame::data(bytes)), rx))
    });
    Ok(Response::new(BodyExt::boxed(StreamBody::new(stream))))
}

/// The server on a free loopback port.
async fn serve(seen: Seen) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |r| handle(seen.clone(), r));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(socket), service)
                    .await;
            });
        }
    });
    addr
}

both_backends!(a_four_partition_compliance_stream_is_applied, |db| async {
    let posts = [
        post(BIG + 1, 11, "deleted on partition 1", &[]),
        post(BIG + 2, 12, "dropped on partition 2", &[]),
        post(BIG + 3, 13, "author protected on partition 3", &[]),
        post(BIG + 4, 14, "first version", &[]),
        post(BIG + 5, 14, "second version", &[BIG + 4, BIG + 5]),
        post(BIG + 6, 14, "withheld on partition 4", &[]),
        post(BIG + 7, 15, "untouched", &[]),
    ];
    let refs: Vec<&str> = posts.iter().map(String::as_str).collect();
    db.replay_with(
        &refs,
        streamvault::compliance::Policy {
            keep_edit_history: true,
        },
    )
    .await;
    let seen: Seen = Arc::default();
    let addr = serve(seen.clone()).await;
    let spec = StreamSpec {
        name: "tc".into(),
        family: "v2",
        url: format!("http://{addr}{PATH}"),
        extra: "partitions = [1, 2, 3, 4]\nbackfill_minutes = 0\n".into(),
    };
    let daemon = Daemon::start_with(&db, &[spec], 1.0, "[compliance]\nedits = \"latest\"\n", &[]);
    let db_ref = &db;
    wait_until(
        "every partition's events applied",
        Duration::from_secs(30),
        || async move {
            db_ref.int("SELECT COUNT(*) FROM compliance_actions").await >= 5
                && db_ref.count("rejects").await >= 1
        },
    )
    .await;
    let exit = daemon.stop(Duration::from_secs(15));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    let mut queries = seen.lock().unwrap().clone();
    queries.sort();
    assert_eq!(
        queries.len(),
        4,
        "one connection per partition: {queries:?}"
    );
    for (q, p) in queries.iter().zip(1..=4) {
        assert_eq!(
            q,
            &format!("partition={p}"),
            "no field parameters are asked"
        );
    }
    let stored = db
        .rows("SELECT CAST(tweet_id AS TEXT) FROM tweets ORDER BY tweet_id")
        .await;
    let stored: Vec<i64> = stored
        .iter()
        .map(|r| r[0].as_ref().unwrap().parse().unwrap())
        .collect();
    assert_eq!(stored, [BIG + 2, BIG + 3, BIG + 5, BIG + 6, BIG + 7]);
    let shown = db
        .rows("SELECT CAST(tweet_id AS TEXT) FROM tweets_visible ORDER BY tweet_id")
        .await;
    let shown: Vec<i64> = shown
        .iter()
        .map(|r| r[0].as_ref().unwrap().parse().unwrap())
        .collect();
    assert_eq!(shown, [BIG + 5, BIG + 6, BIG + 7]);
    let kinds = db
        .rows("SELECT kind FROM compliance_actions ORDER BY kind")
        .await;
    let kinds: Vec<String> = kinds.into_iter().map(|r| r[0].clone().unwrap()).collect();
    assert_eq!(
        kinds,
        ["delete", "drop", "tweet_edit", "user_protect", "withheld"]
    );
    let reason = db.text("SELECT reason FROM rejects").await.unwrap();
    assert!(reason.contains("tweet.id"), "{reason}");
    let names = db
        .rows("SELECT DISTINCT stream FROM connections WHERE stream LIKE 'tc%' ORDER BY stream")
        .await;
    assert_eq!(names.len(), 4, "{names:?}");
});
