// SPEC §4.1 and §6: the process-wide cost of detaching. V8 deoptimizes typed-array access once
// any ArrayBuffer in the process was detached, and close() detaches the map's views. Each
// process sums a 16 MiB heap Float32Array and a 16 MiB heap Uint8Array (phase A), then
//   - "detach": opens a map, reads `bytes[0]` (creating its ArrayBuffer) and closes it;
//   - "control": opens a map, reads a byte with `read()` (no ArrayBuffer) and closes it;
// then sums again (phase B). The figure is phase B of the detach processes against phase B of
// the control processes (the same phase in a process that never detached), several fresh
// processes each, medians. Runs under every runtime present: this Node, .runtimes/node22, 24,
// 26, and Bun. Alone: `node benchmark/detach-cost.mjs`.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { KiB, fmtNs, fmtRatio, interleave, main, median, memmap, met, now, runChild, runtimes, since } from './lib.mjs'

const script = fileURLToPath(import.meta.url)
const PROCS = 5
const REPS = 9

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

function runtimeList() {
  const list = [{ name: `Node ${process.version}`, path: process.execPath }]
  for (const major of [22, 24, 26]) {
    const p = runtimes.node(major)
    if (existsSync(p) && !process.version.startsWith(`v${major}.`)) list.push({ name: `Node ${major}`, path: p })
  }
  if (existsSync(runtimes.bun)) list.push({ name: 'Bun', path: runtimes.bun })
  return list
}

async function run(ctx) {
  const file = ctx.file('4k.bin', 4 * KiB)
  const rows = []
  const notes = []
  for (const rt of runtimeList()) {
    const { results, errors } = interleave(
      ['control', 'detach'].map((key) => ({ key, run: () => runChild(script, key, { file: file.path }, { runtime: rt.path }) })),
      { procs: PROCS, before: () => ctx.warm(file.path) },
    )
    if (errors.control || errors.detach) {
      notes.push(`${rt.name}: failed: ${errors.control ?? errors.detach}`)
      continue
    }
    const version = results.detach[0].version
    for (const [k, label] of [
      ['f32', 'Float32Array'],
      ['u8', 'Uint8Array'],
    ]) {
      const m = (key, ph) => median(results[key].map((r) => r[ph][k]))
      const [dA, dB, cA, cB] = [m('detach', 'A'), m('detach', 'B'), m('control', 'A'), m('control', 'B')]
      rows.push({
        work: `${version}: ${label} sum loop (16 MiB heap array) after the first close()`,
        memmap: `${fmtNs(dB)} per pass (detach process, after close)`,
        baselines: `control process (never detaches), same phase: ${fmtNs(cB)}; detach process before its close: ${fmtNs(dA)}; control before: ${fmtNs(cA)}`,
        ratio: `${fmtRatio(cB / dB)} control speed (in-process after/before ${fmtRatio(dA / dB)}, control drift ${fmtRatio(cA / cB)})`,
        target: 'reported',
        met: met(undefined),
      })
    }
  }
  return {
    title: 'typed-array loop after the first close()',
    conditions: [
      `each runtime: ${PROCS} "control" and ${PROCS} "detach" processes, interleaved; each phase is the median of ${REPS} passes after 2 warm-up passes; figures are medians over processes`,
      'ratio: speed after close() relative to the control process (1.00x = no cost; 0.55x = loops run at 55% speed)',
    ],
    rows,
    notes,
  }
}

async function child(role, { file }) {
  const f32 = new Float32Array(1 << 22).fill(1)
  const u8 = new Uint8Array(1 << 24).fill(1)
  const A = phase(f32, u8)
  const map = memmap().openSync(file)
  if (role === 'detach') {
    if (map.bytes[0] === undefined) throw new Error('no byte')
  } else if (map.read(0, 1).length !== 1) {
    throw new Error('no byte')
  }
  map.close()
  const B = phase(f32, u8)
  const version = typeof globalThis.Bun === 'object' ? `Bun ${globalThis.Bun.version}` : `Node ${process.version}`
  return { A, B, version }
}

const scenario = { name: 'detach-cost', title: 'typed-array loop after the first close()', run, child }
export default scenario
export { run }

await main(import.meta, scenario)
