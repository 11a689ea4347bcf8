// The open + close scenarios (SPEC §6 rows 1-4): a loop of openSync + close, with or without
// touching `bytes[0]`, on a 4 KiB or a 1 GiB file, beside the C cycle
// (open/fstat/mmap/munmap/close), Python's mmap cycle, Bun.mmap and @riaskov/mmap-io (both
// unmapped by GC only), all in fresh processes.
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { PerformanceObserver } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

import {
  GiB,
  MMAP_IO,
  cacheNote,
  calibrate,
  fmtBytes,
  fmtNs,
  fmtRatio,
  fmtSpread,
  interleave,
  median,
  memmap,
  met,
  now,
  runChild,
  runProgram,
  since,
  timeOps,
} from './lib.mjs'

const SAMPLES = 7

/**
 * @param {object} o
 * @param {string} o.url import.meta.url of the scenario file (its `--child` runs the JS side)
 * @param {string} o.name the scenario's name (its key in benchmark/run.mjs and results.md)
 * @param {string} o.title the title of its table
 * @param {number} o.size file size
 * @param {boolean} o.touch read `bytes[0]` (creates the map's ArrayBuffer) before close
 * @param {number} [o.maxRatio] target: memmap time <= maxRatio x the C cycle
 */
export function cycleScenario({ url, name, title, size, touch, maxRatio }) {
  const script = fileURLToPath(url)
  const fileName = size >= GiB ? `${size / GiB}g.bin` : `${size / 1024}k.bin`

  async function run(ctx) {
    const file = ctx.file(fileName, size)
    if (file.skip) return { rows: [], notes: [`skipped: ${file.skip}`] }
    const c = ctx.c('open_close')
    const py = ctx.py('open_close')
    const bun = ctx.runtime('bun')
    const mmapIo = ctx.mmapIo()
    const progIters = size >= GiB && touch ? 2000 : 10000
    const variants = [
      { key: 'memmap', run: () => runChild(script, 'memmap', { file: file.path, touch: false }) },
      ...(touch ? [{ key: 'memmapView', run: () => runChild(script, 'memmap', { file: file.path, touch: true }) }] : []),
      ...(c.skip ? [] : [{ key: 'c', run: () => runProgram(c.path, [file.path, progIters, SAMPLES, touch ? 1 : 0], 'C open_close') }]),
      ...(py.skip ? [] : [{ key: 'py', run: () => runProgram(py.python, [py.script, file.path, progIters / 2, SAMPLES, touch ? 1 : 0], 'open_close.py') }]),
      ...(bun.skip ? [] : [{ key: 'bun', run: () => runChild(script, 'bun', { file: file.path, touch }, { runtime: bun.path }) }]),
      ...(mmapIo.skip
        ? []
        : [{ key: 'mmapIo', run: () => runChild(script, 'mmap-io', { file: file.path, touch, dir: mmapIo.dir }, { flags: ['--expose-gc'] }) }]),
    ]
    const resident = []
    const { results, errors } = interleave(variants, { before: () => resident.push(ctx.warm(file.path)) })
    // One figure per process: the median of its samples.
    const runs = (key) => (results[key] ?? []).map((r) => median(r.ns))
    const med = (key) => median(runs(key))
    const m = med('memmap')
    const mv = med('memmapView')
    const cNs = med('c')
    const pyNs = med('py')
    const bunNs = med('bun')
    const ioNs = med('mmapIo')
    const subject = touch ? mv : m
    const peer = (entry, key, label) =>
      entry.skip ? `${label} not measured: ${entry.skip}` : errors[key] ? `${label} failed: ${errors[key]}` : `${label} ${fmtSpread(runs(key), fmtNs)}`
    const baselines = [
      c.skip ? `C n/a (${c.skip})` : peer(c, 'c', 'C'),
      py.skip ? `Python mmap n/a (${py.skip})` : peer(py, 'py', 'Python mmap'),
      `${peer(bun, 'bun', 'Bun.mmap')}${bun.skip || errors.bun ? '' : ' (view always created; unmapped by GC, a forced Bun.gc(true) per sample included)'}`,
      `${peer(mmapIo, 'mmapIo', `${MMAP_IO.pkg} ${MMAP_IO.version}`)}${
        mmapIo.skip || errors.mmapIo
          ? ''
          : ` (fs.openSync + fstatSync + map(size, PROT_READ, MAP_SHARED, fd, 0) + fs.closeSync; a Buffer always created; no unmap in its API: unmapped by GC, a forced gc() and the event-loop turn that runs the unmaps per sample included; before that GC ${fmtSpread(
              (results.mmapIo ?? []).map((r) => median(r.mapNs)),
              fmtNs,
            )})`
      }`,
    ].join('; ')
    const ratio = `${fmtRatio(subject / cNs)} C; ${fmtRatio(subject / pyNs)} Python; ${fmtRatio(subject / bunNs)} Bun; ${fmtRatio(subject / ioNs)} mmap-io (time, medians)`
    const what = touch ? 'open + `bytes[0]` + close' : 'open + close, no view'
    const rows = [
      {
        work: `${what}, ${fmtBytes(size)} file`,
        memmap: errors.memmap || errors.memmapView ? `failed: ${errors.memmap ?? errors.memmapView}` : fmtSpread(runs(touch ? 'memmapView' : 'memmap'), fmtNs),
        baselines,
        ratio,
        target: maxRatio ? `<= ${maxRatio}x C` : 'report',
        met: met(maxRatio ? subject <= maxRatio * cNs : undefined),
      },
    ]
    const notes = []
    if (touch) {
      const r = results.memmapView ?? []
      const phase = (k) => median(r.map((x) => x.phases[k]))
      const gcPerOp = median(r.map((x) => x.gcPerOp))
      const gcNs = median(r.map((x) => x.gcNsPerOp))
      rows.push({
        work: `the view itself (${what} minus open + close)`,
        memmap: `${fmtNs(mv - m)} (difference of medians; open + close alone: ${fmtSpread(runs('memmap'), fmtNs)})`,
        baselines: `C page fault on byte 0: ${c.skip || errors.c ? 'n/a' : fmtSpread(runs('c'), fmtNs)} for the whole touched cycle`,
        ratio: `view is ${((100 * (mv - m)) / mv).toFixed(0)}% of the cycle`,
        target: 'report',
        met: met(undefined),
      })
      notes.push(
        `phases of one touched cycle in memmap (separate sample, timed per call): openSync ${fmtNs(phase('open'))}, first \`bytes\` access + read of byte 0 ${fmtNs(phase('view'))}, close() ${fmtNs(phase('close'))}; ${gcPerOp.toFixed(3)} V8 garbage collections per cycle, ${fmtNs(gcNs)} of GC time per cycle (PerformanceObserver 'gc').`,
      )
      if (size >= GiB) {
        notes.push(
          `cause: \`bytes\` creates an external ArrayBuffer over the whole ${fmtBytes(size)} map, and V8 counts an external backing store's length as external memory, scheduling garbage collections as that grows (here ${gcPerOp.toFixed(2)} GCs and ${fmtNs(gcNs)} of GC time per cycle, against a view cost of ${fmtNs(mv - m)}): the cost is the view and the GC it triggers, not the mapping (open + close without a view: ${fmtNs(m)}). A window (\`view(Uint8Array, 0, 4096)\`) or \`read()\` avoids it.`,
        )
      } else {
        notes.push('the view costs an external ArrayBuffer (napi_create_external_arraybuffer, a tracked finalizer) plus its detach in close().')
      }
    }
    const conditions = [
      `file: ${fmtBytes(size)} of data`,
      cacheNote(resident),
      "memmap: `openSync(path)` (mode 'read': MAP_PRIVATE, PROT_READ|PROT_WRITE, MAP_NORESERVE); C: open(O_RDONLY)/fstat/mmap(PROT_READ, MAP_PRIVATE)/munmap/close; Python: os.open + mmap.mmap(ACCESS_READ) + close",
    ]
    if (size >= GiB && results.mmapIo?.length) {
      notes.push(
        `${MMAP_IO.pkg} returns a Buffer over the whole ${fmtBytes(size)} map on every cycle, an external backing store that V8 counts as external memory (as \`bytes\` in memmap's open + \`bytes[0]\` + close row), so its loop runs garbage collections before any forced one.`,
      )
    }
    for (const [k, e] of Object.entries(errors)) if (!['memmap', 'memmapView', 'c', 'py', 'bun', 'mmapIo'].includes(k)) notes.push(`${k} failed: ${e}`)
    return { title, conditions, rows, notes }
  }

  async function child(role, { file, touch, dir }) {
    if (role === 'mmap-io') {
      const mmap = createRequire(import.meta.url)(dir)
      const gc = /** @type {() => void} */ (globalThis.gc)
      let sink = 0
      const fn = () => {
        const fd = fs.openSync(file, 'r')
        const buf = mmap.map(fs.fstatSync(fd).size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        fs.closeSync(fd)
        if (touch) sink ^= buf[0]
      }
      // Maps stay until their Buffers are collected, and Node runs a collected Buffer's free
      // callback (here munmap) on a later turn of the event loop: each sample ends with gc() and
      // one setImmediate, timed. A sample's count stays well under vm.max_map_count (65530).
      const release = async () => {
        gc()
        await new Promise((resolve) => setImmediate(resolve))
      }
      // Calibrated on 64 cycles (a 1 GiB map costs milliseconds here), then 512 if those were quick.
      let n = 64
      let t0 = now()
      for (let i = 0; i < n; i++) fn()
      await release()
      if (since(t0) < 5e6) {
        n = 512
        t0 = now()
        for (let i = 0; i < n; i++) fn()
        await release()
      }
      const iters = Math.max(64, Math.min(8192, Math.round((n * 60e6) / Math.max(since(t0), 1))))
      const ns = []
      const mapNs = []
      for (let s = -1; s < SAMPLES; s++) {
        const t = now()
        for (let i = 0; i < iters; i++) fn()
        const loop = since(t)
        await release()
        if (s >= 0) ns.push(since(t) / iters)
        if (s >= 0) mapNs.push(loop / iters)
      }
      return { ns, mapNs, sink }
    }
    if (role === 'bun') {
      let sink = 0
      const fn = () => {
        const a = globalThis.Bun.mmap(file)
        if (touch) sink ^= a[0]
      }
      // Maps stay until a GC: cap a sample's count well under vm.max_map_count (65530).
      const iters = Math.min(calibrate(fn), 16384)
      globalThis.Bun.gc(true)
      const r = timeOps(fn, { samples: SAMPLES, iters, after: () => globalThis.Bun.gc(true) })
      return { ns: r.ns, sink }
    }
    const { openSync } = memmap()
    let sink = 0
    const fn = touch
      ? () => {
          const m = openSync(file)
          sink ^= m.bytes[0]
          m.close()
        }
      : () => {
          openSync(file).close()
        }
    let gcs = 0
    let gcMs = 0
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        gcs++
        gcMs += e.duration
      }
    })
    obs.observe({ entryTypes: ['gc'] })
    const r = timeOps(fn, { samples: SAMPLES })
    await new Promise((res) => setTimeout(res, 10))
    obs.disconnect()
    const out = { ns: r.ns, iters: r.iters, sink, gcPerOp: gcs / (r.iters * (SAMPLES + 1)), gcNsPerOp: (gcMs * 1e6) / (r.iters * (SAMPLES + 1)) }
    if (touch) {
      const n = Math.max(100, Math.floor(r.iters / 2))
      let open = 0
      let view = 0
      let close = 0
      for (let i = 0; i < n; i++) {
        const t0 = now()
        const m = openSync(file)
        const t1 = now()
        sink ^= m.bytes[0]
        const t2 = now()
        m.close()
        open += Number(t1 - t0)
        view += Number(t2 - t1)
        close += since(t2)
      }
      out.phases = { open: open / n, view: view / n, close: close / n }
    }
    return out
  }

  return { name, title, run, child }
}
