//! `NativeMap`: one mapping as the TypeScript `MappedFile` drives it. This file opens, creates
//! views and closes; `access.rs` copies and searches, `memory.rs` advises, locks and resizes,
//! `tasks.rs` runs the same work on the thread pool.

use std::fs::File;
use std::sync::Arc;

use memmap_core::layout::check_not_truncated;
use memmap_core::{check_range, Advice, Create, Error, Layout, Mode, OpenOptions, OpenedFile};
use napi::bindgen_prelude::{ObjectFinalize, Unknown};
use napi::{Env, Result};
use napi_derive::napi;

use crate::error::{to_napi, IntoNapi};
use crate::external_buffer::{self, Tracked};
use crate::options::{byte_count, AfterMap, BindingOpenOptions};
use crate::os;
use crate::region::{HugePages, Region};
use crate::unclosed;

/// Where to open: a path, or a dup of a caller's descriptor.
pub enum Target {
    Path(String),
    Fd(File),
}

/// A map made off the JavaScript thread, not yet wrapped (everything in it is `Send`).
pub struct Opened {
    region: Region,
    file: File,
    layout: Layout,
    stray_writes_fault: bool,
    size_at_open: u64,
    options: OpenOptions,
}

/// Opens, sizes, maps, advises and populates; on any failure undoes what it did to the file.
pub fn open_blocking(target: Target, options: OpenOptions, after: AfterMap) -> memmap_core::Result<Opened> {
    let mut opened = match target {
        Target::Path(path) => OpenedFile::open(path.as_ref(), &options)?,
        Target::Fd(file) => OpenedFile::from_file(file, &options)?,
    };
    match map_opened(&opened, &options, after) {
        Ok((region, layout, stray_writes_fault)) => {
            let size_at_open = opened.size;
            Ok(Opened { region, file: opened.file, layout, stray_writes_fault, size_at_open, options })
        }
        Err(e) => {
            opened.rollback();
            Err(e)
        }
    }
}

fn map_opened(
    opened: &OpenedFile,
    options: &OpenOptions,
    after: AfterMap,
) -> memmap_core::Result<(Region, Layout, bool)> {
    if let (true, Some(from)) = (after.allocate, opened.grown_from()) {
        os::reserve(&opened.file, from, opened.size - from)?;
    }
    let layout = Layout::new(options.offset, options.length, opened.size, os::page_size() as u64)?;
    let (region, stray_writes_fault) = Region::map(&opened.file, &layout, options.mode)?;
    if region.len() > 0 {
        let (ptr, span) = region.span(0, region.len());
        if after.advice != Advice::Normal {
            // SAFETY: `span` covers the whole live mapping just made, page-aligned.
            unsafe { os::advise(ptr, span, after.advice) }?;
        }
        if after.populate {
            // SAFETY: as above; the mapping is readable in every mode.
            unsafe { os::populate_read(ptr, span) }?;
        }
    }
    Ok((region, layout, stray_writes_fault))
}

#[napi(custom_finalize)]
pub struct NativeMap {
    pub(crate) region: Option<Arc<Region>>,
    /// The descriptor (O_CLOEXEC) that size checks, `resize` and `remap` use; `None` with
    /// `trackFile: false`, for anonymous maps, or once closed.
    pub(crate) file: Option<Arc<File>>,
    pub(crate) mode: Mode,
    pub(crate) anonymous: bool,
    pub(crate) offset: u64,
    pub(crate) length: usize,
    pub(crate) explicit_length: bool,
    pub(crate) size_at_open: u64,
    pub(crate) stray_writes_fault: bool,
    /// Made read-only by `protect('read')`; carried over to the pages a resize maps.
    pub(crate) protected: bool,
    pub(crate) huge_pages: HugePages,
    pub(crate) buffers: Vec<Tracked>,
    /// Names the map in the warning a map collected without `close()` raises.
    pub(crate) label: String,
}

impl NativeMap {
    pub fn from_opened(o: Opened, label: String) -> NativeMap {
        NativeMap {
            length: o.region.len(),
            region: Some(Arc::new(o.region)),
            file: o.options.track_file.then(|| Arc::new(o.file)),
            mode: o.options.mode,
            anonymous: false,
            offset: o.layout.offset,
            explicit_length: o.options.length.is_some(),
            size_at_open: o.size_at_open,
            stray_writes_fault: o.stray_writes_fault,
            protected: false,
            huge_pages: HugePages::None,
            buffers: Vec::new(),
            label,
        }
    }
}

#[napi]
impl NativeMap {
    /// Opens and maps the file at `path`.
    #[napi(factory)]
    pub fn open_path(path: String, options: BindingOpenOptions) -> Result<NativeMap> {
        let (options, after) = options.parse().into_napi()?;
        let label = format!("'{path}'");
        Ok(NativeMap::from_opened(open_blocking(Target::Path(path), options, after).into_napi()?, label))
    }

    /// Maps the file open on descriptor `fd`, through a dup of it (the caller keeps `fd`).
    #[napi(factory)]
    pub fn open_fd(fd: i32, options: BindingOpenOptions) -> Result<NativeMap> {
        let (options, after) = options.parse().into_napi()?;
        if options.create != Create::No {
            return Err(to_napi(create_with_fd()));
        }
        let file = os::dup_fd(fd).into_napi()?;
        let label = format!("descriptor {fd}");
        Ok(NativeMap::from_opened(open_blocking(Target::Fd(file), options, after).into_napi()?, label))
    }

    /// Anonymous private memory; `hugePages` tries MAP_HUGETLB, then MADV_HUGEPAGE.
    #[napi(factory)]
    pub fn allocate(length: f64, huge_pages: bool) -> Result<NativeMap> {
        let length = byte_count("length", length)?;
        let (region, huge) = Region::anonymous(length, huge_pages).into_napi()?;
        Ok(NativeMap {
            region: Some(Arc::new(region)),
            file: None,
            mode: Mode::ReadWrite,
            anonymous: true,
            offset: 0,
            length,
            explicit_length: true,
            size_at_open: 0,
            stray_writes_fault: false,
            protected: false,
            huge_pages: huge,
            buffers: Vec::new(),
            label: "anonymous memory".into(),
        })
    }

    #[napi(getter)]
    pub fn length(&self) -> f64 {
        self.length as f64
    }

    #[napi(getter)]
    pub fn stray_writes_fault(&self) -> bool {
        self.stray_writes_fault
    }

    /// 'hugetlb', 'thp' or '' (none).
    #[napi(getter)]
    pub fn huge_pages(&self) -> &'static str {
        match self.huge_pages {
            HugePages::None => "",
            HugePages::Hugetlb => "hugetlb",
            HugePages::Thp => "thp",
        }
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

    /// A new ArrayBuffer over `[offset - shift, offset - shift + length)`, tracked for `close()`.
    /// `start` and `length` select a window of the map (for maps larger than one view).
    #[napi]
    pub fn create_buffer(&mut self, env: Env, shift: u32, start: f64, length: f64) -> Result<Unknown<'_>> {
        let region = Arc::clone(self.live()?);
        let shift = shift as usize;
        let start = byte_count("start", start)?;
        let length = byte_count("length", length)?;
        if shift > region.delta() + start || start + length > self.length + shift {
            return Err(to_napi(Error::out_of_range(
                "length",
                format!(
                    "at most {} (a window of the map's {} bytes from {start} - {shift})",
                    (self.length + shift).saturating_sub(start),
                    self.length
                ),
                length,
            )));
        }
        let (value, tracked) =
            external_buffer::create(env.raw(), &region, start, shift, length).into_napi()?;
        self.buffers.push(tracked);
        // SAFETY: `value` is an ArrayBuffer just created in this env.
        Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), value) })
    }

    /// Detaches every ArrayBuffer this map created and unmaps, or, when a buffer may still be
    /// reachable (moved by `transfer()`), replaces the pages with anonymous zero memory that the
    /// last holder unmaps. A running task keeps the pages as they are until it ends; the unmap or
    /// zero-fill happens then. Releases the descriptor (a task's own hold of it ends with the
    /// task). Idempotent.
    #[napi]
    pub fn close(&mut self, env: Env) -> Result<()> {
        if self.region.is_none() {
            return Ok(());
        }
        let released = self.detach_all(env);
        let Some(region) = self.region.take() else { return Ok(()) };
        self.file = None;
        region.retire(!released).into_napi()
    }
}

impl NativeMap {
    /// Detaches every tracked ArrayBuffer. True when no JavaScript can reach the pages any more:
    /// every buffer detached now or finalized.
    pub(crate) fn detach_all(&mut self, env: Env) -> bool {
        let mut all_released = true;
        for tracked in self.buffers.drain(..) {
            all_released &= tracked.release(env.raw());
        }
        all_released
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
}

/// `create` names a file to create: a descriptor has none.
pub fn create_with_fd() -> Error {
    Error::invalid_value("create", "false when mapping a descriptor", "true (boolean)")
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

impl ObjectFinalize for NativeMap {
    /// Collected without `close()`: report it, and drop the weak references; the pages stay
    /// mapped until the last ArrayBuffer over them is finalized (each holds an `Arc`).
    fn finalize(mut self, env: Env) -> Result<()> {
        for tracked in self.buffers.drain(..) {
            tracked.forget(env.raw());
        }
        if let Some(region) = &self.region {
            unclosed::report(&env, format!("{} ({} bytes)", self.label, region.len()));
        }
        Ok(())
    }
}
