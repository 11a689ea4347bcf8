//! The pure-Rust core of memmap: what a mapping request means, before and after any system call
//! that maps memory.
//!
//! This crate knows nothing of JavaScript. It validates open options, opens and sizes the file
//! (with rollback when a later step fails), works out the page-aligned layout of a mapping, checks
//! ranges, keeps the books of a map's advisory file locks, and names every failure with a stable
//! error code. The Node binding (`crates/node`) owns the mapping itself and every `unsafe` block.

pub mod error;
pub mod file;
pub mod layout;
pub mod locks;
pub mod options;
pub mod search;
pub mod win32;

pub use error::{Error, Result};
pub use file::OpenedFile;
pub use layout::{check_range, check_window, safe_integer, Layout};
pub use locks::{HeldLock, HeldLocks, LockSpan};
pub use options::{Advice, Create, Mode, OpenOptions, Source};
