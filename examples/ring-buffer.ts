// A producer/consumer ring buffer between two Node processes over one mapped file. The producer
// (this process) writes records into slots and publishes them by bumping `head`; the consumer (a
// child process) takes them and bumps `tail`. Neither polls: the consumer sleeps in
// `await map.waitAsync` while the ring is empty, the producer in `map.wait` while it is full, and
// each side `notify`s the other after moving its index. Prints the throughput.
//
//   npm run build && npx tsx examples/ring-buffer.ts [records]
//
// Layout of the file: Int32 head at byte 0, Int32 tail at byte 4 (both count records ever
// written / read, wrapping at 2^31), then SLOTS slots of SLOT bytes; a record is a Float64 at the
// start of its slot. Only the producer stores head, only the consumer stores tail.
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { openSync, type MappedFile } from '..'

const SLOTS = 1024
const SLOT = 64
const HEAD = 0
const TAIL = 4
const DATA = 64
const SIZE = DATA + SLOTS * SLOT

/** The ring as both sides see it: the two indices, and the records' Float64s. */
function ring(map: MappedFile) {
  const index = map.view(Int32Array, 0, 2)
  const records = map.view(Float64Array, DATA, (SLOTS * SLOT) / 8)
  const slot = (n: number) => (n % SLOTS) * (SLOT / 8)
  return { index, records, slot }
}

async function consumer(path: string, count: number): Promise<void> {
  using map = openSync(path, { mode: 'read-write' })
  const { index, records, slot } = ring(map)
  let sum = 0
  for (let tail = 0; tail < count;) {
    const head = Atomics.load(index, HEAD / 4)
    if (head === tail) {
      // Empty: sleep until the producer moves head (no polling; the event loop stays free).
      await map.waitAsync(HEAD, head, Infinity, { ref: true })
      continue
    }
    for (; tail !== head; tail++) sum += records[slot(tail)]
    Atomics.store(index, TAIL / 4, tail)
    map.notify(TAIL)
  }
  process.send?.({ sum })
}

async function producer(count: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'memmap-ring-'))
  const path = join(dir, 'ring.bin')
  try {
    using map = openSync(path, { mode: 'read-write', create: true, size: SIZE })
    const { index, records, slot } = ring(map)
    const child = fork(__filename, ['--consumer', path, String(count)], { execArgv: process.execArgv })
    const answer = new Promise<{ sum: number }>((resolve) => child.once('message', (m) => resolve(m as { sum: number })))
    const started = process.hrtime.bigint()
    let expected = 0
    for (let head = 0; head < count; head++) {
      // Full: block until the consumer moves tail (this side has nothing else to do).
      for (let tail; head - (tail = Atomics.load(index, TAIL / 4)) === SLOTS;) map.wait(TAIL, tail)
      records[slot(head)] = head
      expected += head
      Atomics.store(index, HEAD / 4, head + 1)
      map.notify(HEAD)
    }
    const { sum } = await answer
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    console.log(`${count.toLocaleString('en')} records through a ${SLOTS}-slot ring in ${seconds.toFixed(2)} s:`)
    console.log(
      `  ${Math.round(count / seconds).toLocaleString('en')} records/s; the consumer's sum ${sum === expected ? 'matches' : 'DIFFERS FROM'} the producer's`,
    )
    if (sum !== expected) process.exitCode = 1
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const at = process.argv.indexOf('--consumer')
if (at >= 0) void consumer(process.argv[at + 1], Number(process.argv[at + 2]))
else void producer(Number(process.argv[2] ?? 1_000_000))
