//! How much memory a map costs and where it lives: advice, populate, locking, residency,
//! protection, resize and remap.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use memmap_core::{check_range, Advice, Error, Layout, Mode, OpenedFile};
use napi::{Env, Result};
use napi_derive::napi;

use crate::error::{to_napi, IntoNapi};
use crate::mapping::NativeMap;
use crate::options::{byte_count, dontneed_refused};
use crate::os;
use crate::region::Region;

/// Pages of a range in memory, from mincore.
#[napi(object)]
pub struct Residency {
    pub resident: f64,
    pub total: f64,
    /// False where the kernel hides the page cache: for files the caller neither owns nor may
    /// write, Linux reports every page as resident.
    pub exact: bool,
}

#[napi]
impl NativeMap {
    /// madvise over the pages covering `[byteOffset, byteOffset + length)`.
    #[napi]
    pub fn advise(&self, advice: String, byte_offset: f64, length: f64) -> Result<()> {
        let advice = Advice::parse(&advice).into_napi()?;
        if advice == Advice::DontNeed && (self.mode == Mode::CopyOnWrite || self.anonymous) {
            return Err(to_napi(dontneed_refused()));
        }
        // SAFETY: `span` (in `with_span`) lies inside the live mapping.
        self.with_span(byte_offset, length, |ptr, len| unsafe { os::advise(ptr, len, advice) })
    }

    /// Prefaults the range for reading without copying file pages into private memory.
    #[napi]
    pub fn populate(&self, byte_offset: f64, length: f64) -> Result<()> {
        // SAFETY: as in `advise`; the mapping is readable in every mode.
        self.with_span(byte_offset, length, |ptr, len| unsafe { os::populate_read(ptr, len) })
    }

    /// mlock2(MLOCK_ONFAULT), then a read-populate: locks without private copies.
    #[napi]
    pub fn lock(&self, byte_offset: f64, length: f64) -> Result<()> {
        self.with_span(byte_offset, length, |ptr, len| {
            // SAFETY: as in `advise`.
            unsafe { os::lock(ptr, len) }?;
            // SAFETY: as in `populate`.
            unsafe { os::populate_read(ptr, len) }
        })
    }

    #[napi]
    pub fn unlock(&self, byte_offset: f64, length: f64) -> Result<()> {
        // SAFETY: as in `advise`.
        self.with_span(byte_offset, length, |ptr, len| unsafe { os::unlock(ptr, len) })
    }

    #[napi]
    pub fn residency(&self, byte_offset: f64, length: f64) -> Result<Residency> {
        let mut counts = (0, 0);
        self.with_span(byte_offset, length, |ptr, len| {
            // SAFETY: as in `advise`.
            counts = unsafe { os::residency(ptr, len) }?;
            Ok(())
        })?;
        let exact = self.anonymous || os::residency_is_exact(self.file.as_deref());
        Ok(Residency { resident: counts.0 as f64, total: counts.1 as f64, exact })
    }

    /// mprotect of the whole map: 'read' or 'read-write' ('read-write' file maps and anonymous
    /// maps). Library calls then refuse to store into it (`ERR_MMAP_READ_ONLY`); stores through
    /// views fault, as the README says.
    #[napi]
    pub fn protect(&mut self, writable: bool) -> Result<()> {
        let region = self.live()?;
        if self.mode != Mode::ReadWrite {
            return Err(to_napi(Error::Unsupported(
                "protect() needs a 'read-write' file map or an allocate() map".into(),
            )));
        }
        region.set_read_only(!writable).into_napi()?;
        self.protected = !writable;
        Ok(())
    }

    /// Sets the length to `newLength` (and the file to `offset + newLength`), detaching every
    /// view. A failure leaves the file's size and bytes, and the map's length and contents, as
    /// they were.
    #[napi]
    pub fn resize(&mut self, env: Env, new_length: f64) -> Result<()> {
        self.live()?;
        match (self.anonymous, self.mode) {
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
        if self.anonymous {
            return self.replace_region(env, new_len, None);
        }
        let file = self.file.clone().ok_or_else(|| {
            to_napi(Error::Unsupported(
                "resize() needs the descriptor: open without `trackFile: false`".into(),
            ))
        })?;
        let old_size = OpenedFile::current_size(&file).into_napi()?;
        let target = self.offset + new_len as u64;
        if target > old_size {
            // Grow the file first, so the new pages are backed; undo it if mapping fails.
            file.set_len(target).map_err(|e| to_napi(Error::io("ftruncate", e)))?;
            if let Err(e) = self.replace_region(env, new_len, Some(&file)) {
                if os::TRUNCATE_WHILE_MAPPED {
                    let _ = file.set_len(old_size);
                } else {
                    // The old view still maps the file: cut it back the way a shrink does.
                    let old_len = self.length;
                    let _ = self.cut_unmapped(env, old_len, &file, old_size, target);
                }
                return Err(e);
            }
            return Ok(());
        }
        if target < old_size && !os::TRUNCATE_WHILE_MAPPED {
            return self.cut_unmapped(env, new_len, &file, target, old_size);
        }
        // The file shrinks (or keeps its size): map first, so no page of the new map lies past
        // the new end, then cut the file once no task reads the old pages.
        if target < old_size {
            os::check_shrinkable(&file).into_napi()?;
        }
        let old_len = self.length;
        let old = Arc::clone(self.live()?);
        self.replace_region(env, new_len, Some(&file))?;
        if target < old_size {
            old.wait_idle();
            if let Err(e) = file.set_len(target) {
                let _ = self.replace_region(env, old_len, Some(&file));
                return Err(to_napi(Error::io("ftruncate", e)));
            }
        }
        Ok(())
    }

    /// 'read' maps without an explicit length: follow the file's current size. Detaches every
    /// view, also when the size is unchanged.
    #[napi]
    pub fn remap(&mut self, env: Env) -> Result<f64> {
        self.live()?;
        if self.anonymous || self.explicit_length || self.mode == Mode::ReadWrite {
            return Err(to_napi(Error::Unsupported(
                "remap() is for 'read' and 'copy-on-write' maps opened without `length`".into(),
            )));
        }
        let file = self.file.clone().ok_or_else(|| {
            to_napi(Error::Unsupported(
                "remap() needs the descriptor: open without `trackFile: false`".into(),
            ))
        })?;
        let size = OpenedFile::current_size(&file).into_napi()?;
        let layout = Layout::new(self.offset, None, size, os::page_size() as u64).into_napi()?;
        let new_len = layout.length as usize;
        self.replace_region(env, new_len, Some(&file))?;
        Ok(new_len as f64)
    }
}

/// A shrink that must save and may put back at most this many bytes of the file's tail.
const TAIL_KEPT: u64 = 64 << 20;

impl NativeMap {
    /// Cuts the file from `old_size` to `target` bytes where a file cannot be cut below a mapped
    /// view (Windows): waits for running tasks, unmaps, cuts, maps `new_len` bytes. On failure
    /// the file gets its size back (and its cut-off bytes, when they were at most `TAIL_KEPT`)
    /// and the map its old length. A buffer moved by `transfer()` keeps the view mapped, so then
    /// nothing changes.
    fn cut_unmapped(
        &mut self,
        env: Env,
        new_len: usize,
        file: &Arc<File>,
        target: u64,
        old_size: u64,
    ) -> Result<()> {
        let old = Arc::clone(self.live()?);
        let old_len = self.length;
        if !self.detach_all(env) {
            return Err(to_napi(Error::Unsupported(
                "a buffer moved by transfer() still maps the file, and this OS cannot shrink a mapped file"
                    .into(),
            )));
        }
        let tail =
            if old_size - target <= TAIL_KEPT { Some(read_tail(file, target, old_size)?) } else { None };
        old.wait_idle();
        old.retire(false).into_napi()?;
        self.region = None;
        if let Err(e) = file.set_len(target) {
            self.restore(old_len, file);
            return Err(to_napi(Error::io("ftruncate", e)));
        }
        match self.fresh_region(new_len, Some(file)) {
            Ok(region) => self.install(region, new_len),
            Err(e) => {
                let _ = file.set_len(old_size);
                if let Some(tail) = tail {
                    let _ = write_at(file, target, &tail);
                }
                self.restore(old_len, file);
                Err(e)
            }
        }
    }

    /// Maps `old_len` again after a failed shrink; if even that fails the map is left closed.
    fn restore(&mut self, old_len: usize, file: &File) {
        if let Ok(region) = self.fresh_region(old_len, Some(file)) {
            let _ = self.install(region, old_len);
        }
    }

    fn install(&mut self, region: Region, len: usize) -> Result<()> {
        self.region = Some(Arc::new(region));
        self.length = len;
        if self.protected {
            self.live()?.set_read_only(true).into_napi()?;
        }
        Ok(())
    }

    /// Runs `f` on the page-aligned span covering a checked range of the map.
    fn with_span(
        &self,
        byte_offset: f64,
        length: f64,
        f: impl FnOnce(*mut u8, usize) -> memmap_core::Result<()>,
    ) -> Result<()> {
        let region = self.live()?;
        let start = byte_count("range.offset", byte_offset)?;
        let len = byte_count("range.length", length)?;
        check_range(("range.offset", start as u64), ("range.length", len as u64), self.length as u64)
            .into_napi()?;
        if len == 0 {
            return Ok(());
        }
        region.may_split(start, len).into_napi()?;
        let (ptr, span) = region.span(start, len);
        f(ptr, span).into_napi()
    }

    /// Detaches every view and swaps in a region of `new_len` bytes with the same contents. The
    /// old pages go once no task reads them (`Region::retire`); on failure the map keeps them.
    fn replace_region(&mut self, env: Env, new_len: usize, file: Option<&File>) -> Result<()> {
        let old = Arc::clone(self.live()?);
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
                let fresh = self.fresh_region(new_len, file)?;
                if self.anonymous {
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

    fn fresh_region(&self, new_len: usize, file: Option<&File>) -> Result<Region> {
        match file {
            Some(file) => {
                let layout = Layout {
                    offset: self.offset,
                    length: new_len as u64,
                    aligned_offset: self.offset - self.offset % os::page_size() as u64,
                };
                Region::map(file, &layout, self.mode).map(|(r, _)| r).into_napi()
            }
            None => Region::anonymous(new_len, false).map(|(r, _)| r).into_napi(),
        }
    }
}

fn read_tail(file: &File, from: u64, to: u64) -> Result<Vec<u8>> {
    let mut tail = vec![0; (to - from) as usize];
    let mut reader = file;
    reader
        .seek(SeekFrom::Start(from))
        .and_then(|_| reader.read_exact(&mut tail))
        .map_err(|e| to_napi(Error::io("read", e)))?;
    Ok(tail)
}

fn write_at(file: &File, at: u64, bytes: &[u8]) -> std::io::Result<()> {
    let mut writer = file;
    writer.seek(SeekFrom::Start(at))?;
    writer.write_all(bytes)
}

/// Copies the first `len` bytes of an anonymous map into its replacement.
fn copy_contents(from: &Region, to: &Region, len: usize) {
    if len > 0 {
        // SAFETY: both regions are live for at least `len` bytes and are distinct mappings.
        unsafe { std::ptr::copy_nonoverlapping(from.ptr(), to.ptr(), len) };
    }
}
