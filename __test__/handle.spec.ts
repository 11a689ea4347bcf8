// The binding's map values (crates/node/src/handle.rs): an External holding an id into the
// thread's table of open maps. `close` frees the native state at once, so a value kept past its
// close must never reach freed memory, and a value that is not a map must never be read as one.
// The oracle is the file on disk (node:fs) and the coded errors.
import * as fs from 'node:fs'
import test from 'ava'

import { tempFile } from './helpers'

type Binding = typeof import('../native/binding') & {
  open(...args: unknown[]): import('../native/binding').NativeMap
  close(map: unknown): void
  length(map: unknown): number
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { native } = require('../dist/native.js') as { native: Binding }

/** A 'read-write' map of `file` through the raw binding (the positional request of js/options.ts). */
const openRaw = (file: string) => native.open(file, -1, 1, 0, -1, 0, 0o666, -1, 4, undefined)

/** The code of a raw binding error: its message is the JSON the TypeScript layer decodes. */
function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    const message = (error as Error).message
    return message.startsWith('{') ? (JSON.parse(message) as { code: string }).code : `not coded: ${message}`
  }
  return 'no error'
}

test('a map value kept past close() gives ERR_MMAP_CLOSED from every call and never reaches the freed map', (t) => {
  const file = tempFile(8192)
  const before = fs.readFileSync(file)
  const map = openRaw(file)
  t.is(native.length(map), 8192)
  native.close(map)
  native.close(map) // idempotent
  // Maps made after it take the freed memory: the stale value must not reach them.
  const others = Array.from({ length: 8 }, () => openRaw(file))
  t.is(
    codeOf(() => native.length(map)),
    'ERR_MMAP_CLOSED',
  )
  t.is(
    codeOf(() => native.write(map, new Uint8Array([1, 2, 3]), 0)),
    'ERR_MMAP_CLOSED',
  )
  t.is(
    codeOf(() => native.read(map, 0, 4)),
    'ERR_MMAP_CLOSED',
  )
  t.is(
    codeOf(() => native.createBuffer(map, 0, 0, 4096)),
    'ERR_MMAP_CLOSED',
  )
  t.is(
    codeOf(() => native.resize(map, 4096)),
    'ERR_MMAP_CLOSED',
  )
  for (const other of others) {
    t.is(native.length(other), 8192)
    native.close(other)
  }
  t.deepEqual(fs.readFileSync(file), before)
})

test('a value that is not a map is refused with an error and read as nothing', (t) => {
  const file = tempFile(4096)
  const before = fs.readFileSync(file)
  const map = openRaw(file)
  const hold = native.hold(map) // a binding object of another kind
  for (const value of [{}, 42, null, undefined, 'map', new ArrayBuffer(8), hold]) {
    t.throws(() => native.write(value as never, new Uint8Array([9]), 0), undefined, String(value))
    t.throws(() => native.close(value), undefined, String(value))
    t.throws(() => native.length(value), undefined, String(value))
  }
  t.is(native.length(map), 4096)
  native.close(map)
  t.deepEqual(fs.readFileSync(file), before)
})
