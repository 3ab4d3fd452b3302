//! The simulator's scenario parser: any text as a TOML and as a JSON scenario. Nothing may
//! panic; a scenario that parses must answer for every connection script and step.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamvault::simulate::scenario::Scenario;

fn exercise(scenario: &Scenario) {
    for i in 0..4 {
        if let Some(script) = scenario.script(i) {
            for step in &script.steps {
                let _ = (step.kind(), step.fits_ndjson(), step.fits_topics());
            }
        }
    }
    let _ = format!("{scenario:?}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(s) = Scenario::from_toml_str(text) {
        exercise(&s);
    }
    if let Ok(s) = Scenario::from_json_str(text) {
        exercise(&s);
    }
});
