//! A batch turned back into the records it was made of, for the spool.
//!
//! A live batch must be spoolable whole when the database cannot take it in time. It used to
//! carry a second, encoded copy of every record for that, made as each record was taken:
//! twice the batch's memory and an encoding per record, on every batch, for the rare one
//! that is spooled. The batch keeps which record each row came from (`split::Trace`), so the
//! records can instead be rebuilt from its rows when, and only when, it is spooled.
//!
//! Pushing the rebuilt records, in the order given, into an empty batch makes the same batch:
//! the same rows merged the same way, at the same positions. A rebuilt record may differ from
//! the one received only where the batch kept one copy for several records (the first copy of
//! a status or a direct message, the latest profile of a user) or kept nothing (the problems
//! of a v2 error line, which only its `events.raw` keeps), so what it writes is unchanged.

use super::{Batch, EventRow, NoticeKind};
use crate::record::{ConnectionRecord, Detail, MessageRecord, Record};

/// The records of a batch in arrival order (see [`Batch::records`]).
pub struct Records<'b> {
    batch: &'b Batch,
    connections: std::slice::Iter<'b, ConnectionRecord>,
    /// Next index into each of the batch's lists and their traces.
    events: usize,
    rejects: usize,
    details: usize,
    tweets: usize,
    users: usize,
    dms: usize,
    matches: usize,
    notices: usize,
}

impl Batch {
    /// The records this batch was made of: its connection-log changes first (a batch writes
    /// them first whatever their place), then its messages and rejects in arrival order.
    /// `None` when the batch was not built by [`Batch::push`] alone (its rows cannot be traced
    /// back to records then).
    pub fn records(&self) -> Option<Records<'_>> {
        self.positions()?;
        Some(Records {
            batch: self,
            connections: self.connections.iter(),
            events: 0,
            rejects: 0,
            details: 0,
            tweets: 0,
            users: 0,
            dms: 0,
            matches: 0,
            notices: 0,
        })
    }
}

impl Iterator for Records<'_> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        if let Some(c) = self.connections.next() {
            return Some(Record::Connection(c.clone()));
        }
        let b = self.batch;
        let event = b.trace.events.get(self.events).map(|(seq, _)| *seq);
        let reject = b.trace.rejects.get(self.rejects).copied();
        match (event, reject) {
            (Some(e), Some(r)) if r < e => self.reject(),
            (None, Some(_)) => self.reject(),
            (Some(seq), _) => Some(self.message(seq)),
            (None, None) => None,
        }
    }
}

impl Records<'_> {
    fn reject(&mut self) -> Option<Record> {
        let reject = self.batch.rejects.get(self.rejects)?;
        self.rejects += 1;
        Some(Record::Reject(reject.clone()))
    }

    /// The message at `seq`, the next event: its event row with every row it carried.
    fn message(&mut self, seq: usize) -> Record {
        let b = self.batch;
        let detailed = b.trace.events.get(self.events).is_some_and(|(_, d)| *d);
        let event: &EventRow = &b.events[self.events];
        self.events += 1;
        let mut tweets = Vec::new();
        while let Some(&(s, i, embedded)) = b.trace.tweets.get(self.tweets) {
            if s != seq {
                break;
            }
            self.tweets += 1;
            if let Some(t) = b.tweets.get(i) {
                let mut row = t.row.clone();
                row.embedded = embedded;
                tweets.push(row);
            }
        }
        let mut users = Vec::new();
        while let Some(&(s, i)) = b.trace.users.get(self.users) {
            if s != seq {
                break;
            }
            self.users += 1;
            users.extend(b.users.get(i).map(|u| u.row.clone()));
        }
        let mut matches = Vec::new();
        while let Some(m) = b.matches.get(self.matches).filter(|m| m.seq == seq) {
            self.matches += 1;
            matches.push(m.row.clone());
        }
        let detail = self.detail(seq, detailed);
        Record::Message(Box::new(MessageRecord {
            origin: event.origin.clone(),
            kind: event.kind,
            for_user: event.for_user,
            tweet_id: event.tweet_id,
            raw: event.raw.clone(),
            tweets,
            users,
            detail,
            matches,
        }))
    }

    /// The detail of the message at `seq`: its notice, its direct message or its detail row.
    fn detail(&mut self, seq: usize, detailed: bool) -> Detail {
        let b = self.batch;
        if let Some(n) = b.notices.get(self.notices).filter(|n| n.seq == seq) {
            self.notices += 1;
            return match &n.kind {
                NoticeKind::Delete(d) => Detail::Delete(d.clone()),
                NoticeKind::DmDelete(d) => Detail::DmDelete(d.clone()),
                NoticeKind::ScrubGeo(s) => Detail::ScrubGeo(s.clone()),
                NoticeKind::StatusWithheld(w) => Detail::StatusWithheld(w.clone()),
                NoticeKind::UserWithheld(w) => Detail::UserWithheld(w.clone()),
                NoticeKind::Event(e) => Detail::Compliance(e.clone()),
            };
        }
        if let Some(&(_, i)) = b.trace.dms.get(self.dms).filter(|(s, _)| *s == seq) {
            self.dms += 1;
            if let Some(dm) = b.dms.get(i) {
                return Detail::DirectMessage(dm.row.clone());
            }
        }
        if detailed && let Some(d) = b.details.get(self.details) {
            self.details += 1;
            return d.detail.clone();
        }
        Detail::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{ConnectionChange, Decoder, Origin};
    use chrono::{TimeZone, Utc};

    fn origin(i: usize) -> Origin {
        Origin {
            stream: "s".into(),
            connection_id: Some(3),
            received_at: Utc.timestamp_opt(1_700_000_000 + i as i64, 0).unwrap(),
        }
    }

    fn status(id: i64, user: i64, name: &str, extra: &str) -> String {
        format!(
            r#"{{"id":{id},"id_str":"{id}","text":"t{id} {name}","user":{{"id":{user},"id_str":"{user}","screen_name":"{name}"}}{extra}}}"#
        )
    }

    /// Every kind of record a batch takes apart: statuses carrying others, a status seen
    /// twice, a profile that changes, notices, a direct message, a user event, a limit, a v2
    /// Post with matching rules, a v2 error line, rejects and connection-log changes.
    fn lines() -> Vec<String> {
        let original = status(10, 1, "a", "");
        let quoted = status(20, 3, "c", "");
        vec![
            original.clone(),
            status(11, 2, "b", &format!(r#","retweeted_status":{original}"#)),
            "{not json".to_owned(),
            status(12, 1, "a2", &format!(r#","quoted_status":{quoted}"#)),
            r#"{"delete":{"status":{"id":10,"id_str":"10","user_id":1,"user_id_str":"1"}}}"#
                .to_owned(),
            quoted,
            r#"{"scrub_geo":{"user_id":1,"user_id_str":"1","up_to_status_id":12,"up_to_status_id_str":"12"}}"#.to_owned(),
            r#"{"limit":{"track":7}}"#.to_owned(),
            r#"{"direct_message":{"id":70,"id_str":"70","text":"hi","sender_id":1,"recipient_id":2,"created_at":"Wed Aug 27 13:08:45 +0000 2008"}}"#.to_owned(),
            r#"{"event":"favorite","source":{"id":2,"id_str":"2","screen_name":"b"},"target":{"id":1,"id_str":"1","screen_name":"a3"},"target_object":{"id":12,"id_str":"12","text":"t12","user":{"id":1,"id_str":"1","screen_name":"a3"}},"created_at":"Wed Aug 27 13:08:45 +0000 2008"}"#.to_owned(),
            r#"{"data":{"id":"30","text":"cat","author_id":"4","edit_history_tweet_ids":["30"]},"includes":{"users":[{"id":"4","username":"d"}]},"matching_rules":[{"id":"5","tag":"cats"},{"id":"6"}]}"#.to_owned(),
            r#"{"errors":[{"title":"operational-disconnect","disconnect_type":"UpstreamOperationalDisconnect","detail":"x","type":"https://api.twitter.com/2/problems/operational-disconnect"}]}"#.to_owned(),
            r#"{"status_withheld":{"id":11,"user_id":2,"withheld_in_countries":["DE"]}}"#.to_owned(),
            status(11, 2, "b", ""),
        ]
    }

    fn batch_of(lines: &[String]) -> Batch {
        let mut decoder = Decoder::default();
        let mut batch = Batch::default();
        let at = origin(0).received_at;
        batch.push(Record::Connection(ConnectionRecord::new(
            "s".into(),
            3,
            at,
            ConnectionChange::Opened,
        )));
        for (i, line) in lines.iter().enumerate() {
            batch.push(
                decoder
                    .decode(line.as_bytes(), &origin(i))
                    .expect("a record"),
            );
        }
        batch.push(Record::Connection(ConnectionRecord::new(
            "s".into(),
            3,
            at,
            ConnectionChange::Up {
                http_status: 200,
                backfill_minutes: None,
            },
        )));
        batch
    }

    /// Every row list, the positions they came from and the record count: what a batch
    /// writes (its byte weight, an estimate, aside).
    fn rows(b: &Batch) -> String {
        format!(
            "{:?}",
            (
                (&b.events, &b.tweets, &b.users, &b.rejects, &b.details),
                (&b.notices, &b.dms, &b.connections, &b.matches, b.records),
                (&b.trace, &b.tweet_index, &b.user_index, &b.dm_index),
            )
        )
    }

    fn rebuilt(b: &Batch) -> Batch {
        let mut again = Batch::default();
        for record in b.records().expect("made by push") {
            again.push(record);
        }
        again
    }

    #[test]
    fn the_records_make_the_same_batch_again() {
        let lines = lines();
        let whole = batch_of(&lines);
        assert_eq!(whole.len(), lines.len());
        assert_eq!(whole.rejects.len(), 1);
        assert_eq!(whole.matches.len(), 2);
        assert!(whole.dms.len() == 1 && whole.notices.len() == 3);
        assert!(!whole.details.is_empty());
        let again = rebuilt(&whole);
        assert_eq!(rows(&again), rows(&whole));
        // And again: the rebuilt batch's records are its own.
        assert_eq!(rows(&rebuilt(&again)), rows(&whole));
        // Every part of a batch too (what a refused batch is split into). A part that does
        // not start at the batch's start keeps its positions; its records are numbered from 0
        // again (positions are only compared with each other), and rebuild alike from there.
        for cut in 0..=lines.len() {
            let head = whole.subset(0..cut);
            assert_eq!(rows(&rebuilt(&head)), rows(&head), "cut at {cut}");
            let tail = rebuilt(&whole.subset(cut..lines.len()));
            assert_eq!(tail.len(), lines.len() - cut);
            assert_eq!(rows(&rebuilt(&tail)), rows(&tail), "cut at {cut}");
        }
    }

    #[test]
    fn records_come_in_arrival_order_connections_first() {
        let whole = batch_of(&lines());
        let records: Vec<Record> = whole.records().unwrap().collect();
        assert_eq!(records.len(), whole.len() + 2);
        assert!(matches!(records[0], Record::Connection(_)));
        assert!(matches!(records[1], Record::Connection(_)));
        assert!(matches!(records[4], Record::Reject(_)), "the third line");
        for (i, r) in records[2..].iter().enumerate() {
            assert_eq!(r.origin().received_at, origin(i).received_at, "record {i}");
        }
        let Record::Message(retweet) = &records[3] else {
            panic!("a message");
        };
        let ids: Vec<(i64, bool)> = (retweet.tweets.iter())
            .map(|t| (t.tweet_id, t.embedded))
            .collect();
        assert_eq!(ids, vec![(10, true), (11, false)]);
    }

    #[test]
    fn a_batch_not_made_by_push_has_no_records() {
        let whole = batch_of(&lines());
        let mut odd = whole.as_rejects("x");
        assert!(odd.records().is_some(), "rejects pushed");
        odd.events.push(EventRow {
            origin: origin(0),
            kind: crate::protocol::Kind::Unknown,
            for_user: None,
            tweet_id: None,
            dm_id: None,
            raw: None,
        });
        assert!(odd.records().is_none());
    }
}
