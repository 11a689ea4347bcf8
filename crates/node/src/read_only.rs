//! The address ranges of maps whose pages are read-only: maps made read-only by
//! `protect('read')`, and 'read' maps that fell back to a truly read-only mapping. A library call
//! that stores into memory the caller hands it (`readInto`'s target may be a view of another map)
//! checks its destination here first and throws `ERR_MMAP_READ_ONLY` instead of faulting.

use std::sync::{Mutex, PoisonError};

/// `(start, end)` of each read-only span, page-aligned.
static SPANS: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

fn spans() -> std::sync::MutexGuard<'static, Vec<(usize, usize)>> {
    SPANS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Records `[start, start + len)` as read-only.
pub fn insert(start: usize, len: usize) {
    spans().push((start, start + len));
}

/// Forgets the span that starts at `start` (once, if recorded).
pub fn remove(start: usize) {
    let mut spans = spans();
    if let Some(i) = spans.iter().position(|&(s, _)| s == start) {
        spans.swap_remove(i);
    }
}

/// Whether any byte of `[start, start + len)` lies in a read-only span.
pub fn overlaps(start: usize, len: usize) -> bool {
    len > 0 && spans().iter().any(|&(s, e)| start < e && s < start.saturating_add(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_is_any_shared_byte() {
        insert(0x10000, 0x1000);
        assert!(overlaps(0x10fff, 1));
        assert!(overlaps(0xf000, 0x1001));
        assert!(!overlaps(0x11000, 16));
        assert!(!overlaps(0xf000, 0x1000));
        assert!(!overlaps(0x10000, 0));
        remove(0x10000);
        assert!(!overlaps(0x10000, 16));
    }
}
