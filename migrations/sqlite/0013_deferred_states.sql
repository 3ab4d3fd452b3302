-- Deferred applications of the v2 compliance events (issue 20): a Post that arrives after its
-- `drop`, its author's state or a `withheld` is audited under the event's own name.

-- The kind of the notice that first stated a withholding (`status_withheld`, `withheld` or
-- `user_withheld`): its applications to later arrivals are audited under it. Rows from before
-- this migration: `withheld` where a v2 event withheld the Post (its audit row says so) and no
-- v1.1 notice did, else NULL (the v1.1 kind of its target).
ALTER TABLE withholdings ADD COLUMN kind TEXT;
UPDATE withholdings SET kind = 'withheld'
WHERE target = 'status'
  AND EXISTS (SELECT 1 FROM compliance_actions a
              WHERE a.kind = 'withheld' AND a.target_id = withholdings.target_id)
  AND NOT EXISTS (SELECT 1 FROM compliance_actions a
                  WHERE a.kind = 'status_withheld' AND a.target_id = withholdings.target_id);

-- The notice filter (0003) learns the Posts and users a state event concerns, so the lookup of
-- a batch whose Posts no state concerns stays skipped: kind 4 a Post's drop, kind 5 a user's
-- state (`edited` marks are no state).
INSERT INTO notice_keys (kind, key)
    SELECT DISTINCT 4, target_id FROM state_changes WHERE target = 'tweet' AND state = 'dropped';
INSERT INTO notice_keys (kind, key)
    SELECT DISTINCT 5, target_id FROM state_changes WHERE target = 'user';

CREATE TRIGGER state_changes_notice_key AFTER INSERT ON state_changes
WHEN NEW.target = 'user' OR NEW.state = 'dropped'
BEGIN
    INSERT INTO notice_keys (kind, key)
        VALUES (CASE NEW.target WHEN 'tweet' THEN 4 ELSE 5 END, NEW.target_id);
END;
