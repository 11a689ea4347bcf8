//! Memory and file calls beyond memmap2 (advice, populate, locking, residency, protection,
//! write-back, zero-fill, block reservation, descriptors, error numbers), one facade over a file
//! per platform, picked by path as memmap2 does, each with the same private surface:
//! `unix.rs` (Linux and macOS, with `target_os` branches), `windows.rs`, and `stub.rs` for
//! anything else, which returns `Unsupported` and never panics.
//!
//! ## Safety
//!
//! Every function taking a pointer requires that `[ptr, ptr + len)` lies inside one live
//! mapping owned by the caller's `Region` and that `ptr` is page-aligned where the doc says so.

#[cfg_attr(unix, path = "unix.rs")]
#[cfg_attr(windows, path = "windows.rs")]
#[cfg_attr(not(any(unix, windows)), path = "stub.rs")]
mod platform;

pub use platform::*;

/// Test builds only: how often the OS's read-ahead call (`madvise(MADV_WILLNEED)`,
/// `PrefetchVirtualMemory`) was reached, for `advise('willneed')`, `populate` and `prefetch()`.
/// Under wine the call exists but does nothing, so the tests there assert it was reached.
#[cfg(feature = "test-hooks")]
pub static READ_AHEAD_CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Counts one read-ahead call (test builds only).
#[inline]
pub(crate) fn count_read_ahead() {
    #[cfg(feature = "test-hooks")]
    READ_AHEAD_CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Reads one byte of every page of `[ptr, ptr + len)`: a read fault, which on a private mapping
/// maps the file's page without copying it (the populate fallback of every platform).
///
/// # Safety
/// `ptr` is page-aligned and the range lies in one live, readable mapping.
pub(crate) unsafe fn read_touch(ptr: *mut u8, len: usize) {
    let page = page_size();
    let mut offset = 0;
    while offset < len {
        // SAFETY: `offset < len`, so the byte lies in the caller's readable range.
        unsafe { std::ptr::read_volatile(ptr.add(offset)) };
        offset += page;
    }
}
