// viewOrCopy(Type, byteOffset, length?): a zero-copy view where `offset + byteOffset`
// is aligned for Type, else an exact copy. Oracles: the file's bytes from fs.readFileSync decoded
// with DataView (little-endian), and map.read for whether a store reaches the map's memory.
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'

import { openSync } from '..'
import { tempDir } from './helpers'

/** The binding's own counters (not part of the public API). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const counters = () => (require('../dist/native.js') as { native: { counters(): { externalBuffersCreated: number } } }).native.counters()

type Typed = { readonly length: number; readonly buffer: ArrayBufferLike; [i: number]: number | bigint }
type Ctor = { readonly BYTES_PER_ELEMENT: number; readonly name: string; new (buffer: ArrayBuffer, byteOffset: number, length: number): Typed }
type Getter = (dv: DataView, at: number) => number | bigint

const float16 = (globalThis as { Float16Array?: Ctor }).Float16Array
const getFloat16 = (DataView.prototype as { getFloat16?: (at: number, le: boolean) => number }).getFloat16

/** Every TypedArray type this runtime has, with the DataView getter that decodes one element. */
const TYPES: [Ctor, Getter][] = [
  [Int8Array, (dv, at) => dv.getInt8(at)],
  [Uint8Array, (dv, at) => dv.getUint8(at)],
  [Uint8ClampedArray, (dv, at) => dv.getUint8(at)],
  [Int16Array, (dv, at) => dv.getInt16(at, true)],
  [Uint16Array, (dv, at) => dv.getUint16(at, true)],
  [Int32Array, (dv, at) => dv.getInt32(at, true)],
  [Uint32Array, (dv, at) => dv.getUint32(at, true)],
  [Float32Array, (dv, at) => dv.getFloat32(at, true)],
  [Float64Array, (dv, at) => dv.getFloat64(at, true)],
  [BigInt64Array, (dv, at) => dv.getBigInt64(at, true)],
  [BigUint64Array, (dv, at) => dv.getBigUint64(at, true)],
]
if (float16 !== undefined && getFloat16 !== undefined) TYPES.push([float16, (dv, at) => getFloat16.call(dv, at, true)])

const SIZE = 4096 + 77

function dataFile(): string {
  const file = path.join(tempDir('memmap-view-or-copy-'), 'tensors.bin')
  fs.writeFileSync(file, randomBytes(SIZE))
  return file
}

/** The `count` elements at file position `at`, decoded from the file's bytes. */
function decoded(disk: Buffer, get: Getter, size: number, at: number, count: number): (number | bigint)[] {
  const dv = new DataView(disk.buffer, disk.byteOffset, disk.byteLength)
  return Array.from({ length: count }, (_, i) => get(dv, at + i * size))
}

const same = (a: number | bigint, b: number | bigint) => Object.is(a, b) || (typeof a === 'number' && Number.isNaN(a) && Number.isNaN(b as number))

test(`every TypedArray type (${TYPES.map(([T]) => T.name).join(', ')}) is a view when aligned and an exact copy otherwise, on both sides of each boundary`, (t) => {
  const file = dataFile()
  const disk = fs.readFileSync(file)
  const problems: string[] = []
  let views = 0
  let copies = 0
  // Map offsets 0 and 3: alignment is the file's (offset + byteOffset), not byteOffset's.
  for (const mapOffset of [0, 3]) {
    using map = openSync(file, { offset: mapOffset, mode: 'copy-on-write' })
    for (const [Type, get] of TYPES) {
      const size = Type.BYTES_PER_ELEMENT
      // Every byte offset from one element before the third boundary to one after it.
      for (let byteOffset = 0; byteOffset <= 3 * size + 1; byteOffset++) {
        const label = `${Type.name} at offset ${mapOffset} + ${byteOffset}`
        const count = 5
        const { array, copied } = map.viewOrCopy(Type, byteOffset, count)
        const aligned = (mapOffset + byteOffset) % size === 0
        if (copied === aligned) problems.push(`${label}: copied ${copied}`)
        if (!(array instanceof Type) || array.length !== count) problems.push(`${label}: not a ${Type.name} of ${count}`)
        const expected = decoded(disk, get, size, mapOffset + byteOffset, count)
        if (!expected.every((v, i) => same(array[i], v)))
          problems.push(`${label}: [${[...(array as unknown as Iterable<unknown>)].join()}] != [${expected.join()}]`)
        // A store through the array: seen by map.read when it is a view of the map, not when a
        // copy. The map's bytes are then put back, so it keeps matching the file.
        const before = map.read(byteOffset, size)
        const stored = new Type(new ArrayBuffer(size), 0, 1)
        stored[0] = typeof array[0] === 'bigint' ? 0x0102030405060708n : 7
        array[0] = stored[0]
        const after = map.read(byteOffset, size)
        const storedBytes = Buffer.from(stored.buffer as ArrayBuffer)
        if (aligned && !after.equals(storedBytes)) problems.push(`${label}: a store through the view is not seen by map.read`)
        if (!aligned && !after.equals(before)) problems.push(`${label}: a store into the copy reached the map`)
        map.write(before, byteOffset)
        if (aligned) views++
        else copies++
      }
    }
  }
  t.log(`${views} views, ${copies} copies`)
  t.true(copies > 0 && views > 0)
  t.deepEqual(problems, [])
  t.true(fs.readFileSync(file).equals(disk), "'copy-on-write' stores never reached the file")
})

test("an aligned result shares the map's memory: a store through it is what map.read returns", (t) => {
  const file = dataFile()
  using map = openSync(file, { offset: 4, mode: 'copy-on-write' })
  const { array, copied } = map.viewOrCopy(Float64Array, 4, 2)
  t.false(copied)
  array[1] = Math.PI
  const bytes = map.read(12, 8)
  t.is(new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, true), Math.PI)
  t.deepEqual(map.viewOrCopy(Float64Array, 4, 2).array, array, 'a second call sees the same memory')
})

test('an unaligned copy defaults to as many elements as fit and allocates no external buffer', (t) => {
  const file = dataFile()
  const disk = fs.readFileSync(file)
  using map = openSync(file)
  const before = counters().externalBuffersCreated
  const { array, copied } = map.viewOrCopy(Float32Array, 1)
  t.true(copied)
  t.is(array.length, Math.floor((SIZE - 1) / 4))
  t.is(array[array.length - 1], new DataView(disk.buffer, disk.byteOffset).getFloat32(1 + (array.length - 1) * 4, true))
  t.is(counters().externalBuffersCreated, before, 'the copy is a plain heap TypedArray')
  t.is(map.viewOrCopy(Int16Array, SIZE, 0).array.length, 0, 'zero elements at the very end (odd offset: a copy)')
})

test('viewOrCopy errors carry the codes view() uses, aligned or not', (t) => {
  const file = dataFile()
  const map = openSync(file)
  for (const byteOffset of [SIZE - 4, SIZE - 3]) {
    t.throws(
      () => map.viewOrCopy(Float32Array, byteOffset, 2),
      {
        instanceOf: RangeError,
        code: 'ERR_OUT_OF_RANGE',
        message: /^Expected `length` to be at most [01] elements of 4 bytes \(the map's 4173 bytes from byteOffset/,
      },
      `offset ${byteOffset}`,
    )
  }
  for (const byteOffset of [SIZE + 1, SIZE + 2]) {
    t.throws(() => map.viewOrCopy(Float32Array, byteOffset), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE', message: /`byteOffset`/ })
  }
  t.throws(() => map.viewOrCopy(Float32Array, -1), {
    instanceOf: RangeError,
    code: 'ERR_OUT_OF_RANGE',
    message: /^Expected `byteOffset` to be a non-negative safe integer, got -1 \(number\)$/,
  })
  t.throws(() => map.viewOrCopy(Float32Array, 1, -1), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE', message: /`length`/ })
  t.throws(() => map.viewOrCopy(Float32Array, '1' as unknown as number), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => map.viewOrCopy(Array as never, 1), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: /`Type`/ })
  t.throws(() => map.viewOrCopy({} as never, 0), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: /`Type`/ })
  map.close()
  t.throws(() => map.viewOrCopy(Float32Array, 1), { code: 'ERR_MMAP_CLOSED' })
  t.throws(() => map.viewOrCopy(Float32Array, 0), { code: 'ERR_MMAP_CLOSED' })
})
