//! `open`, `length` and `close`, the calls of the open + close cycle (SPEC §6: within 1.5x of the
//! system calls), as plain Node-API callbacks rather than `#[napi]` functions.
//!
//! A `#[napi]` function opens a native-borrow scope per call (napi-rs 3.16): an `Arc`, a `Vec`
//! and a mutex, two allocations per call, which perf showed as a tenth of the cycle's user time
//! (issue 15). These take their arguments with the same napi-rs conversions and throw the same
//! errors, without the scope, which they do not need: none keeps a borrow past its return. Their
//! TypeScript signatures are in js/native.ts (napi-rs generates none for them).

use std::ffi::{c_char, CStr};
use std::ptr;

use napi::bindgen_prelude::{FromNapiRef, FromNapiValue, Object, ToNapiValue};
use napi::{check_status, sys, JsError, JsValue, Result};
use napi_derive::napi;

use crate::handle;
use crate::mapping::NativeMap;
use crate::open::{self, FileIdentity};
use crate::options::PackedOptions;

/// Adds `open`, `length` and `close` to the module's exports.
#[napi(module_exports)]
pub fn hot_paths(exports: Object) -> Result<()> {
    let (env, exports) = (exports.value().env, exports.value().value);
    for (name, callback) in
        [(c"open", open as Callback), (c"length", length as Callback), (c"close", close as Callback)]
    {
        define(env, exports, name, callback)?;
    }
    Ok(())
}

type Callback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

fn define(env: sys::napi_env, exports: sys::napi_value, name: &CStr, callback: Callback) -> Result<()> {
    let mut function = ptr::null_mut();
    // SAFETY: `env` and `exports` come from the module's registration, on its thread; `name` is
    // NUL-terminated.
    check_status!(unsafe {
        sys::napi_create_function(
            env,
            name.as_ptr(),
            name.count_bytes() as isize,
            Some(callback),
            ptr::null_mut(),
            &mut function,
        )
    })?;
    // SAFETY: as above; `function` was just made in `env`.
    let status =
        unsafe { sys::napi_set_named_property(env, exports, name.as_ptr() as *const c_char, function) };
    check_status!(status)
}

/// The call's first `N` arguments (`undefined` for those not passed).
///
/// # Safety
/// `env` and `info` are the callback's.
unsafe fn arguments<const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> Result<[sys::napi_value; N]> {
    let (mut argc, mut argv) = (N, [ptr::null_mut(); N]);
    // SAFETY: per the contract; `argv` holds `argc` values.
    check_status!(unsafe {
        sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), ptr::null_mut())
    })?;
    Ok(argv)
}

/// The callback's result: the value, or `undefined` after throwing the error.
///
/// # Safety
/// `env` is the callback's.
unsafe fn settle(env: sys::napi_env, result: Result<sys::napi_value>) -> sys::napi_value {
    result.unwrap_or_else(|e| {
        // SAFETY: per the contract.
        unsafe { JsError::from(e).throw_into(env) };
        ptr::null_mut()
    })
}

/// `open(path, fd, mode, offset, length, create, permissions, size, flags, identity?)`: see
/// `open::open`.
unsafe extern "C" fn open(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: every value converted is one of this call's arguments, in `env`.
    let result = (|| unsafe {
        let [path, fd, mode, offset, length, create, permissions, size, flags, identity] =
            arguments::<10>(env, info)?;
        let packed = PackedOptions {
            mode: u32::from_napi_value(env, mode)?,
            offset: f64::from_napi_value(env, offset)?,
            length: f64::from_napi_value(env, length)?,
            create: u32::from_napi_value(env, create)?,
            permissions: u32::from_napi_value(env, permissions)?,
            size: f64::from_napi_value(env, size)?,
            flags: u32::from_napi_value(env, flags)?,
        };
        let map = open::open(
            Option::<String>::from_napi_value(env, path)?,
            i32::from_napi_value(env, fd)?,
            &packed,
            Option::<FileIdentity>::from_napi_value(env, identity)?,
        )?;
        ToNapiValue::to_napi_value(env, map)
    })();
    // SAFETY: the callback's env.
    unsafe { settle(env, result) }
}

/// `length(map)`: the map's length in bytes.
unsafe extern "C" fn length(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: the argument is this call's, in `env`.
    let result = (|| unsafe {
        let [map] = arguments::<1>(env, info)?;
        ToNapiValue::to_napi_value(env, NativeMap::from_napi_ref(env, map)?.byte_length() as f64)
    })();
    // SAFETY: the callback's env.
    unsafe { settle(env, result) }
}

/// `close(map)`: see `handle::close`.
unsafe extern "C" fn close(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: the argument is this call's, in `env`.
    let result = (|| unsafe {
        let [map] = arguments::<1>(env, info)?;
        handle::close(env, map)?;
        ToNapiValue::to_napi_value(env, ())
    })();
    // SAFETY: the callback's env.
    unsafe { settle(env, result) }
}
