// A map used only through copies (read, readInto, write, flush) creates no external ArrayBuffer,
// so it never makes V8 detach one (SPEC §4.1). The binding counts the buffers it creates.
import * as fs from 'node:fs'
import { randomBytes } from 'node:crypto'
import test from 'ava'

import { openSync } from '..'
import { tempFile } from './helpers'

/** The binding's own counters (not part of the public API). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const binding = require('../dist/native.js') as { native: { counters(): { externalBuffersCreated: number } } }
const created = (): number => binding.native.counters().externalBuffersCreated

for (const offset of [0, 3]) {
  test(`a map at offset ${offset} used only through read, readInto, write and flushSync creates no external buffer`, (t) => {
    const file = tempFile(3 * 4096 + 17)
    const original = fs.readFileSync(file)
    const before = created()
    {
      using map = openSync(file, { mode: 'read-write', offset })
      t.true(map.read(5, 4096).equals(original.subarray(offset + 5, offset + 4101)))
      const floats = new Float64Array(4)
      t.is(map.readInto(floats, 5), 32)
      t.is(map.readInto(new DataView(new ArrayBuffer(9)), 1), 9)
      const patch = randomBytes(100)
      t.is(map.write(patch, 4000), 100)
      t.is(map.write(floats, 20, 8, 16), 16)
      map.flushSync()
      map.flushSync({ offset: 4000, length: 100 })
      t.true(map.read(4000, 100).equals(patch))
    }
    {
      using map = openSync(file, { offset })
      t.is(map.read(0, 0).length, 0)
      t.is(map.readInto(new Uint8Array(map.length)), map.length)
      map.flushSync()
    }
    t.is(created(), before)
  })
}

test('bytes creates exactly one external buffer, and view(Float64Array) on an unaligned map one more', (t) => {
  const file = tempFile(4096)
  {
    using map = openSync(file, { offset: 0 })
    const before = created()
    void map.bytes
    t.is(created(), before + 1)
    void map.bytes
    void map.buffer
    void map.view(Float64Array, 8)
    void map.dataView(1, 2)
    t.is(created(), before + 1) // an 8-aligned map builds its views over `buffer` itself
  }
  {
    using map = openSync(file, { offset: 3 })
    const before = created()
    void map.bytes
    t.is(created(), before + 1)
    void map.view(Float64Array, 5)
    t.is(created(), before + 2) // the internal 8-aligned buffer starting 3 bytes early
    void map.view(Float64Array, 13)
    void map.view(Int32Array, 1)
    void map.dataView()
    t.is(created(), before + 2)
  }
})
