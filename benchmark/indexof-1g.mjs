// SPEC §6: indexOf of an absent byte (0xff) in a 1 GiB file, beside Python's mmap.find and
// Buffer.prototype.indexOf over a readFileSync copy.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { GiB, cacheNote, fmtGBs, fmtNs, fmtRatio, fmtSpread, interleave, main, median, memmap, met, now, runChild, runProgram, since } from './lib.mjs'

const script = fileURLToPath(import.meta.url)
const SIZE = GiB
const NEEDLE = 0xff
const REPS = 7

async function run(ctx) {
  const file = ctx.file('1g.bin', SIZE)
  if (file.skip) return { rows: [], notes: [`skipped: ${file.skip}`] }
  const py = ctx.py('find')
  const resident = []
  const { results, errors } = interleave(
    [
      { key: 'memmap', run: () => runChild(script, 'memmap', { file: file.path }) },
      ...(py.skip ? [] : [{ key: 'py', run: () => runProgram(py.python, [py.script, file.path, REPS, NEEDLE], 'find.py') }]),
      { key: 'buffer', run: () => runChild(script, 'buffer', { file: file.path }) },
    ],
    { before: () => resident.push(ctx.warm(file.path)) },
  )
  if (errors.memmap) throw new Error(errors.memmap)
  const all = Object.values(results).flat()
  const absent = all.every((r) => r.found === -1)
  // One figure per process: the median of its searches, and its first search.
  const loops = (k, f = 'loopNs') => (results[k] ?? []).map((r) => median(r[f]))
  const firsts = (k) => (results[k] ?? []).map((r) => r.firstNs)
  const first = (k) => median(firsts(k))
  const bw = (ns) => (SIZE / ns) * 1e9
  const [m, p, ma] = [median(loops('memmap')), median(loops('py')), median(loops('memmap', 'asyncNs'))]
  const speed = (k, f) => `${fmtSpread(loops(k, f).map(bw), fmtGBs)}, ${fmtNs(median(loops(k, f)))}`
  const pyText = (v) => (py.skip ? `n/a (${py.skip})` : errors.py ? `failed: ${errors.py}` : v)
  return {
    title: 'indexOf of an absent byte in 1 GiB',
    conditions: [
      `file: 1 GiB without the byte 0xff; every search returned -1: ${absent ? 'yes' : 'NO'}; ${REPS} timed searches per process after the first`,
      cacheNote(resident),
      `memmap: \`openSync(path).indexOf(0xff)\` (memchr, no view created); Python: \`mmap.mmap(fd, 0, access=ACCESS_READ).find(b'\\xff')\` (${py.version ?? 'python3'}); GB/s = 10^9 bytes/s`,
    ],
    rows: [
      {
        work: 'indexOf(0xff), absent, 1 GiB, map already faulted',
        memmap: speed('memmap'),
        baselines: `Python mmap.find ${pyText(speed('py'))}; Buffer#indexOf on a readFileSync copy ${speed('buffer')}`,
        ratio: `${fmtRatio(p / m)} Python speed`,
        target: '>= 0.95x Python',
        met: met(p / m >= 0.95),
      },
      {
        work: 'open + first indexOf (page faults included)',
        memmap: fmtSpread(firsts('memmap'), fmtNs),
        baselines: `Python open + mmap + first find ${pyText(fmtSpread(firsts('py'), fmtNs))}; readFileSync + indexOf ${fmtSpread(firsts('buffer'), fmtNs)}`,
        ratio: `${fmtRatio(first('py') / first('memmap'))} Python speed`,
        target: 'report',
        met: met(undefined),
      },
      {
        work: '`indexOfAsync(0xff)` on the thread pool, map faulted',
        memmap: speed('memmap', 'asyncNs'),
        baselines: pyText(`Python mmap.find ${fmtGBs(bw(p))}`),
        ratio: `${fmtRatio(p / ma)} Python speed`,
        target: 'report',
        met: met(undefined),
      },
    ],
    notes: [],
  }
}

async function child(role, { file }) {
  // Loaded before the timer, as Python's mmap module and node:fs are for the baselines (loading
  // memmap took 14-41 ms here: it was the whole "first-touch gap" to Python once).
  const { openSync: mapFile } = memmap()
  const t = now()
  const loopNs = []
  const asyncNs = []
  let found
  if (role === 'memmap') {
    const map = mapFile(file)
    found = map.indexOf(NEEDLE)
    const firstNs = since(t)
    for (let r = 0; r < REPS; r++) {
      const t1 = now()
      if (map.indexOf(NEEDLE) !== found) throw new Error('indexOf changed')
      loopNs.push(since(t1))
    }
    for (let r = 0; r < 3; r++) {
      const t1 = now()
      if ((await map.indexOfAsync(NEEDLE)) !== found) throw new Error('indexOfAsync differs')
      asyncNs.push(since(t1))
    }
    map.close()
    return { firstNs, loopNs, asyncNs, found }
  }
  const buf = readFileSync(file)
  found = buf.indexOf(NEEDLE)
  const firstNs = since(t)
  for (let r = 0; r < REPS; r++) {
    const t1 = now()
    buf.indexOf(NEEDLE)
    loopNs.push(since(t1))
  }
  return { firstNs, loopNs, found }
}

const scenario = { name: 'indexof-1g', title: 'indexOf of an absent byte in 1 GiB', run, child }
export default scenario
export { run }

await main(import.meta, scenario)
