// Four workers count into one Int32 of a mapped file, which each maps through a share() token:
// with Atomics.add the file ends at exactly 4 x 1,000,000; with a plain `++` (load, add, store)
// the workers overwrite each other's updates and the count comes out short.
//
//   npm run build && npx tsx examples/shared-counter.ts
//
// The workers meet at a barrier (a SharedArrayBuffer) before counting, so they really contend.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'

import { openSync } from '..'

const WORKERS = 4
const ADDS = 1_000_000

/**
 * A worker (plain JavaScript, as a worker file would be): maps the token's range, waits for the
 * others at the barrier, then adds 1, ADDS times.
 */
const COUNT = `
  const { openShared } = require(${JSON.stringify(require.resolve('..'))})
  const { workerData: { token, barrier, atomic } } = require('node:worker_threads')
  const map = openShared(token)
  const slot = map.view(Int32Array, 0, 1)
  if (Atomics.add(barrier, 0, 1) + 1 === ${WORKERS}) Atomics.notify(barrier, 0)
  for (let seen; (seen = Atomics.load(barrier, 0)) < ${WORKERS}; ) Atomics.wait(barrier, 0, seen)
  if (atomic) for (let i = 0; i < ${ADDS}; i++) Atomics.add(slot, 0, 1)
  else for (let i = 0; i < ${ADDS}; i++) slot[0]++
  map.close()
`

/** Runs the workers against `file` and returns the count node:fs reads from it afterwards. */
async function run(file: string, atomic: boolean): Promise<number> {
  using map = openSync(file, { mode: 'read-write' })
  map.view(Int32Array, 0, 1)[0] = 0
  const barrier = new Int32Array(new SharedArrayBuffer(4))
  const workers = Array.from({ length: WORKERS }, () => new Worker(COUNT, { eval: true, workerData: { token: map.share(), barrier, atomic } }))
  await Promise.all(workers.map((w) => new Promise((resolve, reject) => w.once('error', reject).once('exit', resolve))))
  map.flushSync()
  return readFileSync(file).readInt32LE(0)
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'memmap-counter-'))
  try {
    const file = join(dir, 'counter.bin')
    using created = openSync(file, { mode: 'read-write', create: true, size: 4096 })
    created.close()
    const atomic = await run(file, true)
    console.log(`Atomics.add: ${atomic.toLocaleString('en-US')} (expected ${(WORKERS * ADDS).toLocaleString('en-US')})`)
    const plain = await run(file, false)
    console.log(`plain ++:    ${plain.toLocaleString('en-US')} (${(WORKERS * ADDS - plain).toLocaleString('en-US')} updates lost)`)
    if (atomic !== WORKERS * ADDS) process.exitCode = 1
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

void main()
