//! What the live benchmark prints: each round's table, and both families side by side.

use super::{Live, Pair, Replayed, spool_name};
use std::collections::BTreeMap;

/// One line per family and round: replay's and live's rates, their ratio and both peak RSS,
/// the comparison the v2 work is judged by.
pub fn print_families(pairs: &[Pair]) {
    if pairs.is_empty() {
        return;
    }
    println!("\n== both families, the same content ==");
    println!(
        "{:<18} {:>14} {:>14} {:>10} {:>10} {:>10} {:>15} {:>13}",
        "family, live run",
        "replay ev/s",
        "live ev/s",
        "live/rep",
        "live/wall",
        "live MB/s",
        "replay RSS MB",
        "live RSS MB"
    );
    for Pair {
        api,
        spool,
        replayed: r,
        live: l,
    } in pairs
    {
        println!(
            "{:<18} {:>14.0} {:>14.0} {:>10.2} {:>10.2} {:>10.1} {:>15.1} {:>13.1}",
            format!("{}, {}", api.name(), spool_name(*spool)),
            r.own_rate,
            l.rate,
            l.rate / r.own_rate,
            l.rate / r.wall_rate,
            l.mb_per_sec,
            r.rss_mb,
            l.peak_rss_mb
        );
    }
}

pub fn print_round(what: &str, r: &Replayed, l: &Live) {
    let after = l.took.as_secs_f64() * 0.1;
    let flat: Vec<f64> = l
        .rss
        .iter()
        .filter(|(t, _)| *t >= after)
        .map(|(_, mb)| *mb)
        .collect();
    let (lo, hi) = flat.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &v| {
        (lo.min(v), hi.max(v))
    });
    println!("\n-- {what} --");
    println!(
        "{:<28} {:>10} {:>8} {:>8} {:>7} {:>13}",
        "", "events/s", "MB/s", "wall s", "CPU s", "peak RSS MB"
    );
    println!(
        "{:<28} {:>10.0} {:>8.1} {:>8} {:>7} {:>13.1}",
        "replay (binary's figure)", r.own_rate, r.mb_per_sec, "", "", r.rss_mb
    );
    println!(
        "{:<28} {:>10.0} {:>8} {:>8.2} {:>7.2} {:>13}",
        "replay (process wall time)",
        r.wall_rate,
        "",
        r.wall.as_secs_f64(),
        r.cpu_secs,
        ""
    );
    println!(
        "{:<28} {:>10.0} {:>8.1} {:>8.2} {:>7.2} {:>13.1}",
        "live (spawn → all archived)",
        l.rate,
        l.mb_per_sec,
        l.took.as_secs_f64(),
        l.daemon_cpu_secs,
        l.peak_rss_mb
    );
    println!(
        "{:<28} {:>10} {:>8} {:>8} {:>7.2} {:>13}",
        "  simulator (this process)", "", "", "", l.simulator_cpu_secs, ""
    );
    let mark = |x: f64| if x >= 0.95 { "ok" } else { "BELOW GOAL" };
    let (own, wall) = (l.rate / r.own_rate, l.rate / r.wall_rate);
    println!(
        "ratio live/replay: {own:.2} vs the binary's figure ({}), {wall:.2} vs its wall time ({}); goal >= 0.95",
        mark(own),
        mark(wall)
    );
    println!(
        "live RSS after the first 10% ({} samples at 1 s): min {lo:.1} MB, max {hi:.1} MB; series: {}",
        flat.len(),
        l.rss
            .iter()
            .map(|(_, mb)| format!("{mb:.0}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "live: first event archived {:.2} s after spawn; SIGTERM to exit {:.2} s",
        l.first_event.as_secs_f64(),
        l.stop_took.as_secs_f64()
    );
    println!("CPU s by thread   replay: {}", threads(&r.threads));
    println!("CPU s by thread   daemon: {}", threads(&l.threads));
}

fn threads(by_name: &BTreeMap<String, f64>) -> String {
    let mut v: Vec<_> = by_name.iter().filter(|(_, s)| **s >= 0.01).collect();
    v.sort_by(|a, b| b.1.total_cmp(a.1));
    v.iter()
        .map(|(n, s)| format!("{n} {s:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}
