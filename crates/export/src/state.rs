//! The archive's compliance state an export reflects: its newest compliance action, its newest
//! finished compliance sweep, and how many deletions it knows.

use crate::manifest::{ComplianceState, Sweep};
use crate::read::{Conn, ReadError, parse_time};
use crate::sql::{Dialect, Statement};

/// A time column as RFC 3339 text on either backend.
fn time_text(dialect: Dialect, column: &str) -> String {
    match dialect {
        Dialect::Sqlite => column.to_owned(),
        Dialect::Postgres => {
            format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
        }
    }
}

fn statement(sql: String) -> Statement {
    Statement {
        sql,
        params: Vec::new(),
    }
}

/// Reads the state on `conn` (inside the export's snapshot on PostgreSQL).
pub async fn read(conn: &mut Conn) -> Result<ComplianceState, ReadError> {
    let dialect = conn.dialect();
    let last = conn
        .texts(&statement(format!(
            "SELECT CAST(action_id AS TEXT), {} FROM compliance_actions \
             ORDER BY action_id DESC LIMIT 1",
            time_text(dialect, "applied_at")
        )))
        .await?
        .unwrap_or_default();
    let last_action_id = match last.first().cloned().flatten() {
        Some(id) => Some(id.parse::<i64>().map_err(|e| ReadError::Value {
            what: "compliance_actions.action_id",
            detail: e.to_string(),
        })?),
        None => None,
    };
    let last_action_at = match last.get(1).cloned().flatten() {
        Some(t) => Some(parse_time(&t)?),
        None => None,
    };
    let sweep = conn
        .texts(&statement(format!(
            "SELECT name, job_type, status, {} FROM compliance_jobs \
             WHERE finished_at IS NOT NULL ORDER BY finished_at DESC, name DESC LIMIT 1",
            time_text(dialect, "finished_at")
        )))
        .await?;
    let last_sweep = match sweep {
        Some(cols) => {
            let col = |i: usize| cols.get(i).cloned().flatten().unwrap_or_default();
            let finished = cols.get(3).cloned().flatten();
            Some(Sweep {
                name: col(0),
                job_type: col(1),
                status: col(2),
                finished_at: finished.map(|t| parse_time(&t)).transpose()?,
            })
        }
        None => None,
    };
    let deletions_known = conn
        .int(&statement("SELECT COUNT(*) FROM deletions".into()))
        .await?
        .unwrap_or(0);
    Ok(ComplianceState {
        last_action_id,
        last_action_at,
        last_sweep,
        deletions_known,
    })
}
