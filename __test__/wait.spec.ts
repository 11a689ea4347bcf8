// wait, waitAsync and notify (SPEC §3.1): Atomics.wait/notify semantics on an Int32 of a mapped
// file, between processes that map it. Oracles: the other process (it only moves on when it saw
// our value), the file on disk, event ordering and the children's exit status; no timing bound
// but the 120 s that catches a lost wake.
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import test from 'ava'

import { allocate, open, openSync } from '..'
import { type ChildResult, exitedCleanly, lastReport, runChild } from './child'
import { ROOT, tempDir, tempFile } from './helpers'

const dir = tempDir('memmap-wait-')
let count = 0
const newFile = (size = 4096) => tempFile(Buffer.alloc(size), `w${count++}.bin`, dir)

/** Runs `code` in a child process of this runtime, without blocking this one. */
function node(code: string, env: NodeJS.ProcessEnv, timeout = 120_000): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', code], { cwd: ROOT, env: { ...process.env, ...env, MEMMAP_ROOT: ROOT }, timeout })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }))
  })
}

/**
 * One side of a ping-pong over the Int32 at byte 0: round i waits until the value is 2i (ping)
 * or 2i + 1 (pong), then stores the next value and notifies. Neither side polls: between rounds
 * it sleeps in wait/waitAsync, so a lost wake stalls both until the 120 s bound.
 */
const PLAYER = `
  const memmap = require(process.env.MEMMAP_ROOT)
  const map = memmap.openSync(process.env.FILE, { mode: 'read-write' })
  const v = map.view(Int32Array, 0, 1)
  const rounds = Number(process.env.ROUNDS), mine = process.env.ROLE === 'ping' ? 0 : 1
  ;(async () => {
    let sleeps = 0
    for (let i = 0; i < rounds; i++) {
      const want = 2 * i + mine
      for (let seen; (seen = Atomics.load(v, 0)) !== want; sleeps++) {
        if (seen > want) throw new Error('skipped past ' + want + ': ' + seen)
        if (process.env.MODE === 'async') await map.waitAsync(0, seen, Infinity, { ref: true })
        else map.wait(0, seen)
      }
      Atomics.store(v, 0, want + 1)
      map.notify(0)
    }
    map.close()
    process.stdout.write(JSON.stringify({ sleeps }))
  })().catch((e) => { console.error(e); process.exit(70) })
`

for (const mode of ['sync', 'async'] as const) {
  test(`two processes ping-pong 100,000 times through ${mode === 'sync' ? 'wait' : 'waitAsync'} and notify on a shared file, never losing a wake`, async (t) => {
    const file = newFile()
    const env = { FILE: file, ROUNDS: '100000', MODE: mode }
    const [ping, pong] = await Promise.all([node(PLAYER, { ...env, ROLE: 'ping' }), node(PLAYER, { ...env, ROLE: 'pong' })])
    exitedCleanly(t, ping)
    exitedCleanly(t, pong)
    t.is(fs.readFileSync(file).readInt32LE(0), 200_000, 'the file holds the last value stored')
    t.log(`sleeps: ping ${JSON.parse(ping.stdout).sleeps}, pong ${JSON.parse(pong.stdout).sleeps}`)
  })
}

test("wait returns 'not-equal' when the value differs and 'timed-out' no earlier than its timeout; timeouts convert as Atomics.wait's", (t) => {
  const file = newFile()
  using map = openSync(file, { mode: 'read-write' })
  map.view(Int32Array, 0, 1)[0] = 7
  t.is(map.wait(0, 8), 'not-equal')
  t.is(map.wait(0, 7, 0), 'timed-out')
  t.is(map.wait(0, 7, -5), 'timed-out', 'a negative timeout means 0')
  const started = process.hrtime.bigint()
  t.is(map.wait(0, 7, 50), 'timed-out')
  t.true(Number(process.hrtime.bigint() - started) / 1e6 >= 50, 'not before the timeout')
  t.is(map.wait(0, 7 + 2 ** 32, 0), 'timed-out', 'expected converts with ToInt32: 7 + 2^32 compares equal to 7')
  t.is(map.wait(0, 8 + 2 ** 32, 0), 'not-equal', 'and 8 + 2^32 does not')
})

test('while a waitAsync is pending, a setImmediate counter keeps advancing, and notify wakes it', async (t) => {
  using map = openSync(newFile(), { mode: 'read-write' })
  const pending = map.waitAsync(0, 0)
  let turns = 0
  await new Promise<void>((resolve) => {
    const tick = () => (++turns >= 1000 ? resolve() : setImmediate(tick))
    setImmediate(tick)
  })
  t.is(turns, 1000)
  Atomics.store(map.view(Int32Array, 0, 1), 0, 1)
  t.is(map.notify(0), 1, 'one waiter woke (Linux counts)')
  t.is(await pending, 'ok')
})

test("sixteen pending waitAsync calls do not stop fs.promises.readFile or memmap's own open()", async (t) => {
  const file = newFile()
  using map = openSync(file, { mode: 'read-write' })
  const waits = Array.from({ length: 16 }, () => map.waitAsync(0, 0))
  const other = tempFile(Buffer.from('still served'), `r${count++}.txt`, dir)
  t.is(await fs.promises.readFile(other, 'utf8'), 'still served')
  const opened = await open(other)
  t.is(opened.read(0, 5).toString(), 'still')
  opened.close()
  t.is(map.notify(0), 16)
  t.deepEqual(await Promise.all(waits), Array(16).fill('ok'))
})

test('close() with pending waiters rejects them with ERR_MMAP_CLOSED and leaves no mapping or descriptor of the file; resize() does too (child)', (t) => {
  const file = newFile()
  const r = runChild(
    `
    reportAsync(async () => {
      const map = memmap.openSync(file, { mode: 'read-write' })
      const waits = [map.waitAsync(0, 0), map.waitAsync(4, 0, 60000), map.waitAsync(8, 0, Infinity, { ref: true })]
      map.close()
      const settled = await Promise.allSettled(waits)
      await new Promise((resolve) => setImmediate(resolve))
      const grown = memmap.openSync(file, { mode: 'read-write' })
      const resized = grown.waitAsync(0, 0, Infinity, { ref: true })
      grown.resize(8192)
      const afterResize = await resized.then(() => 'resolved', (e) => e.code)
      grown.close()
      await new Promise((resolve) => setImmediate(resolve))
      return { codes: settled.map((s) => s.status + ':' + (s.reason && s.reason.code)), afterResize, own: [fileMaps().length, fileFds()] }
    })
  `,
    { file },
  )
  exitedCleanly(t, r)
  t.deepEqual(lastReport(r), {
    codes: ['rejected:ERR_MMAP_CLOSED', 'rejected:ERR_MMAP_CLOSED', 'rejected:ERR_MMAP_CLOSED'],
    afterResize: 'ERR_MMAP_CLOSED',
    own: [0, 0],
  })
})

test('an aborted signal rejects a pending waitAsync with ABORT_ERR at once, and an already aborted one before waiting', async (t) => {
  using map = openSync(newFile(), { mode: 'read-write' })
  const controller = new AbortController()
  const pending = map.waitAsync(0, 0, Infinity, { signal: controller.signal })
  controller.abort(new Error('stop'))
  const error = await t.throwsAsync(pending, { name: 'AbortError', code: 'ABORT_ERR' })
  t.is((error as Error & { cause: Error }).cause.message, 'stop')
  await t.throwsAsync(map.waitAsync(0, 0, Infinity, { signal: AbortSignal.abort() }), { code: 'ABORT_ERR' })
  t.is(map.notify(0), 0, 'the aborted waiter no longer waits')
})

test('a pending waitAsync does not keep the process alive, unless ref: true (children)', (t) => {
  const file = newFile()
  const body = (ref: boolean) => `
    const map = memmap.openSync(file, { mode: 'read-write' })
    map.waitAsync(0, 0, ${ref ? 300 : 'Infinity'}, { ref: ${ref} }).then((r) => process.stdout.write('settled ' + r))
    process.on('exit', () => process.stdout.write(' exit'))
  `
  const unref = runChild(body(false), { file, timeout: 60_000 })
  t.deepEqual([unref.status, unref.signal, unref.stdout], [0, null, ' exit'], unref.stderr)
  const ref = runChild(body(true), { file, timeout: 60_000 })
  t.deepEqual([ref.status, ref.signal, ref.stdout], [0, null, 'settled timed-out exit'], ref.stderr)
})

test('worker.terminate() with pending waiters neither hangs nor crashes (child)', (t) => {
  const file = newFile()
  const r = runChild(
    `
    const { Worker } = require('node:worker_threads')
    const worker = new Worker(\`
      const memmap = require(process.env.MEMMAP_ROOT)
      const map = memmap.openSync(process.env.FILE, { mode: 'read-write' })
      for (let i = 0; i < 4; i++) map.waitAsync(i * 4, 0, Infinity, { ref: true })
      require('node:worker_threads').parentPort.postMessage('waiting')
    \`, { eval: true })
    worker.once('message', async () => {
      await worker.terminate()
      process.stdout.write('terminated')
    })
  `,
    { env: { FILE: file }, timeout: 60_000 },
  )
  exitedCleanly(t, r)
  t.is(r.stdout, 'terminated')
})

test('wait and notify refuse what cannot wake across processes, and misplaced Int32s, with codes', async (t) => {
  const file = newFile(64)
  using read = openSync(file)
  t.throws(() => read.wait(0, 0, 0), { code: 'ERR_MMAP_UNSUPPORTED' })
  using cow = openSync(file, { mode: 'copy-on-write' })
  t.throws(() => cow.notify(0), { code: 'ERR_MMAP_UNSUPPORTED' })
  using anon = allocate(4096)
  await t.throwsAsync(anon.waitAsync(0, 0, 0), { code: 'ERR_MMAP_UNSUPPORTED' })
  using map = openSync(file, { mode: 'read-write' })
  t.throws(() => map.wait(2, 0, 0), { code: 'ERR_MMAP_UNALIGNED' })
  t.throws(() => map.notify(62), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => map.wait(0, '0' as never, 0), { code: 'ERR_INVALID_ARG_TYPE' })
  using shifted = openSync(file, { mode: 'read-write', offset: 2 })
  t.throws(() => shifted.wait(0, 0, 0), { code: 'ERR_MMAP_UNALIGNED' }, 'alignment is in the file')
  t.is(shifted.wait(2, 0, 0), 'timed-out')
  map.close()
  t.throws(() => map.notify(0), { code: 'ERR_MMAP_CLOSED' })
  await t.throwsAsync(map.waitAsync(0, 0), { code: 'ERR_MMAP_CLOSED' })
})

test('examples/ring-buffer.ts moves 200,000 records between two processes, the consumer sleeping in waitAsync, and the sums agree', (t) => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'examples/ring-buffer.ts', '200000'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 })
  const r = { status: run.status, signal: run.signal, stdout: run.stdout, stderr: run.stderr }
  exitedCleanly(t, r)
  t.regex(r.stdout, /^200,000 records through a 1024-slot ring in [\d.]+ s:\n {2}[\d,]+ records\/s; the consumer's sum matches the producer's\n$/)
})
