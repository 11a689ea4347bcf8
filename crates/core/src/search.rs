//! `indexOf` / `lastIndexOf` with `Buffer`'s semantics and an optional bound at the far end (as
//! Python's `find(sub, start, end)` has), on `memchr`'s SIMD searchers.
//!
//! A search reads only the bytes a match could occupy: [`Search::window`] names them, so the
//! binding checks exactly those against a truncated file, and nothing outside them is touched.

use std::ops::Range;

use memchr::memmem;

/// Resolves a search offset as `Buffer.indexOf` does: negative counts from the end, then clamps
/// to `[0, len]`.
fn resolve(len: usize, offset: i64) -> usize {
    if offset < 0 {
        len.saturating_sub(offset.unsigned_abs().min(len as u64) as usize)
    } else {
        (offset as u64).min(len as u64) as usize
    }
}

/// One search and its bounds as the caller gave them (negative offsets count from the end).
///
/// - First (`indexOf`): the first match starting at or after `from` and ending at or before `to`.
/// - Last (`lastIndexOf`): the last match starting at or before `from` and at or after `to`; the
///   match may extend past `from`, as with `Buffer`. A `from` still negative after counting from
///   the end finds nothing, except that an empty needle then answers 0, as `Buffer` does.
///
/// An empty needle matches at the clamped `from` when that lies within the bounds, else nowhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Search {
    pub from: i64,
    pub to: i64,
    pub last: bool,
}

impl Search {
    /// The inclusive range `(lo, hi)` of positions where a match of `n` bytes may start.
    fn starts(&self, len: usize, n: usize) -> Option<(usize, usize)> {
        if self.last {
            let from = if self.from < 0 { len as i64 + self.from } else { self.from };
            if from < 0 && n > 0 {
                return None;
            }
            let lo = resolve(len, self.to);
            let hi = (from.clamp(0, len as i64) as usize).min(len.checked_sub(n)?);
            (lo <= hi).then_some((lo, hi))
        } else {
            let lo = resolve(len, self.from);
            let hi = resolve(len, self.to).checked_sub(n)?;
            (lo <= hi).then_some((lo, hi))
        }
    }

    /// The bytes `[lo, hi)` of a haystack of `len` bytes that the search reads: those a match
    /// could occupy. Empty when it answers without reading (an empty needle, or no room).
    ///
    /// ```
    /// use memmap_core::search::Search;
    /// assert_eq!(Search { from: 2, to: 6, last: false }.window(100, 3), 2..6);
    /// assert_eq!(Search { from: 10, to: 4, last: true }.window(100, 3), 4..13);
    /// assert!(Search { from: 0, to: 2, last: false }.window(100, 3).is_empty());
    /// ```
    pub fn window(&self, len: usize, needle_len: usize) -> Range<usize> {
        match self.starts(len, needle_len) {
            Some((lo, hi)) if needle_len > 0 => lo..hi + needle_len,
            _ => 0..0,
        }
    }

    /// The index of the match in `hay`, or -1. Reads only [`Search::window`].
    pub fn run(&self, hay: &[u8], needle: &[u8]) -> i64 {
        let Some((lo, hi)) = self.starts(hay.len(), needle.len()) else { return -1 };
        if needle.is_empty() {
            return if self.last { hi as i64 } else { lo as i64 };
        }
        let window = &hay[lo..hi + needle.len()];
        let found = match (needle, self.last) {
            ([byte], false) => memchr::memchr(*byte, window),
            ([byte], true) => memchr::memrchr(*byte, window),
            (_, false) => memmem::find(window, needle),
            (_, true) => memmem::rfind(window, needle),
        };
        found.map_or(-1, |i| (lo + i) as i64)
    }
}

/// First index of `needle` in `hay` starting at or after `from` and ending at or before `to`, or
/// -1. `Buffer.indexOf(needle, from)` is `index_of(hay, needle, from, len)`; Python's
/// `find(needle, start, end)` is `index_of(hay, needle, start, end)`.
///
/// ```
/// use memmap_core::search::index_of;
/// assert_eq!(index_of(b"abcabc", b"bc", 2, 6), 4);
/// assert_eq!(index_of(b"abcabc", b"bc", -2, 6), 4);
/// assert_eq!(index_of(b"abcabc", b"bc", 2, 5), -1);
/// assert_eq!(index_of(b"abc", b"", 10, 3), 3);
/// ```
pub fn index_of(hay: &[u8], needle: &[u8], from: i64, to: i64) -> i64 {
    Search { from, to, last: false }.run(hay, needle)
}

/// Last index of `needle` in `hay` starting at or before `from` and at or after `to`, or -1.
/// `Buffer.lastIndexOf(needle, from)` is `last_index_of(hay, needle, from, 0)`; Python's
/// `rfind(needle, start, end)` is `last_index_of(hay, needle, end - needle.len(), start)` when
/// `end - needle.len() >= start` (both resolved), else -1.
///
/// ```
/// use memmap_core::search::last_index_of;
/// assert_eq!(last_index_of(b"abcabc", b"bc", 5, 0), 4);
/// assert_eq!(last_index_of(b"abcabc", b"bc", 3, 0), 1);
/// assert_eq!(last_index_of(b"abcabc", b"bc", 3, 2), -1);
/// assert_eq!(last_index_of(b"abcabc", b"bc", -7, 0), -1);
/// ```
pub fn last_index_of(hay: &[u8], needle: &[u8], from: i64, to: i64) -> i64 {
    Search { from, to, last: true }.run(hay, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Python's `find(needle, start, end)`, written out (mmap_gfind in CPython's mmapmodule.c).
    fn py_find(hay: &[u8], needle: &[u8], start: i64, end: i64, reverse: bool) -> i64 {
        let (s, e) = (resolve(hay.len(), start), resolve(hay.len(), end));
        if e < s || e - s < needle.len() {
            return -1;
        }
        let mut starts = s..=e - needle.len();
        let hit = |&i: &usize| &hay[i..i + needle.len()] == needle;
        let found = if reverse { starts.rfind(hit) } else { starts.find(hit) };
        found.map_or(-1, |i| i as i64)
    }

    /// Python's rfind through `last_index_of`, as the README translates it.
    fn rfind(hay: &[u8], needle: &[u8], start: i64, end: i64) -> i64 {
        let (s, e) = (resolve(hay.len(), start) as i64, resolve(hay.len(), end) as i64);
        let from = e - needle.len() as i64;
        if from >= s {
            last_index_of(hay, needle, from, s)
        } else {
            -1
        }
    }

    /// A small deterministic generator (xorshift), so the tests need no crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self, below: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % below
        }
        fn offset(&mut self, len: usize) -> i64 {
            self.next(2 * len as u64 + 7) as i64 - len as i64 - 3
        }
    }

    #[test]
    fn agrees_with_pythons_find_and_rfind_on_low_entropy_data() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let hay: Vec<u8> = (0..rng.next(40)).map(|_| b"abc"[rng.next(3) as usize]).collect();
            let needle: Vec<u8> = (0..rng.next(5)).map(|_| b"abc"[rng.next(3) as usize]).collect();
            let (s, e) = (rng.offset(hay.len()), rng.offset(hay.len()));
            let case = format!("{:?} in {:?} [{s}, {e})", needle, String::from_utf8_lossy(&hay));
            assert_eq!(index_of(&hay, &needle, s, e), py_find(&hay, &needle, s, e, false), "find {case}");
            assert_eq!(rfind(&hay, &needle, s, e), py_find(&hay, &needle, s, e, true), "rfind {case}");
        }
    }

    #[test]
    fn unbounded_search_keeps_buffers_semantics() {
        assert_eq!(index_of(b"aXa", b"a", -1, 3), 2);
        assert_eq!(index_of(b"aXa", b"a", -100, 3), 0);
        assert_eq!(last_index_of(b"aXa", b"a", -2, 0), 0);
        assert_eq!(last_index_of(b"abcabc", b"bc", 100, 0), 4);
        assert_eq!(index_of(&[0u8; 4096], &[1], 0, 4096), -1);
        assert_eq!(last_index_of(&[0u8; 4096], &[1], 4095, 0), -1);
    }

    #[test]
    fn empty_needle_before_the_start_is_zero() {
        assert_eq!(last_index_of(b"abcabcab", b"", -9, 0), 0);
        assert_eq!(last_index_of(b"", b"", -1, 0), 0);
    }

    #[test]
    fn empty_needle_outside_the_bounds_is_minus_one() {
        assert_eq!(index_of(b"abcdef", b"", 4, 2), -1);
        assert_eq!(last_index_of(b"abcdef", b"", 2, 4), -1);
        assert_eq!(index_of(b"abcdef", b"", 2, 4), 2);
        assert_eq!(last_index_of(b"abcdef", b"", 4, 2), 4);
    }

    #[test]
    fn a_match_crossing_the_bound_is_not_found() {
        assert_eq!(index_of(b"..needle..", b"needle", 0, 7), -1);
        assert_eq!(index_of(b"..needle..", b"needle", 0, 8), 2);
        assert_eq!(last_index_of(b"..needle..", b"needle", 9, 3), -1);
        assert_eq!(last_index_of(b"..needle..", b"needle", 9, 2), 2);
    }

    #[test]
    fn nothing_outside_the_window_changes_the_answer() {
        let mut rng = Rng(42);
        for _ in 0..5_000 {
            let hay: Vec<u8> = (0..rng.next(40)).map(|_| b"ab"[rng.next(2) as usize]).collect();
            let needle: Vec<u8> = (0..rng.next(4)).map(|_| b"ab"[rng.next(2) as usize]).collect();
            let search =
                Search { from: rng.offset(hay.len()), to: rng.offset(hay.len()), last: rng.next(2) == 1 };
            let window = search.window(hay.len(), needle.len());
            let mut poisoned = hay.clone();
            for (i, byte) in poisoned.iter_mut().enumerate() {
                if !window.contains(&i) {
                    *byte = b'a' + (i % 2) as u8;
                }
            }
            assert_eq!(
                search.run(&hay, &needle),
                search.run(&poisoned, &needle),
                "{search:?} {needle:?} in {hay:?}"
            );
        }
    }
}
