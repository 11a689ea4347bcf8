//! `prefetch()`: pages a range in on the libuv thread pool, so the page faults (disk reads of a
//! cold file) happen off the JavaScript thread. The task holds the region as every task in
//! `tasks.rs` does (a `close()` meanwhile leaves the pages as they are until the task ends) and
//! reads the pages with the same read-populate as `populate` and `lock()`: MADV_POPULATE_READ, else a read of one byte
//! per page, never a write fault (a 'read' map is private and writable, and a write fault would
//! copy the file into private memory).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use memmap_core::{check_range, Error};
use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Result, Task};
use napi_derive::napi;

use crate::error::{to_napi, IntoNapi};
use crate::mapping::check_file_size;
use crate::options::byte_count;
use crate::os;
use crate::tasks::{Hold, TaskHold};

/// Pages read in per step; the abort flag is checked between steps. 16 MiB of a cold disk at
/// 100-500 MB/s is 30-160 ms, so an aborted prefetch lets go of the region soon after.
const CHUNK: usize = 16 << 20;

/// Set by JavaScript when a prefetch's `signal` aborts. The promise rejects at once on the JS
/// side; this only stops the native work at the next chunk.
#[napi]
pub struct PrefetchAbort {
    flag: Arc<AtomicBool>,
}

#[napi]
impl PrefetchAbort {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> PrefetchAbort {
        PrefetchAbort { flag: Arc::new(AtomicBool::new(false)) }
    }

    #[napi]
    pub fn abort(&self) {
        self.flag.store(true, Ordering::Release);
    }
}

pub struct PrefetchTask {
    hold: Option<Hold>,
    file_start: u64,
    start: usize,
    len: usize,
    aborted: Arc<AtomicBool>,
}

impl Task for PrefetchTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        let Some(hold) = self.hold.take() else { return Err(to_napi(Error::Closed)) };
        if self.len == 0 {
            return Ok(());
        }
        // A page wholly past the file's end would fault (SIGBUS) when read in.
        check_file_size(hold.file.as_deref(), self.file_start, self.len as u64).into_napi()?;
        let (ptr, span) = hold.region.span(self.start, self.len);
        let mut done = 0;
        while done < span && !self.aborted.load(Ordering::Acquire) {
            let step = CHUNK.min(span - done);
            // SAFETY: `span` is the page-aligned cover of a range checked against the map, and
            // `hold` keeps the region mapped (zero-filled at worst) until it drops at the end of
            // this function; `done` is a multiple of CHUNK, itself a multiple of the page size.
            unsafe { os::populate_read(ptr.add(done), step) }.into_napi()?;
            done += step;
        }
        Ok(())
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

/// `prefetch` of `[byteOffset, byteOffset + length)` on the thread pool.
#[napi(ts_return_type = "Promise<void>")]
pub fn prefetch_async(
    hold: &mut TaskHold,
    byte_offset: f64,
    length: f64,
    abort: &PrefetchAbort,
) -> Result<AsyncTask<PrefetchTask>> {
    let start = byte_count("range.offset", byte_offset)?;
    let len = byte_count("range.length", length)?;
    check_range(("range.offset", start as u64), ("range.length", len as u64), hold.length as u64)
        .into_napi()?;
    Ok(AsyncTask::new(PrefetchTask {
        hold: hold.hold.take(),
        file_start: hold.offset + start as u64,
        start,
        len,
        aborted: Arc::clone(&abort.flag),
    }))
}
