// Runtimes that forbid external ArrayBuffers (Electron's V8 sandbox, SPEC §4.4), and the 'read'
// fallback to a truly read-only map (SPEC §4.2), both by injection: the test build of the binding
// (native-test/, `npm run build:test-hooks`, loaded with MEMMAP_TEST_BINDING=1) makes
// napi_create_external_arraybuffer return the status in MEMMAP_TEST_EXTERNAL_STATUS (22 =
// napi_no_external_buffers_allowed) or set by `setTestHooks(status, forceReadOnly)`, and can refuse
// the private writable map. The production binary has no such hooks. Every scenario runs in a
// child; the oracles are node:fs and /proc.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { randomBytes } from 'node:crypto'
import test, { type ExecutionContext } from 'ava'

import { externalBuffersSupported } from '..'
import { child, killedBy, runChild } from './child'
import { ROOT, sha256, tempDir, tempFile } from './helpers'

const NO_EXTERNAL_BUFFERS = 22 // napi_no_external_buffers_allowed
const GENERIC_FAILURE = 9 // napi_generic_failure
const TEST_BINDING = { MEMMAP_TEST_BINDING: '1' }
const REFUSED = { ...TEST_BINDING, MEMMAP_TEST_EXTERNAL_STATUS: String(NO_EXTERNAL_BUFFERS) }
const SIZE = 3 * 4096 + 17

const dir = tempDir('memmap-electron-')
let fileCount = 0
function newFile(size = SIZE): string {
  return tempFile(size, `file-${fileCount++}.bin`, dir)
}

/** Child code: loads memmap, then `binding`, the test build it loaded (MEMMAP_TEST_BINDING=1). */
const BINDING = "void memmap\nconst binding = require(process.env.MEMMAP_ROOT + '/native-test/binding.js')\n"

interface Thrown {
  name: string
  code: unknown
  errno?: number
  syscall?: string
  path?: string
  message: string
}

/** Runs `code` after BINDING in a child, asserts it exited cleanly, returns its report. */
function childWithBinding<T>(t: ExecutionContext, code: string, file: string, env: NodeJS.ProcessEnv): T {
  return child<T>(t, BINDING + code, { file, env })
}

const VIEW_ACCESSORS = ['buffer', 'bytes', 'view(Uint8Array)', 'view(Float64Array)', 'view(Buffer)', 'dataView()'] as const
/** Child code: an object of what each view accessor of `map` throws (null when it returns). */
const viewAttempts = (map: string, offset: number): string => `({
  'buffer': thrown(() => ${map}.buffer),
  'bytes': thrown(() => ${map}.bytes),
  'view(Uint8Array)': thrown(() => ${map}.view(Uint8Array, 1, 10)),
  'view(Float64Array)': thrown(() => ${map}.view(Float64Array, ${(8 - (offset % 8)) % 8}, 4)),
  'view(Buffer)': thrown(() => ${map}.view(Buffer)),
  'dataView()': thrown(() => ${map}.dataView()),
})`

for (const mode of ['read', 'read-write', 'copy-on-write'] as const) {
  for (const offset of [0, 5]) {
    test(`with external buffers refused (status 22), externalBuffersSupported is false and buffer, bytes, view and dataView of a '${mode}' map at offset ${offset} throw ERR_MMAP_EXTERNAL_BUFFERS_UNSUPPORTED`, (t) => {
      const file = newFile()
      const r = childWithBinding<{
        hooks: boolean
        supported: boolean
        first: Record<string, Thrown | null>
        again: Record<string, Thrown | null>
        counters: { created: number; live: number }
        read: string
        mapsOpen: number
        mapsAfter: number
        fdsAfter: number
      }>(
        t,
        `
        const before = require(process.env.MEMMAP_ROOT + '/dist/native.js').native.counters()
        const map = memmap.openSync(file, { mode: '${mode}', offset: ${offset} })
        const first = ${viewAttempts('map', offset)}
        const again = ${viewAttempts('map', offset)}
        const after = require(process.env.MEMMAP_ROOT + '/dist/native.js').native.counters()
        const read = map.read(0, map.length).toString('hex')
        const mapsOpen = fileMaps().length
        map.close()
        report({
          hooks: binding.hasTestHooks(), supported: memmap.externalBuffersSupported, first, again,
          counters: { created: after.externalBuffersCreated - before.externalBuffersCreated, live: after.externalBuffersLive - before.externalBuffersLive },
          read, mapsOpen, mapsAfter: fileMaps().length, fdsAfter: fileFds(),
        })
        `,
        file,
        REFUSED,
      )
      t.true(r.hooks, 'the child runs the test build')
      t.false(r.supported)
      for (const attempt of [r.first, r.again]) {
        t.deepEqual(Object.keys(attempt), [...VIEW_ACCESSORS])
        for (const accessor of VIEW_ACCESSORS) t.like(attempt[accessor], { name: 'Error', code: 'ERR_MMAP_EXTERNAL_BUFFERS_UNSUPPORTED' }, accessor)
      }
      t.deepEqual(r.counters, { created: 0, live: 0 }, 'no external buffer was created, none is left over')
      t.is(r.read, fs.readFileSync(file).subarray(offset).toString('hex'), 'read() still works on the same map')
      t.true(r.mapsOpen >= 1)
      t.is(r.mapsAfter, 0)
      t.is(r.fdsAfter, 0)
    })
  }
}

test("with external buffers refused, read, readInto, write, indexOf, lastIndexOf and flushSync of a 'read-write' map work and reach the file", (t) => {
  const file = newFile()
  const original = fs.readFileSync(file)
  const offset = 5
  const patch = randomBytes(100)
  const floats = new Float64Array([1.5, -2.25, Math.PI, 1e300])
  const needle = original.subarray(offset + 6000, offset + 6012)
  const r = childWithBinding<{
    supported: boolean
    views: Record<string, Thrown | null>
    read: string
    readIntoCount: number
    readInto: string
    readIntoDv: string
    written: number[]
    indexOf: number
    lastIndexOf: number
    indexOfByte: number
    flush: Thrown | null
    flushRange: Thrown | null
    fileAfterFlush: string
    asyncOpen: string
  }>(
    t,
    `
    main().catch((e) => { console.error(e); process.exit(1) })
    async function main() {
      const map = memmap.openSync(file, { mode: 'read-write', offset: ${offset} })
      const views = ${viewAttempts('map', offset)}
      const read = map.read(7, 300).toString('hex')
      const target = new Float64Array(4)
      const readIntoCount = map.readInto(target, 3)
      const dv = new DataView(new ArrayBuffer(9))
      map.readInto(dv, 1)
      const written = [
        map.write(Buffer.from(process.env.PATCH, 'hex'), 4000),
        map.write(new Float64Array(JSON.parse(process.env.FLOATS)), 20, 8, 16),
      ]
      const needle = Buffer.from(process.env.NEEDLE, 'hex')
      const indexOf = map.indexOf(needle)
      const lastIndexOf = map.lastIndexOf(needle)
      const indexOfByte = map.indexOf(needle[0], 100)
      const flush = thrown(() => map.flushSync())
      const flushRange = thrown(() => map.flushSync({ offset: 4000, length: 100 }))
      const fileAfterFlush = fs.readFileSync(file).toString('hex')
      map.close()
      const later = await memmap.open(file, { offset: ${offset} })
      const asyncOpen = later.read(0, later.length).toString('hex')
      later.close()
      report({
        supported: memmap.externalBuffersSupported, views, read, readIntoCount, readInto: hex(target), readIntoDv: hex(dv), written,
        indexOf, lastIndexOf, indexOfByte, flush, flushRange, fileAfterFlush, asyncOpen,
      })
    }
    `,
    file,
    {
      ...REFUSED,
      PATCH: patch.toString('hex'),
      FLOATS: JSON.stringify([...floats]),
      NEEDLE: needle.toString('hex'),
    },
  )
  t.false(r.supported)
  for (const accessor of VIEW_ACCESSORS) t.like(r.views[accessor], { name: 'Error', code: 'ERR_MMAP_EXTERNAL_BUFFERS_UNSUPPORTED' }, accessor)

  const mapped = original.subarray(offset)
  t.is(r.read, mapped.subarray(7, 307).toString('hex'), 'read()')
  t.is(r.readIntoCount, 32)
  t.is(r.readInto, mapped.subarray(3, 35).toString('hex'), 'readInto(Float64Array)')
  t.is(r.readIntoDv, mapped.subarray(1, 10).toString('hex'), 'readInto(DataView)')
  t.is(r.indexOf, mapped.indexOf(needle), 'indexOf() as Buffer#indexOf')
  t.is(r.lastIndexOf, mapped.lastIndexOf(needle), 'lastIndexOf() as Buffer#lastIndexOf')
  t.is(r.indexOfByte, mapped.indexOf(needle[0], 100), 'indexOf(byte, from) as Buffer#indexOf')
  t.deepEqual(r.written, [100, 16])
  t.is(r.flush, null)
  t.is(r.flushRange, null)

  const expected = Buffer.from(original)
  patch.copy(expected, offset + 4000)
  Buffer.from(floats.buffer, 8, 16).copy(expected, offset + 20)
  t.is(r.fileAfterFlush, expected.toString('hex'), 'fs.readFileSync in the child after flushSync')
  t.true(fs.readFileSync(file).equals(expected), 'fs.readFileSync after the child exited')
  t.is(r.asyncOpen, expected.subarray(offset).toString('hex'), 'open() works and reads the file')
})

test('status injected after load: bytes throws ERR_MMAP_EXTERNAL_BUFFERS_UNSUPPORTED for 22 and ERR_MMAP_UNSUPPORTED for another failure, and works again once cleared', (t) => {
  const file = newFile()
  const r = childWithBinding<{ supported: boolean; refused: Thrown | null; failed: Thrown | null; cleared: Thrown | null; bytes: string; created: number }>(
    t,
    `
    const map = memmap.openSync(file)
    const before = require(process.env.MEMMAP_ROOT + '/dist/native.js').native.counters().externalBuffersCreated
    binding.setTestHooks(${NO_EXTERNAL_BUFFERS}, false)
    const refused = thrown(() => map.bytes)
    binding.setTestHooks(${GENERIC_FAILURE}, false)
    const failed = thrown(() => map.bytes)
    binding.setTestHooks(0, false)
    const cleared = thrown(() => map.bytes)
    const bytes = hex(map.bytes)
    const created = require(process.env.MEMMAP_ROOT + '/dist/native.js').native.counters().externalBuffersCreated - before
    map.close()
    report({ supported: memmap.externalBuffersSupported, refused, failed, cleared, bytes, created })
    `,
    file,
    TEST_BINDING,
  )
  t.true(r.supported, 'probed at load, before the injection')
  t.like(r.refused, { name: 'Error', code: 'ERR_MMAP_EXTERNAL_BUFFERS_UNSUPPORTED' })
  t.like(r.failed, { name: 'Error', code: 'ERR_MMAP_UNSUPPORTED' })
  t.is(r.cleared, null)
  t.is(r.bytes, fs.readFileSync(file).toString('hex'))
  t.is(r.created, 1, 'only the successful attempt created a buffer')
})

test('the test binding without MEMMAP_TEST_EXTERNAL_STATUS reports externalBuffersSupported true and its views equal the file', (t) => {
  const file = newFile()
  const r = childWithBinding<{ hooks: boolean; supported: boolean; bytes: string; dataView: string }>(
    t,
    `
    const map = memmap.openSync(file, { offset: 5 })
    report({
      hooks: binding.hasTestHooks(), supported: memmap.externalBuffersSupported, bytes: hex(map.bytes),
      dataView: hex(map.dataView(3, 100)),
    })
    map.close()
    `,
    file,
    TEST_BINDING,
  )
  const mapped = fs.readFileSync(file).subarray(5)
  t.true(r.hooks)
  t.true(r.supported)
  t.is(r.bytes, mapped.toString('hex'))
  t.is(r.dataView, mapped.subarray(3, 103).toString('hex'))
})

test('the production binding has no test hooks: hasTestHooks() is false, setTestHooks is absent, and external buffers are supported', (t) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const production = require(path.join(ROOT, 'native', 'binding.js')) as Record<string, unknown> & { hasTestHooks(): boolean }
  t.false(production.hasTestHooks())
  t.is(production.setTestHooks, undefined)
  t.true(externalBuffersSupported)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const testBuild = require(path.join(ROOT, 'native-test', 'binding.js')) as Record<string, unknown> & { hasTestHooks(): boolean }
  t.true(testBuild.hasTestHooks())
  t.is(typeof testBuild.setTestHooks, 'function')
})

test("with the private writable map refused, a 'read' map falls back to a read-only mapping (r--p) with strayWritesFault true, reads work, and a stray write dies with SIGSEGV leaving the file unchanged", (t) => {
  const file = newFile()
  const before = sha256(file)
  const r = runChild(
    BINDING +
      `
      binding.setTestHooks(0, true)
      const map = memmap.openSync(file, { offset: 5 })
      report({
        strayWritesFault: map.strayWritesFault,
        perms: fileMaps().map((l) => l.split(' ')[1]),
        read: map.read(0, map.length).toString('hex'),
        bytes: hex(map.bytes),
      })
      map.bytes[10] ^= 0xff
      report({ survived: true })
      `,
    { file, env: TEST_BINDING },
  )
  killedBy(t, r, 'SIGSEGV', 'the stray write faults')
  const lines = r.stdout.trim().split('\n')
  t.is(lines.length, 1, 'nothing ran after the stray write')
  const report = JSON.parse(lines[0]) as { strayWritesFault: boolean; perms: string[]; read: string; bytes: string }
  const mapped = fs.readFileSync(file).subarray(5).toString('hex')
  t.true(report.strayWritesFault)
  t.deepEqual(report.perms, ['r--p'], "read-only, and private like every 'read' map (index.d.ts: 'mapped private')")
  t.is(report.read, mapped)
  t.is(report.bytes, mapped)
  t.is(sha256(file), before)
})

test("with the private writable map refused, 'copy-on-write' fails with ENOMEM instead of falling back, 'read-write' is unaffected, and clearing the hook restores the private 'read' map", (t) => {
  const file = newFile()
  const before = sha256(file)
  const r = childWithBinding<{
    cow: Thrown | null
    mapsAfterCow: number
    fdsAfterCow: number
    readWrite: { perms: string[]; strayWritesFault: boolean }
    restored: { perms: string[]; strayWritesFault: boolean }
  }>(
    t,
    `
    binding.setTestHooks(0, true)
    const cow = thrown(() => memmap.openSync(file, { mode: 'copy-on-write' }))
    const mapsAfterCow = fileMaps().length, fdsAfterCow = fileFds()
    const rw = memmap.openSync(file, { mode: 'read-write' })
    const readWrite = { perms: fileMaps().map((l) => l.split(' ')[1]), strayWritesFault: rw.strayWritesFault }
    rw.close()
    binding.setTestHooks(0, false)
    const read = memmap.openSync(file)
    const restored = { perms: fileMaps().map((l) => l.split(' ')[1]), strayWritesFault: read.strayWritesFault }
    read.close()
    report({ cow, mapsAfterCow, fdsAfterCow, readWrite, restored })
    `,
    file,
    TEST_BINDING,
  )
  t.like(r.cow, { name: 'Error', code: 'ENOMEM', errno: -12, syscall: 'mmap', path: file })
  t.is(r.mapsAfterCow, 0, 'the failed open leaves no mapping')
  t.is(r.fdsAfterCow, 0, 'the failed open leaves no descriptor')
  t.deepEqual(r.readWrite, { perms: ['rw-s'], strayWritesFault: false })
  t.deepEqual(r.restored, { perms: ['rw-p'], strayWritesFault: false })
  t.is(sha256(file), before)
})
