//! Advisory file locks: `lockFileSync`, `tryLockFile` and `unlockFile`, and the attempts
//! `lockFile()` polls with (js/file-lock.ts). The OS call is in `os` (OFD locks on Linux, flock
//! on macOS, LockFileEx on Windows); the books (which spans the map holds, never two over one
//! byte) are `memmap_core::HeldLocks`.
//!
//! Locks go through the map's own descriptor. A `trackFile: false` map keeps none: at its first
//! lock it opens one by path, checked to be the file it mapped, and keeps it until `close()`.
//! `close()` releases every lock explicitly before dropping the descriptor, because dropping it
//! is not enough: a task still running holds the descriptor a little longer, and a map opened
//! from a caller's descriptor shares its open file description (and so its locks) with it.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use memmap_core::{Error, HeldLocks, LockSpan, Mode, OpenOptions, OpenedFile};
use napi::Result;
use napi_derive::napi;

use crate::error::{to_napi, IntoNapi};
use crate::mapping::NativeMap;
use crate::options::byte_count;
use crate::os;

/// How a `trackFile: false` map opened by path finds its file again.
pub struct Reopen {
    pub path: String,
    /// `os::file_identity` of the file when it was mapped.
    pub identity: (u64, u64),
}

/// The advisory locks of one map, and the descriptor a `trackFile: false` map opened for them.
#[derive(Default)]
pub struct FileLocks {
    held: HeldLocks,
    own: Option<Arc<File>>,
    reopen: Option<Reopen>,
}

impl FileLocks {
    pub fn new(reopen: Option<Reopen>) -> FileLocks {
        FileLocks { reopen, ..FileLocks::default() }
    }

    /// The identity of the file a `trackFile: false` map opened by path mapped, recorded at open.
    pub fn mapped_identity(&self) -> Option<(u64, u64)> {
        self.reopen.as_ref().map(|r| r.identity)
    }

    /// The descriptor the map's locks go through, if it has one yet: the map's own, else the one
    /// opened for locks.
    fn current(&self, map_file: Option<&Arc<File>>) -> Option<Arc<File>> {
        map_file.or(self.own.as_ref()).cloned()
    }

    /// `current`, or, at the first lock of a `trackFile: false` map, a descriptor opened now with
    /// the map's access.
    fn descriptor(&mut self, map_file: Option<&Arc<File>>, mode: Mode) -> memmap_core::Result<Arc<File>> {
        if let Some(file) = self.current(map_file) {
            return Ok(file);
        }
        let Some(reopen) = &self.reopen else {
            return Err(Error::Unsupported(
                "file locks on a map opened from a descriptor with `trackFile: false`: it keeps no descriptor to lock through and has no path to open one; open it without `trackFile: false`"
                    .into(),
            ));
        };
        let access = if mode == Mode::ReadWrite { Mode::ReadWrite } else { Mode::Read };
        let opened = OpenedFile::open(
            Path::new(&reopen.path),
            &OpenOptions { mode: access, ..OpenOptions::default() },
        )?;
        if os::file_identity(&opened.file)? != reopen.identity {
            return Err(Error::Unsupported(format!(
                "'{}' no longer names the file this map was opened from (replaced or moved since): a lock on it would not guard the map",
                reopen.path
            )));
        }
        Ok(Arc::clone(self.own.insert(Arc::new(opened.file))))
    }

    /// Releases every lock the map holds and the descriptor opened for them (close, collection).
    /// Best effort: closing the last descriptor of the open file description releases them too.
    pub fn release_all(&mut self, map_file: Option<&Arc<File>>) {
        if let Some(file) = self.current(map_file) {
            for held in self.held.take_all() {
                let _ = os::unlock_file(&file, held.span);
            }
        }
        self.own = None;
    }
}

/// Locks the whole file, or `length` bytes from `byteOffset` of the map: waits for it when
/// `wait`, else returns null when another holder's lock conflicts. Returns the lock's id,
/// which `unlockFileLock` takes.
#[napi]
pub fn lock_file(
    map: &mut NativeMap,
    exclusive: bool,
    whole: bool,
    byte_offset: f64,
    length: f64,
    wait: bool,
) -> Result<Option<u32>> {
    map.live()?;
    if map.anonymous() || map.shared_memory().is_some() {
        return Err(to_napi(Error::Unsupported("file locks need a file: allocate() maps have none".into())));
    }
    if exclusive && map.mode() != Mode::ReadWrite {
        return Err(to_napi(Error::ReadOnly(
            "an exclusive file lock needs a 'read-write' map (POSIX gives write locks only to descriptors open for writing; memmap keeps that rule on every OS); take a shared lock",
        )));
    }
    let span = map.lock_span(whole, byte_offset, length)?;
    let (mode, map_file) = (map.mode(), map.file().cloned());
    let locks = map.file_locks();
    locks.held.check_free(span).into_napi()?;
    let file = locks.descriptor(map_file.as_ref(), mode).into_napi()?;
    if !os::lock_file(&file, span, exclusive, wait).into_napi()? {
        return Ok(None);
    }
    Ok(Some(locks.held.insert(span, exclusive)))
}

/// Releases every lock of the map (`whole`), or the one taken on exactly that range; a range
/// the map holds no lock on is a no-op.
#[napi]
pub fn unlock_file(map: &mut NativeMap, whole: bool, byte_offset: f64, length: f64) -> Result<()> {
    map.live()?;
    let map_file = map.file().cloned();
    if whole {
        let locks = map.file_locks();
        let Some(file) = locks.current(map_file.as_ref()) else { return Ok(()) };
        let mut first_error = Ok(());
        for held in locks.held.take_all() {
            if let Err(e) = os::unlock_file(&file, held.span) {
                first_error = first_error.and(Err(e));
            }
        }
        return first_error.into_napi();
    }
    let span = map.lock_span(false, byte_offset, length)?;
    match map.file_locks().held.find_span(span).into_napi()? {
        Some(held) => map.release(held.id),
        None => Ok(()),
    }
}

/// Releases the lock with this id if the map still holds it (disposing a lock twice, or
/// after `unlockFile()` or `close()`, does nothing).
#[napi]
pub fn unlock_file_lock(map: &mut NativeMap, id: u32) -> Result<()> {
    if map.live().is_err() || map.file_locks().held.find_id(id).is_none() {
        return Ok(());
    }
    map.release(id)
}

impl NativeMap {
    /// The span of the file a lock covers: the whole file, or a range of the map (checked by
    /// the TypeScript layer to lie inside it and to be at least one byte).
    fn lock_span(&self, whole: bool, byte_offset: f64, length: f64) -> Result<LockSpan> {
        if whole {
            return Ok(LockSpan::Whole);
        }
        let start = byte_count("range.offset", byte_offset)? as u64;
        let len = byte_count("range.length", length)? as u64;
        if len == 0 {
            return Err(to_napi(Error::out_of_range("range.length", "at least 1 (a lock covers bytes)", 0)));
        }
        Ok(LockSpan::Bytes { start: self.file_offset() + start, len })
    }

    fn release(&mut self, id: u32) -> Result<()> {
        let map_file = self.file().cloned();
        let locks = self.file_locks();
        let (Some(held), Some(file)) = (locks.held.find_id(id), locks.current(map_file.as_ref())) else {
            return Ok(());
        };
        os::unlock_file(&file, held.span).into_napi()?;
        locks.held.remove(id);
        Ok(())
    }
}
