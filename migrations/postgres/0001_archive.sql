-- The streamvault archive, PostgreSQL dialect (same tables and columns as the SQLite one).

CREATE TABLE tweets (
    tweet_id              BIGINT PRIMARY KEY,
    user_id               BIGINT,
    created_at            TIMESTAMPTZ,
    text                  TEXT,
    lang                  TEXT,
    in_reply_to_status_id BIGINT,
    retweeted_status_id   BIGINT,
    quoted_status_id      BIGINT,
    longitude             DOUBLE PRECISION,
    latitude              DOUBLE PRECISION,
    place                 JSONB,
    withheld_in_countries JSONB    NOT NULL DEFAULT '[]'::jsonb,
    geo_scrubbed          BOOLEAN NOT NULL DEFAULT FALSE,
    stream                TEXT    NOT NULL,
    first_seen_at         TIMESTAMPTZ    NOT NULL,
    last_seen_at          TIMESTAMPTZ    NOT NULL,
    raw                   JSONB    NOT NULL
);
-- A delete must reach the pure retweets of the deleted status.
CREATE INDEX tweets_retweeted ON tweets (retweeted_status_id) WHERE retweeted_status_id IS NOT NULL;
-- scrub_geo only ever touches located statuses: a partial index keeps it cheap for prolific users.
CREATE INDEX tweets_located ON tweets (user_id, tweet_id)
    WHERE longitude IS NOT NULL OR latitude IS NOT NULL OR place IS NOT NULL;

CREATE TABLE users (
    user_id               BIGINT PRIMARY KEY,
    screen_name           TEXT,
    withheld_in_countries JSONB NOT NULL DEFAULT '[]'::jsonb,
    raw                   JSONB NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);

CREATE TABLE events (
    event_id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream        TEXT NOT NULL,
    connection_id BIGINT,
    received_at   TIMESTAMPTZ NOT NULL,
    kind          TEXT NOT NULL,
    for_user      BIGINT,
    tweet_id      BIGINT,
    raw           JSONB
);

CREATE TABLE rejects (
    reject_id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream        TEXT NOT NULL,
    connection_id BIGINT,
    received_at   TIMESTAMPTZ NOT NULL,
    reason        TEXT NOT NULL,
    raw           BYTEA NOT NULL
);

CREATE TABLE deletions (
    tweet_id             BIGINT PRIMARY KEY,
    user_id              BIGINT,
    notice_received_at   TIMESTAMPTZ    NOT NULL,
    applied_at           TIMESTAMPTZ    NOT NULL,
    arrived_before_tweet BOOLEAN NOT NULL,
    -- When a copy of the status first arrived after its notice (NULL: still waiting, or never).
    tweet_arrived_at     TIMESTAMPTZ
);

CREATE TABLE geo_scrubs (
    user_id            BIGINT NOT NULL,
    up_to_status_id    BIGINT NOT NULL,
    notice_received_at TIMESTAMPTZ    NOT NULL,
    applied_at         TIMESTAMPTZ    NOT NULL,
    tweets_scrubbed    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, up_to_status_id)
);

CREATE TABLE withholdings (
    target                TEXT    NOT NULL CHECK (target IN ('status', 'user')),
    target_id             BIGINT NOT NULL,
    withheld_in_countries JSONB    NOT NULL,
    notice_received_at    TIMESTAMPTZ    NOT NULL,
    applied_at            TIMESTAMPTZ    NOT NULL,
    PRIMARY KEY (target, target_id)
);

CREATE TABLE compliance_actions (
    action_id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind               TEXT    NOT NULL,
    target_id          BIGINT NOT NULL,
    user_id            BIGINT,
    notice_received_at TIMESTAMPTZ    NOT NULL,
    applied_at         TIMESTAMPTZ    NOT NULL,
    rows_affected      BIGINT NOT NULL,
    deferred           BOOLEAN NOT NULL
);

CREATE TABLE connections (
    connection_id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream          TEXT NOT NULL,
    started_at      TIMESTAMPTZ NOT NULL,
    connected_at    TIMESTAMPTZ,
    ended_at        TIMESTAMPTZ,
    end_reason      TEXT,
    http_status     BIGINT,
    disconnect_code BIGINT,
    messages        BIGINT NOT NULL DEFAULT 0,
    bytes           BIGINT NOT NULL DEFAULT 0,
    backoff_ms      BIGINT
);

CREATE TABLE disconnects (
    connection_id BIGINT,
    received_at   TIMESTAMPTZ    NOT NULL,
    code          BIGINT NOT NULL,
    code_name     TEXT    NOT NULL,
    stream_name   TEXT,
    reason        TEXT,
    stream        TEXT    NOT NULL
);

CREATE TABLE limits (
    connection_id BIGINT,
    received_at   TIMESTAMPTZ    NOT NULL,
    track         BIGINT NOT NULL,
    stream        TEXT    NOT NULL
);

CREATE TABLE warnings (
    connection_id BIGINT,
    received_at   TIMESTAMPTZ NOT NULL,
    code          TEXT,
    message       TEXT,
    percent_full  BIGINT,
    user_id       BIGINT,
    stream        TEXT NOT NULL
);

CREATE TABLE user_events (
    event            TEXT NOT NULL,
    created_at       TIMESTAMPTZ,
    source_user_id   BIGINT,
    target_user_id   BIGINT,
    target_object_id BIGINT,
    for_user         BIGINT,
    raw              JSONB NOT NULL,
    received_at      TIMESTAMPTZ NOT NULL,
    stream           TEXT NOT NULL
);

CREATE TABLE live_sessions (
    session_id              TEXT NOT NULL,
    stream                  TEXT NOT NULL,
    connection_id           BIGINT,
    subscription_ttl_millis BIGINT,
    heartbeat_millis        BIGINT,
    started_at              TIMESTAMPTZ NOT NULL
);

CREATE TABLE engagement_samples (
    sample_id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tweet_id         BIGINT NOT NULL,
    observed_at      TIMESTAMPTZ    NOT NULL,
    like_count       BIGINT,
    retweet_count    BIGINT,
    view_count       BIGINT,
    view_count_state TEXT,
    quote_count      BIGINT,
    reply_count      BIGINT,
    session_id       TEXT
);
CREATE INDEX engagement_samples_tweet ON engagement_samples (tweet_id, observed_at);

CREATE TABLE dm_activity (
    kind            TEXT NOT NULL CHECK (kind IN ('update', 'typing')),
    conversation_id TEXT NOT NULL,
    user_id         BIGINT,
    observed_at     TIMESTAMPTZ NOT NULL,
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
