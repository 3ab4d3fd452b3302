//! What compliance costs replay: the same stream with and without notices, the latency of the
//! notices, and a user with 100,000 archived statuses whose location is scrubbed 50 times.

use super::common::stream;
use super::replay;
use super::target::Target;
use std::path::Path;
use streamvault::generate::Mix;
use streamvault::store;

/// Replays a stream with 5% deletes and 0.5% scrub_geo against the same stream without
/// notices, on each backend; then [`heavy_scrubs`].
pub fn compliance_cost(runtime: &tokio::runtime::Runtime, dir: &Path, events: u64, pg: &str) {
    let quiet = quiet_mix();
    let noisy = Mix {
        delete_pct: 5.0,
        scrub_geo_pct: 0.5,
        ..Mix::default()
    };
    let quiet_file = stream(dir, "quiet", events, quiet);
    let noisy_file = stream(dir, "notices", events, noisy);
    println!("\n== compliance cost: 5% deletes + 0.5% scrub_geo vs no notices ==");
    let mut targets = vec![(Target::sqlite(dir, "quiet"), Target::sqlite(dir, "notices"))];
    if pg != "none" {
        targets.push((
            runtime.block_on(Target::postgres(pg, "quiet")),
            runtime.block_on(Target::postgres(pg, "notices")),
        ));
    }
    for (q, n) in &targets {
        let base = replay(&q.url, &quiet_file);
        let with = replay(&n.url, &noisy_file);
        heavy_users(runtime, n);
        println!(
            "{:<10} no notices {:>8.0} ev/s | with notices {:>8.0} ev/s | ratio {:.2} | notices applied {} | latency p50 {} ms, p99 {} ms",
            q.name,
            base.rate,
            with.rate,
            with.rate / base.rate,
            with.notices,
            with.p50.map_or("-".into(), |v| v.to_string()),
            with.p99.map_or("-".into(), |v| v.to_string()),
        );
    }
    for (q, n) in targets {
        runtime.block_on(q.discard(pg));
        runtime.block_on(n.discard(pg));
    }
    heavy_scrubs(runtime, dir, &noisy_file, pg);
}

/// The realistic stream without any notices.
pub fn quiet_mix() -> Mix {
    Mix {
        delete_pct: 0.0,
        scrub_geo_pct: 0.0,
        withheld_pct: 0.0,
        limit_pct: 0.0,
        ..Mix::default()
    }
}

/// A user with 100,000 archived statuses (2% located), then the notice stream with 50 more
/// `scrub_geo` notices for that user woven in: the rate against the same stream without them.
fn heavy_scrubs(runtime: &tokio::runtime::Runtime, dir: &Path, stream_file: &Path, pg: &str) {
    const HEAVY_USER: i64 = 4242;
    const HEAVY: i64 = 100_000;
    const FIRST_ID: i64 = 1_400_000_000_000_000_000;
    let prefill = dir.join("heavy-user.jsonl");
    if !prefill.exists() {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&prefill).unwrap());
        let filler = "lorem ipsum dolor sit amet ".repeat(100);
        for i in 0..HEAVY {
            let id = FIRST_ID + i;
            let geo = if i % 50 == 0 {
                r#""coordinates":{"type":"Point","coordinates":[13.4,52.5]},"geo":{"type":"Point","coordinates":[52.5,13.4]},"place":{"id":"p","full_name":"Berlin"}"#
            } else {
                r#""coordinates":null,"geo":null,"place":null"#
            };
            std::io::Write::write_all(&mut out, format!(
                r#"{{"id":{id},"id_str":"{id}","created_at":"Wed Oct 10 20:19:24 +0000 2018","text":"status {i}","user":{{"id":{HEAVY_USER},"id_str":"{HEAVY_USER}","screen_name":"prolific","description":"{filler}"}},{geo},"lang":"en"}}"#
            ).as_bytes()).unwrap();
            std::io::Write::write_all(&mut out, b"\n").unwrap();
        }
    }
    let woven = dir.join("notices-with-heavy-scrubs.jsonl");
    if !woven.exists() {
        let text = std::fs::read_to_string(stream_file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let every = (lines.len() / 50).max(1);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&woven).unwrap());
        for (n, line) in lines.iter().enumerate() {
            if n % every == every / 2 {
                let up_to = FIRST_ID + HEAVY * (n / every + 1) as i64 / 50;
                std::io::Write::write_all(&mut out, format!(
                    r#"{{"scrub_geo":{{"user_id":{HEAVY_USER},"user_id_str":"{HEAVY_USER}","up_to_status_id":{up_to},"up_to_status_id_str":"{up_to}"}}}}"#
                ).as_bytes()).unwrap();
                std::io::Write::write_all(&mut out, b"\n").unwrap();
            }
            std::io::Write::write_all(&mut out, line.as_bytes()).unwrap();
            std::io::Write::write_all(&mut out, b"\n").unwrap();
        }
    }
    println!(
        "\n== scrub_geo for a user with {HEAVY} archived statuses (50 scrubs woven into the notice stream) =="
    );
    let mut pairs = vec![(
        Target::sqlite(dir, "heavy-base"),
        Target::sqlite(dir, "heavy-scrubs"),
    )];
    if pg != "none" {
        pairs.push((
            runtime.block_on(Target::postgres(pg, "heavy_base")),
            runtime.block_on(Target::postgres(pg, "heavy_scrubs")),
        ));
    }
    for (base, scrubbed) in &pairs {
        replay(&base.url, &prefill);
        replay(&scrubbed.url, &prefill);
        let without = replay(&base.url, stream_file);
        let with = replay(&scrubbed.url, &woven);
        println!(
            "{:<10} without {:>8.0} ev/s | with heavy scrubs {:>8.0} ev/s | ratio {:.2} | notice latency p50 {} ms, p99 {} ms",
            base.name,
            without.rate,
            with.rate,
            with.rate / without.rate,
            with.p50.map_or("-".into(), |v| v.to_string()),
            with.p99.map_or("-".into(), |v| v.to_string()),
        );
    }
    for (a, b) in pairs {
        runtime.block_on(a.discard(pg));
        runtime.block_on(b.discard(pg));
    }
}

/// How many archived statuses the most prolific users have (scrubs of them are the costly ones).
fn heavy_users(runtime: &tokio::runtime::Runtime, target: &Target) {
    let top = runtime.block_on(async {
        let backend = store::open(&target.url).await.unwrap();
        let t = streamvault::query::run(
            &backend,
            "SELECT user_id, COUNT(*) AS tweets FROM tweets GROUP BY user_id ORDER BY tweets DESC LIMIT 3",
        )
        .await
        .unwrap();
        backend.close().await;
        t
    });
    let counts: Vec<String> = top
        .rows
        .iter()
        .map(|r| r[1].clone().unwrap_or_default())
        .collect();
    println!(
        "{:<10} most prolific users' archived statuses: {}",
        target.name,
        counts.join(", ")
    );
}
