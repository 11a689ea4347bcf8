// The chunk cache of views (js/view-cache.ts), with a tiny `max` so every case is small: which
// chunk serves a window, that a window of at most half a chunk always fits in one, that a
// straddling window gets a buffer of its own, and that chunks are made once and remade after a
// transfer. The oracle is a brute-force search over all chunks.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import test from 'ava'

import { openSync } from '..'
import { chunkFor, strideOf, ViewCache } from '../js/view-cache'

const MAX = 64

test('a map that fits in one buffer is one chunk, shifted by offset % 8', (t) => {
  t.deepEqual(chunkFor(10, 5, 50, 3, MAX), { k: 0, begin: 0, size: 53, at: 13 })
  t.deepEqual(chunkFor(0, 61, 61, 3, MAX), { k: 0, begin: 0, size: 64, at: 3 })
})

test('chunkFor agrees with a brute-force search over the overlapping chunks, and a window of at most half a chunk always fits', (t) => {
  const stride = strideOf(MAX)
  t.is(stride, 32)
  for (const shift of [0, 3, 7]) {
    for (const length of [65, 100, 200]) {
      const whole = length + shift
      for (let start = 0; start <= length; start++) {
        for (let bytes = 0; start + bytes <= length; bytes++) {
          const slot = chunkFor(start, bytes, length, shift, MAX)
          // Brute force: the first chunk (by k) whose range holds the whole window.
          let expected = null
          for (let k = 0; k * stride < whole; k++) {
            const begin = k * stride
            const size = Math.min(MAX, whole - begin)
            if (begin <= start + shift && start + shift + bytes <= begin + size) {
              expected = k
              break
            }
          }
          if (slot === null) {
            t.true(bytes > stride, `only windows longer than half a chunk straddle (start ${start}, ${bytes} bytes)`)
          } else {
            t.true(slot.begin <= start + shift && slot.at + bytes <= slot.size, `the slot holds the window (start ${start}, ${bytes} bytes)`)
            t.is(slot.at, start + shift - slot.begin)
            if (expected !== null && slot.k !== expected) t.true(slot.k > expected, 'a later chunk, also holding it')
          }
        }
      }
    }
  }
})

test('ViewCache makes each chunk once, a straddling window its own buffer, and remakes a chunk moved away by transfer()', (t) => {
  const made: [number, number, number][] = []
  const cache = new ViewCache((shift, start, length) => (made.push([shift, start, length]), new ArrayBuffer(length)), 3, MAX)
  const [a, atA] = cache.window(200, 10, 8)
  const [b, atB] = cache.window(200, 12, 8)
  t.is(a, b, 'the same chunk serves both windows')
  t.deepEqual([atA, atB], [13, 15])
  const [own, atOwn] = cache.window(200, 60, 40)
  t.is(own.byteLength, 40)
  t.is(atOwn, 0)
  t.deepEqual(made, [
    [3, 0, 64],
    [0, 60, 40],
  ])
  if ('transfer' in ArrayBuffer.prototype) {
    ;(a as ArrayBuffer & { transfer(): ArrayBuffer }).transfer()
    const [again] = cache.window(200, 10, 8)
    t.not(again, a)
    t.is(again.byteLength, 64)
  }
  cache.drop()
  cache.window(200, 10, 8)
  t.deepEqual(made.at(-1), [3, 0, 64], 'dropped chunks are made again')
})

test('the chunk of an empty map is a heap buffer that drop() detaches', (t) => {
  const cache = new ViewCache(() => t.fail('nothing to map') as never, 5, MAX)
  const [chunk, at] = cache.window(0, 0, 0)
  t.is(chunk.byteLength, 5)
  t.is(at, 5)
  cache.drop()
  t.is(chunk.byteLength, 0)
})

test("view()'s fast path (built-in type, plain integers, the whole-map chunk made) and its full path give the same bytes as node:fs, and the same errors", (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-fastview-'))
  const bytes = Buffer.alloc(3 * 4096 + 40)
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 0xff
  const file = path.join(dir, 'f.bin')
  fs.writeFileSync(file, bytes)
  for (const offset of [0, 3, 8, 4100]) {
    using map = openSync(file, { offset })
    const expected = bytes.subarray(offset)
    void map.bytes // makes the whole-map chunk: later views take the fast path
    let seed = offset + 1
    for (let i = 0; i < 300; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      const Type = [Uint8Array, Int16Array, Int32Array, Float64Array][seed % 4] as typeof Uint8Array
      const size = Type.BYTES_PER_ELEMENT
      const first = Math.ceil(offset / size) * size - offset // the first aligned byte of the map
      const at = first + ((seed >>> 8) % Math.max(1, Math.floor((map.length - first) / size))) * size
      if (at > map.length) continue
      const count = (seed >>> 4) % (Math.floor((map.length - at) / size) + 1)
      const plain = map.view(Type, at, count)
      const full = map.view(Type, BigInt(at), BigInt(count)) // bigints take the full path
      const want = expected.subarray(at, at + count * size)
      t.deepEqual(Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength), want)
      t.deepEqual(Buffer.from(full.buffer, full.byteOffset, full.byteLength), want)
    }
    t.throws(() => map.view(Int32Array, map.length + 4 - (map.length % 4), 1), { code: 'ERR_OUT_OF_RANGE' })
    t.throws(() => map.view(Int32Array, 0.5, 1), { code: 'ERR_OUT_OF_RANGE' })
    t.throws(() => map.view(Int32Array, -4, 1), { code: 'ERR_OUT_OF_RANGE' })
    if (offset % 4 === 0) t.throws(() => map.view(Int32Array, 2, 1), { code: 'ERR_MMAP_UNALIGNED' })
    map.close()
    t.throws(() => map.view(Uint8Array, 0, 1), { code: 'ERR_MMAP_CLOSED' })
  }
  fs.rmSync(dir, { recursive: true, force: true })
})
