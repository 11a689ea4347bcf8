//! Sharing one map between isolates and processes (SPEC §3.1). `share()` describes a map for a
//! token (js/share.ts builds it): the file's identity and where to find it again. `openShared`
//! goes through the ordinary open pipeline (`open.rs`) with the identity to check, or, for a
//! Windows section, opens it by name here. `allocate(n, { shared: true })` makes shared anonymous
//! memory: a memfd sealed against shrinking (Linux), an unlinked POSIX shared memory object
//! (macOS), a named pagefile-backed section (Windows); on Unix it is then mapped like a file.

use memmap_core::Error;
#[cfg(not(windows))]
use memmap_core::{Layout, Mode};
use napi::Result;
use napi_derive::napi;

use crate::error::{to_napi, IntoNapi};
use crate::handle::Wrapped;
use crate::mapping::NativeMap;
use crate::options::byte_count;
#[cfg(windows)]
use crate::options::BindingMode;
use crate::os;
use crate::pages::HugePages;
use crate::region::Region;

/// How other maps reach a map's shared anonymous memory.
#[derive(Clone)]
pub enum SharedMemory {
    /// A memfd or an unlinked shm object: by descriptor only.
    Descriptor,
    /// A Windows pagefile-backed section: by this name.
    #[cfg_attr(not(windows), allow(dead_code))]
    Section(String),
}

/// What a `share()` token needs from the binding: the kind of object, its identity (decimal
/// strings: exact beyond 2^53), the descriptor number that reaches it in this process, and a
/// section's name.
#[napi(object)]
pub struct ShareInfo {
    /// 'file', 'memfd', 'shm' or 'section'.
    pub kind: String,
    pub dev: String,
    pub ino: String,
    pub fd: Option<i32>,
    pub name: Option<String>,
}

/// Shared anonymous memory of `length` bytes, zero-filled, mapped read-write.
#[napi(ts_return_type = "NativeMap")]
pub fn allocate_shared(length: f64) -> Result<Wrapped> {
    let length = byte_count("length", length)?;
    #[cfg(windows)]
    {
        let (name, view) = os::create_section(length).into_napi()?;
        let region = Region::section(view, length).into_napi()?;
        Ok(Wrapped(NativeMap::from_memory(region, None, Some(SharedMemory::Section(name)), HugePages::None)))
    }
    #[cfg(not(windows))]
    {
        let file = os::shared_memory(length as u64).into_napi()?;
        let layout = Layout::at(0, length as u64, os::page_size() as u64);
        let (region, _) = Region::map(&file, &layout, Mode::ReadWrite).into_napi()?;
        Ok(Wrapped(NativeMap::from_memory(
            region,
            Some(file),
            Some(SharedMemory::Descriptor),
            HugePages::None,
        )))
    }
}

/// `openShared` of a Windows section: maps its first `length` bytes, read-write or
/// copy-on-write. Elsewhere sections do not exist (ERR_MMAP_UNSUPPORTED).
#[napi(ts_return_type = "NativeMap")]
#[cfg(windows)]
pub fn open_section(name: String, length: f64, mode: BindingMode) -> Result<Wrapped> {
    let length = byte_count("length", length)?;
    let writable = matches!(mode, BindingMode::ReadWrite);
    let view = os::open_section(&name, length, writable).into_napi()?;
    let region = Region::section(view, length).into_napi()?;
    let mut map = NativeMap::from_memory(region, None, Some(SharedMemory::Section(name)), HugePages::None);
    map.set_mode(mode.into());
    Ok(Wrapped(map))
}

/// See above: not Windows.
#[napi(ts_return_type = "NativeMap")]
#[cfg(not(windows))]
pub fn open_section(_name: String, _length: f64, _mode: crate::options::BindingMode) -> Result<Wrapped> {
    Err(to_napi(Error::Unsupported("a 'section' token comes from Windows; this OS has no sections".into())))
}

/// What `share()` puts in the token. Private `allocate()` memory has nothing another map could
/// reach; a map opened from a descriptor with `trackFile: false` keeps no descriptor and has
/// no path.
#[napi]
pub fn share_info(map: &NativeMap) -> Result<ShareInfo> {
    map.live()?;
    if let Some(SharedMemory::Section(name)) = map.shared_memory() {
        let name = Some(name.clone());
        return Ok(ShareInfo { kind: "section".into(), dev: "0".into(), ino: "0".into(), fd: None, name });
    }
    if map.anonymous() {
        return Err(to_napi(Error::Unsupported(
            "share() needs a file map or shared memory: private allocate() memory stays in this isolate; use allocate(n, { shared: true })".into(),
        )));
    }
    let kind = if map.shared_memory().is_some() { os::SHARED_MEMORY_KIND } else { "file" };
    let (identity, fd) = match map.file() {
        Some(file) => (os::file_identity(file).into_napi()?, os::descriptor_number(file)),
        None => match map.mapped_identity() {
            Some(identity) => (identity, None),
            None => {
                return Err(to_napi(Error::Unsupported(
                    "share() of a map opened from a descriptor with `trackFile: false`: it keeps no descriptor and has no path; open it without `trackFile: false`".into(),
                )))
            }
        },
    };
    Ok(ShareInfo {
        kind: kind.into(),
        dev: identity.0.to_string(),
        ino: identity.1.to_string(),
        fd,
        name: None,
    })
}
