// Flush: the kernel's own dirty-page accounting (/proc/self/smaps) drops by exactly the flushed
// range, on a disk filesystem; open() and flush() run on the libuv thread pool, not the event loop.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test, { type ExecutionContext } from 'ava'

import { openSync, type MappedFile, type Range } from '..'
import { exitedCleanly, runChild } from './child'
import { linuxOnly, procSelf, ROOT } from './helpers'

const PAGE = 4096
const PAGES = 64
const TMPFS_MAGIC = 0x01021994

/** A fresh directory on the disk the repository lives on (never tmpfs: msync there does nothing). */
function diskDir(): string {
  const base = path.join(ROOT, '.tmp')
  fs.mkdirSync(base, { recursive: true })
  const dir = fs.mkdtempSync(path.join(base, 'flush-'))
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * A file of `size` random bytes, written back to disk so none of its pages start dirty. Written
 * one page per write(2): ext4 caches a larger write in a large folio, whose dirty state is one
 * bit, so msync of any part of it cleans all of it (Python's mmap.flush(offset, size) shows the
 * same); per-page writes give per-page folios, so a ranged flush cleans exactly its pages.
 */
function cleanFile(dir: string, size: number, name = 'data.bin'): string {
  const file = path.join(dir, name)
  const data = randomBytes(size)
  const fd = fs.openSync(file, 'w')
  for (let at = 0; at < size; at += PAGE) fs.writeSync(fd, data, at, Math.min(PAGE, size - at), at)
  fs.fsyncSync(fd)
  fs.closeSync(fd)
  return file
}

interface Vma {
  path: string
  kb: Record<string, number>
}

/** The entries of an smaps text, each with its path and its `kB` fields. */
function parseSmaps(text: string): Vma[] {
  const vmas: Vma[] = []
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line)
    if (head) vmas.push({ path: head[1], kb: {} })
    const field = /^(\w+):\s+(\d+) kB$/.exec(line)
    if (field && vmas.length > 0) vmas[vmas.length - 1].kb[field[1]] = Number(field[2])
  }
  return vmas
}

/** Dirty kB (Shared_Dirty + Private_Dirty) over every mapping of `file` in an smaps text. */
function dirtyKb(file: string, text = fs.readFileSync(procSelf('smaps'), 'utf8')): number {
  const real = fs.realpathSync(file)
  const vmas = parseSmaps(text).filter((v) => v.path === real)
  if (vmas.length === 0) throw new Error(`no mapping of ${real} in smaps`)
  return vmas.reduce((sum, v) => sum + v.kb.Shared_Dirty + v.kb.Private_Dirty, 0)
}

/** Opens a clean PAGES-page file 'read-write' and dirties every page through `bytes`. */
function dirtyMap(t: ExecutionContext) {
  const dir = diskDir()
  t.not(fs.statfsSync(dir).type, TMPFS_MAGIC, `${dir} must not be tmpfs`)
  const file = cleanFile(dir, PAGES * PAGE)
  const map = openSync(file, { mode: 'read-write' })
  t.is(dirtyKb(file), 0, 'a fresh map of a written-back file has no dirty pages')
  const expected = fs.readFileSync(file)
  for (let p = 0; p < PAGES; p++) {
    const at = p * PAGE + ((p * 37) % PAGE)
    map.bytes[at] = expected[at] ^= 0xa5
  }
  t.is(dirtyKb(file), PAGES * 4, 'every written page is dirty')
  return { file, map, expected }
}

type Flush = (map: MappedFile, range?: Range) => void | Promise<void>
const flushes: [string, Flush][] = [
  ['flushSync()', (map, range) => map.flushSync(range)],
  ['await flush()', (map, range) => map.flush(range)],
]

for (const [name, flush] of flushes) {
  linuxOnly(test, '/proc/self/smaps')(`${name} of a range cleans exactly the range's pages in smaps, and of the whole map all of them`, async (t) => {
    const { file, map, expected } = dirtyMap(t)
    try {
      await flush(map, { offset: 16 * PAGE, length: 8 * PAGE })
      t.is(dirtyKb(file), (PAGES - 8) * 4, 'an 8-page range drops Dirty by 32 kB')
      await flush(map, { offset: 40 * PAGE + 100, length: 10 })
      t.is(dirtyKb(file), (PAGES - 9) * 4, 'a 10-byte range inside one page drops Dirty by that page')
      await flush(map, { offset: 62 * PAGE - 1, length: 2 })
      t.is(dirtyKb(file), (PAGES - 11) * 4, 'a 2-byte range across a page boundary drops Dirty by both pages')
      await flush(map)
      t.is(dirtyKb(file), 0)
      t.true(fs.readFileSync(file).equals(expected), 'fs.readFileSync sees every write')
    } finally {
      map.close()
    }
  })

  linuxOnly(test, '/proc/self/smaps')(
    `${name} with durable: true of a range leaves no dirty page of the file: fdatasync writes back the whole file`,
    async (t) => {
      const { file, map, expected } = dirtyMap(t)
      try {
        await flush(map, { offset: 0, length: 8 * PAGE, durable: true })
        t.is(dirtyKb(file), 0, 'every page is clean, not only the 8 of the range')
        t.true(fs.readFileSync(file).equals(expected))
        await t.throwsAsync(async () => flush(map, { durable: 1 as unknown as boolean }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
      } finally {
        map.close()
      }
    },
  )

  test(`${name} with durable: true needs the descriptor: ERR_MMAP_UNSUPPORTED with trackFile: false; a no-op on 'read' maps`, async (t) => {
    const dir = diskDir()
    const file = cleanFile(dir, 4 * PAGE, 'untracked.bin')
    const untracked = openSync(file, { mode: 'read-write', trackFile: false })
    const reader = openSync(file, { trackFile: false })
    try {
      await flush(untracked)
      await t.throwsAsync(async () => flush(untracked, { durable: true }), { code: 'ERR_MMAP_UNSUPPORTED' })
      await flush(reader, { durable: true })
      t.pass()
    } finally {
      untracked.close()
      reader.close()
    }
  })

  linuxOnly(test, '/proc/self/smaps')(`${name} of a range past the map is ERR_OUT_OF_RANGE and flushes nothing`, async (t) => {
    const { file, map } = dirtyMap(t)
    try {
      const length = PAGES * PAGE
      const bad: Range[] = [{ offset: 0, length: length + 1 }, { offset: length + 1 }, { offset: length - 10, length: 11 }, { offset: length, length: 1 }]
      for (const range of bad) {
        const error = await t.throwsAsync(async () => flush(map, range), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
        t.truthy(error?.message.includes('range'), error?.message)
      }
      t.is(dirtyKb(file), PAGES * 4, 'nothing was flushed')
      await flush(map, { offset: length, length: 0 }) // an empty range at the end is in range
      t.is(dirtyKb(file), PAGES * 4)
    } finally {
      map.close()
    }
  })
}

linuxOnly(test, 'mkfifo, /proc/self/task/<tid>/wchan, /proc/self/smaps')(
  'open() and flush() wait on the libuv thread pool, not the event loop, and an aborted signal rejects with AbortError',
  (t) => {
    const dir = diskDir()
    t.not(fs.statfsSync(dir).type, TMPFS_MAGIC)
    const file = cleanFile(dir, 4 * PAGE)
    const fifo = path.join(dir, 'fifo')
    execFileSync('mkfifo', [fifo])
    const code = String.raw`
    const fs = require('fs')
    const { open, openSync } = require(process.env.MEMMAP_ROOT)
    const { FIFO, FILE } = process.env
    const turn = () => new Promise((resolve) => setImmediate(resolve))
    const track = (promise) => {
      const s = { settled: false, promise }
      promise.then((v) => { s.settled = true; s.value = v }, (e) => { s.settled = true; s.error = e })
      return s
    }
    const abortInfo = (s) => ({ settled: s.settled, isError: s.error instanceof Error, name: s.error && s.error.name, code: s.error && s.error.code })
    const smaps = () => fs.readFileSync('/proc/self/smaps', 'utf8')
    const mapsOf = (file) => fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.endsWith(' ' + file))
    ;(async () => {
      const out = {}
      // The only pool thread now blocks in open(2) until the FIFO has a writer. Wait until the
      // kernel shows it waiting there (wchan wait_for_partner), however long a loaded machine takes.
      const blocker = track(new Promise((res, rej) => fs.open(FIFO, 'r', (e, fd) => (e ? rej(e) : res(fd)))))
      const inFifoOpen = () => fs.readdirSync('/proc/self/task').some((tid) => {
        try { return fs.readFileSync('/proc/self/task/' + tid + '/wchan', 'utf8') === 'wait_for_partner' } catch { return false }
      })
      while (!inFifoOpen()) await turn()
      const writer = openSync(FILE, { mode: 'read-write' })
      writer.write(Buffer.from('flushed on the pool'), 5)
      out.smapsBefore = smaps()
      const opening = track(open(FILE))
      const flushing = track(writer.flush())
      const controller = new AbortController()
      const aborting = track(open(FILE, { signal: controller.signal }))
      const preAborted = track(open(FILE, { signal: AbortSignal.abort() }))
      await turn()
      out.preAborted = abortInfo(preAborted)
      controller.abort()
      await turn()
      out.aborted = abortInfo(aborting)
      for (let i = 0; i < 50; i++) await turn()
      out.pending = { blocker: !blocker.settled, opening: !opening.settled, flushing: !flushing.settled }
      // A non-blocking write open succeeds because a reader waits in open(2); it releases the pool.
      const w = fs.openSync(FIFO, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)
      const [fd, map, flushed] = await Promise.all([blocker.promise, opening.promise, flushing.promise])
      out.flushed = flushed === undefined
      out.smapsAfter = smaps()
      out.read = map.read(5, 19).toString()
      out.mapsOpen = mapsOf(FILE).length
      map.close()
      writer.close()
      fs.closeSync(fd)
      fs.closeSync(w)
      await fs.promises.stat(FILE) // queued behind the aborted open: that open has finished now
      await turn()
      out.mapsEnd = mapsOf(FILE)
      process.stdout.write(JSON.stringify(out))
    })().catch((e) => { console.error(e); process.exit(1) })
  `
    const r = runChild(code, { env: { UV_THREADPOOL_SIZE: '1', FIFO: fifo, FILE: fs.realpathSync(file) }, timeout: 120_000 })
    exitedCleanly(t, r)
    const out = JSON.parse(r.stdout)
    const abortError = { settled: true, isError: true, name: 'AbortError', code: 'ABORT_ERR' }
    t.deepEqual(out.preAborted, abortError, 'an already-aborted signal rejects at once')
    t.deepEqual(out.aborted, abortError, 'aborting rejects while the pool is still blocked')
    t.deepEqual(out.pending, { blocker: true, opening: true, flushing: true }, 'pending through 50 setImmediate turns')
    t.true(out.flushed)
    t.is(out.read, 'flushed on the pool')
    t.true(dirtyKb(file, out.smapsBefore) > 0, 'the write dirtied a page before the flush')
    t.is(dirtyKb(file, out.smapsAfter), 0, 'the pooled flush cleaned it')
    t.is(fs.readFileSync(file).subarray(5, 24).toString(), 'flushed on the pool')
    t.true(out.mapsOpen >= 2, `/proc/self/maps names the file for the two open maps (${out.mapsOpen} lines)`)
    t.deepEqual(out.mapsEnd, [], 'the map made for the aborted open() was closed')
  },
)
