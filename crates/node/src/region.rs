//! The mapped pages of one map, shared by the map, every ArrayBuffer made over them and every
//! running task.
//!
//! ## Safety
//!
//! A `Region` owns a memmap2 mapping and publishes a raw pointer to its first byte. The pointer is
//! valid for `len` bytes for as long as the memmap2 object is alive: until [`Region::unmap_now`]
//! or [`Region::take_pages`], or the drop of the last `Arc<Region>`. Those two are only called by
//! `close()`/`resize()` after every ArrayBuffer over the pages was detached and no task holds the
//! region (checked in `mapping.rs`), so no JavaScript view and no thread can reach the pages
//! afterwards. When that cannot be proven, [`Region::release_file`] replaces the pages in place
//! with anonymous zero memory: the addresses stay valid (reads give zeros, writes are private),
//! the file is released, and the last `Arc` drop unmaps them.

use std::fs::File;
use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use memmap2::{Mmap, MmapMut, MmapOptions};
use memmap_core::layout::page_span;
use memmap_core::{Error, Layout, Mode, Result};

use crate::os;

/// Maps alive in this process (pages not yet unmapped) and the bytes they cover.
pub static LIVE_MAPS: AtomicU64 = AtomicU64::new(0);
pub static MAPPED_BYTES: AtomicU64 = AtomicU64::new(0);

/// For tests: force the 'read' fallback to a truly read-only map.
#[cfg(feature = "test-hooks")]
pub static FORCE_READ_ONLY_FALLBACK: AtomicBool = AtomicBool::new(false);

fn private_map_refused() -> bool {
    #[cfg(feature = "test-hooks")]
    if FORCE_READ_ONLY_FALLBACK.load(Ordering::Relaxed) {
        return true;
    }
    false
}

pub enum Pages {
    /// 'read' and 'copy-on-write' (private), 'read-write' (shared), anonymous.
    Writable(MmapMut),
    /// The 'read' fallback where the OS refuses a private writable map: stray writes fault.
    ReadOnly(Mmap),
}

impl Pages {
    fn ptr(&self) -> *mut u8 {
        match self {
            Pages::Writable(m) => m.as_ptr().cast_mut(),
            Pages::ReadOnly(m) => m.as_ptr().cast_mut(),
        }
    }
}

/// Huge pages behind an anonymous map.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum HugePages {
    None,
    Hugetlb,
    Thp,
}

pub struct Region {
    ptr: NonNull<u8>,
    len: usize,
    /// Bytes from the page boundary the OS mapping starts at to `ptr`.
    delta: usize,
    pages: Mutex<Option<Pages>>,
    /// Async tasks currently reading or writing the pages.
    pub tasks: AtomicUsize,
    /// Set once the region left the live counters (unmapped, taken, or dropped).
    retired: AtomicBool,
    /// False for `allocate()` memory.
    file_backed: bool,
}

// SAFETY: the raw pointer refers to process-wide mapped memory whose lifetime is governed by
// `pages` (type-level Safety paragraph); nothing in a Region is tied to a thread.
unsafe impl Send for Region {}
// SAFETY: as above; shared access only reads the pointer, `pages` is behind a Mutex.
unsafe impl Sync for Region {}

impl Region {
    /// Maps `layout` of `file` for `mode`. Returns the region and whether stray writes fault.
    /// A zero-length layout maps nothing.
    pub fn map(file: &File, layout: &Layout, mode: Mode) -> Result<(Region, bool)> {
        let len = usize::try_from(layout.length)
            .map_err(|_| Error::OutOfRange(format!("length {} exceeds the address space", layout.length)))?;
        let delta = layout.delta() as usize;
        if len == 0 {
            return Ok((Region::new(None, 0, delta, true), false));
        }
        let mut options = MmapOptions::new();
        options.offset(layout.offset).len(len);
        let (pages, stray_writes_fault) = match mode {
            Mode::ReadWrite => {
                // SAFETY: memmap2's file-map contract: the file may change under the map. Shared
                // maps exist to see such changes; truncation is guarded by size checks in every
                // library call (README, "Safety and caveats").
                let map = unsafe { options.map_mut(file) }.map_err(|e| Error::io("mmap", e))?;
                (Pages::Writable(map), false)
            }
            Mode::Read | Mode::CopyOnWrite => {
                options.no_reserve_swap();
                let private = if private_map_refused() {
                    Err(io::Error::from_raw_os_error(libc::ENOMEM))
                } else {
                    // SAFETY: as for `map_mut`; the map is private, so no write reaches the file.
                    unsafe { options.map_copy(file) }
                };
                match private {
                    Ok(map) => (Pages::Writable(map), false),
                    Err(e) if mode == Mode::Read && e.raw_os_error() == Some(libc::ENOMEM) => {
                        // SAFETY: as for `map_mut`; private and read-only (no commit charge), so a
                        // stray write faults (documented).
                        let map =
                            unsafe { options.map_copy_read_only(file) }.map_err(|e| Error::io("mmap", e))?;
                        (Pages::ReadOnly(map), true)
                    }
                    Err(e) => return Err(Error::io("mmap", e)),
                }
            }
        };
        Ok((Region::new(Some(pages), len, delta, true), stray_writes_fault))
    }

    /// Anonymous private memory of `len` bytes, without MAP_NORESERVE (so it fails early with
    /// ENOMEM). With `huge`, tries MAP_HUGETLB, then MADV_HUGEPAGE.
    pub fn anonymous(len: usize, huge: bool) -> Result<(Region, HugePages)> {
        if len == 0 {
            return Ok((Region::new(None, 0, 0, false), HugePages::None));
        }
        if huge {
            // munmap of a hugetlb mapping needs a multiple of the huge page size, so memmap2 (which
            // unmaps what it mapped) must map the rounded length; the map shows `len` bytes.
            let rounded = len.div_ceil(os::huge_page_size()) * os::huge_page_size();
            if let Ok(map) = MmapOptions::new().len(rounded).huge(None).map_anon() {
                return Ok((Region::new(Some(Pages::Writable(map)), len, 0, false), HugePages::Hugetlb));
            }
        }
        let map = MmapOptions::new().len(len).map_anon().map_err(|e| Error::io("mmap", e))?;
        let region = Region::new(Some(Pages::Writable(map)), len, 0, false);
        let mut kind = HugePages::None;
        if huge {
            let (ptr, span) = region.span(0, len);
            // SAFETY: `span` covers exactly the anonymous mapping just made, page-aligned.
            if unsafe { os::advise(ptr, span, memmap_core::Advice::HugePage) }.is_ok()
                && cfg!(target_os = "linux")
            {
                kind = HugePages::Thp;
            }
        }
        Ok((region, kind))
    }

    /// Wraps pages that were mapped (or remapped) elsewhere.
    pub fn from_pages(pages: Option<Pages>, len: usize, delta: usize, file_backed: bool) -> Region {
        Region::new(pages, len, delta, file_backed)
    }

    fn new(pages: Option<Pages>, len: usize, delta: usize, file_backed: bool) -> Region {
        let ptr = pages.as_ref().and_then(|p| NonNull::new(p.ptr())).unwrap_or(NonNull::dangling());
        LIVE_MAPS.fetch_add(1, Ordering::Relaxed);
        MAPPED_BYTES.fetch_add(len as u64, Ordering::Relaxed);
        Region {
            ptr,
            len,
            delta,
            pages: Mutex::new(pages),
            tasks: AtomicUsize::new(0),
            retired: AtomicBool::new(false),
            file_backed,
        }
    }

    pub fn file_backed(&self) -> bool {
        self.file_backed
    }

    pub fn len(&self) -> usize {
        self.len
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
        // SAFETY: `ptr - delta` is the page-aligned start of the OS mapping and `first` lies
        // within `delta + start`, i.e. inside it.
        let base = unsafe { self.ptr.as_ptr().sub(self.delta).add(first as usize) };
        (base, span as usize)
    }

    fn lock_pages(&self) -> MutexGuard<'_, Option<Pages>> {
        self.pages.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Unmaps the pages now. Only once nothing can reach them (type-level Safety paragraph).
    pub fn unmap_now(&self) {
        drop(self.take_pages());
    }

    /// Takes the pages out (to remap them); the region is left empty.
    pub fn take_pages(&self) -> Option<Pages> {
        let pages = self.lock_pages().take();
        self.retire();
        pages
    }

    /// Moves the pages to `new_len` bytes with mremap(MREMAP_MAYMOVE) and takes them out, leaving
    /// this region empty. `Ok(None)` where that is not possible (no pages, read-only fallback,
    /// not Linux): the caller maps afresh. On error the region is untouched.
    ///
    /// # Safety
    /// Nothing may reach the old pages (every view detached, no task), and a file map may only
    /// grow within the file's current size.
    pub unsafe fn remap_out(&self, new_len: usize) -> Result<Option<Pages>> {
        let mut guard = self.lock_pages();
        #[cfg(target_os = "linux")]
        if let (Some(Pages::Writable(map)), true) = (guard.as_mut(), new_len > 0) {
            let options = memmap2::RemapOptions::new().may_move(true);
            // SAFETY: the caller's contract; memmap2 swaps in the moved mapping on success and
            // leaves the old one intact on failure.
            unsafe { map.remap(new_len, options) }.map_err(|e| Error::io("mremap", e))?;
            let pages = guard.take();
            drop(guard);
            self.retire();
            return Ok(pages);
        }
        let _ = (&mut guard, new_len);
        Ok(None)
    }

    fn retire(&self) {
        if !self.retired.swap(true, Ordering::Relaxed) {
            LIVE_MAPS.fetch_sub(1, Ordering::Relaxed);
            MAPPED_BYTES.fetch_sub(self.len as u64, Ordering::Relaxed);
        }
    }

    /// Replaces the pages in place with anonymous zero memory, releasing the file while keeping
    /// the addresses valid for views that may still exist.
    pub fn release_file(&self) -> Result<()> {
        let guard = self.lock_pages();
        if guard.is_none() || self.len == 0 || !self.file_backed {
            // Anonymous memory holds no file: it simply stays until the last holder drops it.
            drop(guard);
            self.retire();
            return Ok(());
        }
        let (base, span) = self.span(0, self.len);
        // SAFETY: `span` is exactly the live OS mapping owned by `pages` (memmap2 maps from
        // `offset - offset % page` for `delta + len` bytes); the lock keeps `unmap_now` out.
        unsafe { os::replace_with_zero(base, span) }?;
        self.retire();
        Ok(())
    }

    /// `msync(MS_SYNC)` of `[start, start + len)` (shared file maps; a no-op elsewhere).
    pub fn flush(&self, start: usize, len: usize) -> Result<()> {
        if let Some(Pages::Writable(map)) = self.lock_pages().as_ref() {
            map.flush_range(start, len).map_err(|e| Error::io("msync", e))?;
        }
        Ok(())
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        self.retire();
    }
}
