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
#[napi(string_enum = "kebab-case")]
pub enum BindingCreate {
    No,
    IfMissing,
    Exclusive,
}

impl From<BindingCreate> for Create {
    fn from(create: BindingCreate) -> Create {
        match create {
            BindingCreate::No => Create::No,
            BindingCreate::IfMissing => Create::IfMissing,
            BindingCreate::Exclusive => Create::Exclusive,
        }
    }
}

/// Mirrors `OpenOptions` in `index.d.ts`, with every default filled in by the TypeScript layer.
#[napi(object)]
pub struct BindingOpenOptions {
    pub mode: BindingMode,
    /// Byte offset into the file; a safe integer.
    pub offset: f64,
    /// Bytes to map; to the end of the file when absent.
    pub length: Option<f64>,
    pub create: BindingCreate,
    /// Mode bits of a created file, before the umask; 0 to 0o7777.
    pub permissions: u32,
    /// Total file size to grow to first; never shrinks.
    pub size: Option<f64>,
    pub allocate: bool,
    pub populate: bool,
    pub advice: BindingAdvice,
    pub track_file: bool,
}

impl TryFrom<BindingOpenOptions> for OpenOptions {
    type Error = memmap_core::Error;

    fn try_from(o: BindingOpenOptions) -> memmap_core::Result<OpenOptions> {
        Ok(OpenOptions {
            mode: o.mode.into(),
            offset: safe_integer("offset", o.offset)?,
            length: o.length.map(|l| safe_integer("length", l)).transpose()?,
            create: o.create.into(),
            permissions: o.permissions,
            size: o.size.map(|s| safe_integer("size", s)).transpose()?,
            track_file: o.track_file,
            allocate: o.allocate,
            populate: o.populate,
            advice: o.advice.into(),
        })
    }
}

/// A safe-integer number from JavaScript as a byte count or offset in this address space.
pub fn byte_count(name: &str, value: f64) -> napi::Result<usize> {
    let n = safe_integer(name, value).map_err(to_napi)?;
    usize::try_from(n)
        .map_err(|_| to_napi(memmap_core::Error::out_of_range(name, "at most the address space", n)))
}
