//! What `/proc` says of a process and its threads: CPU time (of this process, its children,
//! another process, each thread by name) and resident memory.

use std::collections::{BTreeMap, HashMap};
use std::process::Command;

/// Clock ticks per second of `/proc/*/stat` times.
pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// The fields of a `/proc/.../stat` line after the command name (field 3, the state, first).
pub fn stat_fields(path: &str) -> Option<Vec<u64>> {
    let text = std::fs::read_to_string(path).ok()?;
    let rest = &text[text.rfind(')')? + 2..];
    Some(
        rest.split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect(),
    )
}

/// utime + stime of a process or thread, in seconds.
pub fn proc_cpu(path: &str, tick: f64) -> Option<f64> {
    let f = stat_fields(path)?;
    Some((f.get(11)? + f.get(12)?) as f64 / tick)
}

/// This process's own CPU time (the simulator, plus the cheap polling).
pub fn self_cpu(tick: f64) -> f64 {
    proc_cpu("/proc/self/stat", tick).unwrap_or(0.0)
}

/// CPU time of this process's children that have been waited for (cutime + cstime).
pub fn children_cpu(tick: f64) -> f64 {
    stat_fields("/proc/self/stat")
        .and_then(|f| Some((f.get(13)? + f.get(14)?) as f64 / tick))
        .unwrap_or(0.0)
}

/// A `kB` line of `/proc/PID/status` (`VmRSS:`, `VmHWM:`).
pub fn proc_status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The last CPU time seen of every thread of a process.
#[derive(Default)]
pub struct ThreadCpu {
    by_tid: HashMap<String, (String, f64)>,
}

impl ThreadCpu {
    pub fn sample(&mut self, pid: u32, tick: f64) {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return;
        };
        for task in tasks.flatten() {
            let dir = task.path();
            let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
            if let Some(cpu) = proc_cpu(&dir.join("stat").display().to_string(), tick) {
                let tid = task.file_name().to_string_lossy().into_owned();
                self.by_tid.insert(tid, (name.trim().to_owned(), cpu));
            }
        }
    }

    pub fn by_name(&self) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for (name, cpu) in self.by_tid.values() {
            *out.entry(name.clone()).or_insert(0.0) += cpu;
        }
        out
    }
}
