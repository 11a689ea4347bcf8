// resize() and remap(): a 'read-write' map and its file grow and shrink together, contents kept
// and every old view detached; 'read' and 'copy-on-write' refuse resize(); allocate() maps resize;
// a 'read' map follows a file another process appends to. Oracles: node:fs and the kernel.
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import test, { type ExecutionContext } from 'ava'

import { allocate, openSync, type MappedFile } from '..'
import { exitedCleanly, runChild } from './child'
import { sha256, tempFile } from './helpers'

const PAGE = 4096
const GIB = 1 << 30

/** `length` bytes of the file at `position`, read with node:fs (fewer if the file is shorter). */
function preadFile(file: string, position: number, length: number): Buffer {
  const fd = fs.openSync(file, 'r')
  try {
    const out = Buffer.alloc(length)
    const n = fs.readSync(fd, out, 0, length, position)
    return out.subarray(0, n)
  } finally {
    fs.closeSync(fd)
  }
}

/** Every kind of view the map hands out, for checking that resize() detached them all. */
function takeViews(map: MappedFile): ArrayBufferView[] {
  return [
    map.bytes,
    new Uint8Array(map.buffer),
    map.view(Uint8Array, 1, 16),
    map.view(Buffer, 2, 16),
    map.dataView(3, 16),
    // 8-aligned in the file: over the internal aligned buffer when the map's offset is unaligned.
    map.view(Float64Array, (8 - (map.offset % 8)) % 8, 2),
  ]
}

function assertDetached(t: { is: (a: unknown, b: unknown, m?: string) => void }, views: ArrayBufferView[]): void {
  for (const [i, v] of views.entries()) {
    // A DataView over a detached buffer throws on byteLength; a TypedArray reports 0.
    if (!(v instanceof DataView)) t.is(v.byteLength, 0, `view ${i} (${v.constructor.name}) is detached`)
    t.is(v.buffer.byteLength, 0, `the ArrayBuffer of view ${i} (${v.constructor.name}) is detached`)
  }
}

/** Appends `data` to `file` from another process (a child runtime with node:fs), as a log writer would. */
function appendFromAnotherProcess(t: ExecutionContext, file: string, data: Buffer): void {
  exitedCleanly(t, runChild(`fs.appendFileSync(file, Buffer.from(process.env.DATA, 'hex'))`, { file, env: { DATA: data.toString('hex') } }))
}

test("a 'read-write' map grows from 4 KiB to 1 GiB and back, keeping its contents and setting the file size", (t) => {
  const file = tempFile(PAGE)
  const original = fs.readFileSync(file)
  const map = openSync(file, { mode: 'read-write' })
  t.teardown(() => map.close())
  t.is(map.length, PAGE)
  const small = takeViews(map)

  map.resize(GIB)
  t.is(map.length, GIB)
  t.is(fs.statSync(file).size, GIB)
  t.is(map.fileSize, GIB)
  assertDetached(t, small)
  t.true(map.read(0, PAGE).equals(original), 'the first 4 KiB are kept')
  t.true(map.read(PAGE, PAGE).equals(Buffer.alloc(PAGE)), 'the grown part reads as zeros')
  t.true(map.read(GIB - PAGE, PAGE).equals(Buffer.alloc(PAGE)), 'the grown part reads as zeros up to the end')

  // A marker near 1 GiB, across a page boundary, through a view and through write().
  const marker = randomBytes(64)
  const at = GIB - 2 * PAGE - 32
  const big = map.bytes
  t.is(big.byteLength, GIB)
  big.set(marker, at)
  t.is(map.write(marker, GIB - marker.length), marker.length)
  map.flushSync()
  t.true(preadFile(file, at, marker.length).equals(marker), 'the marker reached the file')
  t.true(preadFile(file, GIB - marker.length, marker.length).equals(marker), 'the last bytes reached the file')
  const bigViews = takeViews(map)

  map.resize(PAGE)
  t.is(map.length, PAGE)
  t.is(fs.statSync(file).size, PAGE)
  t.is(map.fileSize, PAGE)
  assertDetached(t, [big, ...bigViews])
  t.true(map.read(0, PAGE).equals(original), 'the first 4 KiB are kept after the shrink')
  t.true(fs.readFileSync(file).equals(original), 'the file holds exactly the first 4 KiB')
  t.is(map.bytes.byteLength, PAGE)
  t.true(Buffer.from(map.bytes).equals(original))

  // The marker is gone from the file: grown again (by fs and by the map), those bytes are zeros.
  fs.truncateSync(file, GIB)
  t.true(preadFile(file, at, marker.length).equals(Buffer.alloc(marker.length)), 'the marker is gone from the file')
  t.true(preadFile(file, GIB - marker.length, marker.length).equals(Buffer.alloc(marker.length)))
  map.resize(GIB)
  t.true(map.read(at, marker.length).equals(Buffer.alloc(marker.length)), 'the regrown map shows zeros where the marker was')
  t.true(map.read(0, PAGE).equals(original))
})

test('resize() with an unaligned offset (4097) keeps the contents and sets the file size to offset + newLength', (t) => {
  const OFFSET = PAGE + 1
  const file = tempFile(3 * PAGE + 11)
  const original = fs.readFileSync(file)
  const map = openSync(file, { mode: 'read-write', offset: OFFSET })
  t.teardown(() => map.close())
  t.is(map.length, original.length - OFFSET)
  const before = takeViews(map)

  const grown = 5 * PAGE + 123
  map.resize(grown)
  assertDetached(t, before)
  t.is(map.length, grown)
  t.is(map.offset, OFFSET)
  t.is(fs.statSync(file).size, OFFSET + grown)
  t.true(map.read(0, original.length - OFFSET).equals(original.subarray(OFFSET)), 'the mapped bytes are kept')
  t.true(map.read(original.length - OFFSET, grown - (original.length - OFFSET)).equals(Buffer.alloc(grown - (original.length - OFFSET))))
  const tail = randomBytes(100)
  map.write(tail, grown - tail.length)
  t.is(map.view(Float64Array, 7, 1).byteOffset % 8, 0, 'an 8-aligned file offset is 8-aligned in memory')
  map.flushSync()
  const onDisk = fs.readFileSync(file)
  t.true(onDisk.subarray(0, OFFSET).equals(original.subarray(0, OFFSET)), 'bytes before the offset are untouched')
  t.true(onDisk.subarray(OFFSET, original.length).equals(original.subarray(OFFSET)))
  t.true(onDisk.subarray(OFFSET + grown - tail.length).equals(tail))
  const afterGrow = takeViews(map)

  map.resize(10)
  assertDetached(t, afterGrow)
  t.is(map.length, 10)
  t.is(fs.statSync(file).size, OFFSET + 10)
  t.true(map.read(0, 10).equals(original.subarray(OFFSET, OFFSET + 10)))
  t.true(Buffer.from(map.bytes).equals(original.subarray(OFFSET, OFFSET + 10)))
  t.true(fs.readFileSync(file).equals(original.subarray(0, OFFSET + 10)))
})

test("resize() on a 'read' map throws ERR_MMAP_READ_ONLY and changes neither the map nor the file", (t) => {
  const file = tempFile(2 * PAGE + 3)
  const before = { sha: sha256(file), size: fs.statSync(file).size }
  using map = openSync(file)
  const view = map.bytes
  const error = t.throws(() => map.resize(4 * PAGE), { code: 'ERR_MMAP_READ_ONLY', instanceOf: Error })
  t.false(error instanceof RangeError || error instanceof TypeError)
  t.throws(() => map.resize(PAGE), { code: 'ERR_MMAP_READ_ONLY' })
  t.is(map.length, 2 * PAGE + 3)
  t.is(view.byteLength, 2 * PAGE + 3, 'a refused resize() detaches nothing')
  t.true(map.read(0, map.length).equals(fs.readFileSync(file)))
  t.deepEqual({ sha: sha256(file), size: fs.statSync(file).size }, before)
})

test("resize() on a 'copy-on-write' map throws ERR_MMAP_UNSUPPORTED and changes neither the map nor the file", (t) => {
  const file = tempFile(2 * PAGE + 3)
  const before = { sha: sha256(file), size: fs.statSync(file).size }
  using map = openSync(file, { mode: 'copy-on-write' })
  map.write(Buffer.from('private'), 0)
  const view = map.bytes
  t.throws(() => map.resize(4 * PAGE), { code: 'ERR_MMAP_UNSUPPORTED', instanceOf: Error })
  t.throws(() => map.resize(PAGE), { code: 'ERR_MMAP_UNSUPPORTED' })
  t.is(map.length, 2 * PAGE + 3)
  t.is(view.byteLength, 2 * PAGE + 3, 'a refused resize() detaches nothing')
  t.is(map.read(0, 7).toString(), 'private', 'the private copy is kept')
  t.deepEqual({ sha: sha256(file), size: fs.statSync(file).size }, before)
})

test('an allocate() map grows and shrinks with resize(), keeping its contents and detaching its views', (t) => {
  const map = allocate(PAGE)
  t.teardown(() => map.close())
  const data = randomBytes(PAGE)
  map.bytes.set(data)
  const before = takeViews(map)

  map.resize(64 << 20)
  assertDetached(t, before)
  t.is(map.length, 64 << 20)
  t.is(map.path, null)
  t.true(map.read(0, PAGE).equals(data), 'contents kept on growth')
  t.true(map.read(PAGE, PAGE).equals(Buffer.alloc(PAGE)), 'the grown part is zero-filled')
  t.true(map.read((64 << 20) - PAGE, PAGE).equals(Buffer.alloc(PAGE)))
  const far = randomBytes(32)
  map.bytes.set(far, (64 << 20) - 100)
  const grownViews = takeViews(map)

  map.resize(PAGE + 10)
  assertDetached(t, grownViews)
  t.is(map.length, PAGE + 10)
  t.true(map.read(0, PAGE).equals(data), 'contents kept on shrink')
  t.true(Buffer.from(map.bytes.subarray(0, PAGE)).equals(data))

  map.resize(64 << 20)
  t.true(map.read(0, PAGE).equals(data))
  t.true(map.read((64 << 20) - 100, 32).equals(Buffer.alloc(32)), 'bytes cut off by a shrink come back as zeros')
})

test("remap() on a 'read' map follows a file that another process appends to", (t) => {
  const file = tempFile(5000)
  using map = openSync(file)
  t.is(map.length, 5000)
  const first = takeViews(map)
  t.is(map.remap(), 5000, 'nothing appended yet: the same length')

  const appended = randomBytes(3 * PAGE + 7)
  appendFromAnotherProcess(t, file, appended)
  const taken = takeViews(map)
  t.is(map.remap(), 5000 + appended.length)
  t.is(map.length, 5000 + appended.length)
  assertDetached(t, taken)
  t.true(map.read(5000, appended.length).equals(appended), 'the new tail reads as appended')
  t.true(map.read(0, map.length).equals(fs.readFileSync(file)))
  t.true(Buffer.from(map.bytes).equals(fs.readFileSync(file)))

  // A second append, a line of text.
  const line = 'event 2: appended by another process\n'
  appendFromAnotherProcess(t, file, Buffer.from(line))
  const views = takeViews(map)
  t.is(map.remap(), 5000 + appended.length + line.length)
  assertDetached(t, views)
  t.is(map.read(5000 + appended.length, line.length).toString(), line)
  t.is(map.lastIndexOf('event 2'), 5000 + appended.length)
  t.true(
    first.every((v) => v.buffer.byteLength === 0),
    'views from before every remap are detached',
  )
})
