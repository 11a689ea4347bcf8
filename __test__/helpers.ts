// Shared test helpers: temp files, the kernel's own accounting (/proc), python3, the extra
// runtimes and the Linux-only marks (linuxOnly). Child processes: __test__/child.ts.
import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import { namedFacilities } from './linux-only.cjs'

export const ROOT = path.resolve(__dirname, '..')

/** Whether the tests run on Linux: Linux-only tests are skipped everywhere else (under wine, say). */
export const LINUX = process.platform === 'linux'

/**
 * A fresh directory under the OS temp dir, removed at process exit. On Windows a file that is still
 * mapped (a view not yet collected when the process ends) cannot be removed: there the directory
 * is left to the OS temp dir.
 */
export function tempDir(prefix = 'memmap-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  process.once('exit', () => {
    try {
      fs.rmSync(dir, { recursive: true, force: true })
    } catch (error) {
      if (LINUX) throw error
    }
  })
  return dir
}

/** /proc/self/<name>; throws off Linux, where a test reading it must be marked linuxOnly (wine maps \proc to the emulator's own, an oracle that would always agree). */
export function procSelf(name: string): string {
  if (!LINUX) throw new Error(`/proc/self/${name} exists on Linux only: mark the test linuxOnly(test, '/proc/self/${name}')`)
  return `/proc/self/${name}`
}

/** Writes `size` random bytes (or the given data) to a new file and returns its path. */
export function tempFile(size: number | Buffer, name = 'data.bin', dir = tempDir()): string {
  const file = path.join(dir, name)
  fs.writeFileSync(file, typeof size === 'number' ? randomBytes(size) : size)
  return file
}

/** Lines of /proc/self/maps, optionally only those naming `file`. */
export function mapsLines(file?: string): string[] {
  const lines = fs.readFileSync(procSelf('maps'), 'utf8').trim().split('\n')
  return file === undefined ? lines : lines.filter((l) => l.endsWith(` ${fs.realpathSync(file)}`) || l.endsWith(` ${file}`))
}

/** Open descriptors of this process (entries of /proc/self/fd). */
export function openFds(): string[] {
  return fs.readdirSync(procSelf('fd')).sort()
}

/** A field of /proc/self/status in kB (e.g. 'RssAnon', 'VmLck'). */
export function statusKb(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(procSelf('status'), 'utf8'))
  if (!m) throw new Error(`no ${field} in /proc/self/status`)
  return Number(m[1])
}

export function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

/** Runs python3 with `code` and returns stdout. Throws on failure. */
export function python(code: string, args: string[] = []): string {
  const r = spawnSync('python3', ['-c', code, ...args], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`python3 failed (${r.status}): ${r.stderr}`)
  return r.stdout
}

/** A runtime installed into the scratch prefix by scripts/runtimes.mjs (`npm test` does it first),
 * found through its table, scripts/runtimes.json. */
export function runtimeBinary(name: 'node22' | 'node24' | 'node26' | 'bun' | 'deno'): string {
  const runtimes = JSON.parse(fs.readFileSync(path.join(ROOT, 'scripts', 'runtimes.json'), 'utf8')) as Record<string, { pkg: string; bin: string }>
  const { pkg, bin: inPackage } = runtimes[name]
  const bin = path.join(ROOT, '.runtimes', name, 'node_modules', pkg, inPackage)
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`node scripts/runtimes.mjs\` first`)
  return bin
}

/** ava's `test` or `test.serial`: what linuxOnly wraps. */
interface Registrar {
  (title: string, ...rest: never[]): void
  skip: (title: string, ...rest: never[]) => void
}

/**
 * `register` (ava's `test` or `test.serial`) for a test that needs a Linux facility: on Linux the
 * test runs as any other; elsewhere it is skipped, its title ending in "[Linux-only: reason]" so
 * that the skip says why. `reason` must name the facility (a /proc file, a tool, a signal...; see
 * __test__/linux-only.cjs); a mark that names none throws here, and scripts/check-linux-only.mjs
 * (run by npm test) reports it without running the spec.
 *
 *   linuxOnly(test, '/proc/self/maps')('a closed map is gone from /proc/self/maps', (t) => ...)
 */
export function linuxOnly<R extends Registrar>(register: R, reason: string): R {
  if (namedFacilities(reason).length === 0)
    throw new Error(`linuxOnly(${JSON.stringify(reason)}): the reason names no Linux facility (__test__/linux-only.cjs)`)
  if (LINUX) return register
  const skip = (title: string, ...rest: never[]) => register.skip(`${title} [Linux-only: ${reason}]`, ...rest)
  return Object.assign(skip, { skip }) as unknown as R
}
