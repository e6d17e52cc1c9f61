//! The CPU share: the process's CPU time over the wall time of all the cores it may use. Past
//! ~90 %, runnable threads queue for a core whatever the event loop looks like.

use std::time::Duration;

/// Cores this process may use (cgroup quotas and affinity included on Linux); 1 if unknown.
pub(super) fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// `cpu` ÷ (`wall` × `cores`), clamped to 0..1 (rounding between the two clocks can
/// overshoot slightly); 0 for an empty interval.
pub(super) fn cpu_share(cpu: Duration, wall: Duration, cores: usize) -> f64 {
    let capacity = wall.as_secs_f64() * cores as f64;
    if capacity <= 0.0 { 0.0 } else { (cpu.as_secs_f64() / capacity).clamp(0.0, 1.0) }
}

/// User plus system CPU time of the whole process so far; `None` where unavailable.
#[cfg(unix)]
pub(super) fn process_cpu_time() -> Option<Duration> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` points to writable memory the size of a `rusage`, which getrusage
    // fills on success; we read it only when the call returned 0.
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) != 0 {
            return None;
        }
        usage.assume_init()
    };
    Some(timeval(usage.ru_utime)? + timeval(usage.ru_stime)?)
}

#[cfg(not(unix))]
pub(super) fn process_cpu_time() -> Option<Duration> {
    None
}

#[cfg(unix)]
fn timeval(t: libc::timeval) -> Option<Duration> {
    let micros = u32::try_from(t.tv_usec).ok()?;
    Some(Duration::from_secs(u64::try_from(t.tv_sec).ok()?) + Duration::from_micros(micros.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_share_divides_by_all_cores_and_clamps() {
        let wall = Duration::from_secs(2);
        assert_eq!(cpu_share(Duration::from_secs(1), wall, 2), 0.25);
        assert_eq!(cpu_share(Duration::from_secs(5), wall, 2), 1.0);
        assert_eq!(cpu_share(Duration::from_secs(1), Duration::ZERO, 2), 0.0);
    }

    #[test]
    fn process_cpu_time_grows_with_work() {
        let start = process_cpu_time().expect("getrusage works on unix");
        // Burn CPU until the clock moves: getrusage has at least µs resolution.
        let mut x = 0u64;
        while process_cpu_time().unwrap() <= start {
            for i in 0..10_000u64 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
        }
        assert!(process_cpu_time().unwrap() > start);
    }
}
