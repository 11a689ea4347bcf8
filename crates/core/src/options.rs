//! Open options: what the caller asked for, checked for consistency before any system call.

use crate::{Error, Result};

/// How the file is opened and mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Opened read-only, mapped private and writable with `MAP_NORESERVE`: a stray write lands in
    /// a private page and never reaches the file.
    Read,
    /// Opened read-write, mapped shared: writes reach the file.
    ReadWrite,
    /// Like `Read`, with `write()` allowed: changes stay private to this map.
    CopyOnWrite,
}

impl Mode {
    /// The JavaScript name of the mode.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Read => "read",
            Mode::ReadWrite => "read-write",
            Mode::CopyOnWrite => "copy-on-write",
        }
    }
}

/// Whether a missing file is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Create {
    /// Never create; a missing file is `ENOENT`.
    #[default]
    No,
    /// Create the file if it is missing.
    IfMissing,
    /// Create the file; fail with `EEXIST` if it exists (`O_EXCL`).
    Exclusive,
}

/// Everything `openSync` accepts besides the file itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOptions {
    pub mode: Mode,
    /// Byte offset into the file; any value, aligned internally.
    pub offset: u64,
    /// Bytes to map; `None` maps to the end of the file.
    pub length: Option<u64>,
    pub create: Create,
    /// Mode bits of a created file, before the umask.
    pub permissions: u32,
    /// Total file size to grow to before mapping; never shrinks.
    pub size: Option<u64>,
    /// Keep a descriptor for size checks and `fileSize`.
    pub track_file: bool,
    /// When growing, reserve the blocks (fallocate) so a full disk is ENOSPC now.
    pub allocate: bool,
    /// Prefault the pages for reading before returning.
    pub populate: bool,
    /// The access hint applied right after mapping.
    pub advice: Advice,
}

/// What a map is opened from: some rules depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A path: the file may be created.
    Path,
    /// A caller's descriptor (duplicated): nothing to create.
    Descriptor,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            mode: Mode::Read,
            offset: 0,
            length: None,
            create: Create::No,
            permissions: 0o666,
            size: None,
            track_file: true,
            allocate: false,
            populate: false,
            advice: Advice::Normal,
        }
    }
}

impl OpenOptions {
    /// Checks the combinations no single field can check, before any system call: `create` and
    /// `size` need 'read-write', `create` needs a path, 'dontneed' would discard a
    /// 'copy-on-write' map's private pages.
    pub fn validate(&self, source: Source) -> Result<()> {
        if self.create != Create::No && source == Source::Descriptor {
            return Err(Error::invalid_value("create", "false when mapping a descriptor", "true (boolean)"));
        }
        if self.create != Create::No && self.mode != Mode::ReadWrite {
            return Err(Error::invalid_value(
                "create",
                format!("false with mode '{}' (create needs 'read-write')", self.mode.name()),
                "true (boolean)",
            ));
        }
        if self.size.is_some() && self.mode != Mode::ReadWrite {
            return Err(Error::invalid_value(
                "size",
                format!("undefined with mode '{}' (size needs 'read-write')", self.mode.name()),
                format!("{} (number)", self.size.unwrap_or_default()),
            ));
        }
        if self.permissions > 0o7777 {
            return Err(Error::out_of_range("permissions", "an integer in [0, 0o7777]", self.permissions));
        }
        self.advice.check_for(self.mode, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_without_read_write_errors() {
        let opts = OpenOptions { create: Create::IfMissing, ..OpenOptions::default() };
        let e = opts.validate(Source::Path).unwrap_err();
        assert_eq!(e.code(), "ERR_INVALID_ARG_VALUE");
        assert_eq!(
            e.to_string(),
            "Expected `create` to be false with mode 'read' (create needs 'read-write'), got true (boolean)"
        );
    }

    #[test]
    fn size_without_read_write_errors() {
        let opts = OpenOptions { size: Some(1), mode: Mode::CopyOnWrite, ..OpenOptions::default() };
        assert_eq!(opts.validate(Source::Path).unwrap_err().code(), "ERR_INVALID_ARG_VALUE");
    }

    #[test]
    fn create_with_a_descriptor_errors() {
        let opts = OpenOptions { create: Create::IfMissing, mode: Mode::ReadWrite, ..OpenOptions::default() };
        assert!(opts.validate(Source::Path).is_ok());
        let e = opts.validate(Source::Descriptor).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Expected `create` to be false when mapping a descriptor, got true (boolean)"
        );
    }

    #[test]
    fn dontneed_at_open_is_unsupported_on_copy_on_write_only() {
        let cow = OpenOptions { advice: Advice::DontNeed, mode: Mode::CopyOnWrite, ..OpenOptions::default() };
        assert_eq!(cow.validate(Source::Path).unwrap_err().code(), "ERR_MMAP_UNSUPPORTED");
        let read = OpenOptions { advice: Advice::DontNeed, ..OpenOptions::default() };
        assert!(read.validate(Source::Path).is_ok());
    }

    #[test]
    fn dontneed_on_anonymous_memory_is_unsupported() {
        assert_eq!(
            Advice::DontNeed.check_for(Mode::ReadWrite, true).unwrap_err().code(),
            "ERR_MMAP_UNSUPPORTED"
        );
        assert!(Advice::DontNeed.check_for(Mode::ReadWrite, false).is_ok());
        assert!(Advice::WillNeed.check_for(Mode::CopyOnWrite, true).is_ok());
    }

    #[test]
    fn permissions_past_0o7777_error() {
        let opts = OpenOptions { permissions: 0o10000, ..OpenOptions::default() };
        assert_eq!(opts.validate(Source::Path).unwrap_err().code(), "ERR_OUT_OF_RANGE");
    }
}

/// An access hint (madvise on Unix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advice {
    Normal,
    Sequential,
    Random,
    WillNeed,
    DontNeed,
    HugePage,
}

impl Advice {
    /// Whether the hint may be given to a map of `mode` (`anonymous` for `allocate()` memory):
    /// 'dontneed' drops private pages, which on 'copy-on-write' and anonymous maps is their data.
    pub fn check_for(self, mode: Mode, anonymous: bool) -> crate::Result<()> {
        if self == Advice::DontNeed && (mode == Mode::CopyOnWrite || anonymous) {
            return Err(Error::Unsupported(
                "advice 'dontneed' would discard the private pages of this map".into(),
            ));
        }
        Ok(())
    }
}
