//! What the machine offers a test: [`require`] turns a missing capability into a `SKIPPED`
//! note outside CI and a failure under CI (`CI=true`); [`have_prlimit`] is one such check.

use std::process::Command;

/// Whether the tests run under CI (`CI=true`), where a missing capability is a failure.
pub fn under_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// A capability the test needs: `Err(reason)` is a failure under CI, a `SKIPPED` note
/// otherwise (the caller returns). Returns whether the test can go on.
pub fn require(what: &str, check: Result<(), String>) -> bool {
    match check {
        Ok(()) => true,
        Err(reason) if under_ci() => panic!("{what} is required under CI=true: {reason}"),
        Err(reason) => {
            eprintln!("SKIPPED: {what}: {reason}");
            false
        }
    }
}

/// Whether `prlimit` (util-linux) is on PATH.
pub fn have_prlimit() -> Result<(), String> {
    match Command::new("prlimit").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!("prlimit --version failed: {:?}", o.status)),
        Err(e) => Err(format!("prlimit (util-linux) is not available: {e}")),
    }
}
