//! Runs one v2 stream request: first the Posts its stream published while nobody was connected
//! (into the backfill ring only), then a backfill when asked, then the script's steps, Posts
//! paced at the rate.

use super::endpoint::Kind;
use super::matcher;
use super::state::{Publish, Rule};
use super::steps;
use crate::generate::posts;
use crate::simulate::body::{BodyWriter, End};
use crate::simulate::pace::Pacer;
use crate::simulate::registry::{Registry, Tally};
use crate::simulate::scenario::{Amount, Step};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Most global positions read per chunk.
const CHUNK_POSITIONS: u64 = 256;
/// Most resent Posts per chunk of a backfill.
const BACKFILL_CHUNK: usize = 256;

/// What one v2 runner needs besides its steps and its body.
pub(crate) struct V2Run {
    /// The index of its stream in the v2 state.
    pub stream: usize,
    pub kind: Kind,
    pub prefix: String,
    pub seed: u64,
    /// Posts (filtered: candidate positions) per second; 0 = unpaced.
    pub rate: f64,
    pub keepalive: Duration,
    /// How long the ring keeps Posts: 5 backfill minutes.
    pub keep: Duration,
    /// Resend what was published since then before going live.
    pub backfill_since: Option<Instant>,
}

/// Runs the request, then records how it ended.
#[tracing::instrument(skip_all, fields(index = index, stream = run.stream))]
pub(crate) async fn run(
    run: V2Run,
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
    runner.publish_gap();
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
        .conclude(end, &registry, index, "v2 stream")
        .await;
}

struct Runner {
    run: V2Run,
    writer: BodyWriter,
    pacer: Pacer,
    registry: Arc<Registry>,
}

impl Runner {
    fn filtered(&self) -> bool {
        self.run.kind == Kind::Filtered
    }

    fn rules(&self) -> Arc<Vec<Rule>> {
        if self.filtered() {
            self.registry.v2(|s| s.rules_of(&self.run.prefix))
        } else {
            Arc::default()
        }
    }

    /// The rules Post `k` matches (`None`: a filtered stream does not send it), and the Post.
    fn candidate(&self, k: u64, rules: &[Rule]) -> Option<(posts::PostFacts, Box<[u64]>)> {
        let facts = posts::post_facts(self.run.seed, k);
        if !self.filtered() {
            return Some((facts, Box::default()));
        }
        let words = matcher::words(&facts.text);
        let ids: Box<[u64]> = rules
            .iter()
            .filter(|r| matcher::matches(&r.expr, &facts, &words))
            .map(|r| r.id)
            .collect();
        (!ids.is_empty()).then_some((facts, ids))
    }

    /// The line of a Post, with its `matching_rules` on the filtered stream.
    fn line(&self, facts: &posts::PostFacts, ids: &[u64], rules: &[Rule], out: &mut Vec<u8>) {
        let matching: Option<Vec<(u64, Option<String>)>> = self.filtered().then(|| {
            ids.iter()
                .map(|id| {
                    (
                        *id,
                        rules
                            .iter()
                            .find(|r| r.id == *id)
                            .and_then(|r| r.tag.clone()),
                    )
                })
                .collect()
        });
        out.extend_from_slice(&posts::post_line(facts, self.run.seed, matching.as_deref()));
        out.extend_from_slice(b"\r\n");
    }

    /// The Posts published between the last connection's end and this one's start: into the
    /// ring, undelivered.
    fn publish_gap(&mut self) {
        let (rate, keep, seed) = (self.run.rate, self.run.keep, self.run.seed);
        let gap = self
            .registry
            .v2(|s| s.gap(self.run.stream, rate, keep, seed));
        if gap.is_empty() {
            return;
        }
        let rules = self.rules();
        let published: Vec<(Publish, Instant)> = gap
            .into_iter()
            .filter_map(|(k, at)| self.candidate(k, &rules).map(|(_, ids)| ((k, ids), at)))
            .collect();
        self.registry
            .v2(|s| s.published(self.run.stream, published, keep));
    }

    /// Resends what the stream published since `backfill_since`, as fast as the client reads.
    async fn backfill(&mut self) -> Result<(), End> {
        let Some(since) = self.run.backfill_since else {
            return Ok(());
        };
        let entries = self.registry.v2(|s| s.backfill(self.run.stream, since));
        let rules = self.rules();
        for chunk in entries.chunks(BACKFILL_CHUNK) {
            let mut out = Vec::new();
            let mut tally = Tally::default();
            for (k, ids) in chunk {
                let facts = posts::post_facts(self.run.seed, *k);
                self.line(&facts, ids, &rules, &mut out);
                tally.post(self.run.stream, *k, true);
            }
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
            family: "v2",
        };
        steps::serve(step, cx).await
    }

    /// `amount` Posts of the stream at the rate (a filtered stream reads `rate` positions per
    /// second and sends those matching its rules).
    async fn send(&mut self, amount: Amount) -> Result<(), End> {
        let mut left = amount.events();
        self.pacer.restart();
        while left > 0 {
            let due = self.pace().await?;
            let mut n = due.min(CHUNK_POSITIONS);
            if !self.filtered() {
                n = n.min(left);
            }
            let (stream, seed) = (self.run.stream, self.run.seed);
            let positions = self.registry.v2(|s| s.positions(stream, n, seed));
            let rules = self.rules();
            let now = Instant::now();
            let (mut out, mut tally, mut published, mut read) =
                (Vec::new(), Tally::default(), Vec::new(), 0);
            for k in positions {
                if left == 0 {
                    self.registry.v2(|s| s.rewind(stream, k));
                    break;
                }
                read += 1;
                let Some((facts, ids)) = self.candidate(k, &rules) else {
                    continue;
                };
                self.line(&facts, &ids, &rules, &mut out);
                tally.post(stream, k, false);
                published.push(((k, ids), now));
                left -= 1;
            }
            let keep = self.run.keep;
            self.registry.v2(|s| s.published(stream, published, keep));
            self.pacer.consumed(read.max(1));
            if out.is_empty() {
                // Nothing matched: wait a moment (keep-alives included) rather than spin.
                let keepalive = Some(self.run.keepalive);
                let soon = Instant::now() + Duration::from_millis(1);
                self.writer.pause(Some(soon), keepalive).await?;
            } else {
                self.writer.offer(out, &tally).await?;
            }
        }
        Ok(())
    }

    /// Waits until a position is due, with keep-alives in a long silence.
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
