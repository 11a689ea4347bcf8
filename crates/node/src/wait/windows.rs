//! Windows: WaitOnAddress and WakeByAddress (Windows 8+, resolved at run time). They wake waiters
//! of the same address in the same process only: a `notify()` through this map wakes this map's
//! waiters; waiters of other maps of the file, in this or other processes, sleep until their
//! timeout (documented). The OS does not say how many waiters a wake woke.

use std::ffi::{c_void, CStr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::Outcome;

type WaitOnAddress = unsafe extern "system" fn(*const c_void, *const c_void, usize, u32) -> i32;
type WakeByAddress = unsafe extern "system" fn(*const c_void);

const ERROR_TIMEOUT: u32 = 1460;
const INFINITE: u32 = u32::MAX;

extern "system" {
    fn LoadLibraryA(name: *const i8) -> *mut c_void;
    fn GetProcAddress(module: *mut c_void, name: *const i8) -> *mut c_void;
    fn GetLastError() -> u32;
}

struct Calls {
    wait: Option<WaitOnAddress>,
    wake_single: Option<WakeByAddress>,
    wake_all: Option<WakeByAddress>,
}

fn calls() -> &'static Calls {
    static CALLS: OnceLock<Calls> = OnceLock::new();
    CALLS.get_or_init(|| {
        // SAFETY: LoadLibraryA of a NUL-terminated system API set name; null if absent.
        let module = unsafe { LoadLibraryA(c"api-ms-win-core-synch-l1-2-0.dll".as_ptr()) };
        let get = |name: &CStr| {
            if module.is_null() {
                return None;
            }
            // SAFETY: `module` is loaded and `name` NUL-terminated.
            let p = unsafe { GetProcAddress(module, name.as_ptr()) };
            (!p.is_null()).then_some(p)
        };
        // SAFETY: each pointer is the named function, whose signature is the type it is cast to.
        unsafe {
            Calls {
                wait: get(c"WaitOnAddress").map(|p| std::mem::transmute::<*mut c_void, WaitOnAddress>(p)),
                wake_single: get(c"WakeByAddressSingle")
                    .map(|p| std::mem::transmute::<*mut c_void, WakeByAddress>(p)),
                wake_all: get(c"WakeByAddressAll")
                    .map(|p| std::mem::transmute::<*mut c_void, WakeByAddress>(p)),
            }
        }
    })
}

/// Sleeps while the Int32 at `addr` holds `expected`, until woken, `timeout` passes, or
/// `cancel` becomes non-zero.
///
/// # Safety
/// `addr` is 4-aligned and stays mapped (readable) for the whole call.
pub unsafe fn wait(
    addr: *const i32,
    expected: i32,
    timeout: Option<Duration>,
    cancel: &AtomicU32,
) -> Outcome {
    let Some(wait) = calls().wait else { return Outcome::Unsupported };
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        if cancel.load(Ordering::Acquire) != 0 {
            return Outcome::Cancelled;
        }
        // SAFETY: the caller's contract for `addr`.
        if unsafe { std::ptr::read_volatile(addr) } != expected {
            return Outcome::NotEqual;
        }
        let ms = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(r) if !r.is_zero() => r.as_millis().clamp(1, u128::from(INFINITE - 1)) as u32,
                _ => return Outcome::TimedOut,
            },
            None => INFINITE,
        };
        // SAFETY: the caller's contract for `addr`; `expected` lives across the call.
        let woke = unsafe { wait(addr.cast(), (&expected as *const i32).cast(), 4, ms) };
        if woke != 0 {
            if cancel.load(Ordering::Acquire) != 0 {
                return Outcome::Cancelled;
            }
            return Outcome::Woken;
        }
        // SAFETY: GetLastError has no preconditions.
        if unsafe { GetLastError() } == ERROR_TIMEOUT && deadline.is_some_and(|d| Instant::now() >= d) {
            return Outcome::TimedOut;
        }
    }
}

/// Wakes one or all (`count` > 1) waiters on the Int32 at `addr` in this process. The OS gives
/// no count: returns 0.
///
/// # Safety
/// `addr` is 4-aligned and mapped.
pub unsafe fn wake(addr: *const i32, count: u32) -> u32 {
    let c = calls();
    let f = if count > 1 { c.wake_all } else { c.wake_single };
    if let (Some(f), true) = (f, count > 0) {
        // SAFETY: the caller's contract for `addr`.
        unsafe { f(addr.cast()) };
    }
    0
}

/// Wakes the cancelled waiter (every waiter on the address in this process).
///
/// # Safety
/// `addr` is 4-aligned and mapped.
pub unsafe fn wake_cancelled(addr: *const i32, _cancel: &AtomicU32) {
    // SAFETY: the caller's contract for `addr`.
    unsafe { wake(addr, u32::MAX) };
}

/// What `notify` returns: nothing the OS can tell.
pub const NOTIFY_COUNTS: bool = false;
