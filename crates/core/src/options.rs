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
    /// Parses the JavaScript name of a mode.
    pub fn parse(name: &str) -> Result<Mode> {
        match name {
            "read" => Ok(Mode::Read),
            "read-write" => Ok(Mode::ReadWrite),
            "copy-on-write" => Ok(Mode::CopyOnWrite),
            other => Err(Error::invalid_value(
                "mode",
                "one of 'read', 'read-write', 'copy-on-write'",
                format!("'{other}' (string)"),
            )),
        }
    }

    /// The JavaScript name of the mode.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Read => "read",
            Mode::ReadWrite => "read-write",
            Mode::CopyOnWrite => "copy-on-write",
        }
    }

    /// Whether the file itself is opened for writing.
    pub fn writes_file(self) -> bool {
        self == Mode::ReadWrite
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
        }
    }
}

impl OpenOptions {
    /// Checks the combinations no single field can check: `create` and `size` need 'read-write'.
    pub fn validate(&self) -> Result<()> {
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
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_mode_and_refuses_others() {
        for mode in [Mode::Read, Mode::ReadWrite, Mode::CopyOnWrite] {
            assert_eq!(Mode::parse(mode.name()).unwrap(), mode);
        }
        assert_eq!(Mode::parse("write").unwrap_err().code(), "ERR_INVALID_ARG_VALUE");
    }

    #[test]
    fn create_without_read_write_errors() {
        let opts = OpenOptions { create: Create::IfMissing, ..OpenOptions::default() };
        assert_eq!(opts.validate().unwrap_err().code(), "ERR_INVALID_ARG_VALUE");
    }

    #[test]
    fn size_without_read_write_errors() {
        let opts = OpenOptions { size: Some(1), mode: Mode::CopyOnWrite, ..OpenOptions::default() };
        assert_eq!(opts.validate().unwrap_err().code(), "ERR_INVALID_ARG_VALUE");
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
    /// Parses the JavaScript name of an advice.
    pub fn parse(name: &str) -> crate::Result<Advice> {
        Ok(match name {
            "normal" => Advice::Normal,
            "sequential" => Advice::Sequential,
            "random" => Advice::Random,
            "willneed" => Advice::WillNeed,
            "dontneed" => Advice::DontNeed,
            "hugepage" => Advice::HugePage,
            other => {
                return Err(Error::invalid_value(
                    "advice",
                    "one of 'normal', 'sequential', 'random', 'willneed', 'dontneed', 'hugepage'",
                    format!("'{other}' (string)"),
                ))
            }
        })
    }
}
