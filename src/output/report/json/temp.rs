//! The temporary files of atomic writes: named after their writer, and cleaned up after
//! writers that were killed between writing and renaming (SIGKILL, a power cut), which would
//! otherwise leave hidden `.streamperf-*.tmp` files beside the results for good.
//!
//! A name is `.streamperf-<pid>@<host>-<random>.tmp`. Before each write into a folder, its
//! leftovers are removed: a file of a process on this machine that no longer runs, or any
//! such file older than [`STALE_AFTER`] (a writer elsewhere, a reused pid, an older name).

use std::fs;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

const PREFIX: &str = ".streamperf-";
const SUFFIX: &str = ".tmp";

/// A temporary file is written and renamed within seconds: one this old is a leftover.
const STALE_AFTER: Duration = Duration::from_secs(10 * 60);

/// A builder for this process's temporary files.
pub(super) fn builder() -> tempfile::Builder<'static, 'static> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix()).suffix(SUFFIX);
    builder
}

/// `.streamperf-<pid>@<host>-`, made once.
fn prefix() -> &'static str {
    static PREFIX_NOW: OnceLock<String> = OnceLock::new();
    PREFIX_NOW.get_or_init(|| format!("{PREFIX}{}@{}-", std::process::id(), host()))
}

/// Removes the leftovers in `dir`; what cannot be read or removed is left alone.
pub(super) fn remove_stale(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        let modified = entry.metadata().and_then(|m| m.modified()).ok();
        if is_file && entry.file_name().to_str().is_some_and(|name| is_stale(name, modified)) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Whether `name` is a temporary file of ours that no writer will rename any more.
fn is_stale(name: &str, modified: Option<SystemTime>) -> bool {
    let Some(inner) = name.strip_prefix(PREFIX).and_then(|n| n.strip_suffix(SUFFIX)) else {
        return false;
    };
    let old = modified.and_then(|m| m.elapsed().ok()).is_some_and(|age| age > STALE_AFTER);
    old || writer(inner).is_some_and(|(pid, at)| at == host() && !running(pid))
}

/// The pid and host in `<pid>@<host>-<random>`.
fn writer(inner: &str) -> Option<(u32, &str)> {
    let (pid, rest) = inner.split_once('@')?;
    let (host, _random) = rest.rsplit_once('-')?;
    Some((pid.parse().ok()?, host))
}

/// This machine's name, reduced to characters that are safe in a file name.
fn host() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        let name = raw_host_name();
        let safe: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            .collect();
        if safe.is_empty() { "localhost".into() } else { safe }
    })
}

#[cfg(unix)]
fn raw_host_name() -> String {
    let mut name = [0u8; 256];
    // SAFETY: gethostname(2) writes at most `len` bytes into our buffer.
    if unsafe { libc::gethostname(name.as_mut_ptr().cast(), name.len()) } != 0 {
        return String::new();
    }
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    String::from_utf8_lossy(&name[..end]).into_owned()
}

#[cfg(not(unix))]
fn raw_host_name() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_default()
}

/// Whether process `pid` runs on this machine (kill with signal 0 only asks).
#[cfg(unix)]
fn running(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    // SAFETY: signal 0 sends nothing; kill(2) only checks that the process exists. A pid of 0
    // would address our process group: no writer has it, so it counts as running.
    pid == 0
        || unsafe { libc::kill(pid, 0) } == 0
        || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn running(_pid: u32) -> bool {
    true // no cheap check: the age alone decides
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_who_wrote_them() {
        let ours = format!("{}Abc123{SUFFIX}", prefix());
        let inner = ours.strip_prefix(PREFIX).and_then(|n| n.strip_suffix(SUFFIX)).unwrap();
        assert_eq!(writer(inner), Some((std::process::id(), host())));
        assert!(!host().contains(['@', '/']), "{}", host());
        assert!(!is_stale(&ours, Some(SystemTime::now())), "our own, fresh");
    }

    #[test]
    fn leftovers_are_judged_by_writer_and_age() {
        let now = Some(SystemTime::now());
        let hour_ago = Some(SystemTime::now() - Duration::from_secs(3600));
        let dead = format!(".streamperf-{}@{}-Abc123.tmp", u32::MAX, host());
        assert!(is_stale(&dead, now), "a pid that cannot run");
        assert!(!is_stale(&format!(".streamperf-{}@elsewhere-Abc123.tmp", u32::MAX), now));
        assert!(!is_stale(".streamperf-Abc123.tmp", now), "an older name, fresh");
        assert!(is_stale(".streamperf-Abc123.tmp", hour_ago));
        assert!(!is_stale("test_results.json", hour_ago), "not ours");
        assert!(!is_stale(".streamperf-x.tmp.json", hour_ago), "not ours");
    }
}
