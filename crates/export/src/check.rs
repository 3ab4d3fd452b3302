//! `export --check MANIFEST`: a past export re-checked against the archive's compliance state
//! now, naming exactly the exported ids that must leave the shared dataset, and why.
//!
//! The exported set is the manifest's ids file (the export itself for `ids`, the `NAME.ids`
//! sidecar for the other formats), read line by line and checked in chunks of [`CHUNK`] ids,
//! each chunk one statement: memory stays bounded whatever the dataset's size. An id that was
//! exported was shareable then, so any rule it breaks now is a change since the export.

use crate::manifest::{Manifest, ManifestError};
use crate::output::sha256_of;
use crate::read::{ReadError, Snapshot};
use crate::sql;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use streamvault_store::Backend;

/// Ids per statement: well under SQLite's and PostgreSQL's parameter and array limits.
pub const CHUNK: usize = 1000;

/// Why a check could not run.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("reading the exported ids {path}: {source}")]
    Ids {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} line {line}: {text:?} is not a status id")]
    NotAnId {
        path: PathBuf,
        line: u64,
        text: String,
    },
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("writing the ids to remove: {0}")]
    Write(std::io::Error),
}

/// What a check found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckSummary {
    /// Ids read from the exported set.
    pub checked: u64,
    /// Ids that must be removed, by reason.
    pub by_reason: BTreeMap<String, u64>,
    /// The ids file no longer has the digest the manifest recorded (edited since the export).
    pub ids_file_changed: bool,
}

impl CheckSummary {
    /// How many ids must be removed.
    pub fn must_remove(&self) -> u64 {
        self.by_reason.values().sum()
    }
}

/// Checks the export whose manifest is at `manifest_path`; calls `found(id, reason)` for each
/// id that must be removed, in the order of the ids file.
pub async fn check(
    backend: &Backend,
    manifest_path: &Path,
    mut found: impl FnMut(i64, &str) -> std::io::Result<()>,
) -> Result<CheckSummary, CheckError> {
    let manifest = Manifest::load(manifest_path)?;
    let ids_path = manifest.ids_path(manifest_path);
    let ids_error = |source| CheckError::Ids {
        path: ids_path.clone(),
        source,
    };
    let mut summary = CheckSummary {
        ids_file_changed: sha256_of(&ids_path).map_err(ids_error)? != manifest.ids_sha256,
        ..CheckSummary::default()
    };
    let file = std::fs::File::open(&ids_path).map_err(ids_error)?;
    let mut lines = std::io::BufReader::new(file).lines();
    let mut snapshot = Snapshot::open(backend).await?;
    let mut line_no = 0u64;
    let result = async {
        loop {
            let mut chunk = Vec::with_capacity(CHUNK);
            while chunk.len() < CHUNK {
                let Some(line) = lines.next() else { break };
                let line = line.map_err(ids_error)?;
                line_no += 1;
                let text = line.trim();
                if text.is_empty() {
                    continue;
                }
                let id = text.parse::<i64>().map_err(|_| CheckError::NotAnId {
                    path: ids_path.clone(),
                    line: line_no,
                    text: text.chars().take(40).collect(),
                })?;
                chunk.push(id);
            }
            if chunk.is_empty() {
                return Ok::<(), CheckError>(());
            }
            summary.checked += chunk.len() as u64;
            check_chunk(&mut snapshot, &manifest, chunk, &mut summary, &mut found).await?;
        }
    }
    .await;
    snapshot.close().await;
    result.map(|()| summary)
}

async fn check_chunk(
    snapshot: &mut Snapshot,
    manifest: &Manifest,
    chunk: Vec<i64>,
    summary: &mut CheckSummary,
    found: &mut impl FnMut(i64, &str) -> std::io::Result<()>,
) -> Result<(), CheckError> {
    let st = sql::check(
        snapshot.main.dialect(),
        &manifest.filters.withheld_codes(),
        manifest.format.carries_content(),
        &manifest.exported_at,
        chunk,
    );
    for row in snapshot.main.all_texts(&st).await? {
        let (Some(Some(id)), Some(Some(reason))) = (row.first(), row.get(1)) else {
            continue;
        };
        let id = id.parse::<i64>().map_err(|e| ReadError::Value {
            what: "checked id",
            detail: e.to_string(),
        })?;
        found(id, reason).map_err(CheckError::Write)?;
        *summary.by_reason.entry(reason.clone()).or_default() += 1;
    }
    Ok(())
}
