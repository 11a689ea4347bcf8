//! How a map reaches JavaScript and comes back: a `NativeMap` is an External value (an opaque
//! object) standing for the map, and every operation on a map is a plain function taking it first
//! (`close(map)`, `read(map, offset, length)`).
//!
//! Not a napi-rs class: a class instance costs a constructor call, a wrap and a type tag to make,
//! and an unwrap, a tag check and a borrow-registry entry on every method call, which together
//! were a fifth of a 4 KiB open + close (perf, issue 15). An External costs one
//! `napi_create_external` to make and one `napi_get_value_external` to read.
//!
//! The External holds an id, not a pointer: the map itself is in this thread's table of open
//! maps, so `close` frees it at once (in the order maps come and go, which the allocator serves
//! from its caches) instead of leaving thousands to be freed together when the values are
//! collected, which perf showed costing more than the lookup. An id is never reused: a value
//! whose map was closed gives ERR_MMAP_CLOSED, and an External made by other native code is
//! refused without being read. The table is per thread, like the values: an External never
//! leaves the JavaScript environment (thread) that made it, and its finalizer runs there.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::hash::{BuildHasherDefault, Hasher};
use std::ptr;

use napi::bindgen_prelude::{External, FromNapiMutRef, FromNapiRef, ToNapiValue, TypeName, ValueType};
use napi::{check_status, sys, Env, Error, JsError, Result, Status};
use napi_derive::napi;

use crate::error::to_napi;
use crate::mapping::{self, NativeMap};

/// The TypeScript name of a map handle (`ExternalObject<undefined>` in the typings): what
/// `open`, `allocate` and `openAsync` return and every map function takes.
#[napi(js_name = "NativeMap")]
#[allow(dead_code)] // only its typings are used
pub type NativeMapObject = External<()>;

thread_local! {
    /// This thread's open maps by id. An id is never reused, so a value whose map was closed
    /// (or one made by other native code) finds nothing.
    static MAPS: RefCell<Maps> = RefCell::new(Maps { next: 1, open: HashMap::default() });
}

struct Maps {
    next: usize,
    open: HashMap<usize, Box<NativeMap>, BuildHasherDefault<IdHasher>>,
}

/// Ids are consecutive integers: a multiplicative hash spreads them over the table's buckets
/// and its tag bits (SipHash, the default, would cost more than the lookup it serves).
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, id: usize) {
        self.0 = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map to hand to JavaScript (a factory's return value, an async open's result).
pub struct Wrapped(pub NativeMap);

impl TypeName for Wrapped {
    fn type_name() -> &'static str {
        "NativeMap"
    }

    fn value_type() -> ValueType {
        ValueType::External
    }
}

impl ToNapiValue for Wrapped {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let id = MAPS.with(|maps| {
            let mut maps = maps.borrow_mut();
            maps.next += 1;
            maps.next - 1
        });
        let mut value = ptr::null_mut();
        // SAFETY: the data is an id, never dereferenced; the finalizer looks it up.
        let status = unsafe {
            sys::napi_create_external(env, id as *mut c_void, Some(finalize), ptr::null_mut(), &mut value)
        };
        check_status!(status, "failed to create a map value")?;
        MAPS.with(|maps| maps.borrow_mut().open.insert(id, Box::new(val.0)));
        Ok(value)
    }
}

/// The id of a map value (any External gives a number; `lookup` decides whether it is a map).
///
/// # Safety
/// `value` is a value of `env`, on its thread.
unsafe fn id_of(env: sys::napi_env, value: sys::napi_value) -> Result<usize> {
    let mut data = ptr::null_mut();
    // SAFETY: per the contract; fails with napi_invalid_arg for anything but an External.
    match unsafe { sys::napi_get_value_external(env, value, &mut data) } {
        sys::Status::napi_ok => Ok(data as usize),
        _ => Err(not_a_map()),
    }
}

fn not_a_map() -> Error {
    Error::new(Status::InvalidArg, "the argument is not a memmap map (NativeMap)")
}

/// The open map of `id`, or None for a map closed before. The Box keeps its address while other
/// maps come and go; it is freed only by `close` or the finalizer, never during a call that holds
/// the map's value.
fn lookup(id: usize) -> Result<Option<*mut NativeMap>> {
    MAPS.with(|maps| {
        let mut maps = maps.borrow_mut();
        let issued = id != 0 && id < maps.next;
        match maps.open.get_mut(&id) {
            Some(map) => Ok(Some(&mut **map as *mut NativeMap)),
            None if issued => Ok(None),
            None => Err(not_a_map()),
        }
    })
}

/// The open map of `id`; ERR_MMAP_CLOSED for a map closed before.
fn open_map(id: usize) -> Result<*mut NativeMap> {
    lookup(id)?.ok_or_else(|| to_napi(memmap_core::Error::Closed))
}

/// `close(map)`: runs `mapping::close`, then frees the map at once (rather than when the value is
/// collected), so the next open reuses its memory and the value's finalizer has nothing to do.
/// Idempotent: a map closed before is left as it is; a value that is no map is refused.
///
/// # Safety
/// `value` is a value of `env`, on its thread.
pub unsafe fn close(env: sys::napi_env, value: sys::napi_value) -> Result<()> {
    // SAFETY: per the contract.
    let id = unsafe { id_of(env, value) }?;
    let Some(map) = lookup(id)? else { return Ok(()) };
    // SAFETY: `lookup` found the Box, which stays until the `remove` below.
    let result = mapping::close(unsafe { &mut *map }, Env::from_raw(env));
    MAPS.with(|maps| maps.borrow_mut().open.remove(&id));
    result
}

impl FromNapiRef for NativeMap {
    unsafe fn from_napi_ref(env: sys::napi_env, napi_val: sys::napi_value) -> Result<&'static Self> {
        // SAFETY: `open_map` found the Box, alive until its map is closed or its value collected,
        // neither of which can happen during a call that holds the value as an argument.
        Ok(unsafe { &*open_map(id_of(env, napi_val)?)? })
    }
}

impl FromNapiMutRef for NativeMap {
    unsafe fn from_napi_mut_ref(env: sys::napi_env, napi_val: sys::napi_value) -> Result<&'static mut Self> {
        // SAFETY: as above. Exclusive: calls run one at a time on the map's thread, none of them
        // calls back into JavaScript, and no other reference to the map outlives a call.
        Ok(unsafe { &mut *open_map(id_of(env, napi_val)?)? })
    }
}

/// The value was collected: a map never closed is finalized (and reported), then freed.
unsafe extern "C" fn finalize(env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // A closed map was freed by `close`: nothing is left to do.
    let Some(map) = MAPS.with(|maps| maps.borrow_mut().open.remove(&(data as usize))) else { return };
    if let Err(e) = map.finalize(Env::from_raw(env)) {
        // SAFETY: `env` is the env the finalizer runs in.
        unsafe { JsError::from(e).throw_into(env) };
    }
}
