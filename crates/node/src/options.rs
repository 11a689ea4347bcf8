//! Open options as the TypeScript layer passes them (type-checked there: closed sets arrive as
//! string enums, numbers as safe integers), converted into the core's [`OpenOptions`], which owns
//! every rule that combines them.

use memmap_core::{safe_integer, Advice, Create, Mode, OpenOptions};
use napi_derive::napi;

use crate::error::to_napi;

/// `mode` as JavaScript names it.
#[napi(string_enum = "kebab-case")]
pub enum BindingMode {
    Read,
    ReadWrite,
    CopyOnWrite,
}

impl From<BindingMode> for Mode {
    fn from(mode: BindingMode) -> Mode {
        match mode {
            BindingMode::Read => Mode::Read,
            BindingMode::ReadWrite => Mode::ReadWrite,
            BindingMode::CopyOnWrite => Mode::CopyOnWrite,
        }
    }
}

/// `advice` as JavaScript names it.
#[napi(string_enum = "lowercase")]
pub enum BindingAdvice {
    Normal,
    Sequential,
    Random,
    WillNeed,
    DontNeed,
    HugePage,
}

impl From<BindingAdvice> for Advice {
    fn from(advice: BindingAdvice) -> Advice {
        match advice {
            BindingAdvice::Normal => Advice::Normal,
            BindingAdvice::Sequential => Advice::Sequential,
            BindingAdvice::Random => Advice::Random,
            BindingAdvice::WillNeed => Advice::WillNeed,
            BindingAdvice::DontNeed => Advice::DontNeed,
            BindingAdvice::HugePage => Advice::HugePage,
        }
    }
}

/// `create`: false, true or 'exclusive', as the TypeScript layer names them.
/// The open options as the TypeScript layer packs them (js/options.ts `OPEN_FLAGS` and the code
/// tables there): plain numbers, so a call converts no object and interns no property name.
/// `mode`: 0 'read', 1 'read-write', 2 'copy-on-write'. `create`: 0 no, 1 if missing, 2
/// exclusive. `length` and `size`: -1 for none. `flags`: bit 0 `allocate`, 1 `populate`, 2
/// `trackFile`, 3 shared memory (`openShared`); bits 8-11 the advice (0 'normal', 1 'sequential',
/// 2 'random', 3 'willneed', 4 'dontneed', 5 'hugepage').
pub struct PackedOptions {
    pub mode: u32,
    pub offset: f64,
    pub length: f64,
    pub create: u32,
    pub permissions: u32,
    pub size: f64,
    pub flags: u32,
}

pub const FLAG_ALLOCATE: u32 = 1;
pub const FLAG_POPULATE: u32 = 1 << 1;
pub const FLAG_TRACK_FILE: u32 = 1 << 2;
pub const FLAG_SHARED: u32 = 1 << 3;
const ADVICE_SHIFT: u32 = 8;

impl TryFrom<&PackedOptions> for OpenOptions {
    type Error = memmap_core::Error;

    fn try_from(o: &PackedOptions) -> memmap_core::Result<OpenOptions> {
        let code = |name: &str, value: u32, max: u32| {
            if value <= max {
                Ok(value)
            } else {
                Err(memmap_core::Error::out_of_range(name, format!("a code in [0, {max}]"), value))
            }
        };
        let optional = |name: &str, value: f64| {
            if value == -1.0 {
                Ok(None)
            } else {
                safe_integer(name, value).map(Some)
            }
        };
        let mode = match code("mode", o.mode, 2)? {
            0 => Mode::Read,
            1 => Mode::ReadWrite,
            _ => Mode::CopyOnWrite,
        };
        let create = match code("create", o.create, 2)? {
            0 => Create::No,
            1 => Create::IfMissing,
            _ => Create::Exclusive,
        };
        let advice = match code("advice", o.flags >> ADVICE_SHIFT, 5)? {
            0 => Advice::Normal,
            1 => Advice::Sequential,
            2 => Advice::Random,
            3 => Advice::WillNeed,
            4 => Advice::DontNeed,
            _ => Advice::HugePage,
        };
        Ok(OpenOptions {
            mode,
            offset: safe_integer("offset", o.offset)?,
            length: optional("length", o.length)?,
            create,
            permissions: o.permissions,
            size: optional("size", o.size)?,
            track_file: o.flags & FLAG_TRACK_FILE != 0,
            allocate: o.flags & FLAG_ALLOCATE != 0,
            populate: o.flags & FLAG_POPULATE != 0,
            advice,
        })
    }
}

/// A safe-integer number from JavaScript as a byte count or offset in this address space.
pub fn byte_count(name: &str, value: f64) -> napi::Result<usize> {
    let n = safe_integer(name, value).map_err(to_napi)?;
    usize::try_from(n)
        .map_err(|_| to_napi(memmap_core::Error::out_of_range(name, "at most the address space", n)))
}
