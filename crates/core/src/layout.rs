//! Where a mapping starts and ends: the caller's byte range, the page-aligned range the OS maps,
//! and range checks for every later access.

use crate::{Error, Result};

/// The byte range a map covers in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The caller's offset into the file.
    pub offset: u64,
    /// The caller's length in bytes.
    pub length: u64,
    /// `offset` rounded down to a page boundary: where the OS mapping starts.
    pub aligned_offset: u64,
}

impl Layout {
    /// Works out the range for `offset` and an optional `length` in a file of `file_size` bytes.
    ///
    /// A missing `length` maps to the end of the file. Any byte past the end is an error, in every
    /// mode: mapping past EOF would fault on access.
    ///
    /// ```
    /// use memmap_core::Layout;
    /// let l = Layout::new(4097, None, 10_000, 4096).unwrap();
    /// assert_eq!((l.aligned_offset, l.length, l.delta()), (4096, 5903, 1));
    /// assert!(Layout::new(0, Some(10_001), 10_000, 4096).is_err());
    /// ```
    pub fn new(offset: u64, length: Option<u64>, file_size: u64, page_size: u64) -> Result<Layout> {
        if offset > file_size {
            return Err(Error::out_of_range("offset", format!("at most the file size {file_size}"), offset));
        }
        let length = match length {
            None => file_size - offset,
            Some(length) if length > file_size - offset => {
                return Err(Error::out_of_range(
                    "length",
                    format!(
                        "at most {} (the file size {file_size} from offset {offset})",
                        file_size - offset
                    ),
                    length,
                ))
            }
            Some(length) => length,
        };
        if usize::try_from(length).is_err() {
            return Err(Error::out_of_range("length", "at most the address space", length));
        }
        Ok(Layout { offset, length, aligned_offset: offset - offset % page_size })
    }

    /// The layout of `length` bytes at `offset`, without a file-size check (the caller sized the
    /// file already, as `resize()` does).
    ///
    /// ```
    /// use memmap_core::Layout;
    /// assert_eq!(Layout::at(4099, 10, 4096).aligned_offset, 4096);
    /// ```
    pub fn at(offset: u64, length: u64, page_size: u64) -> Layout {
        Layout { offset, length, aligned_offset: offset - offset % page_size }
    }

    /// Bytes between the page boundary and `offset`.
    pub fn delta(&self) -> u64 {
        self.offset - self.aligned_offset
    }

    /// The end of the range in the file.
    pub fn end(&self) -> u64 {
        self.offset + self.length
    }
}

/// A number from JavaScript as a byte offset or count: a non-negative safe integer (the
/// TypeScript layer checked it already; this is the binding's own guard).
///
/// ```
/// use memmap_core::safe_integer;
/// assert_eq!(safe_integer("offset", 4096.0).unwrap(), 4096);
/// assert_eq!(safe_integer("offset", -1.0).unwrap_err().code(), "ERR_OUT_OF_RANGE");
/// ```
pub fn safe_integer(name: &str, value: f64) -> Result<u64> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= 9_007_199_254_740_991.0 {
        Ok(value as u64)
    } else {
        Err(Error::out_of_range(name, "a non-negative safe integer", value))
    }
}

/// Checks a window for an ArrayBuffer over a map of `length` bytes whose first byte lies `delta`
/// bytes past a page boundary: `len` bytes from map byte `start`, starting `shift` bytes earlier
/// (the prefix that keeps file alignment). The window may start at most `delta + start` bytes
/// before the map's first page boundary and must end within the map's last byte + `shift`.
///
/// ```
/// use memmap_core::check_window;
/// assert!(check_window(0, 3, 13, 10, 3).is_ok());
/// assert!(check_window(0, 4, 14, 10, 3).is_err());
/// assert!(check_window(5, 0, 6, 10, 0).is_err());
/// ```
pub fn check_window(start: u64, shift: u64, len: u64, length: u64, delta: u64) -> Result<()> {
    if shift > delta + start || start + len > length + shift {
        return Err(Error::out_of_range(
            "length",
            format!(
                "at most {} (a window of the map's {length} bytes from {start} - {shift})",
                (length + shift).saturating_sub(start)
            ),
            len,
        ));
    }
    Ok(())
}

/// Checks that `[start, start + len)` lies within `[0, total)`. The error names the offset
/// argument when it alone is past the end, else the length argument, with what it may be.
///
/// ```
/// use memmap_core::check_range;
/// assert!(check_range(("byteOffset", 8), ("length", 8), 16).is_ok());
/// let e = check_range(("byteOffset", 9), ("length", 8), 16).unwrap_err();
/// assert_eq!(e.to_string(), "Expected `length` to be at most 7 (the map's 16 bytes from byteOffset 9), got 8 (number)");
/// ```
pub fn check_range(offset: (&str, u64), length: (&str, u64), total: u64) -> Result<()> {
    let ((offset_name, start), (length_name, len)) = (offset, length);
    if start > total {
        return Err(Error::out_of_range(offset_name, format!("at most {total}"), start));
    }
    if len > total - start {
        return Err(Error::out_of_range(
            length_name,
            format!("at most {} (the map's {total} bytes from {offset_name} {start})", total - start),
            len,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: u64 = 4096;

    #[test]
    fn map_empty_file() {
        let l = Layout::new(0, None, 0, PAGE).unwrap();
        assert_eq!(l.length, 0);
    }

    #[test]
    fn unaligned_offset_rounds_down_to_a_page() {
        let l = Layout::new(12345, Some(10), 20_000, PAGE).unwrap();
        assert_eq!(l.aligned_offset, 12288);
        assert_eq!(l.delta(), 57);
        assert_eq!(l.end(), 12355);
    }

    #[test]
    fn offset_above_4_gib() {
        let five_gib = 5 << 30;
        let l = Layout::new(five_gib + 1, None, five_gib + 4096, PAGE).unwrap();
        assert_eq!(l.aligned_offset, five_gib);
        assert_eq!(l.length, 4095);
    }

    #[test]
    fn offset_past_end_errors() {
        assert_eq!(Layout::new(11, None, 10, PAGE).unwrap_err().code(), "ERR_OUT_OF_RANGE");
    }

    #[test]
    fn length_past_end_errors() {
        assert_eq!(Layout::new(5, Some(6), 10, PAGE).unwrap_err().code(), "ERR_OUT_OF_RANGE");
    }

    #[test]
    fn offset_at_end_maps_nothing() {
        assert_eq!(Layout::new(10, None, 10, PAGE).unwrap().length, 0);
    }

    #[test]
    fn safe_integers_only() {
        assert_eq!(safe_integer("n", 9_007_199_254_740_991.0).unwrap(), 9_007_199_254_740_991);
        for bad in [f64::NAN, f64::INFINITY, 1.5, -0.5, 9_007_199_254_740_992.0] {
            assert_eq!(safe_integer("n", bad).unwrap_err().code(), "ERR_OUT_OF_RANGE", "{bad}");
        }
    }

    #[test]
    fn a_window_may_not_leave_the_mapping() {
        // The prefix may reach back to the page boundary, not past it.
        assert!(check_window(2, 5, 1, 10, 3).is_ok());
        assert!(check_window(2, 6, 1, 10, 3).is_err());
        // The end may reach `shift` bytes past the map's end (the shifted coordinates).
        assert!(check_window(0, 2, 12, 10, 2).is_ok());
        assert!(check_window(0, 2, 13, 10, 2).is_err());
    }

    #[test]
    fn range_overflow_errors() {
        assert!(check_range(("x", u64::MAX), ("n", 2), u64::MAX).is_err());
    }
}

/// Checks that no byte of `[file_start, file_start + len)` (file offsets) lies in a page wholly
/// past the end of a file now `file_size` bytes long: such a page faults (SIGBUS) on access.
/// Bytes past the end but inside the last partial page read as zeros and are allowed.
///
/// ```
/// use memmap_core::layout::check_not_truncated;
/// assert!(check_not_truncated(4000, 200, 4097, 4096).is_ok());
/// assert_eq!(check_not_truncated(8192, 1, 4097, 4096).unwrap_err().code(), "ERR_MMAP_TRUNCATED");
/// ```
pub fn check_not_truncated(file_start: u64, len: u64, file_size: u64, page_size: u64) -> Result<()> {
    let mapped_end = file_size.div_ceil(page_size) * page_size;
    let end = file_start + len;
    if len > 0 && end > mapped_end {
        return Err(Error::Truncated { start: file_start, end, file_size });
    }
    Ok(())
}

#[cfg(test)]
mod truncation_tests {
    use super::check_not_truncated;

    #[test]
    fn reads_below_the_new_end_still_work() {
        assert!(check_not_truncated(0, 100, 2048, 4096).is_ok());
    }

    #[test]
    fn truncated_to_zero_refuses_everything() {
        assert!(check_not_truncated(0, 1, 0, 4096).is_err());
    }

    #[test]
    fn empty_range_is_never_truncated() {
        assert!(check_not_truncated(1 << 20, 0, 0, 4096).is_ok());
    }
}

/// The page-aligned span covering `[start, start + len)` of a map whose first byte lies `delta`
/// bytes past a page boundary. Returns (offset from that page boundary, length), both multiples
/// of the page size except that the length covers the last partial page.
///
/// ```
/// use memmap_core::layout::page_span;
/// assert_eq!(page_span(0, 10, 100, 4096), (0, 4096));
/// assert_eq!(page_span(5000, 4096, 100, 4096), (4096, 8192));
/// ```
pub fn page_span(start: u64, len: u64, delta: u64, page_size: u64) -> (u64, u64) {
    let first = (delta + start) / page_size * page_size;
    let end = (delta + start + len).div_ceil(page_size) * page_size;
    (first, end - first)
}
