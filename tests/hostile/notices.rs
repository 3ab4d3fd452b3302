//! The checks of `tests/hostile.rs` on the hostile notices and statuses: what the fixes
//! archive is stored as documented, and every notice among the hostile lines was applied.

use super::Failures;
use super::checks::{FIRST_GENERATED_ID, FIRST_GENERATED_USER, contains, reject_count};
use crate::common::TestDb;
use streamvault::simulate::Stats;
use streamvault::simulate::hostile;

/// Hostile statuses (and DMs): ids in `[ID_BASE, FIRST_GENERATED_ID)`.
fn hostile_range(column: &str) -> String {
    format!(
        "{column} >= {} AND {column} < {FIRST_GENERATED_ID}",
        hostile::ID_BASE
    )
}

/// The notices among the hostile lines were applied, and the statuses the fixes
/// archive are stored as documented.
pub async fn compliance(db: &TestDb, stats: &Stats, failures: &mut Failures) {
    let sent = &stats.totals.hostile_by_label;
    let n = |label: &str| sent.get(label).copied().unwrap_or(0) as i64;
    stored_statuses(db, &n, failures).await;
    geo(db, &n, failures).await;
    // The generator's deletes may name ids below its first one, but never a hostile user.
    let hostile_ids = hostile_range("tweet_id");
    let deleted = db
        .int(&format!(
            "SELECT COUNT(*) FROM deletions WHERE {hostile_ids} AND \
             user_id < {FIRST_GENERATED_USER}"
        ))
        .await;
    failures.check(
        deleted == n("hostile/delete_float_id"),
        format!(
            "{deleted} deletions for {} deletes with a float id and a good id_str",
            n("hostile/delete_float_id")
        ),
    );
    let survivors = db
        .int(&format!(
            "SELECT COUNT(*) FROM tweets WHERE {hostile_ids} AND tweet_id IN \
             (SELECT tweet_id FROM deletions)"
        ))
        .await;
    failures.check(
        survivors == 0,
        format!("{survivors} deleted statuses remain"),
    );
    withheld(db, &n, failures).await;
    direct_messages(db, &n, failures).await;
}

/// The hostile statuses archived as documented: a multi-byte `created_at` leaves a NULL time; a
/// lone surrogate is kept (as U+FFFD on PostgreSQL); `1e999999` is kept on SQLite only; nothing
/// nested too deep is stored.
async fn stored_statuses(db: &TestDb, n: &dyn Fn(&str) -> i64, failures: &mut Failures) {
    let pg = db.is_postgres();
    let hostile_ids = hostile_range("tweet_id");
    let tweets =
        |cond: String| format!("SELECT COUNT(*) FROM tweets WHERE {hostile_ids} AND {cond}");
    let timeless = db.int(&tweets("created_at IS NULL".into())).await;
    let multibyte = n("hostile/created_at_multibyte");
    failures.check(
        timeless == multibyte,
        format!(
            "{timeless} hostile statuses without a time, {multibyte} with a multi-byte created_at"
        ),
    );
    let surrogates = db.int(&tweets(contains(db, "raw", "\\ud800"))).await;
    let kept = if pg {
        "\u{FFFD} alone"
    } else {
        "\\ud800 alone"
    };
    let replaced = db.int(&tweets(contains(db, "raw", kept))).await;
    let lone = n("hostile/lone_surrogate");
    failures.check(
        (surrogates, replaced) == (if pg { 0 } else { lone }, lone),
        format!("{lone} lone surrogates sent: {surrogates} raws keep `\\ud800`, {replaced} hold {kept:?}"),
    );
    let huge = db.int(&tweets(contains(db, "raw", "x_metric"))).await;
    let huge_rejects = reject_count(db, b"1e999999", false).await as i64;
    let sent = n("hostile/huge_number");
    let want = if pg { (0, sent) } else { (sent, 0) };
    failures.check(
        (huge, huge_rejects) == want,
        format!("{sent} lines with 1e999999: {huge} archived, {huge_rejects} rejected, expected {want:?}"),
    );
    let deep = db.int(&tweets(contains(db, "raw", "x_nested"))).await;
    failures.check(
        deep == 0,
        format!("{deep} statuses nested too deep archived"),
    );
}

/// No coordinate left in any hostile status a `scrub_geo` covers; one `geo_scrubs` row a notice.
async fn geo(db: &TestDb, n: &dyn Fn(&str) -> i64, failures: &mut Failures) {
    let hostile_ids = hostile_range("tweet_id");
    let (lon, lat) = (hostile::GEO_LON, hostile::GEO_LAT);
    let covered = "EXISTS (SELECT 1 FROM geo_scrubs g WHERE g.user_id = tweets.user_id \
                   AND tweets.tweet_id <= g.up_to_status_id)";
    let sql = format!(
        "SELECT COUNT(*) FROM tweets WHERE {hostile_ids} AND {covered} AND \
         (CAST(raw AS TEXT) LIKE '%{lon}%' OR CAST(raw AS TEXT) LIKE '%{lat}%' \
         OR longitude IS NOT NULL OR latitude IS NOT NULL)"
    );
    let left = db.int(&sql).await;
    failures.check(
        left == 0,
        format!("{left} hostile statuses covered by a scrub_geo keep coordinates (columns or raw)"),
    );
    let scrubs = db
        .int(&format!(
            "SELECT COUNT(*) FROM geo_scrubs WHERE user_id < {FIRST_GENERATED_USER}"
        ))
        .await;
    failures.check(
        scrubs == n("hostile/scrub_geo"),
        format!(
            "{scrubs} geo_scrubs rows for {} notices",
            n("hostile/scrub_geo")
        ),
    );
}

/// No bad country code recorded; one withholding per `XX` and `XY` notice.
async fn withheld(db: &TestDb, n: &dyn Fn(&str) -> i64, failures: &mut Failures) {
    let text = "CAST(withheld_in_countries AS TEXT)";
    let bad = db
        .int(&format!(
            "SELECT COUNT(*) FROM withholdings WHERE {text} LIKE '%\"D\"%' OR {text} LIKE \
             '%\"123\"%' OR {text} LIKE '%de-DE%'"
        ))
        .await;
    failures.check(
        bad == 0,
        format!("{bad} withholdings with a bad country code"),
    );
    let hostile_user = format!("target_id < {FIRST_GENERATED_USER}");
    for (code, label, target, ids) in [
        (
            "XX",
            "hostile/status_withheld_xx",
            "status",
            hostile_range("target_id"),
        ),
        ("XY", "hostile/user_withheld_xy", "user", hostile_user),
    ] {
        let got = db
            .int(&format!(
                "SELECT COUNT(*) FROM withholdings WHERE target = '{target}' AND {ids} AND \
                 {text} LIKE '%\"{code}\"%'"
            ))
            .await;
        failures.check(
            got == n(label),
            format!("{got} withholdings with {code} for {} notices", n(label)),
        );
    }
}

/// Each DM delete is a `delete` event naming its DM, has its `dm_deletions` row and audit row,
/// and erased its DM: the deleted DMs' text is nowhere, the others' only in `direct_messages`.
async fn direct_messages(db: &TestDb, n: &dyn Fn(&str) -> i64, failures: &mut Failures) {
    let (dms, deletes) = (n("hostile/direct_message"), n("hostile/dm_delete"));
    let notices = db
        .int(&format!(
            "SELECT COUNT(*) FROM events WHERE kind = 'delete' AND {}",
            hostile_range("dm_id")
        ))
        .await;
    failures.check(
        notices == deletes,
        format!("{notices} `delete` events with a hostile dm_id for {deletes} DM deletes"),
    );
    let rows = db
        .int(&format!(
            "SELECT COUNT(*) FROM dm_deletions WHERE {}",
            hostile_range("dm_id")
        ))
        .await;
    failures.check(
        rows == deletes,
        format!("{rows} dm_deletions rows for {deletes} DM deletes"),
    );
    let audit = db
        .rows(&format!(
            "SELECT CAST(COUNT(DISTINCT target_id) AS TEXT), CAST(SUM(rows_affected) AS TEXT) \
             FROM compliance_actions WHERE kind = 'dm_delete' AND {}",
            hostile_range("target_id")
        ))
        .await;
    let audit: Vec<i64> = audit[0]
        .iter()
        .map(|v| v.as_deref().map_or(0, |t| t.parse().unwrap()))
        .collect();
    failures.check(
        audit == [deletes, deletes],
        format!("dm_delete audit rows: {audit:?} (DMs, rows erased) for {deletes} DM deletes"),
    );
    let erased_kept = db
        .int("SELECT COUNT(*) FROM direct_messages WHERE dm_id IN (SELECT dm_id FROM dm_deletions)")
        .await;
    failures.check(
        erased_kept == 0,
        format!("{erased_kept} deleted DMs still stored"),
    );
    // Every DM gets its delete right after it (only a stop may come between them).
    let text = "hostile dm ";
    let stored = db
        .int(&format!(
            "SELECT COUNT(*) FROM direct_messages WHERE {}",
            contains(db, "raw", text)
        ))
        .await;
    let in_events = db
        .int(&format!(
            "SELECT COUNT(*) FROM events WHERE {}",
            contains(db, "raw", text)
        ))
        .await;
    let in_rejects = reject_count(db, text.as_bytes(), false).await;
    failures.check(
        (stored, in_events, in_rejects) == (dms - deletes, 0, 0),
        format!(
            "DM text: {stored} direct_messages rows, {in_events} events, {in_rejects} rejects; \
             expected {} (the DMs not deleted), 0, 0",
            dms - deletes
        ),
    );
}
