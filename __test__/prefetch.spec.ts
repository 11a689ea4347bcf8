// prefetch(range?, { signal }) pages a range in on the thread pool. Oracles: the
// kernel's own accounting of the mapping (/proc/self/smaps: Rss, and Anonymous for private copies)
// beside residency(); a file made cold first with python3's os.posix_fadvise(POSIX_FADV_DONTNEED).
// close() during a prefetch and a file truncated under one run in child processes.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'

import { openSync } from '..'
import { exitedCleanly, runChild } from './child'
import { tempDir } from './helpers'

const KIB = 1024
const MIB = 1 << 20

/** A file of `size` random bytes, fsynced (so its pages are clean and can be evicted). */
function dataFile(size: number, name = 'data.bin'): string {
  const file = path.join(tempDir('memmap-prefetch-'), name)
  const fd = fs.openSync(file, 'w')
  fs.writeSync(fd, randomBytes(size))
  fs.fsyncSync(fd)
  fs.closeSync(fd)
  return file
}

/** Drops the file's pages from the page cache, as the benchmark does. */
function evict(file: string): void {
  execFileSync('python3', ['-c', 'import os,sys\nfd=os.open(sys.argv[1],os.O_RDONLY)\nos.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED)\nos.close(fd)', file])
}

/** Rss and Anonymous (private copies) in bytes of this process's mappings of `file`, from /proc/self/smaps. */
function smaps(file: string): { rss: number; anonymous: number } {
  const real = fs.realpathSync(file)
  let inFile = false
  const total = { rss: 0, anonymous: 0 }
  for (const line of fs.readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inFile = line.endsWith(` ${real}`)
    else if (inFile) {
      const m = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line)
      if (m) total[m[1] === 'Rss' ? 'rss' : 'anonymous'] += Number(m[2]) * KIB
    }
  }
  return total
}

test("prefetch() of a cold file resolves with every page resident and mapped, and no private copy on a 'read' map", async (t) => {
  const size = 8 * MIB + 123
  const file = dataFile(size)
  evict(file)
  using map = openSync(file)
  const before = map.residency()
  t.log('before', before, smaps(file))
  t.true(before.exact, 'this process owns the file, so mincore reports the page cache')
  t.true(before.resident < before.total / 2, `the file was evicted first (${before.resident} of ${before.total} pages resident)`)
  t.is(smaps(file).rss, 0, 'nothing of a fresh map is mapped in yet')
  await map.prefetch()
  const after = map.residency()
  const kernel = smaps(file)
  t.log('after', after, kernel)
  t.deepEqual(after, { resident: after.total, total: Math.ceil(size / 4096), exact: true })
  t.true(kernel.rss >= size, `the kernel maps every page of the range in (Rss ${kernel.rss})`)
  t.is(kernel.anonymous, 0, 'read faults only: no page was copied into private memory')
  t.true(map.read(size - 100, 100).equals(fs.readFileSync(file).subarray(size - 100)), "the bytes are the file's")
})

test('prefetch(range) pages in that range: residency(range) is full, and the map shows less than the whole file', async (t) => {
  const file = dataFile(16 * MIB)
  evict(file)
  using map = openSync(file)
  const range = { offset: 4 * MIB + 100, length: 2 * MIB }
  await map.prefetch(range)
  const r = map.residency(range)
  t.is(r.resident, r.total)
  const { rss } = smaps(file)
  t.true(rss >= 2 * MIB && rss < 16 * MIB, `Rss ${rss}`)
})

test('prefetch() of an empty map or a zero-length range resolves', async (t) => {
  const dir = tempDir('memmap-prefetch-')
  const empty = path.join(dir, 'empty.bin')
  fs.writeFileSync(empty, '')
  using none = openSync(empty)
  await t.notThrowsAsync(none.prefetch())
  using map = openSync(dataFile(10_000))
  await t.notThrowsAsync(map.prefetch({ offset: 10_000, length: 0 }))
  await t.notThrowsAsync(map.prefetch({ offset: 5000 }))
})

test("prefetch() with an already-aborted signal rejects with name 'AbortError', code 'ABORT_ERR' and the reason as cause", async (t) => {
  using map = openSync(dataFile(MIB))
  const reason = new Error('not now')
  const e = await t.throwsAsync(map.prefetch(undefined, { signal: AbortSignal.abort(reason) }), { instanceOf: Error, name: 'AbortError', code: 'ABORT_ERR' })
  t.is(e?.cause, reason)
  await t.notThrowsAsync(map.prefetch(undefined, { signal: new AbortController().signal }), 'a signal that never aborts changes nothing')
})

test('aborting a pending prefetch() rejects it with ABORT_ERR at once, and the map stays usable', async (t) => {
  const file = dataFile(64 * MIB)
  evict(file)
  using map = openSync(file)
  const controller = new AbortController()
  const pending = map.prefetch(undefined, { signal: controller.signal })
  setImmediate(() => controller.abort())
  await t.throwsAsync(pending, { instanceOf: Error, name: 'AbortError', code: 'ABORT_ERR' })
  await map.prefetch({ offset: 0, length: MIB })
  const r = map.residency({ offset: 0, length: MIB })
  t.is(r.resident, r.total, 'a later prefetch works')
})

test('prefetch() range and option errors carry codes and reject before any work', async (t) => {
  using map = openSync(dataFile(10_000))
  const cases: [unknown, unknown, string, RegExp][] = [
    [{ offset: 10_001 }, undefined, 'ERR_OUT_OF_RANGE', /^Expected `range\.offset` to be at most 10000, got 10001 \(number\)$/],
    [{ offset: 0, length: 10_001 }, undefined, 'ERR_OUT_OF_RANGE', /^Expected `range\.length` to be at most 10000 /],
    [
      { offset: 9000, length: 1001 },
      undefined,
      'ERR_OUT_OF_RANGE',
      /^Expected `range\.length` to be at most 1000 \(the map's 10000 bytes from range\.offset 9000\), got 1001 \(number\)$/,
    ],
    [{ offset: -1 }, undefined, 'ERR_OUT_OF_RANGE', /`range\.offset`/],
    [{ offset: 1.5 }, undefined, 'ERR_OUT_OF_RANGE', /`range\.offset`/],
    [{ offset: '1' }, undefined, 'ERR_INVALID_ARG_TYPE', /`range\.offset`/],
    [{ length: -2n }, undefined, 'ERR_OUT_OF_RANGE', /`range\.length`/],
    [5, undefined, 'ERR_INVALID_ARG_TYPE', /`range`/],
    [undefined, 5, 'ERR_INVALID_ARG_TYPE', /`options`/],
    [undefined, { signal: {} }, 'ERR_INVALID_ARG_TYPE', /`options\.signal`/],
  ]
  for (const [range, options, code, message] of cases) {
    const Class = code === 'ERR_OUT_OF_RANGE' ? RangeError : TypeError
    await t.throwsAsync(
      map.prefetch(range as never, options as never),
      { instanceOf: Class, code, message },
      JSON.stringify({ range, options }, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)),
    )
  }
  map.close()
  await t.throwsAsync(map.prefetch(), { code: 'ERR_MMAP_CLOSED' })
})

test('close() during a pending prefetch() does not crash, and no mapping is left once it settles (child)', (t) => {
  const file = dataFile(256 * MIB)
  evict(file)
  const code = `
    const fs = require('node:fs')
    const { openSync, stats } = require(process.env.MEMMAP_ROOT)
    const file = ${JSON.stringify(fs.realpathSync(file))}
    const maps = () => fs.readFileSync('/proc/self/maps', 'utf8').split('\\n').filter(Boolean)
    const before = stats().liveMaps
    const map = openSync(file)
    // libuv's only pool thread is kept busy (UV_THREADPOOL_SIZE=1), so the prefetch is still
    // pending when close() runs, whatever the machine's load.
    require('node:crypto').pbkdf2(Buffer.alloc(8), Buffer.alloc(8), 400000, 32, 'sha256', () => {})
    const pending = map.prefetch()
    // The map's first address: while the task holds the pages it lies in the file's mapping,
    // and once the task ended and the pages were unmapped, in none.
    const start = BigInt('0x' + maps().find((l) => l.endsWith(' ' + file)).split('-')[0])
    const holder = () => maps().find((l) => { const [a, b] = l.split(' ')[0].split('-').map((x) => BigInt('0x' + x)); return a <= start && start < b })
    let closeError
    try { map.close() } catch (e) { closeError = e.code }
    const look = () => ({ live: stats().liveMaps, file: maps().filter((l) => l.endsWith(' ' + file)).length, range: holder() === undefined ? 'unmapped' : holder().trim().split(/ +/).length > 5 ? 'file' : 'anonymous' })
    const during = look()
    pending.then(() => ({ fulfilled: true }), (e) => ({ fulfilled: false, code: e.code })).then((outcome) => {
      process.stdout.write(JSON.stringify({ outcome, closeError, before, during, after: look(), closed: map.closed }))
    })
  `
  const r = runChild(code, { timeout: 120_000, env: { UV_THREADPOOL_SIZE: '1' } })
  exitedCleanly(t, r)
  type Look = { live: number; file: number; range: string }
  const o = JSON.parse(r.stdout) as {
    outcome: { fulfilled: boolean; code?: string }
    closeError?: string
    before: number
    during: Look
    after: Look
    closed: boolean
  }
  t.log(o)
  t.is(o.closeError, undefined, 'close() during the prefetch does not throw')
  t.true(o.closed)
  t.true(o.outcome.fulfilled || o.outcome.code === 'ERR_MMAP_CLOSED', JSON.stringify(o.outcome))
  // Bun runs Node-API tasks on a pool of its own, so there the task may have ended already.
  const ended = { live: o.before, file: 0, range: 'unmapped' }
  if (!process.versions.bun || o.during.file === 1) {
    t.deepEqual(o.during, { live: o.before + 1, file: 1, range: 'file' }, "while the task runs, its pages stay the file's (SPEC §4.1)")
  } else t.deepEqual(o.during, ended)
  t.deepEqual(
    o.after,
    { live: o.before, file: 0, range: 'unmapped' },
    'once the prefetch settles the range is unmapped and stats().liveMaps is back where it was',
  )
})

test('prefetch() of a file truncated under the map rejects with ERR_MMAP_TRUNCATED instead of faulting (child)', (t) => {
  const file = dataFile(64 * KIB)
  const code = `
    const fs = require('node:fs')
    const { openSync } = require(process.env.MEMMAP_ROOT)
    const map = openSync(${JSON.stringify(file)})
    fs.truncateSync(${JSON.stringify(file)}, 8192)
    const settle = (p) => p.then(() => 'resolved', (e) => e.code)
    Promise.all([settle(map.prefetch()), settle(map.prefetch({ offset: 0, length: 8192 }))]).then(([whole, below]) => {
      map.close()
      process.stdout.write(JSON.stringify({ whole, below }))
    })
  `
  const r = runChild(code)
  exitedCleanly(t, r)
  t.deepEqual(JSON.parse(r.stdout), { whole: 'ERR_MMAP_TRUNCATED', below: 'resolved' })
})
