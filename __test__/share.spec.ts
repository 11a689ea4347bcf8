// Sharing a map (SPEC §3.1): share() tokens, openShared in workers and other processes, shared
// anonymous memory. The oracles are node:fs (the file's bytes on disk, a descriptor's size) and
// the other thread or process, which reports what it saw and writes what this side then reads.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'
import test from 'ava'

import { allocate, openShared, openSync, type SharedMapToken } from '..'
import { converse, exitedCleanly, lastReport, runChild } from './child'
import { linuxOnly, ROOT, tempDir, tempFile } from './helpers'

const dir = tempDir('memmap-share-')
let count = 0
const newFile = (bytes: Buffer) => tempFile(bytes, `s${count++}.bin`, dir)
const linux = process.platform === 'linux'

/** A worker running `source` (CommonJS, with `memmap`, `workerData` and `parentPort` in scope) from a file, as every runtime loads one. */
function worker(source: string, workerData: unknown): Worker {
  const file = path.join(dir, `w${count++}.cjs`)
  fs.writeFileSync(file, `const memmap = require(${JSON.stringify(ROOT)})\nconst { workerData, parentPort } = require('node:worker_threads')\n${source}`)
  return new Worker(file, { workerData })
}

function exited(w: Worker): Promise<number> {
  return new Promise((resolve, reject) => {
    w.once('error', reject)
    w.once('exit', resolve)
  })
}

test('four workers Atomics.add 1,000,000 times each to one Int32 of a map got through share(): the file holds 4,000,000', async (t) => {
  const file = newFile(Buffer.alloc(4096))
  using map = openSync(file, { mode: 'read-write' })
  const barrier = new Int32Array(new SharedArrayBuffer(4))
  const source = `
    const map = memmap.openShared(workerData.token)
    const slot = map.view(Int32Array, 0, 1)
    const barrier = workerData.barrier
    // Everyone starts together, so the adds really contend.
    if (Atomics.add(barrier, 0, 1) + 1 === 4) Atomics.notify(barrier, 0)
    for (let seen; (seen = Atomics.load(barrier, 0)) < 4; ) Atomics.wait(barrier, 0, seen)
    for (let i = 0; i < 1_000_000; i++) Atomics.add(slot, 0, 1)
    map.close()
  `
  const workers = Array.from({ length: 4 }, () => worker(source, { token: map.share(), barrier }))
  t.deepEqual(await Promise.all(workers.map(exited)), [0, 0, 0, 0])
  map.flushSync()
  t.is(fs.readFileSync(file).readInt32LE(0), 4_000_000)
  t.false(map.closed, "the workers' closes leave this map open")
  t.is(map.view(Int32Array, 0, 1)[0], 4_000_000)
})

test('a token survives JSON and structuredClone, and a child process maps the same file range through it', (t) => {
  const bytes = Buffer.alloc(20_000)
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) & 0xff
  const file = newFile(bytes)
  using map = openSync(file, { mode: 'read-write', offset: 4196, length: 9000 })
  const token = map.share()
  t.deepEqual(JSON.parse(JSON.stringify(token)), token)
  t.deepEqual(structuredClone(token), token)
  t.like(token, { v: 1, kind: 'file', path: fs.realpathSync(file), offset: 4196, length: 9000, mode: 'read-write', pid: process.pid })
  const r = runChild(
    `
    const token = JSON.parse(process.env.TOKEN)
    const peer = memmap.openShared(token)
    const seen = peer.read(0, peer.length).toString('hex')
    peer.write(Buffer.from('from the child'), 100)
    peer.flushSync()
    report({ seen, length: peer.length, offset: peer.offset, path: peer.path })
    peer.close()
  `,
    { env: { TOKEN: JSON.stringify(token) } },
  )
  exitedCleanly(t, r)
  const report = lastReport<{ seen: string; length: number; offset: number; path: string }>(r)
  t.is(report.seen, bytes.subarray(4196, 4196 + 9000).toString('hex'), "the child's map shows the token's range of the file")
  t.deepEqual([report.length, report.offset, report.path], [9000, 4196, token.path])
  t.is(
    fs
      .readFileSync(file)
      .subarray(4196 + 100, 4196 + 114)
      .toString(),
    'from the child',
  )
  t.is(map.read(100, 14).toString(), 'from the child', "the sharer's map sees the child's write")
})

linuxOnly(test, 'rename(2) over a mapped file, which Windows refuses')(
  'regression: a token for a file renamed over since is refused with ERR_MMAP_STALE_TOKEN, and nothing changes',
  (t) => {
    const file = newFile(Buffer.from('original contents'))
    using map = openSync(file, { mode: 'read-write' })
    const token = map.share()
    const replacement = path.join(dir, `replacement-${count++}`)
    fs.writeFileSync(replacement, 'the replacement file')
    fs.renameSync(replacement, file)
    t.throws(() => openShared(token), { code: 'ERR_MMAP_STALE_TOKEN', message: /replaced/ })
    const child = runChild(`report(thrownCode(() => memmap.openShared(JSON.parse(process.env.TOKEN))))`, { env: { TOKEN: JSON.stringify(token) } })
    exitedCleanly(t, child)
    t.is(lastReport(child), 'ERR_MMAP_STALE_TOKEN', 'another process refuses it too')
    t.is(fs.readFileSync(file, 'utf8'), 'the replacement file')
    t.is(map.read(0, 8).toString(), 'original', 'the sharer keeps the file it mapped')
  },
)

linuxOnly(test, 'memfd_create descriptors, and /proc/<pid>/fd for a map opened from one')(
  'regression: a token whose descriptor number now holds another file is refused with ERR_MMAP_STALE_TOKEN',
  (t) => {
    using shared = allocate(4096, { shared: true })
    const memToken = shared.share()
    const fdFile = newFile(Buffer.alloc(4096, 1))
    const fd = fs.openSync(fdFile, 'r+')
    const byFd = openSync(fd, { mode: 'read-write' })
    fs.closeSync(fd)
    const tokens: SharedMapToken[] = [memToken]
    if (linux) tokens.push(byFd.share()) // a map opened from a descriptor shares through /proc/<pid>/fd
    shared.close()
    byFd.close()
    const other = newFile(Buffer.alloc(4096, 2))
    const held: number[] = []
    try {
      for (const token of tokens) {
        // Fill descriptor numbers until the token's is taken by another file.
        while (!held.includes(token.fd as number)) {
          held.push(fs.openSync(other, 'r+'))
          if (held.length > 100_000) throw new Error(`descriptor ${token.fd} never came back`)
        }
        t.throws(() => openShared(token), { code: 'ERR_MMAP_STALE_TOKEN' }, `${token.kind} token`)
      }
    } finally {
      for (const n of held) fs.closeSync(n)
    }
    t.deepEqual(fs.readFileSync(other), Buffer.alloc(4096, 2))
  },
)

test('allocate(n, { shared: true }) is seen by a worker through share()', async (t) => {
  using memory = allocate(8192, { shared: true })
  memory.write(Buffer.from('parent wrote this'), 5000)
  const w = worker(
    `
    const map = memmap.openShared(workerData)
    parentPort.postMessage(map.read(5000, 17).toString())
    map.write(Buffer.from('worker wrote this'), 100)
    map.close()
  `,
    memory.share(),
  )
  const said = new Promise((resolve) => w.once('message', resolve))
  t.is(await exited(w), 0)
  t.is(await said, 'parent wrote this')
  t.is(memory.read(100, 17).toString(), 'worker wrote this')
})

linuxOnly(test, 'a memfd_create descriptor in stdio (Windows sections travel by name: __test__/windows)')(
  'allocate(n, { shared: true }) reaches a child process through a descriptor in stdio',
  async (t) => {
    using memory = allocate(4096, { shared: true })
    memory.write(Buffer.from('hello child'), 0)
    const token = memory.share()
    t.true(['memfd', 'shm', 'section'].includes(token.kind))
    const r = await converse(
      `
    const map = memmap.openShared(JSON.parse(process.env.TOKEN), { fd: 3 })
    const seen = map.read(0, 11).toString()
    map.write(Buffer.from('hello parent'), 2000)
    report({ seen, length: map.length })
    map.close()
  `,
      { fds: [token.fd as number], env: { TOKEN: JSON.stringify(token) } },
    ).end()
    exitedCleanly(t, r)
    t.deepEqual(lastReport(r), { seen: 'hello child', length: 4096 })
    t.is(memory.read(2000, 12).toString(), 'hello parent')
  },
)

linuxOnly(test, '/proc/<pid>/fd and memfd_create')(
  'Linux: shared memory reaches a child through /proc/<pid>/fd without a descriptor in stdio, and grows',
  (t) => {
    using memory = allocate(4096, { shared: true })
    memory.resize(3 * 4096)
    memory.write(Buffer.from('past the first size'), 9000)
    const token = memory.share()
    t.is(fs.statSync(`/proc/self/fd/${token.fd}`).size, 3 * 4096, 'the memfd grew with resize()')
    const r = runChild(`const map = memmap.openShared(JSON.parse(process.env.TOKEN)); report(map.read(9000, 19).toString()); map.close()`, {
      env: { TOKEN: JSON.stringify(token) },
    })
    exitedCleanly(t, r)
    t.is(lastReport(r), 'past the first size')
  },
)

linuxOnly(test, 'memfd_create seals (F_SEAL_SHRINK), reopened through /proc/self/fd')(
  'Linux: the memfd behind shared memory refuses to shrink (F_SEAL_SHRINK), and resize() never shrinks it',
  (t) => {
    using memory = allocate(8192, { shared: true })
    const token = memory.share()
    t.is(token.kind, 'memfd')
    // Another descriptor of the same memfd (reopened through /proc, as another process would).
    const fd = fs.openSync(`/proc/self/fd/${token.fd}`, 'r+')
    try {
      t.throws(() => fs.ftruncateSync(fd, 4096), { code: 'EPERM' })
      t.is(fs.fstatSync(fd).size, 8192)
      t.throws(() => memory.resize(4096), { code: 'ERR_MMAP_UNSUPPORTED', message: /never shrinks/ })
      t.is(memory.length, 8192)
      fs.ftruncateSync(fd, 16384)
      t.is(fs.fstatSync(fd).size, 16384, 'growing is allowed')
    } finally {
      fs.closeSync(fd)
    }
  },
)

test('openShared may narrow the mode, never widen it', (t) => {
  const file = newFile(Buffer.alloc(4096))
  using rw = openSync(file, { mode: 'read-write' })
  using narrowed = openShared(rw.share(), { mode: 'read' })
  t.is(narrowed.mode, 'read')
  t.throws(() => narrowed.write(Buffer.from('x')), { code: 'ERR_MMAP_READ_ONLY' })
  rw.write(Buffer.from('visible'), 0)
  t.is(narrowed.read(0, 7).toString(), 'visible')
  using ro = openSync(file)
  t.throws(() => openShared(ro.share(), { mode: 'read-write' }), { code: 'ERR_MMAP_READ_ONLY' })
  t.throws(() => openShared(ro.share(), { mode: 'copy-on-write' }), { code: 'ERR_MMAP_READ_ONLY' })
  using same = openShared(ro.share())
  t.is(same.mode, 'read')
})

test('closing a map opened through a token leaves the sharer open, and the reverse', (t) => {
  const file = newFile(Buffer.alloc(4096))
  const map = openSync(file, { mode: 'read-write' })
  const peer = openShared(map.share())
  const peerView = peer.view(Uint8Array)
  peer.close()
  t.is(peerView.byteLength, 0, "the peer's view is detached")
  map.write(Buffer.from('still here'), 0)
  t.is(map.read(0, 10).toString(), 'still here')
  const again = openShared(map.share())
  map.close()
  t.is(again.read(0, 10).toString(), 'still here')
  again.close()
})

test('share() refuses what no other isolate can reach, with codes', (t) => {
  using priv = allocate(4096)
  t.throws(() => priv.share(), { code: 'ERR_MMAP_UNSUPPORTED', message: /shared: true/ })
  const file = newFile(Buffer.alloc(4096))
  const fd = fs.openSync(file, 'r')
  try {
    using untracked = openSync(fd, { trackFile: false })
    t.throws(() => untracked.share(), { code: 'ERR_MMAP_UNSUPPORTED' })
  } finally {
    fs.closeSync(fd)
  }
  using byPath = openSync(file, { trackFile: false })
  t.like(byPath.share(), { kind: 'file', path: fs.realpathSync(file) })
  const closed = openSync(file)
  closed.close()
  t.throws(() => closed.share(), { code: 'ERR_MMAP_CLOSED' })
  t.throws(() => allocate(4096, { shared: true, hugePages: true }), { code: 'ERR_INVALID_ARG_VALUE' })
  using shared = allocate(4096, { shared: true })
  t.throws(() => shared.lockFileSync(), { code: 'ERR_MMAP_UNSUPPORTED' })
})

test('openShared checks every field of a token before any system call', (t) => {
  const file = newFile(Buffer.alloc(4096))
  using map = openSync(file)
  const token = map.share()
  t.throws(() => openShared(null as never), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => openShared({ ...token, v: 2 } as never), { code: 'ERR_INVALID_ARG_VALUE', message: /token\.v/ })
  t.throws(() => openShared({ ...token, kind: 'pipe' } as never), { code: 'ERR_INVALID_ARG_VALUE', message: /token\.kind/ })
  t.throws(() => openShared({ ...token, dev: 5 } as never), { code: 'ERR_INVALID_ARG_TYPE', message: /token\.dev/ })
  t.throws(() => openShared({ ...token, ino: '12x' }), { code: 'ERR_INVALID_ARG_VALUE', message: /token\.ino/ })
  t.throws(() => openShared({ ...token, offset: -1 }), { code: 'ERR_OUT_OF_RANGE', message: /token\.offset/ })
  t.throws(() => openShared({ ...token, path: undefined, fd: undefined }), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => openShared(token, { fd: -1 }), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => openShared({ ...token, length: 8192 }), { code: 'ERR_OUT_OF_RANGE' }, 'a range past the end of the file')
  t.is(fs.readFileSync(file).length, 4096, 'nothing grew the file')
})
