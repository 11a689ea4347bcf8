//! Memory calls beyond memmap2 (advice, populate, locking, residency, protection, zero-fill,
//! block reservation), one facade over a file per platform with the same private surface:
//! `unix.rs` (Linux first; other Unixes where the call exists) and `stub.rs`, which returns
//! `Unsupported` and never panics. Windows runs the stub until the workflow proves a port.
//!
//! ## Safety
//!
//! Every function taking a pointer requires that `[ptr, ptr + len)` lies inside one live
//! mapping owned by the caller's `Region` and that `ptr` is page-aligned where the doc says so.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;

#[cfg(not(unix))]
mod stub;
#[cfg(not(unix))]
pub use stub::*;
