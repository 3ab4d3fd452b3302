//! The streams of a running daemon: started, stopped, and taken back when their supervisor ends.

use super::{Daemon, RunError, Running};
use crate::config::{StreamFamily, StreamSettings};
use crate::shutdown::Control;
use crate::source::ndjson::NdjsonStream;
use crate::source::topics::TopicsStream;
use crate::source::v2::V2Stream;
use crate::supervisor::{self, StreamExit, Supervision};
use std::time::Duration;
use streamvault_store::{Store, StoreError};
use tokio::sync::watch;

impl<S: Store> Daemon<S> {
    /// Starts every configured stream; the first that cannot be set up ends the start.
    pub(super) fn start_all(&mut self) -> Result<(), RunError> {
        let streams = self.settings.streams.clone();
        for (index, stream) in streams.iter().enumerate() {
            self.start_stream(index, stream)?;
        }
        Ok(())
    }

    /// Starts the supervisor of one configured stream.
    pub(super) fn start_stream(
        &mut self,
        index: usize,
        settings: &StreamSettings,
    ) -> Result<(), RunError> {
        let (control, receiver) = watch::channel(Control::Run);
        let state = self.metrics.stream(&settings.name);
        let supervision = || Supervision {
            store: self.store.clone(),
            sender: self.sender.clone(),
            control: receiver.clone(),
            backoff_scale: self.settings.reconnect.backoff_scale,
            retry_for: Duration::from_secs(self.settings.database.retry_for_secs),
            state: state.clone(),
            ids: self.ids.clone(),
        };
        let mut supervisors = 1;
        let (max_line, max_reject) = (
            self.settings.ingest.max_line_bytes,
            self.settings.ingest.max_reject_bytes,
        );
        let name = settings.name.clone();
        let topics = match settings.family {
            StreamFamily::Ndjson => {
                let source = NdjsonStream::new(index, settings, max_line, max_reject)?;
                let supervision = supervision();
                self.tasks
                    .spawn(async move { (name, supervisor::supervise(source, supervision).await) });
                None
            }
            StreamFamily::Topics => {
                let (topics, wanted) = watch::channel(settings.topics.clone());
                let source = TopicsStream::new(index, settings, wanted, max_line, max_reject)?;
                let supervision = supervision();
                self.tasks
                    .spawn(async move { (name, supervisor::supervise(source, supervision).await) });
                Some(topics)
            }
            StreamFamily::V2 => {
                // One supervisor, and so one connection, per partition.
                let partitions: Vec<Option<u32>> = if settings.partitions.is_empty() {
                    vec![None]
                } else {
                    settings.partitions.iter().copied().map(Some).collect()
                };
                supervisors = partitions.len();
                for partition in partitions {
                    let source = V2Stream::new(index, settings, partition, max_line, max_reject)?;
                    let (name, supervision) = (name.clone(), supervision());
                    self.tasks.spawn(async move {
                        (name, supervisor::supervise(source, supervision).await)
                    });
                }
                None
            }
        };
        self.streams.insert(
            settings.name.clone(),
            Running {
                settings: settings.clone(),
                control,
                topics,
                state,
                supervisors,
            },
        );
        Ok(())
    }

    pub(super) fn stop_all(&mut self, control: Control) {
        for running in self.streams.values() {
            let _ = running.control.send(control);
        }
    }

    /// Takes the end of one supervisor: a refusal is remembered (exit 3 once none is left), a
    /// database failure ends the daemon.
    pub(super) fn stream_ended(
        &mut self,
        done: Result<(String, Result<StreamExit, StoreError>), tokio::task::JoinError>,
    ) -> Result<(), RunError> {
        let (name, exit) = match done {
            Ok(done) => done,
            Err(e) if e.is_cancelled() => return Ok(()),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        // A stream with partitions ends when its last partition's supervisor does.
        if let Some(running) = self.streams.get_mut(&name) {
            running.supervisors = running.supervisors.saturating_sub(1);
            if running.supervisors > 0 {
                if let StreamExit::CredentialsRefused { reason } = exit? {
                    tracing::error!(stream = %name, "{reason}; the stream's other partitions go on");
                }
                return Ok(());
            }
        }
        let running = self.streams.remove(&name);
        match exit? {
            StreamExit::CredentialsRefused { reason } => {
                tracing::error!(stream = %name, "{reason}; {} stream(s) left", self.streams.len());
                self.refused.push(format!("{name}: {reason}"));
            }
            StreamExit::Stopped(Control::Reload) => {
                // Restart it with its new settings, if it still exists.
                if let Some(index) = self.settings.streams.iter().position(|s| s.name == name) {
                    let settings = self.settings.streams[index].clone();
                    self.start_stream(index, &settings)?;
                    tracing::info!(stream = %name, "stream restarted with its new settings");
                } else {
                    tracing::info!(stream = %name, "stream removed from the configuration");
                }
            }
            StreamExit::Ended => {
                tracing::info!(stream = %name, "stream ended; {} stream(s) left", self.streams.len());
            }
            StreamExit::Stopped(_) => {
                drop(running);
            }
        }
        Ok(())
    }
}
