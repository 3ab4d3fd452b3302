//! Tests of what notices, retweets, quotes, replies and located statuses point at: ids and
//! users that exist, consistent copies, complete places.

use super::*;
use crate::generate::memory::PENDING_CAP;
use crate::generate::world::WORKER_UNSEEN_STATUS;

fn raw_status_and_user(line: &[u8]) -> (u64, u64) {
    let number_after = |key: &[u8]| -> u64 {
        let at = find(line, key).unwrap() + key.len();
        let digits = line[at..].iter().take_while(|b| b.is_ascii_digit()).count();
        std::str::from_utf8(&line[at..at + digits])
            .unwrap()
            .parse()
            .unwrap()
    };
    (
        number_after(b"\",\"id\":"),
        number_after(b"\"user\":{\"id\":"),
    )
}

#[test]
fn deletes_target_seen_unseen_and_future_ids() {
    let mut g = StreamGenerator::new(99, Mix::default());
    let mut emitted: HashMap<u64, u64> = HashMap::new();
    let mut deletes: Vec<(u64, u64)> = Vec::new();
    let (mut seen, mut unseen) = (0, 0);
    let mut line = Vec::new();
    let mut future: HashMap<u64, u64> = HashMap::new();
    for _ in 0..40_000 {
        line.clear();
        match g.next_line(&mut line) {
            "tweet" => {
                let (id, author) = raw_status_and_user(&line);
                emitted.insert(id, author);
                if let Some(uid) = future.remove(&id) {
                    assert_eq!(uid, author, "announced status by another user");
                }
            }
            "delete" => {
                let v = parse(&line);
                let st = &v["delete"]["status"];
                let (id, uid) = (u(&st["id"]), u(&st["user_id"]));
                deletes.push((id, uid));
                if let Some(&author) = emitted.get(&id) {
                    assert_eq!(author, uid, "delete with the wrong user");
                    seen += 1;
                } else if g.pending.iter().any(|p| p.id == id) {
                    assert!(worker(id) < WORKER_UNSEEN_DELETE);
                    future.insert(id, uid);
                } else {
                    let w = worker(id);
                    assert!((WORKER_UNSEEN_DELETE..WORKER_UNSEEN_STATUS).contains(&w));
                    unseen += 1;
                }
            }
            _ => {}
        }
    }
    let total = deletes.len() as f64;
    let announced = total - seen as f64 - unseen as f64;
    close("seen", seen as f64 * 100.0 / total, 80.0, 4.0);
    close("unseen", unseen as f64 * 100.0 / total, 15.0, 3.5);
    close("future", announced * 100.0 / total, 5.0, 2.0);
    // Announced statuses still outstanding are all pending, and they all come out later.
    assert!(future.len() <= g.pending.len() && g.pending.len() <= PENDING_CAP);
    for _ in 0..20_000 {
        if future.is_empty() {
            break;
        }
        line.clear();
        if g.next_line(&mut line) == "tweet" {
            let (id, author) = raw_status_and_user(&line);
            if let Some(uid) = future.remove(&id) {
                assert_eq!(uid, author);
            }
        }
    }
    assert!(future.is_empty(), "announced ids never emitted: {future:?}");
}

#[test]
fn scrubs_and_withholdings_target_users_who_posted() {
    let mut latest: HashMap<u64, u64> = HashMap::new();
    let mut authors: HashMap<u64, u64> = HashMap::new();
    let mut track = 0;
    let mut checked = 0;
    for (kind, line) in sample() {
        if line.is_empty() {
            continue;
        }
        let v = parse(line);
        match *kind {
            "tweet" => {
                let (id, uid) = (u(&v["id"]), u(&v["user"]["id"]));
                latest.insert(uid, id);
                authors.insert(id, uid);
            }
            "scrub_geo" => {
                let sg = &v["scrub_geo"];
                let uid = u(&sg["user_id"]);
                assert_eq!(latest.get(&uid), Some(&u(&sg["up_to_status_id"])));
                assert_eq!(uid.to_string(), s(&sg["user_id_str"]));
                assert_eq!(
                    u(&sg["up_to_status_id"]).to_string(),
                    s(&sg["up_to_status_id_str"])
                );
                checked += 1;
            }
            "status_withheld" => {
                let w = &v["status_withheld"];
                assert_eq!(authors.get(&u(&w["id"])), Some(&u(&w["user_id"])));
                checked += 1;
            }
            "user_withheld" => {
                assert!(latest.contains_key(&u(&v["user_withheld"]["id"])));
                checked += 1;
            }
            "limit" => {
                let t = u(&v["limit"]["track"]);
                assert!(t > track, "limit.track must increase");
                track = t;
            }
            _ => {}
        }
    }
    assert!(checked > 40);
}

#[test]
fn retweets_and_quotes_carry_consistent_originals() {
    let mut originals: HashMap<u64, (String, u64)> = HashMap::new();
    let mut times_retweeted: HashMap<u64, u32> = HashMap::new();
    let (mut unseen, mut quotes) = (0, 0);
    for (_, v) in tweets() {
        let id = u(&v["id"]);
        if let Some(orig) = v.get("retweeted_status") {
            let oid = u(&orig["id"]);
            let screen = s(&orig["user"]["screen_name"]);
            assert!(s(&v["text"]).starts_with(&format!("RT @{screen}: ")));
            assert!(s(&v["text"]).chars().count() <= 140);
            assert!(orig.get("timestamp_ms").is_none());
            assert_eq!(
                v["entities"]["user_mentions"][0]["screen_name"],
                orig["user"]["screen_name"]
            );
            if worker(oid) >= WORKER_UNSEEN_STATUS {
                unseen += 1;
            } else {
                let (text, uid) = originals.get(&oid).expect("retweet of an id never emitted");
                assert_eq!(s(&orig["text"]), text, "original changed between copies");
                assert_eq!(u(&orig["user"]["id"]), *uid);
                *times_retweeted.entry(oid).or_default() += 1;
                assert!(u(&orig["retweet_count"]) >= u64::from(times_retweeted[&oid]));
            }
            assert!(oid < id);
        } else if v["is_quote_status"] == Value::Bool(true) {
            quotes += 1;
            let q = &v["quoted_status"];
            assert_eq!(u(&v["quoted_status_id"]), u(&q["id"]));
            assert_eq!(s(&v["quoted_status_id_str"]), s(&q["id_str"]));
            let expanded = s(&v["quoted_status_permalink"]["expanded"]);
            assert!(expanded.ends_with(&format!("/status/{}", s(&q["id_str"]))));
        } else {
            assert!(v.get("quoted_status").is_none());
            let text = s(&v["text"]).to_string();
            originals.insert(id, (text, u(&v["user"]["id"])));
        }
    }
    assert!(unseen > 100, "{unseen} retweets of unseen originals");
    assert!(quotes > 200);
    let max = times_retweeted.values().max().copied().unwrap_or(0);
    assert!(max >= 5, "no original retweeted repeatedly (max {max})");
}

#[test]
fn replies_name_their_target() {
    let mut authors: HashMap<u64, u64> = HashMap::new();
    let (mut replies, mut to_seen) = (0, 0);
    for (_, v) in tweets() {
        if let Some(target) = v["in_reply_to_status_id"].as_u64() {
            replies += 1;
            assert_eq!(target.to_string(), s(&v["in_reply_to_status_id_str"]));
            let uid = u(&v["in_reply_to_user_id"]);
            assert_eq!(uid.to_string(), s(&v["in_reply_to_user_id_str"]));
            let full = v
                .get("extended_tweet")
                .map_or_else(|| s(&v["text"]), |e| s(&e["full_text"]));
            let screen = s(&v["in_reply_to_screen_name"]);
            assert!(full.starts_with(&format!("@{screen} ")), "{full:?}");
            if let Some(ext) = v.get("extended_tweet") {
                let start = u(&ext["display_text_range"][0]) as usize;
                assert_eq!(start, screen.chars().count() + 2);
            }
            if let Some(&author) = authors.get(&target) {
                assert_eq!(author, uid, "reply names the wrong author");
                to_seen += 1;
            } else {
                assert!(
                    worker(target) >= WORKER_UNSEEN_STATUS,
                    "reply to an unknown id"
                );
            }
        } else {
            assert!(v["in_reply_to_user_id"].is_null());
        }
        authors.insert(u(&v["id"]), u(&v["user"]["id"]));
    }
    assert!(
        replies > 1_000 && to_seen > replies / 2,
        "{replies} replies, {to_seen} seen"
    );
}

#[test]
fn geo_statuses_have_point_orders_and_place() {
    let mut n = 0;
    for (_, v) in tweets() {
        let coords = &v["coordinates"];
        if coords.is_null() {
            assert!(v["geo"].is_null() && v["place"].is_null());
            continue;
        }
        n += 1;
        let lonlat = coords["coordinates"].as_array().unwrap();
        let latlon = v["geo"]["coordinates"].as_array().unwrap();
        assert_eq!(coords["type"], "Point");
        assert_eq!(lonlat[0], latlon[1]);
        assert_eq!(lonlat[1], latlon[0]);
        let (lon, lat) = (lonlat[0].as_f64().unwrap(), lonlat[1].as_f64().unwrap());
        let place = &v["place"];
        assert_eq!(s(&place["id"]).len(), 16);
        assert_eq!(s(&place["country_code"]).len(), 2);
        assert!(!s(&place["full_name"]).is_empty());
        let ring = &place["bounding_box"]["coordinates"][0];
        let xs: Vec<f64> = (0..4).map(|i| ring[i][0].as_f64().unwrap()).collect();
        let ys: Vec<f64> = (0..4).map(|i| ring[i][1].as_f64().unwrap()).collect();
        let inside = |x: f64, v: &[f64]| {
            let (lo, hi) = v
                .iter()
                .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
            (lo - 1e-9..=hi + 1e-9).contains(&x)
        };
        assert!(
            inside(lon, &xs) && inside(lat, &ys),
            "point outside its place"
        );
    }
    assert!(n > 100);
}
