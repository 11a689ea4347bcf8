//! Open options as the TypeScript layer passes them (already type-checked there), converted to
//! the core's [`memmap_core::OpenOptions`].

use memmap_core::{Advice, Create, Error, Mode, OpenOptions};
use napi_derive::napi;

use crate::error::to_napi;

/// Mirrors `OpenOptions` in `js/index.ts`; numbers arrive as safe integers.
#[napi(object)]
pub struct BindingOpenOptions {
    pub mode: String,
    pub offset: f64,
    pub length: Option<f64>,
    /// 'no' | 'if-missing' | 'exclusive'
    pub create: String,
    pub permissions: u32,
    pub size: Option<f64>,
    pub allocate: bool,
    pub populate: bool,
    pub advice: String,
    pub track_file: bool,
}

/// What happens after the pages are mapped.
#[derive(Clone, Copy)]
pub struct AfterMap {
    pub allocate: bool,
    pub populate: bool,
    pub advice: Advice,
}

fn to_u64(name: &str, value: f64) -> Result<u64, Error> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= 9_007_199_254_740_991.0 {
        Ok(value as u64)
    } else {
        Err(Error::out_of_range(name, "a non-negative safe integer", value))
    }
}

impl BindingOpenOptions {
    /// Splits into the core's options and the post-map steps, validating both.
    pub fn parse(self) -> memmap_core::Result<(OpenOptions, AfterMap)> {
        let create = match self.create.as_str() {
            "no" => Create::No,
            "if-missing" => Create::IfMissing,
            "exclusive" => Create::Exclusive,
            other => {
                return Err(Error::invalid_value(
                    "create",
                    "true, false or 'exclusive'",
                    format!("'{other}' (string)"),
                ))
            }
        };
        let options = OpenOptions {
            mode: Mode::parse(&self.mode)?,
            offset: to_u64("offset", self.offset)?,
            length: self.length.map(|l| to_u64("length", l)).transpose()?,
            create,
            permissions: self.permissions,
            size: self.size.map(|s| to_u64("size", s)).transpose()?,
            track_file: self.track_file,
        };
        options.validate()?;
        let after = AfterMap {
            allocate: self.allocate,
            populate: self.populate,
            advice: Advice::parse(&self.advice)?,
        };
        if after.advice == Advice::DontNeed && options.mode == Mode::CopyOnWrite {
            return Err(dontneed_refused());
        }
        Ok((options, after))
    }
}

pub fn dontneed_refused() -> Error {
    Error::Unsupported("advice 'dontneed' would discard the private pages of this map".into())
}

/// A safe-integer number from JavaScript as a byte count or offset.
pub fn byte_count(name: &str, value: f64) -> napi::Result<usize> {
    let n = to_u64(name, value).map_err(to_napi)?;
    usize::try_from(n).map_err(|_| to_napi(Error::out_of_range(name, "at most the address space", n)))
}
