-- Purges owed: a batch that erased archived content (a delete, a scrub) records one row here in
-- its own transaction, so the promise to purge the old bytes from the files within
-- `purge_within_secs` survives a kill -9; the writer deletes the rows once the purge ran, and a
-- daemon starting on an archive that still holds some purges when they fall due (at once when
-- they are overdue).
CREATE TABLE purges_due (
    purge_id    BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    erased_at   TIMESTAMPTZ NOT NULL,
    rows_erased BIGINT      NOT NULL
);
