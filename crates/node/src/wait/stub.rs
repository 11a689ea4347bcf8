//! Windows and platforms without a shared wait-on-address call: every wait, waitAsync and notify
//! throws ERR_MMAP_UNSUPPORTED before reaching these (`SUPPORTED`).

use std::sync::atomic::AtomicU32;
use std::time::Duration;

use super::Outcome;

/// # Safety
/// `addr` is 4-aligned and mapped.
pub unsafe fn wait(
    _addr: *const i32,
    _expected: i32,
    _timeout: Option<Duration>,
    _cancel: &AtomicU32,
) -> Outcome {
    Outcome::Unsupported
}

/// # Safety
/// `addr` is 4-aligned and mapped.
pub unsafe fn wake(_addr: *const i32, _count: u32) -> u32 {
    0
}

/// # Safety
/// `addr` is 4-aligned and mapped.
pub unsafe fn wake_cancelled(_addr: *const i32, _cancel: &AtomicU32) {}

pub const NOTIFY_COUNTS: bool = false;
pub const SUPPORTED: bool = false;
