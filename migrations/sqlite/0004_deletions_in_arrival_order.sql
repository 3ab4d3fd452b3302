-- deletions becomes a rowid table in arrival order with tweet_id as a separate unique key (BIGINT,
-- unlike INTEGER, is not a rowid alias), as tweets and users are. Keyed by the deleted status's id,
-- every batch's deletes landed at scattered positions and each rewrote a whole leaf of ~100-byte
-- rows; now the rows are appended and only the narrow key index takes the scattered inserts.
-- Columns, constraints and the notice_keys trigger are as before.
CREATE TABLE deletions_new (
    tweet_id             BIGINT  NOT NULL PRIMARY KEY,
    user_id              INTEGER,
    notice_received_at   TEXT    NOT NULL,
    applied_at           TEXT    NOT NULL,
    arrived_before_tweet INTEGER NOT NULL,
    -- When a copy of the status first arrived after its notice (NULL: still waiting, or never).
    tweet_arrived_at     TEXT
);
-- In the order the rows were recorded (applied_at, then the old rowid order within a batch).
INSERT INTO deletions_new (tweet_id, user_id, notice_received_at, applied_at,
                           arrived_before_tweet, tweet_arrived_at)
    SELECT tweet_id, user_id, notice_received_at, applied_at, arrived_before_tweet, tweet_arrived_at
    FROM deletions ORDER BY applied_at, notice_received_at, tweet_id;
DROP TABLE deletions;
ALTER TABLE deletions_new RENAME TO deletions;

CREATE TRIGGER deletions_notice_key AFTER INSERT ON deletions
BEGIN
    INSERT INTO notice_keys (kind, key) VALUES (0, NEW.tweet_id);
END;
