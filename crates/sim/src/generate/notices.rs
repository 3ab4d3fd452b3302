//! The notices a stream interleaves with statuses: `delete`, `scrub_geo`, `status_withheld`,
//! `user_withheld` and `limit`.

use rand::Rng;

use super::StreamGenerator;
use super::json::put_u64;
use super::memory::{PENDING_CAP, Pending};
use super::words::WITHHELD_COUNTRIES;
use super::world::{WORKER_UNSEEN_DELETE, snowflake};

impl StreamGenerator {
    /// A `delete` notice: mostly for a remembered status, else for an id the stream never
    /// showed, or for one it announces now and emits within a minute.
    pub(super) fn write_delete(&mut self, out: &mut Vec<u8>) {
        let u: f64 = self.rng.random();
        let (id, user) = if u < 0.80 && !self.ring_ids.is_empty() {
            self.ring_pick()
        } else if u < 0.95 || self.pending.len() >= PENDING_CAP {
            let ago = self.rng.random_range(60_000..7 * 86_400_000);
            let worker = WORKER_UNSEEN_DELETE + self.rng.random_range(0..256);
            let id = snowflake(self.clock_ms - ago, worker, self.rng.random_range(0..4096));
            (id, self.world.zipf(&mut self.rng))
        } else {
            // Announce a status that will be emitted once the clock reaches its time.
            let due = self.clock_ms + self.rng.random_range(1_000..60_000);
            let id = snowflake(
                due,
                self.rng.random_range(0..WORKER_UNSEEN_DELETE),
                self.rng.random_range(0..4096),
            );
            let user = self.world.zipf(&mut self.rng);
            let seed = self.rng.random();
            let at = self.pending.partition_point(|p| p.id < id);
            self.pending.insert(
                at,
                Pending {
                    id,
                    ms: due,
                    user,
                    seed,
                },
            );
            (id, user)
        };
        let uid = self.world.user_id(user);
        out.extend_from_slice(b"{\"delete\":{\"status\":{\"id\":");
        put_u64(out, id);
        out.extend_from_slice(b",\"id_str\":\"");
        put_u64(out, id);
        out.extend_from_slice(b"\",\"user_id\":");
        put_u64(out, uid);
        out.extend_from_slice(b",\"user_id_str\":\"");
        put_u64(out, uid);
        out.extend_from_slice(b"\"}},\"timestamp_ms\":\"");
        put_u64(out, self.clock_ms as u64);
        out.extend_from_slice(b"\"}");
    }

    /// A `scrub_geo` notice for a user who posted, up to that user's latest status.
    pub(super) fn write_scrub_geo(&mut self, out: &mut Vec<u8>) {
        let (_, user) = self.ring_pick();
        let uid = self.world.user_id(user);
        let up_to = self.world.last_status[user as usize];
        out.extend_from_slice(b"{\"scrub_geo\":{\"user_id\":");
        put_u64(out, uid);
        out.extend_from_slice(b",\"user_id_str\":\"");
        put_u64(out, uid);
        out.extend_from_slice(b"\",\"up_to_status_id\":");
        put_u64(out, up_to);
        out.extend_from_slice(b",\"up_to_status_id_str\":\"");
        put_u64(out, up_to);
        out.extend_from_slice(b"\"}}");
    }

    /// A `status_withheld` notice for a remembered status.
    pub(super) fn write_status_withheld(&mut self, out: &mut Vec<u8>) {
        let (id, user) = self.ring_pick();
        out.extend_from_slice(b"{\"status_withheld\":{\"id\":");
        put_u64(out, id);
        out.extend_from_slice(b",\"user_id\":");
        put_u64(out, self.world.user_id(user));
        out.extend_from_slice(b",\"withheld_in_countries\":");
        self.put_countries(out);
        out.extend_from_slice(b"}}");
    }

    /// A `user_withheld` notice for a user who posted.
    pub(super) fn write_user_withheld(&mut self, out: &mut Vec<u8>) {
        let (_, user) = self.ring_pick();
        out.extend_from_slice(b"{\"user_withheld\":{\"id\":");
        put_u64(out, self.world.user_id(user));
        out.extend_from_slice(b",\"withheld_in_countries\":");
        self.put_countries(out);
        out.extend_from_slice(b"}}");
    }

    /// One to three country codes, fewer more often.
    fn put_countries(&mut self, out: &mut Vec<u8>) {
        let n = 1 + self
            .rng
            .random_range(0..3usize)
            .min(self.rng.random_range(0..3usize));
        let first = self.rng.random_range(0..WITHHELD_COUNTRIES.len());
        out.push(b'[');
        for k in 0..n {
            if k > 0 {
                out.push(b',');
            }
            out.push(b'"');
            out.extend_from_slice(
                WITHHELD_COUNTRIES[(first + k * 3) % WITHHELD_COUNTRIES.len()].as_bytes(),
            );
            out.push(b'"');
        }
        out.push(b']');
    }

    /// A `limit` notice, whose cumulative `track` only grows, as on a real connection.
    pub(super) fn write_limit(&mut self, out: &mut Vec<u8>) {
        self.track += self.rng.random_range(1..=400);
        out.extend_from_slice(b"{\"limit\":{\"track\":");
        put_u64(out, self.track);
        out.extend_from_slice(b",\"timestamp_ms\":\"");
        put_u64(out, self.clock_ms as u64);
        out.extend_from_slice(b"\"}}");
    }
}
