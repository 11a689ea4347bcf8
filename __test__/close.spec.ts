// close() (SPEC §3, §4.1): every view the map made is detached, every method and accessor but
// `closed`, `length`, `offset`, `path` and `mode` throws ERR_MMAP_CLOSED, the file leaves
// /proc/self/maps and /proc/self/fd at once, `using` closes at the end of its block (downlevelled
// by esbuild and by the pinned typescript on Node 20, native on Node 24), and a buffer moved away
// by `transfer()` reads zeros instead of faulting. Whatever touches a view after close runs in a
// child process, and the test asserts its exit status and signal.
import * as fs from 'node:fs'
import * as path from 'node:path'
import test, { type ExecutionContext } from 'ava'
import * as ts from 'typescript'

import { openSync, stats, type Mode } from '..'
import { child, type ChildOptions } from './child'
import { linuxOnly, mapsLines, procSelf, ROOT, runtimeBinary, sha256, tempDir, tempFile } from './helpers'

const MODES: readonly Mode[] = ['read', 'read-write', 'copy-on-write']
const TYPED_ARRAYS = [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  ...('Float16Array' in globalThis ? ['Float16Array'] : []),
]

const dir = tempDir('memmap-close-')
let fileCount = 0
/** A new file of `size` random bytes in this spec's temp dir. */
function newFile(size = 4096): string {
  return tempFile(size, `file-${fileCount++}.bin`, dir)
}

/** Descriptors of this process open on `file` (entries of /proc/self/fd that link to it). */
function fdsOn(file: string): string[] {
  const real = fs.realpathSync(file)
  return fs.readdirSync(procSelf('fd')).filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === real
    } catch {
      return false
    }
  })
}

/** What a child reports of an error: its class, `code` and message. */
interface Thrown {
  name: string
  code: unknown
  message: string
}

/** Runs a script file in a child (as `require(script)`); see `child` in ./child. */
function childScript<T>(t: ExecutionContext, script: string, opts: ChildOptions): T {
  return child<T>(t, `require(${JSON.stringify(script)})`, opts)
}

interface Extent {
  byteLength: number
  length: number | null
  bufferByteLength: number
}

interface EveryView {
  mapsBefore: number | null
  mapsAfter: number | null
  fdsAfter: number | null
  views: { name: string; before: Extent; matchesFile: boolean; after: Extent }[]
}

/** A child takes every kind of view of a new file, closes the map and reports the views (and, on Linux, /proc's mappings and descriptors). */
function closeWithEveryView(t: ExecutionContext, mode: Mode): EveryView {
  const file = newFile(4096)
  return child<EveryView>(
    t,
    `
      const TYPES = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
        Float32Array, Float64Array, BigInt64Array, BigUint64Array, ...(globalThis.Float16Array ? [Float16Array] : [])]
      const extent = (v) => ({
        byteLength: v.byteLength,
        length: v instanceof ArrayBuffer ? null : v.length ?? null,
        bufferByteLength: v instanceof ArrayBuffer ? v.byteLength : v.buffer.byteLength,
      })
      const onDisk = fs.readFileSync(file)
      const bytesOf = (v) => v instanceof ArrayBuffer ? Buffer.from(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength)
      const map = memmap.openSync(file, { mode: process.env.MAP_MODE })
      const views = [
        ['buffer', map.buffer],
        ['bytes', map.bytes],
        ...TYPES.map((Type) => [Type.name, map.view(Type)]),
        ['Buffer.from(map.buffer)', Buffer.from(map.buffer)],
        ['view(Buffer)', map.view(Buffer)],
      ].map(([name, v]) => ({ name, v, before: extent(v), matchesFile: bytesOf(v).equals(onDisk) }))
      const linux = process.platform === 'linux'
      const mapsBefore = linux ? fileMaps().length : null
      map.close()
      report({
        mapsBefore,
        mapsAfter: linux ? fileMaps().length : null,
        fdsAfter: linux ? fileFds() : null,
        views: views.map(({ name, v, before, matchesFile }) => ({ name, before, matchesFile, after: extent(v) })),
      })
      `,
    { file, env: { MAP_MODE: mode } },
  )
}

for (const mode of MODES) {
  test(`close() detaches buffer, bytes, every TypedArray view and Buffer.from(map.buffer) taken before it ('${mode}')`, (t) => {
    const r = closeWithEveryView(t, mode)
    const expected = ['buffer', 'bytes', ...TYPED_ARRAYS, 'Buffer.from(map.buffer)', 'view(Buffer)']
    t.deepEqual(
      r.views.map((v) => v.name),
      expected,
    )
    for (const v of r.views) {
      t.is(v.before.byteLength, 4096, `${v.name} before close`)
      t.true(v.matchesFile, `${v.name} reads the file's bytes before close`)
      t.is(v.after.byteLength, 0, `${v.name}.byteLength after close`)
      t.is(v.after.bufferByteLength, 0, `${v.name}'s ArrayBuffer after close`)
      if (v.after.length !== null) t.is(v.after.length, 0, `${v.name}.length after close`)
    }
  })

  linuxOnly(test, '/proc/self/maps, /proc/self/fd')(
    `close() with every kind of view alive unmaps the file and closes its descriptor inside close() ('${mode}')`,
    (t) => {
      const r = closeWithEveryView(t, mode)
      t.is(r.views.length, 4 + TYPED_ARRAYS.length)
      t.is(r.mapsBefore, 1)
      t.is(r.mapsAfter, 0, 'the file is unmapped inside close()')
      t.is(r.fdsAfter, 0, "the map's descriptor is closed inside close()")
    },
  )
}

test('a DataView taken before close() throws TypeError on every access after it', (t) => {
  const file = newFile(4096)
  const r = child<{ before: number; expected: number; get: Thrown | null; set: Thrown | null; getBig: Thrown | null; byteLength: Thrown | null }>(
    t,
    `
    const map = memmap.openSync(file)
    const dv = map.dataView(8, 64)
    const before = dv.getUint32(0, true)
    map.close()
    report({
      before,
      expected: fs.readFileSync(file).readUInt32LE(8),
      get: thrown(() => dv.getUint8(0)),
      set: thrown(() => dv.setUint8(0, 1)),
      getBig: thrown(() => dv.getBigUint64(0)),
      byteLength: thrown(() => dv.byteLength),
    })
    `,
    { file },
  )
  t.is(r.before, r.expected)
  for (const access of ['get', 'set', 'getBig', 'byteLength'] as const) {
    const e = r[access]
    t.like(e, { name: 'TypeError' }, access)
    t.regex(e?.message ?? '', /detached/, access)
  }
})

/** Every method and accessor that must throw ERR_MMAP_CLOSED once the map is closed. */
const AFTER_CLOSE = [
  'view(Uint8Array)',
  'view(Float64Array, 0, 1)',
  'view(Buffer)',
  'dataView()',
  'dataView(0, 4)',
  'read(0, 1)',
  'readInto(Buffer.alloc(1), 0)',
  'write(Buffer.from([1]), 0)',
  'flushSync()',
  'flushSync({ offset: 0, length: 1 })',
  'buffer',
  'bytes',
  'fileSize',
  'strayWritesFault',
  'hugePages',
]

for (const mode of MODES) {
  test(`after close() every method and accessor throws ERR_MMAP_CLOSED and flush() rejects with it ('${mode}')`, (t) => {
    const file = newFile(4096)
    const hash = sha256(file)
    const calls = AFTER_CLOSE.map((call) => `[${JSON.stringify(call)}, () => map.${call}]`).join(',\n')
    const r = child<{ sync: Record<string, Thrown | null>; flushThrewSynchronously: Thrown | null; flushRejection: Thrown | null }>(
      t,
      `
      ;(async () => {
        const map = memmap.openSync(file, { mode: process.env.MAP_MODE })
        map.bytes[0]
        map.dataView(0, 8).getUint8(0)
        map.close()
        const sync = {}
        for (const [call, fn] of [${calls}]) sync[call] = thrown(fn)
        let flushThrewSynchronously = null
        let flushRejection = null
        try {
          flushRejection = await map.flush().then(() => null, describeError)
        } catch (e) {
          flushThrewSynchronously = describeError(e)
        }
        report({ sync, flushThrewSynchronously, flushRejection })
      })()
      `,
      { file, env: { MAP_MODE: mode } },
    )
    t.deepEqual(Object.keys(r.sync), AFTER_CLOSE)
    for (const call of AFTER_CLOSE) t.like(r.sync[call], { name: 'Error', code: 'ERR_MMAP_CLOSED' }, call)
    t.is(r.flushThrewSynchronously, null, 'flush() returns a rejected promise, it does not throw')
    t.like(r.flushRejection, { name: 'Error', code: 'ERR_MMAP_CLOSED' }, 'flush()')
    t.is(sha256(file), hash, 'nothing reached the file')
  })
}

test('closed, length, offset, path and mode keep their values after close()', (t) => {
  for (const mode of MODES) {
    const file = newFile(8192)
    const map = openSync(file, { mode, offset: 100, length: 1000 })
    const before = { closed: map.closed, length: map.length, offset: map.offset, path: map.path, mode: map.mode }
    t.deepEqual(before, { closed: false, length: 1000, offset: 100, path: file, mode }, mode)
    map.close()
    t.deepEqual({ closed: map.closed, length: map.length, offset: map.offset, path: map.path, mode: map.mode }, { ...before, closed: true }, mode)
  }
  const file = newFile(4096)
  const fd = fs.openSync(file, 'r')
  try {
    const map = openSync(fd, { offset: 4095 })
    map.close()
    t.deepEqual(
      { closed: map.closed, length: map.length, offset: map.offset, path: map.path, mode: map.mode },
      { closed: true, length: 1, offset: 4095, path: null, mode: 'read' },
      'a map of a descriptor',
    )
  } finally {
    fs.closeSync(fd)
  }
})

test('close() a second time, and disposing after close(), do nothing and throw nothing', async (t) => {
  const file = newFile(4096)
  // stats() counts this process's maps; nothing else runs between here and its check (no await).
  const live = stats().liveMaps
  const map = openSync(file, { mode: 'read-write' })
  t.is(map.bytes.byteLength, 4096)
  t.is(stats().liveMaps, live + 1)
  t.notThrows(() => map.close())
  t.notThrows(() => map.close())
  t.notThrows(() => map[Symbol.dispose]())
  t.is(stats().liveMaps, live, 'the map is released once')
  await t.notThrowsAsync(map[Symbol.asyncDispose]())
  t.true(map.closed)
})

linuxOnly(test, '/proc/self/maps, /proc/self/fd')('close() unmaps the file and closes its descriptor before it returns, with or without views', (t) => {
  for (const withViews of [false, true]) {
    const file = newFile(3 * 4096)
    const map = openSync(file, { offset: 5 })
    if (withViews) {
      t.is(map.bytes[0], fs.readFileSync(file)[5])
      t.is(map.view(Float64Array, 3).length, Math.floor((3 * 4096 - 5 - 3) / 8))
    }
    t.is(mapsLines(file).length, 1, `mapped while open (views: ${withViews})`)
    t.is(fdsOn(file).length, 1, `one descriptor while open (views: ${withViews})`)
    map.close()
    t.deepEqual(mapsLines(file), [], `unmapped after close (views: ${withViews})`)
    t.deepEqual(fdsOn(file), [], `descriptor closed after close (views: ${withViews})`)
  }
})

linuxOnly(test, '/proc/self/maps')('closing a map at an unaligned offset detaches the internal aligned buffer too', (t) => {
  const file = newFile(4096)
  const r = child<{
    separate: boolean
    before: { f64: number; i32: number; dataView: number; bytes: number }
    f64MatchesFile: boolean
    after: { f64Length: number; f64ByteLength: number; alignedBuffer: number; i32Length: number; dataView: Thrown | null; bytes: number; buffer: number }
    mapsAfter: number
  }>(
    t,
    `
    const onDisk = fs.readFileSync(file)
    const map = memmap.openSync(file, { offset: 3 })
    const f64 = map.view(Float64Array, 5)
    const i32 = map.view(Int32Array, 1)
    const dv = map.dataView(1, 16)
    const bytes = map.bytes
    const buffer = map.buffer
    const before = { f64: f64.length, i32: i32.length, dataView: dv.byteLength, bytes: bytes.byteLength }
    const f64MatchesFile = Buffer.from(f64.buffer, f64.byteOffset, f64.byteLength).equals(onDisk.subarray(8, 8 + f64.byteLength))
    const separate = f64.buffer !== buffer && f64.buffer === i32.buffer
    map.close()
    report({
      separate,
      before,
      f64MatchesFile,
      after: {
        f64Length: f64.length,
        f64ByteLength: f64.byteLength,
        alignedBuffer: f64.buffer.byteLength,
        i32Length: i32.length,
        dataView: thrown(() => dv.getUint8(0)),
        bytes: bytes.byteLength,
        buffer: buffer.byteLength,
      },
      mapsAfter: fileMaps().length,
    })
    `,
    { file },
  )
  t.true(r.separate, 'views at offset 3 are built over an internal buffer, not over map.buffer')
  t.deepEqual(r.before, { f64: Math.floor((4093 - 5) / 8), i32: Math.floor((4093 - 1) / 4), dataView: 16, bytes: 4093 })
  t.true(r.f64MatchesFile)
  t.is(r.after.f64Length, 0)
  t.is(r.after.f64ByteLength, 0)
  t.is(r.after.alignedBuffer, 0, 'the internal aligned ArrayBuffer is detached')
  t.is(r.after.i32Length, 0)
  t.like(r.after.dataView, { name: 'TypeError' })
  t.is(r.after.bytes, 0)
  t.is(r.after.buffer, 0)
  t.is(r.mapsAfter, 0, 'every buffer was detached, so close() unmapped at once')
})

test('a `using` block closes the map at its end (downlevelled by tsx/esbuild)', (t) => {
  const file = newFile(4096)
  const first = fs.readFileSync(file)[0]
  let escaped: ReturnType<typeof openSync> | undefined
  let view: Uint32Array | undefined
  // stats() counts this process's maps (a synchronous test: no other test runs in between).
  const live = stats().liveMaps
  {
    using map = openSync(file)
    escaped = map
    view = map.view(Uint32Array)
    t.is(map.bytes[0], first)
    t.false(map.closed)
    t.is(stats().liveMaps, live + 1)
  }
  t.true(escaped.closed)
  t.is(view.byteLength, 0)
  t.is(stats().liveMaps, live, 'released at the end of the block')
})

test('a `using` block closes the map when the block throws', (t) => {
  const file = newFile(4096)
  let escaped: ReturnType<typeof openSync> | undefined
  const live = stats().liveMaps
  const error = t.throws(() => {
    using map = openSync(file)
    escaped = map
    t.is(stats().liveMaps, live + 1)
    void map.bytes[0]
    throw new Error('inside the block')
  })
  t.is(error?.message, 'inside the block')
  t.true(escaped?.closed)
  t.is(stats().liveMaps, live, 'released when the block throws')
})

linuxOnly(test, '/proc/self/maps')('`using` compiled by the pinned typescript (ES2022, CommonJS) closes the map in a child on this Node', (t) => {
  const file = newFile(4096)
  const source = `
import { openSync } from 'memmap'
import * as fs from 'node:fs'

const real = fs.realpathSync(process.env.MAP_FILE!)
const fileMaps = (): number =>
  fs.readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.endsWith(' ' + real)).length
let escaped
let view: Float32Array
let inside
{
  using map = openSync(process.env.MAP_FILE!)
  escaped = map
  view = map.view(Float32Array)
  inside = { closed: map.closed, first: map.bytes[0], maps: fileMaps() }
}
console.log(JSON.stringify({ inside, closed: escaped.closed, viewByteLength: view.byteLength, maps: fileMaps() }))
`
  const out = ts.transpileModule(source, {
    reportDiagnostics: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts'],
    },
  })
  t.deepEqual(out.diagnostics ?? [], [])
  t.regex(source, /\busing map =/)
  t.notRegex(out.outputText, /\busing\s+[A-Za-z_$]/, 'the `using` declaration was downlevelled')
  t.regex(out.outputText, /__addDisposableResource/)
  t.regex(out.outputText, /require\("memmap"\)/)

  // A package directory of its own, where `memmap` resolves to this repository.
  const project = fs.mkdtempSync(path.join(dir, 'ts-using-'))
  fs.mkdirSync(path.join(project, 'node_modules'))
  fs.symlinkSync(ROOT, path.join(project, 'node_modules', 'memmap'), 'dir')
  const script = path.join(project, 'using.cjs')
  fs.writeFileSync(script, out.outputText)
  const r = childScript<{ inside: { closed: boolean; first: number; maps: number }; closed: boolean; viewByteLength: number; maps: number }>(t, script, {
    file,
  })
  t.deepEqual(r.inside, { closed: false, first: fs.readFileSync(file)[0], maps: 1 })
  t.true(r.closed)
  t.is(r.viewByteLength, 0)
  t.is(r.maps, 0)
})

linuxOnly(test, '.runtimes/node24 (a Linux build), /proc/self/maps')(
  '`using` closes the map at the end of its block natively on Node 24, also when the block throws',
  (t) => {
    const file = newFile(4096)
    const script = path.join(fs.mkdtempSync(path.join(dir, 'native-using-')), 'using.cjs')
    fs.writeFileSync(
      script,
      `
let escaped
let view
let inside
{
  using map = memmap.openSync(file)
  escaped = map
  view = map.view(Uint16Array)
  inside = { closed: map.closed, first: map.bytes[0], maps: fileMaps().length }
}
const afterBlock = { closed: escaped.closed, viewByteLength: view.byteLength, maps: fileMaps().length, fds: fileFds() }
let thrownBy = null
let escaped2
try {
  using map2 = memmap.openSync(file, { mode: 'read-write' })
  escaped2 = map2
  map2.bytes[0]
  throw new Error('inside the block')
} catch (e) {
  thrownBy = e.message
}
report({
  node: process.version,
  inside,
  afterBlock,
  thrownBy,
  afterThrow: { closed: escaped2.closed, maps: fileMaps().length, fds: fileFds() },
})
`,
    )
    t.regex(fs.readFileSync(script, 'utf8'), /\n {2}using map = memmap\.openSync\(file\)/)
    const r = childScript<{
      node: string
      inside: { closed: boolean; first: number; maps: number }
      afterBlock: { closed: boolean; viewByteLength: number; maps: number; fds: number }
      thrownBy: string | null
      afterThrow: { closed: boolean; maps: number; fds: number }
    }>(t, script, { file, runtime: runtimeBinary('node24') })
    t.regex(r.node, /^v24\./)
    t.deepEqual(r.inside, { closed: false, first: fs.readFileSync(file)[0], maps: 1 })
    t.deepEqual(r.afterBlock, { closed: true, viewByteLength: 0, maps: 0, fds: 0 })
    t.is(r.thrownBy, 'inside the block')
    t.deepEqual(r.afterThrow, { closed: true, maps: 0, fds: 0 })
  },
)

for (const mode of ['read', 'read-write'] as const) {
  linuxOnly(test, '.runtimes/node24 (a Linux build), /proc/self/maps')(
    `on Node 24, close() after buffer.transfer() releases the file, the moved buffer reads zeros, and collecting it unmaps ('${mode}')`,
    (t) => {
      const file = newFile(4096)
      const hash = sha256(file)
      const r = child<{
        node: string
        movedMatchedFile: boolean
        range: string
        mapsBefore: number
        mapsAfterClose: number
        fdsAfterClose: number
        rangeAfterClose: { covered: boolean; paths: string[] }
        movedByteLength: number
        movedReadsZeros: boolean
        movedWriteReadBack: number
        gcRounds: number
        rangeAtEnd: { covered: boolean; paths: string[] }
        start: { liveMaps: number; externalBuffersLive: number }
        end: { liveMaps: number; externalBuffersLive: number }
      }>(
        t,
        `
      // The lines of /proc/self/maps that cover [lo, hi), and their paths ('' for anonymous memory).
      const covering = (lo, hi) => {
        const lines = fs.readFileSync('/proc/self/maps', 'utf8').trim().split('\\n').filter((l) => {
          const [a, b] = l.split(' ')[0].split('-').map((x) => BigInt('0x' + x))
          return a < hi && b > lo
        })
        return { covered: lines.length > 0, paths: lines.map((l) => l.split(/\\s+/).slice(5).join(' ')) }
      }
      const counts = () => {
        const c = require(process.env.MEMMAP_ROOT + '/dist/native.js').native.counters()
        return { liveMaps: c.liveMaps, externalBuffersLive: c.externalBuffersLive }
      }
      ;(async () => {
        const start = counts()
        const map = memmap.openSync(file, { mode: process.env.MAP_MODE })
        let moved = map.buffer.transfer()
        const movedMatchedFile = Buffer.from(moved).equals(fs.readFileSync(file))
        const own = fs.readFileSync('/proc/self/maps', 'utf8').trim().split('\\n').filter((l) => l.endsWith(' ' + real))
        const [lo, hi] = own[0].split(' ')[0].split('-').map((x) => BigInt('0x' + x))
        map.close()
        const mapsAfterClose = fileMaps().length
        const fdsAfterClose = fileFds()
        const rangeAfterClose = covering(lo, hi)
        let u8 = new Uint8Array(moved)
        const movedByteLength = moved.byteLength
        const movedReadsZeros = u8.every((b) => b === 0)
        u8[0] = 0xab
        u8[4095] = 0xcd
        const movedWriteReadBack = u8[0]
        moved = null
        u8 = null
        // The finalizer runs when V8 (and its background sweeper) gets to it, not after a fixed
        // number of turns: poll (gc, then give the loop 10 ms) for up to 30 s.
        let gcRounds = 0
        const deadline = Date.now() + 30_000
        while (Date.now() < deadline) {
          gc()
          await new Promise((resolve) => setTimeout(resolve, 10))
          gcRounds++
          if (!covering(lo, hi).covered && require(process.env.MEMMAP_ROOT + '/dist/native.js').native.counters().externalBuffersLive === start.externalBuffersLive) break
        }
        report({
          node: process.version, movedMatchedFile, range: lo.toString(16) + '-' + hi.toString(16), mapsBefore: own.length,
          mapsAfterClose, fdsAfterClose, rangeAfterClose, movedByteLength, movedReadsZeros, movedWriteReadBack,
          gcRounds, rangeAtEnd: covering(lo, hi), start, end: counts(),
        })
      })()
      `,
        { file, runtime: runtimeBinary('node24'), args: ['--expose-gc'], env: { MAP_MODE: mode } },
      )
      t.log(`range ${r.range}: after close ${JSON.stringify(r.rangeAfterClose)}, after ${r.gcRounds} gc rounds ${JSON.stringify(r.rangeAtEnd)}`)
      t.regex(r.node, /^v24\./)
      t.true(r.movedMatchedFile, 'the moved buffer reads the file before close')
      t.is(r.mapsBefore, 1)
      t.is(r.mapsAfterClose, 0, 'the file is gone from /proc/self/maps after close')
      t.is(r.fdsAfterClose, 0, "the map's descriptor is closed")
      t.deepEqual(r.rangeAfterClose, { covered: true, paths: [''] }, `${r.range} stays mapped, as anonymous memory, after close`)
      t.is(r.movedByteLength, 4096)
      t.true(r.movedReadsZeros, 'the moved buffer reads anonymous zero memory after close')
      t.is(r.movedWriteReadBack, 0xab, 'a write to the moved buffer lands in private memory')
      t.is(sha256(file), hash, 'writes to the moved buffer after close never reach the file')
      t.false(
        r.rangeAtEnd.covered,
        `${r.range} is unmapped once the moved buffer is collected (polled ${r.gcRounds} gc rounds, up to 30 s): ${r.rangeAtEnd.paths}`,
      )
      t.is(r.end.liveMaps, r.start.liveMaps, '_counters: liveMaps returns to its starting value')
      t.is(r.end.externalBuffersLive, r.start.externalBuffersLive, "_counters: the moved buffer's finalizer ran")
    },
  )
}
