//! How much memory a map costs and where it lives: advice, locking, residency and protection,
//! each over the page-aligned span covering a range of the map.

use memmap_core::{check_range, Advice, Error, Mode};
use napi::Result;
use napi_derive::napi;

use crate::error::{to_napi, IntoNapi};
use crate::mapping::NativeMap;
use crate::options::{byte_count, BindingAdvice};
use crate::os;

/// Pages of a range in memory, from mincore.
#[napi(object)]
pub struct Residency {
    pub resident: f64,
    pub total: f64,
    /// False where the kernel hides the page cache: for files the caller neither owns nor may
    /// write, Linux reports every page as resident.
    pub exact: bool,
}

/// madvise over the pages covering `[byteOffset, byteOffset + length)`.
#[napi]
pub fn advise(map: &NativeMap, advice: BindingAdvice, byte_offset: f64, length: f64) -> Result<()> {
    let advice = Advice::from(advice);
    map.live()?;
    advice.check_for(map.mode(), map.anonymous()).into_napi()?;
    // SAFETY: `span` (in `with_span`) lies inside the live mapping.
    map.with_span(byte_offset, length, |ptr, len| unsafe { os::advise(ptr, len, advice) })
}

/// mlock2(MLOCK_ONFAULT), then a read-populate: locks without private copies.
#[napi]
pub fn lock(map: &NativeMap, byte_offset: f64, length: f64) -> Result<()> {
    map.with_span(byte_offset, length, |ptr, len| {
        // SAFETY: as in `advise`.
        unsafe { os::lock(ptr, len) }?;
        // SAFETY: as in `advise`; the mapping is readable in every mode.
        unsafe { os::populate_read(ptr, len) }
    })
}

#[napi]
pub fn unlock(map: &NativeMap, byte_offset: f64, length: f64) -> Result<()> {
    // SAFETY: as in `advise`.
    map.with_span(byte_offset, length, |ptr, len| unsafe { os::unlock(ptr, len) })
}

#[napi]
pub fn residency(map: &NativeMap, byte_offset: f64, length: f64) -> Result<Residency> {
    let mut counts = (0, 0);
    map.with_span(byte_offset, length, |ptr, len| {
        // SAFETY: as in `advise`.
        counts = unsafe { os::residency(ptr, len) }?;
        Ok(())
    })?;
    let exact = map.anonymous() || os::residency_is_exact(map.file().map(|f| &**f));
    Ok(Residency { resident: counts.0 as f64, total: counts.1 as f64, exact })
}

/// mprotect of the whole map: 'read' or 'read-write' ('read-write' file maps and anonymous
/// maps). Library calls then refuse to store into it (`ERR_MMAP_READ_ONLY`); stores through
/// views fault, as the README says.
#[napi]
pub fn protect(map: &mut NativeMap, writable: bool) -> Result<()> {
    let region = map.live()?;
    if map.mode() != Mode::ReadWrite {
        return Err(to_napi(Error::Unsupported(
            "protect() needs a 'read-write' file map or an allocate() map".into(),
        )));
    }
    region.set_read_only(!writable).into_napi()?;
    map.set_protected(!writable);
    Ok(())
}

impl NativeMap {
    /// Runs `f` on the page-aligned span covering a checked range of the map.
    fn with_span(
        &self,
        byte_offset: f64,
        length: f64,
        f: impl FnOnce(*mut u8, usize) -> memmap_core::Result<()>,
    ) -> Result<()> {
        let region = self.live()?;
        let start = byte_count("range.offset", byte_offset)?;
        let len = byte_count("range.length", length)?;
        check_range(("range.offset", start as u64), ("range.length", len as u64), self.byte_length() as u64)
            .into_napi()?;
        if len == 0 {
            return Ok(());
        }
        region.may_split(start, len).into_napi()?;
        let (ptr, span) = region.span(start, len);
        f(ptr, span).into_napi()
    }
}
