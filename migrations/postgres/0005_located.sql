-- scrub_geo must reach location that only `raw` holds: a point in a shape the typed columns
-- cannot take (a string, an object without a readable point) or from an older decoder that read
-- only two-number points. The decoder now flags every status whose raw has a `coordinates`,
-- `geo` or `place` that is not null (`located`), and the scrub's index covers exactly those.
ALTER TABLE tweets ADD COLUMN located BOOLEAN NOT NULL DEFAULT FALSE;

UPDATE tweets SET located = TRUE
 WHERE longitude IS NOT NULL OR latitude IS NOT NULL OR place IS NOT NULL
    OR jsonb_typeof(raw -> 'coordinates') <> 'null'
    OR jsonb_typeof(raw -> 'geo') <> 'null'
    OR jsonb_typeof(raw -> 'place') <> 'null';

-- Scrubs already recorded now reach what they missed.
UPDATE tweets SET longitude = NULL, latitude = NULL, place = NULL, geo_scrubbed = TRUE,
       located = FALSE, raw = raw - 'coordinates' - 'geo' - 'place'
 WHERE located
   AND EXISTS (SELECT 1 FROM geo_scrubs g
                WHERE g.user_id = tweets.user_id AND tweets.tweet_id <= g.up_to_status_id);

DROP INDEX tweets_located;
CREATE INDEX tweets_located ON tweets (user_id, tweet_id) WHERE located;
