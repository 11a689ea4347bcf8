//! Work on the libuv thread pool over an open map: `flush()`, `indexOfAsync()` (and `prefetch()`
//! in `prefetch.rs`; `open()` is in `open.rs`). Each task that touches
//! pages holds an `Arc` of the region and counts itself in it (`Region::begin_task`), so a
//! `close()`, `resize()` or `remap()` during the task leaves the pages as they are until the task
//! lets go, at the end of `compute`, before its promise settles: a flush really writes back and a
//! search answers from the file's bytes.

use std::fs::File;
use std::sync::Arc;

use memmap_core::search::Search;
use memmap_core::Error;
use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Result, Task};
use napi_derive::napi;

use crate::access::flush_range;
use crate::error::{to_napi, IntoNapi};
use crate::mapping::NativeMap;
use crate::options::byte_count;
use crate::region::Region;
use crate::search::{self, search_offset};

/// A region held by a running task; counted so `close()` knows.
pub(crate) struct Hold {
    pub(crate) region: Arc<Region>,
    pub(crate) file: Option<Arc<File>>,
}

impl Hold {
    pub(crate) fn new(map: &NativeMap) -> Result<Hold> {
        let region = Arc::clone(map.live()?);
        region.begin_task();
        Ok(Hold { region, file: map.file().cloned() })
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.region.end_task();
    }
}

pub struct FlushTask {
    hold: Option<Hold>,
    file_offset: u64,
    start: usize,
    len: usize,
    flushes: bool,
    durable: bool,
}

impl Task for FlushTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        let Some(hold) = self.hold.take() else { return Err(to_napi(Error::Closed)) };
        let file = hold.file.as_deref();
        flush_range(&hold.region, file, self.file_offset, self.start, self.len, self.flushes, self.durable)
            .into_napi()
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

pub struct IndexOfTask {
    hold: Option<Hold>,
    file_offset: u64,
    needle: Vec<u8>,
    search: Search,
}

impl Task for IndexOfTask {
    type Output = f64;
    type JsValue = f64;

    fn compute(&mut self) -> Result<f64> {
        let Some(hold) = self.hold.take() else { return Err(to_napi(Error::Closed)) };
        search::run(&hold.region, hold.file.as_deref(), self.file_offset, &self.needle, self.search)
    }

    fn resolve(&mut self, _env: Env, output: f64) -> Result<f64> {
        Ok(output)
    }
}

/// A map's region, held for one task. A separate object from the map because napi-rs keeps the
/// arguments of a call that returns a task borrowed until the task settles, and `close()` (which
/// borrows the map mutably) must work meanwhile.
#[napi]
pub struct TaskHold {
    pub(crate) hold: Option<Hold>,
    pub(crate) offset: u64,
    pub(crate) length: usize,
    flushes: bool,
}

/// Holds the region for one task (`flush`, `indexOfAsync`, `prefetch`); a `close()` meanwhile
/// leaves the pages as they are until the task ends.
#[napi]
pub fn hold(map: &NativeMap) -> Result<TaskHold> {
    Ok(TaskHold {
        hold: Some(Hold::new(map)?),
        offset: map.file_offset(),
        length: map.byte_length(),
        flushes: map.flushes(),
    })
}

/// `flush` on the thread pool; checks the file's size there too.
#[napi(ts_return_type = "Promise<void>")]
pub fn flush_async(
    hold: &mut TaskHold,
    byte_offset: f64,
    length: f64,
    durable: bool,
) -> Result<AsyncTask<FlushTask>> {
    let start = byte_count("byteOffset", byte_offset)?;
    let len = byte_count("length", length)?;
    memmap_core::check_range(
        ("range.offset", start as u64),
        ("range.length", len as u64),
        hold.length as u64,
    )
    .into_napi()?;
    Ok(AsyncTask::new(FlushTask {
        hold: hold.hold.take(),
        file_offset: hold.offset,
        start,
        len,
        flushes: hold.flushes,
        durable,
    }))
}

/// `indexOf` on the thread pool (the needle is copied).
#[napi(ts_return_type = "Promise<number>")]
pub fn index_of_async(
    hold: &mut TaskHold,
    needle: &[u8],
    from: f64,
    to: f64,
) -> Result<AsyncTask<IndexOfTask>> {
    let search = Search { from: search_offset("from", from)?, to: search_offset("to", to)?, last: false };
    Ok(AsyncTask::new(IndexOfTask {
        hold: hold.hold.take(),
        file_offset: hold.offset,
        needle: needle.to_vec(),
        search,
    }))
}
