// indexOf / lastIndexOf / indexOfAsync have Buffer's semantics. Oracles: Buffer over
// fs.readFileSync, and Python's mmap (`find(n, f)` is `indexOf(n, f)`, `rfind(n, 0, f + len(n))`
// is `lastIndexOf(n, f)`). Argument errors, AbortSignal, close during a scan, and no ArrayBuffer.
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'

import { openSync } from '..'
import { exitedCleanly, runChild } from './child'
import { linuxOnly, tempDir } from './helpers'

const PAGE = 4096
const MIB = 1 << 20

type Needle = string | number | ArrayBufferView
type From = number | bigint | undefined

interface Haystack {
  name: string
  file: string
  data: Buffer
  /** Offsets worth searching from: the planted positions and their neighbours. */
  marks: number[]
}

/** Bytes never drawn for the random haystacks, so a needle containing one is absent. */
const ABSENT_BYTE = 0xff
const UTF8 = 'é€𝄞 utf-8 ✓' // 2-, 3- and 4-byte UTF-8 sequences
const U16 = Uint16Array.of(0x1234, 0xabcd, 0x0042)
const DATAVIEW_BYTES = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x01])
const LONG = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) % 255)) // crosses pages when planted

/** The needle's bytes, which is what Buffer searches for a string (UTF-8), a byte or a view. */
function needleBytes(n: Needle): Buffer | string | number {
  if (typeof n === 'string' || typeof n === 'number') return n
  return Buffer.from(n.buffer, n.byteOffset, n.byteLength)
}

function describeNeedle(n: Needle): string {
  if (typeof n === 'string') return JSON.stringify(n.length > 20 ? `${n.slice(0, 20)}…` : n)
  if (typeof n === 'number') return `byte ${n}`
  return `${n.constructor.name}(${n.byteLength} bytes)`
}

/** Random bytes without ABSENT_BYTE, with `plants` copied in at their positions (never overlapping). */
function makeHaystack(dir: string, name: string, size: number, plants: [number, Uint8Array][]): Haystack {
  const data = randomBytes(size)
  for (let i = 0; i < data.length; i++) if (data[i] === ABSENT_BYTE) data[i] = 0x7e
  const taken = new Uint8Array(size)
  const marks = new Set<number>()
  for (const [at, bytes] of plants) {
    if (taken.subarray(at, at + bytes.length).some((x) => x !== 0)) throw new Error(`plants overlap at ${at}`)
    taken.fill(1, at, at + bytes.length)
    data.set(bytes, at)
    for (const m of [at - 1, at, at + 1, at + bytes.length - 1, at + bytes.length]) marks.add(m)
  }
  const file = path.join(dir, `${name}.bin`)
  fs.writeFileSync(file, data)
  return { name, file, data, marks: [...marks] }
}

const SMALL = 5 * PAGE + 123
const BIG = 10 * MIB

/** Where each needle is planted: 'needle' at both ends, and most of them across page boundaries. */
function plants(size: number): [number, Uint8Array][] {
  const list: [number, Uint8Array][] = [
    [0, Buffer.from('needle')],
    [PAGE - 3, Buffer.from('needle')],
    [Math.floor(size / 2), Buffer.from('needle')],
    [size - 6, Buffer.from('needle')],
    [2 * PAGE - 5, Buffer.from(UTF8)],
    [3 * PAGE - 2, needleBytes(U16) as Buffer],
    [size - 100, DATAVIEW_BYTES],
    [4 * PAGE - 150, LONG],
  ]
  if (size > 64 * PAGE) list.push([size - 2 * PAGE - 150, LONG])
  return list
}

function haystacks(): Haystack[] {
  const dir = tempDir('memmap-search-')
  const empty = path.join(dir, 'empty.bin')
  fs.writeFileSync(empty, '')
  const one = path.join(dir, 'one.bin')
  fs.writeFileSync(one, Buffer.from([0x41]))
  return [
    { name: 'empty', file: empty, data: Buffer.alloc(0), marks: [] },
    { name: 'one byte', file: one, data: Buffer.from([0x41]), marks: [] },
    makeHaystack(dir, 'small', SMALL, plants(SMALL)),
    makeHaystack(dir, 'ten MiB', BIG, plants(BIG)),
  ]
}

function needles(h: Haystack): Needle[] {
  const d = h.data
  const list: Needle[] = [
    'needle',
    UTF8,
    0x41,
    0,
    ABSENT_BYTE,
    U16,
    new DataView(DATAVIEW_BYTES.buffer, DATAVIEW_BYTES.byteOffset, DATAVIEW_BYTES.byteLength),
    LONG,
    '',
    Buffer.alloc(0),
    new Uint32Array(0),
    Buffer.from([ABSENT_BYTE, 0x00]), // absent
    'needle\u00ff', // absent: ÿ is 0xc3 0xbf after 'needle'
    Buffer.from('x'.repeat(5000)), // longer than a page, absent
  ]
  if (d.length > 0) list.push(d[d.length - 1], Buffer.from(d.subarray(0, Math.min(8, d.length))))
  if (d.length > 0 && d.length <= 64 * 1024) list.push(Buffer.from(d), Buffer.concat([d, Buffer.of(0)])) // the whole haystack, and one byte more
  if (d.length > 2 * PAGE) list.push(Buffer.from(d.subarray(PAGE - 8, PAGE + 8)), new Uint8Array(d.buffer, d.byteOffset + 777, 3))
  return list
}

function froms(h: Haystack): From[] {
  const len = h.data.length
  const list: From[] = [undefined, 0, 1, 2, 5, 100, Math.floor(len / 2), len - 1, len, len + 1, len + 1000, 2 ** 40]
  list.push(-1, -2, -6, -100, -Math.floor(len / 2), -len, -len + 1, -len - 1, -1e9, -(2 ** 40))
  // Every planted edge on the small haystacks; a sample of them on the big one, to stay fast.
  const marks = len > MIB ? h.marks.filter((_, i) => i % 4 === 0) : h.marks
  list.push(...marks, ...marks.slice(0, 3).map((m) => -(len - m)))
  list.push(0n, 3n, BigInt(len), -1n)
  return [...new Set(list)]
}

/** Buffer's answer over `data`; `from` as a number (Buffer takes no bigint). */
function bufferIndexOf(data: Buffer, n: Needle, from: From, last: boolean): number {
  const f = typeof from === 'bigint' ? Number(from) : from
  const needle = needleBytes(n)
  return last ? data.lastIndexOf(needle, f) : data.indexOf(needle, f)
}

interface PyCase {
  file: string
  needle: string // hex
  from: number | null
}

/** find and rfind of Python's mmap, in one run. */
function pythonFind(cases: PyCase[]): [number, number][] {
  const code = `
import json, mmap, sys
cases = json.load(sys.stdin)
maps = {}
out = []
for c in cases:
    f = c['file']
    if f not in maps:
        with open(f, 'rb') as fh:
            maps[f] = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    m = maps[f]
    n = bytes.fromhex(c['needle'])
    if c['from'] is None:
        out.append([m.find(n), m.rfind(n)])
    else:
        f0 = c['from']
        out.append([m.find(n, f0), m.rfind(n, 0, f0 + len(n))])
print(json.dumps(out))
`
  const input = JSON.stringify(cases)
  const r = spawnSync('python3', ['-c', code], { input, encoding: 'utf8', maxBuffer: 64 * MIB })
  if (r.status !== 0) throw new Error(`python3 failed (${r.status}): ${r.stderr}`)
  return JSON.parse(r.stdout) as [number, number][]
}

function needleHex(n: Needle): string {
  if (typeof n === 'string') return Buffer.from(n, 'utf8').toString('hex')
  if (typeof n === 'number') return Buffer.of(n).toString('hex')
  return Buffer.from(n.buffer, n.byteOffset, n.byteLength).toString('hex')
}

const HAYSTACKS = haystacks()

for (const h of HAYSTACKS) {
  test(`indexOf and lastIndexOf equal Buffer's over fs.readFileSync for every needle and offset (${h.name}, ${h.data.length} bytes)`, (t) => {
    const oracle = Buffer.from(fs.readFileSync(h.file))
    t.true(oracle.equals(h.data))
    using map = openSync(h.file)
    const mismatches: string[] = []
    let cases = 0
    for (const n of needles(h)) {
      for (const from of froms(h)) {
        for (const last of [false, true]) {
          cases++
          const expected = bufferIndexOf(oracle, n, from, last)
          const actual = last ? map.lastIndexOf(n, from) : map.indexOf(n, from)
          if (actual !== expected) {
            mismatches.push(`${last ? 'lastIndexOf' : 'indexOf'}(${describeNeedle(n)}, ${String(from)}): map ${actual}, Buffer ${expected}`)
          }
        }
      }
    }
    t.log(`${cases} cases`)
    t.deepEqual(mismatches, [])
  })

  test(`indexOfAsync resolves to what Buffer's indexOf returns (${h.name})`, async (t) => {
    using map = openSync(h.file)
    const oracle = Buffer.from(fs.readFileSync(h.file))
    const mismatches: string[] = []
    for (const n of needles(h)) {
      const all = froms(h)
      const results = await Promise.all(all.map((from) => map.indexOfAsync(n, from === undefined ? {} : { from })))
      all.forEach((from, i) => {
        const expected = bufferIndexOf(oracle, n, from, false)
        if (results[i] !== expected) mismatches.push(`indexOfAsync(${describeNeedle(n)}, { from: ${String(from)} }): ${results[i]}, Buffer ${expected}`)
      })
    }
    t.deepEqual(mismatches, [])
    t.is(await map.indexOfAsync('needle'), h.data.indexOf('needle'))
  })
}

for (const h of HAYSTACKS.slice(2)) {
  test(`needles planted across page boundaries are found where they were planted (${h.name})`, async (t) => {
    const size = h.data.length
    using map = openSync(h.file)
    const dv = new DataView(DATAVIEW_BYTES.buffer, DATAVIEW_BYTES.byteOffset, DATAVIEW_BYTES.byteLength)
    t.is(map.indexOf('needle'), 0)
    t.is(map.indexOf('needle', 1), PAGE - 3)
    t.is(map.indexOf('needle', PAGE - 2), Math.floor(size / 2))
    t.is(map.lastIndexOf('needle'), size - 6)
    t.is(map.lastIndexOf('needle', size - 7), Math.floor(size / 2))
    t.is(map.lastIndexOf('needle', PAGE - 3), PAGE - 3)
    t.is(map.lastIndexOf('needle', PAGE - 4), 0)
    t.is(map.indexOf('needle', -6), size - 6)
    t.is(map.indexOf(UTF8), 2 * PAGE - 5)
    t.is(map.indexOf(U16), 3 * PAGE - 2)
    t.is(map.indexOf(dv), size - 100)
    t.is(map.indexOf(LONG), 4 * PAGE - 150)
    t.is(map.lastIndexOf(LONG), size > 64 * PAGE ? size - 2 * PAGE - 150 : 4 * PAGE - 150)
    t.is(map.indexOf(ABSENT_BYTE), -1)
    t.is(map.lastIndexOf(ABSENT_BYTE), -1)
    t.is(await map.indexOfAsync(LONG, { from: 4 * PAGE - 149 }), size > 64 * PAGE ? size - 2 * PAGE - 150 : -1)
    t.is(await map.indexOfAsync(U16), 3 * PAGE - 2)
  })
}

linuxOnly(test, 'python3')("Python's mmap agrees: find(n, f) is indexOf(n, f) and rfind(n, 0, f + len(n)) is lastIndexOf(n, f) for f >= 0", (t) => {
  const cases: PyCase[] = []
  const ours: [number, number][] = []
  const labels: string[] = []
  // Python's mmap cannot map an empty file (ValueError), so the empty haystack is Buffer's alone.
  for (const h of HAYSTACKS.filter((x) => x.data.length > 0)) {
    using map = openSync(h.file)
    for (const n of needles(h)) {
      for (const from of froms(h)) {
        if (typeof from === 'bigint' || (from !== undefined && (from < 0 || from > 2 ** 32))) continue
        cases.push({ file: h.file, needle: needleHex(n), from: from ?? null })
        ours.push([map.indexOf(n, from), map.lastIndexOf(n, from)])
        labels.push(`${h.name}: ${describeNeedle(n)} from ${String(from)}`)
      }
    }
  }
  const theirs = pythonFind(cases)
  t.is(theirs.length, cases.length)
  const mismatches = labels.flatMap((label, i) =>
    ours[i][0] === theirs[i][0] && ours[i][1] === theirs[i][1] ? [] : [`${label}: map ${JSON.stringify(ours[i])}, python ${JSON.stringify(theirs[i])}`],
  )
  t.log(`${cases.length} cases`)
  t.deepEqual(mismatches, [])
})

test('lastIndexOf of an empty needle from before the start returns 0, as Buffer does', (t) => {
  using map = openSync(fixture())
  const data = fs.readFileSync(map.path!)
  for (const needle of ['', Buffer.alloc(0), new Float64Array(0)]) {
    for (const from of [-data.length, -data.length - 1, -100, -1e9, -(2 ** 40)]) {
      t.is(map.lastIndexOf(needle, from), data.lastIndexOf(needleBytes(needle), from), `lastIndexOf(${describeNeedle(needle)}, ${from})`)
      t.is(map.lastIndexOf(needle, from), 0)
    }
  }
  t.is(map.indexOf('', -100), 0)
})

function fixture(): string {
  const dir = tempDir('memmap-search-')
  const file = path.join(dir, 'abc.bin')
  fs.writeFileSync(file, Buffer.from([0x61, 0x62, 0x63, 0x61, 0x62, 0x63, 0x00, 0xff]))
  return file
}

test('a number needle outside 0-255 or not an integer throws ERR_OUT_OF_RANGE (RangeError); indexOfAsync rejects the same', async (t) => {
  using map = openSync(fixture())
  for (const bad of [256, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, -0.5, 2 ** 32]) {
    for (const call of [(n: number) => map.indexOf(n), (n: number) => map.lastIndexOf(n), (n: number) => map.indexOf(n, 0)]) {
      const e = t.throws(() => call(bad), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, `needle ${bad}`)
      t.regex(String(e?.message), /needle/)
    }
    await t.throwsAsync(map.indexOfAsync(bad), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, `needle ${bad}`)
  }
  t.is(map.indexOf(255), 7, 'the bounds themselves are bytes')
  t.is(map.indexOf(0), 6)
})

test('an object needle (not a string, number or ArrayBufferView) throws ERR_INVALID_ARG_TYPE (TypeError); indexOfAsync rejects the same', async (t) => {
  using map = openSync(fixture())
  const bad: unknown[] = [{}, null, undefined, [97], true, 1n, new ArrayBuffer(1), Symbol('x'), () => 0, new Set([97])]
  for (const n of bad) {
    const label = typeof n === 'symbol' ? 'a symbol' : String(n)
    const e = t.throws(() => map.indexOf(n as Needle), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' }, label)
    t.regex(String(e?.message), /needle/)
    t.throws(() => map.lastIndexOf(n as Needle, 0), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' }, label)
    await t.throwsAsync(map.indexOfAsync(n as Needle), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' }, label)
  }
})

test('a fromOffset that is not an integer throws instead of being coerced', async (t) => {
  using map = openSync(fixture())
  t.throws(() => map.indexOf('a', 1.5), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => map.lastIndexOf('a', Number.NaN), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => map.indexOf('a', '1' as unknown as number), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  await t.throwsAsync(map.indexOfAsync('a', { from: 0.5 }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  await t.throwsAsync(map.indexOfAsync('a', { from: {} as unknown as number }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
})

/** A sparse file of `size` bytes with `needle` written at `at`. */
function bigSparse(size: number, needle: Buffer, at: number): string {
  const dir = tempDir('memmap-search-big-')
  const file = path.join(dir, 'big.bin')
  const fd = fs.openSync(file, 'w')
  fs.ftruncateSync(fd, size)
  fs.writeSync(fd, needle, 0, needle.length, at)
  fs.closeSync(fd)
  return file
}

test("indexOfAsync with an aborted signal rejects with name 'AbortError' and code 'ABORT_ERR'", async (t) => {
  using map = openSync(fixture())
  const reason = new Error('stop')
  const e = await t.throwsAsync(map.indexOfAsync('c', { signal: AbortSignal.abort(reason) }), { instanceOf: Error, name: 'AbortError', code: 'ABORT_ERR' })
  t.is(e?.cause, reason)
  t.is(await map.indexOfAsync('c', { signal: new AbortController().signal }), 2, 'a signal that never aborts changes nothing')
  await t.throwsAsync(map.indexOfAsync('c', { signal: {} as AbortSignal }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
})

test('aborting a pending indexOfAsync rejects it with an AbortError, and the map stays usable', async (t) => {
  const size = 32 * MIB
  const file = bigSparse(size, Buffer.from('tail'), size - 10)
  using map = openSync(file)
  const controller = new AbortController()
  // A short scan, so it has surely ended when the whole scan below has (then `using` closes).
  const pending = map.indexOfAsync('tail', { from: size - 4096, signal: controller.signal })
  controller.abort()
  await t.throwsAsync(pending, { instanceOf: Error, name: 'AbortError', code: 'ABORT_ERR' })
  t.is(await map.indexOfAsync('tail'), size - 10, 'a whole scan after the abort finds the needle')
  t.is(map.indexOf('tail'), size - 10)
})

test('close() right after an indexOfAsync was aborted, while its scan still runs, does not throw', async (t) => {
  const size = 256 * MIB
  const file = bigSparse(size, Buffer.from('tail'), size - 10)
  const map = openSync(file)
  const controller = new AbortController()
  const pending = map.indexOfAsync('tail', { signal: controller.signal })
  controller.abort()
  await t.throwsAsync(pending, { name: 'AbortError', code: 'ABORT_ERR' })
  t.notThrows(() => map.close(), 'the aborted scan holds the mapping; close() must not refuse')
  t.true(map.closed)
  t.throws(() => map.indexOf('tail'), { code: 'ERR_MMAP_CLOSED' })
})

linuxOnly(test, '/proc/self/maps')('closing the map while indexOfAsync scans a large file does not crash, and the promise settles (child)', (t) => {
  const size = 256 * MIB
  const at = size - 10
  const file = bigSparse(size, Buffer.from('tail'), at)
  const code = `
    const fs = require('node:fs')
    const { openSync } = require(process.env.MEMMAP_ROOT)
    const file = ${JSON.stringify(file)}
    const mapped = () => fs.readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.endsWith(file)).length
    const map = openSync(file)
    const pending = map.indexOfAsync('tail')
    const duringScan = mapped()
    let closeError
    try { map.close() } catch (e) { closeError = { code: e.code, message: e.message } }
    let closedCode
    try { map.indexOf('tail') } catch (e) { closedCode = e.code }
    pending.then(
      (value) => ({ fulfilled: true, value }),
      (e) => ({ fulfilled: false, code: e.code, message: e.message }),
    ).then((outcome) => {
      process.stdout.write(JSON.stringify({ ...outcome, closeError, duringScan, afterSettle: mapped(), closed: map.closed, closedCode }))
    })
  `
  const r = runChild(code, { args: ['--expose-gc'], timeout: 60_000 })
  exitedCleanly(t, r)
  const o = JSON.parse(r.stdout) as {
    fulfilled: boolean
    value?: number
    code?: string
    closeError?: { code: string; message: string }
    duringScan: number
    afterSettle: number
    closed: boolean
    closedCode: string
  }
  t.log(o)
  t.is(o.closeError, undefined, 'close() during the scan does not throw')
  t.is(o.duringScan, 1)
  t.true(o.closed)
  t.is(o.closedCode, 'ERR_MMAP_CLOSED')
  // Either the scan saw the file (the index) or the zero memory close() left in its place (-1),
  // or it reports the close; never anything else.
  if (o.fulfilled) t.true(o.value === at || o.value === -1, `resolved to ${o.value}`)
  else t.is(o.code, 'ERR_MMAP_CLOSED')
  t.is(o.afterSettle, 0, 'the file is no longer mapped once the promise settles')
})

// In a child of its own: the binding's counters are process-wide, so in this worker the other
// tests of the file (running while this one awaits) and GC finalizing their buffers would move them.
test('a map used only through indexOf, lastIndexOf and indexOfAsync creates no external buffer (child)', (t) => {
  const h = HAYSTACKS[2]
  const code = `
    const memmap = require(process.env.MEMMAP_ROOT)
    const counters = () => { const c = require(process.env.MEMMAP_ROOT + '/dist/native.js').native.counters(); return [c.externalBuffersCreated, c.externalBuffersLive] }
    ;(async () => {
      const before = counters()
      const map = memmap.openSync(process.env.FILE)
      const results = [
        map.indexOf('needle'),
        map.indexOf('needle', 1),
        map.lastIndexOf('needle'),
        map.lastIndexOf(Buffer.from(process.env.LONG, 'hex'), -1),
        await map.indexOfAsync(Uint16Array.from(JSON.parse(process.env.U16))),
        map.indexOf(Number(process.env.ABSENT_BYTE)),
      ]
      map.close()
      process.stdout.write(JSON.stringify({ before, after: counters(), results }))
    })().catch((e) => { console.error(e); process.exit(70) })
  `
  const r = runChild(code, {
    env: { FILE: h.file, LONG: LONG.toString('hex'), U16: JSON.stringify([...U16]), ABSENT_BYTE: String(ABSENT_BYTE) },
    timeout: 60_000,
  })
  exitedCleanly(t, r)
  const out = JSON.parse(r.stdout) as { before: [number, number]; after: [number, number]; results: number[] }
  t.deepEqual(out.results, [0, h.data.indexOf('needle', 1), h.data.length - 6, h.data.lastIndexOf(LONG), h.data.indexOf(needleBytes(U16)), -1])
  t.deepEqual(out.before, [0, 0], 'the child starts with no external buffer')
  t.deepEqual(out.after, out.before, 'no external buffer was created, none is alive')
})
