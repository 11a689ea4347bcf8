// SPEC §6: sum a mapped 1 GiB file from JS, beside the same loop over a heap Buffer (each in a
// fresh process), readFileSync + sum, and a C sum over mmap. The loop reads the file as Int32
// and wraps like C's uint32 sum, so all three must print the same number.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { GiB, cacheNote, fmtGBs, fmtNs, fmtRatio, fmtSpread, interleave, main, median, memmap, met, now, runChild, runProgram, since } from './lib.mjs'

const script = fileURLToPath(import.meta.url)
const SIZE = GiB
const REPS = 3

function sum(a) {
  let s = 0
  for (let i = 0, n = a.length; i < n; i++) s = (s + a[i]) | 0
  return s
}

async function run(ctx) {
  const file = ctx.file('1g.bin', SIZE)
  if (file.skip) return { rows: [], notes: [`skipped: ${file.skip}`] }
  const c = ctx.c('sum')
  const resident = []
  const { results, errors } = interleave(
    [
      { key: 'memmap', run: () => runChild(script, 'memmap', { file: file.path }) },
      { key: 'heap', run: () => runChild(script, 'heap', { file: file.path }) },
      ...(c.skip ? [] : [{ key: 'c', run: () => runProgram(c.path, [file.path, REPS], 'C sum') }]),
    ],
    { before: () => resident.push(ctx.warm(file.path)) },
  )
  if (errors.memmap || errors.heap) throw new Error(errors.memmap ?? errors.heap)
  const sums = new Set([...results.memmap, ...results.heap, ...(results.c ?? [])].map((r) => r.sum >>> 0))
  // One figure per process: the median of its steady passes, and its first pass.
  const loops = (k) => (results[k] ?? []).map((r) => median(r.loopNs))
  const firsts = (k) => (results[k] ?? []).map((r) => r.firstNs)
  const bw = (ns) => (SIZE / ns) * 1e9
  const [mLoop, hLoop] = [median(loops('memmap')), median(loops('heap'))]
  const [mFirst, hFirst] = [median(firsts('memmap')), median(firsts('heap'))]
  const speed = (k) => `${fmtSpread(loops(k).map(bw), fmtGBs)}, ${fmtNs(median(loops(k)))}`
  const cText = (v) => (c.skip ? `n/a (${c.skip})` : errors.c ? `failed: ${errors.c}` : v)
  return {
    title: 'sum a mapped 1 GiB file from JS',
    conditions: [
      `file: 1 GiB, read as Int32 (2^28 elements), sum \`(s + a[i]) | 0\`; all processes agree on the sum: ${sums.size === 1 ? 'yes' : `NO (${[...sums].join(', ')})`}`,
      cacheNote(resident),
      `memmap: \`openSync(path).view(Int32Array)\`, never closed before timing (no detach in the process); heap: \`readFileSync\` then \`new Int32Array(buf.buffer)\`; ${REPS} timed passes per process after the first; the loop is JIT-optimized on a small array before any timing`,
    ],
    rows: [
      {
        work: 'sum loop, steady pass (pages already faulted)',
        memmap: speed('memmap'),
        baselines: `same loop over a heap Buffer ${speed('heap')}; C over mmap (cc -O2) ${cText(fmtSpread(loops('c').map(bw), fmtGBs))}`,
        ratio: `${fmtRatio(hLoop / mLoop)} heap speed`,
        target: '>= 0.95x heap',
        met: met(hLoop / mLoop >= 0.95),
      },
      {
        work: 'open + first sum (memmap: faults the pages in) vs readFileSync + first sum',
        memmap: fmtSpread(firsts('memmap'), fmtNs),
        baselines: `readFileSync + sum ${fmtSpread(firsts('heap'), fmtNs)}; C open + mmap + sum ${cText(fmtSpread(firsts('c'), fmtNs))}`,
        ratio: `${fmtRatio(hFirst / mFirst)} faster than readFileSync + sum`,
        target: '>= 3x',
        met: met(hFirst / mFirst >= 3),
      },
    ],
    notes: [],
  }
}

async function child(role, { file }) {
  // Let the JIT optimize the loop first: otherwise the first two 1 GiB passes run in slower tiers.
  const warm = new Int32Array(1 << 16)
  for (let i = 0; i < 500; i++) sum(warm)
  // Loaded before the timer, as node:fs is for the baseline (loading memmap took 14-41 ms here).
  const { openSync: mapFile } = memmap()
  const t = now()
  let a
  let map
  if (role === 'memmap') {
    map = mapFile(file)
    a = map.view(Int32Array)
  } else {
    const buf = readFileSync(file)
    a = new Int32Array(buf.buffer, buf.byteOffset, buf.length >> 2)
  }
  const s = sum(a)
  const firstNs = since(t)
  const loopNs = []
  for (let r = 0; r < REPS; r++) {
    const t1 = now()
    if (sum(a) !== s) throw new Error('sum changed')
    loopNs.push(since(t1))
  }
  map?.close()
  return { sum: s >>> 0, firstNs, loopNs }
}

const scenario = { name: 'sum-1g', title: 'sum a mapped 1 GiB file from JS', run, child }
export default scenario
export { run }

await main(import.meta, scenario)
