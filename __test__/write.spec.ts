// Writing: 'read-write' reaches the file and other maps of it; 'read' and 'copy-on-write' never
// change the file; write() is whole or error; read() and readInto() copy exactly node:fs's bytes.
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import test from 'ava'

import { openSync, type Mode } from '..'
import { exitedCleanly, runChild } from './child'
import { linuxOnly, python, sha256, tempFile } from './helpers'

const PAGE = 4096

/** The file's content and mtime, with the mtime first set to a past second so any write would move it. */
function snapshot(file: string): { sha: string; mtimeMs: number } {
  fs.utimesSync(file, 1_000_000_000, 1_000_000_000)
  return { sha: sha256(file), mtimeMs: fs.statSync(file).mtimeMs }
}
function unchanged(file: string): { sha: string; mtimeMs: number } {
  return { sha: sha256(file), mtimeMs: fs.statSync(file).mtimeMs }
}

/** `bytes` with `patch` copied in at `at`, as a new Buffer. */
function patched(bytes: Uint8Array, patch: Uint8Array, at: number): Buffer {
  const out = Buffer.from(bytes)
  out.set(patch, at)
  return out
}

test("a write through a 'read-write' view is seen at once by an untouched 'read' map and by fs.readFileSync after flushSync()", (t) => {
  const file = tempFile(3 * PAGE + 11)
  const original = fs.readFileSync(file)
  using reader = openSync(file) // not touched before the write: no private copy of any page yet
  using writer = openSync(file, { mode: 'read-write' })
  const patch = randomBytes(PAGE + 3)
  writer.bytes.set(patch, PAGE - 1) // spans three pages
  writer.view(Float64Array, 8, 1)[0] = Math.PI
  const expected = patched(patched(original, patch, PAGE - 1), new Uint8Array(new Float64Array([Math.PI]).buffer), 8)

  t.true(Buffer.from(reader.bytes).equals(expected))
  t.is(reader.dataView().getFloat64(8, true), Math.PI)
  writer.flushSync()
  t.true(fs.readFileSync(file).equals(expected))
})

for (const mode of ['read', 'copy-on-write'] as const) {
  test(`writes through '${mode}' views change the map's memory, never the file`, (t) => {
    const file = tempFile(2 * PAGE + 5)
    const original = fs.readFileSync(file)
    const before = snapshot(file)
    const map = openSync(file, { mode, offset: 3 })
    try {
      map.bytes[0] ^= 0xff
      map.view(Float64Array, 5)[0] = 1 // offset 3 + 5 is 8-aligned in the file
      map.dataView().setUint32(PAGE, 0xdeadbeef)
      if (mode === 'copy-on-write') t.is(map.write(Buffer.from('private'), PAGE + 100), 7)
      t.is(map.bytes[0], original[3] ^ 0xff)
      t.is(map.view(Float64Array, 5)[0], 1)
      t.is(map.dataView().getUint32(PAGE), 0xdeadbeef)
      if (mode === 'copy-on-write') t.is(map.read(PAGE + 100, 7).toString(), 'private')
      map.flushSync() // a no-op that succeeds
      using other = openSync(file, { offset: 3 }) // a new map sees the file, not the private copy
      t.true(Buffer.from(other.bytes).equals(original.subarray(3)))
    } finally {
      map.close()
    }
    t.deepEqual(unchanged(file), before)
    t.true(fs.readFileSync(file).equals(original))
  })
}

test("a stray write into a 'read' map in a child process exits 0 and leaves the file unchanged", (t) => {
  const file = tempFile(PAGE + 1)
  const before = snapshot(file)
  const child = runChild(`
    const { openSync } = require(process.env.MEMMAP_ROOT)
    const map = openSync(${JSON.stringify(file)}, { mode: 'read' })
    const first = map.bytes[0]
    map.bytes[0] ^= 0xff
    const flipped = map.bytes[0] === (first ^ 0xff)
    map.view(Float64Array)[0] = 1
    const float = map.view(Float64Array)[0]
    map.close()
    console.log(JSON.stringify({ flipped, float }))
  `)
  exitedCleanly(t, child)
  t.deepEqual(JSON.parse(child.stdout), { flipped: true, float: 1 })
  t.deepEqual(unchanged(file), before)
})

test("write() on a 'read' map throws ERR_MMAP_READ_ONLY and changes nothing", (t) => {
  const file = tempFile(100)
  const original = fs.readFileSync(file)
  const before = snapshot(file)
  const map = openSync(file)
  try {
    const error = t.throws(() => map.write(Buffer.alloc(10), 0), { code: 'ERR_MMAP_READ_ONLY' })
    t.is(error?.constructor, Error)
    t.true(map.read(0, 100).equals(original))
  } finally {
    map.close()
  }
  t.deepEqual(unchanged(file), before)
})

test("write() on 'read-write' with sourceOffset and length copies exactly that slice", (t) => {
  const file = tempFile(2 * PAGE)
  let expected: Buffer = fs.readFileSync(file)
  using map = openSync(file, { mode: 'read-write', offset: 5 })
  const source = randomBytes(300)
  t.is(map.write(source, PAGE - 50, 13, 101), 101)
  expected = patched(expected, source.subarray(13, 114), 5 + PAGE - 50)
  // Offsets and lengths count bytes whatever the source's element type.
  const floats = new Float64Array([Math.E, -0, NaN, 1e300])
  const floatBytes = new Uint8Array(floats.buffer)
  t.is(map.write(floats, 7, 3, 20), 20)
  expected = patched(expected, floatBytes.subarray(3, 23), 5 + 7)
  t.is(map.write(new DataView(source.buffer, source.byteOffset + 200, 50), 1000, 49), 1)
  expected = patched(expected, source.subarray(249, 250), 5 + 1000)
  map.flushSync()
  t.true(fs.readFileSync(file).equals(expected))
})

test('a write past the end throws ERR_OUT_OF_RANGE and writes nothing', (t) => {
  const file = tempFile(PAGE + 300)
  const original = fs.readFileSync(file)
  // Mapped [100, 100 + PAGE): the file goes on past the map's end, and must not be written there either.
  using map = openSync(file, { mode: 'read-write', offset: 100, length: PAGE })
  const attempts: Array<() => number> = [
    () => map.write(Buffer.alloc(10, 0xaa), PAGE - 5),
    () => map.write(Buffer.alloc(10, 0xaa), PAGE + 1),
    () => map.write(Buffer.alloc(10, 0xaa), 0, 4, 7),
    () => map.write(Buffer.alloc(10, 0xaa), 0, 11),
    () => map.write(new Float64Array(PAGE / 8 + 1), 0),
  ]
  for (const attempt of attempts) {
    t.throws(attempt, { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  }
  map.flushSync()
  t.true(map.read(0, PAGE).equals(original.subarray(100, 100 + PAGE)))
  t.true(fs.readFileSync(file).equals(original))
})

test('readInto() into a Float64Array or a DataView copies the same bytes as fs.readFileSync', (t) => {
  const file = tempFile(3 * PAGE + 7)
  const original = fs.readFileSync(file)
  using map = openSync(file, { offset: 3 })

  const floats = new Float64Array(5)
  t.is(map.readInto(floats, 17), 40)
  t.true(Buffer.from(floats.buffer).equals(original.subarray(3 + 17, 3 + 17 + 40)))

  // A DataView over the middle of a larger buffer: only its bytes are written.
  const backing = Buffer.alloc(PAGE + 20, 0x5a)
  const target = new DataView(backing.buffer, backing.byteOffset + 9, PAGE + 1)
  t.is(map.readInto(target, PAGE - 2), PAGE + 1)
  t.true(backing.subarray(9, 9 + PAGE + 1).equals(original.subarray(3 + PAGE - 2, 3 + 2 * PAGE - 1)))
  t.true(backing.subarray(0, 9).equals(Buffer.alloc(9, 0x5a)))
  t.true(backing.subarray(9 + PAGE + 1).equals(Buffer.alloc(10, 0x5a)))

  t.throws(() => map.readInto(new Float64Array(2), map.length - 15), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
})

test('read() returns a fresh copy: mutating it changes neither the map nor the file', (t) => {
  const file = tempFile(PAGE + 50)
  const original = fs.readFileSync(file)
  using map = openSync(file, { mode: 'read-write' })
  const copy = map.read(PAGE - 10, 40)
  t.true(copy.equals(original.subarray(PAGE - 10, PAGE + 30)))
  copy.fill(0)
  t.true(map.read(PAGE - 10, 40).equals(original.subarray(PAGE - 10, PAGE + 30)))
  map.write(Buffer.alloc(40, 0xee), PAGE - 10)
  t.true(copy.equals(Buffer.alloc(40))) // and later writes to the map don't reach the copy
  map.write(original.subarray(PAGE - 10, PAGE + 30), PAGE - 10)
  map.flushSync()
  t.true(fs.readFileSync(file).equals(original))
})

linuxOnly(test, 'python3')("read() of a 'read' map equals Python's mmap slices, and 'read-write' writes are seen by Python's mmap", (t) => {
  const file = tempFile(3 * PAGE + 123)
  const pyRead = (ranges: Array<[number, number]>): string[] =>
    JSON.parse(
      python(
        [
          'import json, mmap, sys',
          'f = open(sys.argv[1], "rb")',
          'm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)',
          'print(json.dumps([m[a:b].hex() for a, b in json.loads(sys.argv[2])]))',
        ].join('\n'),
        [file, JSON.stringify(ranges)],
      ),
    ) as string[]
  const mapOffset = 4097
  const ranges: Array<[number, number]> = [
    [0, 0],
    [0, 1],
    [5, 4096],
    [4095, 4097 + 3000],
    [100, 2 * PAGE + 23],
  ]
  const check = (mode: Mode): void => {
    using map = openSync(file, { mode, offset: mapOffset })
    const expected = pyRead(ranges.map(([a, b]) => [mapOffset + a, mapOffset + b]))
    t.deepEqual(
      ranges.map(([a, b]) => map.read(a, b - a).toString('hex')),
      expected,
      mode,
    )
  }
  check('read')
  const written = randomBytes(PAGE)
  {
    using writer = openSync(file, { mode: 'read-write', offset: mapOffset })
    writer.write(written, 50)
    writer.flushSync()
  }
  t.deepEqual(pyRead([[mapOffset + 50, mapOffset + 50 + PAGE]]), [written.toString('hex')])
  check('read')
  check('copy-on-write')
})
