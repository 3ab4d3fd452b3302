//! A batch the database refuses, written in parts so that only the records it refuses are lost
//! to the archive, and those are kept in `rejects` with the database's message.

use super::{PipelineConfig, WriterStats, commit};
use crate::metrics::Metrics;
use std::sync::Arc;
use streamvault_store::{Batch, SpoolMark, Store, StoreError};

/// Writes a batch the database refused (a data error, which no retry heals) in parts, halving
/// each part it refuses again until the records it refuses are alone: those go to `rejects`
/// with the database's message, every other record commits. Parts are written in arrival
/// order, and each reads the compliance state the parts before it left, so notices apply as
/// they would have in the whole batch. Costs about two transactions per refused record and
/// halving (about 20 for one record in a batch of 1000).
///
/// The batch's spool marks are committed with its last part only: a crash between the parts
/// commits the earlier ones again at the next start (the limit of exactly-once, see
/// docs/operations.md), but a batch whose mark is committed is whole in the archive.
pub(super) async fn split<S: Store>(
    store: &S,
    config: &PipelineConfig,
    batch: &Batch,
    marks: &[SpoolMark],
    error: StoreError,
    stats: &mut WriterStats,
    metrics: &Metrics,
) -> Result<i64, StoreError> {
    let Some(positions) = batch.positions() else {
        return Err(error);
    };
    if !batch.connections.is_empty() {
        // The connection log first, on its own: the parts' events may belong to it.
        // A batch of connection changes alone is whole with them: its marks go with them.
        let connections = Arc::new(batch.connections_only());
        let with = if positions.is_empty() { marks } else { &[] };
        commit(store, config, &connections, with, stats, metrics).await?;
        if positions.is_empty() {
            return Ok(0);
        }
    }
    tracing::warn!(
        records = batch.len(),
        error = %error.database_message(),
        "the database refused a batch; writing it in parts to find the records it refuses"
    );
    if positions.len() == 1 {
        return refuse(store, config, batch, marks, &error, stats, metrics).await;
    }
    // Parts still to write, the next one last. The whole batch was refused already.
    let (first, second) = positions.split_at(positions.len() / 2);
    let mut pending = vec![second, first];
    let mut erased = 0;
    while let Some(part) = pending.pop() {
        let (Some(first), Some(last)) = (part.first(), part.last()) else {
            continue;
        };
        let sub = Arc::new(batch.subset(*first..*last + 1));
        let marks = if pending.is_empty() { marks } else { &[] };
        match commit(store, config, &sub, marks, stats, metrics).await {
            Ok(rows) => erased += rows,
            Err(e) if e.is_data_error() && part.len() > 1 => {
                let (first, second) = part.split_at(part.len() / 2);
                pending.push(second);
                pending.push(first);
            }
            Err(e) if e.is_data_error() => {
                erased += refuse(store, config, &sub, marks, &e, stats, metrics).await?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(erased)
}

/// Keeps the one record of `part`, which the database refused with `error`, in `rejects`. If
/// even that is refused, the reject is kept without its line (its size and both messages in
/// the reason), so that nothing goes missing without a trace.
async fn refuse<S: Store>(
    store: &S,
    config: &PipelineConfig,
    part: &Batch,
    marks: &[SpoolMark],
    error: &StoreError,
    stats: &mut WriterStats,
    metrics: &Metrics,
) -> Result<i64, StoreError> {
    let message = error.database_message();
    let reason = format!("database refused: {message}");
    let rejects = part.as_rejects(&reason);
    for r in &rejects.rejects {
        tracing::warn!(
            stream = %r.origin.stream,
            received_at = %r.origin.received_at,
            bytes = r.raw.len(),
            error = %message,
            "the database refused a record; it is kept in rejects"
        );
    }
    stats.refused += rejects.rejects.len() as u64;
    let mut rejects = Arc::new(rejects);
    match commit(store, config, &rejects, marks, stats, metrics).await {
        Err(e) if e.is_data_error() => {
            let again = e.database_message();
            tracing::error!(error = %again, "the database refused a reject too; kept without its line");
            if let Some(rejects) = Arc::get_mut(&mut rejects) {
                for r in &mut rejects.rejects {
                    r.reason = format!(
                        "{reason}; the line ({} bytes) could not be kept either: {again}",
                        r.raw.len()
                    );
                    r.raw.clear();
                }
            }
            commit(store, config, &rejects, marks, stats, metrics).await
        }
        done => done,
    }
}
