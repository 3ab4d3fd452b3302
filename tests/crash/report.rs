//! The figures of the kill -9 trials: a line per trial, and a Markdown table per backend and
//! phase.

use super::plan::{Backend, Phase};
use super::trial::Trial;
use std::time::Instant;

/// One line per trial.
pub fn print_trial(t: &Trial) {
    let p = &t.plan;
    if let Some(why) = &t.skipped {
        println!(
            "trial {:3}: {} {}: SKIPPED ({why})",
            p.n,
            p.backend.name(),
            p.phase.name()
        );
        return;
    }
    let outage = if p.outage_ms > 0 {
        format!(" after a {} ms outage", p.outage_ms)
    } else {
        String::new()
    };
    println!(
        "trial {:3}: {:8} {:12} kill +{:4} ms{outage} | seen {:6} archived {:6} spooled {:6} overlap {} | \
         sent {:6} (+{} warnings, {} stalls, {} dropped) loss {:5} window {:4} ms | integrity {} | restart: drained {:?} ms, purged {:?} ms \
         (restart, delete), marker at kill {:?}, tuples after {:?}, events {:6}, exit {:?}, integrity {}{}{}",
        p.n,
        p.backend.name(),
        p.phase.name(),
        p.delay_ms,
        t.seen_committed,
        t.archived_at_kill,
        t.spooled_at_kill,
        t.overlap,
        t.sent,
        t.warnings,
        t.stalls,
        t.dropped,
        t.loss,
        t.window_ms,
        t.integrity,
        t.drained_ms,
        t.purged_ms,
        t.marker_at_kill,
        t.marker_tuples_after,
        t.final_events,
        t.restart_exit,
        t.restart_integrity,
        t.reconnected.as_ref().map_or(String::new(), |r| format!(
            " | reconnected before the kill: {r}"
        )),
        if t.failures.is_empty() {
            String::new()
        } else {
            format!(" | FAILED: {}", t.failures.join("; "))
        }
    );
}

fn row(label: &str, ts: &[&Trial]) {
    if ts.is_empty() {
        return;
    }
    let count = |f: &dyn Fn(&Trial) -> bool| ts.iter().filter(|t| f(t)).count();
    let max = |f: &dyn Fn(&Trial) -> i64| ts.iter().map(|t| f(t)).max().unwrap_or(0);
    let mean_window = ts.iter().map(|t| t.window_ms).sum::<i64>() / ts.len() as i64;
    let purge: Vec<u64> = ts.iter().filter_map(|t| t.purged_ms.map(|p| p.0)).collect();
    println!(
        "| {label} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} | {} | {} | {} |",
        ts.len(),
        count(&|t| t.integrity != "ok" || t.restart_integrity != "ok"),
        count(&|t| t.archived_at_kill < t.seen_committed || t.final_events < t.kept),
        count(&|t| t
            .failures
            .iter()
            .any(|f| f.contains("not exactly a prefix"))),
        count(&|t| t.overlap > 0),
        count(&|t| t.spooled_at_kill > 0),
        max(&|t| t.spooled_at_kill),
        max(&|t| t.loss),
        max(&|t| t.drained_ms.unwrap_or(0) as i64),
        max(&|t| t.window_ms),
        mean_window,
        purge.iter().max().map_or("–".into(), |m| format!("{m} ms")),
        count(&|t| t.restart_exit != Some(0)),
        count(&|t| !t.failures.is_empty()),
    );
}

/// The summary table (Markdown): a row per backend and phase, and the total.
pub fn print_table(results: &[Trial], started: Instant) {
    let ran: Vec<&Trial> = results.iter().filter(|t| t.skipped.is_none()).collect();
    println!(
        "| backend, phase | trials | integrity failures | committed or spooled lost | duplicates (not a prefix) | \
         overlap at kill | spool non-empty at kill | most spooled at kill | max loss (events) | \
         max drain after restart (ms) | loss window max / mean (ms) | max purge after restart | \
         restart failures | failed trials |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for backend in [Backend::Sqlite, Backend::Postgres] {
        for phase in Phase::ALL {
            let ts: Vec<&Trial> = ran
                .iter()
                .copied()
                .filter(|t| t.plan.backend == backend && t.plan.phase == phase)
                .collect();
            row(&format!("{}, {}", backend.name(), phase.name()), &ts);
        }
    }
    row("all", &ran);
    println!(
        "reconnected before the kill (checked by counts): {}; the simulator's queue overflowed \
         (stall disconnect, lines dropped at the server) in {} trials, {} lines; FALLING_BEHIND \
         warnings in {} trials",
        ran.iter().filter(|t| t.reconnected.is_some()).count(),
        ran.iter().filter(|t| t.stalls > 0).count(),
        ran.iter().map(|t| t.dropped).sum::<u64>(),
        ran.iter().filter(|t| t.warnings > 0).count()
    );
    println!(
        "{} trials ({} skipped) in {:.1} s",
        results.len(),
        results.len() - ran.len(),
        started.elapsed().as_secs_f64()
    );
}
