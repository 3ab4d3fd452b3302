//! PostgreSQL bulk inserts: tweets, users and events as one `INSERT ... SELECT FROM UNNEST` each.

use super::{PgTx, countries_json, pg_json, pg_text};
use crate::{Rows, StoreError};
use sqlx::Row;
use streamvault_core::batch::Batch;
use streamvault_core::record::TweetRow;

impl PgTx {
    /// Inserts the statuses (one seen again moves `first_seen_at` back and `last_seen_at`
    /// forward); the ids of those that were new to the archive.
    pub(super) async fn insert_tweets(&mut self, rows: &Rows<'_>) -> Result<Vec<i64>, StoreError> {
        if rows.tweets.is_empty() {
            return Ok(Vec::new());
        }
        let t = &rows.tweets;
        let col =
            |f: &dyn Fn(&TweetRow) -> Option<i64>| t.iter().map(|(_, r)| f(r)).collect::<Vec<_>>();
        let inserted = sqlx::query(
            "INSERT INTO tweets (tweet_id, user_id, created_at, text, lang, in_reply_to_status_id, \
             retweeted_status_id, quoted_status_id, longitude, latitude, place, withheld_in_countries, \
             geo_scrubbed, stream, first_seen_at, last_seen_at, raw, located, api, edit_initial_id) \
             SELECT tweet_id, user_id, created_at, text, lang, irt, rt, qt, lon, lat, place::jsonb, \
             withheld::jsonb, scrubbed, stream, first_seen, last_seen, raw::jsonb, located, api, edit \
             FROM UNNEST($1::int8[], $2::int8[], $3::timestamptz[], $4::text[], $5::text[], $6::int8[], \
             $7::int8[], $8::int8[], $9::float8[], $10::float8[], $11::text[], $12::text[], $13::bool[], \
             $14::text[], $15::timestamptz[], $16::timestamptz[], $17::text[], $18::bool[], $19::text[], \
             $20::int8[]) \
             AS u(tweet_id, user_id, created_at, text, lang, irt, rt, qt, lon, lat, place, withheld, \
             scrubbed, stream, first_seen, last_seen, raw, located, api, edit) \
             ON CONFLICT (tweet_id) DO UPDATE SET \
             first_seen_at = LEAST(tweets.first_seen_at, EXCLUDED.first_seen_at), \
             last_seen_at = GREATEST(tweets.last_seen_at, EXCLUDED.last_seen_at) \
             RETURNING tweet_id, xmax = 0",
        )
        .bind(t.iter().map(|(_, r)| r.tweet_id).collect::<Vec<_>>())
        .bind(col(&|r| r.user_id))
        .bind(t.iter().map(|(_, r)| r.created_at).collect::<Vec<_>>())
        .bind(t.iter().map(|(_, r)| r.text.as_deref().map(pg_text)).collect::<Vec<_>>())
        .bind(t.iter().map(|(_, r)| r.lang.as_deref().map(pg_text)).collect::<Vec<_>>())
        .bind(col(&|r| r.in_reply_to_status_id))
        .bind(col(&|r| r.retweeted_status_id))
        .bind(col(&|r| r.quoted_status_id))
        .bind(t.iter().map(|(_, r)| r.longitude).collect::<Vec<_>>())
        .bind(t.iter().map(|(_, r)| r.latitude).collect::<Vec<_>>())
        .bind(t.iter().map(|(_, r)| r.place.as_deref().map(pg_text)).collect::<Vec<_>>())
        .bind(t.iter().map(|(_, r)| countries_json(&r.withheld_in_countries)).collect::<Vec<_>>())
        .bind(t.iter().map(|(_, r)| r.geo_scrubbed).collect::<Vec<_>>())
        .bind(t.iter().map(|(p, _)| p.stream.to_string()).collect::<Vec<_>>())
        .bind(t.iter().map(|(p, _)| p.first_seen).collect::<Vec<_>>())
        .bind(t.iter().map(|(p, _)| p.last_seen).collect::<Vec<_>>())
        .bind(t.iter().map(|(_, r)| pg_json(&r.raw).into_owned()).collect::<Vec<_>>())
        .bind(t.iter().map(|(_, r)| r.located).collect::<Vec<_>>())
        .bind(t.iter().map(|(_, r)| r.api.as_str()).collect::<Vec<_>>())
        .bind(col(&|r| r.edit_initial_id))
        // A row the statement inserted has no `xmax`; one it updated is locked by it.
        .fetch_all(&mut *self.0)
        .await?;
        Ok(inserted
            .iter()
            .filter(|r| r.get::<bool, _>(1))
            .map(|r| r.get::<i64, _>(0))
            .collect())
    }

    /// The rules v2 Posts matched; a Post delivered twice records its matches once.
    pub(super) async fn insert_matches(&mut self, batch: &Batch) -> Result<(), StoreError> {
        let m = &batch.matches;
        if m.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO tweet_matches (tweet_id, rule_id, tag, stream, received_at) \
             SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::text[], $4::text[], $5::timestamptz[]) \
             ON CONFLICT (tweet_id, stream, rule_id) DO NOTHING",
        )
        .bind(m.iter().map(|r| r.row.tweet_id).collect::<Vec<_>>())
        .bind(m.iter().map(|r| r.row.rule_id).collect::<Vec<_>>())
        .bind(m.iter().map(|r| r.row.tag.as_deref().map(pg_text)).collect::<Vec<_>>())
        .bind(m.iter().map(|r| r.stream.to_string()).collect::<Vec<_>>())
        .bind(m.iter().map(|r| r.received_at).collect::<Vec<_>>())
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    pub(super) async fn insert_users(&mut self, rows: &Rows<'_>) -> Result<(), StoreError> {
        if rows.users.is_empty() {
            return Ok(());
        }
        let u = &rows.users;
        sqlx::query(
            "INSERT INTO users (user_id, screen_name, withheld_in_countries, raw, updated_at) \
             SELECT user_id, screen_name, withheld::jsonb, raw::jsonb, updated_at \
             FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) \
             AS u(user_id, screen_name, withheld, raw, updated_at) \
             ON CONFLICT (user_id) DO UPDATE SET screen_name = EXCLUDED.screen_name, \
             raw = EXCLUDED.raw, updated_at = EXCLUDED.updated_at",
        )
        .bind(u.iter().map(|(_, r)| r.user_id).collect::<Vec<_>>())
        .bind(
            u.iter()
                .map(|(_, r)| r.screen_name.as_deref().map(pg_text))
                .collect::<Vec<_>>(),
        )
        .bind(
            u.iter()
                .map(|(_, r)| countries_json(&r.withheld_in_countries))
                .collect::<Vec<_>>(),
        )
        .bind(
            u.iter()
                .map(|(_, r)| pg_json(&r.raw).into_owned())
                .collect::<Vec<_>>(),
        )
        .bind(u.iter().map(|(p, _)| p.seen_at).collect::<Vec<_>>())
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    pub(super) async fn insert_events(&mut self, batch: &Batch) -> Result<(), StoreError> {
        if !batch.events.is_empty() {
            let e = &batch.events;
            sqlx::query(
                "INSERT INTO events (stream, connection_id, received_at, kind, for_user, tweet_id, dm_id, raw) \
                 SELECT stream, connection_id, received_at, kind, for_user, tweet_id, dm_id, raw::jsonb \
                 FROM UNNEST($1::text[], $2::int8[], $3::timestamptz[], $4::text[], $5::int8[], \
                 $6::int8[], $7::text[], $8::int8[]) WITH ORDINALITY \
                 AS u(stream, connection_id, received_at, kind, for_user, tweet_id, raw, dm_id, n) ORDER BY n",
            )
            .bind(e.iter().map(|r| r.origin.stream.to_string()).collect::<Vec<_>>())
            .bind(e.iter().map(|r| r.origin.connection_id).collect::<Vec<_>>())
            .bind(e.iter().map(|r| r.origin.received_at).collect::<Vec<_>>())
            .bind(e.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>())
            .bind(e.iter().map(|r| r.for_user).collect::<Vec<_>>())
            .bind(e.iter().map(|r| r.tweet_id).collect::<Vec<_>>())
            .bind(e.iter().map(|r| r.raw.as_deref().map(|j| pg_json(j).into_owned())).collect::<Vec<_>>())
            .bind(e.iter().map(|r| r.dm_id).collect::<Vec<_>>())
            .execute(&mut *self.0)
            .await?;
        }
        for r in &batch.rejects {
            sqlx::query(
                "INSERT INTO rejects (stream, connection_id, received_at, reason, raw) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&*r.origin.stream)
            .bind(r.origin.connection_id)
            .bind(r.origin.received_at)
            .bind(pg_text(&r.reason))
            .bind(&r.raw)
            .execute(&mut *self.0)
            .await?;
        }
        Ok(())
    }
}
