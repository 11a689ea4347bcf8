//! macOS: `os_sync_wait_on_address` with the shared flag (macOS 14.4+), else `__ulock_wait2` with
//! UL_COMPARE_AND_WAIT_SHARED; both key a shared wait by the physical page, so a wake from any
//! process mapping the same file reaches it. Both are resolved at run time (dlsym), so the binary
//! loads on older systems. Neither waits on two words, so `close()` wakes every waiter on the
//! word, in every process (a spurious 'ok' for the others; documented), and neither tells how
//! many waiters a wake-all woke.

use std::ffi::{c_int, c_void, CStr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::Outcome;

const OS_SYNC_SHARED: u32 = 1;
const OS_CLOCK_MACH_ABSOLUTE_TIME: u32 = 32;
const UL_COMPARE_AND_WAIT_SHARED: u32 = 3;
const ULF_WAKE_ALL: u32 = 0x100;

type OsWait = unsafe extern "C" fn(*mut c_void, u64, usize, u32, u32, u64) -> c_int;
type OsWake = unsafe extern "C" fn(*mut c_void, usize, u32) -> c_int;
type UlockWait2 = unsafe extern "C" fn(u32, *mut c_void, u64, u64, u64) -> c_int;
type UlockWake = unsafe extern "C" fn(u32, *mut c_void, u64) -> c_int;

struct Calls {
    os_wait: Option<OsWait>,
    os_wake_any: Option<OsWake>,
    os_wake_all: Option<OsWake>,
    ulock_wait2: Option<UlockWait2>,
    ulock_wake: Option<UlockWake>,
}

fn symbol(name: &CStr) -> *mut c_void {
    // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only looks the symbol up.
    unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) }
}

fn calls() -> &'static Calls {
    static CALLS: OnceLock<Calls> = OnceLock::new();
    CALLS.get_or_init(|| {
        let get = |name: &CStr| {
            let p = symbol(name);
            (!p.is_null()).then_some(p)
        };
        // SAFETY: each pointer is the named libSystem function, whose C signature is the type it
        // is cast to (<os/os_sync_wait_on_address.h>, and XNU's ulock interface).
        unsafe {
            Calls {
                os_wait: get(c"os_sync_wait_on_address_with_timeout")
                    .map(|p| std::mem::transmute::<*mut c_void, OsWait>(p)),
                os_wake_any: get(c"os_sync_wake_by_address_any")
                    .map(|p| std::mem::transmute::<*mut c_void, OsWake>(p)),
                os_wake_all: get(c"os_sync_wake_by_address_all")
                    .map(|p| std::mem::transmute::<*mut c_void, OsWake>(p)),
                ulock_wait2: get(c"__ulock_wait2").map(|p| std::mem::transmute::<*mut c_void, UlockWait2>(p)),
                ulock_wake: get(c"__ulock_wake").map(|p| std::mem::transmute::<*mut c_void, UlockWake>(p)),
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
    let deadline = timeout.map(|t| Instant::now() + t);
    let c = calls();
    loop {
        if cancel.load(Ordering::Acquire) != 0 {
            return Outcome::Cancelled;
        }
        // SAFETY: the caller's contract for `addr`.
        if unsafe { std::ptr::read_volatile(addr) } != expected {
            return Outcome::NotEqual;
        }
        let remaining = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(r) if !r.is_zero() => r.as_nanos().min(u64::MAX as u128) as u64,
                _ => return Outcome::TimedOut,
            },
            None => 0,
        };
        let value = expected as u32 as u64;
        let r = match (c.os_wait, c.ulock_wait2) {
            // SAFETY: the caller's contract for `addr`; a timeout of 0 waits without one.
            (Some(f), _) => unsafe {
                f(addr.cast_mut().cast(), value, 4, OS_SYNC_SHARED, OS_CLOCK_MACH_ABSOLUTE_TIME, remaining)
            },
            // SAFETY: as above.
            (None, Some(f)) => unsafe {
                f(UL_COMPARE_AND_WAIT_SHARED, addr.cast_mut().cast(), value, remaining, 0)
            },
            (None, None) => return Outcome::Unsupported,
        };
        if r >= 0 {
            if cancel.load(Ordering::Acquire) != 0 {
                return Outcome::Cancelled;
            }
            return Outcome::Woken;
        }
        // EINTR, and EFAULT while the page is paged in: try again.
        if std::io::Error::last_os_error().raw_os_error() == Some(libc::ETIMEDOUT) {
            return Outcome::TimedOut;
        }
    }
}

/// Wakes one waiter or all waiters (`count` > 1) on the Int32 at `addr`, in any process. The OS
/// tells only whether someone was woken: returns 1 if so, else 0.
///
/// # Safety
/// `addr` is 4-aligned and mapped.
pub unsafe fn wake(addr: *const i32, count: u32) -> u32 {
    let c = calls();
    let all = count > 1;
    let r = match (c.os_wake_any, c.os_wake_all, c.ulock_wake) {
        // SAFETY: the caller's contract for `addr`.
        (Some(any), Some(every), _) => unsafe {
            (if all { every } else { any })(addr.cast_mut().cast(), 4, OS_SYNC_SHARED)
        },
        (_, _, Some(f)) => {
            let op = UL_COMPARE_AND_WAIT_SHARED | if all { ULF_WAKE_ALL } else { 0 };
            // SAFETY: as above.
            unsafe { f(op, addr.cast_mut().cast(), 0) }
        }
        _ => -1,
    };
    u32::from(r == 0)
}

/// Wakes the cancelled waiter: every waiter on the word (no two-word wait here).
///
/// # Safety
/// `addr` is 4-aligned and mapped.
pub unsafe fn wake_cancelled(addr: *const i32, _cancel: &AtomicU32) {
    // SAFETY: the caller's contract for `addr`.
    unsafe { wake(addr, u32::MAX) };
}

pub const SUPPORTED: bool = true;
/// What `notify` returns: 1 if anyone woke, not the count.
pub const NOTIFY_COUNTS: bool = false;
