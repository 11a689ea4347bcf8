//! Open options as the TypeScript layer passes them (already type-checked there), converted to
//! the core's [`memmap_core::OpenOptions`].

use memmap_core::{Create, Error, Mode, OpenOptions};
use napi_derive::napi;

/// Mirrors `OpenOptions` in `js/types.ts`; numbers arrive as safe integers.
#[napi(object)]
pub struct BindingOpenOptions {
    pub mode: String,
    pub offset: f64,
    pub length: Option<f64>,
    /// 'no' | 'if-missing' | 'exclusive'
    pub create: String,
    pub permissions: u32,
    pub size: Option<f64>,
    pub track_file: bool,
}

fn to_u64(name: &str, value: f64) -> Result<u64, Error> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= 9_007_199_254_740_991.0 {
        Ok(value as u64)
    } else {
        Err(Error::OutOfRange(format!("expected `{name}` to be a non-negative safe integer, got {value}")))
    }
}

impl TryFrom<BindingOpenOptions> for OpenOptions {
    type Error = Error;

    fn try_from(o: BindingOpenOptions) -> Result<OpenOptions, Error> {
        let create = match o.create.as_str() {
            "no" => Create::No,
            "if-missing" => Create::IfMissing,
            "exclusive" => Create::Exclusive,
            other => return Err(Error::InvalidValue(format!("unknown create value '{other}'"))),
        };
        let options = OpenOptions {
            mode: Mode::parse(&o.mode)?,
            offset: to_u64("offset", o.offset)?,
            length: o.length.map(|l| to_u64("length", l)).transpose()?,
            create,
            permissions: o.permissions,
            size: o.size.map(|s| to_u64("size", s)).transpose()?,
            track_file: o.track_file,
        };
        options.validate()?;
        Ok(options)
    }
}

/// A safe-integer number from JavaScript as a byte count or offset.
pub fn byte_count(name: &str, value: f64) -> napi::Result<usize> {
    let n = to_u64(name, value).map_err(crate::error::to_napi)?;
    usize::try_from(n).map_err(|_| {
        crate::error::to_napi(Error::OutOfRange(format!("`{name}` {n} exceeds the address space")))
    })
}
