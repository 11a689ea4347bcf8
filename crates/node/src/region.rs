//! The mapped pages of one map, shared by the map and every ArrayBuffer made over them.
//!
//! ## Safety
//!
//! A `Region` owns a memmap2 mapping and publishes a raw pointer to its first byte. The pointer is
//! valid for `len` bytes for as long as the memmap2 object is alive: until [`Region::unmap_now`]
//! or the drop of the last `Arc<Region>`. `unmap_now` is only called by `close()` after every
//! ArrayBuffer over the pages was detached and no task holds the region (checked in
//! `mapping.rs`), so no JavaScript view and no thread can reach the pages afterwards. When that
//! cannot be proven, [`Region::release_file`] replaces the pages in place with anonymous zero
//! memory: the address range stays valid (reads give zeros, writes are private), the file is
//! released, and the last `Arc` drop unmaps it.

use std::fs::File;
use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use memmap2::{Mmap, MmapMut, MmapOptions};
use memmap_core::{Error, Layout, Mode, Result};

/// Maps alive in this process (Regions not yet dropped) and the bytes they cover.
pub static LIVE_MAPS: AtomicU64 = AtomicU64::new(0);
pub static MAPPED_BYTES: AtomicU64 = AtomicU64::new(0);

/// The system page size.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions; _SC_PAGESIZE is always supported on Unix.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

enum Pages {
    /// Writable: 'read' and 'copy-on-write' (private), 'read-write' (shared).
    Writable(MmapMut),
    /// The 'read' fallback where the OS refuses a private writable map: stray writes fault.
    ReadOnly(Mmap),
}

pub struct Region {
    ptr: NonNull<u8>,
    len: usize,
    /// Bytes from the page boundary the OS mapping starts at to `ptr`.
    delta: usize,
    pages: Mutex<Option<Pages>>,
    /// Async tasks currently reading or writing the pages.
    pub tasks: AtomicUsize,
    /// Set once the region left the live counters (unmapped by close, or dropped).
    retired: AtomicBool,
}

// SAFETY: the raw pointer refers to process-wide mapped memory whose lifetime is governed by
// `pages` (see the type-level Safety paragraph); nothing in a Region is tied to a thread.
unsafe impl Send for Region {}
// SAFETY: as above; shared access only reads the pointer, `pages` is behind a Mutex.
unsafe impl Sync for Region {}

/// For tests: force the 'read' fallback to a truly read-only map.
#[cfg(feature = "test-hooks")]
pub static FORCE_READ_ONLY_FALLBACK: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

fn private_map_refused() -> bool {
    #[cfg(feature = "test-hooks")]
    if FORCE_READ_ONLY_FALLBACK.load(Ordering::Relaxed) {
        return true;
    }
    false
}

impl Region {
    /// Maps `layout` of `file` for `mode`. Returns the region and whether stray writes fault.
    /// A zero-length layout maps nothing.
    pub fn map(file: &File, layout: &Layout, mode: Mode) -> Result<(Region, bool)> {
        let len = usize::try_from(layout.length)
            .map_err(|_| Error::OutOfRange(format!("length {} exceeds the address space", layout.length)))?;
        let delta = usize::try_from(layout.delta()).unwrap_or(0);
        if len == 0 {
            return Ok((Region::new(NonNull::dangling(), 0, 0, None), false));
        }
        let mut options = MmapOptions::new();
        options.offset(layout.offset).len(len);
        let (pages, stray_writes_fault) = match mode {
            Mode::ReadWrite => {
                // SAFETY: memmap2's file-map contract: the file may change under the map. We accept
                // that by design (shared maps exist to see such changes) and guard truncation with
                // size checks in every library call (README, "Safety and caveats").
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
                        // SAFETY: as for `map_mut`; read-only, so a stray write faults (documented).
                        let map = unsafe { options.map(file) }.map_err(|e| Error::io("mmap", e))?;
                        (Pages::ReadOnly(map), true)
                    }
                    Err(e) => return Err(Error::io("mmap", e)),
                }
            }
        };
        let ptr = match &pages {
            Pages::Writable(m) => m.as_ptr().cast_mut(),
            Pages::ReadOnly(m) => m.as_ptr().cast_mut(),
        };
        let ptr = NonNull::new(ptr).ok_or_else(|| Error::last_os("mmap"))?;
        Ok((Region::new(ptr, len, delta, Some(pages)), stray_writes_fault))
    }

    fn new(ptr: NonNull<u8>, len: usize, delta: usize, pages: Option<Pages>) -> Region {
        LIVE_MAPS.fetch_add(1, Ordering::Relaxed);
        MAPPED_BYTES.fetch_add(len as u64, Ordering::Relaxed);
        Region {
            ptr,
            len,
            delta,
            pages: Mutex::new(pages),
            tasks: AtomicUsize::new(0),
            retired: AtomicBool::new(false),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// First byte of the caller's range. Valid for `len` bytes (see the Safety paragraph).
    pub fn ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Bytes mapped before `ptr` in the same OS mapping (offset's distance to its page start).
    pub fn delta(&self) -> usize {
        self.delta
    }

    /// Unmaps the pages now. Only for `close()` once nothing can reach them.
    pub fn unmap_now(&self) {
        let pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner).take();
        drop(pages);
        self.retire();
    }

    fn retire(&self) {
        if !self.retired.swap(true, Ordering::Relaxed) {
            LIVE_MAPS.fetch_sub(1, Ordering::Relaxed);
            MAPPED_BYTES.fetch_sub(self.len as u64, Ordering::Relaxed);
        }
    }

    /// Replaces the pages in place with anonymous zero memory, releasing the file while keeping
    /// the address range valid for views that may still exist.
    pub fn release_file(&self) -> Result<()> {
        let guard = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        if guard.is_none() || self.len == 0 {
            return Ok(());
        }
        // SAFETY: `ptr - delta` is the page-aligned start of the live mapping owned by `pages`
        // (memmap2 maps from `offset - offset % page`), and `delta + len` bytes from there are
        // mapped. MAP_FIXED over our own live range replaces it atomically; the lock keeps
        // `unmap_now` from racing with it.
        let base = unsafe { self.ptr.as_ptr().sub(self.delta) };
        // SAFETY: as above; the range is exactly the one memmap2 will munmap on drop.
        let replaced = unsafe {
            libc::mmap(
                base.cast(),
                self.delta + self.len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_FIXED | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if replaced == libc::MAP_FAILED {
            return Err(Error::last_os("mmap"));
        }
        Ok(())
    }

    /// `msync(MS_SYNC)` of `[start, start + len)` relative to `ptr` (shared maps only).
    pub fn flush(&self, start: usize, len: usize) -> Result<()> {
        let guard = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(Pages::Writable(map)) = guard.as_ref() {
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
