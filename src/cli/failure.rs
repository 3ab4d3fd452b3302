//! Failures of a command and the exit code the contract assigns to each.

use crate::config::ConfigError;
use crate::daemon::RunError;
use crate::replay::ReplayError;
use crate::store::StoreError;

/// A failure with the exit code the contract assigns to it.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Database(StoreError),
    /// The stream refused the credentials for good: systemd must not restart (exit 3).
    #[error("{0}")]
    CredentialsRefused(String),
    /// Another process writes the archive (2), or its lock file cannot be used (4).
    #[error(transparent)]
    Lock(#[from] crate::store::LockError),
    /// `query` refused or failed: 4 when the database could not be opened, else 2.
    #[error(transparent)]
    Query(#[from] crate::query::QueryError),
    /// `export` failed: 4 when the archive could not be read, 2 for a request it cannot do.
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    /// `export --check` could not run: 2 for a manifest or ids file it cannot use, 4 when the
    /// archive could not be read.
    #[error(transparent)]
    Check(#[from] crate::export::CheckError),
    /// `export --check` found exported ids that must be removed from the dataset (exit 5).
    #[error("{0}")]
    MustRemove(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl Failure {
    /// 2 usage/configuration, 4 database unusable, 5 a checked export must drop ids, 1 anything
    /// else (a panicking writer too, and a store's internal failure: a writer thread that
    /// panicked is a defect, not the database).
    pub fn exit_code(&self) -> u8 {
        use crate::export::{CheckError, ExportError};
        match self {
            Failure::Config(_) | Failure::Usage(_) => 2,
            Failure::Database(StoreError::BadUrl { .. }) => 2,
            Failure::Database(StoreError::Panicked(_) | StoreError::Internal { .. }) => 1,
            Failure::Database(_) => 4,
            Failure::CredentialsRefused(_) => 3,
            Failure::Lock(crate::store::LockError::Held { .. }) => 2,
            Failure::Lock(_) => 4,
            Failure::Query(e) if e.is_unusable_database() => 4,
            Failure::Query(_) => 2,
            Failure::Export(ExportError::Read(_)) | Failure::Check(CheckError::Read(_)) => 4,
            Failure::Export(ExportError::Usage(_)) => 2,
            Failure::Export(_) => 1,
            Failure::Check(CheckError::Write(_)) => 1,
            Failure::Check(_) => 2,
            Failure::MustRemove(_) => 5,
            Failure::Other(_) => 1,
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Database(e)
    }
}

impl From<RunError> for Failure {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Config(c) => Failure::Config(c),
            RunError::Setup(s) => Failure::Usage(s.to_string()),
            RunError::Store(s) => Failure::Database(s),
            RunError::CredentialsRefused(_) => Failure::CredentialsRefused(e.to_string()),
            RunError::Signals(_) => Failure::Other(e.into()),
        }
    }
}

impl From<crate::store::ReadOpenError> for Failure {
    /// A missing archive or a schema other than this binary's is the user's to fix (exit 2);
    /// an unreachable database keeps its own code.
    fn from(e: crate::store::ReadOpenError) -> Self {
        match e {
            crate::store::ReadOpenError::Store(s) => Failure::Database(s),
            other => Failure::Usage(other.to_string()),
        }
    }
}

impl From<ReplayError> for Failure {
    fn from(e: ReplayError) -> Self {
        match e {
            ReplayError::Store(s) => Failure::Database(s),
            ReplayError::Input { .. } => Failure::Usage(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Operation;

    #[test]
    fn a_panicked_writer_is_a_defect_not_an_unusable_database() {
        // Exit 1, never a re-raised panic (101) and not the database's 4.
        let e = StoreError::Panicked("boom at byte 3".into());
        assert_eq!(Failure::Database(e).exit_code(), 1);
    }

    #[test]
    fn a_checked_export_with_ids_to_remove_is_exit_5() {
        assert_eq!(Failure::MustRemove("2 of 9".into()).exit_code(), 5);
        let usage = crate::export::ExportError::Usage("--output".into());
        assert_eq!(Failure::Export(usage).exit_code(), 2);
    }

    #[test]
    fn store_failures_keep_their_exit_codes() {
        let timeout = || StoreError::from(sqlx::Error::PoolTimedOut);
        let write = Err::<(), _>(timeout())
            .writing("writing a batch")
            .unwrap_err();
        let read = Err::<(), _>(timeout())
            .reading("reading the report")
            .unwrap_err();
        assert_eq!(Failure::Database(write).exit_code(), 4);
        assert_eq!(Failure::Database(read).exit_code(), 4);
        let decode = StoreError::from(sqlx::Error::Decode("not a time".into()));
        assert_eq!(Failure::Database(decode).exit_code(), 4);
        let bad_url = StoreError::BadUrl {
            url: "mysql://x".into(),
            reason: "no".into(),
        };
        assert_eq!(Failure::Database(bad_url).exit_code(), 2);
        let internal = StoreError::internal("the writer thread failed: panicked");
        assert_eq!(Failure::Database(internal).exit_code(), 1);
    }
}
