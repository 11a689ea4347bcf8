//! `NativeMap`: one mapping as the TypeScript `MappedFile` drives it. Conversions and checks
//! only; the pages live in [`Region`], the ArrayBuffers in `external_buffer`.

use std::fs::File;
use std::os::fd::BorrowedFd;
use std::ptr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use memmap_core::layout::check_not_truncated;
use memmap_core::{check_range, Error, Layout, Mode, OpenOptions, OpenedFile};
use napi::bindgen_prelude::{ObjectFinalize, Uint8ArraySlice, Unknown};
use napi::{sys, Env, Result};
use napi_derive::napi;

use crate::error::{to_napi, IntoNapi};
use crate::external_buffer::{self, Tracked};
use crate::options::{byte_count, BindingOpenOptions};
use crate::region::{page_size, Region};

#[napi(custom_finalize)]
pub struct NativeMap {
    region: Option<Arc<Region>>,
    /// The descriptor size checks use (O_CLOEXEC); `None` with `trackFile: false` or once closed.
    file: Option<File>,
    mode: Mode,
    offset: u64,
    length: usize,
    size_at_open: u64,
    stray_writes_fault: bool,
    buffers: Vec<Tracked>,
}

fn map_opened(mut opened: OpenedFile, options: &OpenOptions) -> memmap_core::Result<NativeMap> {
    let mapped = Layout::new(options.offset, options.length, opened.size, page_size() as u64)
        .and_then(|layout| Region::map(&opened.file, &layout, options.mode).map(|r| (layout, r)));
    let (layout, (region, stray_writes_fault)) = match mapped {
        Ok(ok) => ok,
        Err(e) => {
            opened.rollback();
            return Err(e);
        }
    };
    let size_at_open = opened.size;
    Ok(NativeMap {
        region: Some(Arc::new(region)),
        file: options.track_file.then_some(opened.file),
        mode: options.mode,
        offset: layout.offset,
        length: layout.length as usize,
        size_at_open,
        stray_writes_fault,
        buffers: Vec::new(),
    })
}

#[napi]
impl NativeMap {
    /// Opens and maps the file at `path`.
    #[napi(factory)]
    pub fn open_path(path: String, options: BindingOpenOptions) -> Result<NativeMap> {
        let options = OpenOptions::try_from(options).into_napi()?;
        let opened = OpenedFile::open(path.as_ref(), &options).into_napi()?;
        map_opened(opened, &options).into_napi()
    }

    /// Maps the file open on descriptor `fd`, through a dup of it (the caller keeps `fd`).
    #[napi(factory)]
    pub fn open_fd(fd: i32, options: BindingOpenOptions) -> Result<NativeMap> {
        let options = OpenOptions::try_from(options).into_napi()?;
        if options.create != memmap_core::Create::No {
            return Err(to_napi(Error::InvalidValue(
                "option `create` needs a path, not a descriptor".into(),
            )));
        }
        // SAFETY: fcntl(F_GETFD) only inspects the descriptor table; an invalid fd is EBADF.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            return Err(to_napi(Error::last_os("fstat")));
        }
        // SAFETY: `fd` is open (checked just above) and only borrowed for the dup.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let owned = borrowed.try_clone_to_owned().map_err(|e| to_napi(Error::io("dup", e)))?;
        let opened = OpenedFile::from_file(File::from(owned), &options).into_napi()?;
        map_opened(opened, &options).into_napi()
    }

    #[napi(getter)]
    pub fn length(&self) -> f64 {
        self.length as f64
    }

    #[napi(getter)]
    pub fn stray_writes_fault(&self) -> bool {
        self.stray_writes_fault
    }

    /// The file's size now (fstat), or at open time with `trackFile: false`.
    #[napi]
    pub fn file_size(&self) -> Result<f64> {
        self.live()?;
        match &self.file {
            Some(file) => Ok(OpenedFile::current_size(file).into_napi()? as f64),
            None => Ok(self.size_at_open as f64),
        }
    }

    /// A new ArrayBuffer over `[offset - shift, offset + length)`, tracked for `close()`.
    #[napi]
    pub fn create_buffer(&mut self, env: Env, shift: u32) -> Result<Unknown<'_>> {
        let region = Arc::clone(self.live()?);
        let shift = shift as usize;
        if shift > region.delta() {
            return Err(to_napi(Error::OutOfRange(format!("shift {shift} exceeds the page offset"))));
        }
        let (value, tracked) =
            external_buffer::create(env.raw(), &region, shift, self.length + shift).into_napi()?;
        self.buffers.push(tracked);
        // SAFETY: `value` is an ArrayBuffer just created in this env.
        Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), value) })
    }

    /// A fresh copy of `[byteOffset, byteOffset + length)`, made with `napi_create_buffer`.
    #[napi]
    pub fn read(&self, env: Env, byte_offset: f64, length: f64) -> Result<Unknown<'_>> {
        let (start, len) = self.checked_range(byte_offset, length)?;
        let mut data = ptr::null_mut();
        let mut value = ptr::null_mut();
        // SAFETY: plain allocation of a Node Buffer of `len` bytes in this env.
        let status = unsafe { sys::napi_create_buffer(env.raw(), len, &mut data, &mut value) };
        if status != sys::Status::napi_ok {
            return Err(to_napi(Error::io("read", std::io::Error::from_raw_os_error(libc::ENOMEM))));
        }
        if len > 0 {
            let region = self.live()?;
            // SAFETY: `start + len <= length` (checked_range), the region is mapped while the map
            // is open, and `data` is a fresh allocation of `len` bytes that cannot overlap it.
            unsafe { ptr::copy_nonoverlapping(region.ptr().add(start), data.cast::<u8>(), len) };
        }
        // SAFETY: `value` is the Buffer just created in this env.
        Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), value) })
    }

    /// Copies `target.length` bytes from `byteOffset` into `target`. Returns the count.
    #[napi]
    pub fn read_into(&self, mut target: Uint8ArraySlice, byte_offset: f64) -> Result<f64> {
        // SAFETY: napi-rs hands us the view's memory; nothing else runs while we copy into it.
        let out = unsafe { target.as_mut() };
        let (start, len) = self.checked_range(byte_offset, out.len() as f64)?;
        if len > 0 {
            let region = self.live()?;
            // SAFETY: range checked as in `read`. `out` may alias the map itself (a view passed
            // back in), so the copy allows overlap.
            unsafe { ptr::copy(region.ptr().add(start), out.as_mut_ptr(), len) };
        }
        Ok(len as f64)
    }

    /// Copies all of `source` to `byteOffset`, or nothing. Returns the count.
    #[napi]
    pub fn write(&self, source: Uint8ArraySlice, byte_offset: f64) -> Result<f64> {
        if self.mode == Mode::Read {
            self.live()?;
            return Err(to_napi(Error::ReadOnly("write() needs mode 'read-write' or 'copy-on-write'")));
        }
        if self.stray_writes_fault {
            return Err(to_napi(Error::ReadOnly("this map is truly read-only")));
        }
        let (start, len) = self.checked_range(byte_offset, source.len() as f64)?;
        if len > 0 {
            let region = self.live()?;
            // SAFETY: range checked as in `read`; the pages are writable in both modes allowed
            // here; `source` may alias the map, so the copy allows overlap.
            unsafe { ptr::copy(source.as_ptr(), region.ptr().add(start), len) };
        }
        Ok(len as f64)
    }

    /// msync(MS_SYNC) of `[byteOffset, byteOffset + length)`; a no-op on private maps.
    #[napi]
    pub fn flush(&self, byte_offset: f64, length: f64) -> Result<()> {
        let (start, len) = self.checked_range(byte_offset, length)?;
        if self.mode == Mode::ReadWrite && len > 0 {
            self.live()?.flush(start, len).into_napi()?;
        }
        Ok(())
    }

    /// Detaches every ArrayBuffer this map created and unmaps, or, when a buffer may still be
    /// reachable (moved by `transfer()`) or a task is running, replaces the pages with anonymous
    /// zero memory that the last holder unmaps. Releases the descriptor. Idempotent.
    #[napi]
    pub fn close(&mut self, env: Env) -> Result<()> {
        let Some(region) = self.region.take() else { return Ok(()) };
        self.file = None;
        let mut all_released = true;
        for tracked in self.buffers.drain(..) {
            all_released &= tracked.release(env.raw());
        }
        if all_released && region.tasks.load(Ordering::Acquire) == 0 {
            region.unmap_now();
        } else {
            region.release_file().into_napi()?;
        }
        Ok(())
    }

    fn live(&self) -> Result<&Arc<Region>> {
        self.region.as_ref().ok_or_else(|| to_napi(Error::Closed))
    }

    /// Validates `[byte_offset, byte_offset + length)` against the map and the file's current
    /// size (truncation by another process).
    fn checked_range(&self, byte_offset: f64, length: f64) -> Result<(usize, usize)> {
        self.live()?;
        let start = byte_count("byteOffset", byte_offset)?;
        let len = byte_count("length", length)?;
        check_range("byteOffset", start as u64, len as u64, self.length as u64).into_napi()?;
        if let Some(file) = &self.file {
            let size = OpenedFile::current_size(file).into_napi()?;
            check_not_truncated(self.offset + start as u64, len as u64, size, page_size() as u64)
                .into_napi()?;
        }
        Ok((start, len))
    }
}

impl ObjectFinalize for NativeMap {
    /// Collected without `close()`: drop the weak references; the region stays mapped until the
    /// last ArrayBuffer over it is finalized (each holds an `Arc`).
    fn finalize(mut self, env: Env) -> Result<()> {
        for tracked in self.buffers.drain(..) {
            tracked.forget(env.raw());
        }
        Ok(())
    }
}
