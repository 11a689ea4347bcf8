// SPEC §3.1: the round trip between two processes through one Int32 of a shared file. One process
// stores 2i + 1 and wakes the other, which answers 2i + 2; the time from the store to seeing the
// answer is one round trip. Variants, measured in the same run and interleaved: map.wait/notify
// (both sides block), `await map.waitAsync` (both sides on the event loop, nothing polling), the
// polling loop a program writes without them (Atomics.load, then `await setTimeout(0)`), and a
// one-byte echo over a pipe (the usual way two Node processes signal each other).
import { spawn, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { fmtNs, fmtSpread, interleave, main, median, memmap, now, since } from './lib.mjs'

const script = fileURLToPath(import.meta.url)
const ROUNDS = { wait: 20_000, waitAsync: 20_000, poll: 1_000, pipe: 20_000 }
const WARMUP = 200

async function run(ctx) {
  const file = join(ctx.filesDir, 'pingpong.bin')
  writeFileSync(file, Buffer.alloc(4096))
  const { results, errors } = interleave(
    Object.keys(ROUNDS).map((how) => ({ key: how, run: () => runPair(how, file) })),
    { before: () => writeFileSync(file, Buffer.alloc(4096)) },
  )
  for (const [k, e] of Object.entries(errors)) throw new Error(`${k}: ${e}`)
  const m = (k, f) => median(results[k].map((r) => r[f]))
  const f = (k, field) =>
    fmtSpread(
      results[k].map((r) => r[field]),
      fmtNs,
    )
  const lat = (k) => `median ${f(k, 'p50')}, p99 ${f(k, 'p99')} (${ROUNDS[k].toLocaleString('en')} round trips per pair)`
  const ratio = (k) => `${(m(k, 'p50') / m('waitAsync', 'p50')).toFixed(1)}x the median of waitAsync`
  return {
    title: 'round trip between two processes through a shared Int32',
    conditions: [
      `two Node processes map one 4 KiB file 'read-write'; each round the measuring side stores and wakes, the other answers; ${WARMUP} warm-up rounds are not counted`,
      `${results.wait.length} process pairs per variant, interleaved; each pair's median and p99 round trip, shown as \`median (min–max)\` over pairs`,
      'polling: `Atomics.load` then `await new Promise((r) => setTimeout(r, 0))` until the value moves (Node clamps the delay to 1 ms)',
      "pipe: one byte written to the child's stdin, echoed on its stdout, awaited with 'data'",
    ],
    rows: [
      {
        work: 'round trip, `map.wait` / `map.notify`',
        memmap: lat('wait'),
        baselines: `pipe echo: ${lat('pipe')}`,
        ratio: ratio('wait'),
        target: 'report',
        met: '—',
      },
      {
        work: 'round trip, `await map.waitAsync` / `map.notify`',
        memmap: lat('waitAsync'),
        baselines: `polling with setTimeout(0): ${lat('poll')}`,
        ratio: `polling ${ratio('poll')}; pipe ${ratio('pipe')}`,
        target: 'report',
        met: '—',
      },
    ],
    notes: [],
  }
}

/** Runs one pair: the measuring side runs in a process of its own and spawns its partner. */
function runPair(how, file) {
  const r = spawnSync(process.execPath, [script, '--child', 'ping', JSON.stringify({ how, file })], { encoding: 'utf8', timeout: 300_000 })
  if (r.status !== 0) throw new Error(`${how} exited with ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`)
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '')
}

async function child(role, { how, file }) {
  if (role === 'pong') return pong(how, file)
  const partner = spawn(process.execPath, [script, '--child', 'pong', JSON.stringify({ how, file })], { stdio: ['pipe', 'pipe', 'inherit'] })
  const rounds = ROUNDS[how] + WARMUP
  const times = new Float64Array(rounds)
  if (how === 'pipe') {
    const answer = () => new Promise((resolve) => partner.stdout.once('data', resolve))
    for (let i = 0; i < rounds; i++) {
      const t = now()
      const next = answer()
      partner.stdin.write('x')
      await next
      times[i] = since(t)
    }
    partner.stdin.end()
  } else {
    const { openSync } = memmap()
    const map = openSync(file, { mode: 'read-write' })
    const v = map.view(Int32Array, 0, 1)
    for (let i = 0; i < rounds; i++) {
      const t = now()
      Atomics.store(v, 0, 2 * i + 1)
      map.notify(0)
      await until(how, map, v, 2 * i + 2)
      times[i] = since(t)
    }
    map.close()
  }
  await new Promise((resolve) => partner.once('close', resolve))
  const sorted = times.subarray(WARMUP).sort()
  return { p50: sorted[Math.floor(sorted.length / 2)], p99: sorted[Math.floor(sorted.length * 0.99)] }
}

/** Sleeps (or polls) until the Int32 holds `want`. */
async function until(how, map, v, want) {
  for (let seen; (seen = Atomics.load(v, 0)) !== want;) {
    if (how === 'wait') map.wait(0, seen)
    else if (how === 'waitAsync') await map.waitAsync(0, seen, Infinity, { ref: true })
    else await new Promise((resolve) => setTimeout(resolve, 0))
  }
}

async function pong(how, file) {
  if (how === 'pipe') {
    process.stdin.on('data', (d) => process.stdout.write(d))
    await new Promise((resolve) => process.stdin.once('end', resolve))
    return {}
  }
  const { openSync } = memmap()
  const map = openSync(file, { mode: 'read-write' })
  const v = map.view(Int32Array, 0, 1)
  for (let i = 0; i < ROUNDS[how] + WARMUP; i++) {
    await until(how, map, v, 2 * i + 1)
    Atomics.store(v, 0, 2 * i + 2)
    map.notify(0)
  }
  map.close()
  return {}
}

const scenario = { name: 'wait-pingpong', title: 'round trip between two processes through a shared Int32', run, child }
export default scenario
export { run }

await main(import.meta, scenario)
