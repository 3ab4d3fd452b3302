//! Splitting a batch the database refused, by arrival position, and turning a refused record
//! back into the line it was (for `rejects`).
//!
//! A batch keeps, besides its rows, which record (arrival position, `seq`) each row came from.
//! A part of a batch is then the batch those records alone would have made, rows merged the
//! same way, with their original positions: the write path compares positions only with each
//! other, so parts written in arrival order apply compliance as the whole batch would have.
//! Two approximations, both harmless: a status or profile carried by several records keeps the
//! row of the batch (the first status copy, the latest profile) in every part that carries it.

use super::{Batch, DetailRow, EventRow, PendingDm, PendingTweet, PendingUser};
use crate::record::{Origin, RejectRecord, TweetRow, stub};
use std::ops::Range;

/// Which record every row of a batch came from.
#[derive(Debug, Default)]
pub(super) struct Trace {
    /// Position of each event, and whether its record also made a `details` row.
    pub(super) events: Vec<(usize, bool)>,
    /// Position of each reject.
    pub(super) rejects: Vec<usize>,
    /// (position, index in `tweets`, embedded) of every status copy a record carried.
    pub(super) tweets: Vec<(usize, usize, bool)>,
    /// (position, index in `users`) of every profile a record carried.
    pub(super) users: Vec<(usize, usize)>,
    /// (position, index in `dms`) of every direct message a record carried.
    pub(super) dms: Vec<(usize, usize)>,
}

impl Batch {
    /// The arrival positions of this batch's records, in order; `None` when the batch was not
    /// built by [`Batch::push`] alone (it cannot be split then).
    pub fn positions(&self) -> Option<Vec<usize>> {
        let t = &self.trace;
        let detailed = t.events.iter().filter(|(_, d)| *d).count();
        if t.events.len() != self.events.len()
            || t.rejects.len() != self.rejects.len()
            || detailed != self.details.len()
            || t.events.len() + t.rejects.len() != self.records
        {
            return None;
        }
        let mut all: Vec<usize> = t.events.iter().map(|(seq, _)| *seq).collect();
        all.extend(&t.rejects);
        all.sort_unstable();
        Some(all)
    }

    /// The batch's connection-log changes alone. A part ([`Batch::subset`]) carries none: a
    /// batch written in parts writes these first, on their own.
    pub fn connections_only(&self) -> Batch {
        Batch {
            connections: self.connections.clone(),
            ..Batch::default()
        }
    }

    /// The batch the records at positions `range` alone would have made.
    pub fn subset(&self, range: Range<usize>) -> Batch {
        let mut part = Batch {
            source: self.source.clone(),
            ..Batch::default()
        };
        let mut detail = self.details.iter();
        for (&(seq, detailed), event) in self.trace.events.iter().zip(&self.events) {
            let detail = if detailed { detail.next() } else { None };
            if !range.contains(&seq) {
                continue;
            }
            part.events.push(copy_event(event));
            if let Some(d) = detail {
                part.details.push(DetailRow {
                    origin: d.origin.clone(),
                    for_user: d.for_user,
                    detail: d.detail.clone(),
                    raw: d.raw.clone(),
                });
            }
            part.trace.events.push((seq, detailed));
        }
        for (&seq, reject) in self.trace.rejects.iter().zip(&self.rejects) {
            if range.contains(&seq) {
                part.rejects.push(reject.clone());
                part.trace.rejects.push(seq);
            }
        }
        part.records = part.events.len() + part.rejects.len();
        part.notices = (self.notices.iter())
            .filter(|n| range.contains(&n.seq))
            .cloned()
            .collect();
        part.matches = (self.matches.iter())
            .filter(|m| range.contains(&m.seq))
            .cloned()
            .collect();
        self.subset_tweets(&range, &mut part);
        self.subset_users(&range, &mut part);
        self.subset_dms(&range, &mut part);
        part
    }

    fn subset_dms(&self, range: &Range<usize>, part: &mut Batch) {
        for &(seq, i) in &self.trace.dms {
            let Some(whole) = self.dms.get(i).filter(|_| range.contains(&seq)) else {
                continue;
            };
            let origin = self.origin_of(seq);
            let at = origin.map_or(whole.first_seen, |o| o.received_at);
            let j = match part.dm_index.get(&whole.row.dm_id) {
                Some(&j) => {
                    part.dms[j].last_seen = part.dms[j].last_seen.max(at);
                    j
                }
                None => {
                    part.dm_index.insert(whole.row.dm_id, part.dms.len());
                    part.dms.push(PendingDm {
                        row: whole.row.clone(),
                        stream: origin.map_or_else(|| whole.stream.clone(), |o| o.stream.clone()),
                        first_seen: at,
                        last_seen: at,
                        seq,
                    });
                    part.dms.len() - 1
                }
            };
            part.trace.dms.push((seq, j));
        }
    }

    fn subset_tweets(&self, range: &Range<usize>, part: &mut Batch) {
        for &(seq, i, embedded) in &self.trace.tweets {
            let Some(whole) = self.tweets.get(i).filter(|_| range.contains(&seq)) else {
                continue;
            };
            let origin = self.origin_of(seq);
            let at = origin.map_or(whole.first_seen, |o| o.received_at);
            let j = match part.tweet_index.get(&whole.row.tweet_id) {
                Some(&j) => {
                    let seen = &mut part.tweets[j];
                    seen.last_seen = seen.last_seen.max(at);
                    seen.row.embedded &= embedded;
                    j
                }
                None => {
                    part.tweet_index
                        .insert(whole.row.tweet_id, part.tweets.len());
                    part.tweets.push(PendingTweet {
                        row: TweetRow {
                            embedded,
                            ..whole.row.clone()
                        },
                        stream: origin.map_or_else(|| whole.stream.clone(), |o| o.stream.clone()),
                        first_seen: at,
                        last_seen: at,
                        seq,
                    });
                    part.tweets.len() - 1
                }
            };
            part.trace.tweets.push((seq, j, embedded));
        }
    }

    fn subset_users(&self, range: &Range<usize>, part: &mut Batch) {
        for &(seq, i) in &self.trace.users {
            let Some(whole) = self.users.get(i).filter(|_| range.contains(&seq)) else {
                continue;
            };
            let at = self.origin_of(seq).map_or(whole.seen_at, |o| o.received_at);
            let j = match part.user_index.get(&whole.row.user_id) {
                Some(&j) => {
                    part.users[j].seen_at = part.users[j].seen_at.max(at);
                    j
                }
                None => {
                    part.user_index.insert(whole.row.user_id, part.users.len());
                    part.users.push(PendingUser {
                        row: whole.row.clone(),
                        seen_at: at,
                    });
                    part.users.len() - 1
                }
            };
            part.trace.users.push((seq, j));
        }
    }

    /// Where and when the message at `seq` was received.
    fn origin_of(&self, seq: usize) -> Option<&Origin> {
        let k = (self.trace.events)
            .binary_search_by_key(&seq, |(s, _)| *s)
            .ok()?;
        self.events.get(k).map(|e| &e.origin)
    }

    /// Every record of this batch as a reject with `reason`, its line rebuilt from its rows: an
    /// event's `raw` as received; for a status, its row's `raw` with each embedded status it
    /// carried put back in place of its stub.
    pub fn as_rejects(&self, reason: &str) -> Batch {
        let mut out = Batch::default();
        for (&(seq, _), event) in self.trace.events.iter().zip(&self.events) {
            out.push(crate::record::Record::Reject(RejectRecord {
                origin: event.origin.clone(),
                reason: reason.to_owned(),
                raw: self.line_of(seq, event).into_bytes(),
            }));
        }
        for reject in &self.rejects {
            out.push(crate::record::Record::Reject(RejectRecord {
                reason: format!("{reason} (first refused as: {})", reject.reason),
                ..reject.clone()
            }));
        }
        out
    }

    /// The line the message at `seq` was, as far as its rows tell.
    fn line_of(&self, seq: usize, event: &EventRow) -> String {
        if let Some(raw) = &event.raw {
            return raw.clone();
        }
        if let Some(dm) = (self.trace.dms.iter())
            .find(|(s, _)| *s == seq)
            .and_then(|(_, i)| self.dms.get(*i))
        {
            return format!(r#"{{"direct_message":{}}}"#, dm.row.raw);
        }
        let carried: Vec<&TweetRow> = (self.trace.tweets.iter())
            .filter(|(s, _, _)| *s == seq)
            .filter_map(|(_, i, _)| self.tweets.get(*i).map(|t| &t.row))
            .collect();
        // Embedded statuses first, then the top-level one.
        let Some((top, embedded)) = carried.split_last() else {
            return event.tweet_id.map(stub).unwrap_or_default();
        };
        let mut line = top.raw.clone();
        for _ in 0..embedded.len() {
            let before = line.len();
            for row in embedded {
                line = line.replacen(&stub(row.tweet_id), &row.raw, 1);
            }
            if line.len() == before {
                break;
            }
        }
        line
    }
}

fn copy_event(e: &EventRow) -> EventRow {
    EventRow {
        origin: e.origin.clone(),
        kind: e.kind,
        for_user: e.for_user,
        tweet_id: e.tweet_id,
        dm_id: e.dm_id,
        raw: e.raw.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Decoder;
    use chrono::{TimeZone, Utc};

    fn status(id: i64, user: i64, extra: &str) -> String {
        format!(
            r#"{{"id":{id},"id_str":"{id}","text":"t{id}","user":{{"id":{user},"id_str":"{user}","screen_name":"u{user}"}}{extra}}}"#
        )
    }

    fn batch(lines: &[String]) -> Batch {
        let mut decoder = Decoder::default();
        let mut batch = Batch::default();
        for (i, line) in lines.iter().enumerate() {
            let origin = Origin {
                stream: "s".into(),
                connection_id: None,
                received_at: Utc.timestamp_opt(1_700_000_000 + i as i64, 0).unwrap(),
            };
            batch.push(decoder.decode(line.as_bytes(), &origin).expect("a record"));
        }
        batch
    }

    #[test]
    fn parts_hold_every_record_once_with_its_rows() {
        let original = status(10, 1, "");
        let retweet = status(11, 2, &format!(r#","retweeted_status":{original}"#));
        let lines = vec![
            original.clone(),
            retweet.clone(),
            "{not json".to_owned(),
            r#"{"delete":{"status":{"id":10,"id_str":"10","user_id":1,"user_id_str":"1"}}}"#
                .to_owned(),
            status(12, 1, ""),
        ];
        let whole = batch(&lines);
        assert_eq!(whole.positions(), Some(vec![0, 1, 2, 3, 4]));
        let (first, second) = (whole.subset(0..2), whole.subset(2..5));
        assert_eq!((first.len(), second.len()), (2, 3));
        assert_eq!((first.events.len(), first.rejects.len()), (2, 0));
        assert_eq!((second.events.len(), second.rejects.len()), (2, 1));
        let ids = |b: &Batch| b.tweets.iter().map(|t| t.row.tweet_id).collect::<Vec<_>>();
        assert_eq!(ids(&first), vec![10, 11]);
        assert_eq!(ids(&second), vec![12]);
        assert!(!first.tweets[0].row.embedded, "seen top-level first");
        assert_eq!(second.notices.len(), 1);
        assert_eq!(second.notices[0].seq, 3, "positions are kept");
        assert_eq!(second.positions(), Some(vec![2, 3, 4]));
        // The retweet alone: its status and the one it carries, the latter marked embedded.
        let alone = whole.subset(1..2);
        assert_eq!(ids(&alone), vec![10, 11]);
        assert!(alone.tweets[0].row.embedded);
        assert_eq!(
            alone.tweets[0].first_seen,
            whole.events[1].origin.received_at
        );
        // As a reject, the line is rebuilt whole: the embedded status back in place of its stub.
        let rejects = alone.as_rejects("database refused: x");
        assert_eq!(rejects.rejects.len(), 1);
        assert_eq!(rejects.rejects[0].raw, retweet.as_bytes());
        assert_eq!(rejects.rejects[0].reason, "database refused: x");
        let reject = whole.subset(2..3).as_rejects("database refused: y");
        assert_eq!(reject.rejects[0].raw, b"{not json");
    }
}
