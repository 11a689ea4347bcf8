//! One error type for the core, with the stable `code` each variant shows to JavaScript.

use std::io;

/// Result alias for the core.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong, named precisely enough for a JavaScript `error.code`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call failed; `syscall` names it as node:fs would (`open`, `mmap`, `msync`, ...).
    #[error("{syscall} failed: {source}")]
    Io {
        syscall: &'static str,
        #[source]
        source: io::Error,
    },
    /// A number outside its valid range: the argument's name as the caller wrote it, what it had
    /// to be, and the value received, rendered with its type (`8193 (number)`).
    #[error("Expected `{name}` to be {expected}, got {got}")]
    OutOfRange { name: String, expected: String, got: String },
    /// A value of the right type that is not allowed (an option combination, a mode name), in
    /// the same three parts.
    #[error("Expected `{name}` to be {expected}, got {got}")]
    InvalidValue { name: String, expected: String, got: String },
    /// The map was closed.
    #[error("the map is closed")]
    Closed,
    /// A write to a map opened for reading.
    #[error("the map is read-only: {0}")]
    ReadOnly(&'static str),
    /// Something this kind of file, map or platform cannot do.
    #[error("{0}")]
    Unsupported(String),
    /// A request for a single view longer than the runtime allows.
    #[error("a view of {length} bytes exceeds the runtime's limit of {max} bytes")]
    ViewTooLarge { length: u64, max: u64 },
    /// The runtime refuses external ArrayBuffers (Electron's V8 sandbox).
    #[error("this runtime does not allow external ArrayBuffers")]
    ExternalBuffersUnsupported,
    /// Mapping more would bring the process near `vm.max_map_count`, where the runtime's own next
    /// mapping would fail and abort the process.
    #[error("{0}")]
    Limit(String),
    /// A `share()` token names a file or memory that is not the one it was made for: the file
    /// was replaced (renamed over), or the descriptor number now holds something else.
    #[error("{0}")]
    StaleToken(String),
    /// The file shrank under the map: part of the range lies in pages wholly past its end.
    #[error("range [{start}, {end}) of the file lies past its current end ({file_size} bytes)")]
    Truncated { start: u64, end: u64, file_size: u64 },
}

impl Error {
    /// A number out of range. `got` is the number received; the binding's caller may show it
    /// as the caller wrote it (a bigint as `5n (bigint)`).
    pub fn out_of_range(
        name: impl Into<String>,
        expected: impl Into<String>,
        got: impl std::fmt::Display,
    ) -> Self {
        Error::OutOfRange { name: name.into(), expected: expected.into(), got: format!("{got} (number)") }
    }

    /// A value that is not allowed; `got` is rendered with its type (`'write' (string)`).
    pub fn invalid_value(
        name: impl Into<String>,
        expected: impl Into<String>,
        got: impl Into<String>,
    ) -> Self {
        Error::InvalidValue { name: name.into(), expected: expected.into(), got: got.into() }
    }

    /// The argument an argument error names, and what it had to be.
    pub fn argument(&self) -> Option<(&str, &str)> {
        match self {
            Error::OutOfRange { name, expected, .. } | Error::InvalidValue { name, expected, .. } => {
                Some((name, expected))
            }
            _ => None,
        }
    }

    /// Wraps an OS error with the name of the system call that produced it.
    pub fn io(syscall: &'static str, source: io::Error) -> Self {
        Error::Io { syscall, source }
    }

    /// Wraps the calling thread's last OS error (`errno`).
    pub fn last_os(syscall: &'static str) -> Self {
        Error::io(syscall, io::Error::last_os_error())
    }

    /// The stable code JavaScript sees as `error.code`: the errno name for OS errors
    /// (resolved by the binding), else one of the library codes.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Io { .. } => "ERR_MMAP_SYSTEM",
            Error::OutOfRange { .. } => "ERR_OUT_OF_RANGE",
            Error::InvalidValue { .. } => "ERR_INVALID_ARG_VALUE",
            Error::Closed => "ERR_MMAP_CLOSED",
            Error::ReadOnly(_) => "ERR_MMAP_READ_ONLY",
            Error::Unsupported(_) => "ERR_MMAP_UNSUPPORTED",
            Error::ViewTooLarge { .. } => "ERR_MMAP_VIEW_TOO_LARGE",
            Error::ExternalBuffersUnsupported => "ERR_MMAP_EXTERNAL_BUFFERS_UNSUPPORTED",
            Error::Truncated { .. } => "ERR_MMAP_TRUNCATED",
            Error::Limit(_) => "ERR_MMAP_LIMIT",
            Error::StaleToken(_) => "ERR_MMAP_STALE_TOKEN",
        }
    }

    /// The positive OS error number, for OS errors.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    /// The failing system call, for OS errors.
    pub fn syscall(&self) -> Option<&'static str> {
        match self {
            Error::Io { syscall, .. } => Some(syscall),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_keep_errno_and_syscall() {
        let e = Error::io("open", io::Error::from_raw_os_error(libc::ENOENT));
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
        assert_eq!(e.syscall(), Some("open"));
    }

    #[test]
    fn argument_errors_read_like_the_javascript_ones() {
        let e = Error::out_of_range("offset", "at most the file size 8192", 9_007_199_254_740_991u64);
        assert_eq!(
            e.to_string(),
            "Expected `offset` to be at most the file size 8192, got 9007199254740991 (number)"
        );
        assert_eq!(e.argument(), Some(("offset", "at most the file size 8192")));
    }

    #[test]
    fn library_errors_have_codes() {
        assert_eq!(Error::Closed.code(), "ERR_MMAP_CLOSED");
        assert_eq!(Error::Truncated { start: 0, end: 1, file_size: 0 }.code(), "ERR_MMAP_TRUNCATED");
        assert_eq!(Error::ExternalBuffersUnsupported.code(), "ERR_MMAP_EXTERNAL_BUFFERS_UNSUPPORTED");
        assert_eq!(Error::Limit("near vm.max_map_count".into()).code(), "ERR_MMAP_LIMIT");
        assert_eq!(Error::StaleToken("replaced".into()).code(), "ERR_MMAP_STALE_TOKEN");
    }
}
