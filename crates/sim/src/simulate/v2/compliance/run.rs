//! Runs one compliance stream request: first the events its partition published while nobody
//! was connected (into the ring only), then a backfill when asked, then the script's steps,
//! events paced at the rate.

use super::settings::ComplianceSettings;
use super::state::Line;
use crate::simulate::body::{BodyWriter, End};
use crate::simulate::pace::Pacer;
use crate::simulate::registry::{Registry, Tally};
use crate::simulate::scenario::{Amount, Step};
use crate::simulate::v2::steps;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Most events drawn per chunk.
const CHUNK_EVENTS: u64 = 256;
/// How long a partition waits before drawing again when the pool gave it nothing.
const POOL_WAIT: Duration = Duration::from_millis(20);

/// What one compliance runner needs besides its steps and its body.
pub(crate) struct ComplianceRun {
    /// The index of its partition in the compliance state.
    pub log: usize,
    pub seed: u64,
    /// Events per second; 0 = unpaced.
    pub rate: f64,
    pub keepalive: Duration,
    /// How long the ring keeps events: 5 backfill minutes.
    pub keep: Duration,
    /// Resend what was published since then before going live.
    pub backfill_since: Option<Instant>,
    pub settings: ComplianceSettings,
}

/// Runs the request, then records how it ended.
#[tracing::instrument(skip_all, fields(index = index, log = run.log))]
pub(crate) async fn run(
    run: ComplianceRun,
    steps: Vec<Step>,
    writer: BodyWriter,
    registry: Arc<Registry>,
    index: usize,
) {
    let mut runner = Runner {
        pacer: Pacer::new(run.rate),
        run,
        writer,
        registry: registry.clone(),
    };
    let r = &runner.run;
    let (log, rate, seed, settings, keep) = (r.log, r.rate, r.seed, r.settings, r.keep);
    registry.compliance(|c| c.publish_gap(log, rate, seed, &settings, keep));
    let mut end = End::Eof;
    if let Err(ended) = runner.backfill().await {
        end = ended;
    } else {
        for step in &steps {
            if let Err(ended) = runner.step(step).await {
                end = ended;
                break;
            }
        }
    }
    runner
        .writer
        .conclude(end, &registry, index, "compliance stream")
        .await;
}

struct Runner {
    run: ComplianceRun,
    writer: BodyWriter,
    pacer: Pacer,
    registry: Arc<Registry>,
}

/// The lines and the tally of a chunk of events.
fn chunk(log: usize, lines: Vec<Line>, resent: bool) -> (Vec<u8>, Tally) {
    let mut out = Vec::new();
    let mut tally = Tally::default();
    for (seq, label, line) in lines {
        out.extend_from_slice(&line);
        out.extend_from_slice(b"\r\n");
        tally.compliance(log, seq, label, resent);
    }
    (out, tally)
}

impl Runner {
    /// Resends what the partition published since `backfill_since`, as fast as the client
    /// reads.
    async fn backfill(&mut self) -> Result<(), End> {
        let Some(since) = self.run.backfill_since else {
            return Ok(());
        };
        let log = self.run.log;
        let lines = self.registry.compliance(|c| c.backfill(log, since));
        let mut lines = lines.into_iter().peekable();
        while lines.peek().is_some() {
            let part: Vec<Line> = lines.by_ref().take(CHUNK_EVENTS as usize).collect();
            let (out, tally) = chunk(log, part, true);
            self.writer.write(out, &tally).await?;
        }
        Ok(())
    }

    async fn step(&mut self, step: &Step) -> Result<(), End> {
        if let Step::Send(amount) = step {
            return self.send(*amount).await;
        }
        let cx = steps::StepContext {
            writer: &mut self.writer,
            pacer: &mut self.pacer,
            keepalive: self.run.keepalive,
            family: "compliance",
        };
        steps::serve(step, cx).await
    }

    /// `amount` events (scaled by `send_percent`) of the partition at the rate; while the pool
    /// has nothing for it, keep-alives only.
    async fn send(&mut self, amount: Amount) -> Result<(), End> {
        let percent = u128::from(self.run.settings.send_percent);
        let mut left = match amount {
            Amount::Events(0) => 0,
            Amount::Events(n) => u64::try_from(u128::from(n) * percent / 100)
                .unwrap_or(u64::MAX)
                .max(1),
            Amount::Forever => u64::MAX,
        };
        self.pacer.restart();
        while left > 0 {
            let due = self.pace().await?;
            let n = due.min(CHUNK_EVENTS).min(left);
            let r = &self.run;
            let (log, seed, settings, keep) = (r.log, r.seed, r.settings, r.keep);
            let lines = self
                .registry
                .compliance(|c| c.publish(log, n, seed, &settings, keep));
            if lines.is_empty() {
                let keepalive = Some(self.run.keepalive);
                self.writer
                    .pause(Some(Instant::now() + POOL_WAIT), keepalive)
                    .await?;
                self.pacer.restart();
                continue;
            }
            left -= lines.len() as u64;
            self.pacer.consumed(lines.len() as u64);
            let (out, tally) = chunk(log, lines, false);
            self.writer.offer(out, &tally).await?;
        }
        Ok(())
    }

    /// Waits until an event is due, with keep-alives in a long silence.
    async fn pace(&mut self) -> Result<u64, End> {
        loop {
            let due = self.pacer.due(Instant::now());
            if due > 0 {
                return Ok(due);
            }
            let keepalive = Some(self.run.keepalive);
            self.writer
                .pause(Some(self.pacer.next_due), keepalive)
                .await?;
        }
    }
}
