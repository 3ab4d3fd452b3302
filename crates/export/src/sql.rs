//! The SQL of exports and checks, for both dialects, every value a bound parameter.
//!
//! The visibility rules are those of the views `tweets_visible` and `users_visible` (migration
//! 0011), written out here as one `CASE` that names the first rule a status breaks instead of
//! filtering it silently: an export counts what it left out by reason, and `--check` says why
//! an id must go, in one pass. The country is a bound parameter, not the views' session setting
//! or `viewer_country` table, so that the archive is only read.

use crate::filter::{Filters, TimeBasis};
use chrono::{DateTime, Utc};

/// The SQL dialect of the archive being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A value bound to a placeholder, in order of appearance.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Int(i64),
    Text(String),
    Time(DateTime<Utc>),
    /// A list: a JSON array text in SQLite (read with `json_each`), an array in PostgreSQL.
    Texts(Vec<String>),
    Ints(Vec<i64>),
}

/// A statement and its parameters, `$1`, `$2`, ... numbered in order of appearance, each used
/// once (so that SQLite, which binds in order of appearance, and PostgreSQL agree).
#[derive(Debug, Clone, Default)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Param>,
}

impl Statement {
    /// Appends a placeholder for `param` and returns its text.
    fn bind(&mut self, param: Param) -> String {
        self.params.push(param);
        format!("${}", self.params.len())
    }
}

/// Why a status may not be shared, as the `left_out` column names it (NULL: it may).
pub const REASONS: [&str; 7] = [
    "dropped",
    "user_deleted",
    "user_protected",
    "user_suspended",
    "superseded_edit",
    "withheld",
    "user_withheld",
];

/// The time a SQLite archive stores: fixed-width ISO text that compares as text.
pub fn sqlite_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn time_param(dialect: Dialect, t: &DateTime<Utc>) -> Param {
    match dialect {
        Dialect::Sqlite => Param::Text(sqlite_time(t)),
        Dialect::Postgres => Param::Time(*t),
    }
}

/// The expression naming the first visibility rule the status `t` (author `u`, states `s`)
/// breaks, NULL when it breaks none. `codes` are the countries it must not be withheld in.
fn verdict(dialect: Dialect, st: &mut Statement, codes: &[String]) -> String {
    let (status_withheld, user_withheld) = match dialect {
        Dialect::Sqlite => {
            let a = st.bind(Param::Texts(codes.to_vec()));
            let b = st.bind(Param::Texts(codes.to_vec()));
            (
                format!(
                    "EXISTS (SELECT 1 FROM json_each(t.withheld_in_countries) w \
                     WHERE w.value IN (SELECT value FROM json_each({a})))"
                ),
                format!(
                    "EXISTS (SELECT 1 FROM json_each(u.withheld_in_countries) w \
                     WHERE w.value IN (SELECT value FROM json_each({b})))"
                ),
            )
        }
        Dialect::Postgres => {
            let a = st.bind(Param::Texts(codes.to_vec()));
            let b = st.bind(Param::Texts(codes.to_vec()));
            (
                format!("t.withheld_in_countries ?| {a}::text[]"),
                format!("COALESCE(u.withheld_in_countries ?| {b}::text[], false)"),
            )
        }
    };
    format!(
        "CASE \
         WHEN EXISTS (SELECT 1 FROM tweet_drops d WHERE d.tweet_id = t.tweet_id AND d.dropped) \
           THEN 'dropped' \
         WHEN s.deleted THEN 'user_deleted' \
         WHEN s.protected THEN 'user_protected' \
         WHEN s.suspended THEN 'user_suspended' \
         WHEN EXISTS (SELECT 1 FROM edit_chains c \
                      JOIN edit_chains n ON n.initial_tweet_id = c.initial_tweet_id \
                      WHERE c.tweet_id = t.tweet_id AND n.tweet_id > c.tweet_id) \
           THEN 'superseded_edit' \
         WHEN {status_withheld} THEN 'withheld' \
         WHEN {user_withheld} THEN 'user_withheld' \
         END"
    )
}

/// What an export reads of each status: everything, or everything but `raw` (ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Full,
    WithoutRaw,
}

/// The columns every read selects, in the order `read::decode` takes them.
fn columns(dialect: Dialect, shape: Shape) -> String {
    let json = |c: &str| match dialect {
        Dialect::Sqlite => c.to_owned(),
        Dialect::Postgres => format!("{c}::text"),
    };
    let raw = match shape {
        Shape::Full => json("t.raw"),
        Shape::WithoutRaw => "''".into(),
    };
    format!(
        "t.tweet_id, t.created_at, t.user_id, u.screen_name, t.text, t.lang, \
         t.in_reply_to_status_id, t.retweeted_status_id, t.quoted_status_id, {place}, \
         t.longitude, t.latitude, {withheld}, t.api, t.stream, t.first_seen_at, {raw}",
        place = json("t.place"),
        withheld = json("t.withheld_in_countries"),
    )
}

/// The export's one statement: every top-level status the filters select, in id order, with
/// its `left_out` verdict as the last column.
///
/// Top-level: received as a message of its own (an `events` row of kind `tweet`), not only
/// embedded in another (a retweet's original, a quoted status, a v2 `includes.tweets` Post),
/// so that the dataset is what was collected; JSONL restores the embedded ones inside their
/// carriers. The set is read once (`IN (SELECT ...)`), never probed per row.
pub fn export(dialect: Dialect, filters: &Filters, shape: Shape) -> Statement {
    let mut st = Statement::default();
    let verdict = verdict(dialect, &mut st, &filters.withheld_codes());
    let mut received = String::from("SELECT e.tweet_id FROM events e WHERE e.kind = 'tweet'");
    if let Some(stream) = &filters.stream {
        let p = st.bind(Param::Text(stream.clone()));
        received.push_str(&format!(" AND e.stream = {p}"));
    }
    let mut sql = format!(
        "SELECT {cols}, {verdict} AS left_out FROM tweets t \
         LEFT JOIN users u ON u.user_id = t.user_id \
         LEFT JOIN user_states s ON s.user_id = t.user_id \
         WHERE t.tweet_id IN ({received})",
        cols = columns(dialect, shape),
    );
    let time = match filters.by {
        TimeBasis::Created => "t.created_at",
        TimeBasis::Archived => "t.first_seen_at",
    };
    if let Some(since) = &filters.since {
        let p = st.bind(time_param(dialect, since));
        sql.push_str(&format!(" AND {time} >= {p}"));
    }
    if let Some(until) = &filters.until {
        let p = st.bind(time_param(dialect, until));
        sql.push_str(&format!(" AND {time} < {p}"));
    }
    if let Some(rule) = &filters.rule {
        let p = st.bind(Param::Text(rule.clone()));
        sql.push_str(&format!(
            " AND t.tweet_id IN (SELECT m.tweet_id FROM tweet_matches m WHERE m.tag = {p})"
        ));
    }
    if let Some(user) = filters.user {
        let p = st.bind(Param::Int(user));
        sql.push_str(&format!(" AND t.user_id = {p}"));
    }
    sql.push_str(" ORDER BY t.tweet_id");
    st.sql = sql;
    st
}

/// One status by id with its verdict: what JSONL restores inside a carrier when it may be shown.
pub fn status(dialect: Dialect, codes: &[String], id: i64) -> Statement {
    let mut st = Statement::default();
    let verdict = verdict(dialect, &mut st, codes);
    let p = st.bind(Param::Int(id));
    st.sql = format!(
        "SELECT {cols}, {verdict} AS left_out FROM tweets t \
         LEFT JOIN users u ON u.user_id = t.user_id \
         LEFT JOIN user_states s ON s.user_id = t.user_id WHERE t.tweet_id = {p}",
        cols = columns(dialect, Shape::Full),
    );
    st
}

/// One user's stored profile when the user may be shown (`users_visible`, the countries bound).
pub fn visible_user(dialect: Dialect, codes: &[String], id: i64) -> Statement {
    let mut st = Statement::default();
    let p = st.bind(Param::Int(id));
    let (raw, withheld) = match dialect {
        Dialect::Sqlite => {
            let c = st.bind(Param::Texts(codes.to_vec()));
            (
                "u.raw",
                format!(
                    "EXISTS (SELECT 1 FROM json_each(u.withheld_in_countries) w \
                     WHERE w.value IN (SELECT value FROM json_each({c})))"
                ),
            )
        }
        Dialect::Postgres => {
            let c = st.bind(Param::Texts(codes.to_vec()));
            (
                "u.raw::text",
                format!("u.withheld_in_countries ?| {c}::text[]"),
            )
        }
    };
    st.sql = format!(
        "SELECT {raw} FROM users u WHERE u.user_id = {p} AND NOT {withheld} \
         AND NOT EXISTS (SELECT 1 FROM user_states s WHERE s.user_id = u.user_id \
                         AND (s.deleted OR s.protected OR s.suspended))"
    );
    st
}

/// `--check`'s statement for one chunk of exported ids: each id (in the chunk's order) with
/// why it must now leave the dataset, NULL when it may stay. A status that is gone was
/// `deleted` (a `deletions` row), a `superseded_edit` (an erased older version of a chain),
/// or otherwise `erased`; one still stored names the first visibility rule it breaks, or
/// `geo_scrubbed` when `content` (the format carries location) and a scrub applied after
/// `exported_at` removed its location.
pub fn check(
    dialect: Dialect,
    codes: &[String],
    content: bool,
    exported_at: &DateTime<Utc>,
    ids: Vec<i64>,
) -> Statement {
    let mut st = Statement::default();
    let verdict = verdict(dialect, &mut st, codes);
    let scrubbed = if content {
        let p = st.bind(time_param(dialect, exported_at));
        format!(
            "CASE WHEN t.geo_scrubbed AND EXISTS (SELECT 1 FROM geo_scrubs g \
             WHERE g.user_id = t.user_id AND t.tweet_id <= g.up_to_status_id \
             AND g.applied_at > {p}) THEN 'geo_scrubbed' END"
        )
    } else {
        "NULL".into()
    };
    let chunk = st.bind(Param::Ints(ids));
    let from = match dialect {
        Dialect::Sqlite => format!("json_each({chunk}) c"),
        Dialect::Postgres => format!("unnest({chunk}::bigint[]) WITH ORDINALITY AS c(value, key)"),
    };
    st.sql = format!(
        "SELECT CAST(c.value AS TEXT), CASE WHEN t.tweet_id IS NULL THEN CASE \
           WHEN EXISTS (SELECT 1 FROM deletions x WHERE x.tweet_id = c.value) THEN 'deleted' \
           WHEN EXISTS (SELECT 1 FROM edit_chains ec \
                        JOIN edit_chains en ON en.initial_tweet_id = ec.initial_tweet_id \
                        WHERE ec.tweet_id = c.value AND en.tweet_id > ec.tweet_id) \
             THEN 'superseded_edit' \
           ELSE 'erased' END \
         ELSE COALESCE({verdict}, {scrubbed}) END \
         FROM {from} \
         LEFT JOIN tweets t ON t.tweet_id = c.value \
         LEFT JOIN users u ON u.user_id = t.user_id \
         LEFT JOIN user_states s ON s.user_id = t.user_id \
         ORDER BY c.key"
    );
    st
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Placeholders appear in the text in the order they were bound, each once.
    fn in_order(st: &Statement) {
        let mut found = Vec::new();
        for (i, _) in st.sql.match_indices('$') {
            let digits: String = st.sql[i + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            assert!(!digits.is_empty(), "a bare $ at {i}: {}", st.sql);
            found.push(digits.parse::<usize>().unwrap());
        }
        let expected: Vec<usize> = (1..=st.params.len()).collect();
        assert_eq!(found, expected, "{}", st.sql);
    }

    #[test]
    fn every_filter_is_a_parameter_in_order() {
        let filters = Filters {
            since: Some(Utc::now()),
            until: Some(Utc::now()),
            by: TimeBasis::Archived,
            stream: Some("s'; DROP TABLE tweets; --".into()),
            rule: Some("cats".into()),
            user: Some(7),
            countries: vec!["DE".into()],
        };
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let st = export(dialect, &filters, Shape::Full);
            assert_eq!(st.params.len(), 7);
            assert!(!st.sql.contains("DROP"));
            assert!(st.sql.contains("t.first_seen_at >= $4"), "{}", st.sql);
            in_order(&st);
            in_order(&status(dialect, &filters.withheld_codes(), 1));
            in_order(&visible_user(dialect, &filters.withheld_codes(), 1));
            in_order(&check(
                dialect,
                &filters.withheld_codes(),
                true,
                &Utc::now(),
                vec![1],
            ));
        }
    }
}
