//! One export, end to end: the archive read on one consistent view, every selected status
//! written or counted as left out, the files committed, the manifest written beside them.

use crate::assemble::Assembler;
use crate::filter::Filters;
use crate::formats::{Format, open_sink};
use crate::manifest::{self, ComplianceState, Counts, Manifest};
use crate::output::{Output, Written};
use crate::read::{ReadError, Snapshot};
use crate::sql::{self, Shape};
use crate::{SinkError, state};
use chrono::Utc;
use futures_util::StreamExt;
use std::io::Write;
use std::path::{Path, PathBuf};
use streamvault_store::Backend;

/// Where the export itself goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    File(PathBuf),
    Stdout,
}

/// One export as the command line asks for it.
#[derive(Debug, Clone)]
pub struct Request {
    pub format: Format,
    pub target: Target,
    /// The manifest's path; by default `FILE.manifest.json` beside a file, none for stdout.
    pub manifest: Option<PathBuf>,
    pub filters: Filters,
    /// Show a progress line on standard error (the caller checks that it is a terminal).
    pub progress: bool,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error("{0}")]
    Usage(String),
}

/// What an export did: its counts, and its manifest when one was written (and where).
#[derive(Debug, Clone)]
pub struct Exported {
    pub counts: Counts,
    pub manifest: Option<(PathBuf, Manifest)>,
}

impl Request {
    /// The manifest's path: given, or beside the file.
    fn manifest_path(&self) -> Option<PathBuf> {
        match (&self.manifest, &self.target) {
            (Some(m), _) => Some(m.clone()),
            (None, Target::File(f)) => Some(manifest::path_beside(f)),
            (None, Target::Stdout) => None,
        }
    }

    /// The ids file `--check` reads: the export itself when it is an ids file, else a sidecar.
    fn ids_sidecar(&self, manifest: &Path) -> Option<PathBuf> {
        match (&self.target, self.format) {
            (Target::File(_), Format::Ids) => None,
            (Target::File(f), _) => Some(with_suffix(f, ".ids")),
            (Target::Stdout, _) => {
                let text = manifest.to_string_lossy();
                let base = text.strip_suffix(".manifest.json").unwrap_or(&text);
                Some(PathBuf::from(format!("{base}.ids")))
            }
        }
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Exports what `request` selects from the archive, opened read-only by the caller.
pub async fn export(backend: &Backend, request: &Request) -> Result<Exported, ExportError> {
    if matches!(request.target, Target::Stdout) && !request.format.streams() {
        return Err(ExportError::Usage(format!(
            "--format {} needs a file: give --output PATH",
            request.format.name()
        )));
    }
    let mut snapshot = Snapshot::open(backend).await?;
    let result = export_on(&mut snapshot, request).await;
    snapshot.close().await;
    result
}

async fn export_on(snap: &mut Snapshot, request: &Request) -> Result<Exported, ExportError> {
    let exported_at = Utc::now();
    let compliance = state::read(&mut snap.side).await?;
    let manifest_path = request.manifest_path();
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ExportError::Io { path, source }
    };
    let (output, writer) = match &request.target {
        Target::File(path) => Output::file(path).map_err(io(path))?,
        Target::Stdout => Output::stdout(),
    };
    let sidecar = manifest_path
        .as_deref()
        .and_then(|m| request.ids_sidecar(m));
    let ids = match &sidecar {
        Some(path) => match Output::file(path) {
            Ok(pair) => Some(pair),
            Err(e) => {
                output.abandon();
                return Err(io(path)(e));
            }
        },
        None => None,
    };
    let (ids_output, ids_writer) = match ids {
        Some((o, w)) => (Some(o), Some(w)),
        None => (None, None),
    };
    let pumped = pump(snap, request, writer, ids_writer).await;
    let counts = match pumped {
        Ok(counts) => counts,
        Err(e) => {
            output.abandon();
            if let Some(o) = ids_output {
                o.abandon();
            }
            return Err(e);
        }
    };
    let target_path = match &request.target {
        Target::File(p) => p.clone(),
        Target::Stdout => PathBuf::from("-"),
    };
    let written = output.commit().map_err(io(&target_path))?;
    let ids_written = match (ids_output, &sidecar) {
        (Some(o), Some(path)) => Some(o.commit().map_err(io(path))?),
        _ => None,
    };
    let Some(manifest_path) = manifest_path else {
        return Ok(Exported {
            counts,
            manifest: None,
        });
    };
    let manifest = build_manifest(
        request,
        &manifest_path,
        (written, ids_written, sidecar),
        exported_at,
        compliance,
        counts.clone(),
    );
    std::fs::write(&manifest_path, manifest.to_text()).map_err(io(&manifest_path))?;
    Ok(Exported {
        counts,
        manifest: Some((manifest_path, manifest)),
    })
}

/// Streams the selected statuses into the sink (and their ids into the sidecar).
async fn pump(
    snap: &mut Snapshot,
    request: &Request,
    writer: Box<dyn Write + Send>,
    mut ids: Option<Box<dyn Write + Send>>,
) -> Result<Counts, ExportError> {
    let dialect = snap.main.dialect();
    let shape = match request.format {
        Format::Ids => Shape::WithoutRaw,
        _ => Shape::Full,
    };
    let statement = sql::export(dialect, &request.filters, shape);
    let codes = request.filters.withheld_codes();
    let mut sink = open_sink(request.format, writer)?;
    let mut assembler = Assembler {
        conn: &mut snap.side,
        codes: &codes,
        copies_left_out: 0,
    };
    let progress = crate::progress::bar(request.progress);
    let mut counts = Counts::default();
    let mut rows = snap.main.statuses(&statement);
    while let Some(item) = rows.next().await {
        let (mut row, verdict) = item?;
        if let Some(reason) = verdict {
            *counts.left_out.entry(reason).or_default() += 1;
            continue;
        }
        if request.format == Format::Jsonl {
            row.raw = assembler
                .message(&row.api, &row.raw, row.place.as_deref(), row.user_id)
                .await?;
        }
        sink.write_row(&row)?;
        if let Some(ids) = ids.as_mut() {
            writeln!(ids, "{}", row.tweet_id).map_err(SinkError::Io)?;
        }
        counts.written += 1;
        if let Some(bar) = &progress {
            bar.inc(1);
        }
    }
    drop(rows);
    sink.finish()?;
    if let Some(mut ids) = ids {
        ids.flush().map_err(SinkError::Io)?;
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    counts.embedded_copies_left_out = assembler.copies_left_out;
    Ok(counts)
}

/// `path` as the manifest at `manifest` names it: its file name when they share a folder,
/// else the absolute path.
fn relative(manifest: &Path, path: &Path) -> String {
    let folder = |p: &Path| {
        let parent = p.parent().filter(|d| !d.as_os_str().is_empty());
        std::fs::canonicalize(parent.unwrap_or(Path::new("."))).ok()
    };
    match (folder(manifest), folder(path), path.file_name()) {
        (Some(a), Some(b), Some(name)) if a == b => name.to_string_lossy().into_owned(),
        _ => std::fs::canonicalize(path)
            .unwrap_or_else(|_| path.to_owned())
            .to_string_lossy()
            .into_owned(),
    }
}

fn build_manifest(
    request: &Request,
    manifest_path: &Path,
    (written, ids_written, sidecar): (Written, Option<Written>, Option<PathBuf>),
    exported_at: chrono::DateTime<Utc>,
    compliance: ComplianceState,
    counts: Counts,
) -> Manifest {
    let file = match &request.target {
        Target::File(p) => Some(relative(manifest_path, p)),
        Target::Stdout => None,
    };
    let (ids_file, ids_sha256) = match (sidecar, ids_written) {
        (Some(path), Some(w)) => (relative(manifest_path, &path), w.sha256),
        _ => (file.clone().unwrap_or_default(), written.sha256.clone()),
    };
    Manifest {
        streamvault_export: manifest::VERSION,
        format: request.format,
        sha256: file.as_ref().map(|_| written.sha256.clone()),
        file,
        bytes: written.bytes,
        ids_file,
        ids_sha256,
        exported_at,
        filters: request.filters.clone(),
        compliance,
        counts,
        not_counted: manifest::NOT_COUNTED.into(),
    }
}
