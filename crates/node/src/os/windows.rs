//! Windows (x86_64 and aarch64, msvc; the same code runs as windows-gnu under wine in the cross
//! tests). See `mod.rs` for the Safety contract every pointer-taking function shares.
//!
//! Calls newer than Windows 8 (PrefetchVirtualMemory) and libuv's `uv_get_osfhandle` (exported by
//! node.exe, not by a system DLL) are resolved at run time with GetProcAddress, so the addon loads
//! on every Windows and under wine; a missing call degrades as the README says. Errors carry the
//! Win32 code; `uv_errno` translates it the way libuv's `uv_translate_sys_error` does
//! (`memmap_core::win32`), so `code` and `errno` equal what node:fs reports for the same failure.

use std::ffi::c_void;
use std::fs::File;
use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, RawHandle};
use std::sync::OnceLock;

use memmap_core::{Advice, Error, LockSpan, Result};
use windows_sys::Win32::Foundation::{
    CloseHandle, DuplicateHandle, GetLastError, DUPLICATE_SAME_ACCESS, ERROR_ALREADY_EXISTS,
    ERROR_COMMITMENT_LIMIT, ERROR_INVALID_HANDLE, ERROR_IO_PENDING, ERROR_LOCK_VIOLATION,
    ERROR_NOT_ENOUGH_MEMORY, ERROR_NOT_LOCKED, ERROR_WORKING_SET_QUOTA, HANDLE, INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::Storage::FileSystem::{
    FileAllocationInfo, FlushFileBuffers, GetFileInformationByHandle, LockFileEx, SetFileInformationByHandle,
    UnlockFileEx, BY_HANDLE_FILE_INFORMATION, FILE_ALLOCATION_INFO, LOCKFILE_EXCLUSIVE_LOCK,
    LOCKFILE_FAIL_IMMEDIATELY,
};
use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};
use windows_sys::Win32::System::Memory::{
    CreateFileMappingW, FlushViewOfFile, MapViewOfFile, OpenFileMappingW, UnmapViewOfFile, VirtualLock,
    VirtualProtect, VirtualUnlock, FILE_MAP_COPY, FILE_MAP_READ, FILE_MAP_WRITE, MEMORY_MAPPED_VIEW_ADDRESS,
    PAGE_READONLY, PAGE_READWRITE, WIN32_MEMORY_RANGE_ENTRY,
};
use windows_sys::Win32::System::ProcessStatus::{K32QueryWorkingSetEx, PSAPI_WORKING_SET_EX_INFORMATION};
use windows_sys::Win32::System::SystemInformation::{GetSystemInfo, SYSTEM_INFO};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, GetProcessWorkingSetSize, SetProcessWorkingSetSize,
};
use windows_sys::Win32::System::IO::{GetOverlappedResult, OVERLAPPED};

/// The page size and the allocation granularity (GetSystemInfo), read once.
fn system_info() -> (usize, usize) {
    static INFO: OnceLock<(usize, usize)> = OnceLock::new();
    *INFO.get_or_init(|| {
        // SAFETY: SYSTEM_INFO is plain data; GetSystemInfo fills every field and cannot fail.
        let mut info: SYSTEM_INFO = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a valid, writable SYSTEM_INFO.
        unsafe { GetSystemInfo(&mut info) };
        (info.dwPageSize as usize, info.dwAllocationGranularity as usize)
    })
}

/// The system page size (GetSystemInfo).
pub fn page_size() -> usize {
    system_info().0
}

/// Where a view may start in a file: 64 KiB on every Windows so far (GetSystemInfo).
pub fn allocation_granularity() -> usize {
    system_info().1
}

/// Large pages need SeLockMemoryPrivilege and a pagefile-backed section made for them; memmap
/// does not ask for them, so `hugePages` is reported as false.
pub const HUGE_PAGES: bool = false;

/// A file cannot be cut below a mapped view (ERROR_USER_MAPPED_FILE): `resize` unmaps first.
pub const TRUNCATE_WHILE_MAPPED: bool = false;

pub fn huge_page_size() -> usize {
    2 << 20
}

fn last_error(syscall: &'static str) -> Error {
    Error::last_os(syscall)
}

fn check(ok: i32, syscall: &'static str) -> Result<()> {
    if ok != 0 {
        Ok(())
    } else {
        Err(last_error(syscall))
    }
}

/// libuv's errno for a Win32 error code (`memmap_core::win32`), as node:fs reports it.
pub fn uv_errno(raw: i32) -> i32 {
    memmap_core::win32::uv_errno(raw)
}

/// A copy-on-write view commits its whole length up front; when the commit limit refuses that,
/// 'read' falls back to a read-only view (SPEC §4.2).
pub fn commit_refused(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(c) if c == ERROR_NOT_ENOUGH_MEMORY as i32 || c == ERROR_COMMITMENT_LIMIT as i32)
}

/// The error Windows gives when it refuses that commit (what the test hook injects).
pub fn commit_refusal() -> io::Error {
    io::Error::from_raw_os_error(ERROR_NOT_ENOUGH_MEMORY as i32)
}

type UvGetOsfhandle = unsafe extern "C" fn(fd: i32) -> HANDLE;
type PrefetchVirtualMemory =
    unsafe extern "system" fn(HANDLE, usize, *const WIN32_MEMORY_RANGE_ENTRY, u32) -> i32;

/// `name` (NUL-terminated) from the module `module` (a NUL-terminated UTF-16 name, or None for
/// the program itself), resolved once.
fn resolve(cache: &'static OnceLock<usize>, module: Option<&[u16]>, name: &[u8]) -> Option<usize> {
    let address = *cache.get_or_init(|| {
        let module_name = module.map_or(std::ptr::null(), <[u16]>::as_ptr);
        // SAFETY: `module_name` is null (this program) or a NUL-terminated UTF-16 string.
        let module = unsafe { GetModuleHandleW(module_name) };
        if module.is_null() {
            return 0;
        }
        // SAFETY: `module` is loaded (a module handle of this process) and `name` ends in NUL.
        unsafe { GetProcAddress(module, name.as_ptr()) }.map_or(0, |f| f as usize)
    });
    (address != 0).then_some(address)
}

const KERNEL32: &[u16] = &[
    b'k' as u16,
    b'e' as u16,
    b'r' as u16,
    b'n' as u16,
    b'e' as u16,
    b'l' as u16,
    b'3' as u16,
    b'2' as u16,
    0,
];

/// The caller's descriptor as a handle of our own (DuplicateHandle): libuv's `uv_get_osfhandle`,
/// exported by the host (node.exe), maps the CRT descriptor to its handle.
pub fn dup_fd(fd: i32) -> Result<File> {
    static UV_GET_OSFHANDLE: OnceLock<usize> = OnceLock::new();
    let Some(address) = resolve(&UV_GET_OSFHANDLE, None, b"uv_get_osfhandle\0") else {
        return Err(Error::Unsupported(
            "mapping a file descriptor needs libuv's uv_get_osfhandle, which this runtime does not export; pass a path"
                .into(),
        ));
    };
    // SAFETY: the address was resolved by name, and uv_get_osfhandle has this signature (uv.h).
    let get: UvGetOsfhandle = unsafe { std::mem::transmute::<usize, UvGetOsfhandle>(address) };
    // SAFETY: uv_get_osfhandle accepts any integer; an fd that is not open gives INVALID_HANDLE_VALUE.
    let handle = unsafe { get(fd) };
    if handle == INVALID_HANDLE_VALUE || handle.is_null() {
        return Err(Error::io("fstat", io::Error::from_raw_os_error(ERROR_INVALID_HANDLE as i32)));
    }
    let mut own: HANDLE = std::ptr::null_mut();
    // SAFETY: `handle` is open in this process (checked above) and `own` receives the duplicate.
    let ok = unsafe {
        DuplicateHandle(
            GetCurrentProcess(),
            handle,
            GetCurrentProcess(),
            &mut own,
            0,
            0,
            DUPLICATE_SAME_ACCESS,
        )
    };
    check(ok, "dup")?;
    // SAFETY: `own` is a handle this process now owns exclusively; File closes it.
    Ok(unsafe { File::from_raw_handle(own as RawHandle) })
}

/// PrefetchVirtualMemory over the range (Windows 8+): `Ok(false)` where the call does not exist.
///
/// # Safety
/// The range lies in one live mapping (module Safety paragraph).
unsafe fn prefetch(ptr: *mut u8, len: usize) -> Result<bool> {
    static PREFETCH: OnceLock<usize> = OnceLock::new();
    let Some(address) = resolve(&PREFETCH, Some(KERNEL32), b"PrefetchVirtualMemory\0") else {
        return Ok(false);
    };
    // SAFETY: resolved by name; the signature is PrefetchVirtualMemory's (memoryapi.h).
    let prefetch: PrefetchVirtualMemory =
        unsafe { std::mem::transmute::<usize, PrefetchVirtualMemory>(address) };
    let range = WIN32_MEMORY_RANGE_ENTRY { VirtualAddress: ptr.cast(), NumberOfBytes: len };
    super::count_read_ahead();
    // SAFETY: one valid range entry in this process (the caller guarantees the range).
    check(unsafe { prefetch(GetCurrentProcess(), 1, &range, 0) }, "madvise")?;
    Ok(true)
}

/// Applies `advice`: 'willneed' is PrefetchVirtualMemory where it exists. Windows has no
/// equivalent of the other hints for file views (Discard/OfferVirtualMemory act on private
/// memory only, where 'dontneed' is refused before this), so they are no-ops (README).
///
/// # Safety
/// `ptr` is page-aligned and the range lies in one live mapping (module Safety paragraph).
pub unsafe fn advise(ptr: *mut u8, len: usize, advice: Advice) -> Result<()> {
    if advice == Advice::WillNeed {
        // SAFETY: the caller guarantees the range (function contract).
        unsafe { prefetch(ptr, len) }?;
    }
    Ok(())
}

/// Faults the range in for reading: PrefetchVirtualMemory (one batched read where it exists),
/// then a read of one byte per page, never a write (a 'read' view is copy-on-write).
///
/// # Safety
/// `ptr` is page-aligned and the range lies in one live, readable mapping.
pub unsafe fn populate_read(ptr: *mut u8, len: usize) -> Result<()> {
    // SAFETY: the caller guarantees the range (function contract). Only a hint: a refusal is not
    // an error, the loop below reads every page anyway.
    let _ = unsafe { prefetch(ptr, len) };
    // SAFETY: the caller guarantees the range (function contract).
    unsafe { super::read_touch(ptr, len) };
    Ok(())
}

/// VirtualLock. Windows caps locked pages by the process's minimum working set: when that is
/// the refusal (ERROR_WORKING_SET_QUOTA), both working-set bounds grow by `len` and it retries.
/// VirtualLock reads pages in; it never write-faults a copy-on-write view.
///
/// # Safety
/// `ptr` is page-aligned and the range lies in one live mapping.
pub unsafe fn lock(ptr: *mut u8, len: usize) -> Result<()> {
    // SAFETY: the caller guarantees the range (function contract).
    if unsafe { VirtualLock(ptr.cast(), len) } != 0 {
        return Ok(());
    }
    // SAFETY: GetLastError only reads this thread's last error.
    if unsafe { GetLastError() } != ERROR_WORKING_SET_QUOTA {
        return Err(last_error("mlock"));
    }
    let (mut min, mut max) = (0usize, 0usize);
    // SAFETY: both out-pointers are valid; the pseudo-handle of this process needs no closing.
    check(unsafe { GetProcessWorkingSetSize(GetCurrentProcess(), &mut min, &mut max) }, "mlock")?;
    let grow = len + 64 * page_size();
    let (min, max) = (min + grow, max.max(min) + grow);
    // SAFETY: only integers; the process may always ask (the OS refuses what it cannot grant).
    let ok = unsafe { SetProcessWorkingSetSize(GetCurrentProcess(), min, max) };
    check(ok, "mlock")?;
    // SAFETY: as for the first attempt.
    check(unsafe { VirtualLock(ptr.cast(), len) }, "mlock")
}

/// VirtualUnlock; pages that were not locked are not an error (munlock's behaviour).
///
/// # Safety
/// `ptr` is page-aligned and the range lies in one live mapping.
pub unsafe fn unlock(ptr: *mut u8, len: usize) -> Result<()> {
    // SAFETY: the caller guarantees the range (function contract).
    if unsafe { VirtualUnlock(ptr.cast(), len) } != 0 {
        return Ok(());
    }
    // SAFETY: GetLastError only reads this thread's last error.
    if unsafe { GetLastError() } == ERROR_NOT_LOCKED {
        return Ok(());
    }
    Err(last_error("munlock"))
}

/// Pages of the range in this process's working set (QueryWorkingSetEx's Valid bit), and the
/// page count. Pages in the standby cache but not in the working set count as not resident.
///
/// # Safety
/// `ptr` is page-aligned and the range lies in one live mapping.
pub unsafe fn residency(ptr: *mut u8, len: usize) -> Result<(u64, u64)> {
    const BATCH: usize = 4096;
    let page = page_size();
    let pages = len.div_ceil(page);
    let mut resident = 0u64;
    let mut entries: Vec<PSAPI_WORKING_SET_EX_INFORMATION> = Vec::with_capacity(BATCH.min(pages));
    let mut first = 0;
    while first < pages {
        let count = BATCH.min(pages - first);
        entries.clear();
        for i in first..first + count {
            // SAFETY: PSAPI_WORKING_SET_EX_INFORMATION is plain data (a pointer and a bit field).
            let mut entry: PSAPI_WORKING_SET_EX_INFORMATION = unsafe { std::mem::zeroed() };
            entry.VirtualAddress = ptr.wrapping_add(i * page).cast();
            entries.push(entry);
        }
        let bytes = (count * std::mem::size_of::<PSAPI_WORKING_SET_EX_INFORMATION>()) as u32;
        // SAFETY: `entries` holds `count` initialised entries, `bytes` long, for this process.
        let ok = unsafe {
            K32QueryWorkingSetEx(GetCurrentProcess(), entries.as_mut_ptr().cast::<c_void>(), bytes)
        };
        check(ok, "mincore")?;
        // SAFETY: every variant of the union is a usize bit field; bit 0 is Valid.
        resident += entries.iter().filter(|e| unsafe { e.VirtualAttributes.Flags } & 1 == 1).count() as u64;
        first += count;
    }
    Ok((resident, pages as u64))
}

/// VirtualProtect to PAGE_READONLY or PAGE_READWRITE.
///
/// # Safety
/// `ptr` is page-aligned and the range lies in one live mapping that no other code relies on
/// being writable while it is read-only.
pub unsafe fn protect(ptr: *mut u8, len: usize, writable: bool) -> Result<()> {
    let mut old = 0;
    let new = if writable { PAGE_READWRITE } else { PAGE_READONLY };
    // SAFETY: the caller guarantees the range; `old` receives the previous protection.
    check(unsafe { VirtualProtect(ptr.cast(), len, new, &mut old) }, "mprotect")
}

/// FlushViewOfFile: writes the dirty pages back to the file (the file system's cache).
///
/// # Safety
/// `ptr` is page-aligned and the range lies in one live shared file view.
pub unsafe fn sync(ptr: *mut u8, len: usize) -> Result<()> {
    // SAFETY: the caller guarantees the range (function contract).
    check(unsafe { FlushViewOfFile(ptr.cast(), len) }, "msync")
}

/// FlushFileBuffers: asks the device to persist (`flush({ durable: true })`).
pub fn sync_file(file: &File) -> Result<()> {
    // SAFETY: the handle is open for as long as `file` lives.
    check(unsafe { FlushFileBuffers(file.as_raw_handle() as HANDLE) }, "fdatasync")
}

pub fn check_shrinkable(_file: &File) -> Result<()> {
    Ok(())
}

/// Windows cannot replace a mapped view in place without a placeholder reserved when it was
/// mapped (VirtualAlloc2 / MapViewOfFile3, which memmap2 does not use), and unmapping first would
/// let another thread take the addresses: the view stays mapped (still showing the file) until
/// the last holder drops it (README). `Ok(false)`: not replaced.
///
/// # Safety
/// See `mod.rs`.
pub unsafe fn replace_with_zero(_ptr: *mut u8, _len: usize) -> Result<bool> {
    Ok(false)
}

/// Reserves the file's blocks up to `offset + len` (SetFileInformationByHandle with
/// FileAllocationInfo), so a full disk is ENOSPC now, not an in-page error on a later store.
/// A file system without the call (wine, some redirectors: ERROR_CALL_NOT_IMPLEMENTED,
/// ERROR_NOT_SUPPORTED) keeps what the growth allocated: NTFS, ReFS and FAT allocate the clusters
/// of a non-sparse file when SetEndOfFile extends it (README).
pub fn reserve(file: &File, offset: u64, len: u64) -> Result<()> {
    use windows_sys::Win32::Foundation::{ERROR_CALL_NOT_IMPLEMENTED, ERROR_NOT_SUPPORTED};
    let info = FILE_ALLOCATION_INFO { AllocationSize: (offset + len) as i64 };
    // SAFETY: `info` is a valid FILE_ALLOCATION_INFO of the size passed; the handle is open for
    // writing.
    let ok = unsafe {
        SetFileInformationByHandle(
            file.as_raw_handle() as HANDLE,
            FileAllocationInfo,
            (&info as *const FILE_ALLOCATION_INFO).cast(),
            std::mem::size_of::<FILE_ALLOCATION_INFO>() as u32,
        )
    };
    if ok == 0 {
        // SAFETY: GetLastError only reads this thread's last error.
        let code = unsafe { GetLastError() };
        if code == ERROR_CALL_NOT_IMPLEMENTED || code == ERROR_NOT_SUPPORTED {
            return Ok(());
        }
    }
    check(ok, "fallocate")
}

/// The working set is this process's own: exact for every file.
pub fn residency_is_exact(file: Option<&File>) -> bool {
    file.is_some()
}

/// The identity of an open file (volume serial number and file index), to check that a path
/// still names it.
pub fn file_identity(file: &File) -> Result<(u64, u64)> {
    // SAFETY: BY_HANDLE_FILE_INFORMATION is plain data, valid all-zero.
    let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: the handle is open for as long as `file` lives; `info` is written by the call.
    check(unsafe { GetFileInformationByHandle(file.as_raw_handle() as HANDLE, &mut info) }, "fstat")?;
    let index = (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow);
    Ok((u64::from(info.dwVolumeSerialNumber), index))
}

/// The first byte and the byte count of a lock: the whole file is every byte a 64-bit offset
/// reaches, as LockFileEx has no "to the end, however it grows".
fn lock_bounds(span: LockSpan) -> (OVERLAPPED, u32, u32) {
    let (start, len) = match span {
        LockSpan::Whole => (0, u64::MAX),
        LockSpan::Bytes { start, len } => (start, len),
    };
    let mut at = OVERLAPPED::default();
    at.Anonymous.Anonymous.Offset = start as u32;
    at.Anonymous.Anonymous.OffsetHigh = (start >> 32) as u32;
    (at, len as u32, (len >> 32) as u32)
}

/// Takes a byte-range lock on `span` of `file` (LockFileEx): exclusive or shared, waiting for it
/// when `wait`, else `Ok(false)` when another handle's lock conflicts. Unlike POSIX locks these
/// are mandatory for file I/O (README): an exclusive lock fails ReadFile and WriteFile of the
/// range through every other handle with ERROR_LOCK_VIOLATION, a shared one fails WriteFile
/// through every handle; mapped views are not checked.
pub fn lock_file(file: &File, span: LockSpan, exclusive: bool, wait: bool) -> Result<bool> {
    let handle = file.as_raw_handle() as HANDLE;
    let (mut at, low, high) = lock_bounds(span);
    let kind = if exclusive { LOCKFILE_EXCLUSIVE_LOCK } else { 0 };
    let flags = if wait { kind } else { kind | LOCKFILE_FAIL_IMMEDIATELY };
    // SAFETY: the handle is open for as long as `file` lives; `at` lives until the call has
    // completed (below, for a handle opened for overlapped I/O, where the call may pend).
    if unsafe { LockFileEx(handle, flags, 0, low, high, &mut at) } != 0 {
        return Ok(true);
    }
    // SAFETY: GetLastError has no preconditions.
    match unsafe { GetLastError() } {
        ERROR_LOCK_VIOLATION if !wait => Ok(false),
        ERROR_IO_PENDING => finish_pending(handle, &at, "LockFileEx").map(|()| true),
        _ => Err(last_error("LockFileEx")),
    }
}

/// Waits for a lock call that pended (a handle opened for overlapped I/O, which Node never makes
/// but a caller's descriptor could be), so the kernel is done with `at` before it goes.
fn finish_pending(handle: HANDLE, at: &OVERLAPPED, syscall: &'static str) -> Result<()> {
    let mut transferred = 0;
    // SAFETY: `at` is the OVERLAPPED of the pending call on `handle`; waiting (TRUE) returns once
    // that call completed.
    check(unsafe { GetOverlappedResult(handle, at, &mut transferred, 1) }, syscall)
}

/// Releases the lock taken on exactly `span` of `file` (UnlockFileEx).
pub fn unlock_file(file: &File, span: LockSpan) -> Result<()> {
    let handle = file.as_raw_handle() as HANDLE;
    let (mut at, low, high) = lock_bounds(span);
    // SAFETY: as in `lock_file`.
    if unsafe { UnlockFileEx(handle, 0, low, high, &mut at) } != 0 {
        return Ok(());
    }
    // SAFETY: GetLastError has no preconditions.
    match unsafe { GetLastError() } {
        ERROR_IO_PENDING => finish_pending(handle, &at, "UnlockFileEx"),
        _ => Err(last_error("UnlockFileEx")),
    }
}

/// Shared anonymous memory on Windows is a pagefile-backed section, named so other processes open
/// it by name (a token's `name`).
pub const SHARED_MEMORY_KIND: &str = "section";

/// A pagefile-backed section keeps the size it was made with (only file-backed sections extend).
pub const SHARED_MEMORY_GROWS: bool = false;

/// Windows maps hold handles, not descriptor numbers: a token names a file by path, a section by
/// name.
pub fn descriptor_number(_file: &File) -> Option<i32> {
    None
}

/// One view of a pagefile-backed section, and the section's handle: unmapped and closed on drop.
/// The section itself lives while any process holds a handle or a view of it.
pub struct SectionView {
    section: HANDLE,
    view: MEMORY_MAPPED_VIEW_ADDRESS,
}

// SAFETY: the handle and the view are process-wide; nothing in them is tied to a thread.
unsafe impl Send for SectionView {}
// SAFETY: as above; shared access only reads the address.
unsafe impl Sync for SectionView {}

impl SectionView {
    pub fn ptr(&self) -> *mut u8 {
        self.view.Value.cast()
    }
}

impl Drop for SectionView {
    fn drop(&mut self) {
        // SAFETY: the view and the handle were made by `map_section` and are released once, here.
        unsafe {
            UnmapViewOfFile(self.view);
            CloseHandle(self.section);
        }
    }
}

fn wide(name: &str) -> Vec<u16> {
    name.encode_utf16().chain(std::iter::once(0)).collect()
}

/// A new pagefile-backed section of `len` bytes (at least one, as CreateFileMapping refuses an
/// empty one) under a fresh name in this session's namespace (`Local\memmap-<pid>-<n>-<nonce>`),
/// mapped read-write whole. Returns the name, which other processes open it by.
pub fn create_section(len: usize) -> Result<(String, SectionView)> {
    use std::collections::hash_map::RandomState;
    use std::hash::BuildHasher;
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nonce = RandomState::new().hash_one(std::time::SystemTime::now());
    let name =
        format!("Local\\memmap-{}-{}-{nonce:016x}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let size = len.max(1) as u64;
    // SAFETY: INVALID_HANDLE_VALUE asks for a pagefile-backed section; `wide(&name)` is
    // NUL-terminated and lives across the call.
    let section = unsafe {
        CreateFileMappingW(
            INVALID_HANDLE_VALUE,
            std::ptr::null(),
            PAGE_READWRITE,
            (size >> 32) as u32,
            size as u32,
            wide(&name).as_ptr(),
        )
    };
    if section.is_null() {
        return Err(last_error("CreateFileMapping"));
    }
    // SAFETY: GetLastError only reads this thread's last error, set by the call above.
    if unsafe { GetLastError() } == ERROR_ALREADY_EXISTS {
        // SAFETY: the handle was just returned and is closed once.
        unsafe { CloseHandle(section) };
        return Err(Error::io(
            "CreateFileMapping",
            io::Error::from_raw_os_error(ERROR_ALREADY_EXISTS as i32),
        ));
    }
    let view = map_section(section, size as usize, FILE_MAP_READ | FILE_MAP_WRITE)?;
    Ok((name, view))
}

/// Opens the section another map made (`create_section`) by its name and maps its first `len`
/// bytes: read-write, or copy-on-write for 'read' and 'copy-on-write' (a stray write stays in this
/// process). A name no section has any more is ENOENT, as libuv reports ERROR_FILE_NOT_FOUND.
pub fn open_section(name: &str, len: usize, writable: bool) -> Result<SectionView> {
    let access = if writable { FILE_MAP_READ | FILE_MAP_WRITE } else { FILE_MAP_COPY };
    // SAFETY: `wide(name)` is NUL-terminated and lives across the call.
    let section = unsafe { OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, 0, wide(name).as_ptr()) };
    if section.is_null() {
        return Err(last_error("OpenFileMapping"));
    }
    map_section(section, len.max(1), access)
}

/// Maps `len` bytes of `section` from its start; closes the handle when that fails.
fn map_section(section: HANDLE, len: usize, access: u32) -> Result<SectionView> {
    // SAFETY: `section` is an open section handle; a view longer than the section fails.
    let view = unsafe { MapViewOfFile(section, access, 0, 0, len) };
    if view.Value.is_null() {
        let error = last_error("MapViewOfFile");
        // SAFETY: the handle is open and closed once.
        unsafe { CloseHandle(section) };
        return Err(error);
    }
    Ok(SectionView { section, view })
}
