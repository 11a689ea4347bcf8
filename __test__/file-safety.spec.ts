// File safety (issue 10): a 'read' or 'copy-on-write' map never writes its file (mtime, ctime,
// size and sha256 unchanged after any sequence of calls and stray stores, fast-check generated);
// `create` honours the umask and `permissions` as open(2) does; symlinks behave as in fs.open.
// node:fs is the oracle throughout: the same open through fs.openSync, in the same process.
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'
import fc from 'fast-check'

import { openSync, type MappedFile } from '..'
import { child, exitedCleanly } from './fault-child'
import { sha256, tempDir } from './helpers'

const PAGE = 4096
const dir = tempDir('memmap-file-safety-')
let count = 0
const collect = (globalThis as { gc?: () => void }).gc ?? (() => (globalThis as unknown as { Bun: { gc(full: boolean): void } }).Bun.gc(true))
// Dropped maps warn when collected (MEMMAP_UNCLOSED): expected here, so not printed.
process.removeAllListeners('warning')
process.on('warning', (w) => {
  if ((w as { code?: string }).code !== 'MEMMAP_UNCLOSED') console.warn(w)
})

/** What may not change: the file's bytes, size and times. */
function fingerprint(file: string): { sha: string; size: number; mtimeNs: bigint; ctimeNs: bigint } {
  const s = fs.statSync(file, { bigint: true })
  return { sha: sha256(file), size: Number(s.size), mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs }
}

const STEPS = [
  'strayStore',
  'fill',
  'write',
  'readInto',
  'advise',
  'dontneed',
  'lock',
  'flush',
  'flushAsync',
  'prefetch',
  'remap',
  'search',
  'close',
  'drop',
] as const

test("200 random sequences of calls and stray stores on 'read' and 'copy-on-write' maps never change the file's bytes, size, mtime or ctime", async (t) => {
  const runs = Number(process.env.MEMMAP_FC_RUNS_FILE_SAFETY ?? 200)
  const property = fc.asyncProperty(
    fc.nat({ max: 6 * PAGE }),
    fc.array(
      fc.record({ step: fc.constantFrom(...STEPS), mode: fc.constantFrom<'read' | 'copy-on-write'>('read', 'copy-on-write'), a: fc.nat(), b: fc.nat() }),
      {
        maxLength: 30,
        size: 'max',
      },
    ),
    async (size, steps) => {
      const file = path.join(dir, `r${count++}.bin`)
      fs.writeFileSync(file, Buffer.alloc(size, 0x3c))
      // The clock's granularity must not hide a write: stat before and after a wait is the same file.
      const before = fingerprint(file)
      const maps: MappedFile[] = []
      try {
        for (const s of steps) {
          if (maps.length === 0 || s.a % 5 === 0) maps.push(openSync(file, { mode: s.mode, offset: s.b % (size + 1), populate: s.a % 3 === 0 }))
          const map = maps[s.a % maps.length]
          const n = map.length
          const at = n === 0 ? 0 : s.b % n
          switch (s.step) {
            case 'strayStore':
              if (n > 0) map.view(Uint8Array)[at] = s.a & 0xff
              break
            case 'fill':
              if (n > 0) map.bytes.fill(0xff, at)
              break
            case 'write':
              if (map.mode === 'read')
                t.is(
                  codeOf(() => map.write(Buffer.from([1]), 0)),
                  'ERR_MMAP_READ_ONLY',
                )
              else map.write(Buffer.alloc(n - at, 9), at)
              break
            case 'readInto':
              map.readInto(map.view(Uint8Array, at), 0)
              break
            case 'advise':
              map.advise(['normal', 'sequential', 'random', 'willneed', 'hugepage'][s.a % 5] as 'normal', { offset: at, length: n - at })
              break
            case 'dontneed':
              // Locked pages refuse MADV_DONTNEED (EINVAL, the model test checks it): unlock first.
              if (map.mode === 'read') {
                map.unlock()
                map.advise('dontneed')
              }
              break
            case 'lock':
              map.lock()
              if (s.a & 1) map.unlock()
              break
            case 'flush':
              map.flushSync()
              break
            case 'flushAsync':
              await map.flush({ offset: at, length: n - at })
              break
            case 'prefetch':
              await map.prefetch()
              break
            case 'remap':
              map.remap()
              break
            case 'search':
              map.indexOf(0xff, at)
              await map.indexOfAsync(0x3c, { from: at })
              break
            case 'close':
              maps.splice(maps.indexOf(map), 1)[0].close()
              break
            case 'drop':
              maps.splice(maps.indexOf(map), 1)
              break
          }
        }
        for (const m of maps.splice(0)) await m[Symbol.asyncDispose]()
        collect()
        await new Promise((resolve) => setImmediate(resolve))
        const after = fingerprint(file)
        if (after.sha !== before.sha || after.size !== before.size || after.mtimeNs !== before.mtimeNs || after.ctimeNs !== before.ctimeNs) {
          throw new Error(`the file changed: ${JSON.stringify({ before, after }, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`)
        }
      } finally {
        for (const m of maps) m.close()
        fs.rmSync(file, { force: true })
      }
    },
  )
  await fc.assert(property, { numRuns: runs, seed: process.env.MEMMAP_FC_SEED === undefined ? undefined : Number(process.env.MEMMAP_FC_SEED) })
  t.pass()
})

function codeOf(fn: () => unknown): string | null {
  try {
    fn()
    return null
  } catch (error) {
    return (error as { code?: string }).code ?? String(error)
  }
}

test('create honours the umask and permissions exactly as fs.openSync(path, "w+", permissions) does (child per umask)', (t) => {
  for (const umask of [0o022, 0o077, 0o000, 0o027]) {
    const r = child<{ rows: [string, number, number][] }>(
      `
      process.umask(Number(process.env.UMASK))
      const dir = process.env.DIR
      const rows = []
      for (const permissions of [undefined, 0o666, 0o644, 0o600, 0o640, 0o755, 0o400]) {
        const name = (permissions ?? 'default').toString(8) + '-' + process.env.UMASK
        const mine = dir + '/m-' + name, theirs = dir + '/f-' + name
        memmap.openSync(mine, { mode: 'read-write', create: true, size: 4096, ...(permissions === undefined ? {} : { permissions }) }).close()
        fs.closeSync(fs.openSync(theirs, 'w+', permissions ?? 0o666))
        rows.push([name, fs.statSync(mine).mode & 0o7777, fs.statSync(theirs).mode & 0o7777])
      }
      return { rows }
    `,
      { env: { UMASK: String(umask), DIR: dir } },
    )
    exitedCleanly(t, r)
    for (const [name, mine, theirs] of r.out.rows) t.is(mine.toString(8), theirs.toString(8), `permissions-umask ${name}`)
  }
  t.is(fs.statSync(path.join(dir, `m-default-${0o022}`)).mode & 0o777, 0o644, 'umask 0o022: 0644')
  t.is(fs.statSync(path.join(dir, `m-default-${0o077}`)).mode & 0o777, 0o600, 'umask 0o077: 0600')
})

/** The code fs.openSync(p, flags) throws, or 'ok' (closing what it opened). */
function fsOutcome(p: string, flags: string): string {
  try {
    fs.closeSync(fs.openSync(p, flags))
    return 'ok'
  } catch (error) {
    return (error as { code: string }).code
  }
}

function mapOutcome(p: string, options: Parameters<typeof openSync>[1]): string {
  try {
    openSync(p, options).close()
    return 'ok'
  } catch (error) {
    return (error as { code: string }).code
  }
}

test('a symlink to a file maps the target: reads it, writes reach it, and the link stays a link', (t) => {
  const target = path.join(dir, `target${count++}.bin`)
  fs.writeFileSync(target, Buffer.alloc(PAGE, 0x61))
  const link = path.join(dir, `link${count++}`)
  fs.symlinkSync(target, link)
  const map = openSync(link, { mode: 'read-write' })
  t.is(map.path, link)
  t.true(map.read(0, PAGE).equals(fs.readFileSync(link)))
  map.write(Buffer.from('via link'), 0)
  map.close()
  t.is(fs.readFileSync(target).subarray(0, 8).toString(), 'via link')
  t.true(fs.lstatSync(link).isSymbolicLink())
})

test('dangling, looping and directory symlinks behave as fs.openSync with the matching flags', (t) => {
  const rows: [string, string, string][] = []
  const fresh = () => path.join(dir, `s${count++}`)
  // A dangling link: read and plain read-write fail as fs 'r' / 'r+'; create makes the target as 'w+'; 'exclusive' fails as 'wx+'.
  for (const [options, flags] of [
    [{ mode: 'read' }, 'r'],
    [{ mode: 'read-write' }, 'r+'],
    [{ mode: 'read-write', create: true }, 'w+'],
    [{ mode: 'read-write', create: 'exclusive' }, 'wx+'],
  ] as const) {
    const [a, b] = [fresh(), fresh()]
    fs.symlinkSync(`${a}-target`, a)
    fs.symlinkSync(`${b}-target`, b)
    rows.push([`dangling ${JSON.stringify(options)}`, mapOutcome(a, options), fsOutcome(b, flags)])
    t.is(fs.existsSync(`${a}-target`), fs.existsSync(`${b}-target`), `the target exists afterwards for both, or for neither (${flags})`)
    if (fs.existsSync(`${a}-target`)) t.is(fs.statSync(`${a}-target`).mode, fs.statSync(`${b}-target`).mode)
    t.true(fs.lstatSync(a).isSymbolicLink())
  }
  // A loop, and a link to a directory.
  const loop = fresh()
  fs.symlinkSync(loop, loop)
  rows.push(['loop read', mapOutcome(loop, { mode: 'read' }), fsOutcome(loop, 'r')])
  rows.push(['loop create', mapOutcome(loop, { mode: 'read-write', create: true }), fsOutcome(loop, 'w+')])
  const toDir = fresh()
  fs.symlinkSync(dir, toDir)
  rows.push(['directory read-write', mapOutcome(toDir, { mode: 'read-write' }), fsOutcome(toDir, 'r+')])
  for (const [what, mine, theirs] of rows) t.is(mine, theirs, what)
  t.deepEqual(
    rows.map((r) => r[1]),
    ['ENOENT', 'ENOENT', 'ok', 'EEXIST', 'ELOOP', 'ELOOP', 'EISDIR'],
  )
  t.is(mapOutcome(toDir, { mode: 'read' }), 'EISDIR', "a directory through a link is EISDIR in 'read' mode too")
})

// Regression (found by the symlink test above): create: true tried O_EXCL after a plain open
// failed, and O_EXCL refuses a dangling symlink (EEXIST), so the retry without create failed with
// ENOENT where fs.openSync(path, 'w+') creates the link's target.
test("create: true through a dangling symlink creates the link's target as fs.openSync(path, 'w+') does instead of failing with ENOENT, and a failed call unlinks that target, not the link", (t) => {
  const link = path.join(dir, `dangling${count++}`)
  fs.mkdirSync(`${link}-dir`)
  fs.symlinkSync(path.basename(`${link}-dir`) + '/../' + path.basename(`${link}-target`), link) // relative, through a directory
  const map = openSync(link, { mode: 'read-write', create: true, size: PAGE })
  map.write(Buffer.from('made'), 0)
  map.close()
  t.is(fs.readFileSync(`${link}-target`).subarray(0, 4).toString(), 'made')
  t.true(fs.lstatSync(link).isSymbolicLink())

  fs.unlinkSync(`${link}-target`)
  t.is(mapOutcome(link, { mode: 'read-write', create: true, size: PAGE, offset: 2 * PAGE }), 'ERR_OUT_OF_RANGE')
  t.false(fs.existsSync(`${link}-target`), 'the target this call created is unlinked again')
  t.true(fs.lstatSync(link).isSymbolicLink(), 'the link itself is left alone')
})
