//! The configuration loader: any text as the TOML configuration file, read and validated by
//! `Settings::load` exactly as `streamvault run --config` does. Nothing may panic; what loads
//! must also redact and yield a pipeline configuration.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;
use streamvault::config::Settings;

/// One file per fuzzing process, rewritten for every input (the loader reads a path).
fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        dir.join(format!(
            "streamvault-fuzz-config-{}.toml",
            std::process::id()
        ))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = path();
    std::fs::write(path, data).unwrap();
    if let Ok(settings) = Settings::load(Some(path), None) {
        let _ = settings.redacted();
        let _ = settings.pipeline();
        for stream in &settings.streams {
            let _ = format!("{stream:?}");
        }
    }
    let _ = Settings::load(Some(path), Some("sqlite::memory:"));
});
