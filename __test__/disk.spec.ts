// A full disk, on a small tmpfs mounted by the test (root only): growing with `allocate: true`
// past the free space fails now with ENOSPC and leaves the file as it was; without it the file
// grows sparse and a store into a hole that finds no free block dies with SIGBUS (in a child).
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import test, { type ExecutionContext } from 'ava'

import { open, openSync, type OpenOptions } from '..'
import { exitedCleanly, killedBy, runChild } from './child'
import { sha256 } from './helpers'

const MIB = 1 << 20
const PAGE = 4096

/**
 * Mounts a fresh `size`-byte tmpfs and returns its path, unmounted in teardown. Returns null
 * (after logging why) only when not root or when the kernel refuses the mount with EPERM.
 */
function mountTmpfs(t: ExecutionContext, size = 8 * MIB): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    t.log(`skipped: mounting a tmpfs needs root (uid ${process.getuid?.() ?? 'unknown'})`)
    return null
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-disk-'))
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' })
  if (r.status !== 0) {
    fs.rmdirSync(dir)
    if (/permission denied|not permitted|EPERM|must be superuser/i.test(`${r.stderr}${r.error?.message ?? ''}`)) {
      t.log(`skipped: mount -t tmpfs failed with EPERM: ${r.stderr.trim()}`)
      return null
    }
    throw new Error(`mount -t tmpfs failed (${r.status}): ${r.stderr}${r.error?.message ?? ''}`)
  }
  t.teardown(() => {
    const u = spawnSync('umount', [dir], { encoding: 'utf8' })
    if (u.status !== 0) spawnSync('umount', ['-l', dir])
    fs.rmdirSync(dir)
  })
  t.is(fs.statfsSync(dir).type, 0x01021994, 'the directory is a tmpfs')
  return dir
}

/** Free bytes on the file system holding `dir`. */
function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir)
  return s.bavail * s.bsize
}

/** Fills `dir` until `leave` bytes are free. */
function fillUntil(dir: string, leave: number): void {
  fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc(freeBytes(dir) - leave, 0xaa))
}

/** The ENOSPC error node:fs throws on this file system, for comparison. */
function fsEnospc(dir: string): NodeJS.ErrnoException {
  const probe = path.join(dir, 'enospc-probe')
  const fd = fs.openSync(probe, 'w')
  const chunk = Buffer.alloc(MIB)
  try {
    // write(2) returns short counts while space lasts, then fails.
    for (let i = 0; i < 1024; i++) fs.writeSync(fd, chunk)
  } catch (error) {
    return error as NodeJS.ErrnoException
  } finally {
    fs.closeSync(fd)
    fs.unlinkSync(probe)
  }
  throw new Error('fs.writeSync past the free space did not fail')
}

function snapshot(file: string): { size: number; blocks: number; sha: string } {
  const s = fs.statSync(file)
  return { size: s.size, blocks: s.blocks, sha: sha256(file) }
}

test("growing with allocate: true past the free space fails with ENOSPC (syscall 'fallocate') and leaves the file as it was", async (t) => {
  const dir = mountTmpfs(t)
  if (dir === null) return t.pass()
  const file = path.join(dir, 'data.bin')
  fs.writeFileSync(file, randomBytes(5000))
  fillUntil(dir, 2 * MIB)
  const expected = fsEnospc(dir)
  t.is(expected.code, 'ENOSPC')
  const before = snapshot(file)
  const freeBefore = freeBytes(dir)
  t.true(freeBefore < 4 * MIB)

  const options: OpenOptions & { allocate: boolean } = { mode: 'read-write', size: 6 * MIB, allocate: true }
  const error = t.throws<NodeJS.ErrnoException>(() => openSync(file, options), { instanceOf: Error, code: 'ENOSPC' })
  // On Deno, fs.writeSync's ENOSPC error has the code but neither the errno nor the message of
  // Node's: there memmap's are checked against the constants and the text only.
  const nodeFs = process.versions.deno === undefined
  if (nodeFs) t.is(error?.errno, expected.errno)
  t.is(error?.errno, -os.constants.errno.ENOSPC)
  t.is(error?.syscall, 'fallocate')
  t.is(error?.path, file)
  t.is(error?.message, `ENOSPC: no space left on device, fallocate '${file}'`)
  if (nodeFs) t.true(error?.message.startsWith(expected.message.split(',')[0] + ','), 'the same description as node:fs')
  t.deepEqual(snapshot(file), before, 'size, blocks and contents unchanged')
  t.is(freeBytes(dir), freeBefore, 'no blocks leaked')

  const asyncError = await t.throwsAsync<NodeJS.ErrnoException>(open(file, options), { instanceOf: Error, code: 'ENOSPC' })
  t.is(asyncError?.syscall, 'fallocate')
  t.is(asyncError?.path, file)
  t.deepEqual(snapshot(file), before, 'open() leaves it as it was too')
  t.is(freeBytes(dir), freeBefore)

  // With an offset and a length inside the old size: the growth still fails as a whole.
  t.throws(() => openSync(file, { ...options, offset: 4097, length: 10 }), { code: 'ENOSPC' })
  t.deepEqual(snapshot(file), before)
})

test('a file created by a call whose allocate: true growth fails with ENOSPC is unlinked', (t) => {
  const dir = mountTmpfs(t)
  if (dir === null) return t.pass()
  fillUntil(dir, 1 * MIB)
  const file = path.join(dir, 'new.bin')
  const options: OpenOptions & { allocate: boolean } = { mode: 'read-write', create: true, size: 4 * MIB, allocate: true }
  t.throws(() => openSync(file, options), { code: 'ENOSPC' })
  t.false(fs.existsSync(file))
  t.deepEqual(fs.readdirSync(dir), ['filler'])
})

test('with allocate: true the blocks are reserved: stores into every page succeed after the disk fills up (child)', (t) => {
  const dir = mountTmpfs(t)
  if (dir === null) return t.pass()
  const file = path.join(dir, 'reserved.bin')
  fs.writeFileSync(file, 'head')
  fillUntil(dir, 3 * MIB)
  const code = `
    const fs = require('node:fs')
    const { openSync } = require(process.env.MEMMAP_ROOT)
    const map = openSync(${JSON.stringify(file)}, { mode: 'read-write', size: ${2 * MIB}, allocate: true })
    // Now fill the disk completely: nothing is left for a lazily allocated block.
    try { fs.writeFileSync(${JSON.stringify(path.join(dir, 'rest'))}, Buffer.alloc(${4 * MIB})) } catch (e) { if (e.code !== 'ENOSPC') throw e }
    const bytes = map.bytes
    for (let i = 4; i < bytes.length; i += ${PAGE}) bytes[i] = 7
    map.flushSync()
    map.close()
    process.stdout.write('stored')
  `
  const r = runChild(code, { timeout: 60_000 })
  exitedCleanly(t, r)
  t.is(r.stdout, 'stored')
  const data = fs.readFileSync(file)
  t.is(data.length, 2 * MIB)
  t.is(data.subarray(0, 4).toString(), 'head')
  t.is(data[4 + PAGE], 7)
  t.is(data[2 * MIB - PAGE + 4], 7)
})

test('without allocate the file grows sparse and a store into a hole on a full disk dies with SIGBUS (child)', (t) => {
  const dir = mountTmpfs(t)
  if (dir === null) return t.pass()
  const file = path.join(dir, 'sparse.bin')
  const head = randomBytes(5000)
  fs.writeFileSync(file, head)
  fillUntil(dir, 2 * MIB)
  const freeBefore = freeBytes(dir)

  const size = 16 * MIB // far beyond the free space: no error, the file is sparse
  const map = openSync(file, { mode: 'read-write', size })
  t.is(map.length, size)
  map.close()
  const st = fs.statSync(file)
  t.is(st.size, size)
  t.true(st.blocks * 512 < 64 * 1024, `sparse: ${st.blocks} blocks allocated`)
  t.is(freeBytes(dir), freeBefore)

  // The child logs each page it stored to a regular file off the full disk, synchronously: pipe
  // writes may be asynchronous (Node) or refuse with EAGAIN (Bun), and SIGBUS would lose them.
  const progress = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-disk-log-')), 'progress')
  t.teardown(() => fs.rmSync(path.dirname(progress), { recursive: true, force: true }))
  const code = `
    const fs = require('node:fs')
    const { openSync } = require(process.env.MEMMAP_ROOT)
    const log = fs.openSync(${JSON.stringify(progress)}, 'w')
    const map = openSync(${JSON.stringify(file)}, { mode: 'read-write' })
    const bytes = map.bytes
    fs.writeSync(log, 'mapped ' + bytes.length + '\\n')
    for (let page = 2; page < bytes.length / ${PAGE}; page++) {
      bytes[page * ${PAGE}] = 1 // each store allocates a block of the hole
      fs.writeSync(log, page + '\\n')
    }
    fs.writeSync(log, 'no fault\\n')
  `
  const r = runChild(code, { timeout: 60_000 })
  const logged = fs.readFileSync(progress, 'utf8')
  killedBy(t, r, 'SIGBUS', 'the store into a hole on a full disk faults')
  const lines = logged.trim().split('\n')
  t.is(lines[0], `mapped ${size}`)
  t.false(logged.includes('no fault'))
  const lastStored = Number(lines[lines.length - 1])
  t.true(Number.isInteger(lastStored))
  // The stores that succeeded used up the free space, no more, no less than a few pages.
  const stored = (lastStored - 1) * PAGE
  t.true(stored > freeBefore - 256 * 1024 && stored <= freeBefore, `stored ${stored} bytes of ${freeBefore} free`)
  t.true(lastStored < size / PAGE - 1, 'the fault came before the end of the map')
  t.is(freeBytes(dir), 0, 'the disk is full')
  const after = fs.readFileSync(file)
  t.is(after.length, size)
  t.true(after.subarray(0, head.length).equals(head))
})
