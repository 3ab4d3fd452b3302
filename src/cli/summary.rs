//! What `replay` prints when it is done: a summary for a person, or JSON for a program.

use crate::replay::ReplaySummary;

/// Logs what a replay archived, for a log that outlives the terminal.
pub(super) fn log_summary(s: &ReplaySummary) {
    let (w, p) = (&s.writer, &s.writer.posts);
    let reasons: Vec<String> = s
        .read
        .reasons()
        .into_iter()
        .map(|(reason, n)| format!("{n} {reason}"))
        .collect();
    tracing::info!(
        files = s.files,
        lines = s.lines,
        posts_new = p.new,
        posts_seen_again = p.seen_again,
        posts_refused_by_tombstone = p.refused,
        carried_posts_new = p.included_new,
        rejects = w.rejects,
        rejects_by_reason = %reasons.join("; "),
        database_refused = w.refused,
        error_entries = s.read.error_entries,
        "replay done"
    );
}

/// The replay summary for a person.
pub(super) fn print_summary(s: &ReplaySummary) {
    let w = &s.writer;
    println!(
        "replayed {} file(s): {} lines, {:.1} MB in {:.2} s",
        s.files,
        s.lines,
        s.bytes as f64 / 1e6,
        s.elapsed.as_secs_f64()
    );
    println!(
        "  rate:        {:.0} events/s, {:.1} MB/s",
        s.events_per_sec(),
        s.mb_per_sec()
    );
    println!(
        "  events:      {} stored ({} keep-alives not stored)",
        w.events, s.keepalives
    );
    println!(
        "  tweets:      {} rows written (embedded statuses included)",
        w.tweets_written
    );
    let p = &w.posts;
    println!(
        "  posts:       {} new, {} seen again, {} refused by a tombstone ({} carried Posts new)",
        p.new, p.seen_again, p.refused, p.included_new
    );
    println!("  users:       {} profile writes", w.users_written);
    println!("  rejects:     {}", w.rejects);
    for (reason, n) in s.read.reasons() {
        println!("    {n:>9}  {reason}");
    }
    if w.refused > 0 {
        println!("    {:>9}  refused by the database", w.refused);
    }
    if s.read.error_entries > 0 {
        println!(
            "  errors:      {} entries recorded (events of kind error)",
            s.read.error_entries
        );
    }
    println!("  compliance:  {} actions", w.compliance_actions);
    println!("  batches:     {}", w.batches);
    if let Some(kib) = s.peak_rss_kib {
        println!("  peak RSS:    {:.1} MB", kib as f64 / 1024.0);
    }
}

/// The replay summary for a program (`replay --json`).
pub(super) fn summary_json(s: &ReplaySummary) -> serde_json::Value {
    let w = &s.writer;
    let mut lat = w.notice_latencies_ms.clone();
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p).round() as usize)
            .copied()
    };
    serde_json::json!({
        "files": s.files, "lines": s.lines, "bytes": s.bytes, "keepalives": s.keepalives,
        "elapsed_secs": s.elapsed.as_secs_f64(), "events_per_sec": s.events_per_sec(),
        "mb_per_sec": s.mb_per_sec(), "events": w.events, "tweets_written": w.tweets_written,
        "users_written": w.users_written, "rejects": w.rejects, "batches": w.batches,
        "compliance_actions": w.compliance_actions, "notices_applied": lat.len(),
        "notice_latency_ms_p50": pct(0.5), "notice_latency_ms_p99": pct(0.99),
        "peak_rss_kib": s.peak_rss_kib,
        "posts_new": w.posts.new, "posts_seen_again": w.posts.seen_again,
        "posts_refused_by_tombstone": w.posts.refused, "carried_posts_new": w.posts.included_new,
        "rejects_by_reason": s.read.reasons().into_iter()
            .map(|(reason, count)| serde_json::json!({"reason": reason, "count": count}))
            .collect::<Vec<_>>(),
        "database_refused": w.refused, "error_entries": s.read.error_entries,
    })
}
