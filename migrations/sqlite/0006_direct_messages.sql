-- Direct messages get a home of their own, as statuses have: their content lives in one
-- `direct_messages` row (events keep the id in `events.dm_id` and a NULL `raw`), so that a
-- direct-message delete erases it in one place. `dm_deletions` remembers every such notice, so a
-- message that arrives after its delete is never stored (as `deletions` does for statuses).
CREATE TABLE direct_messages (
    dm_id         BIGINT NOT NULL PRIMARY KEY,
    sender_id     INTEGER,
    recipient_id  INTEGER,
    created_at    TEXT,
    text          TEXT,
    stream        TEXT   NOT NULL,
    first_seen_at TEXT   NOT NULL,
    last_seen_at  TEXT   NOT NULL,
    raw           TEXT   NOT NULL
);

CREATE TABLE dm_deletions (
    dm_id                  BIGINT  NOT NULL PRIMARY KEY,
    user_id                INTEGER,
    notice_received_at     TEXT    NOT NULL,
    applied_at             TEXT    NOT NULL,
    -- The notice erased nothing: it came before any copy of the message.
    arrived_before_message INTEGER NOT NULL,
    -- When a copy of the message first arrived after its notice (NULL: still waiting, or never).
    message_arrived_at     TEXT
);

ALTER TABLE events ADD COLUMN dm_id INTEGER;

-- Direct messages archived before this version live in `events.raw` (the line as received, a
-- site-stream envelope included): each one with a usable id moves to `direct_messages` (the
-- first copy's row, `created_at` left NULL: `raw` has it) and its events keep only the id.
-- Every JSON function is guarded by CASE, so no stored line can fail the migration.
CREATE TEMP TABLE legacy_dm AS
SELECT event_id, stream, received_at, dm, NULL AS dm_id FROM (
    SELECT event_id, stream, received_at,
        CASE WHEN NOT json_valid(raw) THEN NULL
             WHEN json_type(raw, '$.direct_message') = 'object'
                 THEN json_extract(raw, '$.direct_message')
             WHEN json_type(raw, '$.message.direct_message') = 'object'
                 THEN json_extract(raw, '$.message.direct_message')
        END AS dm
    FROM events WHERE kind = 'direct_message' AND raw IS NOT NULL
) WHERE dm IS NOT NULL;

-- The id from `id_str` when it is a decimal 64-bit integer, else from a non-negative `id`.
UPDATE legacy_dm SET dm_id = CASE
    WHEN json_type(dm, '$.id_str') = 'text'
         AND json_extract(dm, '$.id_str') <> ''
         AND json_extract(dm, '$.id_str') NOT GLOB '*[^0-9]*'
         AND (length(json_extract(dm, '$.id_str')) < 19
              OR (length(json_extract(dm, '$.id_str')) = 19
                  AND json_extract(dm, '$.id_str') <= '9223372036854775807'))
        THEN CAST(json_extract(dm, '$.id_str') AS INTEGER)
    WHEN json_type(dm, '$.id') = 'integer' AND json_extract(dm, '$.id') >= 0
        THEN json_extract(dm, '$.id')
END;

INSERT INTO direct_messages (dm_id, sender_id, recipient_id, created_at, text, stream,
                             first_seen_at, last_seen_at, raw)
SELECT dm_id,
    CASE WHEN json_type(dm, '$.sender_id') = 'integer' THEN json_extract(dm, '$.sender_id') END,
    CASE WHEN json_type(dm, '$.recipient_id') = 'integer'
        THEN json_extract(dm, '$.recipient_id') END,
    NULL,
    CASE WHEN json_type(dm, '$.text') = 'text' THEN json_extract(dm, '$.text') END,
    stream, received_at, received_at, dm
FROM legacy_dm WHERE dm_id IS NOT NULL ORDER BY event_id
ON CONFLICT (dm_id) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at);

UPDATE events SET
    dm_id = (SELECT l.dm_id FROM legacy_dm l WHERE l.event_id = events.event_id),
    raw = NULL
WHERE event_id IN (SELECT event_id FROM legacy_dm WHERE dm_id IS NOT NULL);

DROP TABLE legacy_dm;
