//! Unix: Linux and macOS (Linux-only calls behind `target_os` checks: mlock2, fallocate,
//! MADV_POPULATE_READ, MADV_HUGEPAGE, memfd seals, OFD locks; macOS gets F_PREALLOCATE, F_FULLFSYNC
//! and flock). See `mod.rs` for the Safety contract every pointer-taking function shares.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

use memmap_core::{Advice, Error, LockSpan, Result};

/// The system page size.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions; _SC_PAGESIZE is always supported on Unix.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

/// Where a mapping may start in a file: any page boundary on Unix.
pub fn allocation_granularity() -> usize {
    page_size()
}

/// Whether anonymous maps can get huge pages (MAP_HUGETLB, MADV_HUGEPAGE): Linux only. macOS has
/// superpages only through Mach calls, which memmap does not use.
pub const HUGE_PAGES: bool = cfg!(target_os = "linux");

/// Whether the file of a mapping can be cut while the mapping exists (yes on Unix; the pages past
/// the end then fault, which `resize` avoids by mapping the new length first).
pub const TRUNCATE_WHILE_MAPPED: bool = true;

/// The errno as libuv reports it: on Unix the OS's own number (the TS layer negates it).
pub fn uv_errno(raw: i32) -> i32 {
    raw
}

/// Whether a private writable map was refused for want of memory (strict overcommit), so 'read'
/// falls back to a read-only map.
pub fn commit_refused(error: &io::Error) -> bool {
    error.raw_os_error() == Some(libc::ENOMEM)
}

/// The error the OS gives when it refuses that commit (what the test hook injects).
pub fn commit_refusal() -> io::Error {
    io::Error::from_raw_os_error(libc::ENOMEM)
}

/// A duplicate (F_DUPFD_CLOEXEC) of the caller's descriptor: the caller keeps and closes theirs.
/// A descriptor that is not open is EBADF from `fstat`, as `fs.fstatSync` reports it.
pub fn dup_fd(fd: i32) -> Result<File> {
    // SAFETY: fcntl(F_GETFD) only inspects the descriptor table; an invalid fd is EBADF.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
        return Err(Error::last_os("fstat"));
    }
    // SAFETY: `fd` is open (checked just above) and only borrowed for the dup.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    borrowed.try_clone_to_owned().map(File::from).map_err(|e| Error::io("dup", e))
}

/// The default huge page size (Hugepagesize in /proc/meminfo), 2 MiB where it can't be read.
pub fn huge_page_size() -> usize {
    static SIZE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *SIZE.get_or_init(|| {
        std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("Hugepagesize:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
            })
            .map_or(2 << 20, |kb| kb * 1024)
    })
}

fn check(ret: libc::c_int, syscall: &'static str) -> Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(Error::last_os(syscall))
    }
}

#[cfg(target_os = "linux")]
const MADV_POPULATE_READ: libc::c_int = 22;

/// Applies `advice` to `[ptr, ptr + len)`. A hint the platform lacks is a no-op.
///
/// # Safety
/// `ptr` is page-aligned and the range lies in one live mapping (module Safety paragraph).
pub unsafe fn advise(ptr: *mut u8, len: usize, advice: Advice) -> Result<()> {
    let flag = match advice {
        Advice::Normal => libc::MADV_NORMAL,
        Advice::Sequential => libc::MADV_SEQUENTIAL,
        Advice::Random => libc::MADV_RANDOM,
        Advice::WillNeed => libc::MADV_WILLNEED,
        Advice::DontNeed => libc::MADV_DONTNEED,
        #[cfg(target_os = "linux")]
        Advice::HugePage => libc::MADV_HUGEPAGE,
        #[cfg(not(target_os = "linux"))]
        Advice::HugePage => return Ok(()),
    };
    if advice == Advice::WillNeed {
        super::count_read_ahead();
    }
    // SAFETY: the caller guarantees the range (function contract).
    let ret = unsafe { libc::madvise(ptr.cast(), len, flag) };
    if ret != 0
        && advice == Advice::HugePage
        && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL)
    {
        // Kernels built without transparent huge pages refuse the hint: a hint the platform lacks.
        return Ok(());
    }
    check(ret, "madvise")
}

/// Faults `[ptr, ptr + len)` in for reading without copying file pages into private memory:
/// MADV_POPULATE_READ (Linux >= 5.14), else (older Linux, macOS) a read of one byte per page.
///
/// # Safety
/// `ptr` is page-aligned and the range lies in one live, readable mapping.
pub unsafe fn populate_read(ptr: *mut u8, len: usize) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: the caller guarantees the range (function contract).
        if unsafe { libc::madvise(ptr.cast(), len, MADV_POPULATE_READ) } == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINVAL) {
            return Err(Error::io("madvise", err));
        }
    }
    // SAFETY: the caller guarantees the range (function contract).
    unsafe { super::read_touch(ptr, len) };
    Ok(())
}

/// Locks `[ptr, ptr + len)` in memory as pages fault in (mlock2 MLOCK_ONFAULT), so locking a
/// private map never write-faults file pages into private copies; the caller then populates.
/// macOS has no mlock2: plain mlock wires the pages at once (README: on a 'read' map, whose pages
/// are private and writable, whether wiring copies them is only tested on the workflow's macOS
/// host).
///
/// # Safety
/// `ptr` is page-aligned and the range lies in one live mapping.
pub unsafe fn lock(ptr: *mut u8, len: usize) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        const MLOCK_ONFAULT: libc::c_long = 1;
        // SAFETY: the caller guarantees the range; mlock2 is called through syscall(2) because
        // old glibc lacks the wrapper.
        let ret = unsafe { libc::syscall(libc::SYS_mlock2, ptr, len, MLOCK_ONFAULT) };
        if ret == 0 {
            Ok(())
        } else {
            Err(Error::last_os("mlock"))
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        // SAFETY: the caller guarantees the range (function contract).
        check(unsafe { libc::mlock(ptr.cast(), len) }, "mlock")
    }
}

/// Unlocks `[ptr, ptr + len)`.
///
/// # Safety
/// `ptr` is page-aligned and the range lies in one live mapping.
pub unsafe fn unlock(ptr: *mut u8, len: usize) -> Result<()> {
    // SAFETY: the caller guarantees the range (function contract).
    check(unsafe { libc::munlock(ptr.cast(), len) }, "munlock")
}

/// Pages of `[ptr, ptr + len)` resident in memory (mincore), and the page count.
///
/// # Safety
/// `ptr` is page-aligned and the range lies in one live mapping.
pub unsafe fn residency(ptr: *mut u8, len: usize) -> Result<(u64, u64)> {
    let pages = len.div_ceil(page_size());
    let mut vec = vec![0u8; pages];
    // SAFETY: the caller guarantees the range; `vec` holds one byte per page as mincore requires.
    check(unsafe { libc::mincore(ptr.cast(), len, vec.as_mut_ptr().cast()) }, "mincore")?;
    let resident = vec.iter().filter(|&&b| b & 1 == 1).count();
    Ok((resident as u64, pages as u64))
}

/// Changes the protection of `[ptr, ptr + len)` (mprotect).
///
/// # Safety
/// `ptr` is page-aligned and the range lies in one live mapping that no other code relies on
/// being writable while it is read-only (JavaScript stores then fault; documented).
pub unsafe fn protect(ptr: *mut u8, len: usize, writable: bool) -> Result<()> {
    let prot = if writable { libc::PROT_READ | libc::PROT_WRITE } else { libc::PROT_READ };
    // SAFETY: the caller guarantees the range (function contract).
    check(unsafe { libc::mprotect(ptr.cast(), len, prot) }, "mprotect")
}

/// Writes the dirty pages of `[ptr, ptr + len)` back to the file and waits (msync MS_SYNC).
///
/// # Safety
/// `ptr` is page-aligned and the range lies in one live shared file mapping.
pub unsafe fn sync(ptr: *mut u8, len: usize) -> Result<()> {
    // SAFETY: the caller guarantees the range (function contract).
    check(unsafe { libc::msync(ptr.cast(), len, libc::MS_SYNC) }, "msync")
}

/// Asks the device to persist what was written back (`flush({ durable: true })`): fdatasync on
/// Linux, F_FULLFSYNC on macOS (fsync where the file system refuses it, as SQLite does).
pub fn sync_file(file: &File) -> Result<()> {
    #[cfg(target_os = "macos")]
    {
        // SAFETY: fcntl(F_FULLFSYNC) takes no pointer; the descriptor is open.
        if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_FULLFSYNC) } != -1 {
            return Ok(());
        }
        // SAFETY: fsync takes no pointer; the descriptor is open.
        check(unsafe { libc::fsync(file.as_raw_fd()) }, "fsync")
    }
    #[cfg(not(target_os = "macos"))]
    {
        // SAFETY: fdatasync takes no pointer; the descriptor is open.
        check(unsafe { libc::fdatasync(file.as_raw_fd()) }, "fdatasync")
    }
}

/// Fails with the error ftruncate would give when a shrink of `file` is known to be refused:
/// a memfd sealed with F_SEAL_SHRINK (EPERM). Checked before anything changes, so a refused
/// shrink leaves the map as it was.
pub fn check_shrinkable(file: &File) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: fcntl(F_GET_SEALS) only reads the descriptor's seals; EINVAL for other files.
        let seals = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GET_SEALS) };
        if seals != -1 && seals & libc::F_SEAL_SHRINK != 0 {
            return Err(Error::io("ftruncate", std::io::Error::from_raw_os_error(libc::EPERM)));
        }
    }
    let _ = file;
    Ok(())
}

/// Replaces `[ptr, ptr + len)` in place with anonymous zero memory (MAP_FIXED), releasing the
/// file while the addresses stay valid. Always `Ok(true)` (replaced) on Unix.
///
/// # Safety
/// `ptr` is page-aligned and the range is exactly a live mapping the caller owns and will
/// munmap later.
pub unsafe fn replace_with_zero(ptr: *mut u8, len: usize) -> Result<bool> {
    // SAFETY: the caller guarantees the range; MAP_FIXED over our own mapping replaces it
    // atomically, so no other thread can be handed these addresses in between.
    let replaced = unsafe {
        libc::mmap(
            ptr.cast(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_FIXED | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if replaced == libc::MAP_FAILED {
        return Err(Error::last_os("mmap"));
    }
    Ok(true)
}

/// Reserves the blocks of `[offset, offset + len)` of `file` (already grown to `offset + len`),
/// so a full disk is ENOSPC now and not SIGBUS on a later store: fallocate on Linux,
/// F_PREALLOCATE on macOS (contiguous if it can, else anywhere), posix_fallocate elsewhere.
pub fn reserve(file: &File, offset: u64, len: u64) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: fallocate only reads its integer arguments; the descriptor is open for writing.
        let ret = unsafe { libc::fallocate(file.as_raw_fd(), 0, offset as libc::off_t, len as libc::off_t) };
        check(ret, "fallocate")
    }
    #[cfg(target_vendor = "apple")]
    {
        // F_PEOFPOSMODE allocates from the end of the blocks the file has: the bytes the growth
        // added are what is missing (the size itself was already set by ftruncate).
        let _ = offset;
        let mut store = libc::fstore_t {
            fst_flags: libc::F_ALLOCATECONTIG | libc::F_ALLOCATEALL,
            fst_posmode: libc::F_PEOFPOSMODE,
            fst_offset: 0,
            fst_length: len as libc::off_t,
            fst_bytesalloc: 0,
        };
        // SAFETY: `store` is a valid fstore_t that lives across both calls.
        if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_PREALLOCATE, &mut store) } != -1 {
            return Ok(());
        }
        store.fst_flags = libc::F_ALLOCATEALL;
        // SAFETY: as above.
        check(unsafe { libc::fcntl(file.as_raw_fd(), libc::F_PREALLOCATE, &mut store) }, "fallocate")
    }
    #[cfg(not(any(target_os = "linux", target_vendor = "apple")))]
    {
        // SAFETY: posix_fallocate only reads its integer arguments; it returns the error.
        let ret =
            unsafe { libc::posix_fallocate(file.as_raw_fd(), offset as libc::off_t, len as libc::off_t) };
        if ret == 0 {
            Ok(())
        } else {
            Err(Error::io("fallocate", io::Error::from_raw_os_error(ret)))
        }
    }
}

/// Whether mincore reports the file's page cache for this process: Linux restricts it to files
/// the caller owns or may write (or CAP_SYS_ADMIN); for others it reports every page resident.
/// macOS's mincore reports this process's resident pages without that restriction.
#[cfg(not(target_os = "linux"))]
pub fn residency_is_exact(file: Option<&File>) -> bool {
    file.is_some()
}

/// See above: Linux.
#[cfg(target_os = "linux")]
pub fn residency_is_exact(file: Option<&File>) -> bool {
    let Some(file) = file else { return false };
    let path = format!("/proc/self/fd/{}\0", file.as_raw_fd());
    // SAFETY: `path` is NUL-terminated and lives across the call.
    let writable =
        unsafe { libc::faccessat(libc::AT_FDCWD, path.as_ptr().cast(), libc::W_OK, libc::AT_EACCESS) } == 0;
    if writable {
        return true;
    }
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    file.metadata().map(|m| m.uid() == euid).unwrap_or(false)
}

/// The identity of an open file (device and inode), to check that a path still names it.
pub fn file_identity(file: &File) -> Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata().map_err(|e| Error::io("fstat", e))?;
    Ok((meta.dev(), meta.ino()))
}

/// The kind of shared anonymous memory `shared_memory` makes here, as a token names it.
#[cfg(target_os = "linux")]
pub const SHARED_MEMORY_KIND: &str = "memfd";
/// See above: POSIX shared memory elsewhere.
#[cfg(not(target_os = "linux"))]
pub const SHARED_MEMORY_KIND: &str = "shm";

/// Whether shared anonymous memory can grow after it was sized: a memfd can; macOS sizes a POSIX
/// shared memory object once (a second ftruncate is EINVAL).
pub const SHARED_MEMORY_GROWS: bool = cfg!(target_os = "linux");

/// Shared anonymous memory of `len` bytes, as a descriptor (`allocate(n, { shared: true })`).
/// Linux: `memfd_create(MFD_CLOEXEC | MFD_ALLOW_SEALING)` (through `syscall`, so the binary loads
/// on a glibc older than the wrapper), sized, then sealed with `F_SEAL_SHRINK`: no holder of the
/// descriptor, in this process or another, can cut the memory under a map. macOS and other Unix:
/// `shm_open` of a fresh name (`O_EXCL`), unlinked at once, so only descriptors reach it.
pub fn shared_memory(len: u64) -> Result<File> {
    use std::os::fd::FromRawFd;
    let size = libc::off_t::try_from(len)
        .map_err(|_| Error::out_of_range("length", "at most the largest file offset", len))?;
    #[cfg(target_os = "linux")]
    // SAFETY: the name is a NUL-terminated literal; the flags are plain integers.
    let fd = unsafe {
        libc::syscall(libc::SYS_memfd_create, c"memmap".as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING)
    } as libc::c_int;
    #[cfg(not(target_os = "linux"))]
    let fd = shm_create()?;
    if fd < 0 {
        return Err(Error::last_os("memfd_create"));
    }
    // SAFETY: `fd` was just created and is owned by nothing else.
    let file = unsafe { File::from_raw_fd(fd) };
    file.set_len(size as u64).map_err(|e| Error::io("ftruncate", e))?;
    #[cfg(target_os = "linux")]
    // SAFETY: F_ADD_SEALS only reads its integer argument.
    check(unsafe { libc::fcntl(fd, libc::F_ADD_SEALS, libc::F_SEAL_SHRINK) }, "fcntl")?;
    Ok(file)
}

/// A POSIX shared memory object of a fresh name, unlinked at once (read-write, owner only).
#[cfg(not(target_os = "linux"))]
fn shm_create() -> Result<libc::c_int> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // macOS allows 31 bytes (PSHMNAMLEN); "/mm-" + pid + "-" + a counter fits.
    for _ in 0..64 {
        let name = format!("/mm-{}-{}\0", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        // SAFETY: `name` is NUL-terminated and lives across both calls.
        let fd = unsafe {
            libc::shm_open(
                name.as_ptr().cast(),
                libc::O_RDWR | libc::O_CREAT | libc::O_EXCL,
                0o600 as libc::c_uint,
            )
        };
        if fd >= 0 {
            // SAFETY: as above.
            unsafe { libc::shm_unlink(name.as_ptr().cast()) };
            // shm_open gives no O_CLOEXEC flag: set it, as every descriptor memmap holds has it.
            // SAFETY: `fd` is open; F_SETFD only reads its argument.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
            return Ok(fd);
        }
        if io::Error::last_os_error().raw_os_error() != Some(libc::EEXIST) {
            return Err(Error::last_os("shm_open"));
        }
    }
    Err(Error::io("shm_open", io::Error::from_raw_os_error(libc::EEXIST)))
}

/// The descriptor number of `file`, as a `share()` token carries it.
pub fn descriptor_number(file: &File) -> Option<i32> {
    Some(file.as_raw_fd())
}

/// Takes an advisory lock on `span` of `file`: exclusive or shared, waiting for it when `wait`,
/// else `Ok(false)` when another holder's lock conflicts.
///
/// Linux: an open file description (OFD) lock, `fcntl(F_OFD_SETLK[W])` (Linux >= 3.15). It
/// belongs to the description, not the process, so it conflicts with every other description
/// of the file: other maps in this process, other processes, classic POSIX locks (`fcntl.lockf`)
/// and other OFD locks; and it goes when the description's last descriptor closes. macOS (and
/// other Unix): `flock`, on the whole file only; also per description.
pub fn lock_file(file: &File, span: LockSpan, exclusive: bool, wait: bool) -> Result<bool> {
    #[cfg(target_os = "linux")]
    {
        let kind = if exclusive { libc::F_WRLCK } else { libc::F_RDLCK };
        let cmd = if wait { libc::F_OFD_SETLKW } else { libc::F_OFD_SETLK };
        match ofd_lock(file, span, kind, cmd) {
            Ok(()) => Ok(true),
            // A conflicting lock: POSIX allows either error number.
            Err(e) if !wait && matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::EACCES)) => Ok(false),
            Err(e) => Err(Error::io("fcntl", e)),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        whole_file_only(span)?;
        let op = if exclusive { libc::LOCK_EX } else { libc::LOCK_SH };
        match flock(file, if wait { op } else { op | libc::LOCK_NB }) {
            Ok(()) => Ok(true),
            Err(e) if !wait && e.raw_os_error() == Some(libc::EWOULDBLOCK) => Ok(false),
            Err(e) => Err(Error::io("flock", e)),
        }
    }
}

/// Releases the lock taken on exactly `span` of `file`.
pub fn unlock_file(file: &File, span: LockSpan) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        ofd_lock(file, span, libc::F_UNLCK, libc::F_OFD_SETLK).map_err(|e| Error::io("fcntl", e))
    }
    #[cfg(not(target_os = "linux"))]
    {
        whole_file_only(span)?;
        flock(file, libc::LOCK_UN).map_err(|e| Error::io("flock", e))
    }
}

/// One OFD lock command on `span`, retried when a signal interrupts a wait.
#[cfg(target_os = "linux")]
fn ofd_lock(file: &File, span: LockSpan, kind: libc::c_int, cmd: libc::c_int) -> io::Result<()> {
    // POSIX: `l_len = 0` reaches past the end of the file, however it grows.
    let (start, len) = match span {
        LockSpan::Whole => (0, 0),
        LockSpan::Bytes { start, len } => (start, len),
    };
    // SAFETY: `flock` is plain data, valid all-zero; `l_pid` must stay 0 for OFD commands.
    let mut request: libc::flock = unsafe { std::mem::zeroed() };
    request.l_type = kind as libc::c_short;
    request.l_whence = libc::SEEK_SET as libc::c_short;
    request.l_start = start as libc::off_t;
    request.l_len = len as libc::off_t;
    loop {
        // SAFETY: `request` is a valid `struct flock` that lives across the call.
        if unsafe { libc::fcntl(file.as_raw_fd(), cmd, &mut request) } == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn flock(file: &File, op: libc::c_int) -> io::Result<()> {
    loop {
        // SAFETY: flock takes no pointer; the descriptor is open.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// flock has no byte ranges.
#[cfg(not(target_os = "linux"))]
fn whole_file_only(span: LockSpan) -> Result<()> {
    match span {
        LockSpan::Whole => Ok(()),
        LockSpan::Bytes { .. } => Err(Error::Unsupported(
            "file locks on this platform (flock) cover the whole file: omit `range`".into(),
        )),
    }
}
