//! Warnings for maps collected without `close()`, like node:fs's for file handles closed on GC.

use std::sync::{Mutex, PoisonError};

use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;

type Listener = ThreadsafeFunction<String, (), String, Status, false, true>;

/// Where warnings about maps collected without `close()` go (a JS function that emits a process
/// warning). A weak threadsafe function: calling it from a finalizer only queues the call for a
/// later turn of the event loop, so no JavaScript runs inside the GC (Bun finalizes there).
static UNCLOSED_LISTENER: Mutex<Option<Listener>> = Mutex::new(None);

/// Sets the function told about maps collected without `close()` (the first caller wins).
#[napi(ts_args_type = "listener: (what: string) => void")]
pub fn set_unclosed_listener(listener: Listener) {
    let mut slot = UNCLOSED_LISTENER.lock().unwrap_or_else(PoisonError::into_inner);
    if slot.is_none() {
        *slot = Some(listener);
    }
}

/// Tells the listener about a map collected without `close()`. Only queues the call: safe inside
/// a finalizer.
pub fn report(what: String) {
    if let Some(listener) = UNCLOSED_LISTENER.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
        listener.call(what, ThreadsafeFunctionCallMode::NonBlocking);
    }
}
