-- The batch compliance sweep (issue 20): X's compliance jobs API run over the archive's ids.
--
-- Every audit row says where its verdict came from: a notice read on a stream ('stream', every
-- row before this migration) or a verdict of a compliance job ('sweep'), with the job's reason
-- (`deleted`, `protected`, `suspended`, `deactivated`, `scrub_geo`, ...; NULL for stream notices).
ALTER TABLE compliance_actions ADD COLUMN source TEXT NOT NULL DEFAULT 'stream'
    CHECK (source IN ('stream', 'sweep'));
ALTER TABLE compliance_actions ADD COLUMN reason TEXT;

-- One row per compliance job the sweep created (or is about to create): enough to continue the
-- same job after a restart, even after kill -9. `name` is ours (sent as the job's name, so a job
-- created just before a crash is recognised on the server); `job_id` is the server's, NULL until
-- the create answered.
CREATE TABLE compliance_jobs (
    name           TEXT    PRIMARY KEY,
    job_id         TEXT,
    job_type       TEXT    NOT NULL CHECK (job_type IN ('tweets', 'users')),
    run_id         TEXT    NOT NULL,
    chunk          INTEGER NOT NULL,
    attempt        INTEGER NOT NULL,
    status         TEXT    NOT NULL,
    since          TEXT,
    first_id       INTEGER NOT NULL,
    last_id        INTEGER NOT NULL,
    ids            INTEGER NOT NULL,
    last_chunk     INTEGER NOT NULL,
    exported_at    TEXT    NOT NULL,
    uploaded_at    TEXT,
    completed_at   TEXT,
    lines_applied  INTEGER NOT NULL DEFAULT 0,
    verdicts_applied INTEGER NOT NULL DEFAULT 0,
    verdicts_kept  INTEGER NOT NULL DEFAULT 0,
    malformed_lines INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    finished_at    TEXT
);
CREATE INDEX compliance_jobs_open ON compliance_jobs (job_type, created_at);

-- Verdicts the sweep kept without applying: an action or reason this version does not know, or
-- a verdict on an id that is not archived any more. Ids, words and times only: no content.
CREATE TABLE compliance_verdicts (
    job_name    TEXT    NOT NULL,
    line        INTEGER NOT NULL,
    target      TEXT    NOT NULL,
    target_id   INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    reason      TEXT,
    created_at  TEXT,
    redacted_at TEXT,
    outcome     TEXT    NOT NULL,
    PRIMARY KEY (job_name, line)
);

-- When each archived id was last verified by a completed job (`target` 'tweet' or 'user').
CREATE TABLE compliance_verified (
    target      TEXT    NOT NULL,
    id          INTEGER NOT NULL,
    verified_at TEXT    NOT NULL,
    job_name    TEXT    NOT NULL,
    PRIMARY KEY (target, id)
);
