// indexOf(n, from, to), lastIndexOf(n, from, to) and indexOfAsync(n, { from, to }).
// The oracle is Python's mmap: find(n, s, e) is indexOf(n, s, e), and rfind(n, s, e) is
// lastIndexOf(n, e - len(n), s) when e - len(n) >= s (s and e as Python resolves them), else -1.
// A search reads nothing outside its bounds: shown on a file truncated under the map, in a child.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'

import { openSync } from '..'
import { exitedCleanly, runChild } from './child'
import { linuxOnly, tempDir } from './helpers'

const PAGE = 4096
const CASES = 2000

/** mulberry32: a seeded generator, so a failing case can be replayed from the logged seed. */
function generator(seed: number): (below: number) => number {
  let a = seed >>> 0
  return (below) => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below)
  }
}

/** Low-entropy bytes from a 3-letter alphabet, so short needles match often and at every phase. */
function abc(random: (below: number) => number, length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => 'abc'.charCodeAt(random(3))))
}

/** Python's clamping of a find/rfind bound (mmap_gfind in CPython's mmapmodule.c). */
function pyResolve(offset: number, length: number): number {
  const o = offset < 0 ? offset + length : offset
  return Math.min(Math.max(o, 0), length)
}

interface Case {
  file: string
  needle: string // latin1
  start: number
  end: number
}

/** Answers every case with Python's mmap in one python3 run; cases travel in a JSON file. */
function pythonFindAll(cases: Case[], dir: string): [number, number][] {
  const input = path.join(dir, 'cases.json')
  fs.writeFileSync(input, JSON.stringify(cases))
  const code = `
import json, mmap, sys
maps = {}
out = []
for c in json.load(open(sys.argv[1])):
    if c['file'] not in maps:
        with open(c['file'], 'rb') as fh:
            maps[c['file']] = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    m, n = maps[c['file']], c['needle'].encode('latin1')
    out.append([m.find(n, c['start'], c['end']), m.rfind(n, c['start'], c['end'])])
print(json.dumps(out))
`
  const r = spawnSync('python3', ['-c', code, input], { encoding: 'utf8', maxBuffer: 16 << 20 })
  if (r.status !== 0) throw new Error(`python3 failed (${r.status}): ${r.stderr}`)
  return JSON.parse(r.stdout) as [number, number][]
}

function randomCases(seed: number): { cases: Case[]; dir: string } {
  const random = generator(seed)
  const dir = tempDir('memmap-bounded-')
  // A tiny file (every bound combination is near an edge) and one of three pages and a bit
  // (matches and bounds across page boundaries).
  const files = [37, 3 * PAGE + 77].map((size, i) => {
    const file = path.join(dir, `abc-${i}.bin`)
    fs.writeFileSync(file, abc(random, size))
    return { file, size }
  })
  const cases: Case[] = []
  for (let i = 0; i < CASES; i++) {
    const { file, size } = files[random(files.length)]
    const needle = abc(random, random(5)).toString('latin1')
    // Bounds anywhere from well before the start (negative) to past the end; near a page edge often.
    const bound = () => (random(4) === 0 ? PAGE * random(4) + random(9) - 4 : random(2 * size + 20) - size - 10)
    cases.push({ file, needle, start: bound(), end: bound() })
  }
  return { cases, dir }
}

const SEED = Number(process.env.MEMMAP_TEST_SEED ?? Date.now() % 2 ** 31)

linuxOnly(test, 'python3')(`indexOf and lastIndexOf with both bounds agree with Python's mmap.find and rfind on ${CASES} random cases`, (t) => {
  t.log(`seed ${SEED} (replay with MEMMAP_TEST_SEED=${SEED})`)
  const { cases, dir } = randomCases(SEED)
  const theirs = pythonFindAll(cases, dir)
  t.is(theirs.length, cases.length)
  const maps = new Map([...new Set(cases.map((c) => c.file))].map((f) => [f, openSync(f)]))
  const mismatches: string[] = []
  for (const [i, c] of cases.entries()) {
    const map = maps.get(c.file)!
    const n = Buffer.from(c.needle, 'latin1')
    const [find, rfind] = theirs[i]
    const label = `${JSON.stringify(c.needle)} in ${path.basename(c.file)} [${c.start}, ${c.end})`
    const ours = map.indexOf(n, c.start, c.end)
    if (ours !== find) mismatches.push(`find ${label}: indexOf ${ours}, python ${find}`)
    // rfind(n, s, e) is lastIndexOf(n, e - len(n), s) when e - len(n) >= s, with `to` as given
    // (negative counts from the end, as in Python) and `from` also written counting from the end
    // (0 cannot be: -0 is 0).
    const [s, e] = [pyResolve(c.start, map.length), pyResolve(c.end, map.length)]
    const from = e - n.length
    const last = from >= s ? map.lastIndexOf(n, from, c.start) : -1
    const lastFromEnd = from >= s ? map.lastIndexOf(n, from < map.length ? from - map.length : from, c.start) : -1
    if (last !== rfind || lastFromEnd !== rfind) mismatches.push(`rfind ${label}: lastIndexOf ${last} / ${lastFromEnd}, python ${rfind}`)
  }
  for (const map of maps.values()) map.close()
  t.deepEqual(mismatches.slice(0, 20), [], `${mismatches.length} mismatches with seed ${SEED}`)
})

linuxOnly(test, 'python3')(`indexOfAsync with { from, to } agrees with Python's mmap.find (a subset of the cases)`, async (t) => {
  t.log(`seed ${SEED + 1} (replay with MEMMAP_TEST_SEED=${SEED})`)
  const { cases, dir } = randomCases(SEED + 1)
  const subset = cases.slice(0, 400)
  const theirs = pythonFindAll(subset, dir)
  const maps = new Map([...new Set(subset.map((c) => c.file))].map((f) => [f, openSync(f)]))
  const ours = await Promise.all(subset.map((c) => maps.get(c.file)!.indexOfAsync(Buffer.from(c.needle, 'latin1'), { from: c.start, to: c.end })))
  for (const map of maps.values()) map.close()
  const mismatches = subset.flatMap((c, i) =>
    ours[i] === theirs[i][0] ? [] : [`${JSON.stringify(c.needle)} [${c.start}, ${c.end}): ${ours[i]}, python ${theirs[i][0]}`],
  )
  t.deepEqual(mismatches, [])
})

test('a match that crosses the far bound is not found, one that ends on it is (fs.readFileSync as the oracle)', async (t) => {
  const dir = tempDir('memmap-bounded-')
  const file = path.join(dir, 'record.bin')
  const at = PAGE - 3 // 'needle' straddles the first page boundary
  const data = Buffer.alloc(3 * PAGE, '.')
  data.write('needle', at)
  fs.writeFileSync(file, data)
  const disk = fs.readFileSync(file)
  using map = openSync(file)
  t.is(disk.indexOf('needle'), at)
  t.is(map.indexOf('needle', 0, at + 5), -1)
  t.is(map.indexOf('needle', 0, at + 6), at)
  t.is(map.indexOf('needle', at + 1, 3 * PAGE), -1)
  t.is(map.lastIndexOf('needle', 3 * PAGE, at + 1), -1)
  t.is(map.lastIndexOf('needle', 3 * PAGE, at), at)
  t.is(map.lastIndexOf('needle', at - 1), -1)
  t.is(await map.indexOfAsync('needle', { to: at + 5 }), -1)
  t.is(await map.indexOfAsync('needle', { to: at + 6 }), at)
  t.is(await map.indexOfAsync('needle', { from: -(3 * PAGE - at), to: -(3 * PAGE - at - 6) }), at, 'both bounds counted from the end')
})

test("an omitted or undefined toOffset keeps Buffer's unbounded answer", async (t) => {
  const dir = tempDir('memmap-bounded-')
  const file = path.join(dir, 'abc.bin')
  fs.writeFileSync(file, abc(generator(7), 5000))
  const disk = fs.readFileSync(file)
  using map = openSync(file)
  for (const needle of ['ab', 'cab', 'a', '', 'abcabcabcabcabcabc']) {
    for (const from of [0, 1, 2500, 4999, 5000, -1, -100]) {
      t.is(map.indexOf(needle, from, undefined), disk.indexOf(needle, from), `indexOf(${needle}, ${from})`)
      t.is(map.lastIndexOf(needle, from, undefined), disk.lastIndexOf(needle, from), `lastIndexOf(${needle}, ${from})`)
      t.is(await map.indexOfAsync(needle, { from, to: undefined }), disk.indexOf(needle, from))
    }
    t.is(map.lastIndexOf(needle, undefined, undefined), disk.lastIndexOf(needle))
  }
})

test('a toOffset that is not an integer throws ERR_OUT_OF_RANGE or ERR_INVALID_ARG_TYPE naming it', async (t) => {
  const dir = tempDir('memmap-bounded-')
  const file = path.join(dir, 'abc.bin')
  fs.writeFileSync(file, 'abcabc')
  using map = openSync(file)
  for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
    const e = t.throws(() => map.indexOf('a', 0, bad), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
    t.regex(e!.message, /^Expected `toOffset` to be a safe integer, got \S+ \(number\)$/)
    t.throws(() => map.lastIndexOf('a', 6, bad), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
    const a = await t.throwsAsync(map.indexOfAsync('a', { to: bad }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
    t.regex(a!.message, /`options\.to`/)
  }
  for (const bad of ['3', null, {}, true]) {
    t.throws(() => map.indexOf('a', 0, bad as number), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: /`toOffset`/ })
    t.throws(() => map.lastIndexOf('a', 6, bad as number), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
    await t.throwsAsync(map.indexOfAsync('a', { to: bad as number }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: /`options\.to`/ })
  }
  t.is(map.indexOf('c', 0n, 3n), 2, 'bigint bounds work')
  t.is(map.lastIndexOf('a', 6n, 1n), 3)
})

linuxOnly(test, 'ftruncate(2) below a live mapping (Windows refuses it; Linux then raises SIGBUS)')(
  'a search bounded before pages truncated away succeeds while an unbounded one throws ERR_MMAP_TRUNCATED (child)',
  (t) => {
    const dir = tempDir('memmap-bounded-')
    const file = path.join(dir, 'shrinking.bin')
    const data = Buffer.alloc(16 * PAGE, '.')
    data.write('needle', 2 * PAGE - 2)
    fs.writeFileSync(file, data)
    const code = `
    const fs = require('node:fs')
    const { openSync } = require(process.env.MEMMAP_ROOT)
    const PAGE = ${PAGE}
    const file = ${JSON.stringify(file)}
    const map = openSync(file)
    // Pages 5..15 are now wholly past the end of the file; touching one would be SIGBUS.
    fs.truncateSync(file, 4 * PAGE + 100)
    const disk = fs.readFileSync(file)
    const outcome = (f) => { try { return { value: f() } } catch (e) { return { code: e.code } } }
    const settle = (p) => p.then((value) => ({ value }), (e) => ({ code: e.code }))
    const report = {
      disk: disk.indexOf('needle'),
      diskLast: disk.lastIndexOf('.'),
      bounded: outcome(() => map.indexOf('needle', 0, 4 * PAGE)),
      boundedInLastPage: outcome(() => map.indexOf('absent', 0, 5 * PAGE)),
      lastBounded: outcome(() => map.lastIndexOf('.', 4 * PAGE + 99, 0)),
      unbounded: outcome(() => map.indexOf('absent')),
      lastUnbounded: outcome(() => map.lastIndexOf('needle')),
      fromPastTheEnd: outcome(() => map.indexOf('.', 6 * PAGE)),
      lastToPastTheEnd: outcome(() => map.lastIndexOf('.', 16 * PAGE, 6 * PAGE)),
    }
    Promise.all([settle(map.indexOfAsync('needle', { to: 4 * PAGE })), settle(map.indexOfAsync('absent'))]).then(([asyncBounded, asyncUnbounded]) => {
      map.close()
      process.stdout.write(JSON.stringify({ ...report, asyncBounded, asyncUnbounded }))
    })
  `
    const r = runChild(code)
    exitedCleanly(t, r)
    const o = JSON.parse(r.stdout) as Record<string, { value?: number; code?: string } | number>
    t.log(o)
    t.is(o.disk, 2 * PAGE - 2)
    t.deepEqual(o.bounded, { value: o.disk })
    t.deepEqual(o.boundedInLastPage, { value: -1 }, 'bytes past the end inside the last page read as zeros')
    t.deepEqual(o.lastBounded, { value: o.diskLast })
    t.deepEqual(o.asyncBounded, { value: o.disk })
    for (const key of ['unbounded', 'lastUnbounded', 'fromPastTheEnd', 'lastToPastTheEnd', 'asyncUnbounded']) {
      t.deepEqual(o[key], { code: 'ERR_MMAP_TRUNCATED' }, key)
    }
  },
)
