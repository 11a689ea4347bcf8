// Files larger than memory and than one view (SPEC §4.3). A 64 GiB
// sparse file maps on Node 20 (views capped at maxViewBytes = 2^32) and on Node 24 (uncapped)
// without private memory; windows of a 6 GiB map on Node 20 come from overlapping chunk
// ArrayBuffers (size maxViewBytes, stride maxViewBytes / 2), so 100,000 of them create at most a
// few external buffers; a window that fits no chunk gets a buffer of its own, detached by close.
// Every scenario runs in a child of the runtime it names; the oracles are fs.readSync, fs.writeSync
// and /proc (status, smaps, maps).
import * as fs from 'node:fs'
import * as path from 'node:path'
import { randomBytes } from 'node:crypto'
import test, { type ExecutionContext } from 'ava'

import { child } from './child'
import { runtimeBinary, tempDir } from './helpers'

const KiB = 1024
const GiB = 2 ** 30
const BIG = 64 * GiB
const SIX = 6 * GiB
const WINDOW = 4096
const CAP_NODE20 = 2 ** 32

const dir = tempDir('memmap-large-')
let fileCount = 0

/**
 * The machine's Node 20: this process when the suite runs on it, else the binary the multi-runtime
 * runner names in MEMMAP_NODE20 (scripts/runtimes-suite.mjs runs on Node 20 and sets it).
 */
function node20(): string {
  if (process.versions.node.split('.')[0] === '20') return process.execPath
  const named = process.env.MEMMAP_NODE20
  if (named !== undefined && named !== '') return named
  throw new Error('no Node 20 to run the child: run the suite on Node 20 or set MEMMAP_NODE20 to a Node 20 binary')
}

interface Runtime {
  name: 'Node 20' | 'Node 24'
  binary: () => string
  /** The child's `process.version` must match. */
  version: RegExp
  /** The child's `maxViewBytes`. */
  maxViewBytes: number
}

const RUNTIMES: readonly Runtime[] = [
  { name: 'Node 20', binary: node20, version: /^v20\./, maxViewBytes: CAP_NODE20 },
  { name: 'Node 24', binary: () => runtimeBinary('node24'), version: /^v24\.21\.0$/, maxViewBytes: Number.MAX_SAFE_INTEGER },
]

/** A sparse file of `size` bytes (fs.ftruncateSync) with `records` written by fs.writeSync; removed after the test. */
function sparseFile(t: ExecutionContext, size: number, records: ReadonlyArray<readonly [number, Buffer]> = []): string {
  const file = path.join(dir, `sparse-${fileCount++}.bin`)
  const fd = fs.openSync(file, 'w+')
  try {
    fs.ftruncateSync(fd, size)
    const short = records.filter(([at, data]) => fs.writeSync(fd, data, 0, data.length, at) !== data.length)
    t.deepEqual(short, [], 'fs.writeSync wrote every record whole')
  } finally {
    fs.closeSync(fd)
  }
  t.teardown(() => fs.rmSync(file, { force: true }))
  t.is(fs.statSync(file).size, size)
  return file
}

/** `length` bytes of `file` at `position`, by fs.readSync. */
function readAt(file: string, position: number, length: number): Buffer {
  const fd = fs.openSync(file, 'r')
  try {
    const out = Buffer.alloc(length)
    fs.readSync(fd, out, 0, length, position)
    return out
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * Child code after the prelude (__test__/child-prelude.cjs): `smaps()` (the file's entries of
 * /proc/self/smaps), `kb(entry, field)` and `created()` (external buffers created so far).
 */
const SMAPS = String.raw`
const smaps = () => fs.readFileSync('/proc/self/smaps', 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/).filter((e) => e.split('\n')[0].endsWith(' ' + real))
const kb = (entry, field) => Number(new RegExp('^' + field + ':\\s+(\\d+) kB', 'm').exec(entry)[1])
const created = () => require(process.env.MEMMAP_ROOT + '/dist/native.js').native.counters().externalBuffersCreated
`

interface Base {
  version: string
  maxViewBytes: number
}

/** Runs `code` after SMAPS in `runtime`, asserts it exited cleanly and ran that runtime, returns its report. */
function inRuntime<T extends Base>(t: ExecutionContext, runtime: Runtime | 'Node 20', code: string, file: string, env: NodeJS.ProcessEnv = {}): T {
  const rt = typeof runtime === 'string' ? RUNTIMES[0] : runtime
  const report = child<T>(t, SMAPS + code, { runtime: rt.binary(), file, env, timeout: 8 * 60_000 })
  t.regex(report.version, rt.version, 'the child runs the runtime the test names')
  t.is(report.maxViewBytes, rt.maxViewBytes, 'maxViewBytes')
  return report
}

/** Records at the start, in the middle (unaligned) and in the last 16 bytes of a 64 GiB file. */
function bigRecords(): Array<[number, Buffer]> {
  return [
    [0, randomBytes(16)],
    [32 * GiB + 3, randomBytes(16)],
    [BIG - 16, randomBytes(16)],
  ]
}

for (const rt of RUNTIMES) {
  test(`on ${rt.name}, opening a 64 GiB sparse file adds no anonymous memory (its smaps: Anonymous 0 kB) and its mapping holds less than 1 MiB, private or resident`, (t) => {
    const warm = sparseFile(t, 4096)
    const file = sparseFile(t, BIG, bigRecords())
    const r = inRuntime<
      Base & { length: number; anonBefore: number; anonAfter: number; perms: string[]; sizeKb: number; rssKb: number; privateKb: number; anonymousKb: number }
    >(
      t,
      rt,
      `
      // Load the binding and run the open path once, so the measure holds only the 64 GiB open.
      const small = memmap.openSync(process.env.WARM_FILE)
      small.read(0, 1)
      small.close()
      statusKb('RssAnon')
      const anonBefore = statusKb('RssAnon')
      const map = memmap.openSync(file)
      const anonAfter = statusKb('RssAnon')
      const entries = smaps()
      const sum = (field) => entries.reduce((total, e) => total + kb(e, field), 0)
      report({
        version: process.version, maxViewBytes: memmap.maxViewBytes, length: map.length, anonBefore, anonAfter,
        perms: entries.map((e) => e.split(' ')[1]),
        sizeKb: sum('Size'), rssKb: sum('Rss'), privateKb: sum('Private_Clean') + sum('Private_Dirty'), anonymousKb: sum('Anonymous'),
      })
      map.close()
      `,
      file,
      { WARM_FILE: warm },
    )
    t.is(r.length, BIG)
    t.deepEqual(r.perms, ['rw-p'], 'one private mapping of the file')
    t.is(r.sizeKb, BIG / KiB, 'the mapping spans the whole 64 GiB')
    // The process's RssAnon moves with the runtime's own memory at any time; the map's share of it
    // is exactly its Anonymous field.
    t.log(`process RssAnon moved by ${r.anonAfter - r.anonBefore} kB (runtime included)`)
    t.is(r.anonymousKb, 0, 'no page of the mapping is anonymous: the map adds 0 kB to RssAnon')
    t.true(r.privateKb < 1024, `the mapping holds ${r.privateKb} kB of private memory`)
    t.true(r.rssKb < 1024, `the mapping holds ${r.rssKb} kB resident`)
  })

  const bytesTitle =
    rt.name === 'Node 20'
      ? 'on Node 20, buffer and bytes of a 64 GiB map throw ERR_MMAP_VIEW_TOO_LARGE and the map stays usable'
      : 'on Node 24, bytes of a 64 GiB map spans all 64 GiB and holds what fs.writeSync put at its start, middle and end'
  test(bytesTitle, (t) => {
    const records = bigRecords()
    const file = sparseFile(t, BIG, records)
    const r = inRuntime<
      Base & {
        buffer: unknown
        bytes: unknown
        length?: number
        bufferByteLength?: number
        same?: boolean
        records?: string[]
        tail: string
      }
    >(
      t,
      rt,
      `
      const map = memmap.openSync(file)
      const out = { version: process.version, maxViewBytes: memmap.maxViewBytes, buffer: thrown(() => map.buffer), bytes: thrown(() => map.bytes) }
      if (out.bytes === null) {
        const bytes = map.bytes
        Object.assign(out, {
          length: bytes.length, bufferByteLength: map.buffer.byteLength, same: map.bytes === bytes,
          records: JSON.parse(process.env.RECORDS).map(([at, data]) => hex(bytes.subarray(at, at + data.length / 2))),
        })
      }
      out.tail = hex(map.view(Uint8Array, map.length - 16, 16))
      report(out)
      map.close()
      `,
      file,
      { RECORDS: JSON.stringify(records.map(([at, data]) => [at, data.toString('hex')])) },
    )
    t.is(r.tail, records[2][1].toString('hex'))
    if (rt.name === 'Node 20') {
      t.like(r.buffer, { name: 'Error', code: 'ERR_MMAP_VIEW_TOO_LARGE' })
      t.like(r.bytes, { name: 'Error', code: 'ERR_MMAP_VIEW_TOO_LARGE' })
    } else {
      t.is(r.buffer, null)
      t.is(r.bytes, null)
      t.is(r.length, BIG)
      t.is(r.bufferByteLength, BIG)
      t.true(r.same, 'bytes is the same object on each access')
      t.deepEqual(
        r.records,
        records.map(([, data]) => data.toString('hex')),
      )
    }
  })

  test(`on ${rt.name}, view(Uint8Array, 64 GiB - 16, 16) of a 64 GiB sparse file returns what fs.writeSync put there`, (t) => {
    const records = bigRecords()
    const file = sparseFile(t, BIG, records)
    const r = inRuntime<Base & { views: string[]; reads: string[]; zeros: string; endBufferBytes: number }>(
      t,
      rt,
      `
      const map = memmap.openSync(file)
      const records = JSON.parse(process.env.RECORDS)
      const end = map.view(Uint8Array, ${BIG - 16}, 16)
      report({
        version: process.version, maxViewBytes: memmap.maxViewBytes,
        views: [hex(end), ...records.map(([at]) => hex(map.view(Uint8Array, at, 16)))],
        reads: records.map(([at]) => map.read(at, 16).toString('hex')),
        zeros: hex(map.view(Uint8Array, ${48 * GiB + 5}, 16)),
        endBufferBytes: end.buffer.byteLength,
      })
      map.close()
      `,
      file,
      { RECORDS: JSON.stringify(records.map(([at]) => [at])) },
    )
    const written = records.map(([, data]) => data.toString('hex'))
    t.deepEqual(r.views, [written[2], ...written])
    t.deepEqual(r.reads, written)
    t.is(r.zeros, readAt(file, 48 * GiB + 5, 16).toString('hex'))
    t.true(r.endBufferBytes <= rt.maxViewBytes, `the view's ArrayBuffer has ${r.endBufferBytes} bytes`)
  })

  test(`on ${rt.name}, 'read-write' writes near the end of a 64 GiB file, through view() and through write(), reach the file`, (t) => {
    const file = sparseFile(t, BIG)
    const viewAt = BIG - 4096 - 5 // straddles the last page boundary but one
    const writeAt = BIG - 16
    const viewData = randomBytes(16)
    const writeData = randomBytes(16)
    const r = inRuntime<Base & { written: number; viewRead: string; writeRead: string }>(
      t,
      rt,
      `
      const map = memmap.openSync(file, { mode: 'read-write' })
      map.view(Uint8Array, ${viewAt}, 16).set(Buffer.from(process.env.VIEW_DATA, 'hex'))
      const written = map.write(Buffer.from(process.env.WRITE_DATA, 'hex'), ${writeAt})
      map.flushSync()
      const fd = fs.openSync(file, 'r')
      const at = (position) => { const out = Buffer.alloc(16); fs.readSync(fd, out, 0, 16, position); return out.toString('hex') }
      report({ version: process.version, maxViewBytes: memmap.maxViewBytes, written, viewRead: at(${viewAt}), writeRead: at(${writeAt}) })
      fs.closeSync(fd)
      map.close()
      `,
      file,
      { VIEW_DATA: viewData.toString('hex'), WRITE_DATA: writeData.toString('hex') },
    )
    t.is(r.written, 16)
    t.is(r.viewRead, viewData.toString('hex'), 'fs.readSync in the child after flushSync, view() write')
    t.is(r.writeRead, writeData.toString('hex'), 'fs.readSync in the child after flushSync, write()')
    t.deepEqual(readAt(file, viewAt, 16), viewData, 'fs.readSync after the child exited, view() write')
    t.deepEqual(readAt(file, writeAt, 16), writeData, 'fs.readSync after the child exited, write()')
    t.true(readAt(file, viewAt - 4096, 4096).equals(Buffer.alloc(4096)), 'the bytes before are still zero')
    t.is(fs.statSync(file).size, BIG)
  })
}

/** A small seeded PRNG (mulberry32), so a failing run can be replayed from the logged seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

test('on Node 20, 100,000 random 4 KiB windows of a 6 GiB sparse file equal fs.readSync and create at most 4 external buffers', (t) => {
  const seed = Number(process.env.MEMMAP_SEED ?? Math.floor(Math.random() * 2 ** 31))
  t.log(`seed ${seed} (MEMMAP_SEED replays it)`)
  const random = prng(seed)
  const last = SIX - WINDOW
  const anywhere = (aligned: boolean): number => {
    const at = Math.floor(random() * (last + 1))
    return aligned ? at - (at % 8) : at
  }
  // Windows that straddle the stride boundaries at 2 GiB and 4 GiB (the chunk edges of Node 20),
  // 8-aligned and not, and windows at both ends.
  const straddling: number[] = []
  for (const boundary of [2 * GiB, 4 * GiB]) {
    for (const before of [1, 3, 7, 8, 9, 16, 2047, 2048, 2049, 4088, 4095]) straddling.push(boundary - before)
    for (let i = 0; i < 200; i++) straddling.push(boundary - 1 - Math.floor(random() * (WINDOW - 1)))
  }
  const planted = new Set<number>([0, 1, last, last - 3, ...straddling])
  while (planted.size < 5000) planted.add(anywhere(planted.size % 2 === 0))
  const plantedList = [...planted]
  const records = plantedList.map((at) => [at, randomBytes(WINDOW)] as const)
  const file = sparseFile(t, SIX, records)

  const offsets = new Float64Array(100_000)
  for (let i = 0; i < offsets.length; i++) {
    const kind = i % 10
    if (i < straddling.length) offsets[i] = straddling[i]
    else if (kind < 4) offsets[i] = plantedList[i % plantedList.length]
    else if (kind < 6) offsets[i] = Math.min(last, Math.max(0, plantedList[i % plantedList.length] + Math.floor(random() * 8191) - 4095))
    else offsets[i] = anywhere(kind % 2 === 0)
  }
  const across = (boundary: number): number => offsets.filter((at) => at < boundary && at + WINDOW > boundary).length
  t.true(across(2 * GiB) >= 211 && across(4 * GiB) >= 211, 'windows straddle both chunk boundaries')
  t.true(offsets.some((at) => at % 8 === 0) && offsets.some((at) => at % 8 !== 0), 'windows are 8-aligned and not')
  const offsetsFile = path.join(dir, `offsets-${fileCount++}.f64`)
  fs.writeFileSync(offsetsFile, offsets)
  t.teardown(() => fs.rmSync(offsetsFile, { force: true }))

  const r = inRuntime<
    Base & {
      windows: number
      mismatches: number
      firstMismatches: Array<{ at: number; view: string; file: string }>
      distinctNonZero: number
      created: number
      keptAfterClose: number[]
      keptBuffersAfterClose: number[]
      mapsAfter: number
    }
  >(
    t,
    'Node 20',
    `
    const raw = fs.readFileSync(process.env.OFFSETS)
    const offsets = new Float64Array(new Uint8Array(raw).buffer)
    const before = created()
    const map = memmap.openSync(file)
    const fd = fs.openSync(file, 'r')
    const expected = Buffer.alloc(${WINDOW})
    const zero = Buffer.alloc(${WINDOW})
    const nonZero = new Set()
    const firstMismatches = []
    const kept = []
    let mismatches = 0
    for (let i = 0; i < offsets.length; i++) {
      const at = offsets[i]
      const view = map.view(Uint8Array, at, ${WINDOW})
      fs.readSync(fd, expected, 0, ${WINDOW}, at)
      if (view.length !== ${WINDOW} || !expected.equals(view)) {
        mismatches++
        if (firstMismatches.length < 3) firstMismatches.push({ at, view: hex(view.subarray(0, 32)), file: expected.subarray(0, 32).toString('hex') })
      } else if (!expected.equals(zero)) {
        nonZero.add(at)
      }
      if (i % 20000 === 0 || (at < ${2 * GiB} && at + ${WINDOW} > ${2 * GiB}) || (at < ${4 * GiB} && at + ${WINDOW} > ${4 * GiB})) kept.push(view)
    }
    const made = created() - before
    fs.closeSync(fd)
    map.close()
    report({
      version: process.version, maxViewBytes: memmap.maxViewBytes, windows: offsets.length, mismatches, firstMismatches,
      distinctNonZero: nonZero.size, created: made,
      keptAfterClose: [...new Set(kept.map((v) => v.byteLength))], keptBuffersAfterClose: [...new Set(kept.map((v) => v.buffer.byteLength))],
      mapsAfter: fileMaps().length,
    })
    `,
    file,
    { OFFSETS: offsetsFile },
  )
  t.log(`${r.created} external buffers, ${r.distinctNonZero} distinct non-zero windows`)
  t.is(r.windows, 100_000)
  t.is(r.mismatches, 0, JSON.stringify(r.firstMismatches))
  t.true(r.distinctNonZero >= 3000, `${r.distinctNonZero} distinct windows held planted data`)
  t.true(r.created >= 1 && r.created <= 4, `${r.created} external buffers were created`)
  t.deepEqual(r.keptAfterClose, [0], 'every window taken is detached by close()')
  t.deepEqual(r.keptBuffersAfterClose, [0], "every window's ArrayBuffer is detached by close()")
  t.is(r.mapsAfter, 0)
})

test('on Node 20, windows longer than half a chunk that straddle the 2 GiB stride boundary get a buffer of their own, equal fs.readSync, and are detached by close', (t) => {
  const start = 1.5 * GiB + 3 // unaligned, in chunk 0, ending past its end (4 GiB)
  const length = 3 * GiB // covers the stride boundaries at 2 GiB and 4 GiB
  const f64Start = start + 5 // 8-aligned
  const f64Count = length / 8 - 1
  const samples = [start, start + 1, 2 * GiB - 2048, 2 * GiB, 3 * GiB + 11, 4 * GiB - 2048, 4 * GiB, start + length - WINDOW - 8]
  for (let i = 0; i < 64; i++) samples.push(start + 8 + Math.floor(Math.random() * (length - WINDOW - 16)))
  const file = sparseFile(
    t,
    SIX,
    samples.map((at) => [at, randomBytes(WINDOW)]),
  )
  const r = inRuntime<
    Base & {
      created: number[]
      lengths: number[]
      mismatches: string[]
      after: number[]
      afterBuffers: number[]
      mapsAfter: number
      liveMaps: number
    }
  >(
    t,
    'Node 20',
    `
    const map = memmap.openSync(file)
    const samples = JSON.parse(process.env.SAMPLES)
    const counts = [created()]
    const u8 = map.view(Uint8Array, ${start}, ${length})
    counts.push(created())
    const f64 = map.view(Float64Array, ${f64Start}, ${f64Count})
    counts.push(created())
    const dv = map.dataView(${start}, ${length})
    counts.push(created())
    const fd = fs.openSync(file, 'r')
    const expected = Buffer.alloc(${WINDOW})
    const mismatches = []
    const windows = [['Uint8Array', u8, ${start}], ['Float64Array', f64, ${f64Start}], ['DataView', dv, ${start}]]
    for (const at of samples) {
      fs.readSync(fd, expected, 0, ${WINDOW}, at)
      for (const [name, view, base] of windows) {
        if (at < base || at + ${WINDOW} > base + view.byteLength) continue
        const got = new Uint8Array(view.buffer, view.byteOffset + (at - base), ${WINDOW})
        if (!expected.equals(got)) mismatches.push(name + ' at ' + at)
      }
    }
    fs.closeSync(fd)
    const lengths = [u8.length, f64.length, dv.byteLength]
    map.close()
    report({
      version: process.version, maxViewBytes: memmap.maxViewBytes,
      created: counts.slice(1).map((c, i) => c - counts[i]), lengths, mismatches,
      after: [u8.byteLength, f64.byteLength, dv.buffer.byteLength], afterBuffers: [u8.buffer.byteLength, f64.buffer.byteLength],
      mapsAfter: fileMaps().length, liveMaps: memmap.stats().liveMaps,
    })
    `,
    file,
    { SAMPLES: JSON.stringify(samples) },
  )
  t.deepEqual(r.created, [1, 1, 1], 'each long straddling window is one new external buffer')
  t.deepEqual(r.lengths, [length, f64Count, length])
  t.deepEqual(r.mismatches, [])
  t.deepEqual(r.after, [0, 0, 0], 'the views are detached by close()')
  t.deepEqual(r.afterBuffers, [0, 0])
  t.is(r.mapsAfter, 0)
  t.is(r.liveMaps, 0)
})

test('on Node 20, a window of exactly maxViewBytes at any offset of a 6 GiB map works, and one byte more throws ERR_MMAP_VIEW_TOO_LARGE', (t) => {
  // SPEC §4.3: view and dataView of any window of at most maxViewBytes anywhere in the map work.
  const starts = [2 * GiB, GiB + 8, GiB + 3, 1]
  const file = sparseFile(
    t,
    SIX,
    starts.flatMap((at) => [
      [at, randomBytes(16)],
      [at + CAP_NODE20 - 16, randomBytes(16)],
    ]),
  )
  const r = inRuntime<Base & { results: Array<{ at: number; u8: unknown; dv: unknown; u8Ends?: string[]; dvEnds?: string[] }>; tooLarge: unknown[] }>(
    t,
    'Node 20',
    `
    const map = memmap.openSync(file)
    const cap = memmap.maxViewBytes
    const ends = (bytes) => [hex(bytes.subarray(0, 16)), hex(bytes.subarray(cap - 16, cap))]
    const results = JSON.parse(process.env.STARTS).map((at) => {
      const out = { at, u8: thrown(() => map.view(Uint8Array, at, cap)), dv: thrown(() => map.dataView(at, cap)) }
      if (out.u8 === null) out.u8Ends = ends(map.view(Uint8Array, at, cap))
      if (out.dv === null) { const dv = map.dataView(at, cap); out.dvEnds = ends(new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength)) }
      return out
    })
    const tooLarge = [thrown(() => map.view(Uint8Array, 1, cap + 1)), thrown(() => map.dataView(0, cap + 1))]
    map.close()
    report({ version: process.version, maxViewBytes: memmap.maxViewBytes, results, tooLarge })
    `,
    file,
    { STARTS: JSON.stringify(starts) },
  )
  for (const result of r.results) {
    const expected = [readAt(file, result.at, 16).toString('hex'), readAt(file, result.at + CAP_NODE20 - 16, 16).toString('hex')]
    t.is(result.u8, null, `view(Uint8Array, ${result.at}, maxViewBytes): ${JSON.stringify(result.u8)}`)
    t.is(result.dv, null, `dataView(${result.at}, maxViewBytes): ${JSON.stringify(result.dv)}`)
    t.deepEqual(result.u8Ends, expected, `view(Uint8Array, ${result.at}, maxViewBytes) ends`)
    t.deepEqual(result.dvEnds, expected, `dataView(${result.at}, maxViewBytes) ends`)
  }
  for (const e of r.tooLarge) t.like(e, { name: 'Error', code: 'ERR_MMAP_VIEW_TOO_LARGE' })
})
