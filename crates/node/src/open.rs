//! The open pipeline: one request (a path or a descriptor, and the options) with a synchronous
//! face (`open`, hot.rs) and an asynchronous one (`openAsync`, on the libuv thread pool). Both
//! run [`Request::open`]: open or duplicate, check and size the file, map, advise, populate; on
//! any failure the file is left as it was.

use std::fs::File;

use memmap_core::{Advice, Error, Layout, OpenOptions, OpenedFile, Source};
use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Result, Task};
use napi_derive::napi;

use crate::error::{to_napi, IntoNapi};
use crate::file_lock::Reopen;
use crate::handle::Wrapped;
use crate::mapping::NativeMap;
use crate::options::{PackedOptions, FLAG_SHARED};
use crate::os;
use crate::region::Region;

/// A file's identity as a `share()` token carries it: device and inode on Unix, volume serial
/// number and file index on Windows.
#[napi(object)]
pub struct FileIdentity {
    pub dev: String,
    pub ino: String,
}

/// Where to open: a path, or a duplicate of a caller's descriptor (and the caller's number).
enum Target {
    Path(String),
    Fd(File, i32),
}

/// Names a map in the warning a map collected without `close()` raises: formatted only then.
pub enum Label {
    Path(String),
    Descriptor(i32),
    Memory(&'static str),
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Label::Path(path) => write!(f, "'{path}'"),
            Label::Descriptor(fd) => write!(f, "descriptor {fd}"),
            Label::Memory(what) => f.write_str(what),
        }
    }
}

/// A request checked on the JavaScript thread (every rule of the options, the descriptor
/// duplicated), ready to run there or on the pool.
pub struct Request {
    target: Target,
    options: OpenOptions,
    identity: Option<FileIdentity>,
    shared: bool,
}

/// A map made, not yet wrapped (everything in it is `Send`).
pub struct Opened {
    pub region: Region,
    pub file: File,
    pub layout: Layout,
    pub stray_writes_fault: bool,
    pub size_at_open: u64,
    pub options: OpenOptions,
    pub label: Label,
    /// How a `trackFile: false` map opened by path finds its file again for a lock.
    pub reopen: Option<Reopen>,
    /// Shared anonymous memory, opened through a `share()` token.
    pub shared: bool,
}

impl Request {
    /// Checks a request as the TypeScript layer sends it: exactly one of `path` and `fd` (-1 for
    /// none), the packed options, and for `openShared` the identity the file must have.
    fn new(
        path: Option<String>,
        fd: i32,
        packed: &PackedOptions,
        identity: Option<FileIdentity>,
    ) -> memmap_core::Result<Request> {
        let options = OpenOptions::try_from(packed)?;
        let target = match (path, fd) {
            (Some(path), _) => {
                options.validate(Source::Path)?;
                Target::Path(path)
            }
            (None, fd) if fd >= 0 => {
                options.validate(Source::Descriptor)?;
                Target::Fd(os::dup_fd(fd)?, fd)
            }
            (None, _) => return Err(Error::invalid_value("file", "a path or a descriptor", "nothing")),
        };
        Ok(Request { target, options, identity, shared: packed.flags & FLAG_SHARED != 0 })
    }
}

impl Request {
    /// Opens, sizes, maps, advises and populates; on any failure undoes what it did to the file.
    pub fn open(self) -> memmap_core::Result<Opened> {
        let Request { target, options, identity, shared } = self;
        let (mut opened, label) = match target {
            Target::Path(path) => (OpenedFile::open(path.as_ref(), &options)?, Label::Path(path)),
            Target::Fd(file, fd) => (OpenedFile::from_file(file, &options)?, Label::Descriptor(fd)),
        };
        let mapped = check_identity(&opened.file, identity.as_ref(), &label)
            .and_then(|()| reopen_of(&label, &opened, &options))
            .and_then(|reopen| Ok((map_opened(&opened, &options)?, reopen)));
        match mapped {
            Ok(((region, layout, stray_writes_fault), reopen)) => {
                let size_at_open = opened.size;
                Ok(Opened {
                    region,
                    file: opened.file,
                    layout,
                    stray_writes_fault,
                    size_at_open,
                    options,
                    label,
                    reopen,
                    shared,
                })
            }
            Err(e) => {
                opened.rollback();
                Err(e)
            }
        }
    }
}

/// `openShared`: the file opened must be the one the token was made for, not a file renamed over
/// its path since or another file now at its descriptor number.
fn check_identity(file: &File, expected: Option<&FileIdentity>, label: &Label) -> memmap_core::Result<()> {
    let Some(expected) = expected else { return Ok(()) };
    let (dev, ino) = os::file_identity(file)?;
    if dev.to_string() == expected.dev && ino.to_string() == expected.ino {
        return Ok(());
    }
    Err(Error::StaleToken(format!(
        "{label} is not what the share() token was made for (device {}, inode {}; found device {dev}, inode {ino}): the file was replaced, or the descriptor number reused, since",
        expected.dev, expected.ino
    )))
}

/// How a `trackFile: false` map opened by path finds its file again for a lock: the path and the
/// file's identity now. Other maps lock through their own descriptor (or have no path).
fn reopen_of(
    label: &Label,
    opened: &OpenedFile,
    options: &OpenOptions,
) -> memmap_core::Result<Option<Reopen>> {
    match label {
        Label::Path(path) if !options.track_file => {
            Ok(Some(Reopen { identity: os::file_identity(&opened.file)?, path: path.clone() }))
        }
        _ => Ok(None),
    }
}

fn map_opened(opened: &OpenedFile, options: &OpenOptions) -> memmap_core::Result<(Region, Layout, bool)> {
    if let (true, Some(from)) = (options.allocate, opened.grown_from()) {
        os::reserve(&opened.file, from, opened.size - from)?;
    }
    let layout = Layout::new(options.offset, options.length, opened.size, os::page_size() as u64)?;
    let (region, stray_writes_fault) = Region::map(&opened.file, &layout, options.mode)?;
    if region.len() > 0 {
        let (ptr, span) = region.span(0, region.len());
        if options.advice != Advice::Normal {
            // SAFETY: `span` covers the whole live mapping just made, page-aligned.
            unsafe { os::advise(ptr, span, options.advice) }?;
        }
        if options.populate {
            // SAFETY: as above; the mapping is readable in every mode.
            unsafe { os::populate_read(ptr, span) }?;
        }
    }
    Ok((region, layout, stray_writes_fault))
}

/// Opens and maps a file, on the calling thread: `hot::open` converts the positional arguments
/// (see `PackedOptions`: converting them costs no property lookups, which dominated a 4 KiB
/// open + close when they came as an object).
pub fn open(
    path: Option<String>,
    fd: i32,
    packed: &PackedOptions,
    identity: Option<FileIdentity>,
) -> Result<Wrapped> {
    let request = Request::new(path, fd, packed, identity).into_napi()?;
    Ok(Wrapped(NativeMap::from_opened(request.open().into_napi()?)))
}

/// `open()` on the libuv thread pool: the request is checked (and a descriptor duplicated) now,
/// on the calling thread; the same [`Request::open`] runs on the pool.
#[napi(ts_return_type = "Promise<NativeMap>")]
#[allow(clippy::too_many_arguments)]
pub fn open_async(
    path: Option<String>,
    fd: i32,
    mode: u32,
    offset: f64,
    length: f64,
    create: u32,
    permissions: u32,
    size: f64,
    flags: u32,
) -> Result<AsyncTask<OpenTask>> {
    let packed = PackedOptions { mode, offset, length, create, permissions, size, flags };
    Ok(AsyncTask::new(OpenTask { request: Some(Request::new(path, fd, &packed, None).into_napi()?) }))
}

pub struct OpenTask {
    request: Option<Request>,
}

impl Task for OpenTask {
    type Output = Opened;
    type JsValue = Wrapped;

    fn compute(&mut self) -> Result<Opened> {
        let request = self.request.take().ok_or_else(|| to_napi(Error::Closed))?;
        request.open().into_napi()
    }

    fn resolve(&mut self, _env: Env, output: Opened) -> Result<Wrapped> {
        Ok(Wrapped(NativeMap::from_opened(output)))
    }
}
