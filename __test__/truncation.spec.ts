// Truncation by another process (SPEC §4.5): library calls check the file size just before the
// access and throw ERR_MMAP_TRUNCATED when a byte of the range lies in a page wholly past the new
// end; reads below the end still work. Direct view access to a cut page faults (SIGBUS). Every
// case runs in a child, since a missed check would kill the process.
import * as fs from 'node:fs'
import test, { type ExecutionContext } from 'ava'

import { pageSize } from '..'
import { killedBy, runChild } from './child'
import { tempFile } from './helpers'

const SIZE = 64 * 1024 // 16 pages of 4 KiB: half is page-aligned
const HALF = SIZE / 2
const ABSENT = 'needle that is not in the file'

interface Outcome {
  ok: boolean
  /** base64 of a Buffer result, or a number. */
  value?: string | number
  code?: string
  ctor?: string
  message?: string
}

/**
 * In a child: maps `file` with `options`, has `truncate -s cutTo` (another process) cut it, then
 * runs each named expression of `map` (awaited) and reports how it settled.
 */
function afterCut(file: string, options: object, cutTo: number, ops: Record<string, string>): Record<string, Outcome> {
  const code = `
    const { spawnSync } = require('node:child_process')
    const { openSync } = require(process.env.MEMMAP_ROOT)
    const file = ${JSON.stringify(file)}
    const map = openSync(file, ${JSON.stringify(options)})
    const cut = spawnSync('truncate', ['-s', '${cutTo}', file], { encoding: 'utf8' })
    if (cut.status !== 0) throw new Error('truncate failed: ' + cut.stderr)
    const ops = ${JSON.stringify(ops)}
    ;(async () => {
      const out = {}
      for (const [name, src] of Object.entries(ops)) {
        try {
          const value = await new Function('map', 'Buffer', 'return (' + src + ')')(map, Buffer)
          out[name] = Buffer.isBuffer(value) ? { ok: true, value: value.toString('base64') } : { ok: true, value }
        } catch (e) {
          out[name] = { ok: false, code: e.code, ctor: e.constructor.name, message: e.message }
        }
      }
      map.close()
      process.stdout.write(JSON.stringify(out))
    })()
  `
  const r = runChild(code, { timeout: 60_000 })
  if (r.signal !== null || r.status !== 0) {
    throw new Error(`child died: status ${r.status}, signal ${r.signal}\n${r.stderr}`)
  }
  return JSON.parse(r.stdout) as Record<string, Outcome>
}

function assertTruncated(t: ExecutionContext, outcomes: Record<string, Outcome>, names: string[]): void {
  for (const name of names) {
    const o = outcomes[name]
    t.like(o, { ok: false, code: 'ERR_MMAP_TRUNCATED', ctor: 'Error' }, `${name} throws ERR_MMAP_TRUNCATED: ${JSON.stringify(o)}`)
  }
}

function assertWorks(t: ExecutionContext, outcomes: Record<string, Outcome>, names: string[]): void {
  for (const name of names) t.true(outcomes[name]?.ok, `${name} works: ${JSON.stringify(outcomes[name])}`)
}

function bytesOf(o: Outcome): Buffer {
  return Buffer.from(String(o.value), 'base64')
}

test.before(() => {
  if (pageSize !== 4096) throw new Error(`these cases assume 4 KiB pages, got ${pageSize}`)
})

test('cut to half by another process: reads below the new end work, every call touching the cut part throws ERR_MMAP_TRUNCATED', (t) => {
  const file = tempFile(SIZE)
  const original = fs.readFileSync(file)
  const oracle = Buffer.from(original.subarray(0, HALF))
  const byte = original[100]
  const o = afterCut(file, { mode: 'read-write' }, HALF, {
    fileSize: 'map.fileSize',
    length: 'map.length',
    readBelow: `map.read(0, ${HALF})`,
    readLastByte: `map.read(${HALF - 1}, 1)`,
    readIntoBelow: `(() => { const b = Buffer.alloc(64); map.readInto(b, 1000); return b })()`,
    writeBelow: `map.write(Buffer.from('below'), 200)`,
    lastIndexOfBelow: `map.lastIndexOf(${byte}, 100)`,
    lastIndexOfNeedleBelow: `map.lastIndexOf(Buffer.from(${JSON.stringify([...original.subarray(50, 58)])}), 1000)`,
    flushBelow: `map.flushSync({ offset: 0, length: ${HALF} })`,
    flushAsyncBelow: `map.flush({ offset: 0, length: 4096 })`,
    readFirstCutByte: `map.read(${HALF}, 1)`,
    readAcross: `map.read(${HALF - 10}, 20)`,
    readCut: `map.read(${HALF + 5000}, 100)`,
    readAll: `map.read(0, ${SIZE})`,
    readIntoCut: `map.readInto(Buffer.alloc(16), ${HALF + 8})`,
    writeCut: `map.write(Buffer.from('x'), ${HALF})`,
    writeAcross: `map.write(Buffer.alloc(100, 1), ${HALF - 50})`,
    indexOf: `map.indexOf(${JSON.stringify(ABSENT)})`,
    indexOfFromBelow: `map.indexOf(${byte}, 0)`,
    indexOfFromCut: `map.indexOf(${byte}, ${HALF + 1})`,
    indexOfNegative: `map.indexOf(${byte}, -10)`,
    lastIndexOf: `map.lastIndexOf(${byte})`,
    lastIndexOfFromCut: `map.lastIndexOf(${byte}, ${HALF})`,
    flushSync: 'map.flushSync()',
    flushSyncCut: `map.flushSync({ offset: ${HALF}, length: 1 })`,
    flushSyncAcross: `map.flushSync({ offset: ${HALF - 1}, length: 2 })`,
    indexOfAsync: `map.indexOfAsync(${JSON.stringify(ABSENT)})`,
    indexOfAsyncFromCut: `map.indexOfAsync(${byte}, { from: ${HALF + 100} })`,
    flush: 'map.flush()',
    flushCut: `map.flush({ offset: ${HALF + 4096}, length: 4096 })`,
  })
  t.is(o.fileSize?.value, HALF)
  t.is(o.length?.value, SIZE, 'the map keeps its length')
  assertWorks(t, o, ['readBelow', 'readLastByte', 'readIntoBelow', 'writeBelow', 'lastIndexOfBelow', 'lastIndexOfNeedleBelow', 'flushBelow', 'flushAsyncBelow'])
  t.true(bytesOf(o.readBelow!).equals(oracle), 'read below the new end returns the file bytes')
  t.true(bytesOf(o.readLastByte!).equals(oracle.subarray(HALF - 1)))
  t.true(bytesOf(o.readIntoBelow!).equals(oracle.subarray(1000, 1064)))
  t.is(o.writeBelow?.value, 5)
  t.is(o.lastIndexOfBelow?.value, oracle.lastIndexOf(byte, 100))
  t.is(o.lastIndexOfNeedleBelow?.value, oracle.lastIndexOf(original.subarray(50, 58), 1000))
  assertTruncated(t, o, [
    'readFirstCutByte',
    'readAcross',
    'readCut',
    'readAll',
    'readIntoCut',
    'writeCut',
    'writeAcross',
    'indexOf',
    'indexOfFromBelow',
    'indexOfFromCut',
    'indexOfNegative',
    'lastIndexOf',
    'lastIndexOfFromCut',
    'flushSync',
    'flushSyncCut',
    'flushSyncAcross',
    'indexOfAsync',
    'indexOfAsyncFromCut',
    'flush',
    'flushCut',
  ])
  // What the write below the end did, and that the refused ones changed nothing.
  const after = fs.readFileSync(file)
  t.is(after.length, HALF)
  t.is(after.subarray(200, 205).toString(), 'below')
  t.true(after.subarray(0, 200).equals(oracle.subarray(0, 200)))
  t.true(after.subarray(205).equals(oracle.subarray(205)))
})

test('cut to 0 by another process: read, readInto, write, indexOf, lastIndexOf, flushSync, flush and indexOfAsync all throw ERR_MMAP_TRUNCATED', (t) => {
  const file = tempFile(SIZE)
  const o = afterCut(file, { mode: 'read-write' }, 0, {
    fileSize: 'map.fileSize',
    read: 'map.read(0, 1)',
    readEnd: `map.read(${SIZE - 1}, 1)`,
    readInto: 'map.readInto(Buffer.alloc(1), 0)',
    write: `map.write(Buffer.from('x'), 0)`,
    indexOf: 'map.indexOf(0)',
    indexOfString: `map.indexOf(${JSON.stringify(ABSENT)}, 100)`,
    lastIndexOf: 'map.lastIndexOf(0)',
    lastIndexOfFromStart: 'map.lastIndexOf(0, 0)',
    flushSync: 'map.flushSync()',
    flushSyncFirstByte: 'map.flushSync({ offset: 0, length: 1 })',
    flush: 'map.flush()',
    indexOfAsync: 'map.indexOfAsync(0)',
  })
  t.is(o.fileSize?.value, 0)
  assertTruncated(t, o, [
    'read',
    'readEnd',
    'readInto',
    'write',
    'indexOf',
    'indexOfString',
    'lastIndexOf',
    'lastIndexOfFromStart',
    'flushSync',
    'flushSyncFirstByte',
    'flush',
    'indexOfAsync',
  ])
  t.is(fs.statSync(file).size, 0, 'the refused write did not grow the file')
})

for (const mode of ['read-write', 'read'] as const) {
  test(`cut to 10000 bytes (mid-page) under a '${mode}' map: bytes of the last partial page past the end read as zeros, a page wholly past it throws`, (t) => {
    const CUT = 10_000
    const LAST_PAGE_END = 12_288
    const file = tempFile(SIZE)
    const original = fs.readFileSync(file)
    // What the map shows now: the file, then zeros up to the end of its last page.
    const oracle = Buffer.concat([original.subarray(0, CUT), Buffer.alloc(LAST_PAGE_END - CUT)])
    const o = afterCut(file, { mode }, CUT, {
      readBelow: `map.read(0, ${CUT})`,
      readPastEof: `map.read(${CUT}, ${LAST_PAGE_END - CUT})`,
      readAcrossEof: `map.read(${CUT - 1000}, ${LAST_PAGE_END - CUT + 1000})`,
      readIntoPastEof: `(() => { const b = Buffer.alloc(100, 0xff); map.readInto(b, ${LAST_PAGE_END - 100}); return b })()`,
      lastIndexOfInPage: `map.lastIndexOf(0, ${LAST_PAGE_END - 1})`,
      lastIndexOfNeedle: `map.lastIndexOf(Buffer.from(${JSON.stringify([...original.subarray(CUT - 3, CUT)])}), ${LAST_PAGE_END - 3})`,
      flushPage: `map.flushSync({ offset: 0, length: ${LAST_PAGE_END} })`,
      readNextPage: `map.read(${LAST_PAGE_END}, 1)`,
      readAcrossPage: `map.read(${LAST_PAGE_END - 10}, 11)`,
      readIntoNextPage: `map.readInto(Buffer.alloc(4), ${LAST_PAGE_END + 4096})`,
      indexOf: 'map.indexOf(1)',
      lastIndexOf: 'map.lastIndexOf(1)',
      lastIndexOfAtPage: `map.lastIndexOf(1, ${LAST_PAGE_END})`,
      flushSync: 'map.flushSync()',
      flushNextPage: `map.flushSync({ offset: ${LAST_PAGE_END}, length: 1 })`,
      indexOfAsync: `map.indexOfAsync(1, { from: ${CUT} })`,
      flush: `map.flush({ offset: ${LAST_PAGE_END - 1}, length: 2 })`,
    })
    assertWorks(t, o, ['readBelow', 'readPastEof', 'readAcrossEof', 'readIntoPastEof', 'lastIndexOfInPage', 'lastIndexOfNeedle', 'flushPage'])
    t.true(bytesOf(o.readBelow!).equals(oracle.subarray(0, CUT)))
    t.true(bytesOf(o.readPastEof!).equals(Buffer.alloc(LAST_PAGE_END - CUT)), 'past EOF in the last page reads as zeros')
    t.true(bytesOf(o.readAcrossEof!).equals(oracle.subarray(CUT - 1000)))
    t.true(bytesOf(o.readIntoPastEof!).equals(Buffer.alloc(100)))
    t.is(o.lastIndexOfInPage?.value, oracle.lastIndexOf(0, LAST_PAGE_END - 1))
    t.is(o.lastIndexOfInPage?.value, LAST_PAGE_END - 1)
    t.is(o.lastIndexOfNeedle?.value, oracle.lastIndexOf(original.subarray(CUT - 3, CUT), LAST_PAGE_END - 3))
    assertTruncated(t, o, [
      'readNextPage',
      'readAcrossPage',
      'readIntoNextPage',
      'indexOf',
      'lastIndexOf',
      'lastIndexOfAtPage',
      'flushSync',
      'flushNextPage',
      'indexOfAsync',
      'flush',
    ])
  })
}

for (const mode of ['read', 'copy-on-write'] as const) {
  test(`on a truncated '${mode}' map, flush() throws ERR_MMAP_TRUNCATED for a cut range as flushSync() does`, (t) => {
    const file = tempFile(SIZE)
    const o = afterCut(file, { mode }, HALF, {
      flushSyncBelow: 'map.flushSync({ offset: 0, length: 100 })',
      flushBelow: 'map.flush({ offset: 0, length: 100 })',
      flushSyncCut: `map.flushSync({ offset: ${HALF}, length: 1 })`,
      flushCut: `map.flush({ offset: ${HALF}, length: 1 })`,
      flushSyncAll: 'map.flushSync()',
      flushAll: 'map.flush()',
    })
    assertWorks(t, o, ['flushSyncBelow', 'flushBelow'])
    assertTruncated(t, o, ['flushSyncCut', 'flushCut', 'flushSyncAll', 'flushAll'])
  })
}

test('the ERR_MMAP_TRUNCATED message names the range and the new file size', (t) => {
  const file = tempFile(SIZE)
  const o = afterCut(file, {}, HALF, { read: `map.read(${HALF + 100}, 8)` })
  t.like(o.read, { ok: false, code: 'ERR_MMAP_TRUNCATED', ctor: 'Error' })
  const message = String(o.read?.message)
  t.true(message.includes(`${HALF + 100}`) && message.includes(`${HALF + 108}`), `the range: ${message}`)
  t.true(message.includes(`${HALF}`), `the new size: ${message}`)
})

test('trackFile: false maps skip the check: a read below the new end is not refused and fileSize keeps the size at open', (t) => {
  // Documents the trade-off: without a descriptor the library cannot see the cut. Only ranges
  // below the new end are touched, so nothing faults.
  const file = tempFile(SIZE)
  const original = fs.readFileSync(file)
  const o = afterCut(file, { trackFile: false }, HALF, {
    fileSize: 'map.fileSize',
    read: 'map.read(0, 4096)',
    readInto: `(() => { const b = Buffer.alloc(16); map.readInto(b, ${HALF - 16}); return b })()`,
    lastIndexOf: `map.lastIndexOf(${original[10]}, 10)`,
  })
  t.is(o.fileSize?.value, SIZE, 'the size at open: the cut is not seen')
  assertWorks(t, o, ['read', 'readInto', 'lastIndexOf'])
  t.true(bytesOf(o.read!).equals(original.subarray(0, 4096)))
  t.true(bytesOf(o.readInto!).equals(original.subarray(HALF - 16, HALF)))
  t.is(o.lastIndexOf?.value, original.lastIndexOf(original[10], 10))
})

const direct = [
  { mode: 'read', cutTo: 0, access: 'read', at: 'map.length - 1' },
  { mode: 'read-write', cutTo: 0, access: 'read', at: '0' },
  { mode: 'read-write', cutTo: HALF, access: 'read', at: 'map.length - 1' },
  { mode: 'read-write', cutTo: HALF, access: 'write', at: `${HALF}` },
  { mode: 'copy-on-write', cutTo: HALF, access: 'read', at: `${HALF + 4096}` },
] as const

for (const c of direct) {
  test(`direct view access: a ${c.access} of bytes[${c.at}] in a '${c.mode}' map of a file cut to ${c.cutTo} dies with SIGBUS (child)`, (t) => {
    const file = tempFile(SIZE)
    const code = `
      const { spawnSync } = require('node:child_process')
      const { openSync } = require(process.env.MEMMAP_ROOT)
      const file = ${JSON.stringify(file)}
      const map = openSync(file, { mode: '${c.mode}' })
      const bytes = map.bytes
      const cut = spawnSync('truncate', ['-s', '${c.cutTo}', file], { encoding: 'utf8' })
      if (cut.status !== 0) throw new Error('truncate failed: ' + cut.stderr)
      ${c.cutTo > 0 ? "process.stdout.write('below the end: ' + bytes[0] + '\\n')" : ''}
      process.stdout.write('touching\\n')
      ${c.access === 'read' ? `process.stdout.write('read ' + bytes[${c.at}] + '\\n')` : `bytes[${c.at}] = 1`}
      process.stdout.write('survived\\n')
    `
    const first = fs.readFileSync(file)[0]
    const r = runChild(code, { timeout: 60_000 })
    killedBy(t, r, 'SIGBUS', `the access past the cut faults (stdout ${r.stdout})`)
    t.true(r.stdout.endsWith('touching\n'), r.stdout)
    if (c.cutTo > 0) t.true(r.stdout.startsWith(`below the end: ${first}\n`), 'a byte below the new end still reads')
    t.is(fs.statSync(file).size, c.cutTo)
  })
}
