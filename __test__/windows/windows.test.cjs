'use strict'
// The Windows OS layer (crates/node/src/os/windows.rs), run by `npm run test:cross` under wine
// with node.exe from npm (x86_64-pc-windows-gnu, the same Rust code as msvc), and on the
// workflow's Windows hosts. node:test, not ava: node.exe under wine cannot write to a pipe, so the
// TAP goes to a file (--test-reporter-destination) and the tests run in this one process.
// Loads the test-hooks build (MEMMAP_TEST_BINDING=1: native-test/). The oracle is node:fs.
// MEMMAP_REAL_WINDOWS=1 (the workflow) also asserts effects wine only stubs.
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { after, afterEach, test } = require('node:test')
const util = require('node:util')

const memmap = require('../../dist/index.js')
const binding = require('../../native-test/binding.js')

const { allocate, open, openSync, stats } = memmap
const realWindows = process.env.MEMMAP_REAL_WINDOWS === '1'
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-win-'))
after(async () => {
  // A view kept by a transferred buffer stays mapped until it is collected.
  globalThis.gc?.()
  await new Promise((resolve) => setImmediate(resolve))
  fs.rmSync(dir, { recursive: true, force: true })
})

// `using` needs a flag on Node 22 and 24 in plain JavaScript: maps are closed after each test.
const opened = []
afterEach(() => {
  for (const map of opened.splice(0)) map.close()
})
/** Closes `map` after the test. */
function track(map) {
  opened.push(map)
  return map
}

let serial = 0
/** A new file of `size` bytes whose byte i is i % 251. */
function fileOf(size) {
  const file = path.join(dir, `f${serial++}.bin`)
  const bytes = Buffer.alloc(size)
  for (let i = 0; i < size; i++) bytes[i] = i % 251
  fs.writeFileSync(file, bytes)
  return file
}

function caught(fn) {
  try {
    fn()
  } catch (error) {
    return error
  }
  assert.fail('expected a throw')
}

/** The fields node:fs sets on a system error, for a deepEqual against node:fs's own. */
function shape(error) {
  return { code: error.code, errno: error.errno, syscall: error.syscall, path: error.path, message: error.message }
}

test('the binary is the test-hooks build of this platform', () => {
  assert.equal(process.platform, 'win32')
  assert.equal(binding.hasTestHooks(), true)
})

test('pageSize and allocationGranularity come from GetSystemInfo', () => {
  assert.equal(memmap.pageSize, 4096)
  assert.equal(memmap.allocationGranularity, 65536)
})

test('a missing file throws what fs.openSync throws (ENOENT, -4058)', () => {
  const missing = path.join(dir, 'missing.bin')
  const ours = caught(() => openSync(missing))
  const theirs = caught(() => fs.openSync(missing, 'r'))
  assert.deepEqual(shape(ours), shape(theirs))
  assert.equal(ours.errno, -4058)
  assert.equal(util.getSystemErrorName(ours.errno), 'ENOENT')
})

test('a missing parent directory with create throws what fs.openSync(path, "w") throws', () => {
  const missing = path.join(dir, 'no-such-dir', 'f.bin')
  const ours = caught(() => openSync(missing, { mode: 'read-write', create: true, size: 10 }))
  assert.deepEqual(shape(ours), shape(caught(() => fs.openSync(missing, 'w'))))
})

test("create: 'exclusive' on an existing file throws what fs.openSync(path, 'wx') throws (EEXIST)", () => {
  const file = fileOf(10)
  const ours = caught(() => openSync(file, { mode: 'read-write', create: 'exclusive' }))
  assert.deepEqual(shape(ours), shape(caught(() => fs.openSync(file, 'wx'))))
  assert.equal(ours.code, 'EEXIST')
})

/** libuv's errno for `code` on this platform, from node's own table. */
function errnoOf(code) {
  for (const [errno, [name]] of util.getSystemErrorMap()) if (name === code) return errno
  return undefined
}

test("a read-only file in mode 'read-write' throws what fs.openSync(path, 'r+') throws (EPERM: libuv v1's ERROR_ACCESS_DENIED)", (t) => {
  const file = path.join(dir, 'read-only.bin')
  fs.writeFileSync(file, 'x', { mode: 0o444 }) // FILE_ATTRIBUTE_READONLY
  let theirs
  try {
    fs.closeSync(fs.openSync(file, 'r+'))
  } catch (error) {
    theirs = error
  }
  fs.chmodSync(file, 0o666)
  if (theirs === undefined) return t.skip('this host opens read-only files for writing (wine running as root)')
  fs.chmodSync(file, 0o444)
  const ours = caught(() => openSync(file, { mode: 'read-write' }))
  fs.chmodSync(file, 0o666)
  assert.deepEqual(shape(ours), shape(theirs))
  assert.equal(ours.code, 'EPERM')
})

test("mapping a read-only descriptor in mode 'read-write' is ERROR_ACCESS_DENIED: EPERM with node's errno for it", () => {
  const fd = fs.openSync(fileOf(4096), 'r')
  try {
    const ours = caught(() => openSync(fd, { mode: 'read-write' }))
    assert.equal(ours.code, 'EPERM')
    assert.equal(ours.errno, errnoOf('EPERM'))
    assert.equal(ours.errno, -4048)
    assert.equal(ours.syscall, 'mmap')
    assert.match(ours.message, /^EPERM: operation not permitted, mmap$/)
  } finally {
    fs.closeSync(fd)
  }
})

test("a file the OS refuses to open for writing throws what fs.openSync(path, 'r+') throws", (t) => {
  // MEMMAP_IMMUTABLE_FILE: a file made immutable (chattr +i) by scripts/cross.mjs, which wine
  // reports as EPERM: the same error through the same CreateFileW flags.
  const file = process.env.MEMMAP_IMMUTABLE_FILE
  if (!file) return t.skip('no immutable file prepared (set by scripts/cross.mjs under wine)')
  const ours = caught(() => openSync(file, { mode: 'read-write' }))
  assert.deepEqual(shape(ours), shape(caught(() => fs.openSync(file, 'r+'))))
  assert.equal(ours.errno, errnoOf(ours.code))
})

test('a directory throws EISDIR with the errno node:fs uses for it, from open', () => {
  const theirs = caught(() => fs.readFileSync(dir))
  for (const mode of ['read', 'copy-on-write']) {
    const ours = caught(() => openSync(dir, { mode }))
    assert.equal(ours.code, 'EISDIR')
    assert.equal(ours.errno, theirs.errno)
    assert.equal(ours.syscall, 'open')
    assert.equal(ours.path, dir)
  }
  const rw = caught(() => openSync(dir, { mode: 'read-write' }))
  let fsError
  try {
    fs.closeSync(fs.openSync(dir, 'r+'))
  } catch (error) {
    fsError = error
  }
  // Where the OS refuses write access to a directory, the error is node:fs's; where it grants it (wine), EISDIR.
  if (fsError) assert.deepEqual(shape(rw), shape(fsError))
  else assert.equal(rw.code, 'EISDIR')
})

test('a descriptor that is not open throws what fs.fstatSync throws (EBADF)', () => {
  const fd = fs.openSync(fileOf(10), 'r')
  fs.closeSync(fd)
  const ours = caught(() => openSync(fd))
  const theirs = caught(() => fs.fstatSync(fd))
  assert.equal(ours.code, theirs.code)
  assert.equal(ours.errno, theirs.errno)
  assert.equal(ours.syscall, theirs.syscall)
})

test('a descriptor and a FileHandle map the file (uv_get_osfhandle), and the caller keeps theirs', async () => {
  const file = fileOf(100_000)
  const expected = fs.readFileSync(file)
  const fd = fs.openSync(file, 'r')
  {
    const map = track(openSync(fd))
    assert.deepEqual(map.read(0, map.length), expected)
  }
  assert.equal(fs.fstatSync(fd).size, 100_000, 'the caller’s descriptor is still open')
  fs.closeSync(fd)
  const handle = await fs.promises.open(file, 'r+')
  try {
    const map = track(await open(handle, { mode: 'read-write' }))
    assert.deepEqual(map.read(0, 10), expected.subarray(0, 10))
    map.write(Buffer.from('via handle'), 0)
    await map.flush()
  } finally {
    await handle.close()
  }
  assert.equal(fs.readFileSync(file).subarray(0, 10).toString(), 'via handle')
})

test('allocate(n, { hugePages: true }) reports false: Windows gets ordinary pages', () => {
  const map = track(allocate(1 << 20, { hugePages: true }))
  assert.equal(map.hugePages, false)
  map.bytes[0] = 1
})

test('lock and unlock (VirtualLock) work on file and anonymous maps; locked pages are resident', () => {
  const map = track(openSync(fileOf(1 << 20)))
  map.lock()
  const r = map.residency()
  assert.equal(r.total, 256)
  if (realWindows) assert.equal(r.resident, r.total)
  map.unlock()
  map.unlock() // unlocking unlocked pages is not an error, as with munlock
  const scratch = track(allocate(256 << 10))
  scratch.lock({ offset: 4096, length: 8192 })
  scratch.unlock({ offset: 4096, length: 8192 })
})

test('residency (QueryWorkingSetEx) counts pages and sees pages just read', () => {
  const map = track(openSync(fileOf(64 << 10)))
  const before = map.residency()
  assert.equal(before.total, 16)
  assert.equal(before.exact, true)
  let sum = 0
  for (let i = 0; i < map.length; i += 4096) sum += map.bytes[i]
  assert.ok(sum >= 0)
  const afterRead = map.residency()
  assert.ok(afterRead.resident >= 1, `resident after reading every page: ${afterRead.resident}`)
  assert.ok(afterRead.resident <= afterRead.total)
})

test("protect('read') (VirtualProtect) makes library writes throw ERR_MMAP_READ_ONLY; protect('read-write') restores them", () => {
  const file = fileOf(8192)
  const map = track(openSync(file, { mode: 'read-write' }))
  map.protect('read')
  assert.equal(caught(() => map.write(Buffer.from('x'), 0)).code, 'ERR_MMAP_READ_ONLY')
  map.protect('read-write')
  map.write(Buffer.from('y'), 0)
  map.flushSync()
  assert.equal(fs.readFileSync(file)[0], 'y'.charCodeAt(0))
})

test("a store into a protect('read') view faults (child process)", () => {
  const file = fileOf(8192)
  const script = `const m = require(${JSON.stringify(path.resolve(__dirname, '../../dist/index.js'))}).openSync(${JSON.stringify(file)}, { mode: 'read-write' }); m.protect('read'); m.bytes[0] = 1`
  const child = spawnSync(process.execPath, ['-e', script], { stdio: 'ignore', env: { ...process.env } })
  assert.notEqual(child.status, 0, 'the store faulted')
  assert.equal(fs.readFileSync(file)[0], 0, 'nothing reached the file')
})

test('allocate: true reserves the growth (SetFileInformationByHandle FileAllocationInfo)', () => {
  const file = path.join(dir, 'allocated.bin')
  const map = track(openSync(file, { mode: 'read-write', create: true, size: 1 << 20, allocate: true }))
  assert.equal(fs.statSync(file).size, 1 << 20)
  assert.equal(
    map.read(0, 16).every((b) => b === 0),
    true,
  )
  map.bytes[(1 << 20) - 1] = 7
  map.flushSync()
  assert.equal(fs.readFileSync(file)[(1 << 20) - 1], 7)
})

test('a shrinking resize unmaps, cuts the file and maps again, keeping the bytes below the cut', () => {
  const file = fileOf(256 << 10)
  const expected = fs.readFileSync(file)
  const map = track(openSync(file, { mode: 'read-write' }))
  const before = map.bytes
  map.resize(100_000)
  assert.equal(before.byteLength, 0, 'the old view was detached')
  assert.equal(map.length, 100_000)
  assert.equal(fs.statSync(file).size, 100_000)
  assert.deepEqual(map.read(0, 100_000), expected.subarray(0, 100_000))
  map.resize(300_000)
  assert.equal(fs.statSync(file).size, 300_000)
  assert.deepEqual(map.read(0, 100_000), expected.subarray(0, 100_000))
  assert.equal(
    map.read(100_000, 200_000).every((b) => b === 0),
    true,
  )
  map.bytes[299_999] = 9
  map.flushSync()
  assert.equal(fs.readFileSync(file)[299_999], 9)
})

test('a shrinking resize the OS refuses (another view of the file) leaves the file and the map as they were', () => {
  const file = fileOf(128 << 10)
  const expected = fs.readFileSync(file)
  const other = track(openSync(file))
  const map = track(openSync(file, { mode: 'read-write' }))
  const error = caught(() => map.resize(4096))
  assert.equal(error.syscall, 'ftruncate')
  assert.equal(map.length, 128 << 10)
  assert.equal(fs.statSync(file).size, 128 << 10)
  assert.deepEqual(fs.readFileSync(file), expected)
  assert.deepEqual(map.read(0, map.length), expected)
  assert.equal(other.read(0, 4)[3], 3)
})

test('resize of an allocate() map keeps its contents both ways', () => {
  const map = track(allocate(64 << 10))
  map.bytes.fill(5)
  map.resize(16 << 10)
  assert.equal(
    map.read(0, 16 << 10).every((b) => b === 5),
    true,
  )
  map.resize(128 << 10)
  assert.equal(
    map.read(0, 16 << 10).every((b) => b === 5),
    true,
  )
})

test('flushSync and flush with durable: true (FlushViewOfFile + FlushFileBuffers) write the bytes to the file', async () => {
  const file = fileOf(64 << 10)
  const map = track(openSync(file, { mode: 'read-write' }))
  map.write(Buffer.from('durable-sync'), 100)
  map.flushSync({ offset: 0, length: 4096, durable: true })
  assert.equal(fs.readFileSync(file).subarray(100, 112).toString(), 'durable-sync')
  map.write(Buffer.from('durable-async'), 5000)
  await map.flush({ durable: true })
  assert.equal(fs.readFileSync(file).subarray(5000, 5013).toString(), 'durable-async')
  assert.equal(caught(() => map.flushSync({ durable: 'yes' })).code, 'ERR_INVALID_ARG_TYPE')
})

test('durable flush needs the descriptor: ERR_MMAP_UNSUPPORTED with trackFile: false', () => {
  const map = track(openSync(fileOf(4096), { mode: 'read-write', trackFile: false }))
  map.flushSync()
  assert.equal(caught(() => map.flushSync({ durable: true })).code, 'ERR_MMAP_UNSUPPORTED')
})

test('wait, waitAsync and notify throw ERR_MMAP_UNSUPPORTED: no Windows call wakes another map or process', async () => {
  const file = fileOf(4096)
  const map = track(openSync(file, { mode: 'read-write' }))
  for (const call of [() => map.wait(0, 0, 0), () => map.notify(0)]) {
    const error = caught(call)
    assert.equal(error.code, 'ERR_MMAP_UNSUPPORTED')
    assert.match(error.message, /Windows/)
  }
  await assert.rejects(map.waitAsync(0, 0, 0), { code: 'ERR_MMAP_UNSUPPORTED' })
  assert.equal(fs.readFileSync(file).readInt32LE(0), map.view(Int32Array, 0, 1)[0], 'the map still works')
})

test('close() while a task runs waits for nothing; the task finishes on the real pages', async () => {
  const file = fileOf(8 << 20)
  const map = openSync(file, { mode: 'read-write' })
  map.write(Buffer.from([255]), (8 << 20) - 1) // no other byte of the file is 255
  const flushed = map.flush({ durable: true })
  const found = map.indexOfAsync(Buffer.from([255]))
  const prefetched = map.prefetch()
  map.close()
  assert.equal(map.closed, true)
  await flushed
  await prefetched
  const index = await found.catch((error) => error.code)
  assert.ok(index === (8 << 20) - 1 || index === 'ERR_MMAP_CLOSED', String(index))
  assert.equal(fs.readFileSync(file)[(8 << 20) - 1], 255, 'the flush wrote back')
})

test('close() after transfer() succeeds; the moved buffer keeps the view until it is collected', async (t) => {
  if (typeof ArrayBuffer.prototype.transfer !== 'function') return t.skip('no ArrayBuffer.prototype.transfer in this runtime')
  const file = fileOf(64 << 10)
  const live = stats().liveMaps
  const map = openSync(file)
  let moved = map.buffer.transfer()
  map.close()
  assert.equal(map.closed, true)
  assert.equal(stats().liveMaps, live, 'the map left the live count')
  // Windows keeps the view mapped (no placeholder to swap zero pages into): it still shows the file.
  assert.equal(new Uint8Array(moved)[300], 300 % 251)
  // wine refuses to delete a mapped file; Windows 10+ may delete it with POSIX semantics.
  if (!realWindows) assert.throws(() => fs.unlinkSync(file), 'a mapped file cannot be deleted')
  moved = null
  for (let i = 0; i < 5 && fs.existsSync(file); i++) {
    globalThis.gc()
    await new Promise((resolve) => setImmediate(resolve))
    try {
      fs.unlinkSync(file)
    } catch {}
  }
  assert.equal(fs.existsSync(file), false, 'the last finalizer unmapped the view')
})

test("advise('willneed'), populate and prefetch() reach PrefetchVirtualMemory", async () => {
  const file = fileOf(1 << 20)
  const start = binding.readAheadCalls()
  const map = track(openSync(file))
  map.advise('willneed')
  assert.equal(binding.readAheadCalls(), start + 1, 'advise')
  await map.prefetch()
  assert.ok(binding.readAheadCalls() >= start + 2, 'prefetch')
  const before = binding.readAheadCalls()
  const populated = track(openSync(file, { populate: true }))
  assert.equal(populated.length, 1 << 20)
  assert.ok(binding.readAheadCalls() > before, 'populate')
  if (realWindows) assert.equal(map.residency().resident, map.residency().total)
})

test("other hints are no-ops that succeed; 'dontneed' still refuses to discard private pages", () => {
  const map = track(openSync(fileOf(64 << 10)))
  for (const advice of ['normal', 'sequential', 'random', 'dontneed', 'hugepage']) map.advise(advice)
  const cow = track(openSync(fileOf(4096), { mode: 'copy-on-write' }))
  assert.equal(caught(() => cow.advise('dontneed')).code, 'ERR_MMAP_UNSUPPORTED')
})

test("a stray write into a 'read' map lands in a private copy, never in the file", () => {
  const file = fileOf(8192)
  const map = track(openSync(file))
  assert.equal(map.strayWritesFault, false)
  map.bytes[0] = 200
  assert.equal(map.bytes[0], 200)
  assert.equal(fs.readFileSync(file)[0], 0)
})

test("where the commit for a copy-on-write view is refused, 'read' falls back to a read-only view (injected)", () => {
  const file = fileOf(8192)
  binding.setTestHooks(0, true)
  try {
    const map = track(openSync(file))
    assert.equal(map.strayWritesFault, true)
    assert.equal(map.read(1, 1)[0], 1)
  } finally {
    binding.setTestHooks(0, false)
  }
})

test('opening and closing 2,000 maps leaves no mapping behind', () => {
  const file = fileOf(4096)
  const live = stats().liveMaps
  for (let i = 0; i < 2000; i++) openSync(file).close()
  assert.equal(stats().liveMaps, live)
})

test('file locks (LockFileEx): two maps are two holders; ranges; close releases; pending lockFile() resolves after the release', async () => {
  const file = fileOf(8192)
  const a = track(openSync(file, { mode: 'read-write' }))
  const b = track(openSync(file, { mode: 'read-write' }))
  const lock = a.lockFileSync()
  assert.equal(b.tryLockFile({ exclusive: false }), false)
  if (realWindows) {
    // Mandatory for file I/O through other handles: ERROR_LOCK_VIOLATION, EBUSY as node:fs reports it.
    assert.equal(caught(() => fs.readFileSync(file)).code, 'EBUSY')
  }
  assert.equal(a.read(0, 2)[1], 1, "the map's own pages are never checked")
  const pending = b.lockFile({ exclusive: false })
  lock[Symbol.dispose]()
  assert.equal((await pending).exclusive, false)
  assert.equal(a.tryLockFile({ exclusive: false }), true, 'shared locks coexist')
  assert.equal(caught(() => a.lockFileSync()).code, 'ERR_MMAP_UNSUPPORTED', 'overlapping a lock of the same map')
  a.unlockFile()
  b.unlockFile()

  assert.equal(a.tryLockFile({ range: { offset: 0, length: 100 } }), true)
  assert.equal(b.tryLockFile({ range: { offset: 100, length: 100 } }), true, 'the next bytes are free')
  assert.equal(b.tryLockFile({ range: { offset: 99, length: 1 } }), false)
  a.close()
  assert.equal(b.tryLockFile({ range: { offset: 0, length: 99 } }), true, 'released by close()')
  const untracked = track(openSync(file, { mode: 'read-write', trackFile: false }))
  assert.equal(untracked.tryLockFile({ range: { offset: 200, length: 1 } }), true, 'through a handle opened for the purpose')
  assert.equal(b.tryLockFile({ range: { offset: 200, length: 1 } }), false)
})

test('allocate(n, { shared: true }) is a named pagefile-backed section that another process opens by name through share()', () => {
  const memory = track(allocate(100_000, { shared: true }))
  memory.write(Buffer.from('from the parent'), 70_000)
  const token = memory.share()
  assert.equal(token.kind, 'section')
  assert.match(token.name, /^Local\\memmap-\d+-\d+-[0-9a-f]{16}$/)
  assert.deepEqual(JSON.parse(JSON.stringify(token)), token)
  const script = `
    const memmap = require(${JSON.stringify(path.resolve(__dirname, '../../dist/index.js'))})
    const map = memmap.openShared(JSON.parse(process.env.TOKEN))
    if (map.length !== 100000 || map.read(70000, 15).toString() !== 'from the parent') process.exit(3)
    map.write(Buffer.from('from the child'), 99000)
    map.close()
  `
  const child = spawnSync(process.execPath, ['-e', script], { stdio: 'ignore', env: { ...process.env, TOKEN: JSON.stringify(token) } })
  assert.equal(child.status, 0, 'the child saw the section (status 3: it saw other bytes)')
  assert.equal(memory.read(99_000, 14).toString(), 'from the child')
  const narrowed = track(memmap.openShared(token, { mode: 'read' }))
  assert.equal(caught(() => narrowed.write(Buffer.from('x'))).code, 'ERR_MMAP_READ_ONLY')
  narrowed.bytes[0] = 1 // a copy-on-write view: the store stays in this map
  assert.equal(memory.read(0, 1)[0], 0)
  assert.equal(caught(() => memory.resize(200_000)).code, 'ERR_MMAP_UNSUPPORTED', 'a section keeps its size')
  assert.equal(caught(() => memory.lockFileSync()).code, 'ERR_MMAP_UNSUPPORTED')
  memory.close()
  narrowed.close()
  assert.equal(caught(() => memmap.openShared(token)).code, 'ENOENT', 'the section is gone with its last map')
})

test('a file token opens the same range again; a file renamed over since is refused with ERR_MMAP_STALE_TOKEN', () => {
  const file = fileOf(200_000)
  const expected = fs.readFileSync(file)
  const map = openSync(file, { mode: 'read-write', offset: 70_000, length: 1000 })
  const token = map.share()
  assert.equal(token.kind, 'file')
  assert.equal(token.path, path.resolve(file))
  const peer = track(memmap.openShared(structuredClone(token)))
  assert.deepEqual(peer.read(0, 1000), expected.subarray(70_000, 71_000))
  peer.close()
  map.close()
  const replacement = path.join(dir, `replacement-${serial++}`)
  fs.writeFileSync(replacement, expected)
  fs.renameSync(replacement, file)
  assert.equal(caught(() => memmap.openShared(token)).code, 'ERR_MMAP_STALE_TOKEN')
  const fd = fs.openSync(file, 'r')
  try {
    const byFd = track(openSync(fd))
    assert.equal(caught(() => byFd.share()).code, 'ERR_MMAP_UNSUPPORTED', 'a map opened from a descriptor has no path to share')
  } finally {
    fs.closeSync(fd)
  }
})
