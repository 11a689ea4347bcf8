// Fault injection, the file under the map (issue 10): deleted while mapped, replaced by a rename,
// and truncated to nothing by another process while every kind of library call is pending. Each
// case runs in a child whose exit status and signal are asserted; the oracles are node:fs (the
// file now at the path), /proc/self/maps (the "(deleted)" entry) and /proc/self/fd.
// A full disk (tmpfs) is disk.spec.ts: ENOSPC at open with `allocate: true`, and SIGBUS for a store
// into a hole of a sparse file grown without it. Truncation of each call's range: truncation.spec.ts.
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'

import { child, exitedCleanly } from './fault-child'
import { tempDir } from './helpers'

const PAGE = 4096
const dir = tempDir('memmap-files-')
let count = 0

function newFile(fill: number, size = 4 * PAGE): string {
  const file = path.join(dir, `f${count++}.bin`)
  fs.writeFileSync(file, Buffer.alloc(size, fill))
  return file
}

for (const mode of ['read', 'read-write', 'copy-on-write'] as const) {
  test(`a '${mode}' map of a file deleted while mapped keeps working on the unlinked file, never touches a new file at the path, and close() releases it (child)`, (t) => {
    const file = newFile(0x11)
    const r = child<Record<string, unknown>>(
      `
      const map = memmap.openSync(file, { mode: process.env.MODE })
      const view = map.view(Uint8Array)
      fs.unlinkSync(file)
      const deleted = fs.readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.endsWith(real + ' (deleted)')).length
      fs.writeFileSync(file, Buffer.alloc(100, 0x22)) // a new file at the same path
      const out = { deleted, exists: true }
      out.read = map.read(0, 4)[0]
      out.view = view[4095]
      out.fileSize = map.fileSize
      out.write = process.env.MODE === 'read' ? thrown(() => map.write(Buffer.from([0x33]), 0)).code : map.write(Buffer.from([0x33]), 0)
      out.afterWrite = map.read(0, 1)[0]
      out.flush = thrown(() => map.flushSync())
      out.flushAsync = await rejected(map.flush())
      out.search = await map.indexOfAsync(0x11)
      if (process.env.MODE === 'read-write') { map.resize(2 * 4096); out.resized = map.read(4096, 1)[0] }
      if (process.env.MODE === 'read') out.remap = map.remap()
      out.newFile = fs.readFileSync(file).equals(Buffer.alloc(100, 0x22))
      // Entries naming the new file (exactly the path; the mapped one is "(deleted)").
      out.before = {
        maps: fs.readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.endsWith(' ' + real)).length,
        fds: fs.readdirSync('/proc/self/fd').filter((fd) => { try { return fs.readlinkSync('/proc/self/fd/' + fd) === real } catch { return false } }).length,
      }
      map.close()
      out.viewAfterClose = view.byteLength
      out.after = { maps: fs.readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.includes(real)).length, fds: fileEntries().fds }
      return out
    `,
      { file, env: { MODE: mode } },
    )
    exitedCleanly(t, r)
    t.like(r.out, {
      deleted: 1,
      read: 0x11,
      view: 0x11,
      fileSize: 4 * PAGE,
      write: mode === 'read' ? 'ERR_MMAP_READ_ONLY' : 1,
      afterWrite: mode === 'read' ? 0x11 : 0x33,
      flush: null,
      flushAsync: null,
      search: mode === 'read' ? 0 : 1,
      newFile: true,
      viewAfterClose: 0,
      after: { maps: 0, fds: 0 },
    })
    if (mode === 'read-write') t.is(r.out.resized, 0x11, 'resize() works on the unlinked file')
    if (mode === 'read') t.is(r.out.remap, 4 * PAGE, 'remap() follows the unlinked file, not the new one')
    t.deepEqual(r.out.before, { maps: 0, fds: 0 }, 'nothing of this process names the new file')
    t.true(fs.readFileSync(file).equals(Buffer.alloc(100, 0x22)), 'the new file at the path is untouched')
  })
}

test('a map of a file replaced by a rename keeps the old file: writes go to it, remap() follows it, and a new map opens the new one (child)', (t) => {
  const file = newFile(0x44)
  const next = path.join(dir, `next${count++}.bin`)
  fs.writeFileSync(next, Buffer.alloc(PAGE, 0x55))
  const r = child<Record<string, unknown>>(
    `
    const writer = memmap.openSync(file, { mode: 'read-write' })
    const reader = memmap.openSync(file)
    const keep = fs.openSync(file, 'r') // another handle on the old file, to read it back
    fs.renameSync(process.env.NEXT, file)
    const out = {}
    out.write = writer.write(Buffer.from('old'), 0)
    writer.flushSync()
    out.oldFile = fs.readFileSync(keep).subarray(0, 3).toString()
    out.reader = reader.read(0, 3).toString()
    out.readerFileSize = reader.fileSize
    out.remap = reader.remap()
    out.newFile = fs.readFileSync(file).equals(Buffer.alloc(4096, 0x55))
    const fresh = memmap.openSync(file)
    out.fresh = [fresh.length, fresh.read(0, 1)[0]]
    fresh.close()
    writer.close()
    reader.close()
    fs.closeSync(keep)
    out.end = { maps: fs.readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.includes(real)).length, fds: fileEntries().fds }
    return out
  `,
    { file, env: { NEXT: next } },
  )
  exitedCleanly(t, r)
  t.deepEqual(r.out, {
    write: 3,
    oldFile: 'old',
    reader: 'old',
    readerFileSize: 4 * PAGE,
    remap: 4 * PAGE,
    newFile: true,
    fresh: [PAGE, 0x55],
    end: { maps: 0, fds: 0 },
  })
  t.true(fs.readFileSync(file).equals(Buffer.alloc(PAGE, 0x55)), 'the file now at the path never saw the writes')
})

test('truncated to nothing by a child process while flush, indexOfAsync, prefetch and open are queued, every call settles with ERR_MMAP_TRUNCATED or an empty map, never a signal (child)', (t) => {
  const file = newFile(0x66, 64 * PAGE)
  const r = child<Record<string, unknown>>(
    `
    const map = memmap.openSync(file, { mode: 'read-write' })
    // Keep libuv's only pool thread busy, so the calls below run after the cut.
    await new Promise((resolve) => setImmediate(resolve))
    require('node:crypto').pbkdf2(Buffer.alloc(8), Buffer.alloc(8), 200000, 32, 'sha256', () => {})
    const pending = {
      flush: rejected(map.flush()),
      search: rejected(map.indexOfAsync(0x77)),
      prefetch: rejected(map.prefetch()),
      open: memmap.open(file).then((m) => { const n = m.length; m.close(); return n }, (e) => e.code),
    }
    require('node:child_process').execFileSync('truncate', ['-s', '0', file])
    const out = {}
    for (const [k, p] of Object.entries(pending)) out[k] = await p
    for (const k of ['flush', 'search', 'prefetch']) out[k] = out[k]?.code ?? null
    out.read = thrown(() => map.read(0, 1))?.code
    map.close()
    out.end = fileEntries()
    return out
  `,
    { file, env: { UV_THREADPOOL_SIZE: '1' } },
  )
  exitedCleanly(t, r)
  t.deepEqual(r.out, {
    flush: 'ERR_MMAP_TRUNCATED',
    search: 'ERR_MMAP_TRUNCATED',
    prefetch: 'ERR_MMAP_TRUNCATED',
    open: 0,
    read: 'ERR_MMAP_TRUNCATED',
    end: { maps: 0, fds: 0 },
  })
})
