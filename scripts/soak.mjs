// The soak (issue 10): `npm run soak -- [SECONDS]` (60 by default). Eight worker threads open,
// view, write, flush, resize and close random maps of a shared set of files for SECONDS, then:
// - every file equals the model: each worker owns one region of each shared file and one private
//   file, and keeps the model of what it wrote there (a seeded PRNG, printed, makes a run
//   repeatable); the main thread compares every byte with node:fs;
// - descriptors, mappings (of the test files, and in total) and private memory (RssAnon) are back
//   within start + 64 entries / + 64 MiB once the workers are gone, and did not grow between the
//   50 % and 100 % samples, both taken with every worker paused, its maps closed, after gc.
// Each sample first hands glibc's cached free memory back to the OS (`malloc_trim`, a hook of the
// test build, which `npm run soak` builds and selects with MEMMAP_TEST_BINDING=1) and records
// the bytes malloc still has allocated. Without it, RssAnon counts what the allocator keeps of
// what was freed: measured with seed 12345 over 200 s, 74 MiB of glibc's arenas were free at the
// 100 % sample against 18 MiB in use, and the free part grew with the heap's fragmentation, not
// with anything memmap holds. `npm run soak` also sets MALLOC_ARENA_MAX=2, so eight worker
// threads do not each keep an arena of their own.
// Prints a summary (operations; descriptors, mappings and RssAnon at start, middle, end, final)
// and exits non-zero if any check fails.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { getHeapStatistics } from 'node:v8'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'

import { open, openSync } from '../index.mjs'

/** The test build's hooks: the same binary the library loaded (MEMMAP_TEST_BINDING=1). */
const hooks = process.env.MEMMAP_TEST_BINDING === '1' ? createRequire(import.meta.url)('../native-test/binding.js') : null

const WORKERS = 8
const FILES = 4
const REGION = 64 * 1024 // bytes each worker owns in each shared file
const PAGE = 4096

/** mulberry32: a small seeded PRNG, so a run can be repeated from its printed seed. */
function prng(seed) {
  let s = seed >>> 0
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = Math.imul(s ^ (s >>> 15), 1 | s)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) % n
  }
}

function bytes(rand, n) {
  const out = Buffer.alloc(n)
  for (let i = 0; i < n; i++) out[i] = rand(256)
  return out
}

// Maps dropped on purpose warn when collected (MEMMAP_UNCLOSED): expected here, so not printed.
process.removeAllListeners('warning')
process.on('warning', (/** @type {Error & { code?: string }} */ w) => {
  if (w.code !== 'MEMMAP_UNCLOSED') console.warn(w)
})

if (!isMainThread) worker()
else await main()

/** One worker: random operations on its own regions and private file until told to stop. */
async function worker() {
  const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort)
  const { id, dir, seed } = workerData
  const rand = prng(seed)
  const shared = Array.from({ length: FILES }, (_, f) => join(dir, `shared${f}.bin`))
  const regions = shared.map(() => Buffer.alloc(REGION)) // the model of this worker's region of each file
  const own = join(dir, `worker${id}.bin`)
  let ownModel = Buffer.alloc(0)
  let ops = 0
  let state = 'run'
  let dropped = []
  port.on('message', (m) => (state = m))
  const base = id * REGION

  const steps = [
    // write() into the region through a 'read-write' map of part of it
    async () => {
      const f = rand(FILES)
      const at = rand(REGION / 2)
      const map = openSync(shared[f], {
        mode: 'read-write',
        offset: base + at,
        length: REGION - at,
        advice: /** @type {const} */ (['normal', 'random', 'sequential'])[rand(3)],
      })
      const pos = rand(map.length)
      const data = bytes(rand, 1 + rand(map.length - pos))
      map.write(data, pos)
      data.copy(regions[f], at + pos)
      if (rand(2)) map.flushSync({ offset: pos, length: data.length })
      else await map.flush()
      map.close()
    },
    // stores through views of every kind
    async () => {
      const f = rand(FILES)
      const map = rand(2)
        ? openSync(shared[f], { mode: 'read-write', offset: base, length: REGION })
        : await open(shared[f], { mode: 'read-write', offset: base, length: REGION })
      const pos = rand(REGION - 16) & ~7
      const v = rand(256)
      switch (rand(4)) {
        case 0:
          map.bytes[pos] = v
          regions[f][pos] = v
          break
        case 1:
          map.view(Float64Array, pos, 1)[0] = v
          regions[f].writeDoubleLE(v, pos)
          break
        case 2:
          map.dataView(pos, 4).setUint32(0, v * 65537, true)
          regions[f].writeUInt32LE(v * 65537, pos)
          break
        case 3:
          map.view(Buffer, pos, 2).writeUInt16BE(v, 0)
          regions[f].writeUInt16BE(v, pos)
          break
      }
      if (rand(4) === 0)
        dropped.push(map) // never closed: collected later
      else map.close()
    },
    // read the region back through a whole-file 'read' or 'copy-on-write' map, search and prefetch it
    async () => {
      const f = rand(FILES)
      const map = openSync(shared[f], { mode: rand(2) ? 'read' : 'copy-on-write', populate: rand(4) === 0, trackFile: rand(4) !== 0 })
      if (!map.read(base, REGION).equals(regions[f])) throw new Error(`worker ${id}: shared${f}.bin region differs from the model`)
      const probe = regions[f][rand(REGION)]
      const found = await map.indexOfAsync(probe, { from: base, to: base + REGION })
      if (found !== base + regions[f].indexOf(probe)) throw new Error(`worker ${id}: indexOfAsync answered ${found}`)
      await map.prefetch({ offset: base, length: REGION })
      map.view(Uint8Array, base, 1)[0] ^= 0xff // a stray store: private, never reaches the file
      map.close()
    },
    // the private file: create, resize, write, verify
    async () => {
      const map = openSync(own, { mode: 'read-write', create: true, size: ownModel.length || PAGE })
      if (ownModel.length === 0) ownModel = Buffer.alloc(map.length)
      const length = PAGE + rand(64 * PAGE)
      map.resize(length)
      const grown = Buffer.alloc(length)
      ownModel.copy(grown, 0, 0, Math.min(length, ownModel.length))
      ownModel = grown
      const pos = rand(length)
      const data = bytes(rand, 1 + rand(Math.min(length - pos, 8192)))
      map.write(data, pos)
      data.copy(ownModel, pos)
      if (!map.read(0, length).equals(ownModel)) throw new Error(`worker ${id}: worker${id}.bin differs from the model`)
      if (rand(2)) await map[Symbol.asyncDispose]()
      else map.close()
    },
  ]

  port.postMessage({ type: 'ready' })
  for (;;) {
    if (state === 'run') {
      await steps[rand(steps.length)]()
      ops++
      if (dropped.length > 32) dropped = []
      if (ops % 64 === 0) await new Promise((resolve) => setImmediate(resolve)) // let messages in
      if (process.env.SOAK_DEBUG && ops % 500 === 0) console.error(`worker ${id}: ${ops}`)
      continue
    }
    // Paused or stopping: no map of ours is reachable, then gc and a turn, so the sample is fair.
    dropped = []
    for (let i = 0; i < 4; i++) {
      // Collected maps are released at the next turn (SPEC §4.1): gc, then a turn, a few times.
      globalThis.gc?.()
      await new Promise((resolve) => setImmediate(resolve))
    }
    const heap = getHeapStatistics()
    port.postMessage({ type: 'paused', ops, heap: { used: heap.used_heap_size, physical: heap.total_physical_size, committed: heap.total_heap_size } })
    const paused = state
    await new Promise((resolve) => port.once('message', resolve))
    if (paused === 'stop') break
  }
  port.postMessage({ type: 'done', ops, regions, own: ownModel })
  port.unref() // nothing keeps the worker alive now: it exits
}

/** Descriptors, mappings (of the test files, and in total) and RssAnon of this process. */
function sample(dir) {
  const maps = readFileSync('/proc/self/maps', 'utf8').trim().split('\n')
  const fds = readdirSync('/proc/self/fd')
  const target = (fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`)
    } catch {
      return ''
    }
  }
  const mallocBytes = hooks?.mallocTrim() ?? null // trims first: RssAnon then holds what is in use
  const rss = /^RssAnon:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))
  return {
    fds: fds.length,
    testFds: fds.filter((fd) => target(fd).startsWith(`${dir}/`)).length,
    maps: maps.length,
    testMaps: maps.filter((l) => l.includes(` ${dir}/`)).length,
    rssAnonMiB: Number(rss?.[1]) / 1024,
    mallocMiB: mallocBytes === null ? NaN : mallocBytes / 1048576,
  }
}

/**
 * Runs the eight workers on fresh files in `dir` for `seconds` (test files counted under `top`), pausing them at 50 % for the
 * middle sample and at 100 % for the end one; returns the samples, the workers' models and counts.
 */
async function round(dir, seconds, seed, top) {
  for (let f = 0; f < FILES; f++) writeFileSync(join(dir, `shared${f}.bin`), Buffer.alloc(WORKERS * REGION))
  const workers = Array.from({ length: WORKERS }, (_, id) => new Worker(new URL(import.meta.url), { workerData: { id, dir, seed: seed + id } }))
  const exited = workers.map((w) => new Promise((resolve) => w.once('exit', resolve)))
  const inbox = workers.map((w) => {
    const queue = []
    const waiting = []
    w.on('message', (m) => (waiting.length ? waiting.shift()(m) : queue.push(m)))
    w.on('error', (e) => {
      console.error('worker failed:', e)
      process.exit(1)
    })
    return () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((resolve) => waiting.push(resolve)))
  })
  await Promise.all(inbox.map((next) => next())) // ready

  /** Pauses (or stops) every worker, waits until each closed its maps and collected, then samples. */
  const pauseAll = async (how) => {
    for (const w of workers) w.postMessage(how)
    const replies = await Promise.all(inbox.map((next) => next()))
    await settle()
    const mib = (/** @type {'used' | 'physical' | 'committed'} */ k) => replies.reduce((n, r) => n + r.heap[k], 0) / 1048576
    return {
      sample: { ...sample(top), heapUsedMiB: mib('used'), heapPhysicalMiB: mib('physical'), heapCommittedMiB: mib('committed') },
      ops: replies.reduce((n, r) => n + r.ops, 0),
    }
  }
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
  await sleep((seconds * 1000) / 2)
  const middle = await pauseAll('pause')
  for (const w of workers) w.postMessage('run')
  await sleep((seconds * 1000) / 2)
  const end = await pauseAll('stop')
  for (const w of workers) w.postMessage('go')
  const done = await Promise.all(inbox.map((next) => next()))
  await Promise.all(exited)
  await settle()
  return { middle, end, done }
}

async function settle() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

async function main() {
  const seconds = Number(process.argv[2] ?? 60)
  if (!(seconds > 0)) throw new Error(`usage: npm run soak -- [SECONDS] (got ${process.argv[2]})`)
  if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc (npm run soak does)')
  if (hooks === null) throw new Error('run with MEMMAP_TEST_BINDING=1 after `npm run build:test-hooks` (npm run soak does)')
  const seed = Number(process.env.SOAK_SEED ?? Date.now() % 2 ** 31)
  const top = mkdtempSync(join(tmpdir(), 'memmap-soak-'))
  const dir = join(top, 'run')
  const warmDir = join(top, 'warm-up')
  mkdirSync(dir)
  mkdirSync(warmDir)
  const warm = Math.min(5, seconds / 10)
  console.log(
    `soak: ${WORKERS} workers, ${FILES} shared files of ${(WORKERS * REGION) / 1024} KiB and one file per worker, ${seconds} s after a ${warm} s warm-up, seed ${seed} (SOAK_SEED=${seed} repeats it), in ${dir}`,
  )

  // The warm-up round runs the same workload and ends the same way. glibc keeps each exited
  // thread's malloc arena (up to 64 MiB, reused by the next threads), and Node's Buffers of eight
  // threads live in them: that memory is the runtime's, present after any eight busy workers.
  // The start sample is taken after the warm-up, so what the soak's own round leaves is measured.
  await settle()
  const samples = { before: sample(top) }
  await round(warmDir, warm, seed + 1000, top)
  samples.start = sample(top)
  const { middle, end, done } = await round(dir, seconds, seed, top)
  samples.middle = middle.sample
  samples.end = end.sample
  samples.final = sample(top)

  const failures = []
  for (let f = 0; f < FILES; f++) {
    const disk = readFileSync(join(dir, `shared${f}.bin`))
    const model = Buffer.concat(done.map((d) => Buffer.from(d.regions[f])))
    if (!disk.equals(model)) failures.push(`shared${f}.bin differs from the model`)
  }
  for (const [id, d] of done.entries()) {
    const file = join(dir, `worker${id}.bin`)
    const disk = d.own.length === 0 ? null : readFileSync(file)
    if (disk !== null && !disk.equals(Buffer.from(d.own))) failures.push(`worker${id}.bin differs from the model`)
  }
  const { start, final } = samples
  const over = (what, got, limit) => got > limit && failures.push(`${what}: ${got} > ${limit}`)
  over('final descriptors', final.fds, start.fds + 64)
  over('final mappings', final.maps, start.maps + 64)
  over('final test-file descriptors', final.testFds, start.testFds)
  over('final test-file mappings', final.testMaps, start.testMaps)
  over('final RssAnon (MiB)', final.rssAnonMiB, start.rssAnonMiB + 64)
  over('final malloc in use (MiB)', final.mallocMiB, start.mallocMiB + 64)
  // The 50 % and 100 % samples are taken in the same state (workers alive, paused, maps closed,
  // after gc, allocator trimmed): any growth between them is a leak. The runtime's own
  // allocations move the counts a little from one gc to the next; a leak of one map per operation
  // would add thousands of mappings and tens of MiB. V8 keeps the pages of a heap it grew even
  // when gc leaves the same bytes in use (measured: 35.5 MiB used at both samples, 111 -> 159 MiB
  // resident), each page its own 256 KiB mapping, committed whether touched or not: that growth,
  // which V8 itself reports (resident for RssAnon, committed for the mapping count), is taken out
  // of both checks; the JS bytes in use after gc, and malloc's, must not grow either.
  const { middle: m, end: e } = samples
  const v8Resident = Math.max(0, e.heapPhysicalMiB - m.heapPhysicalMiB)
  const v8Committed = Math.max(0, e.heapCommittedMiB - m.heapCommittedMiB)
  over('test-file descriptors at 100 % vs 50 %', e.testFds, m.testFds)
  over('test-file mappings at 100 % vs 50 %', e.testMaps, m.testMaps)
  over('descriptors at 100 % vs 50 %', e.fds, m.fds)
  over("mappings at 100 % vs 50 %, beyond the workers' V8 heap pages", e.maps, m.maps + 16 + Math.ceil(v8Committed * 4))
  over("RssAnon (MiB) at 100 % vs 50 %, beyond the workers' V8 heaps", e.rssAnonMiB - v8Resident, m.rssAnonMiB + 16)
  over('malloc in use (MiB) at 100 % vs 50 %', e.mallocMiB, m.mallocMiB + 16)
  over('JS heap in use after gc (MiB) at 100 % vs 50 %', e.heapUsedMiB, m.heapUsedMiB + 16)

  const ops = done.reduce((n, d) => n + d.ops, 0)
  console.log(`operations: ${ops} (${done.map((d) => d.ops).join(', ')} per worker; ${middle.ops} by the 50 % sample)`)
  console.log('sample    descriptors (test files)   mappings (test files)   RssAnon      malloc in use')
  for (const [name, s] of Object.entries(samples)) {
    console.log(
      `${name.padEnd(9)} ${String(s.fds).padStart(11)} (${s.testFds})${' '.repeat(14 - String(s.testFds).length)} ${String(s.maps).padStart(8)} (${s.testMaps})${' '.repeat(13 - String(s.testMaps).length)} ${s.rssAnonMiB.toFixed(1).padStart(6)} MiB   ${s.mallocMiB.toFixed(1).padStart(6)} MiB`,
    )
  }
  for (const name of /** @type {const} */ (['middle', 'end'])) {
    const s = samples[name]
    console.log(
      `${name}: the workers' JS heaps after gc: ${s.heapUsedMiB.toFixed(1)} MiB used, ${s.heapPhysicalMiB.toFixed(1)} MiB resident, ${s.heapCommittedMiB.toFixed(1)} MiB committed`,
    )
  }
  console.log(
    '(before: nothing run yet; start: after the warm-up round, its workers gone; middle and end: at 50 % and 100 %, workers paused with their maps closed; final: workers gone; every sample after gc and malloc_trim)',
  )
  rmSync(top, { recursive: true, force: true })
  if (failures.length > 0) {
    console.log(`soak FAILED:\n  ${failures.join('\n  ')}`)
    process.exit(1)
  }
  console.log('soak passed: every file equals the model; descriptors, mappings and private memory came back')
}
