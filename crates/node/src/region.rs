//! The mapped pages of one map, shared by the map, every ArrayBuffer made over them and every
//! running task.
//!
//! ## Safety
//!
//! A `Region` owns a memmap2 mapping and publishes a raw pointer to its first byte. The pointer is
//! valid for `len` bytes for as long as the memmap2 object is alive: until [`Region::retire`]
//! unmaps it, [`Region::remap_out`] moves it out, or the last `Arc<Region>` drops. `close()`,
//! `resize()` and `remap()` call `retire` with `reachable: false` only after every ArrayBuffer
//! over the pages was detached or finalized (checked in `mapping.rs`), and `retire` itself waits
//! for the running tasks: it only records the request while a task holds the region, and the
//! task that ends last carries it out, before its promise settles. So no JavaScript view and no
//! thread can reach unmapped pages. When a buffer may still be reachable (moved away by
//! `transfer()`), `retire` replaces the pages in place with anonymous zero memory: the addresses
//! stay valid (reads give zeros, writes are private), the file is released, and the last `Arc`
//! drop unmaps them.

use std::fs::File;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use memmap_core::layout::page_span;
use memmap_core::Result;

use crate::pages::Pages;
use crate::{file_spans, limit, os, read_only};

/// Maps alive in this process (pages not yet unmapped) and the bytes they cover.
pub static LIVE_MAPS: AtomicU64 = AtomicU64::new(0);
pub static MAPPED_BYTES: AtomicU64 = AtomicU64::new(0);

/// For tests: the page-aligned address of the last region mapped, to find it in /proc/self/smaps.
#[cfg(feature = "test-hooks")]
pub static LAST_MAPPED: AtomicU64 = AtomicU64::new(0);

/// What happens to the pages once the last running task ends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OnIdle {
    Keep,
    /// Nothing can reach them: unmap.
    Unmap,
    /// A moved buffer may still reach them: replace them with zero memory.
    ZeroFill,
}

struct State {
    pages: Option<Pages>,
    /// Tasks on the thread pool currently reading or writing the pages.
    tasks: usize,
    on_idle: OnIdle,
    /// Registered in `read_only` (protect('read') or the 'read' fallback).
    read_only: bool,
    /// Set once the region left the live counters (unmapped, zero-filled, moved out or dropped).
    retired: bool,
    /// Kernel mappings the pages occupy (1, more once a ranged call split them), as counted in
    /// `limit`.
    vmas: isize,
}

pub struct Region {
    ptr: NonNull<u8>,
    len: usize,
    /// Bytes from the page boundary the OS mapping starts at to `ptr`.
    delta: usize,
    state: Mutex<State>,
    /// Signalled when the last running task ends.
    idle: Condvar,
    /// False for `allocate()` memory.
    file_backed: bool,
}

// SAFETY: the raw pointer refers to process-wide mapped memory whose lifetime is governed by
// `state.pages` (type-level Safety paragraph); nothing in a Region is tied to a thread.
unsafe impl Send for Region {}
// SAFETY: as above; shared access only reads the pointer, `state` is behind a Mutex.
unsafe impl Sync for Region {}

impl Region {
    pub(crate) fn new(pages: Option<Pages>, len: usize, delta: usize, file_backed: bool) -> Region {
        let ptr = pages.as_ref().and_then(|p| NonNull::new(p.ptr())).unwrap_or(NonNull::dangling());
        let vmas = isize::from(pages.is_some());
        limit::add(vmas);
        #[cfg(feature = "test-hooks")]
        LAST_MAPPED.store((ptr.as_ptr() as u64).wrapping_sub(delta as u64), Ordering::Relaxed);
        LIVE_MAPS.fetch_add(1, Ordering::Relaxed);
        MAPPED_BYTES.fetch_add(len as u64, Ordering::Relaxed);
        if file_backed && pages.is_some() {
            file_spans::insert(ptr.as_ptr() as usize, len);
        }
        let state = State { pages, tasks: 0, on_idle: OnIdle::Keep, read_only: false, retired: false, vmas };
        Region { ptr, len, delta, state: Mutex::new(state), idle: Condvar::new(), file_backed }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// False for `allocate()` memory.
    pub fn file_backed(&self) -> bool {
        self.file_backed
    }

    /// First byte of the caller's range. Valid for `len` bytes (type-level Safety paragraph).
    pub fn ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Bytes mapped before `ptr` in the same OS mapping (offset's distance to its page start).
    pub fn delta(&self) -> usize {
        self.delta
    }

    /// The page-aligned pointer and length covering `[start, start + len)` of the map.
    pub fn span(&self, start: usize, len: usize) -> (*mut u8, usize) {
        let page = os::page_size() as u64;
        let (first, span) = page_span(start as u64, len as u64, self.delta as u64, page);
        // `ptr - delta` is the page-aligned start of the OS mapping and `first` lies within
        // `delta + start`, i.e. inside it. Wrapping arithmetic: a region without pages (length 0
        // at an unaligned offset) has a dangling `ptr` that `delta` would underflow; nothing is
        // read through the result then.
        let base = self.ptr.as_ptr().wrapping_sub(self.delta).wrapping_add(first as usize);
        (base, span as usize)
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A task starts using the pages; they stay mapped (not zero-filled) until it ends.
    pub fn begin_task(&self) {
        self.lock_state().tasks += 1;
    }

    /// A task is done with the pages. The last one carries out what `retire` asked for
    /// meanwhile, before the task's promise settles.
    pub fn end_task(&self) {
        let mut state = self.lock_state();
        state.tasks -= 1;
        if state.tasks == 0 {
            let on_idle = std::mem::replace(&mut state.on_idle, OnIdle::Keep);
            let unmapped = match on_idle {
                OnIdle::Keep => None,
                OnIdle::Unmap => self.take(&mut state),
                OnIdle::ZeroFill => {
                    // A failed zero-fill leaves the pages mapped until the last holder drops them.
                    let _ = self.zero_fill(&mut state);
                    None
                }
            };
            drop(state);
            drop(unmapped);
            self.idle.notify_all();
        }
    }

    /// Whether no task is running on the pages.
    pub fn is_idle(&self) -> bool {
        self.lock_state().tasks == 0
    }

    /// Blocks until no task is running on the pages.
    pub fn wait_idle(&self) {
        let mut state = self.lock_state();
        while state.tasks > 0 {
            state = self.idle.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// The map lets go of the pages (close, or a resize that maps anew). With `reachable: false`
    /// nothing but running tasks can reach them: they are unmapped once the last task ends (now,
    /// if none runs). With `reachable: true` a moved buffer may still read them: a file map's
    /// pages are replaced by zero memory (releasing the file), then unmapped by the last holder.
    pub fn retire(&self, reachable: bool) -> Result<()> {
        let mut state = self.lock_state();
        if state.tasks > 0 {
            if state.on_idle != OnIdle::ZeroFill {
                state.on_idle = if reachable { OnIdle::ZeroFill } else { OnIdle::Unmap };
            }
            return Ok(());
        }
        if reachable {
            return self.zero_fill(&mut state);
        }
        let pages = self.take(&mut state);
        drop(state);
        drop(pages);
        Ok(())
    }

    /// Takes the pages out of the region (the caller unmaps them by dropping them, after
    /// releasing the lock) and leaves the live counters.
    fn take(&self, state: &mut State) -> Option<Pages> {
        let pages = state.pages.take();
        self.leave(state);
        pages
    }

    fn zero_fill(&self, state: &mut State) -> Result<()> {
        if state.pages.is_some() && self.len > 0 && self.file_backed {
            let (base, span) = self.span(0, self.len);
            // SAFETY: `span` is exactly the live OS mapping owned by `pages` (memmap2 maps from
            // `offset - offset % page` for `delta + len` bytes); the lock keeps `take` out.
            if unsafe { os::replace_with_zero(base, span) }? {
                // One anonymous mapping now, whatever splits there were.
                limit::add(1 - state.vmas);
                state.vmas = 1;
            }
            // Else (Windows) the view stays mapped as it is until the last holder drops it.
        }
        // Anonymous memory holds no file: it simply stays until the last holder drops it.
        self.leave(state);
        Ok(())
    }

    /// Leaves the live counters and the read-only registry, once.
    fn leave(&self, state: &mut State) {
        if state.read_only {
            read_only::remove(self.span(0, self.len).0 as usize);
            state.read_only = false;
        }
        if state.pages.is_none() {
            limit::add(-state.vmas);
            state.vmas = 0;
        }
        if !state.retired {
            if self.file_backed {
                file_spans::remove(self.ptr.as_ptr() as usize);
            }
            state.retired = true;
            LIVE_MAPS.fetch_sub(1, Ordering::Relaxed);
            MAPPED_BYTES.fetch_sub(self.len as u64, Ordering::Relaxed);
        }
    }

    /// Moves the pages to `new_len` bytes with mremap(MREMAP_MAYMOVE) and wraps them in a new
    /// region, leaving this one empty. `Ok(None)` where that is not possible (no pages, the
    /// read-only fallback, not Linux) and `Err` where the kernel refuses (a ranged advise or lock
    /// split the mapping): the region is then untouched, and the caller maps afresh.
    ///
    /// # Safety
    /// Nothing may reach the old pages (every view detached, no task), and a file map may only
    /// grow within the file's current size.
    pub unsafe fn remap_out(&self, new_len: usize) -> Result<Option<Region>> {
        let mut state = self.lock_state();
        #[cfg(target_os = "linux")]
        if let (Some(Pages::Writable(map)), true) = (state.pages.as_mut(), new_len > 0) {
            let options = memmap2::RemapOptions::new().may_move(true);
            // SAFETY: the caller's contract; memmap2 swaps in the moved mapping on success and
            // leaves the old one intact on failure.
            unsafe { map.remap(new_len, options) }.map_err(|e| memmap_core::Error::io("mremap", e))?;
            let pages = state.pages.take();
            // mremap only succeeds within one kernel mapping, so there were no splits; the new
            // region counts the one mapping again.
            self.leave(&mut state);
            return Ok(Some(Region::new(pages, new_len, self.delta, self.file_backed)));
        }
        let _ = (&mut state, new_len);
        Ok(None)
    }

    /// Counts the kernel mappings a call on `[start, start + len)` may split off (up to two, for
    /// a range strictly inside the map), after checking the process has room for them.
    pub fn may_split(&self, start: usize, len: usize) -> Result<()> {
        let (base, span) = self.span(start, len);
        let (whole_base, whole_span) = self.span(0, self.len);
        let splits = isize::from(base > whole_base)
            + isize::from((base as usize + span) < (whole_base as usize + whole_span));
        if splits > 0 {
            limit::check(splits as usize)?;
            let mut state = self.lock_state();
            if state.pages.is_some() {
                state.vmas += splits;
                limit::add(splits);
            }
        }
        Ok(())
    }

    /// mprotect of the whole region, recorded in the read-only registry so library calls never
    /// store into it.
    pub fn set_read_only(&self, read_only: bool) -> Result<()> {
        let mut state = self.lock_state();
        if state.pages.is_none() || self.len == 0 {
            return Ok(());
        }
        let (base, span) = self.span(0, self.len);
        // SAFETY: `span` is exactly the live mapping (held by the lock); stores through views then
        // fault, as the README says, and library calls check the registry.
        unsafe { os::protect(base, span, !read_only) }?;
        if read_only && !state.read_only {
            self.register_read_only(&mut state);
        } else if !read_only && state.read_only {
            read_only::remove(base as usize);
            state.read_only = false;
        }
        Ok(())
    }

    /// Records pages mapped read-only from the start (the 'read' fallback).
    pub(crate) fn mark_read_only(&self) {
        self.register_read_only(&mut self.lock_state());
    }

    fn register_read_only(&self, state: &mut State) {
        let (base, span) = self.span(0, self.len);
        read_only::insert(base as usize, span);
        state.read_only = true;
    }

    /// Writes back the pages covering `[start, start + len)` and waits (msync MS_SYNC,
    /// FlushViewOfFile); with `durable`, then asks the device to persist the file (fdatasync,
    /// F_FULLFSYNC, FlushFileBuffers). The caller flushes shared file maps only, and holds the
    /// pages: a task (counted, so they are not retired meanwhile) or the JavaScript thread with
    /// the map open. The lock is not held during the write-back, so close() never waits for it.
    pub fn flush(&self, start: usize, len: usize, durable: Option<&File>) -> Result<()> {
        if len == 0 || self.len == 0 {
            return Ok(());
        }
        let (base, span) = self.span(start, len);
        // SAFETY: the caller holds the pages (above); `span` lies inside the mapping.
        unsafe { os::sync(base, span) }?;
        match durable {
            Some(file) => os::sync_file(file),
            None => Ok(()),
        }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        let pages = state.pages.take();
        let mut state = std::mem::replace(
            state,
            State { pages: None, tasks: 0, on_idle: OnIdle::Keep, read_only: false, retired: true, vmas: 0 },
        );
        self.leave(&mut state);
        drop(pages);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: an empty map at an unaligned offset has no pages and a dangling pointer;
    /// `ptr - delta` underflowed there (a debug-build abort, undefined behaviour in release).
    #[test]
    fn an_empty_region_at_an_unaligned_offset_computes_its_span_without_overflow() {
        let delta = 12345 % os::page_size();
        let region = Region::new(None, 0, delta, true);
        let (base, span) = region.span(0, 0);
        assert_eq!(base as usize, (region.ptr() as usize).wrapping_sub(delta));
        assert_eq!(span, os::page_size());
        region.retire(false).unwrap();
    }
}
