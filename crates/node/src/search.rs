//! The one body of `indexOf`, `lastIndexOf` and `indexOfAsync`'s `compute()`: the truncation check
//! of the bytes the search may read, then the core search over the region.

use std::fs::File;

use memmap_core::search::Search;
use memmap_core::Error;
use napi::Result;

use crate::error::{to_napi, IntoNapi};
use crate::mapping::check_file_size;
use crate::region::Region;

/// A search offset from JavaScript (already checked there): an integer, negative from the end.
pub fn search_offset(name: &str, value: f64) -> Result<i64> {
    if !value.is_finite() || value.fract() != 0.0 {
        return Err(to_napi(Error::out_of_range(name, "a safe integer", value)));
    }
    Ok(value as i64)
}

/// Runs `search` over `region`, the map of `[file_offset, file_offset + region.len())` of `file`.
/// Only the bytes in `search.window` are checked against the file's size and read.
///
/// The caller keeps `region` mapped for the call: an open map on the JS thread, or a task's hold
/// (then `close()` leaves the pages until the task ends).
pub fn run(
    region: &Region,
    file: Option<&File>,
    file_offset: u64,
    needle: &[u8],
    search: Search,
) -> Result<f64> {
    let len = region.len();
    let window = search.window(len, needle.len());
    check_file_size(file, file_offset + window.start as u64, window.len() as u64).into_napi()?;
    let hay: &[u8] = if len == 0 {
        &[]
    } else {
        // SAFETY: the caller keeps the region mapped for `len` bytes during the call (see above);
        // the search reads only `window`, whose pages the size check just found inside the file.
        unsafe { std::slice::from_raw_parts(region.ptr(), len) }
    };
    Ok(search.run(hay, needle) as f64)
}
