//! Tests of the simulator: scenario parsing, and the server as a plain HTTP client sees it, for
//! both stream families.

mod backpressure;
mod client;
mod frames;
mod hostile;
mod live;
mod scenario;
mod server;
mod updates;
mod v2_compliance;
mod v2_compliance_faults;
mod v2_compliance_truth;
mod v2_rules;
mod v2_scenario;
mod v2_streams;

use super::{Scenario, Simulator, SimulatorConfig, Stats};
use std::time::Duration;

/// A simulator on a free loopback port serving `toml`, unpaced unless the scenario says so.
async fn start(toml: &str) -> Simulator {
    let scenario = Scenario::from_toml_str(toml).expect("test scenario parses");
    start_with(scenario).await
}

async fn start_with(scenario: Scenario) -> Simulator {
    let config = SimulatorConfig {
        scenario,
        rate: 0.0,
        seed: 7,
        keepalive: Duration::from_secs(30),
        ..SimulatorConfig::default()
    };
    Simulator::start(config).await.expect("simulator starts")
}

/// Polls the stats until `done` holds, for at most two seconds.
async fn wait_for(simulator: &Simulator, done: impl Fn(&Stats) -> bool) -> Stats {
    for _ in 0..200 {
        let stats = simulator.stats();
        if done(&stats) {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "stats never reached the expected state: {:#?}",
        simulator.stats()
    );
}

/// Runs a test's future on a thread of its own with a 16 MiB stack: in debug builds the raw
/// client's futures take over a megabyte of stack per request awaited, more than a test
/// thread has.
fn big_stack(test: impl std::future::Future<Output = ()> + Send + 'static) {
    let thread = std::thread::Builder::new()
        .stack_size(16 << 20)
        .spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(test);
        })
        .expect("a test thread");
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}
