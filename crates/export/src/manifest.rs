//! The manifest written beside every export (`NAME.manifest.json`): what was selected, when,
//! against which compliance state, what was written and left out, and the files' SHA-256.
//!
//! `--check` reads it back: the ids file it names is the exported set, its countries and
//! format say what counts as a change. File names are relative to the manifest's folder, so a
//! dataset folder can be moved or published whole.

use crate::filter::Filters;
use crate::formats::Format;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The manifest format's version, bumped when a member changes meaning.
pub const VERSION: u32 = 1;

/// What the manifest says about deleted statuses, which an export cannot count.
pub const NOT_COUNTED: &str = "deleted statuses (and retweets of them) are erased from the \
    archive with their created_at, stream and author, so how many of them the filters would \
    have selected is unknown; compliance.deletions_known counts every deletion the archive knows";

/// The manifest of one export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub streamvault_export: u32,
    pub format: Format,
    /// The export's file, relative to the manifest (`None`: written to standard output).
    pub file: Option<String>,
    pub sha256: Option<String>,
    pub bytes: u64,
    /// The exported ids, one per line: the export itself for `ids`, else a sidecar
    /// `NAME.ids`. `--check` reads it.
    pub ids_file: String,
    pub ids_sha256: String,
    pub exported_at: DateTime<Utc>,
    pub filters: Filters,
    pub compliance: ComplianceState,
    pub counts: Counts,
    pub not_counted: String,
}

/// The archive's compliance state the export reflects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComplianceState {
    /// The newest `compliance_actions.action_id` (NULL: none yet).
    pub last_action_id: Option<i64>,
    /// When the newest compliance action was applied.
    pub last_action_at: Option<DateTime<Utc>>,
    /// The newest finished batch compliance job (`compliance_jobs`), if any.
    pub last_sweep: Option<Sweep>,
    /// Rows of `deletions`: every status deletion the archive knows.
    pub deletions_known: i64,
}

/// A finished compliance job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    pub name: String,
    pub job_type: String,
    pub status: String,
    pub finished_at: Option<DateTime<Utc>>,
}

/// What was written and what was left out, by reason.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub written: u64,
    /// Statuses the filters selected that may not be shared, by the first rule each breaks
    /// (`dropped`, `user_deleted`, `user_protected`, `user_suspended`, `superseded_edit`,
    /// `withheld`, `user_withheld`).
    pub left_out: BTreeMap<String, u64>,
    /// JSONL: embedded copies (a retweet's original, a quoted or referenced Post, an author)
    /// left out of a written message because they are gone or may not be shown.
    pub embedded_copies_left_out: u64,
}

/// Why a manifest could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("reading the manifest {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not an export manifest: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path} is a manifest of version {version}; this streamvault reads version {VERSION}")]
    Version { path: PathBuf, version: u32 },
}

impl Manifest {
    /// Reads and checks the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|source| ManifestError::Parse {
                path: path.to_owned(),
                source,
            })?;
        if manifest.streamvault_export != VERSION {
            return Err(ManifestError::Version {
                path: path.to_owned(),
                version: manifest.streamvault_export,
            });
        }
        Ok(manifest)
    }

    /// The ids file, resolved against the folder of the manifest at `manifest_path`.
    pub fn ids_path(&self, manifest_path: &Path) -> PathBuf {
        let dir = manifest_path.parent().unwrap_or(Path::new(""));
        dir.join(&self.ids_file)
    }

    /// The manifest as pretty JSON with a final line feed.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|e| {
            // Serializing plain data cannot fail; should it, the manifest says so.
            format!("{{\"error\": \"{e}\"}}")
        });
        text.push('\n');
        text
    }
}

/// The manifest's path for an export written to `output`: `output` + `.manifest.json`.
pub fn path_beside(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".manifest.json");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let m = Manifest {
            streamvault_export: VERSION,
            format: Format::Csv,
            file: Some("posts.csv".into()),
            sha256: Some("ab".into()),
            bytes: 3,
            ids_file: "posts.csv.ids".into(),
            ids_sha256: "cd".into(),
            exported_at: Utc::now(),
            filters: Filters::default(),
            compliance: ComplianceState::default(),
            counts: Counts::default(),
            not_counted: NOT_COUNTED.into(),
        };
        let path = dir.path().join("posts.csv.manifest.json");
        std::fs::write(&path, m.to_text()).unwrap();
        assert_eq!(Manifest::load(&path).unwrap(), m);
        assert_eq!(m.ids_path(&path), dir.path().join("posts.csv.ids"));
        assert_eq!(
            path_beside(Path::new("d/x.jsonl")),
            Path::new("d/x.jsonl.manifest.json")
        );
    }
}
