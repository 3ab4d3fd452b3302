//! Order independence, as a property: replaying the same statuses and compliance notices in any
//! order, cut into transactions of any size, leaves the same compliance-relevant archive: the
//! same archived tweet ids, the same geo state (typed columns and `raw`) and
//! `withheld_in_countries` for every tweet and user, and the same sets of deletions, scrubs and
//! withholdings (times of receipt and the `arrived_before_tweet`/`deferred` flags aside).
//!
//! Each case builds a small universe (2–3 users, 3–8 originals, retweets and quotes of them,
//! notices about them, a few repeated lines), replays it in its canonical order (statuses, then
//! notices, then repeats) into one fresh archive and in a random permutation into another, and
//! compares the two. The canonical archive is also checked against a model of the rules, so the
//! comparison cannot pass on two equally broken archives.
//!
//! Cases per backend: 24, or `PROPTEST_CASES`.

#[path = "order_independence/case.rs"]
mod case;
mod common;
#[path = "order_independence/model.rs"]
mod model;
#[path = "order_independence/scenario.rs"]
mod scenario;
#[path = "order_independence/snapshot.rs"]
mod snapshot;
#[path = "order_independence/world.rs"]
mod world;

use case::{Case, case};
use common::TestDb;
use model::model_violations;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use snapshot::{archive, diff};
use std::sync::OnceLock;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

/// Whether PostgreSQL is reachable (probed once; under `CI=true` the harness panics instead).
fn postgres_available() -> bool {
    static UP: OnceLock<bool> = OnceLock::new();
    *UP.get_or_init(|| {
        runtime().block_on(async {
            match TestDb::postgres().await {
                Some(db) => {
                    db.cleanup().await;
                    true
                }
                None => false,
            }
        })
    })
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(24),
        // No regression files next to the test: a failure is reported with its minimal stream.
        failure_persistence: None,
        // Shrinking replays two archives per step: enough steps to reach a minimal stream.
        max_shrink_iters: 1024,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------

async fn check(case: &Case, postgres: bool) -> Result<(), TestCaseError> {
    let (canonical, permuted) = (case.canonical(), case.permuted());
    let (a, b) = tokio::join!(
        archive(&canonical, case.canonical_batch, postgres),
        archive(&permuted, case.permuted_batch, postgres),
    );
    let violations = model_violations(&case.world, &a);
    if !violations.is_empty() {
        return Err(TestCaseError::fail(format!(
            "the canonical archive breaks the compliance rules:\n    {}\n  canonical snapshot: {a:#?}",
            violations.join("\n    ")
        )));
    }
    let differences = diff(&a, &b);
    if !differences.is_empty() {
        return Err(TestCaseError::fail(format!(
            "the archive depends on arrival order:\n    {}",
            differences.join("\n    ")
        )));
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn order_does_not_matter_sqlite(case in case()) {
        runtime().block_on(check(&case, false))?;
    }

    #[test]
    fn order_does_not_matter_postgres(case in case()) {
        if !postgres_available() {
            return Ok(());
        }
        runtime().block_on(check(&case, true))?;
    }
}
