//! How long the sweep waits: between polls of a job, after a 429, after a failed request.
//! The numbers are the reconnect policy's (docs/operations.md): HTTP errors from 5 s doubling
//! to 320 s, 429s from 60 s doubling (or the server's reset time) capped at 15 min, every wait
//! multiplied by `reconnect.backoff_scale`.

use super::SweepError;
use super::api::ApiError;
use std::time::Duration;

/// The longest wait, as the reconnect policy's.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// Consecutive failed requests (not 429s) before the sweep gives up for now.
const MAX_FAILURES: u32 = 8;

/// The waits of one sweep.
#[derive(Debug)]
pub struct Waits {
    scale: f64,
    poll_max: Duration,
    polls: u32,
    failures: u32,
    rate_limits: u32,
}

impl Waits {
    /// Waits scaled by `scale`; polls at most `poll_max` apart.
    pub fn new(scale: f64, poll_max: Duration) -> Self {
        Waits {
            scale,
            poll_max,
            polls: 0,
            failures: 0,
            rate_limits: 0,
        }
    }

    /// A request succeeded: the error sequences start over.
    pub fn succeeded(&mut self) {
        self.failures = 0;
        self.rate_limits = 0;
    }

    /// A new job to poll: from the shortest interval again.
    pub fn new_job(&mut self) {
        self.polls = 0;
    }

    /// Waits before the next poll of a job: 2 s doubling up to `poll_max`.
    pub async fn poll(&mut self) {
        let nominal = Duration::from_secs(2u64.saturating_pow(self.polls.min(16) + 1));
        self.polls += 1;
        self.sleep(nominal.min(self.poll_max)).await;
    }

    /// Waits after a failed request as its error asks; `Err` when retrying cannot help (the
    /// token refused) or has not helped [`MAX_FAILURES`] times in a row.
    pub async fn after(&mut self, error: ApiError) -> Result<(), SweepError> {
        let wait = match &error {
            ApiError::Refused(_) => return Err(SweepError::Api(error)),
            ApiError::RateLimited(reset) => {
                self.rate_limits += 1;
                let backoff = exponential(60, self.rate_limits);
                tracing::warn!(wait_s = ?reset, "compliance jobs API rate limit (429): waiting");
                reset.unwrap_or(backoff)
            }
            ApiError::Conflict
            | ApiError::Http { .. }
            | ApiError::Network(_)
            | ApiError::Answer(_) => {
                self.failures += 1;
                if self.failures > MAX_FAILURES {
                    return Err(SweepError::Api(error));
                }
                tracing::warn!(error = %error, attempt = self.failures, "compliance jobs API request failed: retrying");
                exponential(5, self.failures).min(Duration::from_secs(320))
            }
        };
        self.sleep(wait.min(MAX_WAIT)).await;
        Ok(())
    }

    async fn sleep(&self, nominal: Duration) {
        tokio::time::sleep(nominal.mul_f64(self.scale)).await;
    }
}

/// `start` seconds doubled for each attempt after the first.
fn exponential(start: u64, attempt: u32) -> Duration {
    let factor = 2u64.saturating_pow(attempt.saturating_sub(1).min(20));
    Duration::from_secs(start.saturating_mul(factor)).min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoffs_double_and_are_capped() {
        assert_eq!(exponential(5, 1), Duration::from_secs(5));
        assert_eq!(exponential(5, 3), Duration::from_secs(20));
        assert_eq!(exponential(60, 30), MAX_WAIT);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_token_stops_and_failures_give_up() {
        let mut w = Waits::new(1.0, Duration::from_secs(60));
        assert!(w.after(ApiError::Refused(401)).await.is_err());
        for _ in 0..MAX_FAILURES {
            w.after(ApiError::Network("reset".into())).await.unwrap();
        }
        assert!(w.after(ApiError::Network("reset".into())).await.is_err());
        w.succeeded();
        let before = tokio::time::Instant::now();
        w.after(ApiError::RateLimited(Some(Duration::from_secs(3))))
            .await
            .unwrap();
        assert_eq!(before.elapsed(), Duration::from_secs(3));
    }
}
