//! Platforms with neither Unix nor Windows calls (none of the eight published targets): every
//! call beyond memmap2 is `Unsupported` (hints are no-ops), never a panic. Same surface as
//! `unix.rs` and `windows.rs`; see `mod.rs` for the Safety contract.

use std::fs::File;
use std::io;

use memmap_core::{Advice, Error, LockSpan, Result};

fn unsupported<T>(what: &str) -> Result<T> {
    Err(Error::Unsupported(format!("{what} is not supported on this platform")))
}

pub fn page_size() -> usize {
    4096
}

pub fn allocation_granularity() -> usize {
    page_size()
}

pub const HUGE_PAGES: bool = false;

pub const TRUNCATE_WHILE_MAPPED: bool = true;

pub fn huge_page_size() -> usize {
    2 << 20
}

pub fn uv_errno(raw: i32) -> i32 {
    raw
}

pub fn commit_refused(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::OutOfMemory
}

pub fn commit_refusal() -> io::Error {
    io::Error::from(io::ErrorKind::OutOfMemory)
}

pub fn dup_fd(_fd: i32) -> Result<File> {
    unsupported("mapping a file descriptor")
}

/// # Safety
/// See `mod.rs`.
pub unsafe fn advise(_ptr: *mut u8, _len: usize, _advice: Advice) -> Result<()> {
    Ok(())
}

/// # Safety
/// See `mod.rs`.
pub unsafe fn populate_read(ptr: *mut u8, len: usize) -> Result<()> {
    // SAFETY: the caller guarantees the range (function contract).
    unsafe { super::read_touch(ptr, len) };
    Ok(())
}

/// # Safety
/// See `mod.rs`.
pub unsafe fn lock(_ptr: *mut u8, _len: usize) -> Result<()> {
    unsupported("lock()")
}

/// # Safety
/// See `mod.rs`.
pub unsafe fn unlock(_ptr: *mut u8, _len: usize) -> Result<()> {
    unsupported("unlock()")
}

/// # Safety
/// See `mod.rs`.
pub unsafe fn residency(_ptr: *mut u8, _len: usize) -> Result<(u64, u64)> {
    unsupported("residency()")
}

/// # Safety
/// See `mod.rs`.
pub unsafe fn protect(_ptr: *mut u8, _len: usize, _writable: bool) -> Result<()> {
    unsupported("protect()")
}

/// # Safety
/// See `mod.rs`.
pub unsafe fn sync(_ptr: *mut u8, _len: usize) -> Result<()> {
    unsupported("flush()")
}

pub fn sync_file(_file: &File) -> Result<()> {
    unsupported("flush({ durable: true })")
}

pub fn check_shrinkable(_file: &File) -> Result<()> {
    Ok(())
}

/// # Safety
/// See `mod.rs`.
pub unsafe fn replace_with_zero(_ptr: *mut u8, _len: usize) -> Result<bool> {
    Ok(false)
}

pub fn reserve(_file: &File, _offset: u64, _len: u64) -> Result<()> {
    unsupported("allocate: true")
}

pub fn residency_is_exact(_file: Option<&File>) -> bool {
    false
}

pub fn file_identity(_file: &File) -> Result<(u64, u64)> {
    unsupported("identifying a file")
}

pub fn lock_file(_file: &File, _span: LockSpan, _exclusive: bool, _wait: bool) -> Result<bool> {
    unsupported("lockFile()")
}

pub fn unlock_file(_file: &File, _span: LockSpan) -> Result<()> {
    unsupported("unlockFile()")
}

pub const SHARED_MEMORY_KIND: &str = "none";

pub const SHARED_MEMORY_GROWS: bool = false;

pub fn shared_memory(_len: u64) -> Result<File> {
    unsupported("allocate(n, { shared: true })")
}

pub fn descriptor_number(_file: &File) -> Option<i32> {
    None
}
