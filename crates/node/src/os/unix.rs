//! Unix implementations (Linux-specific calls behind `target_os` checks). See `mod.rs` for the
//! Safety contract every pointer-taking function shares.

use std::fs::File;
use std::os::fd::AsRawFd;

use memmap_core::{Advice, Error, Result};

/// The system page size.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions; _SC_PAGESIZE is always supported on Unix.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
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
/// MADV_POPULATE_READ (Linux >= 5.14), else a read of one byte per page.
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
    let page = page_size();
    let mut offset = 0;
    while offset < len {
        // SAFETY: `offset < len`, so the byte lies in the caller's readable range; a volatile read
        // is a read fault, which on a private mapping maps the file page without copying it.
        unsafe { std::ptr::read_volatile(ptr.add(offset)) };
        offset += page;
    }
    Ok(())
}

/// Locks `[ptr, ptr + len)` in memory as pages fault in (mlock2 MLOCK_ONFAULT), so locking a
/// private map never write-faults file pages into private copies; the caller then populates.
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
/// file while the addresses stay valid.
///
/// # Safety
/// `ptr` is page-aligned and the range is exactly a live mapping the caller owns and will
/// munmap later.
pub unsafe fn replace_with_zero(ptr: *mut u8, len: usize) -> Result<()> {
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
    Ok(())
}

/// Reserves the blocks of `[offset, offset + len)` of `file`, so a full disk is ENOSPC now and
/// not SIGBUS on a later store.
pub fn reserve(file: &File, offset: u64, len: u64) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: fallocate only reads its integer arguments; the descriptor is open for writing.
        let ret = unsafe { libc::fallocate(file.as_raw_fd(), 0, offset as libc::off_t, len as libc::off_t) };
        check(ret, "fallocate")
    }
    #[cfg(not(target_os = "linux"))]
    {
        // SAFETY: as above, for posix_fallocate, which returns the error instead of setting errno.
        let ret =
            unsafe { libc::posix_fallocate(file.as_raw_fd(), offset as libc::off_t, len as libc::off_t) };
        if ret == 0 {
            Ok(())
        } else {
            Err(Error::io("fallocate", std::io::Error::from_raw_os_error(ret)))
        }
    }
}

/// Whether mincore reports the file's page cache for this process: Linux restricts it to files
/// the caller owns or may write (or CAP_SYS_ADMIN); for others it reports every page resident.
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
