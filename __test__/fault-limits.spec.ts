// Fault injection, process limits (issue 10): the descriptor limit (soft and hard, lowered with
// `prlimit` as a prefix: Node raises the soft limit to the hard one at startup, and root here
// lacks CAP_SYS_RESOURCE, so limits can only be lowered), the address-space limit (prlimit --as on
// the child) and the kernel's vm.max_map_count (lowered for one test by withKernelSetting, which
// restores it even if the test is killed). Each case runs in a child whose exit status and signal
// are asserted; the oracles are node:fs's errors under the same limit, /proc/self/limits and the
// file on disk. Maps never closed at the map limit: safety-promises.spec.ts ("100,000 maps opened
// and never closed ... end in ERR_MMAP_LIMIT").
import * as fs from 'node:fs'
import test from 'ava'

import { child, exitedCleanly } from './fault-child'
import { sha256, tempDir, tempFile } from './helpers'
import { withKernelSetting } from './kernel-setting'

const PAGE = 4096
const GIB = 2 ** 30
const dir = tempDir('memmap-limits-')
let count = 0
const newFile = (data: Buffer | number) => tempFile(data, `f${count++}.bin`, dir)

interface FdLimitOut {
  limits: string
  error: { code: string; errno: number; syscall: string } | null
  fsError: { code: string; errno: number; syscall: string } | null
  asyncError: { code: string; errno: number; syscall: string } | null
  byFdError: { code: string } | null
  afterClose: boolean
  untracked: number
  end: { maps: number; fds: number }
}

const FD_LIMIT_BODY = `
  const limits = /Max open files.*/.exec(fs.readFileSync('/proc/self/limits', 'utf8'))[0].replace(/\\s+/g, ' ')
  const maps = []
  let error = null
  while (error === null && maps.length < 100000) {
    try { maps.push(memmap.openSync(file)) } catch (e) { error = { code: e.code, errno: e.errno, syscall: e.syscall } }
  }
  const fsError = thrown(() => fs.openSync(file, 'r'))
  const asyncError = await rejected(memmap.open(file))
  // A descriptor the caller holds cannot be duplicated either (F_DUPFD_CLOEXEC).
  maps.pop().close()
  const fd = fs.openSync(file, 'r')
  const byFdError = thrown(() => memmap.openSync(fd))
  fs.closeSync(fd)
  maps.pop().close()
  let afterClose = false
  try { maps.push(memmap.openSync(file)); afterClose = true } catch {}
  // trackFile: false gives its descriptor back once mapped: far more maps than descriptors.
  for (const m of maps.splice(0)) m.close()
  const untrackedMaps = []
  for (let i = 0; i < 1000; i++) untrackedMaps.push(memmap.openSync(file, { trackFile: false }))
  const untracked = untrackedMaps.length
  for (const m of untrackedMaps) m.close()
  return { limits, error, fsError, asyncError, byFdError, afterClose, untracked, end: fileEntries() }
`

for (const [soft, hard] of [
  [64, 64],
  [32, 96],
] as const) {
  test(`at the descriptor limit (prlimit --nofile=${soft}:${hard}) opening throws EMFILE like fs.openSync, never crashes, and trackFile: false maps need no descriptor (child)`, (t) => {
    const file = newFile(PAGE)
    const r = child<FdLimitOut>(FD_LIMIT_BODY, { file, prefix: ['prlimit', `--nofile=${soft}:${hard}`] })
    exitedCleanly(t, r)
    // Node raised the soft limit to the hard one at startup.
    t.is(r.out.limits, `Max open files ${hard} ${hard} files `)
    t.truthy(r.out.error)
    t.deepEqual(r.out.error, r.out.fsError, 'the same code, errno and syscall as fs.openSync under the limit')
    t.deepEqual(r.out.error, { code: 'EMFILE', errno: -24, syscall: 'open' })
    t.deepEqual(r.out.asyncError, r.out.error, 'open() rejects the same way')
    t.is(r.out.byFdError?.code, 'EMFILE', 'mapping a descriptor at the limit cannot duplicate it')
    t.true(r.out.afterClose, 'closing a map gives its descriptor back')
    t.is(r.out.untracked, 1000)
    t.deepEqual(r.out.end, { maps: 0, fds: 0 }, 'no mapping or descriptor of the file is left')
  })
}

test('under an address-space limit (prlimit --as) opening a 64 GiB file, growing one with size, and allocate() throw ENOMEM from mmap, leaving the files as they were and nothing open (child)', (t) => {
  const big = newFile(0)
  fs.truncateSync(big, 64 * GIB)
  const small = newFile(Buffer.alloc(3 * PAGE, 7))
  const hash = sha256(small)
  // Room for the runtime (about 0.7 GiB of address space at startup here), none for 64 GiB.
  const r = child<Record<string, unknown>>(
    `
    const small = process.env.SMALL
    const before = fs.statSync(small).size
    const out = {
      read: thrown(() => memmap.openSync(file)),
      readWrite: thrown(() => memmap.openSync(file, { mode: 'read-write' })),
      readAsync: await rejected(memmap.open(file)),
      grow: thrown(() => memmap.openSync(small, { mode: 'read-write', size: 64 * 2 ** 30 })),
      allocate: thrown(() => memmap.allocate(32 * 2 ** 30)),
      smallStillMaps: memmap.openSync(small).read(0, 1)[0],
      sizeAfter: fs.statSync(small).size,
      before,
      entries: fileEntries(),
    }
    return out
  `,
    { file: big, env: { SMALL: small }, prefix: ['prlimit', `--as=${4 * GIB}`] },
  )
  exitedCleanly(t, r)
  const enomem = { code: 'ENOMEM', errno: -12, syscall: 'mmap' }
  t.deepEqual(r.out, {
    read: enomem,
    readWrite: enomem,
    readAsync: enomem,
    grow: enomem,
    allocate: enomem,
    smallStillMaps: 7,
    sizeAfter: 3 * PAGE,
    before: 3 * PAGE,
    entries: { maps: 0, fds: 0 },
  })
  t.is(fs.statSync(small).size, 3 * PAGE, 'the file grown by the failed call is cut back to its size')
  t.is(sha256(small), hash)
  t.is(fs.statSync(big).size, 64 * GIB)
})

test.serial(
  'at a lowered vm.max_map_count, open(), allocate() and a ranged advise() that would split a map answer ERR_MMAP_LIMIT, never abort, and work again after closing maps (child; the setting is restored)',
  (t) => {
    const file = newFile(4 * PAGE)
    const before = fs.readFileSync('/proc/sys/vm/max_map_count', 'utf8')
    const r = withKernelSetting('/proc/sys/vm/max_map_count', '8192', () =>
      child<Record<string, unknown>>(
        `
      const maps = []
      let limited = null
      while (limited === null) {
        try { maps.push(memmap.openSync(file, { trackFile: false })) } catch (e) { limited = e.code }
      }
      const asyncOpen = await rejected(memmap.open(file, { trackFile: false }))
      const anon = thrown(() => memmap.allocate(4096))
      const split = thrown(() => maps[0].advise('random', { offset: 4096, length: 4096 }))
      const whole = thrown(() => maps[0].advise('random'))
      for (const m of maps.splice(0, 64)) m.close()
      const again = memmap.openSync(file)
      again.advise('random', { offset: 4096, length: 4096 })
      const readBack = again.read(0, 16).equals(fs.readFileSync(file).subarray(0, 16))
      again.close()
      for (const m of maps) m.close()
      return { opened: maps.length + 64 > 1000, limited, asyncOpen: asyncOpen?.code, anon: anon?.code, split: split?.code, whole, readBack, end: fileEntries() }
    `,
        { file, env: { NODE_NO_WARNINGS: '1' } },
      ),
    )
    t.is(fs.readFileSync('/proc/sys/vm/max_map_count', 'utf8'), before, 'vm.max_map_count is restored')
    exitedCleanly(t, r)
    t.deepEqual(r.out, {
      opened: true,
      limited: 'ERR_MMAP_LIMIT',
      asyncOpen: 'ERR_MMAP_LIMIT',
      anon: 'ERR_MMAP_LIMIT',
      split: 'ERR_MMAP_LIMIT',
      whole: null,
      readBack: true,
      end: { maps: 0, fds: 0 },
    })
  },
)
