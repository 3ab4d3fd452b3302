//! The batch compliance sweep's result-line parser: any bytes as one line of a job's results.
//! Nothing may panic; a verdict has a positive id and bounded text fields; a malformed line has
//! a reason of bounded length; the ruling is total for both job types.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamvault::sweep_results::{JobType, parse_line};

fuzz_target!(|data: &[u8]| {
    match parse_line(data) {
        Ok(Some(v)) => {
            assert!(v.id > 0);
            for field in [Some(&v.action), v.reason.as_ref(), v.created_at.as_ref(), v.redacted_at.as_ref()]
                .into_iter()
                .flatten()
            {
                assert!(field.chars().count() <= 64);
            }
            let _ = v.ruling(JobType::Tweets);
            let _ = v.ruling(JobType::Users);
        }
        // Blank as `str::trim` reads it: Unicode whitespace (a vertical tab is one).
        Ok(None) => assert!(std::str::from_utf8(data).is_ok_and(|s| s.trim().is_empty())),
        Err(m) => assert!(m.reason.len() < 1024, "{}", m.reason),
    }
});
