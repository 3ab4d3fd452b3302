//! The Parquet sink on 1,000,000 synthetic statuses (v1.1-shaped `raw` of ~3 KB): rows/s, file
//! size, and the peak RSS of the whole process (VmHWM), which the row group bound keeps flat.
//!
//! `cargo bench -p streamvault-export --bench parquet` (env `ROWS`, `OUT` = the output file,
//! default in the temp dir, removed afterwards unless `KEEP=1`).

use std::io::BufWriter;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use streamvault_export::parquet::ParquetSink;
use streamvault_export::{ExportRow, Sink};

const WORDS: &[&str] = &[
    "the",
    "a",
    "to",
    "of",
    "and",
    "in",
    "is",
    "for",
    "on",
    "you",
    "this",
    "it",
    "with",
    "that",
    "be",
    "are",
    "at",
    "my",
    "have",
    "we",
    "so",
    "not",
    "just",
    "but",
    "now",
    "new",
    "all",
    "from",
    "love",
    "today",
    "people",
    "time",
    "day",
    "good",
    "great",
    "world",
    "news",
    "vote",
    "game",
    "music",
    "video",
    "live",
    "watch",
    "thanks",
    "happy",
    "via",
    "#breaking",
    "#football",
    "@someone",
    "🔥",
    "😂",
    "❤️",
    "https://t.co/AbCdEf1234",
    "election",
    "weather",
    "city",
];

/// A small deterministic generator, so runs compare.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn words(&mut self, n: usize) -> String {
        let mut s = String::new();
        for i in 0..n {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(WORDS[self.below(WORDS.len() as u64) as usize]);
        }
        s
    }
}

/// One v1.1-shaped status: a ~3 KB `raw` with a full user object and entities, as the live
/// stream carries it.
fn status(rng: &mut Rng, i: u64) -> ExportRow {
    let id = 1_600_000_000_000_000_000 + i as i64 * 7919;
    let user = rng.below(200_000) as i64 + 1000;
    let n = 12 + rng.below(20) as usize;
    let text = rng.words(n);
    let created = Utc
        .timestamp_opt(1_700_000_000 + (i / 50) as i64, 0)
        .single();
    let description = rng.words(25);
    let followers = rng.below(1_000_000);
    let raw = format!(
        r#"{{"created_at":"Tue Nov 14 22:13:20 +0000 2023","id":{id},"id_str":"{id}","text":"{text}","source":"<a href=\"http://twitter.com/download/android\" rel=\"nofollow\">Twitter for Android</a>","truncated":false,"in_reply_to_status_id":null,"in_reply_to_user_id":null,"user":{{"id":{user},"id_str":"{user}","name":"User {user}","screen_name":"user{user}","location":"{loc}","url":null,"description":"{description}","protected":false,"verified":false,"followers_count":{followers},"friends_count":{friends},"listed_count":{listed},"favourites_count":{favs},"statuses_count":{statuses},"created_at":"Wed Mar 04 10:00:00 +0000 2015","utc_offset":null,"time_zone":null,"geo_enabled":true,"lang":null,"contributors_enabled":false,"is_translator":false,"profile_background_color":"F5F8FA","profile_background_image_url":"","profile_background_image_url_https":"","profile_background_tile":false,"profile_link_color":"1DA1F2","profile_sidebar_border_color":"C0DEED","profile_sidebar_fill_color":"DDEEF6","profile_text_color":"333333","profile_use_background_image":true,"profile_image_url":"http://pbs.twimg.com/profile_images/{img}/abc_normal.jpg","profile_image_url_https":"https://pbs.twimg.com/profile_images/{img}/abc_normal.jpg","profile_banner_url":"https://pbs.twimg.com/profile_banners/{user}/{img}","default_profile":true,"default_profile_image":false,"following":null,"follow_request_sent":null,"notifications":null}},"geo":null,"coordinates":null,"place":null,"contributors":null,"is_quote_status":false,"quote_count":0,"reply_count":{replies},"retweet_count":{rts},"favorite_count":{likes},"entities":{{"hashtags":[{{"text":"{tag}","indices":[10,20]}}],"urls":[{{"url":"https://t.co/{img}","expanded_url":"https://example.com/{followers}/{tag}","display_url":"example.com/{followers}","indices":[30,53]}}],"user_mentions":[{{"screen_name":"user{mention}","name":"User {mention}","id":{mention},"id_str":"{mention}","indices":[0,8]}}],"symbols":[],"media":[{{"id":{media},"id_str":"{media}","indices":[54,77],"media_url":"http://pbs.twimg.com/media/{img}.jpg","media_url_https":"https://pbs.twimg.com/media/{img}.jpg","url":"https://t.co/{img}","display_url":"pic.twitter.com/{img}","expanded_url":"https://twitter.com/user{user}/status/{id}/photo/1","type":"photo","sizes":{{"thumb":{{"w":150,"h":150,"resize":"crop"}},"medium":{{"w":1200,"h":{h},"resize":"fit"}},"small":{{"w":680,"h":{hs},"resize":"fit"}},"large":{{"w":2048,"h":{hl},"resize":"fit"}}}}}}]}},"favorited":false,"retweeted":false,"filter_level":"low","lang":"en","timestamp_ms":"{ms}"}}"#,
        loc = rng.words(2),
        friends = rng.below(5000),
        listed = rng.below(100),
        favs = rng.below(100_000),
        statuses = rng.below(500_000),
        img = rng.next() % 10_000_000_000,
        replies = rng.below(10),
        rts = rng.below(100),
        likes = rng.below(1000),
        tag = rng.words(1),
        mention = rng.below(1_000_000),
        ms = 1_700_000_000_000 + i,
        media = rng.next() >> 2,
        h = 600 + rng.below(600),
        hs = 340 + rng.below(340),
        hl = 1024 + rng.below(1024),
    );
    ExportRow {
        tweet_id: id,
        created_at: created,
        user_id: Some(user),
        screen_name: Some(format!("user{user}")),
        text: Some(text),
        lang: Some("en".into()),
        in_reply_to_status_id: (i % 5 == 0).then_some(id - 100),
        retweeted_status_id: None,
        quoted_status_id: None,
        place: None,
        longitude: None,
        latitude: None,
        withheld_in_countries: if i % 100 == 0 {
            vec!["DE".into()]
        } else {
            Vec::new()
        },
        retweet_count: Some(rng.below(100) as i64),
        like_count: Some(rng.below(1000) as i64),
        reply_count: Some(rng.below(10) as i64),
        quote_count: Some(0),
        api: "v1.1".into(),
        stream: "sample".into(),
        first_seen_at: Utc
            .timestamp_opt(1_700_000_000 + (i / 50) as i64, 5_000_000)
            .unwrap(),
        raw,
    }
}

/// The process's peak resident set (VmHWM), in MB.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn main() {
    let rows: u64 = std::env::var("ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let out = std::env::var("OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::env::temp_dir().join(format!("streamvault-bench-{}.parquet", std::process::id()))
        });
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let sample = status(&mut rng, 0);
    println!(
        "writing {rows} rows, raw ~{} bytes, to {}",
        sample.raw.len(),
        out.display()
    );

    let mut raw_bytes = 0u64;
    let mut in_sink = std::time::Duration::ZERO;
    let started = Instant::now();
    let file = std::fs::File::create(&out).expect("create the output file");
    let mut sink = Box::new(ParquetSink::new(Box::new(BufWriter::new(file))).expect("sink"));
    for i in 0..rows {
        let row = status(&mut rng, i);
        raw_bytes += row.raw.len() as u64;
        let t = Instant::now();
        sink.write_row(&row).expect("row written");
        in_sink += t.elapsed();
    }
    let t = Instant::now();
    sink.finish().expect("finished");
    in_sink += t.elapsed();
    let secs = started.elapsed().as_secs_f64();
    let sink_secs = in_sink.as_secs_f64();
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    println!(
        "parquet: {rows} rows in {secs:.1} s ({sink_secs:.1} s in the sink = {:.0} rows/s, {:.0} MB/s of raw); raw {:.0} MB -> file {:.0} MB ({:.2}x); peak RSS {:.0} MB",
        rows as f64 / sink_secs,
        raw_bytes as f64 / 1e6 / sink_secs,
        raw_bytes as f64 / 1e6,
        size as f64 / 1e6,
        raw_bytes as f64 / size.max(1) as f64,
        peak_rss_mb()
    );
    if std::env::var("KEEP").as_deref() != Ok("1") {
        let _ = std::fs::remove_file(&out);
    }
}
