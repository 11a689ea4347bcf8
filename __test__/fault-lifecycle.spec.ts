// Fault injection, the map's life against the runtime's (issue 10): GC racing close(), transfer()
// then close() on Node 22 and Bun (Node 24: close.spec.ts), resize() and close() of the file's
// other maps while open() is queued, process exit with maps and tasks in flight, and
// worker.terminate() while the worker holds maps and tasks. Each in a child whose exit status and
// signal are asserted; the oracles are node:fs and the child's /proc/self/maps and /proc/self/fd.
// flush/indexOfAsync/prefetch racing close() and resize(): safety-promises.spec.ts and
// prefetch.spec.ts, and the model-based test (model.spec.ts, its 'race' operation).
import * as fs from 'node:fs'
import test from 'ava'

import { child, exitedCleanly } from './fault-child'
import { runtimeBinary, sha256, tempDir, tempFile } from './helpers'

const PAGE = 4096
const MIB = 1 << 20
const dir = tempDir('memmap-lifecycle-')
let count = 0
const newFile = (data: Buffer | number) => tempFile(data, `f${count++}.bin`, dir)

/** gc and a turn until `done()` or 200 rounds: finalizers run when V8 gets to them. */
const SETTLE = `
  const settle = async (done) => {
    for (let i = 0; i < 200 && !done(); i++) { collect(); await new Promise((r) => setTimeout(r, 5)) }
    return done()
  }
`

test('5,000 maps whose views and maps are collected before, during and after close() in a seeded order leave no mapping or descriptor and never crash (child, --expose-gc)', (t) => {
  const file = newFile(4 * PAGE)
  const r = child<{ closed: number; dropped: number; end: object; liveMaps: number }>(
    `${SETTLE}
    process.on('warning', () => {})
    let seed = 12345
    const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return Math.floor(seed / 65536) % n }
    let keep = []
    let closed = 0, dropped = 0
    for (let i = 0; i < 5000; i++) {
      const map = memmap.openSync(file, { mode: ['read', 'read-write', 'copy-on-write'][rand(3)], offset: rand(2) ? 0 : 4097 })
      let views = [map.bytes, map.view(Float64Array, (8 - (map.offset % 8)) % 8), map.dataView(3, 8), map.view(Buffer, 1, 2)]
      if (rand(8) === 0) collect()
      switch (rand(4)) {
        case 0: views = null; collect(); map.close(); closed++; break
        case 1: map.close(); closed++; views = null; break
        case 2: keep.push(views); map.close(); closed++; break // views outlive the map
        case 3: dropped++; break // never closed: collected with its views
      }
      if (keep.length > 64) { keep = []; if (rand(2)) collect() }
    }
    keep = []
    const gone = await settle(() => { const e = fileEntries(); return e.maps === 0 && e.fds === 0 && memmap.stats().liveMaps === 0 })
    return { closed, dropped, gone, end: fileEntries(), liveMaps: memmap.stats().liveMaps }
  `,
    { file },
  )
  exitedCleanly(t, r)
  t.true(r.out.closed > 2500 && r.out.dropped > 750, JSON.stringify(r.out))
  t.deepEqual(r.out.end, { maps: 0, fds: 0 })
  t.is(r.out.liveMaps, 0)
})

for (const runtime of ['node22', 'bun'] as const) {
  test(`on ${runtime}, close() after buffer.transfer() releases the file; the moved buffer reads zeros, writes to it never reach the file, and collecting it ends cleanly (child)`, (t) => {
    const file = newFile(Buffer.alloc(4 * PAGE, 0x5a))
    const hash = sha256(file)
    const r = child<Record<string, unknown>>(
      `${SETTLE}
      const map = memmap.openSync(file, { mode: 'read-write' })
      let moved = map.buffer.transfer()
      let view = map.view(Uint8Array, Number(process.env.PAGE_SIZE), 16)
      let movedView = view.buffer.transfer()
      const before = new Uint8Array(moved)[0]
      map.close()
      const afterClose = fileEntries()
      let u8 = new Uint8Array(moved)
      const zeros = u8.every((b) => b === 0) && new Uint8Array(movedView).every((b) => b === 0)
      u8[0] = 1
      u8[100] = 2
      const readBack = u8[100]
      moved = u8 = view = movedView = null
      const unmapped = await settle(() => memmap.stats().liveMaps === 0)
      return { runtime: process.versions.bun ? 'bun' : process.version.split('.')[0], before, afterClose, zeros, readBack, unmapped }
    `,
      { file, node: runtimeBinary(runtime), args: runtime === 'bun' ? [] : ['--expose-gc'], env: { PAGE_SIZE: String(PAGE) } },
    )
    exitedCleanly(t, r)
    t.deepEqual(r.out, { runtime: runtime === 'bun' ? 'bun' : 'v22', before: 0x5a, afterClose: { maps: 0, fds: 0 }, zeros: true, readBack: 2, unmapped: true })
    t.is(sha256(file), hash, 'the file never saw the writes to the moved buffer')
  })
}

test('resize() and close() of the other maps of a file while open() waits on the thread pool: open() maps the file as it is when it runs (child)', (t) => {
  const file = newFile(Buffer.alloc(16 * PAGE, 0x21))
  const r = child<Record<string, unknown>>(
    `
    const other = memmap.openSync(file, { mode: 'read-write' })
    const reader = memmap.openSync(file)
    await new Promise((resolve) => setImmediate(resolve))
    require('node:crypto').pbkdf2(Buffer.alloc(8), Buffer.alloc(8), 200000, 32, 'sha256', () => {})
    const ac = new AbortController()
    const pending = memmap.open(file, { mode: 'read-write' })
    const aborted = rejected(memmap.open(file, { signal: ac.signal }))
    ac.abort()
    other.resize(2 * 4096)
    other.write(Buffer.from('shrunk'), 0)
    other.close()
    reader.close()
    const map = await pending
    const out = { length: map.length, head: map.read(0, 6).toString(), aborted: (await aborted)?.code }
    map.close()
    // The aborted open() settled at once, but its pool job still opens the file and closes what it
    // opened when it completes; with one pool thread a stat queued now completes after it.
    await fs.promises.stat(file)
    out.end = await (async () => { for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r)); return fileEntries() })()
    return out
  `,
    { file, env: { UV_THREADPOOL_SIZE: '1' } },
  )
  exitedCleanly(t, r)
  t.deepEqual(r.out, { length: 2 * PAGE, head: 'shrunk', aborted: 'ABORT_ERR', end: { maps: 0, fds: 0 } })
  t.is(fs.statSync(file).size, 2 * PAGE)
})

for (const how of ['process.exit(0)', 'the event loop running dry', 'an uncaught exception'] as const) {
  test(`${how} with maps open and flush, indexOfAsync, prefetch and open in flight ends the process cleanly, and stores through a 'read-write' map reach the file (child)`, (t) => {
    const file = newFile(64 * MIB)
    const r = child<null>(
      `
      const rw = memmap.openSync(file, { mode: 'read-write' })
      rw.bytes.fill(0x42, 0, 8 * 1048576)
      const read = memmap.openSync(file)
      const pending = [rw.flush(), read.indexOfAsync(0x43), read.prefetch(), memmap.open(file), rw.indexOfAsync('absent')]
      for (const p of pending) p.catch(() => {})
      const unclosed = memmap.openSync(file, { mode: 'copy-on-write' })
      unclosed.bytes[0] = 1
      process.stdout.write('in flight\\n')
      if (process.env.HOW === 'process.exit(0)') process.exit(0)
      if (process.env.HOW === 'an uncaught exception') setImmediate(() => { throw new Error('boom') })
      return null
    `,
      { file, env: { HOW: how } },
    )
    if (how === 'an uncaught exception') {
      t.deepEqual([r.status, r.signal], [1, null], `child exited ${r.status} by ${r.signal}: ${r.stderr.slice(-2000)}`)
      t.regex(r.stderr, /boom/)
    } else {
      exitedCleanly(t, r)
    }
    t.notRegex(r.stderr, /SIGSEGV|SIGBUS|panicked|Abort|FATAL/i)
    const head = Buffer.alloc(8 * MIB)
    const fd = fs.openSync(file, 'r')
    fs.readSync(fd, head, 0, head.length, 0)
    fs.closeSync(fd)
    t.true(head.equals(Buffer.alloc(8 * MIB, 0x42)), 'the shared stores are in the file')
  })
}

test('worker.terminate() while the worker holds maps and runs indexOfAsync, prefetch and flush leaves the process running, and every mapping and descriptor of the file is released (child)', (t) => {
  const file = newFile(64 * MIB)
  const r = child<Record<string, unknown>>(
    `${SETTLE}
    const { Worker } = require('node:worker_threads')
    const source = \`
      const memmap = require(process.env.MEMMAP_ROOT)
      const { parentPort } = require('node:worker_threads')
      const file = process.env.FILE
      const maps = [memmap.openSync(file), memmap.openSync(file, { mode: 'read-write' }), memmap.openSync(file, { offset: 4097 })]
      maps[1].bytes.fill(7, 0, 1 << 20)
      const view = maps[0].view(Float64Array)
      const loop = async (m) => { for (;;) { await m.indexOfAsync(0xee); await m.prefetch(); await m.flush() } }
      for (const m of maps) loop(m).catch(() => {})
      parentPort.postMessage(view.length)
    \`
    const results = []
    for (let round = 0; round < 5; round++) {
      const worker = new Worker(source, { eval: true })
      const length = await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject) })
      const during = fileEntries()
      const code = await worker.terminate()
      results.push({ length, during: during.maps > 0 && during.fds > 0, code })
    }
    const released = await settle(() => { const e = fileEntries(); return e.maps === 0 && e.fds === 0 })
    const mine = memmap.openSync(file)
    const stillWorks = mine.read(0, 1)[0]
    mine.close()
    return { results, released, end: fileEntries(), stillWorks }
  `,
    { file },
  )
  exitedCleanly(t, r)
  const one = { length: (64 * MIB) / 8, during: true, code: 1 }
  t.deepEqual(r.out, { results: [one, one, one, one, one], released: true, end: { maps: 0, fds: 0 }, stillWorks: 7 })
})
