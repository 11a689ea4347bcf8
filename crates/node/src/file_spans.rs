//! The address ranges of live file-backed maps. Two maps of one file show the same pages at
//! different addresses, so a copy between them (`readInto` into a view of another map, `write`
//! from one) cannot rely on `memmove`, which orders an overlapping copy by comparing addresses:
//! copying file bytes [0, 8192) onto [4096, 12288) through two maps would read bytes it had
//! already overwritten. When the other side lies in another map, the copy goes through a buffer.

use std::sync::{Mutex, PoisonError};

/// `(start, end)` of each live file-backed map, as handed to JavaScript (not page-aligned).
static SPANS: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

fn spans() -> std::sync::MutexGuard<'static, Vec<(usize, usize)>> {
    SPANS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Records `[start, start + len)` as a live file-backed map.
pub fn insert(start: usize, len: usize) {
    if len > 0 {
        spans().push((start, start + len));
    }
}

/// Forgets the span that starts at `start` (once, if recorded).
pub fn remove(start: usize) {
    let mut spans = spans();
    if let Some(i) = spans.iter().position(|&(s, _)| s == start) {
        spans.swap_remove(i);
    }
}

/// Whether `[start, start + len)` touches a file-backed map other than `own` (`(start, len)`),
/// i.e. a copy between the two may alias the same file pages at unrelated addresses.
pub fn in_other_map(start: usize, len: usize, own: (usize, usize)) -> bool {
    let end = start.saturating_add(len);
    let own = (own.0, own.0.saturating_add(own.1));
    len > 0 && spans().iter().any(|&(s, e)| (s, e) != own && start < e && s < end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_other_maps_count() {
        insert(0x40000, 0x2000);
        insert(0x80000, 0x1000);
        assert!(!in_other_map(0x40010, 16, (0x40000, 0x2000)));
        assert!(in_other_map(0x80ff0, 32, (0x40000, 0x2000)));
        assert!(!in_other_map(0x90000, 16, (0x40000, 0x2000)));
        assert!(!in_other_map(0x80000, 0, (0x40000, 0x2000)));
        remove(0x80000);
        assert!(!in_other_map(0x80ff0, 32, (0x40000, 0x2000)));
        remove(0x40000);
    }
}
