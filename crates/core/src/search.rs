//! `indexOf` / `lastIndexOf` with `Buffer`'s semantics, on `memchr`'s SIMD searchers.

use memchr::memmem;

/// Resolves a `from` offset as `Buffer.indexOf` does: negative counts from the end, then clamps
/// to `[0, len]`.
fn resolve_from(len: usize, from: i64) -> usize {
    if from < 0 {
        len.saturating_sub(from.unsigned_abs().min(len as u64) as usize)
    } else {
        (from as u64).min(len as u64) as usize
    }
}

/// First index of `needle` in `hay` at or after `from`, or -1. An empty needle returns the
/// clamped `from`.
///
/// ```
/// use memmap_core::search::index_of;
/// assert_eq!(index_of(b"abcabc", b"bc", 2), 4);
/// assert_eq!(index_of(b"abcabc", b"bc", -2), 4);
/// assert_eq!(index_of(b"abc", b"", 10), 3);
/// ```
pub fn index_of(hay: &[u8], needle: &[u8], from: i64) -> i64 {
    let start = resolve_from(hay.len(), from);
    if needle.is_empty() {
        return start as i64;
    }
    let found = match needle {
        [byte] => memchr::memchr(*byte, &hay[start..]),
        _ => memmem::find(&hay[start..], needle),
    };
    found.map_or(-1, |i| (start + i) as i64)
}

/// Last index of `needle` in `hay` that starts at or before `from`, or -1. A negative `from`
/// counts from the end; one still negative after that finds nothing (as `Buffer` does). An empty
/// needle returns `from` clamped to `[0, len]`, as `Buffer` does.
///
/// ```
/// use memmap_core::search::last_index_of;
/// assert_eq!(last_index_of(b"abcabc", b"bc", 5), 4);
/// assert_eq!(last_index_of(b"abcabc", b"bc", 3), 1);
/// assert_eq!(last_index_of(b"abcabc", b"bc", -7), -1);
/// ```
pub fn last_index_of(hay: &[u8], needle: &[u8], from: i64) -> i64 {
    let len = hay.len() as i64;
    let from = if from < 0 { len + from } else { from };
    if needle.is_empty() {
        return from.clamp(0, len);
    }
    if from < 0 {
        return -1;
    }
    // The last start is `from`; the match may extend past it.
    let end = (from.min(len) as usize).saturating_add(needle.len()).min(hay.len());
    let found = match needle {
        [byte] => memchr::memrchr(*byte, &hay[..end]),
        _ => memmem::rfind(&hay[..end], needle),
    };
    found.map_or(-1, |i| i as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_index(hay: &[u8], needle: &[u8], from: usize) -> i64 {
        (from..=hay.len().saturating_sub(needle.len()))
            .find(|&i| i + needle.len() <= hay.len() && &hay[i..i + needle.len()] == needle)
            .map_or(-1, |i| i as i64)
    }

    fn naive_last(hay: &[u8], needle: &[u8], from: usize) -> i64 {
        (0..=from.min(hay.len()))
            .rev()
            .find(|&i| i + needle.len() <= hay.len() && &hay[i..i + needle.len()] == needle)
            .map_or(-1, |i| i as i64)
    }

    #[test]
    fn agrees_with_a_naive_search() {
        let hay: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 13) as u8).collect();
        for needle in [&[3u8][..], &[3, 10], &[0, 7, 1], &[12, 12]] {
            for from in [0usize, 1, 5, 999, 1998, 1999, 2000] {
                assert_eq!(index_of(&hay, needle, from as i64), naive_index(&hay, needle, from));
                assert_eq!(last_index_of(&hay, needle, from as i64), naive_last(&hay, needle, from));
            }
        }
    }

    #[test]
    fn negative_from_counts_from_the_end() {
        assert_eq!(index_of(b"aXa", b"a", -1), 2);
        assert_eq!(index_of(b"aXa", b"a", -100), 0);
        assert_eq!(last_index_of(b"aXa", b"a", -2), 0);
    }

    #[test]
    fn empty_needle_before_the_start_is_zero() {
        assert_eq!(last_index_of(b"abcabcab", b"", -9), 0);
        assert_eq!(last_index_of(b"", b"", -1), 0);
    }

    #[test]
    fn absent_byte_is_minus_one() {
        assert_eq!(index_of(&[0u8; 4096], &[1], 0), -1);
        assert_eq!(last_index_of(&[0u8; 4096], &[1], 4095), -1);
    }
}
