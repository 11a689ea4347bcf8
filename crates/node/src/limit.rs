//! The process's kernel mappings against `vm.max_map_count` (Linux).
//!
//! When a process reaches the limit, the next mmap of anyone fails with ENOMEM: V8 then aborts
//! the whole process (SIGABRT) on its own next heap mapping. Maps that were never closed are only
//! unmapped once collected, and Node runs the finalizers of Node-API 8 modules on a later turn, so
//! a synchronous loop that opens maps and drops them reaches the limit before any is released.
//! memmap therefore refuses to map (`ERR_MMAP_LIMIT`) once the process would come within
//! [`reserve`] mappings of the limit, leaving those to the runtime.
//!
//! Reading the real count (`/proc/self/maps`) costs a few milliseconds with tens of thousands of
//! mappings, so it is sampled: the estimate is the last sample plus the change in the mappings
//! memmap made since (each map is one kernel mapping; a ranged `advise`, `lock` or `protect` may
//! split it into three). The sample is re-read only when the estimate says "refuse" and is stale.

use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use memmap_core::{Error, Result};

/// Kernel mappings memmap holds now (maps, zero-filled ranges, splits).
static OURS: AtomicIsize = AtomicIsize::new(0);

/// The real count at one moment, and memmap's own count at that moment.
struct Sample {
    real: isize,
    ours: isize,
    at: Instant,
}

static SAMPLE: Mutex<Option<Sample>> = Mutex::new(None);

/// Records `n` kernel mappings made (positive) or removed (negative) by memmap.
pub fn add(n: isize) {
    OURS.fetch_add(n, Ordering::Relaxed);
}

/// Mappings left to the runtime below the limit: an eighth of it, at least 1024.
fn reserve(max: isize) -> isize {
    (max / 8).max(1024)
}

/// Fails with `ERR_MMAP_LIMIT` when making `extra` more mappings would bring the process within
/// [`reserve`] of `vm.max_map_count`.
pub fn check(extra: usize) -> Result<()> {
    let Some(max) = max_map_count() else { return Ok(()) };
    let ceiling = max - reserve(max);
    let ours = OURS.load(Ordering::Relaxed);
    let extra = extra as isize;
    let mut sample = SAMPLE.lock().unwrap_or_else(PoisonError::into_inner);
    let estimate = |s: &Sample| s.real + (ours - s.ours) + extra;
    let refuse = sample.as_ref().is_none_or(|s| estimate(s) > ceiling);
    if refuse {
        let stale = sample
            .as_ref()
            .is_none_or(|s| (ours - s.ours).abs() >= 64 || s.at.elapsed() > Duration::from_secs(1));
        if stale {
            match count_mappings() {
                Some(real) => *sample = Some(Sample { real, ours, at: Instant::now() }),
                None => return Ok(()),
            }
        }
        if let Some(s) = sample.as_ref().filter(|s| estimate(s) > ceiling) {
            return Err(Error::Limit(format!(
                "mapping more would bring the process to {} of vm.max_map_count {max} kernel mappings \
                 ({} kept for the runtime): close maps you no longer need",
                s.real + (ours - s.ours) + extra,
                reserve(max)
            )));
        }
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn max_map_count() -> Option<isize> {
    static MAX: std::sync::OnceLock<Option<isize>> = std::sync::OnceLock::new();
    *MAX.get_or_init(|| {
        let text = std::fs::read_to_string("/proc/sys/vm/max_map_count").ok()?;
        text.trim().parse().ok()
    })
}

#[cfg(not(target_os = "linux"))]
fn max_map_count() -> Option<isize> {
    None
}

/// Lines of /proc/self/maps: one per kernel mapping.
#[cfg(target_os = "linux")]
fn count_mappings() -> Option<isize> {
    let maps = std::fs::read("/proc/self/maps").ok()?;
    Some(maps.iter().filter(|&&b| b == b'\n').count() as isize)
}

#[cfg(not(target_os = "linux"))]
fn count_mappings() -> Option<isize> {
    None
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_an_eighth_of_the_limit_and_at_least_1024() {
        assert_eq!(reserve(65530), 8191);
        assert_eq!(reserve(4000), 1024);
    }

    #[test]
    fn a_process_far_from_the_limit_may_map() {
        assert!(check(1).is_ok());
    }
}
