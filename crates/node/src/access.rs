//! Copies and searches: `read`, `readInto`, `write`, `indexOf`, `lastIndexOf`, `flush`. None of
//! them creates an ArrayBuffer over the map.

use std::fs::File;
use std::ptr;

use memmap_core::search::Search;
use memmap_core::{check_range, Error, Mode};
use napi::bindgen_prelude::{Uint8ArraySlice, Unknown};
use napi::{sys, Env, Result};
use napi_derive::napi;

use crate::error::{to_napi, IntoNapi};
use crate::mapping::{check_file_size, NativeMap};
use crate::options::byte_count;
use crate::region::Region;
use crate::search::{self, search_offset};
use crate::{file_spans, read_only};

/// A fresh copy of `[byteOffset, byteOffset + length)`, made with `napi_create_buffer`.
#[napi]
pub fn read(map: &NativeMap, env: Env, byte_offset: f64, length: f64) -> Result<Unknown<'_>> {
    let (start, len) = map.checked_range(byte_offset, length)?;
    let mut data = ptr::null_mut();
    let mut value = ptr::null_mut();
    // SAFETY: plain allocation of a Node Buffer of `len` bytes in this env.
    let status = unsafe { sys::napi_create_buffer(env.raw(), len, &mut data, &mut value) };
    if status != sys::Status::napi_ok {
        return Err(to_napi(Error::io("read", std::io::Error::from_raw_os_error(libc::ENOMEM))));
    }
    if len > 0 {
        let region = map.live()?;
        // SAFETY: `start + len <= length` (checked_range), the region is mapped while the map
        // is open, and `data` is a fresh allocation of `len` bytes that cannot overlap it.
        unsafe { ptr::copy_nonoverlapping(region.ptr().add(start), data.cast::<u8>(), len) };
    }
    // SAFETY: `value` is the Buffer just created in this env.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), value) })
}

/// Copies `target.length` bytes from `byteOffset` into `target`. Returns the count.
#[napi]
pub fn read_into(map: &NativeMap, mut target: Uint8ArraySlice, byte_offset: f64) -> Result<f64> {
    // SAFETY: napi-rs hands us the view's memory; no JavaScript runs while we copy into it.
    let out = unsafe { target.as_mut() };
    let (start, len) = map.checked_range(byte_offset, out.len() as f64)?;
    if read_only::overlaps(out.as_ptr() as usize, len) {
        return Err(to_napi(Error::ReadOnly(
            "readInto() cannot store into a view of a map made read-only (protect('read'))",
        )));
    }
    if len > 0 {
        let region = map.live()?;
        // SAFETY: range checked as in `read`, so `len` bytes at `ptr + start` are mapped
        // and `out` holds `len` bytes; `copy` handles `out` aliasing this or another map.
        unsafe {
            copy(region.ptr().add(start), out.as_mut_ptr(), len, (region.ptr() as usize, region.len()))
        };
    }
    Ok(len as f64)
}

/// Copies all of `source` to `byteOffset`, or nothing. Returns the count.
#[napi]
pub fn write(map: &NativeMap, source: Uint8ArraySlice, byte_offset: f64) -> Result<f64> {
    map.live()?;
    // (Only 'read' maps can have the read-only fallback, so this also covers it.)
    if map.mode() == Mode::Read {
        return Err(to_napi(Error::ReadOnly("write() needs mode 'read-write' or 'copy-on-write'")));
    }
    let (start, len) = map.checked_range(byte_offset, source.len() as f64)?;
    if len > 0 {
        let region = map.live()?;
        if read_only::overlaps(region.ptr() as usize + start, len) {
            return Err(to_napi(Error::ReadOnly(
                "write() cannot store into a map made read-only by protect('read')",
            )));
        }
        // SAFETY: range checked as in `read`; the pages are writable in both modes allowed
        // here; `copy` handles `source` aliasing this or another map.
        unsafe { copy(source.as_ptr(), region.ptr().add(start), len, (region.ptr() as usize, region.len())) };
    }
    Ok(len as f64)
}

/// First index of `needle` starting at or after `from` and ending at or before `to`
/// (negative counts from the end), or -1.
#[napi]
pub fn index_of(map: &NativeMap, needle: Uint8ArraySlice, from: f64, to: f64) -> Result<f64> {
    map.search(&needle, from, to, false)
}

/// Last index of `needle` starting at or before `from` and at or after `to`, or -1.
#[napi]
pub fn last_index_of(map: &NativeMap, needle: Uint8ArraySlice, from: f64, to: f64) -> Result<f64> {
    map.search(&needle, from, to, true)
}

/// msync(MS_SYNC) / FlushViewOfFile of `[byteOffset, byteOffset + length)`, then with
/// `durable` the device flush (fdatasync, F_FULLFSYNC, FlushFileBuffers); a no-op on private
/// and anonymous maps. The same body as `flush()`'s task.
#[napi]
pub fn flush(map: &NativeMap, byte_offset: f64, length: f64, durable: bool) -> Result<()> {
    let region = map.live()?;
    let (start, len) = (byte_count("byteOffset", byte_offset)?, byte_count("length", length)?);
    check_range(("range.offset", start as u64), ("range.length", len as u64), map.byte_length() as u64)
        .into_napi()?;
    let file = map.file().map(|f| &**f);
    flush_range(region, file, map.file_offset(), start, len, map.flushes(), durable).into_napi()
}

impl NativeMap {
    fn search(&self, needle: &[u8], from: f64, to: f64, last: bool) -> Result<f64> {
        let region = self.live()?;
        let (from, to) = (search_offset("fromOffset", from)?, search_offset("toOffset", to)?);
        let file = self.file().map(|f| &**f);
        search::run(region, file, self.file_offset(), needle, Search { from, to, last })
    }
}

/// The one body of `flushSync` and `flush()`'s task: the truncation check of the range, then
/// the write-back of its pages (shared file maps only: `flushes`), then with `durable` the
/// device flush of the file, which needs the descriptor (`trackFile: false` has none). The
/// caller holds the region.
pub fn flush_range(
    region: &Region,
    file: Option<&File>,
    file_offset: u64,
    start: usize,
    len: usize,
    flushes: bool,
    durable: bool,
) -> memmap_core::Result<()> {
    check_file_size(file, file_offset + start as u64, len as u64)?;
    if flushes && len > 0 {
        let device = match (durable, file) {
            (false, _) => None,
            (true, Some(file)) => Some(file),
            (true, None) => {
                return Err(Error::Unsupported(
                    "flush({ durable: true }) needs the descriptor: open without `trackFile: false`".into(),
                ))
            }
        };
        region.flush(start, len, device)?;
    }
    Ok(())
}

/// Copies `len` bytes between this map (`own`: its start and length) and caller memory. Within
/// one map `memmove` orders an overlapping copy correctly; memory in another map of the same
/// file may alias the same pages at an address `memmove` cannot relate, so that copy goes
/// through a buffer (see `file_spans`).
///
/// # Safety
/// `len` bytes must be readable at `from` and writable at `to`, one of them inside `own`.
unsafe fn copy(from: *const u8, to: *mut u8, len: usize, own: (usize, usize)) {
    let other =
        if from as usize >= own.0 && (from as usize) < own.0 + own.1 { to as usize } else { from as usize };
    if file_spans::in_other_map(other, len, own) {
        // SAFETY: the caller's contract (`len` bytes readable at `from`); the copy is a fresh
        // allocation that overlaps neither side.
        let staged = unsafe { std::slice::from_raw_parts(from, len) }.to_vec();
        // The optimizer takes distinct addresses for distinct memory and would fold the two
        // copies into one `memmove` of `from` to `to`: the very copy this avoids.
        let staged = std::hint::black_box(staged);
        // SAFETY: `len` bytes writable at `to` (the caller's contract), `staged` overlaps nothing.
        unsafe { ptr::copy_nonoverlapping(staged.as_ptr(), to, len) };
    } else {
        // SAFETY: the caller's contract; `ptr::copy` orders an overlap within one mapping.
        unsafe { ptr::copy(from, to, len) };
    }
}
