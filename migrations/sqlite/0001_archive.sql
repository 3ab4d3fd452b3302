-- The streamvault archive, SQLite dialect. Times are ISO-8601 UTC text
-- (YYYY-MM-DDTHH:MM:SS.ffffffZ, so they sort and compare as text); JSON is text.

-- tweets and users are rowid tables in arrival order, with the id as a separate primary-key
-- index (BIGINT, unlike INTEGER, is not a rowid alias): the large rows are appended rather than
-- inserted at random positions, which on this workload cut the bytes written by about a third.
CREATE TABLE tweets (
    tweet_id              BIGINT NOT NULL PRIMARY KEY,
    user_id               INTEGER,
    created_at            TEXT,
    text                  TEXT,
    lang                  TEXT,
    in_reply_to_status_id INTEGER,
    retweeted_status_id   INTEGER,
    quoted_status_id      INTEGER,
    longitude             REAL,
    latitude              REAL,
    place                 TEXT,
    withheld_in_countries TEXT    NOT NULL DEFAULT '[]',
    geo_scrubbed          INTEGER NOT NULL DEFAULT 0,
    stream                TEXT    NOT NULL,
    first_seen_at         TEXT    NOT NULL,
    last_seen_at          TEXT    NOT NULL,
    raw                   TEXT    NOT NULL
);
-- A delete must reach the pure retweets of the deleted status.
CREATE INDEX tweets_retweeted ON tweets (retweeted_status_id) WHERE retweeted_status_id IS NOT NULL;
-- scrub_geo only ever touches located statuses: a partial index keeps it cheap for prolific users.
CREATE INDEX tweets_located ON tweets (user_id, tweet_id)
    WHERE longitude IS NOT NULL OR latitude IS NOT NULL OR place IS NOT NULL;

CREATE TABLE users (
    user_id               BIGINT NOT NULL PRIMARY KEY,
    screen_name           TEXT,
    withheld_in_countries TEXT NOT NULL DEFAULT '[]',
    raw                   TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);

CREATE TABLE events (
    event_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    stream        TEXT NOT NULL,
    connection_id INTEGER,
    received_at   TEXT NOT NULL,
    kind          TEXT NOT NULL,
    for_user      INTEGER,
    tweet_id      INTEGER,
    raw           TEXT
);

CREATE TABLE rejects (
    reject_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    stream        TEXT NOT NULL,
    connection_id INTEGER,
    received_at   TEXT NOT NULL,
    reason        TEXT NOT NULL,
    raw           BLOB NOT NULL
);

CREATE TABLE deletions (
    tweet_id             INTEGER PRIMARY KEY,
    user_id              INTEGER,
    notice_received_at   TEXT    NOT NULL,
    applied_at           TEXT    NOT NULL,
    arrived_before_tweet INTEGER NOT NULL,
    -- When a copy of the status first arrived after its notice (NULL: still waiting, or never).
    tweet_arrived_at     TEXT
);

CREATE TABLE geo_scrubs (
    user_id            INTEGER NOT NULL,
    up_to_status_id    INTEGER NOT NULL,
    notice_received_at TEXT    NOT NULL,
    applied_at         TEXT    NOT NULL,
    tweets_scrubbed    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, up_to_status_id)
);

CREATE TABLE withholdings (
    target                TEXT    NOT NULL CHECK (target IN ('status', 'user')),
    target_id             INTEGER NOT NULL,
    withheld_in_countries TEXT    NOT NULL,
    notice_received_at    TEXT    NOT NULL,
    applied_at            TEXT    NOT NULL,
    PRIMARY KEY (target, target_id)
);

CREATE TABLE compliance_actions (
    action_id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind               TEXT    NOT NULL,
    target_id          INTEGER NOT NULL,
    user_id            INTEGER,
    notice_received_at TEXT    NOT NULL,
    applied_at         TEXT    NOT NULL,
    rows_affected      INTEGER NOT NULL,
    deferred           INTEGER NOT NULL
);

CREATE TABLE connections (
    connection_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    stream          TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    connected_at    TEXT,
    ended_at        TEXT,
    end_reason      TEXT,
    http_status     INTEGER,
    disconnect_code INTEGER,
    messages        INTEGER NOT NULL DEFAULT 0,
    bytes           INTEGER NOT NULL DEFAULT 0,
    backoff_ms      INTEGER
);

CREATE TABLE disconnects (
    connection_id INTEGER,
    received_at   TEXT    NOT NULL,
    code          INTEGER NOT NULL,
    code_name     TEXT    NOT NULL,
    stream_name   TEXT,
    reason        TEXT,
    stream        TEXT    NOT NULL
);

CREATE TABLE limits (
    connection_id INTEGER,
    received_at   TEXT    NOT NULL,
    track         INTEGER NOT NULL,
    stream        TEXT    NOT NULL
);

CREATE TABLE warnings (
    connection_id INTEGER,
    received_at   TEXT NOT NULL,
    code          TEXT,
    message       TEXT,
    percent_full  INTEGER,
    user_id       INTEGER,
    stream        TEXT NOT NULL
);

CREATE TABLE user_events (
    event            TEXT NOT NULL,
    created_at       TEXT,
    source_user_id   INTEGER,
    target_user_id   INTEGER,
    target_object_id INTEGER,
    for_user         INTEGER,
    raw              TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    stream           TEXT NOT NULL
);

CREATE TABLE live_sessions (
    session_id              TEXT NOT NULL,
    stream                  TEXT NOT NULL,
    connection_id           INTEGER,
    subscription_ttl_millis INTEGER,
    heartbeat_millis        INTEGER,
    started_at              TEXT NOT NULL
);

CREATE TABLE engagement_samples (
    sample_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    tweet_id         INTEGER NOT NULL,
    observed_at      TEXT    NOT NULL,
    like_count       INTEGER,
    retweet_count    INTEGER,
    view_count       INTEGER,
    view_count_state TEXT,
    quote_count      INTEGER,
    reply_count      INTEGER,
    session_id       TEXT
);
CREATE INDEX engagement_samples_tweet ON engagement_samples (tweet_id, observed_at);

CREATE TABLE dm_activity (
    kind            TEXT NOT NULL CHECK (kind IN ('update', 'typing')),
    conversation_id TEXT NOT NULL,
    user_id         INTEGER,
    observed_at     TEXT NOT NULL,
    session_id      TEXT
);

-- Per tweet, the latest known value of every count, carried forward over samples that omit it.
CREATE VIEW engagement_latest AS
SELECT t.tweet_id,
    (SELECT s.like_count FROM engagement_samples s WHERE s.tweet_id = t.tweet_id AND s.like_count IS NOT NULL
      ORDER BY s.observed_at DESC, s.sample_id DESC LIMIT 1) AS like_count,
    (SELECT s.retweet_count FROM engagement_samples s WHERE s.tweet_id = t.tweet_id AND s.retweet_count IS NOT NULL
      ORDER BY s.observed_at DESC, s.sample_id DESC LIMIT 1) AS retweet_count,
    (SELECT s.view_count FROM engagement_samples s WHERE s.tweet_id = t.tweet_id AND s.view_count IS NOT NULL
      ORDER BY s.observed_at DESC, s.sample_id DESC LIMIT 1) AS view_count,
    (SELECT s.view_count_state FROM engagement_samples s WHERE s.tweet_id = t.tweet_id AND s.view_count_state IS NOT NULL
      ORDER BY s.observed_at DESC, s.sample_id DESC LIMIT 1) AS view_count_state,
    (SELECT s.quote_count FROM engagement_samples s WHERE s.tweet_id = t.tweet_id AND s.quote_count IS NOT NULL
      ORDER BY s.observed_at DESC, s.sample_id DESC LIMIT 1) AS quote_count,
    (SELECT s.reply_count FROM engagement_samples s WHERE s.tweet_id = t.tweet_id AND s.reply_count IS NOT NULL
      ORDER BY s.observed_at DESC, s.sample_id DESC LIMIT 1) AS reply_count,
    t.observed_at
FROM (SELECT tweet_id, MAX(observed_at) AS observed_at FROM engagement_samples GROUP BY tweet_id) t;
