//! The main loop: signals, the stop timer, streams ending, the writer failing, a regular tick;
//! then the drain that stops every stream within [`STOP_DEADLINE`].

use super::notify::{SystemdNotify, WriterWatch};
use super::{Daemon, RunError, STOP_DEADLINE};
use crate::metrics::Metrics;
use crate::pipeline::{Chunk, LiveCounters};
use crate::shutdown::Control;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use std::ops::ControlFlow;
use std::time::Duration;
use streamvault_store::Store;
use tokio::sync::{mpsc, watch};

/// What the main loop listens to.
pub(super) struct LoopInputs<'a> {
    pub signals: &'a mut mpsc::Receiver<i32>,
    pub writer_gone: &'a mpsc::Sender<Chunk>,
    /// Turns true the moment the writer stops (it logged why).
    pub writer_stopped: watch::Receiver<bool>,
    pub metrics: &'a Metrics,
    pub counters: &'a LiveCounters,
    pub notify: &'a SystemdNotify,
    pub stop_after: Option<Duration>,
}

impl<S: Store> Daemon<S> {
    /// The main loop: signals, the stop timer, streams ending, the writer failing, and a
    /// regular tick for the watchdog and the status line. Returns the result so far and
    /// whether a stop was requested.
    pub(super) async fn serve(
        &mut self,
        mut result: Result<(), RunError>,
        inputs: LoopInputs<'_>,
    ) -> (Result<(), RunError>, bool) {
        let LoopInputs {
            signals,
            writer_gone,
            mut writer_stopped,
            metrics,
            counters,
            notify,
            stop_after,
        } = inputs;
        let mut stopping = false;
        notify.ready(&self.status_line(counters));
        let mut tick = tokio::time::interval(notify.tick());
        let mut writer = WriterWatch::new(notify.stuck_after());
        let stop_timer = async {
            match stop_after {
                Some(after) => tokio::time::sleep(after).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(stop_timer);
        while result.is_ok() && !self.tasks.is_empty() {
            let cut_off = self.stop_at.map(|_| self.streams_deadline());
            tokio::select! {
                _ = tick.tick() => self.on_tick(writer_gone, metrics, counters, notify, &mut writer),
                _ = &mut stop_timer, if !stopping => {
                    tracing::info!("time is up: ending connections and committing what was read");
                    stopping = true;
                    self.begin_stop(notify);
                }
                signal = signals.recv() => {
                    if self.on_signal(signal, &mut stopping, counters, notify).await.is_break() {
                        break;
                    }
                }
                done = self.tasks.join_next() => {
                    if let Some(done) = done {
                        if let Err(e) = self.stream_ended(done) {
                            result = Err(e);
                        }
                    }
                }
                // Either way the writer is gone: its failure, found at once rather than when
                // the next record finds the channel closed, ends the daemon (`finish` returns
                // the error, hence the exit code).
                _ = writer_stopped.wait_for(|stopped| *stopped) => {
                    tracing::error!("the writer stopped; ending every stream");
                    break;
                }
                _ = writer_gone.closed() => {
                    tracing::error!("the writer stopped; ending every stream");
                    break;
                }
                // Streams that do not end in time (one waiting on the database to record its
                // connection's end) are cut off: the stop is bounded.
                _ = tokio::time::sleep_until(cut_off.unwrap_or_else(tokio::time::Instant::now)), if cut_off.is_some() => {
                    break;
                }
            }
        }
        (result, stopping)
    }

    /// The regular tick: the channel's depth for the metrics, and the watchdog's ping, sent
    /// only while the writer makes progress or is idle with nothing queued.
    fn on_tick(
        &self,
        writer_gone: &mpsc::Sender<Chunk>,
        metrics: &Metrics,
        counters: &LiveCounters,
        notify: &SystemdNotify,
        writer: &mut WriterWatch,
    ) {
        let queued = writer_gone.max_capacity() - writer_gone.capacity();
        metrics.channel_depth.set(queued as u64);
        let mut status = self.status_line(counters);
        let healthy = writer.healthy(counters.heartbeat(), queued);
        if !healthy {
            status.push_str(&format!(
                "; writer stuck for {} s",
                writer.stuck_for().as_secs()
            ));
        }
        notify.alive(&status, healthy);
    }

    /// One signal: TERM/INT (or the signal thread gone) stop, and a second one stops waiting
    /// (`Break`); HUP reloads; any other (USR1) logs the statistics.
    async fn on_signal(
        &mut self,
        signal: Option<i32>,
        stopping: &mut bool,
        counters: &LiveCounters,
        notify: &SystemdNotify,
    ) -> ControlFlow<()> {
        match signal {
            Some(SIGTERM | SIGINT) | None => {
                if *stopping {
                    tracing::warn!("second stop signal: not waiting for streams any longer");
                    return ControlFlow::Break(());
                }
                tracing::info!("stop requested: ending connections and committing what was read");
                *stopping = true;
                self.begin_stop(notify);
            }
            Some(SIGHUP) => self.reload().await,
            Some(_) => self.log_statistics(counters),
        }
        ControlFlow::Continue(())
    }

    /// Tells systemd the daemon is stopping and asks every stream to end its connection.
    fn begin_stop(&mut self, notify: &SystemdNotify) {
        self.stop_at = Some(tokio::time::Instant::now());
        notify.stopping();
        self.stop_all(Control::Shutdown);
    }

    /// When streams still running after a stop request are cut off: [`STOP_DEADLINE`], or a
    /// quarter of `daemon.shutdown_timeout_secs` if that is shorter.
    fn streams_deadline(&self) -> tokio::time::Instant {
        let bound = STOP_DEADLINE.min(self.settings.daemon.shutdown_timeout() / 4);
        self.stop_at.unwrap_or_else(tokio::time::Instant::now) + bound
    }

    /// Stops every stream and waits (at most [`STOP_DEADLINE`]) for their connections to end.
    pub(super) async fn drain(&mut self, mut result: Result<(), RunError>) -> Result<(), RunError> {
        self.stop_all(Control::Shutdown);
        self.stop_at.get_or_insert_with(tokio::time::Instant::now);
        let deadline = tokio::time::sleep_until(self.streams_deadline());
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                done = self.tasks.join_next() => match done {
                    None => break,
                    Some(done) => {
                        if let Err(e) = self.stream_ended(done) {
                            result = result.and(Err(e));
                        }
                    }
                },
                _ = &mut deadline => {
                    tracing::warn!(streams = self.tasks.len(), "streams did not stop in time; cutting them off");
                    self.tasks.abort_all();
                    while self.tasks.join_next().await.is_some() {}
                    break;
                }
            }
        }
        result
    }
}
