-- Direct messages get a home of their own, as statuses have: their content lives in one
-- `direct_messages` row (events keep the id in `events.dm_id` and a NULL `raw`), so that a
-- direct-message delete erases it in one place. `dm_deletions` remembers every such notice, so a
-- message that arrives after its delete is never stored (as `deletions` does for statuses).
CREATE TABLE direct_messages (
    dm_id         BIGINT PRIMARY KEY,
    sender_id     BIGINT,
    recipient_id  BIGINT,
    created_at    TIMESTAMPTZ,
    text          TEXT,
    stream        TEXT        NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    raw           JSONB       NOT NULL
);

CREATE TABLE dm_deletions (
    dm_id                  BIGINT PRIMARY KEY,
    user_id                BIGINT,
    notice_received_at     TIMESTAMPTZ NOT NULL,
    applied_at             TIMESTAMPTZ NOT NULL,
    -- The notice erased nothing: it came before any copy of the message.
    arrived_before_message BOOLEAN     NOT NULL,
    -- When a copy of the message first arrived after its notice (NULL: still waiting, or never).
    message_arrived_at     TIMESTAMPTZ
);

ALTER TABLE events ADD COLUMN dm_id BIGINT;

-- Direct messages archived before this version live in `events.raw` (the line as received, a
-- site-stream envelope included): each one with a usable id moves to `direct_messages` (the
-- first copy's row, `created_at` left NULL: `raw` has it) and its events keep only the id.
-- Every cast is guarded by CASE (which, unlike AND, fixes the order of evaluation), so no
-- stored line can fail the migration.
CREATE TEMP TABLE legacy_dm ON COMMIT DROP AS
SELECT event_id, stream, received_at, dm, NULL::bigint AS dm_id FROM (
    SELECT event_id, stream, received_at,
        CASE WHEN jsonb_typeof(raw -> 'direct_message') = 'object' THEN raw -> 'direct_message'
             WHEN jsonb_typeof(raw -> 'message' -> 'direct_message') = 'object'
                 THEN raw -> 'message' -> 'direct_message'
        END AS dm
    FROM events WHERE kind = 'direct_message' AND raw IS NOT NULL
) e WHERE dm IS NOT NULL;

-- The id from `id_str` when it is a decimal 64-bit integer, else from a non-negative `id`.
UPDATE legacy_dm SET dm_id = COALESCE(
    CASE WHEN jsonb_typeof(dm -> 'id_str') = 'string' AND (dm ->> 'id_str') ~ '^[0-9]{1,19}$'
        THEN CASE WHEN (dm ->> 'id_str')::numeric <= 9223372036854775807
            THEN (dm ->> 'id_str')::numeric::bigint END
    END,
    CASE WHEN jsonb_typeof(dm -> 'id') = 'number' AND (dm ->> 'id') ~ '^[0-9]{1,19}$'
        THEN CASE WHEN (dm ->> 'id')::numeric <= 9223372036854775807
            THEN (dm ->> 'id')::numeric::bigint END
    END
);

INSERT INTO direct_messages (dm_id, sender_id, recipient_id, created_at, text, stream,
                             first_seen_at, last_seen_at, raw)
SELECT DISTINCT ON (dm_id) dm_id,
    CASE WHEN jsonb_typeof(dm -> 'sender_id') = 'number' AND (dm ->> 'sender_id') ~ '^[0-9]{1,18}$'
        THEN (dm ->> 'sender_id')::bigint END,
    CASE WHEN jsonb_typeof(dm -> 'recipient_id') = 'number'
              AND (dm ->> 'recipient_id') ~ '^[0-9]{1,18}$'
        THEN (dm ->> 'recipient_id')::bigint END,
    NULL,
    CASE WHEN jsonb_typeof(dm -> 'text') = 'string' THEN dm ->> 'text' END,
    stream, received_at,
    MAX(received_at) OVER (PARTITION BY dm_id),
    dm
FROM legacy_dm WHERE dm_id IS NOT NULL ORDER BY dm_id, event_id;

UPDATE events SET dm_id = l.dm_id, raw = NULL
FROM legacy_dm l WHERE l.event_id = events.event_id AND l.dm_id IS NOT NULL;
