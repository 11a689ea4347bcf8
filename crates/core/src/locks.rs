//! The advisory file locks one map holds: which bytes each covers, and the rules the binding
//! applies before any lock call. One map never holds two locks over the same byte (Windows can't
//! merge or split them and POSIX would silently convert one into the other), so every lock is
//! released with exactly the span it was taken with.

use crate::{Error, Result};

/// The bytes of the file a lock covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockSpan {
    /// The whole file, including bytes past its current end (POSIX `l_len = 0`, `flock`).
    Whole,
    /// `len` bytes from byte `start` of the file; `len > 0`.
    Bytes { start: u64, len: u64 },
}

impl LockSpan {
    /// `[start, end)` in the file; the whole file is `[0, u64::MAX)`.
    fn bounds(self) -> (u64, u64) {
        match self {
            LockSpan::Whole => (0, u64::MAX),
            LockSpan::Bytes { start, len } => (start, start.saturating_add(len)),
        }
    }

    fn overlaps(self, other: LockSpan) -> bool {
        let (a, b) = (self.bounds(), other.bounds());
        a.0 < b.1 && b.0 < a.1
    }

    fn describe(self) -> String {
        match self {
            LockSpan::Whole => "the whole file".into(),
            LockSpan::Bytes { start, len } => format!("bytes [{start}, {}) of the file", start + len),
        }
    }
}

/// One lock a map holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldLock {
    /// Names the lock for the `Disposable` that releases it: a later lock over the same span
    /// gets a new id, so disposing an old one never releases it.
    pub id: u32,
    pub span: LockSpan,
    pub exclusive: bool,
}

/// The locks of one map, in the order they were taken.
#[derive(Debug, Default)]
pub struct HeldLocks {
    held: Vec<HeldLock>,
    next_id: u32,
}

impl HeldLocks {
    /// Refuses a span overlapping a lock the map already holds (`ERR_MMAP_UNSUPPORTED`): to
    /// change a lock's kind, release it first (upgrading is unlock-then-lock).
    pub fn check_free(&self, span: LockSpan) -> Result<()> {
        match self.held.iter().find(|h| h.span.overlaps(span)) {
            None => Ok(()),
            Some(held) => Err(Error::Unsupported(format!(
                "this map already holds {} lock on {}, which overlaps {}: release it first (to change a lock's kind, unlock then lock)",
                if held.exclusive { "an exclusive" } else { "a shared" },
                held.span.describe(),
                span.describe(),
            ))),
        }
    }

    /// Records a lock just taken (after `check_free` passed) and returns its id.
    pub fn insert(&mut self, span: LockSpan, exclusive: bool) -> u32 {
        self.next_id = self.next_id.wrapping_add(1);
        self.held.push(HeldLock { id: self.next_id, span, exclusive });
        self.next_id
    }

    /// The lock taken with exactly `span`, if any. A span that overlaps a held lock without being
    /// its span is refused: a lock is released whole, with the span it was taken with.
    pub fn find_span(&self, span: LockSpan) -> Result<Option<HeldLock>> {
        if let Some(held) = self.held.iter().find(|h| h.span == span) {
            return Ok(Some(*held));
        }
        match self.held.iter().find(|h| h.span.overlaps(span)) {
            None => Ok(None),
            Some(held) => Err(Error::Unsupported(format!(
                "{} is not the span of a lock this map holds ({} is): unlock a lock with the range it was taken with",
                span.describe(),
                held.span.describe(),
            ))),
        }
    }

    /// The lock with this id, if the map still holds it.
    pub fn find_id(&self, id: u32) -> Option<HeldLock> {
        self.held.iter().find(|h| h.id == id).copied()
    }

    /// Forgets a lock once it is released.
    pub fn remove(&mut self, id: u32) {
        self.held.retain(|h| h.id != id);
    }

    /// Every lock held, forgotten here (for releasing them all).
    pub fn take_all(&mut self) -> Vec<HeldLock> {
        std::mem::take(&mut self.held)
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn bytes(start: u64, len: u64) -> LockSpan {
        LockSpan::Bytes { start, len }
    }

    #[test]
    fn disjoint_and_adjacent_spans_coexist() {
        let mut locks = HeldLocks::default();
        locks.insert(bytes(0, 10), true);
        assert!(locks.check_free(bytes(10, 5)).is_ok());
        locks.insert(bytes(10, 5), false);
        assert!(locks.check_free(bytes(15, u64::MAX)).is_ok(), "a span reaching past u64::MAX saturates");
    }

    #[test]
    fn overlapping_spans_are_unsupported() {
        let mut locks = HeldLocks::default();
        locks.insert(bytes(100, 10), false);
        for span in [bytes(109, 1), bytes(90, 11), LockSpan::Whole] {
            let e = locks.check_free(span).unwrap_err();
            assert_eq!(e.code(), "ERR_MMAP_UNSUPPORTED", "{span:?}");
        }
        let e = locks.check_free(bytes(105, 1)).unwrap_err();
        assert!(e.to_string().contains("holds a shared lock on bytes [100, 110)"), "{e}");
    }

    #[test]
    fn a_whole_file_lock_overlaps_every_span() {
        let mut locks = HeldLocks::default();
        locks.insert(LockSpan::Whole, true);
        assert!(locks.check_free(bytes(u64::MAX - 1, 1)).is_err());
    }

    #[test]
    fn unlocking_needs_the_exact_span() {
        let mut locks = HeldLocks::default();
        let id = locks.insert(bytes(0, 10), true);
        assert_eq!(locks.find_span(bytes(0, 10)).unwrap().map(|h| h.id), Some(id));
        assert_eq!(locks.find_span(bytes(20, 10)).unwrap(), None, "no lock there: nothing to do");
        assert_eq!(locks.find_span(bytes(0, 5)).unwrap_err().code(), "ERR_MMAP_UNSUPPORTED");
    }

    #[test]
    fn a_new_lock_over_the_same_span_gets_a_new_id() {
        let mut locks = HeldLocks::default();
        let first = locks.insert(LockSpan::Whole, true);
        locks.remove(first);
        let second = locks.insert(LockSpan::Whole, false);
        assert_ne!(first, second);
        assert_eq!(locks.find_id(first), None);
        assert_eq!(locks.take_all().len(), 1);
        assert!(locks.is_empty());
    }
}
