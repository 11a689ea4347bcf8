// Bun through Node-API. Bun runs finalizers synchronously inside
// napi_detach_arraybuffer, so close() detaching three views must not deadlock or panic, and the
// synchronous loop must leave no mapping or descriptor behind. Runs in a child of the pinned Bun;
// the oracle is the child's /proc/self/maps and /proc/self/fd.
import * as fs from 'node:fs'
import test, { type ExecutionContext } from 'ava'

import { exitedCleanly, lastReport, runChild } from './child'
import { runtimeBinary, tempFile } from './helpers'

/** Runs `code` in a child of the pinned Bun, asserts it exited cleanly without a panic, returns its report. */
function bun<T>(t: ExecutionContext, code: string, file: string, timeout: number): T {
  const r = runChild(code, { runtime: runtimeBinary('bun'), file, timeout })
  exitedCleanly(t, r)
  t.notRegex(r.stderr, /panic/i, 'Bun reports no panic')
  return lastReport<T>(r)
}

test('on Bun, 100,000 synchronous cycles of open, bytes, view(Float64Array), dataView and close finish and leave no mapping or descriptor', (t) => {
  const file = tempFile(4096, 'bun-cycles.bin')
  const content = fs.readFileSync(file)
  const r = bun<{
    bun: string
    maxViewBytes: number
    cycles: number
    bad: string[]
    fdsBefore: string[]
    fdsAfter: string[]
    fileFdsBefore: number
    fileFdsAfter: number
    mapsBefore: number
    mapsAfter: number
    liveMaps: number
    created: number
    live: number
  }>(
    t,
    `
    const expected = fs.readFileSync(file)
    const before = require(process.env.MEMMAP_ROOT + '/dist/native.js').native.counters()
    const fdsBefore = fds()
    const fileFdsBefore = fileFds()
    const mapsBefore = fileMaps().length
    const bad = []
    let cycles = 0
    for (let i = 0; i < 100_000; i++) {
      const map = memmap.openSync(file)
      const bytes = map.bytes
      const floats = map.view(Float64Array)
      const data = map.dataView()
      const at = (i * 8) % 4096
      if (bytes[at] !== expected[at] || !Object.is(floats[at / 8], expected.readDoubleLE(at)) || data.getUint32(at, true) !== expected.readUInt32LE(at)) {
        if (bad.length < 3) bad.push('cycle ' + i + ': the views differ from the file at ' + at)
      }
      map.close()
      if (bytes.byteLength !== 0 || floats.byteLength !== 0 || data.buffer.byteLength !== 0) {
        if (bad.length < 3) bad.push('cycle ' + i + ': a view is still attached after close()')
      }
      cycles++
    }
    const after = require(process.env.MEMMAP_ROOT + '/dist/native.js').native.counters()
    report({
      bun: Bun.version, maxViewBytes: memmap.maxViewBytes, cycles, bad,
      fdsBefore, fdsAfter: fds(), fileFdsBefore, fileFdsAfter: fileFds(), mapsBefore, mapsAfter: fileMaps().length, liveMaps: memmap.stats().liveMaps,
      created: after.externalBuffersCreated - before.externalBuffersCreated, live: after.externalBuffersLive - before.externalBuffersLive,
    })
    `,
    file,
    10 * 60_000,
  )
  t.log(`Bun ${r.bun}: maxViewBytes ${r.maxViewBytes}, ${r.created} external buffers created, ${r.live} left alive`)
  t.is(r.bun, '1.4.5')
  t.is(r.cycles, 100_000)
  t.deepEqual(r.bad, [])
  t.is(r.mapsBefore, 0)
  t.is(r.mapsAfter, 0, 'no mapping of the file is left')
  // The runtime opens descriptors of its own at any time; the file's are exact, and none of those
  // open before may have been closed by the loop.
  t.deepEqual([r.fileFdsBefore, r.fileFdsAfter], [0, 0], 'no descriptor is open on the file, before or after')
  t.deepEqual(
    r.fdsBefore.filter((fd) => !r.fdsAfter.includes(fd)),
    [],
    'every descriptor open before the loop is still open',
  )
  t.is(r.liveMaps, 0)
  t.is(r.created, 100_000, 'one external buffer per cycle: bytes and both views share the chunk')
  t.is(r.live, 0, 'Bun finalized every detached buffer inside close()')
  t.true(fs.readFileSync(file).equals(content))
})

test("on Bun, maxViewBytes is buffer.constants.MAX_LENGTH (2^32), and a 'read-write' map's views, write() and flushSync reach the file", (t) => {
  const file = tempFile(3 * 4096 + 5, 'bun-write.bin')
  const original = fs.readFileSync(file)
  const r = bun<{ maxViewBytes: number; maxLength: number; supported: boolean; written: number; bytes: string }>(
    t,
    `
    const map = memmap.openSync(file, { mode: 'read-write', offset: 5 })
    const bytes = map.bytes.subarray(0, 64).slice()
    map.view(Uint8Array, 100, 4).set([1, 2, 3, 4])
    map.dataView(200, 8).setFloat64(0, Math.PI, true)
    const written = map.write(Buffer.from('bun was here'), 4000)
    map.flushSync()
    map.close()
    report({
      maxViewBytes: memmap.maxViewBytes, maxLength: require('node:buffer').constants.MAX_LENGTH,
      supported: memmap.externalBuffersSupported, written, bytes: Buffer.from(bytes).toString('hex'),
    })
    `,
    file,
    60_000,
  )
  t.is(r.maxViewBytes, 2 ** 32)
  t.is(r.maxLength, r.maxViewBytes)
  t.true(r.supported)
  t.is(r.written, 12)
  t.is(r.bytes, original.subarray(5, 69).toString('hex'))
  const expected = Buffer.from(original)
  Buffer.from([1, 2, 3, 4]).copy(expected, 105)
  expected.writeDoubleLE(Math.PI, 205)
  Buffer.from('bun was here').copy(expected, 4005)
  t.true(fs.readFileSync(file).equals(expected))
})
