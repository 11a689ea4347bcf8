//! `NativeMap`: one mapping as the TypeScript `MappedFile` drives it, and its lifecycle in one
//! place. The invariants tying its fields together:
//!
//! - `region` is `Some` exactly while the map is open; `length` is the region's length.
//! - Every ArrayBuffer made over the region is in `buffers` until `close()`, `resize()` or
//!   `remap()` detaches it (`detach_all`); those three are the only ways the region changes.
//! - A replaced region is retired (`Region::retire`): unmapped once no task reads it, or
//!   zero-filled first when a buffer moved away by `transfer()` may still reach it.
//! - Pending `waitAsync` calls are in `waiters`; close, resize and remap wake them first (they
//!   settle as closed) and the pages stay until their threads let go (each holds a task).
//! - `file` is the descriptor size checks use: `None` with `trackFile: false`, for anonymous
//!   maps, and once closed (a running task keeps its own handle until it ends).
//! - `locks` are the advisory file locks the map holds; close releases them before `file` goes.
//!
//! `open.rs` makes maps, `access.rs` copies and searches, `memory.rs` advises, locks and
//! protects, `file_lock.rs` takes advisory file locks, `tasks.rs` runs work on the thread pool.

use std::fs::File;
use std::sync::Arc;

use memmap_core::layout::check_not_truncated;
use memmap_core::{check_range, check_window, Error, Layout, Mode, OpenedFile};
use napi::bindgen_prelude::Unknown;
use napi::{Env, Result};
use napi_derive::napi;

use crate::error::{to_napi, IntoNapi};
use crate::external_buffer::{self, Tracked};
use crate::file_lock::FileLocks;
use crate::handle::Wrapped;
use crate::open::{Label, Opened};
use crate::options::byte_count;
use crate::os;
use crate::pages::HugePages;
use crate::region::Region;
use crate::shared::SharedMemory;
use crate::unclosed;
use crate::wait::Waiters;

mod cut;

pub struct NativeMap {
    region: Option<Arc<Region>>,
    file: Option<Arc<File>>,
    mode: Mode,
    offset: u64,
    length: usize,
    /// Opened with `length`: `remap()` does not follow the file.
    explicit_length: bool,
    /// The file's size at open, for `fileSize` without a descriptor.
    size_at_open: u64,
    stray_writes_fault: bool,
    /// Made read-only by `protect('read')`; carried over to the pages a resize maps.
    protected: bool,
    huge_pages: HugePages,
    buffers: Vec<Tracked>,
    /// Pending `waitAsync` calls, woken by close, resize and remap.
    /// Made by the first `waitAsync`: most maps never wait.
    waiters: Option<Arc<Waiters>>,
    /// Advisory file locks held through this map.
    locks: FileLocks,
    /// Shared anonymous memory (`allocate(n, { shared: true })` or a map of one made by
    /// `openShared`): never shrinks, has no file to lock or flush.
    shared: Option<SharedMemory>,
    /// Names the map in the warning a map collected without `close()` raises.
    label: Label,
}

impl NativeMap {
    pub fn from_opened(o: Opened) -> NativeMap {
        NativeMap {
            length: o.region.len(),
            region: Some(Arc::new(o.region)),
            file: o.options.track_file.then(|| Arc::new(o.file)),
            mode: o.options.mode,
            offset: o.layout.offset,
            explicit_length: o.options.length.is_some(),
            size_at_open: o.size_at_open,
            stray_writes_fault: o.stray_writes_fault,
            protected: false,
            huge_pages: HugePages::None,
            buffers: Vec::new(),
            waiters: None,
            locks: FileLocks::new(o.reopen),
            shared: o.shared.then_some(SharedMemory::Descriptor),
            label: o.label,
        }
    }

    /// A map of memory rather than of a file the caller named: `allocate()` (private, `file`
    /// None) and shared anonymous memory (a memfd or shm descriptor, or a Windows section).
    pub(crate) fn from_memory(
        region: Region,
        file: Option<File>,
        shared: Option<SharedMemory>,
        huge_pages: HugePages,
    ) -> NativeMap {
        let label = Label::Memory(if shared.is_some() { "shared memory" } else { "anonymous memory" });
        NativeMap {
            length: region.len(),
            size_at_open: region.len() as u64,
            region: Some(Arc::new(region)),
            file: file.map(Arc::new),
            mode: Mode::ReadWrite,
            offset: 0,
            explicit_length: true,
            stray_writes_fault: false,
            protected: false,
            huge_pages,
            buffers: Vec::new(),
            waiters: None,
            locks: FileLocks::default(),
            shared,
            label,
        }
    }

    pub(crate) fn shared_memory(&self) -> Option<&SharedMemory> {
        self.shared.as_ref()
    }

    /// The identity a `trackFile: false` map opened by path recorded at open.
    pub(crate) fn mapped_identity(&self) -> Option<(u64, u64)> {
        self.locks.mapped_identity()
    }

    /// A section opened by `openShared` with a narrower mode than read-write.
    #[cfg(windows)]
    pub(crate) fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
    }

    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    /// The map's offset in its file (0 for anonymous memory).
    pub(crate) fn file_offset(&self) -> u64 {
        self.offset
    }

    pub(crate) fn byte_length(&self) -> usize {
        self.length
    }

    pub(crate) fn file(&self) -> Option<&Arc<File>> {
        self.file.as_ref()
    }

    /// `allocate()` memory (derived from the live region).
    pub(crate) fn anonymous(&self) -> bool {
        self.region.as_ref().is_some_and(|r| !r.file_backed())
    }

    /// Whether `flush` does anything: shared file maps only (shared memory has no file).
    pub(crate) fn flushes(&self) -> bool {
        self.mode == Mode::ReadWrite && !self.anonymous() && self.shared.is_none()
    }

    pub(crate) fn live(&self) -> Result<&Arc<Region>> {
        self.region.as_ref().ok_or_else(|| to_napi(Error::Closed))
    }

    /// Validates `[byte_offset, byte_offset + length)` against the map, and against the file's
    /// current size (truncation by another process) when the map tracks its file.
    pub(crate) fn checked_range(&self, byte_offset: f64, length: f64) -> Result<(usize, usize)> {
        self.live()?;
        let start = byte_count("byteOffset", byte_offset)?;
        let len = byte_count("length", length)?;
        check_range(("byteOffset", start as u64), ("length", len as u64), self.length as u64).into_napi()?;
        check_file_size(self.file.as_deref(), self.offset + start as u64, len as u64).into_napi()?;
        Ok((start, len))
    }

    pub(crate) fn waiters(&mut self) -> &Arc<Waiters> {
        self.waiters.get_or_insert_with(Arc::default)
    }

    /// Wakes every pending `waitAsync` (they settle as closed); see `Waiters::cancel_all`.
    fn cancel_waiters(&self) {
        if let Some(waiters) = &self.waiters {
            waiters.cancel_all();
        }
    }

    pub(crate) fn file_locks(&mut self) -> &mut FileLocks {
        &mut self.locks
    }

    /// Records the protection `protect()` gave the pages, so a resize keeps it.
    pub(crate) fn set_protected(&mut self, protected: bool) {
        self.protected = protected;
    }
}

/// Anonymous private memory; `hugePages` tries MAP_HUGETLB, then MADV_HUGEPAGE.
#[napi(ts_return_type = "NativeMap")]
pub fn allocate(length: f64, huge_pages: bool) -> Result<Wrapped> {
    let length = byte_count("length", length)?;
    let (region, huge) = Region::anonymous(length, huge_pages).into_napi()?;
    Ok(Wrapped(NativeMap::from_memory(region, None, None, huge)))
}

#[napi]
pub fn stray_writes_fault(map: &NativeMap) -> bool {
    map.stray_writes_fault
}

/// 'hugetlb', 'thp' or '' (none).
#[napi]
pub fn huge_pages(map: &NativeMap) -> &'static str {
    match map.huge_pages {
        HugePages::None => "",
        HugePages::Hugetlb => "hugetlb",
        HugePages::Thp => "thp",
    }
}

/// The file's size now (fstat), or at open time with `trackFile: false`.
#[napi]
pub fn file_size(map: &NativeMap) -> Result<f64> {
    map.live()?;
    match &map.file {
        Some(file) => Ok(OpenedFile::current_size(file).into_napi()? as f64),
        None => Ok(map.size_at_open as f64),
    }
}

/// A new ArrayBuffer over `[offset - shift, offset - shift + length)`, tracked for `close()`.
/// `start` and `length` select a window of the map (for maps larger than one view).
#[napi]
pub fn create_buffer(
    map: &mut NativeMap,
    env: Env,
    shift: u32,
    start: f64,
    length: f64,
) -> Result<Unknown<'_>> {
    let region = Arc::clone(map.live()?);
    let (shift, start, length) = (shift as usize, byte_count("start", start)?, byte_count("length", length)?);
    check_window(start as u64, shift as u64, length as u64, map.length as u64, region.delta() as u64)
        .into_napi()?;
    let (value, tracked) = external_buffer::create(env.raw(), &region, start, shift, length).into_napi()?;
    map.buffers.push(tracked);
    // SAFETY: `value` is an ArrayBuffer just created in this env.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), value) })
}

/// Detaches every ArrayBuffer this map created and unmaps, or, when a buffer may still be
/// reachable (moved by `transfer()`), replaces the pages with anonymous zero memory that the
/// last holder unmaps. A running task keeps the pages as they are until it ends; the unmap or
/// zero-fill happens then. Releases the map's file locks and its descriptor (a task's own
/// hold of it ends with the task). Idempotent. Called by `hot::close`.
pub fn close(map: &mut NativeMap, env: Env) -> Result<()> {
    if map.region.is_none() {
        return Ok(());
    }
    map.cancel_waiters();
    map.locks.release_all(map.file.as_ref());
    let released = map.detach_all(env);
    let Some(region) = map.region.take() else { return Ok(()) };
    map.file = None;
    region.retire(!released).into_napi()
}

/// Sets the length to `newLength` (and the file to `offset + newLength`), detaching every
/// view. A failure leaves the file's size and bytes, and the map's length and contents, as
/// they were.
#[napi]
pub fn resize(map: &mut NativeMap, env: Env, new_length: f64) -> Result<()> {
    map.live()?;
    let anonymous = map.anonymous();
    match (anonymous, map.mode) {
        (false, Mode::Read) => {
            return Err(to_napi(Error::ReadOnly("resize() needs mode 'read-write' or an allocate() map")))
        }
        (false, Mode::CopyOnWrite) => {
            return Err(to_napi(Error::Unsupported(
                "resize() is not supported on 'copy-on-write' maps".into(),
            )))
        }
        _ => {}
    }
    let new_len = byte_count("newLength", new_length)?;
    if map.shared.is_some() {
        check_shared_resize(new_len, map.length).into_napi()?;
    }
    if anonymous {
        return map.replace_region(env, new_len, None);
    }
    let file = map.file.clone().ok_or_else(|| {
        to_napi(Error::Unsupported("resize() needs the descriptor: open without `trackFile: false`".into()))
    })?;
    let old_size = OpenedFile::current_size(&file).into_napi()?;
    let target = map.offset + new_len as u64;
    if target > old_size {
        // Grow the file first, so the new pages are backed; undo it if mapping fails.
        file.set_len(target).map_err(|e| to_napi(Error::io("ftruncate", e)))?;
        if let Err(e) = map.replace_region(env, new_len, Some(&file)) {
            if os::TRUNCATE_WHILE_MAPPED {
                let _ = file.set_len(old_size);
            } else {
                // The old view still maps the file: cut it back the way a shrink does.
                let old_len = map.length;
                let _ = map.cut_unmapped(env, old_len, &file, old_size, target);
            }
            return Err(e);
        }
        return Ok(());
    }
    if target < old_size && !os::TRUNCATE_WHILE_MAPPED {
        return map.cut_unmapped(env, new_len, &file, target, old_size);
    }
    // The file shrinks (or keeps its size): map first, so no page of the new map lies past
    // the new end, then cut the file once no task reads the old pages.
    if target < old_size {
        os::check_shrinkable(&file).into_napi()?;
    }
    let (old_len, old) = (map.length, Arc::clone(map.live()?));
    map.replace_region(env, new_len, Some(&file))?;
    if target < old_size {
        old.wait_idle();
        if let Err(e) = file.set_len(target) {
            let _ = map.replace_region(env, old_len, Some(&file));
            return Err(to_napi(Error::io("ftruncate", e)));
        }
    }
    Ok(())
}

/// 'read' maps without an explicit length: follow the file's current size. Detaches every
/// view, also when the size is unchanged.
#[napi]
pub fn remap(map: &mut NativeMap, env: Env) -> Result<f64> {
    map.live()?;
    if map.anonymous() || map.explicit_length || map.mode == Mode::ReadWrite {
        return Err(to_napi(Error::Unsupported(
            "remap() is for 'read' and 'copy-on-write' maps opened without `length`".into(),
        )));
    }
    let file = map.file.clone().ok_or_else(|| {
        to_napi(Error::Unsupported("remap() needs the descriptor: open without `trackFile: false`".into()))
    })?;
    let size = OpenedFile::current_size(&file).into_napi()?;
    let new_len = Layout::new(map.offset, None, size, os::page_size() as u64).into_napi()?.length as usize;
    map.replace_region(env, new_len, Some(&file))?;
    Ok(new_len as f64)
}

impl NativeMap {
    /// Detaches every tracked ArrayBuffer. True when no JavaScript can reach the pages any more:
    /// every buffer detached now or finalized.
    fn detach_all(&mut self, env: Env) -> bool {
        let mut all_released = true;
        for tracked in self.buffers.drain(..) {
            all_released &= tracked.release(env.raw());
        }
        all_released
    }

    /// Detaches every view and swaps in a region of `new_len` bytes with the same contents. The
    /// old pages go once no task reads them (`Region::retire`); on failure the map keeps them.
    fn replace_region(&mut self, env: Env, new_len: usize, file: Option<&File>) -> Result<()> {
        let old = Arc::clone(self.live()?);
        self.cancel_waiters();
        let released = self.detach_all(env);
        let mut moved = None;
        if released && old.is_idle() {
            // SAFETY: every view is detached or finalized and no task holds the region; a file
            // map only grows after `resize` grew the file, and `remap` grows to the file's size.
            // A refusal (a ranged advise or lock split the mapping) leaves it intact.
            moved = unsafe { old.remap_out(new_len) }.ok().flatten();
        }
        let new = match moved {
            Some(region) => region,
            None => {
                let fresh = match file {
                    Some(file) => {
                        let layout = Layout::at(self.offset, new_len as u64, os::page_size() as u64);
                        Region::map(file, &layout, self.mode).map(|(r, _)| r).into_napi()?
                    }
                    None => Region::anonymous(new_len, false).map(|(r, _)| r).into_napi()?,
                };
                if !old.file_backed() {
                    copy_contents(&old, &fresh, new_len.min(self.length));
                }
                old.retire(!released).into_napi()?;
                fresh
            }
        };
        if self.protected {
            new.set_read_only(true).into_napi()?;
        }
        self.region = Some(Arc::new(new));
        self.length = new_len;
        Ok(())
    }
}

/// Shared memory grows (where the OS lets it) and never shrinks: another process's map of the
/// cut pages would fault.
fn check_shared_resize(new_len: usize, len: usize) -> memmap_core::Result<()> {
    if new_len < len {
        return Err(Error::Unsupported(format!(
            "shared memory never shrinks (other maps of it would fault): {len} bytes now, {new_len} asked"
        )));
    }
    if new_len > len && !os::SHARED_MEMORY_GROWS {
        return Err(Error::Unsupported(format!(
            "shared memory ({}) keeps the size it was made with on this OS",
            os::SHARED_MEMORY_KIND
        )));
    }
    Ok(())
}

/// Copies the first `len` bytes of an anonymous map into its replacement.
fn copy_contents(from: &Region, to: &Region, len: usize) {
    if len > 0 {
        // SAFETY: both regions are live for at least `len` bytes and are distinct mappings.
        unsafe { std::ptr::copy_nonoverlapping(from.ptr(), to.ptr(), len) };
    }
}

/// The truncation check of SPEC §4.5, by fstat just before the access.
pub fn check_file_size(file: Option<&File>, file_start: u64, len: u64) -> memmap_core::Result<()> {
    match file {
        Some(file) => {
            let size = OpenedFile::current_size(file)?;
            check_not_truncated(file_start, len, size, os::page_size() as u64)
        }
        None => Ok(()),
    }
}

impl NativeMap {
    /// Collected without `close()`: report it, and drop the weak references; the pages stay
    /// mapped until the last ArrayBuffer over them is finalized (each holds an `Arc`).
    pub(crate) fn finalize(mut self, env: Env) -> Result<()> {
        self.cancel_waiters();
        self.locks.release_all(self.file.as_ref());
        for tracked in self.buffers.drain(..) {
            tracked.forget(env.raw());
        }
        if let Some(region) = &self.region {
            unclosed::report(&env, format!("{} ({} bytes)", self.label, region.len()));
        }
        Ok(())
    }
}
