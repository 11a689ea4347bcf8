// SPEC §6: populate and lock of a 1 GiB 'read' map must not copy the file into private memory.
// Reports the growth of RssAnon (/proc/self/status) across `openSync(path, { populate: true })`
// and across `lock()`, beside a C MAP_POPULATE on a private writable map (the copy a naive
// populate makes) and on a private read-only map (no copy, but not what a stray-write-safe
// 'read' map is).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { GiB, MiB, cacheNote, fmtBytes, fmtNs, fmtSpread, interleave, main, median, memmap, met, now, rssAnon, runChild, runProgram, since } from './lib.mjs'

const script = fileURLToPath(import.meta.url)
const SIZE = GiB
const LIMIT = 16 * MiB

const vmLck = () => Number(/VmLck:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) * 1024

async function run(ctx) {
  const file = ctx.file('1g.bin', SIZE)
  if (file.skip) return { rows: [], notes: [`skipped: ${file.skip}`] }
  const c = ctx.c('populate')
  const resident = []
  const { results, errors } = interleave(
    [
      { key: 'populate', run: () => runChild(script, 'populate', { file: file.path, mode: 'read' }) },
      { key: 'lock', run: () => runChild(script, 'lock', { file: file.path }) },
      { key: 'populateCow', run: () => runChild(script, 'populate', { file: file.path, mode: 'copy-on-write' }) },
      ...(c.skip
        ? []
        : [
            { key: 'cWrite', run: () => runProgram(c.path, [file.path, 'private-write'], 'C populate') },
            { key: 'cRead', run: () => runProgram(c.path, [file.path, 'private-read'], 'C populate') },
          ]),
    ],
    { before: () => resident.push(ctx.warm(file.path)) },
  )
  // One figure per process (one call each).
  const gs = (k) => (results[k] ?? []).map((r) => r.rssAnonGrowth)
  const ts = (k) => (results[k] ?? []).map((r) => r.ns)
  const g = (k) => median(gs(k))
  const gMax = (k) => Math.max(...gs(k))
  const both = (k) => `${fmtSpread(gs(k), fmtBytes)} in ${fmtSpread(ts(k), fmtNs)}`
  const cText = (k) => (c.skip ? `n/a (${c.skip})` : errors[k] ? `failed: ${errors[k]}` : both(k))
  const baselines = `C MAP_POPULATE, MAP_PRIVATE + PROT_WRITE (the copy): ${cText('cWrite')}; C MAP_POPULATE, MAP_PRIVATE read-only: ${cText('cRead')}`
  const row = (key, work) =>
    errors[key]
      ? { work, memmap: `failed: ${errors[key]}`, baselines, ratio: '—', target: '< 16 MiB', met: met(false) }
      : {
          work,
          memmap: both(key),
          baselines,
          ratio: `${((100 * g(key)) / g('cWrite')).toFixed(2)}% of the C copy`,
          target: '< 16 MiB',
          met: met(gMax(key) < LIMIT),
        }
  const lock = results.lock ?? []
  return {
    title: "populate / lock of a 1 GiB 'read' map",
    conditions: [
      'file: 1 GiB of data; private memory = RssAnon in /proc/self/status, growth across the call; the target is checked on the largest growth of any process',
      cacheNote(resident),
      `lock(): VmLck after the call ${lock.length ? fmtBytes(median(lock.map((r) => r.locked))) : 'n/a'} (shows the range really is locked); pages of the map resident after populate: ${results.populate?.length ? `${(100 * median(results.populate.map((r) => r.resident))).toFixed(0)}%` : 'n/a'}`,
    ],
    rows: [
      row('populate', "`openSync(path, { populate: true })`, mode 'read'"),
      row('lock', "`lock()` on a 1 GiB 'read' map"),
      row('populateCow', "`openSync(path, { mode: 'copy-on-write', populate: true })`"),
    ],
    notes: [],
  }
}

async function child(role, { file, mode }) {
  const { openSync } = memmap()
  if (role === 'populate') {
    const before = rssAnon()
    const t = now()
    const map = openSync(file, { mode, populate: true })
    const ns = since(t)
    const rssAnonGrowth = rssAnon() - before
    const r = map.residency()
    map.close()
    return { ns, rssAnonGrowth, resident: r.resident / r.total }
  }
  const map = openSync(file)
  const before = rssAnon()
  const t = now()
  map.lock()
  const ns = since(t)
  const rssAnonGrowth = rssAnon() - before
  const locked = vmLck()
  map.unlock()
  map.close()
  return { ns, rssAnonGrowth, locked }
}

const scenario = { name: 'populate-lock-1g', title: "populate / lock of a 1 GiB 'read' map", run, child }
export default scenario
export { run }

await main(import.meta, scenario)
