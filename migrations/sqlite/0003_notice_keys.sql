-- Every key a compliance notice concerns (deleted tweet, scrubbed user, withheld tweet or user),
-- in the order recorded, kept by triggers whoever writes the archive. The writer holds a filter
-- of these keys in memory and reads only what was added since its last batch (one indexed
-- query), so a batch whose statuses and users no notice concerns skips the compliance lookup.
-- kind: 0 deleted tweet, 1 scrubbed user, 2 withheld tweet, 3 withheld user.
CREATE TABLE notice_keys (
    seq  INTEGER PRIMARY KEY,
    kind INTEGER NOT NULL,
    key  INTEGER NOT NULL
);

INSERT INTO notice_keys (kind, key) SELECT 0, tweet_id FROM deletions;
INSERT INTO notice_keys (kind, key) SELECT 1, user_id FROM geo_scrubs;
INSERT INTO notice_keys (kind, key)
    SELECT CASE target WHEN 'status' THEN 2 ELSE 3 END, target_id FROM withholdings;

CREATE TRIGGER deletions_notice_key AFTER INSERT ON deletions
BEGIN
    INSERT INTO notice_keys (kind, key) VALUES (0, NEW.tweet_id);
END;

CREATE TRIGGER geo_scrubs_notice_key AFTER INSERT ON geo_scrubs
BEGIN
    INSERT INTO notice_keys (kind, key) VALUES (1, NEW.user_id);
END;

CREATE TRIGGER withholdings_notice_key AFTER INSERT ON withholdings
BEGIN
    INSERT INTO notice_keys (kind, key)
        VALUES (CASE NEW.target WHEN 'status' THEN 2 ELSE 3 END, NEW.target_id);
END;
