-- X API v2: the backfill_minutes a connection asked for (0: none; NULL: a family without
-- backfill), so that the report can tell how much of the gap before it was recovered.
ALTER TABLE connections ADD COLUMN backfill_minutes BIGINT;
