// Regressions at the edges of the API (SPEC §3, §4.1, §5): each test is named for what broke.
// Views after transfer(), empty maps, remap() to the same size, warnings of maps a worker's
// neighbour dropped, argument errors shaped one way with the value as given, hostile views and
// constructors, an aborted signal. Oracles: node:fs, Buffer, the child's exit status.
import * as fs from 'node:fs'
import { getSystemErrorMap } from 'node:util'
import { pathToFileURL } from 'node:url'
import test from 'ava'

import * as memmap from '..'
import { allocate, openSync } from '..'
import { exitedCleanly, runChild } from './child'
import { runtimeBinary, tempDir, tempFile } from './helpers'

const PAGE = 4096
const dir = tempDir('memmap-edges-')
let count = 0
const newFile = (data: Buffer | number) => tempFile(data, `f${count++}.bin`, dir)

/** What `fn` throws: its class, code and message (or null). */
function thrown(fn: () => unknown): { name: string; code: unknown; message: string } | null {
  try {
    fn()
    return null
  } catch (e) {
    const error = e as Error & { code?: unknown }
    return { name: error.name, code: error.code, message: error.message }
  }
}

test('after view.buffer.transfer(), view(), dataView() and buffer build new buffers over the map instead of throwing or returning a detached one (Node 24 child)', (t) => {
  const file = newFile(Buffer.from('0123456789abcdef'.repeat(256)))
  const node = 'transfer' in ArrayBuffer.prototype ? process.execPath : runtimeBinary('node24')
  const r = runChild(
    `
    const memmap = require(process.env.MEMMAP_ROOT)
    const map = memmap.openSync(process.env.FILE, { offset: 3 })
    const moved = map.view(Uint8Array, 5, 4).buffer.transfer()
    const whole = map.buffer.transfer()
    const out = {
      view: Buffer.from(map.view(Uint8Array, 5, 4)).toString(),
      dataView: map.dataView(1, 2).getUint8(0),
      buffer: map.buffer.byteLength,
      bytes: Buffer.from(map.bytes.subarray(0, 3)).toString(),
      moved: moved.byteLength > 0 && whole.byteLength > 0,
    }
    map.close()
    process.stdout.write(JSON.stringify(out))
  `,
    { runtime: node, env: { FILE: file } },
  )
  exitedCleanly(t, r)
  t.deepEqual(JSON.parse(r.stdout), { view: '89ab', dataView: '4'.charCodeAt(0), buffer: 4096 - 3, bytes: '345', moved: true })
})

test('views of an empty map at an unaligned offset are detached by close()', (t) => {
  const file = newFile(16)
  const map = openSync(file, { offset: 3, length: 0 })
  const views = [map.view(Uint8Array), map.bytes, map.dataView()]
  const before = views.map((v) => v.buffer.byteLength)
  map.close()
  t.deepEqual(before, [3, 0, 3])
  t.deepEqual(
    views.map((v) => v.buffer.byteLength),
    [0, 0, 0],
  )
})

test("a view's .buffer of a map at an unaligned offset starts offset % 8 bytes before the map (the documented prefix); map.buffer starts exactly at the offset", (t) => {
  const data = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ'.repeat(200))
  const file = newFile(data)
  using map = openSync(file, { offset: 4099 })
  const view = map.view(Uint8Array, 1, 4)
  t.is(view.byteOffset, (4099 % 8) + 1)
  t.is(Buffer.from(view.buffer, 0, 4099 % 8).toString(), data.subarray(4096, 4099).toString(), 'the prefix holds the file bytes before the offset')
  t.is(map.buffer.byteLength, data.length - 4099)
  t.is(Buffer.from(map.buffer, 0, 3).toString(), data.subarray(4099, 4102).toString())
})

test('remap() to an unchanged size detaches the old views, and map.buffer is then the one buffer over the pages', (t) => {
  const file = newFile(Buffer.alloc(2 * PAGE, 5))
  using map = openSync(file)
  const old = map.view(Uint8Array)
  const oldBuffer = map.buffer
  t.is(map.remap(), 2 * PAGE)
  t.is(old.length, 0, 'the old view is detached')
  t.is(oldBuffer.byteLength, 0, 'the old buffer is detached')
  t.not(map.buffer, oldBuffer)
  t.is(map.bytes[0], 5)
})

test('a map dropped without close() on the main thread warns there (MEMMAP_UNCLOSED), also when a worker loaded memmap first (child)', (t) => {
  const file = newFile(PAGE)
  const r = runChild(
    `
    const { Worker } = require('node:worker_threads')
    const worker = new Worker('require(process.env.MEMMAP_ROOT); require("node:worker_threads").parentPort.postMessage("loaded"); setInterval(() => {}, 1000)', { eval: true })
    worker.once('message', () => {
      const memmap = require(process.env.MEMMAP_ROOT)
      let warned = null
      process.on('warning', (w) => { if (w.code === 'MEMMAP_UNCLOSED') warned = w.message })
      ;(() => { memmap.openSync(process.env.FILE) })()
      let turns = 0
      const collect = globalThis.gc ?? (() => Bun.gc(true))
      const tick = () => {
        collect()
        if (warned !== null || ++turns > 200) {
          process.stdout.write(JSON.stringify({ warned }))
          worker.terminate()
        } else setImmediate(tick)
      }
      tick()
    })
  `,
    { args: process.versions.bun ? [] : ['--expose-gc'], env: { FILE: file } },
  )
  exitedCleanly(t, r)
  const { warned } = JSON.parse(r.stdout) as { warned: string | null }
  t.true(warned?.includes(file), `warned: ${warned}`)
})

test('a file: URL containing %00 is ERR_INVALID_ARG_VALUE, as node:fs says', (t) => {
  const url = new URL(`${pathToFileURL(dir).href}/a%00b`)
  const ours = thrown(() => openSync(url))
  const fsError = thrown(() => fs.openSync(url, 'r'))
  t.is(ours?.code, 'ERR_INVALID_ARG_VALUE')
  t.is(ours?.code, fsError?.code)
  t.is(ours?.name, fsError?.name)
})

test("a directory descriptor is EISDIR from 'fstat', not 'open' (nothing was opened)", (t) => {
  const fd = fs.openSync(dir, 'r')
  t.teardown(() => fs.closeSync(fd))
  const error = t.throws(() => openSync(fd)) as Error & { code: string; syscall: string; errno: number }
  // EISDIR's number is the platform's, as libuv's table (node:util) gives it: -21 on Linux, -4068 on Windows.
  const errno = [...getSystemErrorMap()].find(([, [name]]) => name === 'EISDIR')?.[0]
  t.like(error, { code: 'EISDIR', syscall: 'fstat', errno, message: 'EISDIR: illegal operation on a directory, fstat' })
})

test('offset: -0 gives map.offset 0, not -0', (t) => {
  using map = openSync(newFile(PAGE), { offset: -0 })
  t.true(Object.is(map.offset, 0))
})

test("argument errors read one way, in the caller's names, units and values, from JS and from native checks", (t) => {
  const file = newFile(8192)
  using map = openSync(file)
  const cases: [() => unknown, string, string][] = [
    [
      () => openSync(file, { offset: 9007199254740991 }),
      'ERR_OUT_OF_RANGE',
      'Expected `offset` to be at most the file size 8192, got 9007199254740991 (number)',
    ],
    [() => openSync(file, { offset: 10000n }), 'ERR_OUT_OF_RANGE', 'Expected `offset` to be at most the file size 8192, got 10000n (bigint)'],
    [
      () => openSync(file, { offset: 4096, length: 4097 }),
      'ERR_OUT_OF_RANGE',
      'Expected `length` to be at most 4096 (the file size 8192 from offset 4096), got 4097 (number)',
    ],
    [() => map.read(8192, 1), 'ERR_OUT_OF_RANGE', "Expected `length` to be at most 0 (the map's 8192 bytes from byteOffset 8192), got 1 (number)"],
    [() => map.read(8193n, 0), 'ERR_OUT_OF_RANGE', 'Expected `byteOffset` to be at most 8192, got 8193n (bigint)'],
    [
      () => map.view(Int32Array, 4096, 1025),
      'ERR_OUT_OF_RANGE',
      "Expected `length` to be at most 1024 elements of 4 bytes (the map's 8192 bytes from byteOffset 4096), got 1025 (number)",
    ],
    [() => map.indexOf(1, 2n ** 60n), 'ERR_OUT_OF_RANGE', 'Expected `fromOffset` to be a safe integer, got 1152921504606846976n (bigint)'],
    [
      () => map.flushSync({ offset: 1, length: 8192 }),
      'ERR_OUT_OF_RANGE',
      "Expected `range.length` to be at most 8191 (the map's 8192 bytes from range.offset 1), got 8192 (number)",
    ],
  ]
  for (const [fn, code, message] of cases) {
    t.like(thrown(fn), { name: 'RangeError', code, message })
  }
})

test('hostile TypedArray subclasses and a patched Symbol.hasInstance get documented codes, not V8 or napi-rs errors', (t) => {
  const file = newFile(Buffer.alloc(PAGE, 1))
  using map = openSync(file, { mode: 'read-write' })
  class Lying extends Uint8Array {
    static override readonly BYTES_PER_ELEMENT = 3
  }
  t.is(map.view(Lying, 1, 2).length, 2, 'the element size comes from the intrinsic, not the subclass')
  class Refusing extends Float64Array {
    constructor(...args: unknown[]) {
      if (args.length > 0) throw new Error('no')
      super()
    }
  }
  t.like(
    thrown(() => map.view(Refusing, 8, 1)),
    { code: 'ERR_INVALID_ARG_VALUE' },
  )
  t.like(
    thrown(() => map.view(Object as never)),
    { code: 'ERR_INVALID_ARG_TYPE' },
  )
  const original = Object.getOwnPropertyDescriptor(Uint8Array, Symbol.hasInstance)
  Object.defineProperty(Uint8Array, Symbol.hasInstance, { value: () => true, configurable: true })
  try {
    const fake = { byteLength: 4, length: 4, buffer: new ArrayBuffer(4), byteOffset: 0 }
    t.like(
      thrown(() => map.readInto(fake as never)),
      { code: 'ERR_INVALID_ARG_TYPE' },
    )
    t.like(
      thrown(() => map.write(fake as never)),
      { code: 'ERR_INVALID_ARG_TYPE' },
    )
    t.like(
      thrown(() => map.indexOf(fake as never)),
      { code: 'ERR_INVALID_ARG_TYPE' },
    )
  } finally {
    if (original) Object.defineProperty(Uint8Array, Symbol.hasInstance, original)
    else delete (Uint8Array as { [Symbol.hasInstance]?: unknown })[Symbol.hasInstance]
  }
  const lyingView = new Uint8Array(8)
  Object.defineProperty(lyingView, 'byteLength', { value: 1 << 30 })
  t.is(map.readInto(lyingView, 0), 8, 'the intrinsic byteLength, not an own property, sizes the copy')
})

test('openSync() refuses an aborted signal with ABORT_ERR; protect() works on allocate() maps; _counters is not public', (t) => {
  const file = newFile(PAGE)
  t.like(
    thrown(() => openSync(file, { signal: AbortSignal.abort() } as never)),
    { name: 'AbortError', code: 'ABORT_ERR' },
  )
  using anon = allocate(PAGE)
  anon.protect('read')
  t.like(
    thrown(() => anon.write(Buffer.from('x'))),
    { code: 'ERR_MMAP_READ_ONLY' },
  )
  anon.protect('read-write')
  t.is(anon.write(Buffer.from('x')), 1)
  t.false('_counters' in memmap)
})
