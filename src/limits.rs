//! File-descriptor limits: every stream in flight holds a socket.

/// Descriptors kept free for stdio, the result file, DNS and the runtime itself.
const SPARE_DESCRIPTORS: u64 = 64;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the new limit, `None` where the
/// platform has no such limit.
pub fn raise_descriptor_limit() -> Option<u64> {
    rlimit::increase_nofile_limit(u64::MAX).ok()
}

/// Raises the limit and, when `concurrency` streams still cannot fit, returns a plain warning
/// to show before the run starts.
pub fn check_descriptors(concurrency: u64) -> Option<String> {
    let limit = raise_descriptor_limit()?;
    let needed = concurrency.saturating_add(SPARE_DESCRIPTORS);
    (needed > limit).then(|| {
        format!(
            "concurrency {concurrency} needs about {needed} open files but this process may \
             open only {limit} (the hard limit): expect `connect` failures. Raise it with \
             `ulimit -n {needed}` (or in /etc/security/limits.conf) or lower -p."
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_concurrency_fits() {
        assert_eq!(check_descriptors(1), None);
    }

    #[test]
    fn absurd_concurrency_is_reported() {
        let warning = check_descriptors(u64::MAX / 2).expect("cannot fit");
        assert!(warning.contains("ulimit -n"), "{warning}");
    }
}
