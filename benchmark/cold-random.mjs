// SPEC §6: cold random 4 KiB reads with advice 'random', beside pread (fs.readSync). The file's
// pages are evicted (posix_fadvise DONTNEED) right before each process, so every record is read
// from the disk: by a page fault for memmap, by the syscall for pread.
import { closeSync, openSync, readSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { GiB, fmtNs, fmtRate, fmtRatio, fmtSpread, interleave, main, median, memmap, met, now, pct, randomRecords, runChild, since, sumRecord } from './lib.mjs'

const script = fileURLToPath(import.meta.url)
const SIZE = 4 * GiB
const RECORD = 4096
const RECORDS = 2000

async function run(ctx) {
  const file = ctx.file('4g.bin', SIZE)
  if (file.skip) return { rows: [], notes: [`skipped: ${file.skip}`] }
  const left = []
  // Process p of every variant reads the same random records (seed p).
  const { results, errors } = interleave(
    [
      { key: 'random', run: (p) => runChild(script, 'memmap', { file: file.path, seed: p + 1, advice: 'random' }) },
      { key: 'pread', run: (p) => runChild(script, 'pread', { file: file.path, seed: p + 1 }) },
      { key: 'normal', run: (p) => runChild(script, 'memmap', { file: file.path, seed: p + 1, advice: 'normal' }) },
    ],
    { before: () => left.push(ctx.evict(file.path)) },
  )
  for (const [k, e] of Object.entries(errors)) throw new Error(`${k}: ${e}`)
  // One figure per process (its single cold pass).
  const rates = (k) => results[k].map((r) => (RECORDS / r.ns) * 1e9)
  const [m, p, n] = [median(rates('random')), median(rates('pread')), median(rates('normal'))]
  const show = (k) => `${fmtSpread(rates(k), (x) => fmtRate(x, ' records/s'))}, ${fmtNs(1e9 / median(rates(k)))} per record`
  const checks = results.random.every((r, i) => r.check === results.pread[i].check && r.check === results.normal[i]?.check)
  return {
    title: "cold random 4 KiB reads with advice 'random'",
    conditions: [
      `file: 4 GiB; ${RECORDS} records at random 4 KiB-aligned offsets per process, one timed pass (a cold cache can't be re-run), seed per process shared by all variants (checksums agree: ${checks ? 'yes' : 'NO'})`,
      `cache: cold, evicted with posix_fadvise(POSIX_FADV_DONTNEED) right before each process; at most ${pct(Math.max(...left))} of the file's pages resident after eviction`,
      'each record is summed as 1024 Int32 in JS (memmap: in place through one `view(Int32Array)`; pread: `fs.readSync` into a reused 4 KiB buffer)',
    ],
    rows: [
      {
        work: "cold random 4 KiB records, `advice: 'random'`",
        memmap: show('random'),
        baselines: `pread (fs.readSync) ${show('pread')}`,
        ratio: `${fmtRatio(m / p)} pread`,
        target: '>= 0.9x pread',
        met: met(m / p >= 0.9),
      },
      {
        work: "the same with advice 'normal' (the kernel reads around each fault)",
        memmap: show('normal'),
        baselines: `pread ${fmtRate(p, ' records/s')}`,
        ratio: `${fmtRatio(n / p)} pread`,
        target: 'report',
        met: met(undefined),
      },
    ],
    notes: [],
  }
}

async function child(role, { file, seed, advice }) {
  const recs = randomRecords(seed, RECORDS, SIZE / RECORD)
  const warm = new Int32Array(1024)
  for (let i = 0; i < 2000; i++) sumRecord(warm, 0)
  let check = 0
  let ns
  if (role === 'pread') {
    const fd = openSync(file, 'r')
    const buf = Buffer.allocUnsafeSlow(RECORD)
    const a = new Int32Array(buf.buffer, 0, RECORD / 4)
    const t = now()
    for (let i = 0; i < recs.length; i++) {
      readSync(fd, buf, 0, RECORD, recs[i] * RECORD)
      check = (check + sumRecord(a, 0)) | 0
    }
    ns = since(t)
    closeSync(fd)
  } else {
    const map = memmap().openSync(file, { advice })
    const a = map.view(Int32Array)
    const t = now()
    for (let i = 0; i < recs.length; i++) check = (check + sumRecord(a, recs[i] * 1024)) | 0
    ns = since(t)
    map.close()
  }
  return { ns, check }
}

const scenario = { name: 'cold-random', title: "cold random 4 KiB reads with advice 'random'", run, child }
export default scenario
export { run }

await main(import.meta, scenario)
