// Reading through views: every view type equals the bytes node:fs reads, at every map offset
// and length; and the views are a real mapping, not a copy.
import * as fs from 'node:fs'
import test from 'ava'

import { openSync, type MappedFile, type Mode } from '..'
import { exitedCleanly, runChild } from './child'
import { linuxOnly, mapsLines, tempFile } from './helpers'

const MiB = 1024 * 1024
const SIZES = [0, 1, 4095, 4096, 4097, 10 * MiB]
const OFFSETS = [0, 1, 4097, 12345]

/** What the tests need of a TypedArray, whatever its element type. */
interface Typed extends ArrayBufferView {
  readonly length: number
  readonly [index: number]: number | bigint
}
interface TypedConstructor {
  readonly BYTES_PER_ELEMENT: number
  readonly name: string
  new (buffer: ArrayBuffer, byteOffset: number, length: number): Typed
}

const { Float16Array } = globalThis as { Float16Array?: TypedConstructor }
/**
 * Every view is compared with an oracle TypedArray of the same type built from node:fs's bytes:
 * same constructor, same length and same bytes, which is equality of every element (and, for
 * floats, the only equality that holds for NaNs and keeps their payloads).
 */
const TYPES: TypedConstructor[] = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  BigInt64Array,
  BigUint64Array,
  ...(Float16Array ? [Float16Array] : []),
  Float32Array,
  Float64Array,
]

const files = new Map<number, { file: string; copy: Uint8Array<ArrayBuffer> }>()
/** A random file of `size` bytes and an independent copy of its bytes (own ArrayBuffer, offset 0). */
function fileOf(size: number): { file: string; copy: Uint8Array<ArrayBuffer> } {
  let entry = files.get(size)
  if (entry === undefined) {
    const file = tempFile(size, `size-${size}.bin`)
    entry = { file, copy: new Uint8Array(fs.readFileSync(file)) }
    files.set(size, entry)
  }
  return entry
}

function bytesOf(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength)
}

/** Map lengths to try when `remaining` bytes follow the map offset; undefined means "to the end". */
function lengthsFor(remaining: number): Array<number | undefined> {
  const candidates = [0, 1, 7, 4095, 4097, 1_000_003, remaining - 1, remaining]
  return [undefined, ...new Set(candidates.filter((n) => n >= 0 && n <= remaining))]
}

/** Checks every view of `map` against `expected`, the file's bytes `[map.offset, map.offset + map.length)`. */
function checkViews(t: import('ava').ExecutionContext, map: MappedFile, copy: Uint8Array<ArrayBuffer>, label: string): void {
  const { offset, length } = map
  const expected = Buffer.from(copy.buffer, offset, length)
  t.is(map.buffer.byteLength, length, `${label}: buffer.byteLength`)
  t.true(bytesOf(map.bytes).equals(expected), `${label}: bytes`)
  t.true(bytesOf(map.dataView()).equals(expected), `${label}: dataView()`)
  if (length >= 1) {
    const n = Math.min(7, length - 1)
    t.true(bytesOf(map.dataView(1, n)).equals(expected.subarray(1, 1 + n)), `${label}: dataView(1, ${n})`)
  }
  if (length >= 8) {
    const fsView = new DataView(copy.buffer, offset, length)
    t.is(map.dataView().getBigUint64(0, true), fsView.getBigUint64(0, true), `${label}: getBigUint64`)
  }
  for (const start of [0, 3]) {
    if (start > length) continue
    t.true(map.view(Buffer, start).equals(expected.subarray(start)), `${label}: view(Buffer, ${start})`)
    const n = Math.min(5, length - start)
    t.true(map.view(Buffer, start, n).equals(expected.subarray(start, start + n)), `${label}: view(Buffer, ${start}, ${n})`)
  }
  for (const Type of TYPES) {
    const size = Type.BYTES_PER_ELEMENT
    const aligned = (size - (offset % size)) % size // first byteOffset aligned in the file
    // [byteOffset, element count or undefined for "as many as fit"]
    const cases: Array<[number, number | undefined]> = [
      [aligned, undefined],
      [aligned + 3 * size, 5],
    ]
    for (const [byteOffset, count] of cases) {
      if (byteOffset > length) continue
      const fit = Math.floor((length - byteOffset) / size)
      const elements = count === undefined ? fit : Math.min(count, fit)
      const start = offset + byteOffset
      const oracle = new Type(copy.buffer.slice(start, start + elements * size), 0, elements)
      const view = count === undefined ? map.view(Type, byteOffset) : map.view(Type, byteOffset, elements)
      const what = `${label}: view(${Type.name}, ${byteOffset}, ${count === undefined ? 'undefined' : elements})`
      t.is(view.constructor, Type, `${what} type`)
      t.is(view.length, oracle.length, `${what}.length`)
      t.true(bytesOf(view).equals(bytesOf(oracle)), `${what} bytes`)
      t.true(Object.is(view[0], oracle[0]) && Object.is(view[elements - 1], oracle[elements - 1]), `${what} first and last`)
    }
  }
}

const readsLikeFs = test.macro({
  exec(t, size: number, offset: number) {
    const { file, copy } = fileOf(size)
    const remaining = size - offset
    for (const length of lengthsFor(remaining)) {
      using map = openSync(file, { offset, length })
      t.is(map.offset, offset)
      t.is(map.length, length ?? remaining)
      checkViews(t, map, copy, `size ${size}, offset ${offset}, length ${length}`)
    }
    t.throws(() => openSync(file, { offset, length: remaining + 1 }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  },
  title: (_, size, offset) => `bytes, view, dataView and Buffer views of a ${size}-byte file at offset ${offset} equal fs.readFileSync for every length`,
})

const rejectsOffsetPastEnd = test.macro({
  exec(t, size: number, offset: number) {
    const { file } = fileOf(size)
    t.throws(() => openSync(file, { offset }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  },
  title: (_, size, offset) => `opening a ${size}-byte file at offset ${offset} throws ERR_OUT_OF_RANGE`,
})

for (const size of SIZES) {
  for (const offset of OFFSETS) {
    if (offset <= size) test(readsLikeFs, size, offset)
    else test(rejectsOffsetPastEnd, size, offset)
  }
}

const EXPECTED_PERMS: Array<[Mode, string]> = [
  ['read', 'rw-p'],
  ['copy-on-write', 'rw-p'],
  ['read-write', 'rw-s'],
]
for (const [mode, perms] of EXPECTED_PERMS) {
  linuxOnly(test, '/proc/self/maps')(`a '${mode}' map shows in /proc/self/maps as ${perms} and is gone after close()`, (t) => {
    const file = tempFile(3 * 4096 + 5, `maps-${mode}.bin`)
    t.deepEqual(mapsLines(file), [])
    const map = openSync(file, { mode, offset: 4097 })
    try {
      t.false(map.strayWritesFault)
      const lines = mapsLines(file)
      t.true(lines.length >= 1)
      for (const line of lines) t.is(line.split(/\s+/)[1], perms, line)
    } finally {
      map.close()
    }
    t.deepEqual(mapsLines(file), [])
  })
}

linuxOnly(test, '/proc/self/smaps, /proc/self/status')(
  'reading 10 MiB through map.bytes adds no anonymous memory: its smaps shows Rss 10 MiB and Anonymous 0 kB',
  (t) => {
    const file = tempFile(10 * MiB, 'rss.bin')
    const expectedSum = fs.readFileSync(file).reduce((sum, byte) => sum + byte, 0)
    // RssAnon counts anonymous memory only: the page-cache pages the mapping shows count as
    // RssFile, so whether the file is cached or re-read from disk does not change the measure.
    // The mapping's own lines of /proc/self/smaps (exact, unlike /proc/self/status) show the
    // bytes were really read through it (Rss) without private copies (Anonymous): the map's share of
    // RssAnon is its Anonymous field. The process's RssAnon moves with the runtime's own memory
    // (V8's heap, its compiler and GC threads) at any time, so it is logged, not asserted.
    const child = runChild(
      String.raw`
    const fs = require('node:fs')
    const { openSync } = require(process.env.MEMMAP_ROOT)
    // statusKb is the prelude's (no TypeScript loader here: --import=tsx runs a loader thread whose
    // heap moves RssAnon, and tsx does not load on Deno).
    const file = ${JSON.stringify(file)}
    const smaps = (field) => fs.readFileSync('/proc/self/smaps', 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)
      .filter((entry) => entry.split('\n')[0].endsWith(' ' + file))
      .reduce((kb, entry) => kb + Number(new RegExp('^' + field + ':\\s+(\\d+) kB', 'm').exec(entry)[1]), 0)
    const map = openSync(file)
    const bytes = map.bytes
    const sum = (a) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]; return s }
    for (let i = 0; i < 200; i++) sum(bytes.subarray(0, 4096)) // compile the loop first
    globalThis.gc()
    const anonBefore = statusKb('RssAnon')
    const total = sum(bytes)
    const anonAfter = statusKb('RssAnon')
    const mapRss = smaps('Rss'), mapAnonymous = smaps('Anonymous')
    map.close()
    console.log(JSON.stringify({ total, anonBefore, anonAfter, mapRss, mapAnonymous }))
    `,
      { args: ['--expose-gc'] },
    )
    exitedCleanly(t, child)
    const r = JSON.parse(child.stdout) as Record<string, number>
    t.is(r.total, expectedSum)
    t.log(`process RssAnon moved by ${r.anonAfter - r.anonBefore} kB (runtime included)`)
    t.is(r.mapRss, 10 * 1024, 'every page was read through the mapping')
    t.is(r.mapAnonymous, 0, 'no page was copied into private memory: the map adds 0 kB to RssAnon')
  },
)
