//! Reading a process's memory and CPU time from /proc.

use std::time::Instant;

use crate::LoadError;

/// Clock ticks per second in /proc/<pid>/stat: Linux exposes USER_HZ = 100 to user space on
/// every architecture this runs on.
const TICKS_PER_SEC: f64 = 100.0;

/// Resident set size of `pid` in KiB (`VmRSS` in /proc/<pid>/status).
pub(crate) fn rss_kib(pid: u32) -> Result<u64, LoadError> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| LoadError::Unexpected(format!("no VmRSS for pid {pid}")))
}

/// User plus system CPU seconds used so far by `pid` (or by this process when `None`).
pub(crate) fn cpu_seconds(pid: Option<u32>) -> Result<f64, LoadError> {
    let path = pid.map_or_else(
        || "/proc/self/stat".to_owned(),
        |pid| format!("/proc/{pid}/stat"),
    );
    let stat = std::fs::read_to_string(path)?;
    // Fields after the command name (which may contain spaces) start at the last ')'.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|field| field.parse::<f64>().ok())
    };
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => Ok((user + system) / TICKS_PER_SEC),
        _ => Err(LoadError::Unexpected("unreadable /proc stat".into())),
    }
}

/// CPU seconds of all `pids` together; `None` if there are none or one is unreadable.
fn total_cpu_seconds(pids: &[u32]) -> Option<f64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|pid| cpu_seconds(Some(*pid)).ok()).sum()
}

/// CPU use of the server (all its processes together) and of the generator over one
/// measured window.
pub(crate) struct CpuWindow {
    server: Vec<u32>,
    started: Instant,
    server_start: f64,
    self_start: f64,
}

impl CpuWindow {
    /// Starts a window now.
    pub(crate) fn start(server: Vec<u32>) -> Self {
        Self {
            server_start: total_cpu_seconds(&server).unwrap_or(0.0),
            server,
            started: Instant::now(),
            self_start: cpu_seconds(None).unwrap_or(0.0),
        }
    }

    /// Percent of one core used by (server, generator) since the start; 200 = both cores.
    pub(crate) fn finish(&self) -> (f64, f64) {
        let wall = self.started.elapsed().as_secs_f64().max(1e-9);
        let server = total_cpu_seconds(&self.server)
            .map_or(0.0, |now| (now - self.server_start) / wall * 100.0);
        let own = cpu_seconds(None).map_or(0.0, |now| (now - self.self_start) / wall * 100.0);
        (server, own)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_own_memory_and_cpu() {
        let pid = std::process::id();
        assert!(rss_kib(pid).unwrap() > 0);
        assert!(cpu_seconds(Some(pid)).unwrap() >= 0.0);
    }
}
