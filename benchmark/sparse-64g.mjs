// SPEC §6: open a 64 GiB sparse file: the time of the first openSync in a fresh process and the
// growth of its private memory (RssAnon, /proc/self/status) across it, beside readFileSync
// (which refuses files over 2 GiB) and the C and Python mmap cycles on the same file.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import {
  GiB,
  KiB,
  MiB,
  fmtBytes,
  fmtNs,
  fmtRatio,
  fmtSpread,
  interleave,
  main,
  median,
  memmap,
  met,
  now,
  rssAnon,
  runChild,
  runProgram,
  since,
  timeOps,
} from './lib.mjs'

const script = fileURLToPath(import.meta.url)
const SIZE = 64 * GiB

async function run(ctx) {
  const file = ctx.file('64g-sparse.bin', SIZE, 'sparse')
  if (file.skip) return { rows: [], notes: [`skipped: ${file.skip}`] }
  const small = ctx.file('4k.bin', 4 * KiB)
  const c = ctx.c('open_close')
  const py = ctx.py('open_close')
  let refusal
  try {
    readFileSync(file.path)
    refusal = 'readFileSync read it (unexpected)'
  } catch (e) {
    refusal = `readFileSync throws ${/** @type {NodeJS.ErrnoException} */ (e).code} (${/** @type {Error} */ (e).constructor.name})`
  }
  const { results, errors } = interleave(
    [
      { key: 'memmap', run: () => runChild(script, 'memmap', { file: file.path, small: small.path }) },
      ...(c.skip ? [] : [{ key: 'c', run: () => runProgram(c.path, [file.path, 200, 5, 0], 'C open_close') }]),
      ...(py.skip ? [] : [{ key: 'py', run: () => runProgram(py.python, [py.script, file.path, 200, 5, 0], 'open_close.py') }]),
    ],
    { before: () => ctx.warm(small.path) },
  )
  if (errors.memmap) throw new Error(errors.memmap)
  const r = results.memmap
  // One figure per process: its first open, its growth, the median of its loop samples.
  const opens = r.map((x) => x.openNs)
  const openNs = median(opens)
  const growths = r.map((x) => x.growth)
  const maxGrowth = Math.max(...growths)
  const loops = r.map((x) => median(x.loopNs))
  const loop = median(loops)
  const cRuns = (results.c ?? []).map((x) => median(x.ns))
  const pyRuns = (results.py ?? []).map((x) => median(x.ns))
  const [cNs, pyNs] = [median(cRuns), median(pyRuns)]
  const other = `C open/fstat/mmap/munmap/close ${c.skip ? `n/a (${c.skip})` : errors.c ? `failed: ${errors.c}` : fmtSpread(cRuns, fmtNs)}; Python mmap cycle ${py.skip ? `n/a (${py.skip})` : errors.py ? `failed: ${errors.py}` : fmtSpread(pyRuns, fmtNs)}`
  return {
    title: 'open a 64 GiB sparse file',
    conditions: [
      `file: 64 GiB sparse (ftruncate), ${fmtBytes(file.allocated)} allocated on disk; nothing to cache (holes read as zeros)`,
      `memmap: in each of ${r.length} fresh processes, one warm-up openSync + close of a 4 KiB file, then RssAnon, the timed first \`openSync\` of the 64 GiB file, RssAnon again; afterwards a window at 60 GiB (\`view(Uint8Array, 60 GiB, 4096)\`) reads ${r.every((x) => x.windowByte === 0) ? 'zeros as expected' : 'WRONG BYTES'}, and an open + close loop is timed`,
    ],
    rows: [
      {
        work: 'first openSync of a 64 GiB sparse file in a fresh process',
        memmap: fmtSpread(opens, fmtNs),
        baselines: `${refusal}; ${other}`,
        ratio: `${fmtRatio(openNs / cNs)} C cycle (time)`,
        target: '< 1 ms',
        met: met(openNs < 1e6),
      },
      {
        work: 'private memory growth (RssAnon) across that open',
        memmap: fmtSpread(growths, fmtBytes),
        baselines: refusal,
        ratio: '—',
        target: '< 1 MiB',
        met: met(maxGrowth < MiB),
      },
      {
        work: 'open + close loop, 64 GiB sparse file, no view',
        memmap: fmtSpread(loops, fmtNs),
        baselines: other,
        ratio: `${fmtRatio(loop / cNs)} C; ${fmtRatio(loop / pyNs)} Python (time)`,
        target: 'report',
        met: met(undefined),
      },
    ],
    notes: [],
  }
}

async function child(role, { file, small }) {
  const { openSync } = memmap()
  openSync(small).close()
  const before = rssAnon()
  const t = now()
  const map = openSync(file)
  const openNs = since(t)
  const growth = rssAnon() - before
  if (map.length !== SIZE) throw new Error(`mapped ${map.length} bytes`)
  const windowByte = map.view(Uint8Array, 60 * GiB, 4096)[4095]
  map.close()
  const loop = timeOps(() => openSync(file).close(), { samples: 5 })
  return { openNs, growth, windowByte, loopNs: loop.ns }
}

const scenario = { name: 'sparse-64g', title: 'open a 64 GiB sparse file', run, child }
export default scenario
export { run }

await main(import.meta, scenario)
