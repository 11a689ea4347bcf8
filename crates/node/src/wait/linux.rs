//! Linux: shared futexes. A waiter sleeps in `futex_waitv` (Linux >= 5.16) on two words: the
//! mapped Int32 (shared: the kernel keys it by file page, so a wake from any process mapping the
//! same page reaches it) and its own cancel word (private), which `close()` sets and wakes. Older
//! kernels fall back to FUTEX_WAIT on the mapped word alone; cancelling then wakes every waiter
//! on that word, in every process (a spurious 'ok' for the others; documented).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::Outcome;

/// The futex_waitv system call number (the same on x86_64 and the generic table of aarch64).
const SYS_FUTEX_WAITV: libc::c_long = 449;
/// futex2 flags: a 32-bit word, shared or private.
const FUTEX2_SIZE_U32: u32 = 0x02;
const FUTEX2_PRIVATE: u32 = 128;

/// One entry of futex_waitv's array (struct futex_waitv in the kernel's uapi).
#[repr(C)]
struct FutexWaitv {
    val: u64,
    uaddr: u64,
    flags: u32,
    reserved: u32,
}

/// Cleared once futex_waitv answered ENOSYS.
static HAS_WAITV: AtomicBool = AtomicBool::new(true);

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
    loop {
        if cancel.load(Ordering::Acquire) != 0 {
            return Outcome::Cancelled;
        }
        let remaining = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(r) if !r.is_zero() => Some(r),
                _ => return Outcome::TimedOut,
            },
            None => None,
        };
        let result = if HAS_WAITV.load(Ordering::Relaxed) {
            // SAFETY: the caller's contract for `addr`; `cancel` lives across the call.
            unsafe { waitv(addr, expected, cancel, remaining) }
        } else {
            // SAFETY: as above.
            unsafe { wait_one(addr, expected, remaining) }
        };
        match result {
            Ok(()) => {
                return if cancel.load(Ordering::Acquire) != 0 { Outcome::Cancelled } else { Outcome::Woken };
            }
            Err(libc::EAGAIN) => {
                if cancel.load(Ordering::Acquire) != 0 {
                    return Outcome::Cancelled;
                }
                // SAFETY: the caller's contract: `addr` is mapped and aligned.
                if unsafe { std::ptr::read_volatile(addr) } != expected {
                    return Outcome::NotEqual;
                }
            }
            Err(libc::ETIMEDOUT) => return Outcome::TimedOut,
            Err(libc::ENOSYS) => HAS_WAITV.store(false, Ordering::Relaxed),
            // EINTR: sleep again for what is left.
            Err(_) => {}
        }
    }
}

/// futex_waitv on the mapped word and the cancel word, with an absolute CLOCK_MONOTONIC deadline.
///
/// # Safety
/// As [`wait`].
unsafe fn waitv(
    addr: *const i32,
    expected: i32,
    cancel: &AtomicU32,
    remaining: Option<Duration>,
) -> Result<(), i32> {
    let waiters = [
        FutexWaitv { val: expected as u32 as u64, uaddr: addr as u64, flags: FUTEX2_SIZE_U32, reserved: 0 },
        FutexWaitv {
            val: 0,
            uaddr: cancel.as_ptr() as u64,
            flags: FUTEX2_SIZE_U32 | FUTEX2_PRIVATE,
            reserved: 0,
        },
    ];
    let mut deadline = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    let timeout = match remaining {
        Some(r) => {
            // SAFETY: clock_gettime writes into the timespec it is given.
            unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut deadline) };
            let nanos = deadline.tv_nsec as u64 + u64::from(r.subsec_nanos());
            // `as _`: the field's own type (musl deprecates naming `time_t`).
            let secs = r.as_secs().min(i64::MAX as u64 / 2) + nanos / 1_000_000_000;
            deadline.tv_sec = deadline.tv_sec.saturating_add(secs as _);
            deadline.tv_nsec = (nanos % 1_000_000_000) as libc::c_long;
            &deadline as *const libc::timespec
        }
        None => std::ptr::null(),
    };
    // SAFETY: `waiters` is a valid array of two entries for the call's duration; the words it
    // names are mapped (the caller's contract) and `cancel` is borrowed across the call.
    let r = unsafe {
        libc::syscall(SYS_FUTEX_WAITV, waiters.as_ptr(), 2u32, 0u32, timeout, libc::CLOCK_MONOTONIC)
    };
    if r >= 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL))
    }
}

/// FUTEX_WAIT (shared) on the mapped word alone, with a relative timeout.
///
/// # Safety
/// As [`wait`].
unsafe fn wait_one(addr: *const i32, expected: i32, remaining: Option<Duration>) -> Result<(), i32> {
    let ts = remaining.map(|r| libc::timespec {
        tv_sec: r.as_secs().min(i64::MAX as u64 / 2) as _,
        tv_nsec: r.subsec_nanos() as libc::c_long,
    });
    let timeout = ts.as_ref().map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: the caller's contract for `addr`; the timespec outlives the call.
    let r = unsafe { libc::syscall(libc::SYS_futex, addr, libc::FUTEX_WAIT, expected, timeout) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL))
    }
}

/// Wakes up to `count` waiters on the Int32 at `addr`, in any process; returns how many woke.
///
/// # Safety
/// `addr` is 4-aligned and mapped.
pub unsafe fn wake(addr: *const i32, count: u32) -> u32 {
    let n = count.min(i32::MAX as u32) as i32;
    // SAFETY: the caller's contract for `addr`.
    let r = unsafe { libc::syscall(libc::SYS_futex, addr, libc::FUTEX_WAKE, n) };
    r.max(0) as u32
}

/// Wakes the waiter that sleeps on `cancel` (already set). Without futex_waitv the waiter sleeps
/// on the mapped word only: wake every waiter there.
///
/// # Safety
/// `addr` is 4-aligned and mapped.
pub unsafe fn wake_cancelled(addr: *const i32, cancel: &AtomicU32) {
    // SAFETY: `cancel` is a live word; FUTEX_WAKE on it only wakes our own waiter.
    unsafe {
        libc::syscall(libc::SYS_futex, cancel.as_ptr(), libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, i32::MAX)
    };
    if !HAS_WAITV.load(Ordering::Relaxed) {
        // SAFETY: the caller's contract for `addr`.
        unsafe { wake(addr, u32::MAX) };
    }
}

pub const SUPPORTED: bool = true;
/// What `notify` returns: the exact count of waiters woken.
pub const NOTIFY_COUNTS: bool = true;
