//! The Node-API binding of memmap (napi-rs v3): conversions between JavaScript values and the
//! core's types, and every `unsafe` block of the project, each with a `// SAFETY:` line.

// `#[napi]` functions are only referenced by the registration code of non-test builds.
#![cfg_attr(test, allow(dead_code))]

mod access;
mod error;
mod external_buffer;
mod file_lock;
mod file_spans;
mod handle;
mod hot;
mod limit;
mod mapping;
mod memory;
mod open;
mod options;
mod os;
mod pages;
mod prefetch;
mod read_only;
mod region;
mod search;
mod shared;
mod tasks;
mod unclosed;
mod wait;

use std::sync::atomic::Ordering;

use napi_derive::napi;

/// The system page size in bytes.
#[napi]
pub fn page_size() -> u32 {
    os::page_size() as u32
}

/// Where a mapping may start in a file: the page size on Unix, 64 KiB on Windows. memmap maps
/// any offset (aligning internally); this is for callers laying out files.
#[napi]
pub fn allocation_granularity() -> u32 {
    os::allocation_granularity() as u32
}

/// Process-wide counters, for `stats()` and for tests.
#[napi(object)]
pub struct NativeCounters {
    /// External ArrayBuffers created since the process started.
    pub external_buffers_created: f64,
    /// External ArrayBuffers not yet finalized.
    pub external_buffers_live: f64,
    /// Maps whose pages are still mapped.
    pub live_maps: f64,
    /// Bytes those maps cover.
    pub mapped_bytes: f64,
}

#[napi]
pub fn counters() -> NativeCounters {
    NativeCounters {
        external_buffers_created: external_buffer::CREATED.load(Ordering::Relaxed) as f64,
        external_buffers_live: external_buffer::LIVE.load(Ordering::Relaxed) as f64,
        live_maps: region::LIVE_MAPS.load(Ordering::Relaxed) as f64,
        mapped_bytes: region::MAPPED_BYTES.load(Ordering::Relaxed) as f64,
    }
}

/// Whether the runtime allows external ArrayBuffers (false in Electron's V8 sandbox).
#[napi]
pub fn probe_external_buffers(env: napi::Env) -> bool {
    external_buffer::probe(env.raw())
}

/// Whether this binary was built with the test-only hooks.
#[napi]
pub fn has_test_hooks() -> bool {
    cfg!(feature = "test-hooks")
}

/// Test builds only: make external ArrayBuffer creation return `status` (0 restores it), and
/// make 'read' maps take the truly read-only fallback.
#[cfg(feature = "test-hooks")]
#[napi]
pub fn set_test_hooks(external_buffer_status: i32, force_read_only: bool) {
    external_buffer::INJECTED_STATUS.store(external_buffer_status, Ordering::Relaxed);
    pages::FORCE_READ_ONLY_FALLBACK.store(force_read_only, Ordering::Relaxed);
}

/// Test builds only: the page-aligned address of the last region mapped, so a test can find
/// exactly that mapping in /proc/self/smaps.
#[cfg(feature = "test-hooks")]
#[napi]
pub fn last_mapped_address() -> f64 {
    region::LAST_MAPPED.load(Ordering::Relaxed) as f64
}

/// Test builds only: how often the OS's read-ahead call (madvise WILLNEED, PrefetchVirtualMemory)
/// was reached, so tests under wine (where it does nothing) can assert it is called.
#[cfg(feature = "test-hooks")]
#[napi]
pub fn read_ahead_calls() -> f64 {
    os::READ_AHEAD_CALLS.load(Ordering::Relaxed) as f64
}

/// Test builds only (glibc): hands the free memory glibc's allocator keeps back to the OS
/// (`malloc_trim`) and returns the bytes still allocated (`mallinfo2`), so the soak can tell
/// memory in use, which a leak grows, from free memory the allocator caches. `None` elsewhere.
#[cfg(feature = "test-hooks")]
#[napi]
pub fn malloc_trim() -> Option<f64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: both calls only walk glibc's own arenas, under its locks.
        let info = unsafe {
            libc::malloc_trim(0);
            libc::mallinfo2()
        };
        Some((info.uordblks + info.hblkhd) as f64)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}
