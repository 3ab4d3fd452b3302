//! One daemon per stream name on PostgreSQL: a session advisory lock, held on a dedicated
//! connection while the stream runs.
//!
//! Many daemons may share one PostgreSQL archive, each running its own streams; but two running
//! the same stream would both connect upstream (a real server drops one as a duplicate stream)
//! and write each other's connection rows. The lock is keyed by the archive's schema and the
//! stream name; the server releases it when the session ends, so a daemon killed with -9 frees
//! its streams as soon as its connections drop. The holding session names its process in
//! `application_name`, so a waiting daemon can say who holds the stream.

use crate::{PgStore, StoreError};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// A claimed stream; dropping it ends the holding session and so releases the claim.
#[derive(Debug, Default)]
pub struct StreamClaim {
    /// The session holding the advisory lock and the lock's two keys (none on SQLite, whose
    /// file lock covers every stream).
    session: Option<(PgConnection, i32, i32)>,
    /// The session was found gone, and the lock with it.
    lost: bool,
}

impl StreamClaim {
    /// A claim that holds nothing of its own (SQLite: the archive lock covers the stream).
    pub fn implied() -> Self {
        StreamClaim::default()
    }

    /// Whether the claim still holds: its session answers (a session lock lives exactly as
    /// long as its session). A server restart, a network cut or `pg_terminate_backend` end the
    /// session, and with it the lock, without a word to this process: only asking tells.
    /// Always true for an implied claim.
    pub async fn alive(&mut self) -> bool {
        let Some((session, _, _)) = &mut self.session else {
            return !self.lost;
        };
        let ping = sqlx::query("SELECT 1").execute(&mut *session);
        let alive = matches!(tokio::time::timeout(PING_TIMEOUT, ping).await, Ok(Ok(_)));
        if !alive {
            self.session = None; // gone: a new claim needs a new session
            self.lost = true;
        }
        alive
    }

    /// Whether the claim is held by a session of its own (PostgreSQL), the kind that can be
    /// lost.
    pub fn has_session(&self) -> bool {
        self.session.is_some() || self.lost
    }

    /// Releases the claim now, rather than when the server notices the dropped connection: a
    /// stream restarted by a reload claims it again at once.
    pub async fn release(mut self) {
        if let Some((mut session, a, b)) = self.session.take() {
            let _ = sqlx::query("SELECT pg_advisory_unlock($1, $2)")
                .bind(a)
                .bind(b)
                .execute(&mut session)
                .await;
            let _ = session.close().await;
        }
    }
}

/// How long a claim's session may take to answer before it counts as lost.
const PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Who holds a stream another process claimed: its `application_name`, when it can be read.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimHolder(pub Option<String>);

impl std::fmt::Display for ClaimHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(name) => f.write_str(name),
            None => f.write_str("another session"),
        }
    }
}

/// The two keys of a stream's advisory lock: the archive (its schema) and the stream name.
const KEYS: &str = "SELECT hashtext('streamvault:' || current_schema()), hashtext($1)";

impl PgStore {
    /// Tries to claim `stream`: `Ok(Err(holder))` when another session holds it.
    pub(crate) async fn try_claim(
        &self,
        stream: &str,
    ) -> Result<Result<StreamClaim, ClaimHolder>, StoreError> {
        let name = format!(
            "streamvault pid {} on {}",
            std::process::id(),
            crate::lock::hostname()
        );
        let options = (*self.pool().connect_options())
            .clone()
            .application_name(&name);
        let mut session = PgConnection::connect_with(&options)
            .await
            .map_err(StoreError::Open)?;
        let (a, b): (i32, i32) = sqlx::query_as(KEYS)
            .bind(stream)
            .fetch_one(&mut session)
            .await?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
            .bind(a)
            .bind(b)
            .fetch_one(&mut session)
            .await?;
        if got {
            return Ok(Ok(StreamClaim {
                session: Some((session, a, b)),
                lost: false,
            }));
        }
        // pg_locks shows the two int4 keys as oids (classid, objid) with objsubid 2.
        let holder: Option<String> = sqlx::query_scalar(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 \
             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND l.classid = ($1::bigint & 4294967295)::oid AND l.objid = ($2::bigint & 4294967295)::oid \
             LIMIT 1",
        )
        .bind(a)
        .bind(b)
        .fetch_optional(&mut session)
        .await
        .ok()
        .flatten()
        .filter(|n: &String| !n.is_empty());
        let _ = session.close().await;
        Ok(Err(ClaimHolder(holder)))
    }
}
