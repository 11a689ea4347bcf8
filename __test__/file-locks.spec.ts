// Advisory file locks (SPEC §3.1): lockFileSync, lockFile, tryLockFile, unlockFile. The oracle is
// always another process: a child that holds a lock while this process asks for it, or one that
// tries to take the lock this process holds (and Python's fcntl.lockf, a classic POSIX lock, on
// Linux). No test sleeps or bounds a duration: order is established by messages between the
// processes, and a lost release shows up as the 120 s child timeout.
import * as fs from 'node:fs'
import test from 'ava'

import { allocate, openSync, type FileLockOptions } from '..'
import { converse, type Conversation, exitedCleanly, lastReport, runChild } from './child'
import { linuxOnly, tempDir, tempFile } from './helpers'

const dir = tempDir('memmap-locks-')
let count = 0
const newFile = (size = 4096) => tempFile(Buffer.alloc(size), `l${count++}.bin`, dir)
const macos = process.platform === 'darwin'

/**
 * A child that takes `options`' lock on `file` through a map of its own and says 'locked'. On
 * 'ping' it answers 'pong' (still holding the lock); on 'release' it writes 'released' at byte 0,
 * releases the lock and says 'released'.
 */
function holder(file: string, options: FileLockOptions = {}): Conversation {
  return converse(
    `
    const map = memmap.openSync(file, { mode: 'read-write' })
    const lock = map.lockFileSync(JSON.parse(process.env.LOCK_OPTIONS))
    say('locked')
    ;(async () => {
      for (let line; (line = await nextLine()) !== null; ) {
        if (line === 'ping') say('pong')
        if (line === 'release') {
          map.write(Buffer.from('released'), 0)
          lock[Symbol.dispose]()
          say('released')
        }
      }
      map.close()
    })()
    `,
    { file, env: { LOCK_OPTIONS: JSON.stringify(options) } },
  )
}

/** Whether another process can take `options`' lock on `file` now (it releases it at once). */
function othersCanLock(file: string, options: FileLockOptions = {}): boolean {
  const r = runChild(
    `
    const map = memmap.openSync(file, { mode: 'read-write' })
    report(map.tryLockFile(JSON.parse(process.env.LOCK_OPTIONS)))
    map.close()
    `,
    { file, env: { LOCK_OPTIONS: JSON.stringify(options) } },
  )
  if (r.status !== 0) throw new Error(`the probing child failed: ${r.stderr}`)
  return lastReport<boolean>(r)
}

/** What another process can take now: a shared lock, an exclusive lock (each tried alone). */
const othersCan = (file: string, range?: FileLockOptions['range']) => ({
  shared: othersCanLock(file, { exclusive: false, range }),
  exclusive: othersCanLock(file, { exclusive: true, range }),
})

test('a lock another process holds makes tryLockFile() false, and lockFile() resolves only after that process released it', async (t) => {
  const file = newFile()
  const child = holder(file)
  t.is(await child.next(), 'locked')
  using map = openSync(file, { mode: 'read-write' })
  t.false(map.tryLockFile(), 'exclusive')
  t.false(map.tryLockFile({ exclusive: false }), 'shared')

  let acquired = false
  const pending = map.lockFile().then((lock) => {
    acquired = true
    return lock
  })
  // A round trip with the holder, which still holds the lock: lockFile() has had turns of the
  // event loop to try, and must still be waiting.
  child.send('ping')
  t.is(await child.next(), 'pong')
  t.false(acquired, 'not taken while the other process holds it')

  child.send('release')
  using lock = await pending
  t.true(lock.exclusive)
  t.is(fs.readFileSync(file, 'latin1').slice(0, 8), 'released', 'the holder wrote this just before releasing: the lock came after')
  t.deepEqual(othersCan(file), { shared: false, exclusive: false }, 'and this process holds it now')
  exitedCleanly(t, await child.end())
})

test('a `using` lock is released at the end of its block: another process can then take it', (t) => {
  const file = newFile()
  using map = openSync(file, { mode: 'read-write' })
  {
    using lock = map.lockFileSync()
    t.true(lock.exclusive)
    t.false(othersCanLock(file), 'held inside the block')
  }
  t.true(othersCanLock(file), 'released at its end')
})

test('shared locks coexist across processes; an exclusive lock excludes shared and exclusive ones', async (t) => {
  const file = newFile()
  using map = openSync(file, { mode: 'read-write' })
  const shared = map.lockFileSync({ exclusive: false })
  t.false(shared.exclusive)
  t.deepEqual(othersCan(file), { shared: true, exclusive: false }, 'while this process holds a shared lock')
  shared.unlock()
  map.lockFileSync()
  t.deepEqual(othersCan(file), { shared: false, exclusive: false }, 'while this process holds an exclusive lock')
  map.unlockFile()
  t.deepEqual(othersCan(file), { shared: true, exclusive: true }, 'after unlockFile()')

  // And the other way round: a shared lock held by another process admits ours.
  const child = holder(file, { exclusive: false })
  t.is(await child.next(), 'locked')
  t.true(map.tryLockFile({ exclusive: false }))
  map.unlockFile()
  t.false(map.tryLockFile())
  child.send('release')
  t.is(await child.next(), 'released')
  exitedCleanly(t, await child.end())
})

test("a range locks those bytes of the file, counted from the map's offset; other bytes stay free (macOS: ERR_MMAP_UNSUPPORTED)", (t) => {
  const file = newFile(8192)
  using map = openSync(file, { mode: 'read-write', offset: 4096 })
  if (macos) {
    t.throws(() => map.lockFileSync({ range: { offset: 0, length: 10 } }), { code: 'ERR_MMAP_UNSUPPORTED' })
    return
  }
  map.lockFileSync({ range: { offset: 0, length: 100 } })
  t.deepEqual(othersCan(file, { offset: 4096, length: 100 }), { shared: false, exclusive: false }, 'file bytes [4096, 4196)')
  t.deepEqual(othersCan(file, { offset: 4195, length: 1 }), { shared: false, exclusive: false }, 'its last byte')
  t.deepEqual(othersCan(file, { offset: 4196, length: 100 }), { shared: true, exclusive: true }, 'the bytes after it')
  t.deepEqual(othersCan(file, { offset: 0, length: 4096 }), { shared: true, exclusive: true }, 'the bytes before the map')
  t.deepEqual(othersCan(file), { shared: false, exclusive: false }, 'the whole file overlaps it')
  map.unlockFile({ offset: 0, length: 100 })
  t.deepEqual(othersCan(file), { shared: true, exclusive: true }, 'unlockFile(range) released it')
})

test('an aborted lockFile() rejects with ABORT_ERR at once, and the lock is not held afterwards', async (t) => {
  const file = newFile()
  using map = openSync(file, { mode: 'read-write' })
  await t.throwsAsync(map.lockFile({ signal: AbortSignal.abort() }), { code: 'ABORT_ERR', name: 'AbortError' }, 'an already aborted signal')

  const child = holder(file)
  t.is(await child.next(), 'locked')
  const controller = new AbortController()
  let rejected = false
  const pending = map.lockFile({ signal: controller.signal })
  pending.catch(() => (rejected = true))
  controller.abort(new Error('no longer needed'))
  await Promise.resolve()
  t.true(rejected, 'rejected before any timer or I/O could run')
  const error = await t.throwsAsync(pending, { code: 'ABORT_ERR', name: 'AbortError' })
  t.is(error instanceof Error && (error.cause as Error).message, 'no longer needed', "the signal's reason is the cause")

  child.send('release')
  t.is(await child.next(), 'released')
  t.deepEqual(othersCan(file), { shared: true, exclusive: true }, 'nothing holds it: the aborted call did not take it later')
  t.true(map.tryLockFile(), 'and this map holds no lock that would overlap')
  exitedCleanly(t, await child.end())
})

test('eight pending lockFile() calls hold no thread: fs.promises.readFile completes while they wait', async (t) => {
  const file = newFile()
  const child = holder(file)
  t.is(await child.next(), 'locked')
  const maps = Array.from({ length: 8 }, () => openSync(file, { mode: 'read' }))
  t.teardown(() => maps.forEach((m) => m.close()))
  let settled = 0
  const locks = maps.map((m) => m.lockFile({ exclusive: false }).finally(() => settled++))
  // libuv's pool has 4 threads unless UV_THREADPOOL_SIZE says otherwise: eight calls parked there
  // would leave these reads waiting forever.
  const reads = await Promise.all(Array.from({ length: 8 }, () => fs.promises.readFile(file)))
  t.true(reads.every((data) => data.length === 4096))
  t.is(settled, 0, 'all eight still wait: the holder has not released')

  child.send('release')
  const held = await Promise.all(locks)
  t.true(held.every((lock) => !lock.exclusive))
  t.deepEqual(othersCan(file), { shared: true, exclusive: false }, 'eight shared locks, one per map')
  exitedCleanly(t, await child.end())
})

test("close() releases the map's locks and rejects its pending lockFile() with ERR_MMAP_CLOSED", async (t) => {
  const file = newFile()
  const map = openSync(file, { mode: 'read-write' })
  map.lockFileSync()
  t.false(othersCanLock(file))
  map.close()
  t.true(othersCanLock(file), 'released by close()')

  const child = holder(file)
  t.is(await child.next(), 'locked')
  const waiting = openSync(file, { mode: 'read-write' })
  const pending = waiting.lockFile()
  waiting.close()
  await t.throwsAsync(pending, { code: 'ERR_MMAP_CLOSED' })
  t.throws(() => waiting.lockFileSync(), { code: 'ERR_MMAP_CLOSED' })
  t.throws(() => waiting.tryLockFile(), { code: 'ERR_MMAP_CLOSED' })
  t.throws(() => waiting.unlockFile(), { code: 'ERR_MMAP_CLOSED' })
  await t.throwsAsync(waiting.lockFile(), { code: 'ERR_MMAP_CLOSED' })
  child.send('release')
  t.is(await child.next(), 'released')
  exitedCleanly(t, await child.end())
})

test('close() releases the locks of a map opened from a descriptor the caller keeps open, and of a trackFile: false map', (t) => {
  const file = newFile()
  const fd = fs.openSync(file, 'r+')
  t.teardown(() => fs.closeSync(fd))
  const fromFd = openSync(fd, { mode: 'read-write' })
  fromFd.lockFileSync()
  t.false(othersCanLock(file))
  fromFd.close()
  t.true(othersCanLock(file), "released, though the caller's descriptor shares the map's open file description")

  const untracked = openSync(file, { mode: 'read-write', trackFile: false })
  untracked.lockFileSync()
  t.false(othersCanLock(file), 'locked through a descriptor opened for the purpose')
  untracked.close()
  t.true(othersCanLock(file))
})

linuxOnly(test, 'rename(2) over a mapped file, which Windows refuses')(
  'a trackFile: false map whose path names another file since it was mapped refuses to lock it (ERR_MMAP_UNSUPPORTED)',
  (t) => {
    const file = newFile()
    using map = openSync(file, { mode: 'read-write', trackFile: false })
    fs.renameSync(newFile(), file)
    t.throws(() => map.lockFileSync(), { code: 'ERR_MMAP_UNSUPPORTED', message: /no longer names the file/ })
  },
)

test('one map never holds two locks over one byte: ERR_MMAP_UNSUPPORTED; upgrading is unlock, then lock', async (t) => {
  const file = newFile()
  using map = openSync(file, { mode: 'read-write' })
  map.lockFileSync({ exclusive: false })
  t.throws(() => map.lockFileSync(), { code: 'ERR_MMAP_UNSUPPORTED', message: /already holds a shared lock on the whole file/ })
  t.throws(() => map.tryLockFile({ exclusive: false }), { code: 'ERR_MMAP_UNSUPPORTED' })
  await t.throwsAsync(map.lockFile(), { code: 'ERR_MMAP_UNSUPPORTED' })
  t.deepEqual(othersCan(file), { shared: true, exclusive: false }, 'the shared lock is still held')
  map.unlockFile()
  map.lockFileSync()
  t.deepEqual(othersCan(file), { shared: false, exclusive: false }, 'upgraded')
  map.unlockFile()
  if (macos) return
  map.lockFileSync({ range: { offset: 0, length: 10 } })
  t.throws(() => map.lockFileSync({ range: { offset: 9, length: 10 } }), { code: 'ERR_MMAP_UNSUPPORTED' })
  t.true(map.tryLockFile({ range: { offset: 10, length: 10 } }), 'adjacent bytes do not overlap')
  t.throws(() => map.unlockFile({ offset: 0, length: 5 }), { code: 'ERR_MMAP_UNSUPPORTED', message: /with the range it was taken with/ })
  t.notThrows(() => map.unlockFile({ offset: 100, length: 5 }), 'a range holding no lock: nothing to do')
})

test('disposing a lock released by unlockFile() does not release a newer lock over the same bytes', (t) => {
  const file = newFile()
  using map = openSync(file, { mode: 'read-write' })
  const first = map.lockFileSync()
  map.unlockFile()
  const second = map.lockFileSync({ exclusive: false })
  first[Symbol.dispose]()
  t.deepEqual(othersCan(file), { shared: true, exclusive: false }, 'the second, shared lock is still held')
  second[Symbol.dispose]()
  second.unlock()
  t.deepEqual(othersCan(file), { shared: true, exclusive: true })
})

test("allocate() maps have no file to lock: ERR_MMAP_UNSUPPORTED; exclusive locks need a 'read-write' map: ERR_MMAP_READ_ONLY", async (t) => {
  using memory = allocate(4096)
  t.throws(() => memory.lockFileSync(), { code: 'ERR_MMAP_UNSUPPORTED', message: /allocate\(\) maps/ })
  t.throws(() => memory.tryLockFile({ exclusive: false }), { code: 'ERR_MMAP_UNSUPPORTED' })
  await t.throwsAsync(memory.lockFile(), { code: 'ERR_MMAP_UNSUPPORTED' })

  const file = newFile()
  for (const mode of ['read', 'copy-on-write'] as const) {
    using map = openSync(file, { mode })
    t.throws(() => map.lockFileSync(), { code: 'ERR_MMAP_READ_ONLY' }, mode)
    t.true(map.tryLockFile({ exclusive: false }), `${mode}: a shared lock`)
    t.deepEqual(othersCan(file), { shared: true, exclusive: false }, `${mode}: held`)
  }
  t.deepEqual(othersCan(file), { shared: true, exclusive: true }, 'released by the maps closing')
})

test('lock arguments are checked before any lock call, with the codes and messages of the other methods', async (t) => {
  const file = newFile()
  using map = openSync(file, { mode: 'read-write' })
  t.throws(() => map.lockFileSync({ exclusive: 'yes' as unknown as boolean }), {
    code: 'ERR_INVALID_ARG_TYPE',
    message: "Expected `options.exclusive` to be a boolean, got 'yes' (string)",
  })
  t.throws(() => map.tryLockFile({ range: { offset: 4000, length: 97 } }), {
    code: 'ERR_OUT_OF_RANGE',
    message: "Expected `options.range.length` to be at most 96 (the map's 4096 bytes from options.range.offset 4000), got 97 (number)",
  })
  t.throws(() => map.tryLockFile({ range: { offset: 4096 } }), { code: 'ERR_OUT_OF_RANGE', message: /`options.range.length` to be at least 1/ })
  t.throws(() => map.unlockFile({ offset: -1 }), { code: 'ERR_OUT_OF_RANGE', message: /`range.offset`/ })
  await t.throwsAsync(map.lockFile({ signal: {} as AbortSignal }), { code: 'ERR_INVALID_ARG_TYPE', message: /`options.signal`/ })
  t.deepEqual(othersCan(file), { shared: true, exclusive: true }, 'no lock was taken')
})

const PYTHON_LOCKF_HOLDER = `
import fcntl, sys
f = open(sys.argv[1], 'r+b')
fcntl.lockf(f, fcntl.LOCK_EX)
print('locked', flush=True)
sys.stdin.readline()
f.write(b'released')
f.flush()
fcntl.lockf(f, fcntl.LOCK_UN)
print('released', flush=True)
sys.stdin.readline()
`

const PYTHON_TRY = `
import fcntl, json, sys
f = open(sys.argv[1], 'r+b')
def lockf(start, length):
    try:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, length, start)
        fcntl.lockf(f, fcntl.LOCK_UN, length, start)
        return True
    except OSError:
        return False
def flock():
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(f, fcntl.LOCK_UN)
        return True
    except OSError:
        return False
print(json.dumps({'lockf': [lockf(0, 100), lockf(99, 1), lockf(100, 100)], 'flock': flock()}))
`

linuxOnly(test, "python3's fcntl.lockf against OFD locks (fcntl F_OFD_SETLK)")(
  "Linux: Python's fcntl.lockf (a classic POSIX lock) and memmap's locks exclude each other; fcntl.flock does not see them",
  async (t) => {
    const file = newFile()
    using map = openSync(file, { mode: 'read-write' })
    map.lockFileSync({ range: { offset: 0, length: 100 } })
    const tried = converse(['python3', '-c', PYTHON_TRY, file])
    const seen = JSON.parse(await tried.next()) as { lockf: boolean[]; flock: boolean }
    t.deepEqual(seen, { lockf: [false, false, true], flock: true }, 'lockf refused on bytes [0, 100) only; flock is another kind of lock')
    exitedCleanly(t, await tried.end())
    map.unlockFile()

    const python = converse(['python3', '-c', PYTHON_LOCKF_HOLDER, file])
    t.is(await python.next(), 'locked')
    t.false(map.tryLockFile({ exclusive: false }))
    const pending = map.lockFile()
    python.send('release')
    t.is(await python.next(), 'released')
    using lock = await pending
    t.true(lock.exclusive)
    t.is(fs.readFileSync(file, 'latin1').slice(0, 8), 'released', 'taken after Python wrote and released')
    exitedCleanly(t, await python.end())
  },
)

const PYTHON_TURNS = `
import fcntl, mmap, os, struct, sys
rounds = int(sys.argv[2])
parent = os.getppid()
held = 0
with open(sys.argv[1], 'r+b') as f, mmap.mmap(f.fileno(), 4096) as m:
    while True:
        # Spinning for its turn: stop if the test that started us is gone, never spin orphaned.
        if os.getppid() != parent:
            sys.exit('the parent process is gone')
        fcntl.lockf(f, fcntl.LOCK_EX)
        held += 1
        struct.pack_into('<i', m, 8, struct.unpack_from('<i', m, 8)[0] + 1)
        count, value = struct.unpack_from('<ii', m, 0)
        if count >= 2 * rounds:
            fcntl.lockf(f, fcntl.LOCK_UN)
            break
        if count % 2 == 1:
            if value != (count - 1) * 7 + 1:
                sys.exit('at %d Python saw %d, not what Node wrote' % (count, value))
            struct.pack_into('<ii', m, 0, count + 1, count * 13 + 5)
        fcntl.lockf(f, fcntl.LOCK_UN)
print(held)
`

const NODE_TURNS = `
const map = memmap.openSync(file, { mode: 'read-write', length: 4096 })
const [counter, value, total] = [map.view(Int32Array, 0, 1), map.view(Int32Array, 4, 1), map.view(Int32Array, 8, 1)]
const rounds = Number(process.env.ROUNDS)
const parent = process.ppid
let held = 0
for (;;) {
  // Spinning for its turn: stop if the test that started us is gone, never spin orphaned.
  if (process.ppid !== parent) throw new Error('the parent process is gone')
  const lock = map.lockFileSync()
  held++
  total[0] = total[0] + 1
  const count = counter[0]
  if (count >= 2 * rounds) {
    lock.unlock()
    break
  }
  if (count % 2 === 0) {
    if (count > 0 && value[0] !== (count - 1) * 13 + 5) throw new Error('at ' + count + ' Node saw ' + value[0] + ', not what Python wrote')
    value[0] = count * 7 + 1
    counter[0] = count + 1
  }
  lock.unlock()
}
map.close()
say(String(held))
`

linuxOnly(test, "python3's fcntl.lockf against OFD locks (fcntl F_OFD_SETLK)")(
  "Linux: a Node process and a Python process (stdlib mmap, fcntl.lockf) take 10,000 turns each under the lock, each seeing the other's last write and losing no update",
  async (t) => {
    const file = newFile()
    const rounds = 10_000
    // Each side spins (lock, look, unlock) until its turn: allow for a loaded machine.
    const node = converse(NODE_TURNS, { file, env: { ROUNDS: String(rounds) }, timeout: 600_000 })
    const python = converse(['python3', '-c', PYTHON_TURNS, file, String(rounds)], { timeout: 600_000 })
    const [n, p] = await Promise.all([node.end(), python.end()])
    exitedCleanly(t, n)
    exitedCleanly(t, p)
    const data = fs.readFileSync(file)
    t.is(data.readInt32LE(0), 2 * rounds, 'every turn was taken')
    t.is(data.readInt32LE(4), (2 * rounds - 1) * 13 + 5, "the last write is Python's, at its last turn")
    // Both add 1 to the Int32 at byte 8 each time they hold the lock, by a plain read and write: a
    // lock that did not exclude the other process would lose some of those updates.
    const held = Number(n.stdout.trim()) + Number(p.stdout.trim())
    t.true(held >= 2 * rounds)
    t.is(data.readInt32LE(8), held, 'no update lost: each read-modify-write ran alone')
  },
)
