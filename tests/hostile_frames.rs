//! Hostile bytes against the real daemon: a server of this test's own (hyper on 127.0.0.1:0)
//! sends huge lines, an SSE event that never ends, an endless `data:` line, CR-only line ends,
//! a 1 ms subscription TTL, a heartbeat of `i64::MAX` ms and a 1 MiB update answer. The daemon
//! stays up and bounded in memory, archives every ordinary line and frame, keeps each hostile
//! one as a bounded reject, detects the stall the huge heartbeat would have hidden, and exits 0.

mod common;

use bytes::Bytes;
use common::TestDb;
use common::daemon::StreamSpec;
use common::logs::tail;
use common::process::{Proc, ProcConfig, ProcExit};
use common::tweet;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

const MIB: usize = 1 << 20;

/// What the server saw.
#[derive(Default)]
struct Seen {
    live_connections: AtomicU64,
    updates: AtomicU64,
}

type Body = BoxBody<Bytes, Infallible>;

/// A streaming body fed by `produce` through a small channel (the server's memory stays small).
fn streaming<F, Fut>(produce: F) -> Body
where
    F: FnOnce(mpsc::Sender<Bytes>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    tokio::spawn(produce(tx));
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let bytes = rx.recv().await?;
        Some((Ok::<_, Infallible>(Frame::data(bytes)), rx))
    });
    BodyExt::boxed(StreamBody::new(stream))
}

/// Sends `total` bytes of `x` in 64 KiB pieces; false once the client is gone.
async fn filler(tx: &mpsc::Sender<Bytes>, total: usize) -> bool {
    let piece = Bytes::from(vec![b'x'; 64 << 10]);
    let mut sent = 0;
    while sent < total {
        let n = piece.len().min(total - sent);
        if tx.send(piece.slice(..n)).await.is_err() {
            return false;
        }
        sent += n;
    }
    true
}

fn frame(json: &str) -> Bytes {
    // CR-only line ends: valid SSE.
    Bytes::from(format!("data: {json}\r\r"))
}

fn engagement(likes: u32) -> Bytes {
    frame(&format!(
        r#"{{"topic":"/tweet_engagement/17","payload":{{"tweet_engagement":{{"like_count":"{likes}"}}}}}}"#
    ))
}

fn config(session: &str, ttl: i64, heartbeat: i64) -> Bytes {
    frame(&format!(
        r#"{{"topic":"/system/config","payload":{{"config":{{"session_id":"{session}","subscription_ttl_millis":{ttl},"heartbeat_millis":{heartbeat}}}}}}}"#
    ))
}

/// ndjson: ordinary statuses around a 40 MiB line and three 3 MiB lines, then keep-alives.
async fn ndjson(tx: mpsc::Sender<Bytes>) {
    let line = |s: String| Bytes::from(s + "\r\n");
    let _ = tx.send(line(tweet(1, 9, "before"))).await;
    if !filler(&tx, 40 * MIB).await {
        return;
    }
    let _ = tx.send(line(String::new())).await;
    let _ = tx.send(line(tweet(2, 9, "between"))).await;
    for _ in 0..3 {
        if !filler(&tx, 3 * MIB).await {
            return;
        }
        let _ = tx.send(line(String::new())).await;
    }
    let _ = tx.send(line(tweet(3, 9, "after"))).await;
    while tx.send(Bytes::from_static(b"\r\n")).await.is_ok() {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The first live session: hostile timing, an endless event, an endless line, then silence.
async fn hostile_session(tx: mpsc::Sender<Bytes>) {
    for bytes in [config("s1", 1, i64::MAX), engagement(1), engagement(2)] {
        let _ = tx.send(bytes).await;
    }
    // One event of 32 MiB of data lines with no blank line.
    for _ in 0..1024 {
        let _ = tx.send(Bytes::from_static(b"data: ")).await;
        if !filler(&tx, 32 << 10).await {
            return;
        }
        let _ = tx.send(Bytes::from_static(b"\r")).await;
    }
    let _ = tx.send(Bytes::from_static(b"\r")).await;
    let _ = tx.send(engagement(3)).await;
    // One `data:` line of 20 MiB.
    let _ = tx.send(Bytes::from_static(b"data: ")).await;
    if !filler(&tx, 20 * MIB).await {
        return;
    }
    let _ = tx.send(Bytes::from_static(b"\r\r")).await;
    let _ = tx.send(engagement(4)).await;
    // Silence: only stall detection can end this session.
    tx.closed().await;
}

/// Later sessions: ordinary, with heartbeats.
async fn quiet_session(tx: mpsc::Sender<Bytes>, n: u64) {
    let _ = tx.send(config(&format!("s{n}"), 60_000, 1_000)).await;
    while tx.send(Bytes::from_static(b":hb\r\r")).await.is_ok() {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn handle(seen: Arc<Seen>, request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let body = match request.uri().path() {
        "/ndjson" => streaming(ndjson),
        "/live" => match seen.live_connections.fetch_add(1, Ordering::SeqCst) {
            0 => streaming(hostile_session),
            n => streaming(move |tx| quiet_session(tx, n + 1)),
        },
        "/update" => {
            seen.updates.fetch_add(1, Ordering::SeqCst);
            let mut answer = br#"{"subscriptions":{"errors":[]},"pad":""#.to_vec();
            answer.resize(MIB, b'p');
            Full::new(Bytes::from(answer)).boxed()
        }
        _ => Full::new(Bytes::from_static(b"not here")).boxed(),
    };
    Ok(Response::new(body))
}

/// The hostile server on a free loopback port.
async fn serve(seen: Arc<Seen>) -> std::net::SocketAddr {
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

/// Peak resident memory (VmHWM) of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

both_backends!(hostile_bytes_and_timing_cost_only_themselves, |db| async {
    let seen = Arc::new(Seen::default());
    let addr = serve(seen.clone()).await;
    let started = std::time::Instant::now();
    let exit = run_until_archived(&db, &seen, addr).await;
    renewals_are_bounded_and_stalls_seen(&db, &seen, &exit, started).await;
    rejects_are_bounded(&db).await;
});

/// An ndjson stream and a topics stream (1 ms TTL, a heartbeat far beyond its 3 s stall
/// timeout) on the hostile server at `addr`.
fn hostile_streams(addr: std::net::SocketAddr) -> Vec<StreamSpec> {
    vec![
        StreamSpec {
            name: "nd".into(),
            family: "ndjson",
            url: format!("http://{addr}/ndjson"),
            extra: String::new(),
        },
        StreamSpec {
            name: "live".into(),
            family: "topics",
            url: format!("http://{addr}/live"),
            extra: format!(
                "update_url = \"http://{addr}/update\"\ntopics = [\"/tweet_engagement/17\"]\nstall_timeout_secs = 3\n"
            ),
        },
    ]
}

/// Runs the daemon until every line and frame is archived and a second live session opened
/// (the hidden stall was detected); it must stay up, under 150 MiB, and exit 0 on TERM.
async fn run_until_archived(db: &TestDb, seen: &Seen, addr: std::net::SocketAddr) -> ProcExit {
    let streams = hostile_streams(addr);
    let mut daemon = Proc::start(db.dir.path(), &ProcConfig::new(&db.url, streams));
    let archived = || async {
        let tweets = db.count("tweets").await;
        let samples = db.count("engagement_samples").await;
        let rejects = db.count("rejects").await;
        (tweets, samples, rejects)
    };
    common::daemon::wait_until(
        "every line and frame is archived",
        Duration::from_secs(60),
        || {
            let running = daemon.running();
            async move {
                assert!(running, "the daemon died");
                let (tweets, samples, rejects) = archived().await;
                tweets == 3 && samples == 4 && rejects == 6
            }
        },
    )
    .await;
    // The stall the huge heartbeat would hide is detected (3 s), and a new session opens.
    common::daemon::wait_until("a second session", Duration::from_secs(20), || {
        let n = seen.live_connections.load(Ordering::SeqCst);
        async move { n >= 2 }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(daemon.running(), "{}", tail(&daemon.log_text(), 30));
    let peak_kib = peak_rss_kib(daemon.pid);
    let exit = daemon.stop(Duration::from_secs(15));
    assert_eq!(exit.code, Some(0), "{}", tail(&exit.log, 40));
    assert!(peak_kib < 150 * 1024, "peak RSS {peak_kib} KiB");
    eprintln!("peak RSS of the daemon: {} MiB", peak_kib / 1024);
    exit
}

/// A TTL of 1 ms: renewals at most once a second, not a flood; the stall is recorded and both
/// out-of-bounds timings are logged.
async fn renewals_are_bounded_and_stalls_seen(
    db: &TestDb,
    seen: &Seen,
    exit: &ProcExit,
    started: std::time::Instant,
) {
    let updates = seen.updates.load(Ordering::SeqCst);
    let lived = started.elapsed().as_secs();
    assert!(
        updates <= lived + 1,
        "{updates} subscription updates in {lived} s"
    );
    let stalls = common::daemon::connections(db, "live")
        .await
        .iter()
        .filter(|c| c.end_reason.as_deref() == Some("stall"))
        .count();
    assert!(stalls >= 1, "no stall recorded");
    assert!(
        exit.log
            .contains("heartbeat is longer than stall_timeout_secs")
    );
    assert!(exit.log.contains("subscription TTL is out of bounds"));
}

/// Every hostile line and frame is a reject that keeps at most 1 MiB; the ordinary lines
/// around them are archived.
async fn rejects_are_bounded(db: &TestDb) {
    let rejects = db
        .rows("SELECT stream, reason, CAST(length(raw) AS TEXT) FROM rejects ORDER BY reject_id")
        .await;
    let of = |stream: &str| -> Vec<(String, usize)> {
        rejects
            .iter()
            .filter(|r| r[0].as_deref() == Some(stream))
            .map(|r| {
                (
                    r[1].clone().unwrap(),
                    r[2].as_deref().unwrap().parse().unwrap(),
                )
            })
            .collect()
    };
    let nd = of("nd");
    assert_eq!(nd.len(), 4, "{nd:?}");
    // ndjson lines end at `\n`: the `\r` before it is part of the line.
    assert!(
        nd[0]
            .0
            .starts_with("line of 41943041 bytes exceeds ingest.max_line_bytes"),
        "{nd:?}"
    );
    for (reason, kept) in &nd {
        assert!(*kept <= MIB, "{reason}: {kept} bytes kept");
    }
    let live = of("live");
    assert_eq!(live.len(), 2, "{live:?}");
    assert!(live[0].0.starts_with("SSE event of"), "{live:?}");
    assert!(live[1].0.starts_with("line of"), "{live:?}");
    for (reason, kept) in &live {
        assert!(*kept <= MIB, "{reason}: {kept} bytes kept");
    }
    let texts = db.rows("SELECT text FROM tweets ORDER BY tweet_id").await;
    let texts: Vec<_> = texts.into_iter().map(|r| r[0].clone().unwrap()).collect();
    assert_eq!(texts, ["before", "between", "after"]);
}
