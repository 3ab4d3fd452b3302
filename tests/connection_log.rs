//! The connection log written by the batch writer (issue 17), on both backends: ids given
//! without the database ([`Store::reserve_connection_ids`]), and a connection's opening, its
//! getting the stream and its end written in a batch's transaction, before the batch's records,
//! so a record may belong to a connection its own batch opens; written again (a batch retried
//! after its answer was lost) they change nothing; rows opened the old way keep their ids, and
//! ids opened after continue above.

mod common;

use chrono::{TimeZone, Utc};
use common::TestDb;
use std::sync::Arc;
use streamvault::record::{
    ConnectionChange, ConnectionEnd, ConnectionRecord, EndReason, Origin, Record, reject,
};
use streamvault::store::{Batch, ReservedIds, Store};
use streamvault::with_store;

both_backends!(connection_log, |db| connection_log_in_batches(&db));

async fn connection_log_in_batches(db: &TestDb) {
    let old =
        with_store!(db.backend.clone(), s => s.begin_connection("main", Utc::now()).await).unwrap();
    let reserved = with_store!(db.backend.clone(), s => s.reserve_connection_ids(4).await).unwrap();
    let ids = match reserved {
        ReservedIds::From(first) => {
            assert_eq!(first, old + 1, "SQLite: the next after the highest");
            vec![first, first + 1]
        }
        ReservedIds::Taken(ids) => {
            assert_eq!(ids.len(), 4);
            assert!(ids.iter().all(|id| *id > old), "{ids:?} after {old}");
            ids
        }
    };
    let id = ids[0];
    let at = |s: i64| Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap();
    let change = |s, c| Record::Connection(ConnectionRecord::new("main".into(), id, at(s), c));
    let origin = Origin {
        stream: "main".into(),
        connection_id: Some(id),
        received_at: at(2),
    };
    let mut first = Batch::default();
    first.push(change(0, ConnectionChange::Opened));
    let up = ConnectionChange::Up {
        http_status: 200,
        backfill_minutes: Some(3),
    };
    first.push(change(1, up));
    first.push(reject(b"not json", &origin, &"bad"));
    assert_eq!(first.len(), 1, "a connection change is not a record read");
    let mut second = Batch::default();
    second.push(change(
        3,
        ConnectionChange::Ended(ConnectionEnd {
            ended_at: at(3),
            reason: EndReason::DisconnectMessage,
            http_status: Some(200),
            disconnect_code: Some(12),
            messages: 1,
            bytes: 8,
            backoff_ms: Some(250),
        }),
    ));
    let (first, second) = (Arc::new(first), Arc::new(second));
    for batch in [&first, &second, &second] {
        with_store!(db.backend.clone(), s => s.write_batch(batch, Utc::now()).await).unwrap();
    }
    // The opening again (a retried batch's) leaves the row as its end left it.
    let mut again = Batch::default();
    again.push(change(9, ConnectionChange::Opened));
    let again = Arc::new(again);
    with_store!(db.backend.clone(), s => s.write_batch(&again, Utc::now()).await).unwrap();

    let row = db
        .rows(&format!(
            "SELECT stream, CAST(connected_at IS NOT NULL AS TEXT), CAST(ended_at IS NOT NULL AS TEXT), \
             end_reason, CAST(http_status AS TEXT), CAST(disconnect_code AS TEXT), \
             CAST(messages AS TEXT), CAST(bytes AS TEXT), CAST(backoff_ms AS TEXT), \
             CAST(backfill_minutes AS TEXT) FROM connections WHERE connection_id = {id}"
        ))
        .await;
    assert_eq!(row.len(), 1, "one row for connection {id}");
    let row: Vec<String> = row[0].iter().map(|v| v.clone().unwrap()).collect();
    let truthy = |v: &str| v == "1" || v == "true";
    assert_eq!(row[0], "main");
    assert!(truthy(&row[1]) && truthy(&row[2]), "{row:?}");
    assert_eq!(
        &row[3..],
        ["disconnect_message", "200", "12", "1", "8", "250", "3"]
    );
    let started_ok = db
        .int(&format!(
            "SELECT COUNT(*) FROM connections WHERE connection_id = {id} AND started_at < ended_at"
        ))
        .await;
    assert_eq!(
        started_ok, 1,
        "started_at is the opening's, not the repeat's"
    );
    let rejects = db
        .int(&format!(
            "SELECT COUNT(*) FROM rejects WHERE connection_id = {id}"
        ))
        .await;
    assert_eq!(rejects, 1);
    // A row opened the old way afterwards gets an id above every one given out.
    let next =
        with_store!(db.backend.clone(), s => s.begin_connection("main", Utc::now()).await).unwrap();
    assert!(next > id, "{next} after {id}");
}
