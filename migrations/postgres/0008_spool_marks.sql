-- Spool marks: the last batch of each daemon run (`run_id`) whose records a spool
-- (`spool_id`, the id in its directory) may hold, committed in the same transaction as the
-- batch. A drain skips the spooled batches already committed, so a kill -9 between a drain's
-- commit and the spool's cursor write, or a commit a stop abandoned that landed anyway, does
-- not archive them twice. One row per run; a spool found empty forgets its older runs.
CREATE TABLE spool_marks (
    spool_id TEXT    NOT NULL,
    run_id   BIGINT  NOT NULL,
    batch    BIGINT  NOT NULL,
    PRIMARY KEY (spool_id, run_id)
);
