//! Replay progress: a bar on a terminal, periodic log lines otherwise.

use super::ReadCounters;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// A progress bar on a terminal, periodic log lines otherwise.
pub(super) struct Progress {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    pub(super) fn start(bar: bool, total: Option<u64>, counters: Arc<ReadCounters>) -> Progress {
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let bar = (bar && std::io::stderr().is_terminal()).then(|| {
            let pb = match total {
                Some(t) => indicatif::ProgressBar::new(t),
                None => indicatif::ProgressBar::no_length(),
            };
            pb.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} {msg}",
                )
                .expect("valid template"),
            );
            pb
        });
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let period = if bar.is_some() {
                Duration::from_millis(200)
            } else {
                Duration::from_secs(5)
            };
            let mut tick = tokio::time::interval(period);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tick.tick() => {}
                }
                let lines = counters.lines.load(Ordering::Relaxed);
                let bytes = counters.bytes.load(Ordering::Relaxed);
                let rate = lines as f64 / started.elapsed().as_secs_f64().max(1e-9);
                match &bar {
                    Some(pb) => {
                        pb.set_position(bytes);
                        pb.set_message(format!("{lines} lines, {rate:.0} events/s"));
                    }
                    None => tracing::info!(
                        lines,
                        bytes,
                        events_per_sec = rate as u64,
                        "replay progress"
                    ),
                }
            }
            if let Some(pb) = bar {
                pb.finish_and_clear();
            }
        });
        Progress {
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub(super) async fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}
