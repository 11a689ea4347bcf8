//! Platforms without a port yet: every call is `Unsupported` (hints are no-ops), never a panic.
//! Same surface as `unix.rs`; see `mod.rs` for the Safety contract.

use std::fs::File;

use memmap_core::{Advice, Error, Result};

fn unsupported<T>(what: &str) -> Result<T> {
    Err(Error::Unsupported(format!("{what} is not supported on this platform yet")))
}

pub fn page_size() -> usize {
    4096
}

pub fn huge_page_size() -> usize {
    2 << 20
}

/// # Safety
/// See `mod.rs`.
pub unsafe fn advise(_ptr: *mut u8, _len: usize, _advice: Advice) -> Result<()> {
    Ok(())
}

/// # Safety
/// See `mod.rs`.
pub unsafe fn populate_read(ptr: *mut u8, len: usize) -> Result<()> {
    let mut offset = 0;
    while offset < len {
        // SAFETY: `offset < len` lies in the caller's readable range.
        unsafe { std::ptr::read_volatile(ptr.add(offset)) };
        offset += page_size();
    }
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

pub fn check_shrinkable(_file: &File) -> Result<()> {
    Ok(())
}

/// # Safety
/// See `mod.rs`.
pub unsafe fn replace_with_zero(_ptr: *mut u8, _len: usize) -> Result<()> {
    unsupported("replacing a mapping in place")
}

pub fn reserve(_file: &File, _offset: u64, _len: u64) -> Result<()> {
    unsupported("allocate: true")
}

pub fn residency_is_exact(_file: Option<&File>) -> bool {
    false
}
