// A pool of processes answers lookups from one read-only index file, each mapping it through one
// share() token (the page cache holds one copy, whatever the pool's size), and reports into one
// piece of shared memory (allocate(n, { shared: true })) that reaches each child as a descriptor
// in its stdio (by name on Windows). The parent checks every answer against node:fs.
//
//   npm run build && npx tsx examples/process-pool.ts [children] [lookups per child]
//
// Index layout: RECORDS records of 8 bytes, an Int32 key (ascending: 3 * i) then an Int32 value.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { allocate, openShared, openSync, type SharedMapToken } from '..'

const RECORDS = 1 << 20

interface Job {
  index: SharedMapToken
  results: SharedMapToken
  id: number
  lookups: number
  /** The results' descriptor is the child's descriptor 3 (POSIX); a Windows section opens by name. */
  byDescriptor: boolean
}

/** The keys child `id` looks up: a small deterministic generator, so the parent can check. */
function* keys(id: number, lookups: number): Generator<number> {
  let x = id * 2654435761 + 1
  for (let i = 0; i < lookups; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    yield (x % RECORDS) * 3
  }
}

/** A child: binary search of the shared index for each key, the values' sum into its slot. */
function child(job: Job): void {
  using index = openShared(job.index)
  const records = index.view(Int32Array)
  let sum = 0
  for (const key of keys(job.id, job.lookups)) {
    let [lo, hi] = [0, RECORDS - 1]
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (records[mid * 2] < key) lo = mid + 1
      else hi = mid
    }
    sum = (sum + records[lo * 2 + 1]) | 0
  }
  using results = openShared(job.results, job.byDescriptor ? { fd: 3 } : {})
  results.view(Int32Array)[job.id] = sum
}

async function main(children: number, lookups: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'memmap-pool-'))
  try {
    const file = join(dir, 'index.bin')
    const bytes = Buffer.alloc(RECORDS * 8)
    for (let i = 0; i < RECORDS; i++) {
      bytes.writeInt32LE(3 * i, i * 8)
      bytes.writeInt32LE(Math.imul(i, 40503) | 0, i * 8 + 4)
    }
    writeFileSync(file, bytes)

    using index = openSync(file) // 'read'
    using results = allocate(4 * children, { shared: true })
    const shared = results.share()
    const byDescriptor = shared.fd !== undefined
    const started = performance.now()
    await Promise.all(
      Array.from({ length: children }, (_, id) => {
        const job: Job = { index: index.share(), results: shared, id, lookups, byDescriptor }
        const stdio: Array<'ignore' | 'inherit' | number> = ['ignore', 'inherit', 'inherit', ...(byDescriptor ? [shared.fd as number] : [])]
        const proc = spawn(process.execPath, [...process.execArgv, __filename, 'child', JSON.stringify(job)], { stdio })
        return new Promise<void>((resolve, reject) =>
          proc.once('error', reject).once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`child ${id} exited with ${code}`)))),
        )
      }),
    )
    const ms = performance.now() - started

    // The oracle: the same lookups over the file's bytes as node:fs reads them.
    const disk = readFileSync(file)
    const answers = results.view(Int32Array)
    let wrong = 0
    for (let id = 0; id < children; id++) {
      let sum = 0
      for (const key of keys(id, lookups)) sum = (sum + disk.readInt32LE((key / 3) * 8 + 4)) | 0
      if (answers[id] !== sum) wrong++
    }
    console.log(`${children} processes x ${lookups.toLocaleString('en-US')} lookups in one shared index: ${ms.toFixed(0)} ms, ${wrong} wrong answers`)
    if (wrong > 0) process.exitCode = 1
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === 'child') child(JSON.parse(process.argv[3]) as Job)
else void main(Number(process.argv[2] ?? 4), Number(process.argv[3] ?? 100_000))
