//! How pages are mapped: a file for each mode (with the 'read' fallback to a truly read-only map
//! where the OS refuses a private writable one), and anonymous memory with or without huge
//! pages. `region.rs` owns the pages once mapped.

use std::fs::File;
#[cfg(feature = "test-hooks")]
use std::sync::atomic::{AtomicBool, Ordering};

use memmap2::{Mmap, MmapMut, MmapOptions};
use memmap_core::{Error, Layout, Mode, Result};

use crate::region::Region;
use crate::{limit, os};

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

/// The 'read' fallback: a view that takes no commit charge, so stray writes fault. Unix keeps it
/// private (MAP_PRIVATE, PROT_READ); Windows maps it FILE_MAP_READ, because a copy-on-write view,
/// even a read-only one, is charged for its whole length.
fn map_read_only(options: &MmapOptions, file: &File) -> Result<Mmap> {
    #[cfg(windows)]
    // SAFETY: memmap2's file-map contract, as in `Region::map`; the view is read-only.
    let map = unsafe { options.map(file) };
    #[cfg(not(windows))]
    // SAFETY: as above; private and read-only (no commit charge), so a stray write faults.
    let map = unsafe { options.map_copy_read_only(file) };
    map.map_err(|e| Error::io("mmap", e))
}

pub enum Pages {
    /// 'read' and 'copy-on-write' (private), 'read-write' (shared), anonymous.
    Writable(MmapMut),
    /// The 'read' fallback where the OS refuses a private writable map: stray writes fault.
    ReadOnly(Mmap),
    /// A view of a pagefile-backed section (Windows shared anonymous memory).
    #[cfg(windows)]
    Section(os::SectionView),
}

impl Pages {
    pub(crate) fn ptr(&self) -> *mut u8 {
        match self {
            Pages::Writable(m) => m.as_ptr().cast_mut(),
            Pages::ReadOnly(m) => m.as_ptr().cast_mut(),
            #[cfg(windows)]
            Pages::Section(v) => v.ptr(),
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

impl Region {
    /// Maps `layout` of `file` for `mode`. Returns the region and whether stray writes fault.
    /// A zero-length layout maps nothing.
    pub fn map(file: &File, layout: &Layout, mode: Mode) -> Result<(Region, bool)> {
        let len = usize::try_from(layout.length)
            .map_err(|_| Error::out_of_range("length", "at most the address space", layout.length))?;
        let delta = layout.delta() as usize;
        if len == 0 {
            return Ok((Region::new(None, 0, delta, true), false));
        }
        limit::check(1)?;
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
                    Err(os::commit_refusal())
                } else {
                    // SAFETY: as for `map_mut`; the map is private, so no write reaches the file.
                    unsafe { options.map_copy(file) }
                };
                match private {
                    Ok(map) => (Pages::Writable(map), false),
                    Err(e) if mode == Mode::Read && os::commit_refused(&e) => {
                        (Pages::ReadOnly(map_read_only(&options, file)?), true)
                    }
                    Err(e) => return Err(Error::io("mmap", e)),
                }
            }
        };
        let region = Region::new(Some(pages), len, delta, true);
        if stray_writes_fault {
            region.mark_read_only();
        }
        Ok((region, stray_writes_fault))
    }

    /// A view of a pagefile-backed section (Windows shared anonymous memory) showing `len` bytes.
    #[cfg(windows)]
    pub fn section(view: os::SectionView, len: usize) -> Result<Region> {
        limit::check(1)?;
        Ok(Region::new(Some(Pages::Section(view)), len, 0, true))
    }

    /// Anonymous private memory of `len` bytes, without MAP_NORESERVE (so it fails early with
    /// ENOMEM). With `huge`, tries MAP_HUGETLB, then MADV_HUGEPAGE.
    pub fn anonymous(len: usize, huge: bool) -> Result<(Region, HugePages)> {
        if len == 0 {
            return Ok((Region::new(None, 0, 0, false), HugePages::None));
        }
        limit::check(1)?;
        if huge && os::HUGE_PAGES {
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
        if huge && os::HUGE_PAGES {
            let (ptr, span) = region.span(0, len);
            // SAFETY: `span` covers exactly the anonymous mapping just made, page-aligned.
            if unsafe { os::advise(ptr, span, memmap_core::Advice::HugePage) }.is_ok() {
                kind = HugePages::Thp;
            }
        }
        Ok((region, kind))
    }
}
