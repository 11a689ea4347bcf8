'use strict'
// The macOS branches of crates/node/src/os/unix.rs, on the workflow's macOS hosts only (nothing
// here can run macOS code; scripts/cross.mjs only clippys it). node:test, like the Windows file.
// Loads the test-hooks build (MEMMAP_TEST_BINDING=1: native-test/). The oracle is node:fs.
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { after, test } = require('node:test')

const memmap = require('../../dist/index.js')
const binding = require('../../native-test/binding.js')

const { allocate, open, openSync } = memmap
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-macos-'))
after(() => fs.rmSync(dir, { recursive: true, force: true }))

let serial = 0
function fileOf(size) {
  const file = path.join(dir, `f${serial++}.bin`)
  const bytes = Buffer.alloc(size)
  for (let i = 0; i < size; i++) bytes[i] = i % 251
  fs.writeFileSync(file, bytes)
  return file
}

test('pageSize and allocationGranularity are the page size getconf reports', () => {
  assert.equal(process.platform, 'darwin')
  const page = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim())
  assert.equal(memmap.pageSize, page)
  assert.equal(memmap.allocationGranularity, page)
})

test('allocate(n, { hugePages: true }) reports false: macOS gets ordinary pages', () => {
  const map = allocate(4 << 20, { hugePages: true })
  assert.equal(map.hugePages, false)
  map.close()
})

test("lock() (mlock) of a 'read' map makes every page resident; unlock() succeeds", () => {
  const map = openSync(fileOf(1 << 20))
  map.lock()
  const r = map.residency()
  assert.equal(r.resident, r.total)
  map.unlock()
  map.close()
})

test('allocate: true (F_PREALLOCATE) grows the file with blocks behind it', () => {
  const file = path.join(dir, 'allocated.bin')
  const map = openSync(file, { mode: 'read-write', create: true, size: 8 << 20, allocate: true })
  const stat = fs.statSync(file)
  assert.equal(stat.size, 8 << 20)
  assert.ok(stat.blocks * 512 >= 8 << 20, `${stat.blocks} blocks`)
  map.close()
})

test('flush({ durable: true }) (F_FULLFSYNC) and a shrinking and growing resize keep the bytes', async () => {
  const file = fileOf(256 << 10)
  const expected = fs.readFileSync(file)
  const map = openSync(file, { mode: 'read-write' })
  map.write(Buffer.from('durable'), 10)
  map.flushSync({ durable: true })
  await map.flush({ durable: true })
  assert.equal(fs.readFileSync(file).subarray(10, 17).toString(), 'durable')
  map.resize(100_000)
  assert.equal(fs.statSync(file).size, 100_000)
  assert.deepEqual(map.read(20, 1000), expected.subarray(20, 1020))
  map.resize(300_000)
  assert.equal(fs.statSync(file).size, 300_000)
  map.close()
})

test("populate and advise('willneed') reach madvise; a descriptor and a FileHandle map the file", async () => {
  const file = fileOf(1 << 20)
  const start = binding.readAheadCalls()
  const fd = fs.openSync(file, 'r')
  const map = openSync(fd, { populate: true })
  map.advise('willneed')
  assert.equal(binding.readAheadCalls(), start + 1)
  assert.deepEqual(map.read(0, 100), fs.readFileSync(file).subarray(0, 100))
  map.close()
  fs.closeSync(fd)
  const handle = await fs.promises.open(file, 'r')
  const viaHandle = await open(handle)
  assert.equal(viaHandle.length, 1 << 20)
  viaHandle.close()
  await handle.close()
})

test('file locks (flock): two maps are two holders; whole files only; close releases; pending lockFile() resolves after the release', async () => {
  const file = fileOf(8192)
  const a = openSync(file, { mode: 'read-write' })
  const b = openSync(file, { mode: 'read-write' })
  const lock = a.lockFileSync()
  assert.equal(b.tryLockFile({ exclusive: false }), false)
  const pending = b.lockFile({ exclusive: false })
  lock[Symbol.dispose]()
  assert.equal((await pending).exclusive, false)
  assert.equal(a.tryLockFile({ exclusive: false }), true, 'shared locks coexist')
  assert.throws(() => a.lockFileSync({ range: { offset: 0, length: 10 } }), { code: 'ERR_MMAP_UNSUPPORTED' })
  a.unlockFile()
  b.unlockFile()
  a.lockFileSync()
  a.close()
  assert.equal(b.tryLockFile(), true, 'released by close()')
  // flock locks and Python's fcntl.flock see each other.
  const r = execFileSync(
    'python3',
    [
      '-c',
      "import fcntl,sys\nf=open(sys.argv[1],'rb')\ntry:\n  fcntl.flock(f, fcntl.LOCK_SH|fcntl.LOCK_NB); print('free')\nexcept OSError: print('locked')",
      file,
    ],
    {
      encoding: 'utf8',
    },
  )
  assert.equal(r.trim(), 'locked')
  b.close()
})

test('allocate(n, { shared: true }) is an unlinked shm object: a child maps it through a descriptor in stdio; it keeps its size', () => {
  const { spawnSync } = require('node:child_process')
  const memory = allocate(16384, { shared: true })
  memory.write(Buffer.from('from the parent'), 10000)
  const token = memory.share()
  assert.equal(token.kind, 'shm')
  const script = `
    const map = require(${JSON.stringify(path.resolve(__dirname, '../../dist/index.js'))}).openShared(JSON.parse(process.env.TOKEN), { fd: 3 })
    if (map.read(10000, 15).toString() !== 'from the parent') process.exit(3)
    map.write(Buffer.from('from the child'), 20)
    map.close()
  `
  const child = spawnSync(process.execPath, ['-e', script], {
    stdio: ['ignore', 'inherit', 'inherit', token.fd],
    env: { ...process.env, TOKEN: JSON.stringify(token) },
  })
  assert.equal(child.status, 0)
  assert.equal(memory.read(20, 14).toString(), 'from the child')
  assert.equal(fs.fstatSync(token.fd).size, 16384)
  assert.throws(() => memory.resize(32768), { code: 'ERR_MMAP_UNSUPPORTED' })
  assert.throws(() => memmap.openShared({ ...token, pid: token.pid + 1 }), { code: 'ERR_MMAP_UNSUPPORTED' }, 'no /proc: the descriptor must travel in stdio')
  memory.close()
})
