//! Memory calls beyond memmap2 (advice, populate, locking, residency, protection, write-back,
//! zero-fill, block reservation): one facade, and one file per platform with the same private
//! surface, chosen by path as memmap2 does: `unix.rs` (Linux first; other Unixes where the call
//! exists) and `stub.rs`, which returns `Unsupported` and never panics.
//!
//! ## Safety
//!
//! Every function taking a pointer requires that `[ptr, ptr + len)` lies inside one live
//! mapping owned by the caller's `Region` and that `ptr` is page-aligned where the doc says so.

#[cfg_attr(unix, path = "unix.rs")]
#[cfg_attr(not(unix), path = "stub.rs")]
mod platform;

pub use platform::*;
