//! `wait`, `waitAsync` and `notify`: Atomics.wait/notify semantics on an Int32 of a mapped file,
//! across threads and processes that map the same file. The OS call is chosen by path, one file
//! per platform with the same surface (`wait`, `wake`, `wake_cancelled`, `NOTIFY_COUNTS`):
//! Linux shared futexes, macOS `os_sync_wait_on_address`/`__ulock`. Windows has no
//! wait-on-address call that wakes across processes (`WaitOnAddress` keys by virtual address in
//! one process, so another map of the file, even in the same process, never wakes): there, and
//! on platforms without such a call, every call throws ERR_MMAP_UNSUPPORTED (stub.rs) rather
//! than sleep through a wake that cannot arrive.
//!
//! A pending `waitAsync` parks one thread of memmap's own (never a libuv pool thread; idle ones
//! are reused); the thread holds the map's pages as a task does (`tasks::Hold`). `close()`,
//! `resize()` and `remap()` cancel and wake this map's waiters and wait for their threads to let
//! go (a few instructions after the wake), so the pages are unmapped inside the call. The result reaches
//! JavaScript through a weak threadsafe function: a pending wait keeps the process alive only
//! when asked to (`ref: true`).

#[cfg_attr(target_os = "linux", path = "linux.rs")]
#[cfg_attr(target_os = "macos", path = "macos.rs")]
#[cfg_attr(not(any(target_os = "linux", target_os = "macos")), path = "stub.rs")]
mod platform;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use memmap_core::{check_range, Error, Mode};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Result, Status};
use napi_derive::napi;

use crate::error::{to_napi, IntoNapi};
use crate::mapping::{check_file_size, NativeMap};
use crate::options::byte_count;
use crate::tasks::Hold;

/// How a wait ended. (stub.rs, used on Windows, only ever answers `Unsupported`.)
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(not(any(target_os = "linux", target_os = "macos")), allow(dead_code))]
pub enum Outcome {
    Woken,
    NotEqual,
    TimedOut,
    /// `close()`, `resize()`, `remap()` or an abort cancelled it.
    Cancelled,
    /// The platform has no wait-on-address call (Linux always has futexes).
    #[cfg_attr(target_os = "linux", allow(dead_code))]
    Unsupported,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Outcome::Woken => "ok",
            Outcome::NotEqual => "not-equal",
            Outcome::TimedOut => "timed-out",
            Outcome::Cancelled => "cancelled",
            Outcome::Unsupported => "unsupported",
        }
    }
}

/// One pending `waitAsync`: the word its thread also sleeps on, so a cancel can wake it alone.
pub struct Waiter {
    cancel: AtomicU32,
    /// Why it was cancelled: 0 none, 1 the map closed or moved, 2 aborted.
    reason: AtomicU32,
    addr: usize,
}

impl Waiter {
    fn cancel(&self, reason: u32) {
        if self.cancel.swap(1, Ordering::AcqRel) == 0 {
            self.reason.store(reason, Ordering::Release);
            // SAFETY: the waiter's thread holds the pages (`Hold`) until it has left the wait,
            // so `addr` is mapped while anyone can still sleep on it.
            unsafe { platform::wake_cancelled(self.addr as *const i32, &self.cancel) };
        }
    }
}

/// The pending `waitAsync` calls of one map; `left` signals each one's thread letting go.
#[derive(Default)]
pub struct Waiters {
    list: Mutex<Vec<Arc<Waiter>>>,
    left: Condvar,
}

impl Waiters {
    fn list(&self) -> MutexGuard<'_, Vec<Arc<Waiter>>> {
        self.list.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes every pending waiter of the map (each rejects with ERR_MMAP_CLOSED) and returns once
    /// their threads have let go of the pages, so the caller finds the region idle and unmaps it
    /// now. A woken waiter only drops its hold and leaves the list: no JavaScript runs first.
    pub fn cancel_all(&self) {
        let mut list = self.list();
        for waiter in list.iter() {
            waiter.cancel(1);
        }
        while !list.is_empty() {
            list = self.left.wait(list).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Called by a waiter's thread after it dropped its hold.
    fn remove(&self, waiter: &Arc<Waiter>) {
        self.list().retain(|w| !Arc::ptr_eq(w, waiter));
        self.left.notify_all();
    }
}

type Callback = ThreadsafeFunction<String, (), String, Status, false, true>;

/// A pending `waitAsync`, for aborting it.
#[napi]
pub struct WaitHandle {
    waiter: Arc<Waiter>,
}

#[napi]
impl WaitHandle {
    /// Wakes the waiter; it settles as 'aborted'.
    #[napi]
    pub fn cancel(&self) {
        self.waiter.cancel(2);
    }
}

/// Atomics.wait's order: compare first ('not-equal' even with a zero timeout), then sleep.
///
/// # Safety
/// `addr` is a mapped, 4-aligned Int32 that stays mapped for the call.
unsafe fn wait_on(addr: *const i32, expected: i32, timeout: Option<Duration>, cancel: &AtomicU32) -> Outcome {
    // SAFETY: the caller's contract.
    if unsafe { std::ptr::read_volatile(addr) } != expected {
        return Outcome::NotEqual;
    }
    // SAFETY: as above.
    unsafe { platform::wait(addr, expected, timeout, cancel) }
}

/// A timeout in milliseconds as JavaScript gives it (already normalized there: not NaN, not
/// negative): `None` for Infinity.
fn timeout_of(ms: f64) -> Option<Duration> {
    (ms.is_finite() && ms >= 0.0).then(|| Duration::from_secs_f64(ms / 1000.0))
}

/// Blocks the calling thread while the Int32 at `byteOffset` holds `expected`:
/// 'ok' (woken), 'not-equal' or 'timed-out'.
#[napi]
pub fn wait(map: &NativeMap, byte_offset: f64, expected: i32, timeout_ms: f64) -> Result<&'static str> {
    let addr = map.int32(byte_offset)?;
    let never = AtomicU32::new(0);
    // SAFETY: `int32` checked the word lies in the live map, 4-aligned, inside the file; the
    // map cannot close while this synchronous call runs on its only thread.
    let outcome = unsafe { wait_on(addr, expected, timeout_of(timeout_ms), &never) };
    match outcome {
        Outcome::Unsupported => Err(unsupported()),
        other => Ok(other.name()),
    }
}

/// Wakes up to `count` waiters on the Int32 at `byteOffset`, in any process that maps it.
/// Returns how many woke where the OS tells (Linux), else what the OS can tell (README).
#[napi]
pub fn notify(map: &NativeMap, byte_offset: f64, count: f64) -> Result<f64> {
    let addr = map.int32(byte_offset)?;
    let count = if count >= f64::from(u32::MAX) { u32::MAX } else { count.max(0.0) as u32 };
    // SAFETY: as in `wait`.
    Ok(f64::from(unsafe { platform::wake(addr, count) }))
}

/// `wait` on a thread of memmap's own; `callback` gets 'ok', 'not-equal', 'timed-out',
/// 'closed' (close, resize or remap), 'aborted' or 'unsupported'. Without `keepAlive` the
/// pending wait does not keep the event loop alive.
#[napi(
    ts_args_type = "map: NativeMap, byteOffset: number, expected: number, timeoutMs: number, keepAlive: boolean, callback: (result: string) => void"
)]
pub fn wait_async(
    map: &mut NativeMap,
    env: Env,
    byte_offset: f64,
    expected: i32,
    timeout_ms: f64,
    keep_alive: bool,
    mut callback: Callback,
) -> Result<WaitHandle> {
    let addr = map.int32(byte_offset)?;
    if keep_alive {
        // napi_ref_threadsafe_function: keep the event loop alive while it waits. (The
        // deprecation points at reference counts, which `clone` handles; this is the loop.)
        #[allow(deprecated)]
        callback.refer(&env)?;
    }
    let hold = Hold::new(map)?;
    let waiter =
        Arc::new(Waiter { cancel: AtomicU32::new(0), reason: AtomicU32::new(0), addr: addr as usize });
    let waiters = Arc::clone(map.waiters());
    waiters.list().push(Arc::clone(&waiter));
    let timeout = timeout_of(timeout_ms);
    let mine = Arc::clone(&waiter);
    let spawned = park(Box::new(move || {
        // SAFETY: `hold` keeps the pages mapped until this job ends; `int32` checked the
        // word; close() cancels and wakes us before it lets the pages go.
        let outcome = unsafe { wait_on(mine.addr as *const i32, expected, timeout, &mine.cancel) };
        drop(hold);
        waiters.remove(&mine);
        let result = match (outcome, mine.reason.load(Ordering::Acquire)) {
            (Outcome::Cancelled, 2) => "aborted",
            (Outcome::Cancelled, _) => "closed",
            (other, _) => other.name(),
        };
        callback.call(result.to_string(), ThreadsafeFunctionCallMode::NonBlocking);
    }));
    if let Err(e) = spawned {
        map.waiters().remove(&waiter);
        return Err(to_napi(Error::io("pthread_create", e)));
    }
    Ok(WaitHandle { waiter })
}

impl NativeMap {
    /// The address of the Int32 at `byteOffset`: a 'read-write' file map, 4-aligned in the file,
    /// inside the map and inside the file (a page past its end would fault).
    fn int32(&self, byte_offset: f64) -> Result<*const i32> {
        let region = self.live()?;
        if !platform::SUPPORTED {
            return Err(unsupported());
        }
        if self.mode() != Mode::ReadWrite || self.anonymous() {
            return Err(to_napi(Error::Unsupported(
                "wait and notify need a 'read-write' file map: private pages never wake across processes"
                    .into(),
            )));
        }
        let start = byte_count("byteOffset", byte_offset)?;
        check_range(("byteOffset", start as u64), ("length", 4), self.byte_length() as u64).into_napi()?;
        if !(self.file_offset() + start as u64).is_multiple_of(4) {
            return Err(to_napi(Error::invalid_value(
                "byteOffset",
                "a byte offset whose place in the file is a multiple of 4",
                format!("{start} (number)"),
            )));
        }
        check_file_size(self.file().map(|f| &**f), self.file_offset() + start as u64, 4).into_napi()?;
        // SAFETY: `start + 4 <= length` (checked above), inside the live region.
        Ok(unsafe { region.ptr().add(start) }.cast::<i32>().cast_const())
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Idle waiter threads, each waiting for its next job on its own channel.
static IDLE: Mutex<Vec<mpsc::Sender<Job>>> = Mutex::new(Vec::new());
/// Idle threads kept for reuse; more than this end after their wait.
const KEEP_IDLE: usize = 64;

/// Runs `job` (a wait) on a thread of memmap's own: an idle one, or a new one with a small
/// stack. Starting a thread per wait costs more than the wait itself when waits are short.
fn park(job: Job) -> std::io::Result<()> {
    let idle = IDLE.lock().unwrap_or_else(PoisonError::into_inner).pop();
    let job = match idle {
        Some(sender) => match sender.send(job) {
            Ok(()) => return Ok(()),
            Err(mpsc::SendError(job)) => job,
        },
        None => job,
    };
    let (sender, receiver) = mpsc::channel::<Job>();
    std::thread::Builder::new().name("memmap-wait".into()).stack_size(128 * 1024).spawn(move || {
        let mut next = Some(job);
        while let Some(job) = next.take() {
            job();
            let mut idle = IDLE.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.len() >= KEEP_IDLE {
                break;
            }
            idle.push(sender.clone());
            drop(idle);
            next = receiver.recv().ok();
        }
    })?;
    Ok(())
}

fn unsupported() -> napi::Error {
    let why = if cfg!(windows) {
        "wait and notify: Windows has no wait-on-address call that wakes across maps or processes"
    } else {
        "wait and notify: this platform has no wait-on-address call"
    };
    to_napi(Error::Unsupported(why.into()))
}

/// Whether `notify` returns an exact count on this platform.
#[napi]
pub fn notify_counts() -> bool {
    platform::NOTIFY_COUNTS
}
