//! Cutting a mapped file where the OS refuses while a view maps it (Windows:
//! ERROR_USER_MAPPED_FILE, `os::TRUNCATE_WHILE_MAPPED` false): unmap first, cut, map again, and
//! put everything back when a step fails. Part of the map's lifecycle (`mapping.rs`).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use memmap_core::{Error, Layout};
use napi::{Env, Result};

use super::NativeMap;
use crate::error::{to_napi, IntoNapi};
use crate::os;
use crate::region::Region;

/// A cut that must save and may put back at most this many bytes of the file's tail.
const TAIL_KEPT: u64 = 64 << 20;

impl NativeMap {
    /// Cuts the file from `old_size` to `target` bytes: waits for running tasks, unmaps, cuts,
    /// maps `new_len` bytes. On failure the file gets its size back (and its cut-off bytes, when
    /// they were at most `TAIL_KEPT`) and the map its old length. A buffer moved by `transfer()`
    /// keeps the view mapped, so then nothing changes. Serves a shrinking `resize()` and the
    /// rollback of a growth whose mapping failed.
    pub(super) fn cut_unmapped(
        &mut self,
        env: Env,
        new_len: usize,
        file: &Arc<File>,
        target: u64,
        old_size: u64,
    ) -> Result<()> {
        let old = Arc::clone(self.live()?);
        let old_len = self.length;
        if !self.detach_all(env) {
            return Err(to_napi(Error::Unsupported(
                "a buffer moved by transfer() still maps the file, and this OS cannot shrink a mapped file"
                    .into(),
            )));
        }
        let tail =
            if old_size - target <= TAIL_KEPT { Some(read_tail(file, target, old_size)?) } else { None };
        old.wait_idle();
        old.retire(false).into_napi()?;
        self.region = None;
        if let Err(e) = file.set_len(target) {
            self.restore(old_len, file);
            return Err(to_napi(Error::io("ftruncate", e)));
        }
        match self.map_file(new_len, file) {
            Ok(region) => self.install(region, new_len),
            Err(e) => {
                let _ = file.set_len(old_size);
                if let Some(tail) = tail {
                    let _ = write_at(file, target, &tail);
                }
                self.restore(old_len, file);
                Err(e)
            }
        }
    }

    /// Maps `old_len` again after a failed cut; if even that fails the map is left closed.
    fn restore(&mut self, old_len: usize, file: &File) {
        if let Ok(region) = self.map_file(old_len, file) {
            let _ = self.install(region, old_len);
        }
    }

    fn map_file(&self, len: usize, file: &File) -> Result<Region> {
        let layout = Layout::at(self.offset, len as u64, os::page_size() as u64);
        Region::map(file, &layout, self.mode).map(|(r, _)| r).into_napi()
    }

    fn install(&mut self, region: Region, len: usize) -> Result<()> {
        if self.protected {
            region.set_read_only(true).into_napi()?;
        }
        self.region = Some(Arc::new(region));
        self.length = len;
        Ok(())
    }
}

fn read_tail(file: &File, from: u64, to: u64) -> Result<Vec<u8>> {
    let mut tail = vec![0; (to - from) as usize];
    let mut reader = file;
    reader
        .seek(SeekFrom::Start(from))
        .and_then(|_| reader.read_exact(&mut tail))
        .map_err(|e| to_napi(Error::io("read", e)))?;
    Ok(tail)
}

fn write_at(file: &File, at: u64, bytes: &[u8]) -> std::io::Result<()> {
    let mut writer = file;
    writer.seek(SeekFrom::Start(at))?;
    writer.write_all(bytes)
}
