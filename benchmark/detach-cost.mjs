// SPEC §4.1 and §6: the process-wide cost of detaching. V8 deoptimizes typed-array access once
// any ArrayBuffer in the process was detached (a protector cell is invalidated), and close()
// detaches the map's views. Each process sums a 16 MiB heap Float32Array and a 16 MiB heap
// Uint8Array ("before"), opens a map, reads one byte and closes it, then does one more thing
// according to its role, and sums again ("after"):
//   - "control": the byte is read with `read()` (no ArrayBuffer), nothing else;
//   - "close": the byte is read through `bytes` (the map's ArrayBuffer), which close() detaches;
//   - "fetch", "blob", "grow": as control, then one `fetch()` of a data: URL + `arrayBuffer()`,
//     one `Blob.arrayBuffer()`, or one WebAssembly `Memory.grow()`: things ordinary programs do
//     that detach or transfer an ArrayBuffer inside the runtime, so such programs pay the cost
//     whether or not they use memmap.
// The figure is each process's speed after relative to before (before time / after time), as
// `median (min–max)` over fresh processes, per runtime: this Node, .runtimes/node22, 24, 26 and
// Bun (installed by scripts/runtimes.mjs when missing). Alone: `node benchmark/detach-cost.mjs`.
import { fileURLToPath } from 'node:url'

import { KiB, PROCS, fmtNs, fmtRatio, fmtSpread, interleave, main, median, memmap, met, now, runChild, since } from './lib.mjs'

const script = fileURLToPath(import.meta.url)
const REPS = 9
const ROLES = ['control', 'close', 'fetch', 'blob', 'grow']
const LABELS = {
  control: 'control (nothing detached)',
  close: 'after the first close()',
  fetch: 'after one fetch(data:) + arrayBuffer()',
  blob: 'after one Blob.arrayBuffer()',
  grow: 'after one WebAssembly Memory.grow()',
}

function sumF32(a) {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]
  return s
}

function sumU8(a) {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]
  return s
}

function phase(f32, u8) {
  const time = (fn, a) => {
    fn(a)
    fn(a)
    const ns = []
    for (let r = 0; r < REPS; r++) {
      const t = now()
      fn(a)
      ns.push(since(t))
    }
    return median(ns)
  }
  return { f32: time(sumF32, f32), u8: time(sumU8, u8) }
}

function runtimeList(ctx) {
  const list = [{ name: `Node ${process.version}`, path: process.execPath }]
  for (const major of [22, 24, 26]) {
    if (process.version.startsWith(`v${major}.`)) continue
    const rt = ctx.runtime(`node${major}`)
    list.push({ name: `Node ${major}`, path: rt.path, skip: rt.skip })
  }
  const bun = ctx.runtime('bun')
  list.push({ name: 'Bun', path: bun.path, skip: bun.skip })
  return list
}

async function run(ctx) {
  const file = ctx.file('4k.bin', 4 * KiB)
  const rows = []
  const notes = []
  for (const rt of runtimeList(ctx)) {
    if (rt.skip) {
      notes.push(`${rt.name}: not measured: ${rt.skip}`)
      continue
    }
    const { results, errors } = interleave(
      ROLES.map((key) => ({ key, run: () => runChild(script, key, { file: file.path }, { runtime: rt.path }) })),
      { before: () => ctx.warm(file.path) },
    )
    if (errors.control || errors.close) {
      notes.push(`${rt.name}: failed: ${errors.control ?? errors.close}`)
      continue
    }
    const version = results.close[0].version
    for (const [k, label] of [
      ['f32', 'Float32Array'],
      ['u8', 'Uint8Array'],
    ]) {
      // Speed after relative to before, one figure per process.
      const speed = (role) => (results[role] ?? []).map((r) => r.before[k] / r.after[k])
      const show = (role) => `${LABELS[role]}: ${errors[role] ? `failed: ${errors[role]}` : fmtSpread(speed(role), fmtRatio)}`
      rows.push({
        work: `${version}: ${label} sum loop (16 MiB heap array), speed after / before`,
        memmap: `${LABELS.close}: ${fmtSpread(speed('close'), fmtRatio)}`,
        baselines: [
          ...['fetch', 'blob', 'grow', 'control'].map(show),
          `before: ${fmtSpread(
            results.control.map((r) => r.before[k]),
            fmtNs,
          )} per pass`,
        ].join('; '),
        ratio: `close() ${fmtRatio(median(speed('close')) / median(speed('control')))} of control`,
        target: 'report',
        met: met(undefined),
      })
    }
  }
  return {
    title: 'typed-array loop after the first close(), with controls',
    conditions: [
      `each runtime: ${PROCS} processes per role (${ROLES.join(', ')}), interleaved; each phase is the median of ${REPS} passes after 2 warm-up passes`,
      "figures: speed after the role's action relative to before it in the same process (before time / after time; 1.00x = no cost, 0.50x = loops run at half speed), `median (min–max)` over processes; ratio: the close() median over the control median (the control shows the drift of an untouched process)",
      'fetch: `await (await fetch("data:application/octet-stream;base64,AAECAw==")).arrayBuffer()` (no network); Blob: `await new Blob([new Uint8Array(16)]).arrayBuffer()`; grow: `new WebAssembly.Memory({ initial: 1, maximum: 2 }).grow(1)` (detaches the old `memory.buffer`)',
    ],
    rows,
    notes,
  }
}

async function child(role, { file }) {
  const f32 = new Float32Array(1 << 22).fill(1)
  const u8 = new Uint8Array(1 << 24).fill(1)
  const before = phase(f32, u8)
  const map = memmap().openSync(file)
  if (role === 'close') {
    if (map.bytes[0] === undefined) throw new Error('no byte')
  } else if (map.read(0, 1).length !== 1) {
    throw new Error('no byte')
  }
  map.close()
  if (role === 'fetch') {
    const ab = await (await fetch('data:application/octet-stream;base64,AAECAw==')).arrayBuffer()
    if (ab.byteLength !== 4) throw new Error('fetch read the wrong bytes')
  } else if (role === 'blob') {
    const ab = await new Blob([new Uint8Array(16)]).arrayBuffer()
    if (ab.byteLength !== 16) throw new Error('Blob read the wrong bytes')
  } else if (role === 'grow') {
    // (WebAssembly's types are in TypeScript's DOM lib, which the scripts' check leaves out.)
    const memory = new /** @type {any} */ (globalThis).WebAssembly.Memory({ initial: 1, maximum: 2 })
    const old = memory.buffer
    memory.grow(1)
    if (old.byteLength !== 0) throw new Error('grow did not detach the old buffer')
  }
  const after = phase(f32, u8)
  const version = typeof globalThis.Bun === 'object' ? `Bun ${globalThis.Bun.version}` : `Node ${process.version}`
  return { before, after, version }
}

const scenario = { name: 'detach-cost', title: 'typed-array loop after the first close(), with controls', run, child }
export default scenario
export { run }

await main(import.meta, scenario)
