// What a map costs in memory, by the kernel's own accounting: RssAnon and VmLck in
// /proc/self/status, Rss, Locked, Anonymous and VmFlags in /proc/self/smaps, fincore for the page
// cache, python3's mlock for the errno.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import { constants } from 'node:os'
import * as path from 'node:path'
import test from 'ava'

import { allocate, allocationGranularity, openSync, pageSize, type Advice, type OpenOptions } from '..'
import { type ChildOptions, exitedCleanly, killedBy, lastReport, runChild } from './child'
import { python, ROOT } from './helpers'
import { withKernelSetting } from './kernel-setting'

const PAGE = 4096
const MIB = 1024 ** 2
const GIB = 1024 ** 3

/** The options SPEC §3 and js/index.ts take but index.d.ts leaves out. */
type FullOptions = OpenOptions & { populate?: boolean; advice?: Advice }

const dirs: string[] = []
process.once('exit', () => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))
function dir(base = path.join(ROOT, '.tmp')): string {
  fs.mkdirSync(base, { recursive: true })
  dirs.push(fs.mkdtempSync(path.join(base, 'memory-')))
  return dirs[dirs.length - 1]
}
function fileOf(data: Buffer, where = dir(), name = 'data.bin'): string {
  fs.writeFileSync(path.join(where, name), data)
  return path.join(where, name)
}

/** python3: writes the file back and drops it from the page cache. */
const EVICT = 'import os, sys\nfd = os.open(sys.argv[1], os.O_RDONLY)\nos.fsync(fd)\nos.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)'
/** Pages of `file` in the page cache, by fincore (util-linux). */
const fincorePages = (file: string) => Number(execFileSync('fincore', ['--noheadings', '--output', 'PAGES', file], { encoding: 'utf8' }).trim())

type Vma = { range: string; size: number; path: string; kb: Record<string, number>; flags: string[] }
function parseSmaps(text = fs.readFileSync('/proc/self/smaps', 'utf8')): Vma[] {
  const vmas: Vma[] = []
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line)
    if (head) vmas.push({ range: `${head[1]}-${head[2]}`, size: parseInt(head[2], 16) - parseInt(head[1], 16), path: head[3], kb: {}, flags: [] })
    const vma = vmas[vmas.length - 1]
    const field = /^(\w+):\s+(\d+) kB$/.exec(line)
    if (field && vma) vma.kb[field[1]] = Number(field[2])
    if (line.startsWith('VmFlags:') && vma) vma.flags = line.slice(8).trim().split(/\s+/)
  }
  return vmas
}
const vmasOf = (file: string, text?: string) => parseSmaps(text).filter((v) => v.path === fs.realpathSync(file))
const sumKb = (vmas: Vma[], field: string) => vmas.reduce((sum, v) => sum + (v.kb[field] ?? 0), 0)

/**
 * Runs `body` (an async function body) in a child (see ./child) that also has `kb(field)`
 * (/proc/self/status) and `smaps()` (all of /proc/self/smaps); `out` is the object the body fills,
 * reported when it ends.
 */
function child(body: string, opts: ChildOptions = {}) {
  const code = String.raw`
    const kb = statusKb
    const smaps = () => fs.readFileSync('/proc/self/smaps', 'utf8')
    const out = {}
    reportAsync(async () => {
      ${body}
      return out
    })
  `
  const r = runChild(code, { timeout: 60_000, ...opts })
  return { ...r, out: (r.status === 0 ? lastReport(r) : {}) as any }
}

let big: string | undefined
/** 1 GiB of allocated blocks (fallocate: real extents reading as zeros, not a sparse hole). */
function bigFile(): string {
  big ??= path.join(dir(), 'big.bin')
  if (!fs.existsSync(big)) python('import os, sys\nfd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)\nos.posix_fallocate(fd, 0, 1 << 30)', [big])
  return big
}

// RssAnon in /proc/self/status is the whole process's anonymous memory, which the runtime moves on
// its own (V8 heap, GC, compiler threads); the map's share of it is exactly the Anonymous field
// of its own smaps entries (pages copied privately), so that is what these tests assert.
test('pageSize and allocationGranularity are what the OS says: getconf PAGESIZE on Linux, for both', (t) => {
  const page = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim())
  t.is(pageSize, page)
  t.is(allocationGranularity, page)
})

test("populate: true maps every page of a 1 GiB 'read' map and adds no anonymous memory (its smaps: Rss 1 GiB, Anonymous 0 kB), in openSync and open", (t) => {
  const file = bigFile()
  const r = child(
    String.raw`
    for (const how of ['openSync', 'open']) {
      const before = kb('RssAnon')
      const map = await memmap[how](process.env.FILE, { populate: true })
      out[how] = { rssAnon: kb('RssAnon') - before, smaps: smaps() }
      map.close()
    }
  `,
    { env: { FILE: file } },
  )
  exitedCleanly(t, r)
  for (const how of ['openSync', 'open']) {
    const vmas = vmasOf(file, r.out[how].smaps)
    t.log(`${how}: RssAnon +${r.out[how].rssAnon} kB, map Rss ${sumKb(vmas, 'Rss')} kB, Anonymous ${sumKb(vmas, 'Anonymous')} kB`)
    t.is(sumKb(vmas, 'Rss'), GIB / 1024, 'every page is mapped')
    t.is(sumKb(vmas, 'Anonymous'), 0, 'no page was copied into private memory: the map adds 0 kB to RssAnon')
    t.deepEqual(
      vmas.map((v) => v.size),
      [GIB],
      'one 1 GiB mapping of the file',
    )
  }
})

test("lock() of a 1 GiB 'read' map raises VmLck by the locked size and adds no anonymous memory (its smaps: Anonymous 0 kB); unlock() lowers VmLck back", (t) => {
  const file = bigFile()
  const r = child(
    String.raw`
    const map = memmap.openSync(process.env.FILE)
    const lck = kb('VmLck'), anon = kb('RssAnon')
    map.lock()
    out.whole = { vmLck: kb('VmLck') - lck, rssAnon: kb('RssAnon') - anon, smaps: smaps() }
    map.unlock()
    const range = { offset: 256 * 1048576 + 1, length: 64 * 1048576 }
    out.unlocked = kb('VmLck') - lck
    map.lock(range), (out.range = kb('VmLck') - lck)
    map.unlock(range), (out.rangeUnlocked = kb('VmLck') - lck)
    map.close()
  `,
    { env: { FILE: file } },
  )
  exitedCleanly(t, r)
  const vmas = vmasOf(file, r.out.whole.smaps)
  t.log(`lock(): VmLck +${r.out.whole.vmLck} kB, RssAnon +${r.out.whole.rssAnon} kB, smaps Locked ${sumKb(vmas, 'Locked')} kB`)
  t.is(r.out.whole.vmLck, GIB / 1024)
  t.is(sumKb(vmas, 'Locked'), GIB / 1024, 'every page is resident and locked')
  t.is(sumKb(vmas, 'Anonymous'), 0, 'no page was copied into private memory: the map adds 0 kB to RssAnon')
  t.deepEqual(
    vmas.map((v) => v.size),
    [GIB],
    'one 1 GiB mapping of the file',
  )
  t.deepEqual([r.out.unlocked, r.out.range, r.out.rangeUnlocked], [0, 64 * 1024 + 4, 0], 'an unaligned 64 MiB range locks the 16385 pages it touches')
})

// Root's CAP_IPC_LOCK ignores RLIMIT_MEMLOCK: dropped from the bounding and inheritable sets, the
// exec'd program has it in no set.
const noIpcLock = (limit: number) => ['setpriv', '--inh-caps=-ipc_lock', '--bounding-set=-ipc_lock', 'prlimit', `--memlock=${limit}:${limit}`]
const PY_MLOCK = `import ctypes, errno, mmap, sys
libc, size, f = ctypes.CDLL(None, use_errno=True), int(sys.argv[2]), open(sys.argv[1], 'rb')
m = mmap.mmap(f.fileno(), size, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
ok = libc.mlock(ctypes.c_void_p(ctypes.addressof(ctypes.c_char.from_buffer(m))), ctypes.c_size_t(size)) == 0
print([l for l in open('/proc/self/status') if l.startswith('CapEff')][0].split()[1], 'OK' if ok else errno.errorcode[ctypes.get_errno()])`
const ipcLockEffective = (capEff: string) => (BigInt(`0x${capEff}`) >> 14n) & 1n

for (const limit of [0, 64 * 1024]) {
  test(`past RLIMIT_MEMLOCK ${limit} without CAP_IPC_LOCK, lock() of 1 MiB fails with the errno python3's mlock gets`, (t) => {
    const file = fileOf(Buffer.alloc(MIB, 1))
    const python3 = execFileSync('setpriv', [...noIpcLock(limit).slice(1), 'python3', '-c', PY_MLOCK, file, String(MIB)], { encoding: 'utf8' })
    const [caps, oracle] = python3.trim().split(' ')
    t.is(ipcLockEffective(caps), 0n)
    t.not(oracle, 'OK')
    const r = child(
      String.raw`
      out.capEff = /^CapEff:\s+(\w+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]
      const map = memmap.openSync(process.env.FILE)
      try { map.lock() } catch (e) { out.error = { isError: e instanceof Error, code: e.code, errno: e.errno, syscall: e.syscall } }
      out.vmLck = kb('VmLck')
      if (Number(process.env.LIMIT) > 0) { map.lock({ length: Number(process.env.LIMIT) / 2 }); out.within = kb('VmLck') }
      map.close()
    `,
      { prefix: noIpcLock(limit), env: { FILE: file, LIMIT: String(limit) } },
    )
    exitedCleanly(t, r)
    t.is(ipcLockEffective(r.out.capEff), 0n, 'CAP_IPC_LOCK is not effective in the child')
    const errno = (constants.errno as Record<string, number>)[oracle]
    t.deepEqual(r.out.error, { isError: true, code: oracle, errno: -errno, syscall: 'mlock' })
    t.log(`limit ${limit}: lock() -> ${r.out.error?.code}; python3 mlock -> ${oracle}`)
    t.is(r.out.vmLck, 0, 'the failed lock locked nothing')
    if (limit > 0) t.is(r.out.within, limit / 2 / 1024, 'a lock within the limit works under the same wrapper')
  })
}

for (const [advice, flag] of [
  ['random', 'rr'],
  ['sequential', 'sr'],
  ['hugepage', 'hg'],
] as const) {
  test(`advice '${advice}' sets the VmFlag '${flag}' on the map, by the open option and by advise()`, (t) => {
    const file = fileOf(Buffer.alloc(3 * PAGE, 1))
    const flags = () => vmasOf(file).map((v) => v.flags.includes(flag))
    const byOption: FullOptions = { advice }
    const opened = openSync(file, byOption)
    t.deepEqual(flags(), [true])
    opened.close()
    using map = openSync(file)
    t.deepEqual(flags(), [false])
    map.advise(advice, { offset: PAGE + 1, length: 1 })
    t.deepEqual(
      vmasOf(file).map((v) => [v.size, v.flags.includes(flag)]),
      [
        [PAGE, false],
        [PAGE, true],
        [PAGE, false],
      ],
      'a range advises its pages',
    )
    map.advise(advice)
    t.deepEqual(flags(), [true])
    if (advice !== 'hugepage') {
      map.advise('normal')
      t.deepEqual(flags(), [false], "'normal' clears it")
    }
  })
}

test("advise('dontneed') throws ERR_MMAP_UNSUPPORTED on 'copy-on-write' and allocate() maps and keeps their data", (t) => {
  const file = fileOf(Buffer.alloc(2 * PAGE, 7))
  using cow = openSync(file, { mode: 'copy-on-write' })
  cow.write(Buffer.from('private'), PAGE)
  using anon = allocate(2 * PAGE)
  anon.write(Buffer.from('anonymous'), PAGE)
  for (const [map, text] of [
    [cow, 'private'],
    [anon, 'anonymous'],
  ] as const) {
    t.throws(() => map.advise('dontneed'), { instanceOf: Error, code: 'ERR_MMAP_UNSUPPORTED' })
    t.throws(() => map.advise('dontneed', { offset: PAGE, length: 1 }), { instanceOf: Error, code: 'ERR_MMAP_UNSUPPORTED' })
    t.is(map.read(PAGE, text.length).toString(), text)
  }
  t.true(fs.readFileSync(file).equals(Buffer.alloc(2 * PAGE, 7)))
})

test("advise('dontneed') on a 'read' map reverts stray writes to the file's bytes, range by range (child)", (t) => {
  const original = Buffer.from(Array.from({ length: 3 * PAGE }, (_, i) => (i * 131) & 0xff))
  const file = fileOf(original)
  const r = child(
    String.raw`
    const map = memmap.openSync(process.env.FILE)
    const bytes = map.bytes
    const state = () => [bytes[10], bytes[2 * 4096 + 5], smaps()]
    bytes[10] ^= 0xff, bytes[2 * 4096 + 5] ^= 0xff, (out.stray = state())
    map.advise('dontneed', { offset: 2 * 4096, length: 4096 }), (out.range = state())
    map.advise('dontneed'), (out.whole = state())
    map.close()
  `,
    { env: { FILE: file } },
  )
  exitedCleanly(t, r)
  const [a, b] = [original[10], original[2 * PAGE + 5]]
  const anonymousKb = (text: string) => sumKb(vmasOf(file, text), 'Anonymous')
  t.deepEqual([...r.out.stray.slice(0, 2), anonymousKb(r.out.stray[2])], [a ^ 0xff, b ^ 0xff, 8], 'two pages copied privately')
  t.deepEqual([...r.out.range.slice(0, 2), anonymousKb(r.out.range[2])], [a ^ 0xff, b, 4], 'the advised page reads the file again')
  t.deepEqual([...r.out.whole.slice(0, 2), anonymousKb(r.out.whole[2])], [a, b, 0])
  t.true(fs.readFileSync(file).equals(original))
})

test('residency() is near 0 after posix_fadvise DONTNEED, total after touching every page, and agrees with fincore', (t) => {
  const pages = 16384
  const file = fileOf(Buffer.alloc(pages * PAGE, 0x5a))
  python(EVICT, [file])
  const dev = fs.statSync(file).dev
  const bdi = `/sys/class/bdi/${(dev >> 8) & 0xfff}:${(dev & 0xff) | ((dev >> 12) & 0xfff00)}/read_ahead_kb`
  const window = (Number(fs.readFileSync(bdi, 'utf8')) * 1024) / PAGE
  using map = openSync(file)
  const cold = [map.residency(), fincorePages(file)] as const
  t.deepEqual([cold[0].total, cold[0].exact], [pages, true])
  t.true(cold[0].resident <= window && Math.abs(cold[0].resident - cold[1]) <= window, `residency ${cold[0].resident}, fincore ${cold[1]}`)
  const bytes = map.bytes
  let sum = 0
  for (let p = 0; p < 1024; p++) sum += bytes[p * PAGE]
  const part = [map.residency(), fincorePages(file)] as const
  t.is(map.residency({ offset: 0, length: 1024 * PAGE }).resident, 1024, 'every touched page is resident')
  t.true(part[0].resident >= 1024 && part[0].resident <= 1024 + 2 * window, `${part[0].resident} pages after touching 1024`)
  t.true(Math.abs(part[0].resident - part[1]) <= window, `residency ${part[0].resident}, fincore ${part[1]}`)
  for (let p = 0; p < pages; p++) sum += bytes[p * PAGE]
  t.is(sum, (pages + 1024) * 0x5a)
  t.deepEqual(map.residency(), { resident: pages, total: pages, exact: true })
  t.is(fincorePages(file), pages)
  t.log(`window ${window} pages; residency/fincore cold ${cold[0].resident}/${cold[1]}, after 1024 pages ${part[0].resident}/${part[1]}`)
})

test('residency() is exact for root and for a user who owns or may write the file, and not for one who may only read it', (t) => {
  const base = dir('/var/tmp')
  fs.chmodSync(base, 0o711) // others may reach the files, not list or read the directory
  for (const [name, mode] of [
    ['rootReadOnly', 0o644],
    ['rootWritable', 0o666],
    ['ownedReadOnly', 0o444],
  ] as const) {
    fs.chmodSync(fileOf(Buffer.alloc(4 * PAGE, 1), base, name), mode)
    python(EVICT, [path.join(base, name)])
    t.is(fincorePages(path.join(base, name)), 0)
  }
  fs.chownSync(path.join(base, 'ownedReadOnly'), 65534, 65534)
  using asRoot = openSync(path.join(base, 'rootReadOnly'))
  t.deepEqual(asRoot.residency(), { resident: 0, total: 4, exact: true })
  const r = child(
    String.raw`
    out.uid = process.getuid()
    for (const name of ['rootReadOnly', 'rootWritable', 'ownedReadOnly']) {
      const map = memmap.openSync(process.env.DIR + '/' + name)
      out[name] = map.residency()
      map.close()
    }
  `,
    { prefix: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'], env: { DIR: base } },
  )
  exitedCleanly(t, r)
  t.is(r.out.uid, 65534)
  // Linux reports every page of a file the caller may neither write nor owns as resident.
  t.deepEqual(r.out.rootReadOnly, { resident: 4, total: 4, exact: false }, 'fincore says 0: the count is not the page cache')
  t.deepEqual(r.out.rootWritable, { resident: 0, total: 4, exact: true })
  t.deepEqual(r.out.ownedReadOnly, { resident: 0, total: 4, exact: true })
})

test('allocate(n) is zero-filled, writable, read-write and has no path', (t) => {
  const n = 3 * PAGE + 5
  using map = allocate(n)
  t.deepEqual([map.path, map.mode, map.length, map.hugePages], [null, 'read-write', n, false])
  t.true(Buffer.from(map.bytes).equals(Buffer.alloc(n)))
  t.true(map.read(0, n).equals(Buffer.alloc(n)))
  const expected = Buffer.alloc(n).fill(0xee, n - 1)
  expected.write('anonymous', PAGE)
  map.bytes[n - 1] = 0xee
  t.is(map.write(Buffer.from('anonymous'), PAGE), 9)
  t.true(map.read(0, n).equals(expected))
  t.true(Buffer.from(map.bytes).equals(expected))
})

test('allocate(n, { hugePages: true }) reports the huge pages /proc/self/smaps shows (child)', (t) => {
  // The mapping is found by its address (a test-build hook), never by what else the runtime mapped.
  const r = child(
    String.raw`
    const hooks = require(process.env.MEMMAP_ROOT + '/native-test/binding.js')
    const map = memmap.allocate(8 * 1048576, { hugePages: true })
    out.address = hooks.lastMappedAddress()
    map.bytes.fill(1), (out.hugePages = map.hugePages), (out.smaps = smaps())
    map.close()
  `,
    { env: { MEMMAP_TEST_BINDING: '1' } },
  )
  exitedCleanly(t, r)
  const start = (r.out.address as number).toString(16)
  const fresh = parseSmaps(r.out.smaps).filter((v) => v.range.split('-')[0] === start)
  t.is(fresh.length, 1, `the mapping at 0x${start}`)
  t.true(fresh[0].size >= 8 * MIB)
  const thp = fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8')
  t.log(`hugePages ${r.out.hugePages}; VmFlags ${fresh[0].flags.join(' ')}; AnonHugePages ${fresh[0].kb.AnonHugePages} kB; THP ${thp.trim()}`)
  if (r.out.hugePages === 'hugetlb') {
    t.true(fresh[0].flags.includes('ht'), 'a hugetlb VMA')
  } else if (r.out.hugePages === 'thp') {
    t.deepEqual([fresh[0].flags.includes('ht'), fresh[0].flags.includes('hg')], [false, true], 'MADV_HUGEPAGE, not hugetlb')
    if (!thp.includes('[never]')) t.true(fresh[0].kb.AnonHugePages > 0, 'some of it is backed by huge pages')
  } else {
    t.is(r.out.hugePages, false)
    t.false(fresh[0].flags.includes('ht') || fresh[0].flags.includes('hg'))
  }
})

test('with a hugetlb pool, allocate(n, { hugePages: true }) of any length is hugetlb, zero-filled, and unmapped by close() (child)', (t) => {
  const knob = '/proc/sys/vm/nr_hugepages'
  const previous = fs.readFileSync(knob, 'utf8').trim()
  // 16 MiB of 2 MiB pages, for this test only: restored even if the test is killed.
  withKernelSetting(knob, String(Number(previous) + 8), () => {
    t.true(Number(fs.readFileSync(knob, 'utf8')) >= Number(previous) + 4, 'the kernel reserved huge pages')
    const r = child(
      String.raw`
      const hugetlb = () => smaps().split(/\n(?=[0-9a-f]+-)/).filter((e) => /^VmFlags:.*\bht\b/m.test(e)).length
      out.rows = JSON.parse(process.env.LENGTHS).map((n) => {
        const base = hugetlb()
        const map = memmap.allocate(n, { hugePages: true })
        const row = { n, hugePages: map.hugePages, zero: Buffer.from(map.bytes).equals(Buffer.alloc(n)), mapped: hugetlb() - base }
        map.bytes.fill(1)
        row.filled = map.read(0, n).equals(Buffer.alloc(n, 1))
        map.close()
        row.afterClose = hugetlb() - base
        return row
      })
    `,
      { env: { LENGTHS: JSON.stringify([2 * MIB, 4 * MIB, 3 * MIB, PAGE + 1]) } },
    )
    exitedCleanly(t, r)
    for (const row of r.out.rows) {
      t.deepEqual(row, { n: row.n, hugePages: 'hugetlb', zero: true, mapped: 1, filled: true, afterClose: 0 }, `allocate(${row.n})`)
    }
  })
})

test("a store through a view after protect('read') dies with SIGSEGV; protect('read-write') restores stores (children)", (t) => {
  const file = fileOf(Buffer.alloc(2 * PAGE, 3))
  const body = (restore: boolean) => String.raw`
    const map = memmap.openSync(process.env.FILE, { mode: 'read-write' })
    const bytes = map.bytes
    map.protect('read')
    process.stderr.write('read ' + bytes[4097] + '\n')
    ${restore ? "map.protect('read-write')" : ''}
    bytes[4097] = 9
    process.stderr.write('stored\n')
    map.flushSync()
    map.close()
  `
  const crash = child(body(false), { env: { FILE: file } })
  killedBy(t, crash, 'SIGSEGV', "the store after protect('read') faults")
  t.true(crash.stderr.includes('read 3'), 'reads still work')
  t.false(crash.stderr.includes('stored'))
  t.true(fs.readFileSync(file).equals(Buffer.alloc(2 * PAGE, 3)))
  const restored = child(body(true), { env: { FILE: file } })
  exitedCleanly(t, restored)
  t.is(fs.readFileSync(file)[PAGE + 1], 9)
  for (const mode of ['read', 'copy-on-write'] as const) {
    using map = openSync(file, { mode })
    t.throws(() => map.protect('read'), { instanceOf: Error, code: 'ERR_MMAP_UNSUPPORTED' })
  }
})
