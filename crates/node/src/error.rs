//! Core errors as JavaScript sees them. Native code returns the parts; the TypeScript layer
//! (`js/errors.ts`) builds the `Error` so its stack points at user code. The parts travel as a
//! small JSON object in the message of the error napi-rs throws.

use memmap_core::Error;

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `{"code", "message", "errno"?, "syscall"?, "arg"?, "expected"?}` for one error: an argument
/// error names the argument and what it had to be, so the TypeScript layer can show the value
/// as the caller wrote it.
pub fn parts(error: &Error) -> String {
    let message = match error {
        Error::Io { source, .. } => source.to_string(),
        other => other.to_string(),
    };
    let mut json = format!("{{\"code\":{},\"message\":{}", json_string(error.code()), json_string(&message));
    if let Some(errno) = error.raw_os_error() {
        // libuv's number: the OS's errno on Unix, the translated Win32 code on Windows.
        json.push_str(&format!(",\"errno\":{}", crate::os::uv_errno(errno)));
    }
    if let Some((name, expected)) = error.argument() {
        json.push_str(&format!(",\"arg\":{},\"expected\":{}", json_string(name), json_string(expected)));
    }
    if let Some(syscall) = error.syscall() {
        json.push_str(&format!(",\"syscall\":{}", json_string(syscall)));
    }
    json.push('}');
    json
}

/// Converts a core error into the error napi-rs throws.
pub fn to_napi(error: Error) -> napi::Error {
    napi::Error::new(napi::Status::GenericFailure, parts(&error))
}

/// `Result` with the conversion applied, for `?` in binding code.
pub trait IntoNapi<T> {
    fn into_napi(self) -> napi::Result<T>;
}

impl<T> IntoNapi<T> for memmap_core::Result<T> {
    fn into_napi(self) -> napi::Result<T> {
        self.map_err(to_napi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_error_parts_carry_errno_and_syscall() {
        let e = Error::io("open", std::io::Error::from_raw_os_error(libc::ENOENT));
        let json = parts(&e);
        assert!(json.contains("\"errno\":2"), "{json}");
        assert!(json.contains("\"syscall\":\"open\""), "{json}");
    }

    #[test]
    fn messages_are_escaped() {
        let json = parts(&Error::invalid_value("a", "b", "'\"c\"\n' (string)"));
        assert!(json.contains(r#"got '\"c\"\u000a' (string)""#), "{json}");
    }
}
