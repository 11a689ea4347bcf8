//! Opening, checking and sizing the file, with the rollback SPEC §5 asks for: when a later step
//! fails, a file this call created is unlinked and a file it grew is cut back.

use std::fs::{File, FileType, OpenOptions as FsOpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use crate::{Create, Error, Mode, OpenOptions, Result};

/// An open, regular, correctly sized file, ready to map.
#[derive(Debug)]
pub struct OpenedFile {
    pub file: File,
    /// The file's size after any growth.
    pub size: u64,
    /// Set when this call created the file: rollback unlinks it.
    created: Option<PathBuf>,
    /// Set when this call grew the file: rollback truncates it back to this size.
    grown_from: Option<u64>,
}

impl OpenedFile {
    /// Opens `path` as `opts` say: `O_NONBLOCK | O_CLOEXEC` (so a FIFO cannot hang the call),
    /// creating it if asked, then checks and sizes it as [`OpenedFile::prepare`] does.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<OpenedFile> {
        let (file, created) = open_or_create(path, opts)?;
        Self::prepare(file, created, opts, "open")
    }

    /// Checks that `file` (already open, e.g. a dup of a caller's descriptor) is a regular file
    /// and grows it to `opts.size`. A directory is `EISDIR` from `fstat`: nothing was opened.
    pub fn from_file(file: File, opts: &OpenOptions) -> Result<OpenedFile> {
        Self::prepare(file, None, opts, "fstat")
    }

    /// `opened_by` names the call a directory is reported from: `open` for a path (as node:fs
    /// reports opening a directory for writing), `fstat` for a descriptor.
    fn prepare(
        file: File,
        created: Option<PathBuf>,
        opts: &OpenOptions,
        opened_by: &'static str,
    ) -> Result<OpenedFile> {
        let mut opened = OpenedFile { file, size: 0, created, grown_from: None };
        match opened.check_and_grow(opts, opened_by) {
            Ok(()) => Ok(opened),
            Err(e) => {
                opened.rollback();
                Err(e)
            }
        }
    }

    fn check_and_grow(&mut self, opts: &OpenOptions, opened_by: &'static str) -> Result<()> {
        let meta = self.file.metadata().map_err(|e| Error::io("fstat", e))?;
        let kind = meta.file_type();
        if kind.is_dir() {
            return Err(Error::io(opened_by, is_a_directory()));
        }
        if !kind.is_file() {
            return Err(Error::Unsupported(format!(
                "only regular files can be mapped; this is {}",
                describe_non_regular(kind)
            )));
        }
        self.size = meta.len();
        if let Some(size) = opts.size.filter(|&size| size > self.size) {
            self.file.set_len(size).map_err(|e| Error::io("ftruncate", e))?;
            self.grown_from = Some(self.size);
            self.size = size;
        }
        Ok(())
    }

    /// The size the file had before this call grew it, if it did.
    pub fn grown_from(&self) -> Option<u64> {
        self.grown_from
    }

    /// Current size of the file, by `fstat` on the descriptor.
    pub fn current_size(file: &File) -> Result<u64> {
        file.metadata().map(|m| m.len()).map_err(|e| Error::io("fstat", e))
    }

    /// Undoes what this call did to the file system: unlinks a file it created, truncates back a
    /// file it grew. Best effort: the caller is already reporting the first error.
    pub fn rollback(&mut self) {
        if let Some(path) = self.created.take() {
            let _ = std::fs::remove_file(path);
        } else if let Some(size) = self.grown_from.take() {
            let _ = self.file.set_len(size);
        }
    }
}

const SOCKET: &str = "a socket";

/// What a non-regular file is, for the error message.
#[cfg(unix)]
fn describe_non_regular(kind: FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        SOCKET
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn describe_non_regular(_kind: FileType) -> &'static str {
    "not a regular file"
}

/// O_NONBLOCK (so a FIFO cannot hang the open), O_CLOEXEC, and the mode bits of a created file.
#[cfg(unix)]
fn platform_flags(options: &mut FsOpenOptions, permissions: u32) {
    use std::os::unix::fs::OpenOptionsExt;
    options.custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC).mode(permissions);
}

/// Windows, as libuv opens files: FILE_FLAG_BACKUP_SEMANTICS, so a directory opens (and is then
/// reported as EISDIR) or fails with the error node:fs gets; a created file without the owner's
/// write bit gets FILE_ATTRIBUTE_READONLY (the only mode bit Windows keeps).
#[cfg(windows)]
fn platform_flags(options: &mut FsOpenOptions, permissions: u32) {
    use std::os::windows::fs::OpenOptionsExt;
    const FILE_FLAG_BACKUP_SEMANTICS: u32 = 0x0200_0000;
    const FILE_ATTRIBUTE_READONLY: u32 = 0x1;
    options.custom_flags(FILE_FLAG_BACKUP_SEMANTICS);
    if permissions & 0o200 == 0 {
        options.attributes(FILE_ATTRIBUTE_READONLY);
    }
}

#[cfg(not(any(unix, windows)))]
fn platform_flags(_options: &mut FsOpenOptions, _permissions: u32) {}

/// EISDIR as the platform's raw error: on Windows ERROR_INVALID_FUNCTION, which libuv (and so
/// the binding) reports as EISDIR.
pub fn is_a_directory() -> io::Error {
    #[cfg(windows)]
    const EISDIR: i32 = 1;
    #[cfg(not(windows))]
    const EISDIR: i32 = libc::EISDIR;
    io::Error::from_raw_os_error(EISDIR)
}

/// The open file, and the path of the file this call created (which, through a dangling
/// symlink, is the link's target, not the link).
fn open_or_create(path: &Path, opts: &OpenOptions) -> Result<(File, Option<PathBuf>)> {
    open_or_create_inner(path, opts).map_err(|e| match e.raw_os_error() {
        // open(2) refuses sockets with ENXIO: report them like every other non-regular file.
        Some(libc::ENXIO)
            if std::fs::metadata(path).is_ok_and(|m| describe_non_regular(m.file_type()) == SOCKET) =>
        {
            Error::Unsupported("only regular files can be mapped; this is a socket".into())
        }
        _ => e,
    })
}

fn open_or_create_inner(path: &Path, opts: &OpenOptions) -> Result<(File, Option<PathBuf>)> {
    let mut fs_opts = FsOpenOptions::new();
    fs_opts.read(true).write(opts.mode == Mode::ReadWrite);
    platform_flags(&mut fs_opts, opts.permissions);
    let open = |o: &FsOpenOptions| o.open(path).map_err(|e| Error::io("open", e));
    match opts.create {
        Create::No => open(&fs_opts).map(|f| (f, None)),
        Create::Exclusive => open(fs_opts.create_new(true)).map(|f| (f, Some(path.to_path_buf()))),
        Create::IfMissing => match fs_opts.open(path) {
            Ok(f) => Ok((f, None)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Create with O_EXCL so we know this call made the file and may unlink it. O_EXCL
                // refuses a dangling symlink (EEXIST) where O_CREAT alone, as fs.openSync(path,
                // 'w+') uses it, creates the link's target: create that target, exclusively.
                let target = dangling_target(path).unwrap_or_else(|| path.to_path_buf());
                match fs_opts.clone().create_new(true).open(&target) {
                    Ok(f) => Ok((f, Some(target))),
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => open(&fs_opts).map(|f| (f, None)),
                    Err(e) => Err(Error::io("open", e)),
                }
            }
            Err(e) => Err(Error::io("open", e)),
        },
    }
}

/// Where a chain of symlinks starting at `path` ends when its last target is missing, as open(2)
/// resolves it (relative targets from the link's directory; at most 40 links, Linux's
/// MAXSYMLINKS). None when `path` is not a symlink or the chain does not end in a missing name.
fn dangling_target(path: &Path) -> Option<PathBuf> {
    let mut at = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&at).ok()?;
                at = at.parent().unwrap_or(Path::new("")).join(link);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound && at != path => return Some(at),
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("memmap-core-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn rw() -> OpenOptions {
        OpenOptions { mode: Mode::ReadWrite, ..OpenOptions::default() }
    }

    #[test]
    fn missing_file_is_enoent_from_open() {
        let dir = temp_dir("enoent");
        let e = OpenedFile::open(&dir.join("nope"), &OpenOptions::default()).unwrap_err();
        assert_eq!((e.raw_os_error(), e.syscall()), (Some(libc::ENOENT), Some("open")));
    }

    #[test]
    fn directory_is_eisdir() {
        let dir = temp_dir("eisdir");
        let e = OpenedFile::open(&dir, &OpenOptions::default()).unwrap_err();
        assert_eq!(e.raw_os_error(), is_a_directory().raw_os_error());
    }

    #[test]
    fn create_then_grow_sets_size() {
        let dir = temp_dir("create");
        let path = dir.join("f");
        let opts = OpenOptions { create: Create::IfMissing, size: Some(8192), ..rw() };
        let opened = OpenedFile::open(&path, &opts).unwrap();
        assert_eq!(opened.size, 8192);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 8192);
    }

    #[cfg(unix)]
    #[test]
    fn create_through_a_dangling_symlink_creates_its_target_and_rollback_unlinks_the_target() {
        let dir = temp_dir("dangling");
        let link = dir.join("link");
        std::os::unix::fs::symlink("sub/../target", &link).unwrap();
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let opts = OpenOptions { create: Create::IfMissing, size: Some(4096), ..rw() };
        let mut opened = OpenedFile::open(&link, &opts).unwrap();
        assert_eq!(std::fs::metadata(dir.join("target")).unwrap().len(), 4096);
        opened.rollback();
        assert!(!dir.join("target").exists());
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    }

    #[test]
    fn exclusive_create_of_existing_file_is_eexist() {
        let dir = temp_dir("excl");
        let path = dir.join("f");
        std::fs::write(&path, b"x").unwrap();
        let opts = OpenOptions { create: Create::Exclusive, ..rw() };
        let e = OpenedFile::open(&path, &opts).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EEXIST));
    }

    #[test]
    fn rollback_unlinks_a_created_file_and_shrinks_a_grown_one() {
        let dir = temp_dir("rollback");
        let created = dir.join("new");
        let mut opened =
            OpenedFile::open(&created, &OpenOptions { create: Create::IfMissing, ..rw() }).unwrap();
        opened.rollback();
        assert!(!created.exists());

        let grown = dir.join("old");
        std::fs::write(&grown, b"abc").unwrap();
        let mut opened = OpenedFile::open(&grown, &OpenOptions { size: Some(4096), ..rw() }).unwrap();
        opened.rollback();
        assert_eq!(std::fs::read(&grown).unwrap(), b"abc");
    }

    #[test]
    fn size_never_shrinks() {
        let dir = temp_dir("shrink");
        let path = dir.join("f");
        std::fs::write(&path, [7u8; 100]).unwrap();
        let opened = OpenedFile::open(&path, &OpenOptions { size: Some(10), ..rw() }).unwrap();
        assert_eq!(opened.size, 100);
    }
}
