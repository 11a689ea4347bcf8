// Regression (found by the model-based property test, model.spec.ts): two maps of one file show
// the same pages at unrelated addresses. readInto() into a view of the other map, or write() from
// one, copied with memmove, which orders an overlapping copy by address: copying file bytes
// [0, 8192) onto [4096, 12288) read bytes it had already overwritten. The oracle is the same copy
// done on a Buffer of the file's bytes (node:fs).
import * as fs from 'node:fs'
import test from 'ava'

import { openSync } from '..'
import { tempFile } from './helpers'

const PAGE = 4096

function pattern(n: number): Buffer {
  const data = Buffer.alloc(n)
  for (let i = 0; i < n; i++) data[i] = (i * 7 + (i >> 12)) % 251
  return data
}

/** The file after copying its bytes [from, from + n) to [to, to + n), from a snapshot. */
function copied(data: Buffer, from: number, to: number, n: number): Buffer {
  const out = Buffer.from(data)
  data.copy(out, to, from, from + n)
  return out
}

// Both directions (the target ahead of and behind the source in the file), through both calls,
// with the second map at a page offset and at an unaligned one.
for (const call of ['readInto', 'write'] as const) {
  for (const [from, to] of [
    [0, PAGE],
    [PAGE, 0],
    [100, PAGE + 7],
  ] as const) {
    test(`${call}() between two maps of one file copies file bytes [${from}, +8192) to [${to}, +8192) as from a snapshot, not as memmove by address`, (t) => {
      const data = pattern(4 * PAGE)
      const file = tempFile(data)
      const a = openSync(file, { mode: 'read-write' })
      const b = openSync(file, { mode: 'read-write', offset: to })
      t.teardown(() => {
        a.close()
        b.close()
      })
      const n = 2 * PAGE
      if (call === 'readInto') t.is(a.readInto(b.view(Uint8Array, 0, n), from), n)
      else t.is(b.write(a.view(Uint8Array, from, n), 0), n)
      t.true(fs.readFileSync(file).equals(copied(data, from, to, n)), 'the file holds the source bytes as they were before the copy')
      t.true(a.read(0, 4 * PAGE).equals(copied(data, from, to, n)))
    })
  }
}

test("readInto() from a 'read-write' map into a view of a 'copy-on-write' map of the same file copies the bytes before the copy", (t) => {
  const data = pattern(4 * PAGE)
  const file = tempFile(data)
  const shared = openSync(file, { mode: 'read-write' })
  const priv = openSync(file, { mode: 'copy-on-write' })
  t.teardown(() => {
    shared.close()
    priv.close()
  })
  // The private map's pages still show the file's until written: the copy aliases them.
  shared.readInto(priv.view(Uint8Array, PAGE, 2 * PAGE), 0)
  t.true(priv.read(0, 4 * PAGE).equals(copied(data, 0, PAGE, 2 * PAGE)))
  t.true(fs.readFileSync(file).equals(data), "the 'copy-on-write' map's stores stay private")
})

test('readInto() and write() within one map still copy overlapping ranges as memmove does', (t) => {
  const data = pattern(4 * PAGE)
  const file = tempFile(data)
  const map = openSync(file, { mode: 'read-write' })
  t.teardown(() => map.close())
  map.readInto(map.view(Uint8Array, 10, 3 * PAGE), 0)
  const once = copied(data, 0, 10, 3 * PAGE)
  t.true(fs.readFileSync(file).equals(once))
  map.write(map.view(Uint8Array, 10, 3 * PAGE), 0)
  t.true(fs.readFileSync(file).equals(copied(once, 10, 0, 3 * PAGE)))
})
