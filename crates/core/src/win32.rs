//! Win32 error codes as libuv reports them. node:fs on Windows gives libuv's `code` and negative
//! `errno` (`uv_translate_sys_error` in libuv v1.x, the line Node ships), so the binding
//! translates every Win32 error with this table to give the same. A pure function of numbers, so
//! it is tested here on every platform.

/// libuv's errno values on Windows (`UV__E*` in uv/errno.h, where the C runtime lacks them).
pub mod uv {
    pub const E2BIG: i32 = -4093;
    pub const EACCES: i32 = -4092;
    pub const EADDRINUSE: i32 = -4091;
    pub const EBADF: i32 = -4083;
    pub const EBUSY: i32 = -4082;
    pub const ECANCELED: i32 = -4081;
    pub const ECHARSET: i32 = -4080;
    pub const ECONNABORTED: i32 = -4079;
    pub const ECONNREFUSED: i32 = -4078;
    pub const ECONNRESET: i32 = -4077;
    pub const EEXIST: i32 = -4075;
    pub const EFAULT: i32 = -4074;
    pub const EHOSTUNREACH: i32 = -4073;
    pub const EINVAL: i32 = -4071;
    pub const EIO: i32 = -4070;
    pub const EISDIR: i32 = -4068;
    pub const ELOOP: i32 = -4067;
    pub const EMFILE: i32 = -4066;
    pub const ENAMETOOLONG: i32 = -4064;
    pub const ENETUNREACH: i32 = -4062;
    pub const ENOENT: i32 = -4058;
    pub const ENOMEM: i32 = -4057;
    pub const ENOSPC: i32 = -4055;
    pub const ENOTCONN: i32 = -4053;
    pub const ENOTEMPTY: i32 = -4051;
    pub const ENOTSUP: i32 = -4049;
    pub const EOF: i32 = -4095;
    pub const EPERM: i32 = -4048;
    pub const EPIPE: i32 = -4047;
    pub const EROFS: i32 = -4043;
    pub const ETIMEDOUT: i32 = -4039;
    pub const EXDEV: i32 = -4037;
    pub const UNKNOWN: i32 = -4094;
}

/// libuv's errno for a Win32 error code (winerror.h numbers, named in the comments). Zero or
/// negative: already a libuv errno, returned as is (libuv does the same). Socket-only (WSA*)
/// codes are left out: no call here touches a socket.
///
/// libuv v1.x maps ERROR_ACCESS_DENIED to EPERM (its master branch has EACCES; Node kept EPERM
/// for compatibility), so a read-only file opened for writing is EPERM on Windows, as in node:fs.
pub fn uv_errno(code: i32) -> i32 {
    if code <= 0 {
        return code;
    }
    match code {
        // NOACCESS, ELEVATION_REQUIRED, CANT_ACCESS_FILE
        998 | 740 | 1920 => uv::EACCES,
        // ADDRESS_ALREADY_ASSOCIATED
        1227 => uv::EADDRINUSE,
        // INVALID_FLAGS, INVALID_HANDLE
        1004 | 6 => uv::EBADF,
        // LOCK_VIOLATION, PIPE_BUSY, SHARING_VIOLATION
        33 | 231 | 32 => uv::EBUSY,
        // OPERATION_ABORTED
        995 => uv::ECANCELED,
        // NO_UNICODE_TRANSLATION
        1113 => uv::ECHARSET,
        // CONNECTION_ABORTED, CONNECTION_REFUSED, NETNAME_DELETED
        1236 => uv::ECONNABORTED,
        1225 => uv::ECONNREFUSED,
        64 => uv::ECONNRESET,
        // ALREADY_EXISTS, FILE_EXISTS
        183 | 80 => uv::EEXIST,
        // BUFFER_OVERFLOW
        111 => uv::EFAULT,
        // HOST_UNREACHABLE
        1232 => uv::EHOSTUNREACH,
        // INSUFFICIENT_BUFFER, INVALID_DATA, INVALID_PARAMETER, SYMLINK_NOT_SUPPORTED
        122 | 13 | 87 | 1464 => uv::EINVAL,
        // BEGINNING_OF_MEDIA, BUS_RESET, CRC, DEVICE_DOOR_OPEN, DEVICE_REQUIRES_CLEANING,
        // DISK_CORRUPT, EOM_OVERFLOW, FILEMARK_DETECTED, GEN_FAILURE, INVALID_BLOCK_LENGTH,
        // IO_DEVICE, NO_DATA_DETECTED, NO_SIGNAL_SENT, OPEN_FAILED, SETMARK_DETECTED,
        // SIGNAL_REFUSED
        1102 | 1111 | 23 | 1166 | 1165 | 1393 | 1129 | 1101 | 31 | 1106 | 1117 | 1104 | 205 | 110 | 1103
        | 156 => uv::EIO,
        // CANT_RESOLVE_FILENAME
        1921 => uv::ELOOP,
        // TOO_MANY_OPEN_FILES
        4 => uv::EMFILE,
        // FILENAME_EXCED_RANGE
        206 => uv::ENAMETOOLONG,
        // NETWORK_UNREACHABLE
        1231 => uv::ENETUNREACH,
        // BAD_PATHNAME, DIRECTORY, ENVVAR_NOT_FOUND, FILE_NOT_FOUND, INVALID_NAME, INVALID_DRIVE,
        // INVALID_REPARSE_DATA, MOD_NOT_FOUND, PATH_NOT_FOUND
        161 | 267 | 203 | 2 | 123 | 15 | 4392 | 126 | 3 => uv::ENOENT,
        // NOT_ENOUGH_MEMORY, OUTOFMEMORY
        8 | 14 => uv::ENOMEM,
        // CANNOT_MAKE, DISK_FULL, EA_TABLE_FULL, END_OF_MEDIA, HANDLE_DISK_FULL
        82 | 112 | 277 | 1100 | 39 => uv::ENOSPC,
        // NOT_CONNECTED
        2250 => uv::ENOTCONN,
        // DIR_NOT_EMPTY
        145 => uv::ENOTEMPTY,
        // NOT_SUPPORTED
        50 => uv::ENOTSUP,
        // BROKEN_PIPE
        109 => uv::EOF,
        // ACCESS_DENIED, PRIVILEGE_NOT_HELD
        5 | 1314 => uv::EPERM,
        // BAD_PIPE, NO_DATA, PIPE_NOT_CONNECTED
        230 | 232 | 233 => uv::EPIPE,
        // WRITE_PROTECT
        19 => uv::EROFS,
        // SEM_TIMEOUT
        121 => uv::ETIMEDOUT,
        // NOT_SAME_DEVICE
        17 => uv::EXDEV,
        // INVALID_FUNCTION (what a directory read gives)
        1 => uv::EISDIR,
        // META_EXPANSION_TOO_LONG
        208 => uv::E2BIG,
        _ => uv::UNKNOWN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_files_and_paths_are_enoent() {
        assert_eq!(uv_errno(2), uv::ENOENT); // FILE_NOT_FOUND
        assert_eq!(uv_errno(3), uv::ENOENT); // PATH_NOT_FOUND
        assert_eq!(uv::ENOENT, -4058);
    }

    #[test]
    fn access_denied_is_eperm_as_in_libuv_v1() {
        assert_eq!(uv_errno(5), uv::EPERM);
        assert_eq!(uv_errno(998), uv::EACCES); // NOACCESS
    }

    #[test]
    fn invalid_function_is_eisdir_and_sharing_violation_ebusy() {
        assert_eq!(uv_errno(1), uv::EISDIR);
        assert_eq!(uv_errno(32), uv::EBUSY);
        assert_eq!(uv_errno(80), uv::EEXIST);
        assert_eq!(uv_errno(6), uv::EBADF);
    }

    #[test]
    fn unknown_codes_are_unknown_and_libuv_values_pass_through() {
        assert_eq!(uv_errno(1224), uv::UNKNOWN); // USER_MAPPED_FILE: not in libuv's table
        assert_eq!(uv_errno(uv::ENOENT), uv::ENOENT);
    }
}
