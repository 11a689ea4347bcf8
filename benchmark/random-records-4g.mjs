// SPEC §6: random 4 KiB records from a 4 GiB file, 1024 Int32 summed in JS per record through a
// `view()` per record, beside fs.readSync into a reused buffer + the same sum, and beside a bare
// `new Int32Array(map.buffer, offset, 1024)` per record (what `view()` should cost no more than).
// Page cache warm. Each sample draws fresh random records (the same sequence in every variant).
import { closeSync, openSync, readSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import {
  GiB,
  cacheNote,
  fmtNs,
  fmtRate,
  fmtRatio,
  fmtSpread,
  interleave,
  main,
  median,
  memmap,
  met,
  now,
  randomRecords,
  runChild,
  since,
  sumRecord,
} from './lib.mjs'

const script = fileURLToPath(import.meta.url)
const SIZE = 4 * GiB
const RECORD = 4096
const PER_SAMPLE = 65536
const SAMPLES = 5
/** The call-cost rows construct views inside the first MiB only, so memory misses stay out of them. */
const HOT_RECORDS = 256
/** Calls per sample of the call-cost rows: about 50 ms, so a burst of other work moves a median little. */
const CALLS = 1 << 21

async function run(ctx) {
  const file = ctx.file('4g.bin', SIZE)
  if (file.skip) return { rows: [], notes: [`skipped: ${file.skip}`] }
  const resident = []
  const { results, errors } = interleave(
    ['records', 'calls', 'memmap', 'memmapFaulting'].map((key) => ({
      key,
      run: () => runChild(script, key, { file: file.path }),
    })),
    { before: () => resident.push(ctx.warm(file.path)) },
  )
  for (const [k, e] of Object.entries(errors)) throw new Error(`${k}: ${e}`)
  // The loops compared directly share a process, their samples alternating: view, bare and fs
  // in 'records', the two calls in 'calls'. `ns(k)` is each process's samples of loop `k`.
  const role = (k) => (k === 'viewCall' || k === 'bareCall' ? 'calls' : ['view', 'bare', 'fs'].includes(k) ? 'records' : k)
  const ns = (k) => results[role(k)].map((r) => (role(k) === k ? r.ns : r.ns[k]))
  // One figure per process: records/s of its median sample.
  const rates = (k) => ns(k).map((samples) => (PER_SAMPLE / median(samples)) * 1e9)
  const checks = (keys) => new Set(keys.flatMap((k) => results[role(k)].map((r) => (role(k) === k ? r.check : r.check[k])))).size === 1
  const agree = checks(['view', 'bare', 'memmap', 'memmapFaulting', 'fs']) && checks(['viewCall', 'bareCall'])
  const [m, mf, f] = [median(rates('memmap')), median(rates('memmapFaulting')), median(rates('fs'))]
  const [v, b] = [median(rates('view')), median(rates('bare'))]
  // Time per call: view() against the bare constructor, each process's median sample.
  const perCall = (k) => ns(k).map((samples) => median(samples) / CALLS)
  const [vc, bc] = [median(perCall('viewCall')), median(perCall('bareCall'))]
  const show = (k) => `${fmtSpread(rates(k), (x) => fmtRate(x, ' records/s'))}, ${fmtNs(1e9 / median(rates(k)))} per record`
  const populate = results.records.map((r) => r.openNs)
  return {
    title: 'random 4 KiB records from a 4 GiB file, 1024 Int32 summed in JS per record',
    conditions: [
      `file: 4 GiB; records at random 4 KiB-aligned offsets, ${PER_SAMPLE} per sample, ${SAMPLES} samples per process after a warm-up sample, a fresh random sequence per sample (the same in every variant; checksums agree: ${agree ? 'yes' : 'NO'})`,
      cacheNote(resident),
      'memmap: `map.view(Int32Array, offset, 1024)` per record, summed (map opened with `populate: true`); bare: `new Int32Array(map.buffer, offset, 1024)` per record over the same map; baseline: `fs.readSync(fd, buf, 0, 4096, pos)` into one reused 4 KiB buffer, the same sum over an Int32Array on it. These three run in the same processes, their samples alternating (in a rotating order), so a burst of other work on the machine falls on all three; the whole-map rows run in processes of their own',
      `call cost: ${CALLS} views per sample at random record offsets inside the first ${HOT_RECORDS} records (1 MiB, cache-resident), element 0 of each read, so the figure is the call and the constructor rather than memory`,
    ],
    rows: [
      {
        work: 'random records, a `view(Int32Array, offset, 1024)` per record (map prefaulted)',
        memmap: show('view'),
        baselines: `fs.readSync + sum ${show('fs')}; bare \`new Int32Array(map.buffer, …)\` per record ${show('bare')}`,
        ratio: `${fmtRatio(v / f)} fs.readSync; ${fmtRatio(v / b)} bare`,
        target: '>= 1.8x fs.readSync',
        met: met(v / f >= 1.8),
      },
      {
        work: 'one `view()` call (Int32Array of 1024 at a random record offset)',
        memmap: fmtSpread(perCall('viewCall'), fmtNs),
        baselines: `\`new Int32Array(map.buffer, offset, 1024)\` ${fmtSpread(perCall('bareCall'), fmtNs)}`,
        ratio: `${fmtRatio(vc / bc)} the bare constructor (time)`,
        target: '<= 1.1x bare',
        met: met(vc / bc <= 1.1),
      },
      {
        work: 'random records through one `view(Int32Array)` over the whole map, summed in place (map prefaulted)',
        memmap: show('memmap'),
        baselines: `fs.readSync + sum ${fmtRate(f, ' records/s')}`,
        ratio: `${fmtRatio(m / f)} fs.readSync`,
        target: 'report',
        met: met(undefined),
      },
      {
        work: 'the same, map not prefaulted (each newly touched page is a minor fault)',
        memmap: show('memmapFaulting'),
        baselines: `fs.readSync + sum ${fmtRate(f, ' records/s')}`,
        ratio: `${fmtRatio(mf / f)} fs.readSync`,
        target: 'report',
        met: met(undefined),
      },
    ],
    notes: [`\`openSync(4 GiB, { populate: true })\` took ${fmtSpread(populate, fmtNs)} (MADV_POPULATE_READ over the cached file), outside the timed samples.`],
  }
}

async function child(role, { file }) {
  const count = SIZE / RECORD
  const samples = []
  let check = 0
  let openNs = 0
  if (role === 'records' || role === 'calls') {
    const { openSync: mapFile } = memmap()
    const t0 = now()
    const map = mapFile(file, { populate: true })
    openNs = since(t0)
    const buffer = map.buffer
    const fd = openSync(file, 'r')
    const buf = Buffer.allocUnsafeSlow(RECORD)
    const target = { view: map, bare: buffer, fs: { fd, buf, a: new Int32Array(buf.buffer, buf.byteOffset, RECORD / 4) }, viewCall: map, bareCall: buffer }
    const keys = role === 'records' ? ['view', 'bare', 'fs'] : ['viewCall', 'bareCall']
    /** @type {Record<string, number[]>} */
    const byKey = Object.fromEntries(keys.map((k) => [k, []]))
    const checks = Object.fromEntries(keys.map((k) => [k, 0]))
    for (let s = -1; s < SAMPLES; s++) {
      const recs = role === 'calls' ? randomRecords(s + 2, CALLS, HOT_RECORDS) : randomRecords(s + 2, PER_SAMPLE, count)
      for (let j = 0; j < keys.length; j++) {
        const k = keys[(j + s + 1) % keys.length]
        const t = now()
        const sum = LOOPS[k](target[k], recs)
        if (s >= 0) byKey[k].push(since(t))
        checks[k] = (checks[k] + sum) | 0
      }
    }
    closeSync(fd)
    map.close()
    return { ns: byKey, check: checks, openNs }
  } else {
    const { openSync: mapFile } = memmap()
    const t0 = now()
    const map = mapFile(file, role === 'memmap' ? { populate: true } : {})
    openNs = since(t0)
    const a = map.view(Int32Array)
    for (let s = -1; s < SAMPLES; s++) {
      const recs = randomRecords(s + 2, PER_SAMPLE, count)
      let sum = 0
      const t = now()
      for (let i = 0; i < recs.length; i++) sum = (sum + sumRecord(a, recs[i] * 1024)) | 0
      if (s >= 0) samples.push(since(t))
      check = (check + sum) | 0
    }
    map.close()
  }
  return { ns: samples, check, openNs }
}

/** Each role's loop in a function of its own, as a caller's hot loop would be. */
const LOOPS = {
  view(map, recs) {
    let sum = 0
    for (let i = 0; i < recs.length; i++) sum = (sum + sumRecord(map.view(Int32Array, recs[i] * RECORD, 1024), 0)) | 0
    return sum
  },
  bare(buffer, recs) {
    let sum = 0
    for (let i = 0; i < recs.length; i++) sum = (sum + sumRecord(new Int32Array(buffer, recs[i] * RECORD, 1024), 0)) | 0
    return sum
  },
  fs({ fd, buf, a }, recs) {
    let sum = 0
    for (let i = 0; i < recs.length; i++) {
      readSync(fd, buf, 0, RECORD, recs[i] * RECORD)
      sum = (sum + sumRecord(a, 0)) | 0
    }
    return sum
  },
  viewCall(map, recs) {
    let sum = 0
    for (let i = 0; i < recs.length; i++) sum = (sum + map.view(Int32Array, recs[i] * RECORD, 1024)[0]) | 0
    return sum
  },
  bareCall(buffer, recs) {
    let sum = 0
    for (let i = 0; i < recs.length; i++) sum = (sum + new Int32Array(buffer, recs[i] * RECORD, 1024)[0]) | 0
    return sum
  },
}

const scenario = { name: 'random-records-4g', title: 'random 4 KiB records from a 4 GiB file', run, child }
export default scenario
export { run }

await main(import.meta, scenario)
