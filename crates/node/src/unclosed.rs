//! Warnings for maps collected without `close()`, like node:fs's for file handles closed on GC.

use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Result, Status};
use napi_derive::napi;

type Listener = ThreadsafeFunction<String, (), String, Status, false, true>;

/// Sets the function told about this thread's maps collected without `close()` (a JS function
/// that emits a process warning). Each JavaScript environment (the main thread, each worker)
/// keeps its own, as instance data: a map is reported to the thread that made it, whichever
/// thread loaded memmap first. A weak threadsafe function: calling it from a finalizer only
/// queues the call for a later turn of the event loop, so no JavaScript runs inside the GC (Bun
/// finalizes there).
#[napi(ts_args_type = "listener: (what: string) => void")]
pub fn set_unclosed_listener(env: Env, listener: Listener) -> Result<()> {
    env.set_instance_data(listener, (), |_| {})
}

/// Tells this environment's listener about a map collected without `close()`. Only queues the
/// call: safe inside a finalizer.
pub fn report(env: &Env, what: String) {
    if let Ok(Some(listener)) = env.get_instance_data::<Listener>() {
        listener.call(what, ThreadsafeFunctionCallMode::NonBlocking);
    }
}
