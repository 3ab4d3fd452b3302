-- scrub_geo must reach location that only `raw` holds: a point in a shape the typed columns
-- cannot take (a string, an object without a readable point) or from an older decoder that read
-- only two-number points. The decoder now flags every status whose raw has a `coordinates`,
-- `geo` or `place` that is not null (`located`), and the scrub's index covers exactly those.
ALTER TABLE tweets ADD COLUMN located INTEGER NOT NULL DEFAULT 0;

UPDATE tweets SET located = 1
 WHERE longitude IS NOT NULL OR latitude IS NOT NULL OR place IS NOT NULL;

-- One pass over the older rows' JSON (a raw SQLite cannot read is left alone, not an error).
UPDATE tweets SET located = 1
 WHERE located = 0
   AND CASE WHEN json_valid(raw) THEN
         json_type(raw, '$.coordinates') <> 'null'
         OR json_type(raw, '$.geo') <> 'null'
         OR json_type(raw, '$.place') <> 'null'
       END;

-- Scrubs already recorded now reach what they missed.
UPDATE tweets SET longitude = NULL, latitude = NULL, place = NULL, geo_scrubbed = 1, located = 0,
       raw = json_remove(raw, '$.coordinates', '$.geo', '$.place')
 WHERE located = 1 AND CASE WHEN json_valid(raw) THEN 1 ELSE 0 END
   AND EXISTS (SELECT 1 FROM geo_scrubs g
                WHERE g.user_id = tweets.user_id AND tweets.tweet_id <= g.up_to_status_id);

DROP INDEX tweets_located;
CREATE INDEX tweets_located ON tweets (user_id, tweet_id) WHERE located = 1;
