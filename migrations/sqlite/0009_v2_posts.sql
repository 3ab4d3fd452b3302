-- X API v2 Post streams (issue 19).
--
-- A tweets row says which API shape its raw has: export and compliance code read a v1.1 status
-- (`user`, `retweeted_status`, `coordinates`) and a v2 Post (`author_id`, `referenced_tweets`,
-- `geo`) differently. Every row archived before this migration is a v1.1 status.
ALTER TABLE tweets ADD COLUMN api TEXT NOT NULL DEFAULT 'v1.1' CHECK (api IN ('v1.1', 'v2'));
-- A v2 Post's edit chain: `edit_history_tweet_ids[0]`, the chain's original (what later
-- edit-chain work keys on: a delete of any version deletes the chain). NULL for v1.1 statuses.
ALTER TABLE tweets ADD COLUMN edit_initial_id INTEGER;

-- The filtered-stream rules each Post matched. A Post delivered twice (a backfill, a
-- reconnect) records its matches once; the rows hold ids and the tag only, no content.
CREATE TABLE tweet_matches (
    tweet_id    INTEGER NOT NULL,
    rule_id     INTEGER NOT NULL,
    tag         TEXT,
    stream      TEXT    NOT NULL,
    received_at TEXT    NOT NULL,
    PRIMARY KEY (tweet_id, stream, rule_id)
);
-- "Which Posts did this rule bring in?"
CREATE INDEX tweet_matches_rule ON tweet_matches (rule_id, received_at);

-- The history of every rule a filtered stream had: added when the daemon (or the server) had
-- it, removed when it went. The server gives a re-added rule a new id.
CREATE TABLE stream_rules (
    stream     TEXT    NOT NULL,
    rule_id    INTEGER NOT NULL,
    value      TEXT    NOT NULL,
    tag        TEXT,
    added_at   TEXT    NOT NULL,
    removed_at TEXT,
    PRIMARY KEY (stream, rule_id)
);

-- A v2 operational disconnect has a type, not a code: `code` becomes nullable. SQLite cannot
-- drop a NOT NULL constraint, so the table is rebuilt (it has no indexes, triggers or views).
CREATE TABLE disconnects_v2 (
    connection_id INTEGER,
    received_at   TEXT    NOT NULL,
    code          INTEGER,
    code_name     TEXT    NOT NULL,
    stream_name   TEXT,
    reason        TEXT,
    stream        TEXT    NOT NULL
);
INSERT INTO disconnects_v2 (connection_id, received_at, code, code_name, stream_name, reason, stream)
SELECT connection_id, received_at, code, code_name, stream_name, reason, stream FROM disconnects;
DROP TABLE disconnects;
ALTER TABLE disconnects_v2 RENAME TO disconnects;
