//! ArrayBuffers over mapped pages: created through the raw Node-API call (never napi-rs's
//! copy-on-failure fallback), tracked through weak references so `close()` can detach them, and
//! finalized by a callback that only touches atomics and an `Arc`.

use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use memmap_core::{Error, Result};
use napi::sys;

use crate::region::Region;

/// External ArrayBuffers created since the process started, and those not yet finalized.
pub static CREATED: AtomicU64 = AtomicU64::new(0);
pub static LIVE: AtomicU64 = AtomicU64::new(0);

/// For tests: the status `napi_create_external_arraybuffer` is made to return instead of calling
/// it (0 = call it). Exists only in builds with the `test-hooks` feature.
#[cfg(feature = "test-hooks")]
pub static INJECTED_STATUS: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// What the finalizer owns: the region (kept mapped while the buffer may be reachable) and the
/// flag `close()` reads to know the buffer is gone.
struct Hint {
    _region: Arc<Region>,
    finalized: Arc<AtomicBool>,
}

/// One ArrayBuffer the map created, as `close()` sees it.
pub struct Tracked {
    reference: sys::napi_ref,
    finalized: Arc<AtomicBool>,
}

/// Maps the status of `napi_create_external_arraybuffer` to the library's error.
pub fn status_to_result(status: sys::napi_status) -> Result<()> {
    match status {
        sys::Status::napi_ok => Ok(()),
        sys::Status::napi_no_external_buffers_allowed => Err(Error::ExternalBuffersUnsupported),
        other => {
            Err(Error::Unsupported(format!("napi_create_external_arraybuffer failed with status {other}")))
        }
    }
}

unsafe extern "C" fn finalize(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the `Box<Hint>` leaked in `create`, and Node-API calls this once.
    let hint = unsafe { Box::from_raw(hint.cast::<Hint>()) };
    hint.finalized.store(true, Ordering::Release);
    LIVE.fetch_sub(1, Ordering::Relaxed);
}

/// Test builds: the injected status, first read from `MEMMAP_TEST_EXTERNAL_STATUS` so a child
/// process can start with it (the load-time probe sees it too).
#[cfg(feature = "test-hooks")]
fn injected_status() -> sys::napi_status {
    static FROM_ENV: std::sync::Once = std::sync::Once::new();
    FROM_ENV.call_once(|| {
        if let Some(status) = std::env::var("MEMMAP_TEST_EXTERNAL_STATUS").ok().and_then(|s| s.parse().ok()) {
            INJECTED_STATUS.store(status, Ordering::Relaxed);
        }
    });
    INJECTED_STATUS.load(Ordering::Relaxed)
}

/// # Safety
/// `data` is valid for `len` bytes until `finalize` runs with `hint` (or forever with no finalizer).
unsafe fn create_raw(
    env: sys::napi_env,
    data: *mut u8,
    len: usize,
    finalize: sys::napi_finalize,
    hint: *mut c_void,
    result: &mut sys::napi_value,
) -> sys::napi_status {
    #[cfg(feature = "test-hooks")]
    {
        let injected = injected_status();
        if injected != 0 {
            return injected;
        }
    }
    // SAFETY: the caller's contract: `data` outlives the buffer; `finalize` takes `hint`.
    unsafe { sys::napi_create_external_arraybuffer(env, data.cast(), len, finalize, hint, result) }
}

/// Whether the runtime allows external ArrayBuffers: creates one over a small leaked block
/// (never handed to JavaScript) and reads the status.
pub fn probe(env: sys::napi_env) -> bool {
    static BLOCK: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let block = *BLOCK.get_or_init(|| Box::leak(Box::new([0u8; 8])).as_mut_ptr() as usize) as *mut u8;
    let mut value = ptr::null_mut();
    // SAFETY: `block` is a leaked 8-byte allocation, valid forever; no finalizer is needed.
    let status = unsafe { create_raw(env, block, 8, None, ptr::null_mut(), &mut value) };
    status == sys::Status::napi_ok
}

/// Creates an ArrayBuffer over `len` bytes at `region.ptr() + start - shift` and a weak
/// reference to it. The caller checked `shift <= delta + start` and `start + len <= length + shift`.
pub fn create(
    env: sys::napi_env,
    region: &Arc<Region>,
    start: usize,
    shift: usize,
    len: usize,
) -> Result<(sys::napi_value, Tracked)> {
    debug_assert!(shift <= region.delta() + start && start + len <= region.len() + shift);
    let finalized = Arc::new(AtomicBool::new(false));
    let hint =
        Box::into_raw(Box::new(Hint { _region: Arc::clone(region), finalized: Arc::clone(&finalized) }));
    // `shift <= delta + start`, so the pointer stays inside the OS mapping, which starts `delta`
    // bytes before `ptr` (region.rs). Wrapping arithmetic, because a region without pages (length
    // 0 at an unaligned offset) has a dangling `ptr` that `delta` underflows: the buffer is then
    // empty and nothing is read through `data`.
    let data = region.ptr().wrapping_sub(region.delta()).wrapping_add(region.delta() + start - shift);
    let mut value = ptr::null_mut();
    // SAFETY: `data` is valid for `len` bytes while `hint` holds its region (region.rs);
    // `finalize` matches napi_finalize and takes ownership of `hint` when it runs.
    let status = unsafe { create_raw(env, data, len, Some(finalize), hint.cast(), &mut value) };
    if let Err(e) = status_to_result(status) {
        // On failure Node may already have run the finalizer (it did on Node 20); Bun has not.
        // The flag tells which: free the hint only if nobody did.
        if !finalized.load(Ordering::Acquire) {
            // SAFETY: the finalizer did not run, so the Box is still ours.
            drop(unsafe { Box::from_raw(hint) });
        }
        return Err(e);
    }
    CREATED.fetch_add(1, Ordering::Relaxed);
    LIVE.fetch_add(1, Ordering::Relaxed);
    let mut reference = ptr::null_mut();
    // SAFETY: `value` is the ArrayBuffer just created in this env; refcount 0 makes it weak.
    let status = unsafe { sys::napi_create_reference(env, value, 0, &mut reference) };
    if status != sys::Status::napi_ok {
        return Err(Error::Unsupported(format!("napi_create_reference failed with status {status}")));
    }
    Ok((value, Tracked { reference, finalized }))
}

impl Tracked {
    /// Detaches the buffer if it is still attached. Returns `true` when its memory can no longer
    /// be reached from JavaScript: finalized, or detached by this call. A buffer that is gone
    /// without a finalizer, or was detached by someone else (moved by `transfer()`), may still
    /// have a live backing store elsewhere: `false`. Deletes the weak reference either way.
    pub fn release(self, env: sys::napi_env) -> bool {
        let mut released = self.finalized.load(Ordering::Acquire);
        if !released {
            let mut value = ptr::null_mut();
            // SAFETY: `reference` was created in this env and not yet deleted.
            let status = unsafe { sys::napi_get_reference_value(env, self.reference, &mut value) };
            if status == sys::Status::napi_ok && !value.is_null() {
                let mut detached = false;
                // SAFETY: `value` is a live ArrayBuffer of this env.
                unsafe { sys::napi_is_detached_arraybuffer(env, value, &mut detached) };
                if !detached {
                    // SAFETY: as above. On Bun this runs `finalize` synchronously, which only
                    // touches atomics and an Arc, and no lock is held here.
                    released = unsafe { sys::napi_detach_arraybuffer(env, value) } == sys::Status::napi_ok;
                }
            }
        }
        self.forget(env);
        released
    }

    /// Deletes the weak reference without touching the buffer (the map is being collected).
    pub fn forget(self, env: sys::napi_env) {
        // SAFETY: `reference` was created in this env and is deleted exactly once, here.
        unsafe { sys::napi_delete_reference(env, self.reference) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_external_buffers_status_maps_to_its_code() {
        let e = status_to_result(sys::Status::napi_no_external_buffers_allowed).unwrap_err();
        assert_eq!(e.code(), "ERR_MMAP_EXTERNAL_BUFFERS_UNSUPPORTED");
        assert!(status_to_result(sys::Status::napi_ok).is_ok());
        assert_eq!(
            status_to_result(sys::Status::napi_generic_failure).unwrap_err().code(),
            "ERR_MMAP_UNSUPPORTED"
        );
    }
}
