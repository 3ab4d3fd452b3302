-- X API v2 compliance streams (issue 20): states that hide without erasing, edit chains,
-- profile changes, and the views meant for showing and sharing.

-- Each user's current states. A flag takes the value of the event with the latest event_at
-- (its `*_at`), whatever order the events arrive in; at equal times "on" wins.
CREATE TABLE user_states (
    user_id           INTEGER PRIMARY KEY,
    deleted           INTEGER NOT NULL DEFAULT 0,
    deleted_at        TEXT,
    protected         INTEGER NOT NULL DEFAULT 0,
    protected_at      TEXT,
    suspended         INTEGER NOT NULL DEFAULT 0,
    suspended_at      TEXT,
    -- When `compliance.user_delete_erases_after_days` erased the user's Posts (NULL: not).
    content_erased_at TEXT
);

-- Each dropped (or undropped) Post's current state, as for user_states.
CREATE TABLE tweet_drops (
    tweet_id  INTEGER PRIMARY KEY,
    author_id INTEGER,
    dropped   INTEGER NOT NULL,
    event_at  TEXT    NOT NULL
);

-- The history of every state change (`tweet`: `dropped`, `edited`; `user`: `deleted`,
-- `protected`, `suspended`), one row per event: a repeated event adds nothing.
CREATE TABLE state_changes (
    target             TEXT    NOT NULL CHECK (target IN ('tweet', 'user')),
    target_id          INTEGER NOT NULL,
    state              TEXT    NOT NULL,
    value              INTEGER NOT NULL,
    event_at           TEXT    NOT NULL,
    notice_received_at TEXT    NOT NULL,
    applied_at         TEXT    NOT NULL,
    PRIMARY KEY (target, target_id, state, event_at, value)
);

-- Edit chains: every known version's id and its chain's first id, from `tweet_edit` events
-- and from Posts' `edit_history_tweet_ids`. The newest version is the chain's largest id.
CREATE TABLE edit_chains (
    tweet_id         INTEGER PRIMARY KEY,
    initial_tweet_id INTEGER NOT NULL,
    recorded_at      TEXT    NOT NULL
);
CREATE INDEX edit_chains_by_initial ON edit_chains (initial_tweet_id, tweet_id);

-- `user_profile_modification` events. The newest of each field is applied to users.raw (its
-- `member`, NULL for fields the archive does not keep) when it is newer than the stored profile
-- (users.updated_at), on arrival and whenever a profile arrives.
CREATE TABLE profile_modifications (
    user_id            INTEGER NOT NULL,
    profile_field      TEXT    NOT NULL,
    new_value          TEXT    NOT NULL,
    member             TEXT,
    event_at           TEXT    NOT NULL,
    notice_received_at TEXT    NOT NULL,
    applied_at         TEXT    NOT NULL,
    PRIMARY KEY (user_id, profile_field, event_at)
);

-- The countries the visible views show to: what is withheld in any of them (or in `XX`, all
-- countries) is left out. Empty: no country filter.
CREATE TABLE viewer_country (
    country TEXT PRIMARY KEY CHECK (length(country) = 2 AND country = upper(country))
);

-- Posts that may be shown or shared: not dropped, not a superseded edit version, author not
-- deleted, protected or suspended, not withheld in a viewer country. (Deleted Posts are gone.)
CREATE VIEW tweets_visible AS
SELECT t.* FROM tweets t
WHERE NOT EXISTS (SELECT 1 FROM tweet_drops d WHERE d.tweet_id = t.tweet_id AND d.dropped)
  AND NOT EXISTS (SELECT 1 FROM user_states s
                  WHERE s.user_id = t.user_id AND (s.deleted OR s.protected OR s.suspended))
  AND NOT EXISTS (SELECT 1 FROM edit_chains c
                  JOIN edit_chains n ON n.initial_tweet_id = c.initial_tweet_id
                  WHERE c.tweet_id = t.tweet_id AND n.tweet_id > c.tweet_id)
  AND NOT EXISTS (SELECT 1 FROM viewer_country v, json_each(t.withheld_in_countries) w
                  WHERE w.value IN (v.country, 'XX'))
  AND NOT EXISTS (SELECT 1 FROM viewer_country v, users u, json_each(u.withheld_in_countries) w
                  WHERE u.user_id = t.user_id AND w.value IN (v.country, 'XX'));

-- Users who may be shown: not deleted, protected or suspended, not withheld in a viewer country.
CREATE VIEW users_visible AS
SELECT u.* FROM users u
WHERE NOT EXISTS (SELECT 1 FROM user_states s
                  WHERE s.user_id = u.user_id AND (s.deleted OR s.protected OR s.suspended))
  AND NOT EXISTS (SELECT 1 FROM viewer_country v, json_each(u.withheld_in_countries) w
                  WHERE w.value IN (v.country, 'XX'));
