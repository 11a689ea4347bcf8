// Shared test helpers: temp files, the kernel's own accounting (/proc), python3 and the extra
// runtimes. Child processes: __test__/child.ts.
import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

export const ROOT = path.resolve(__dirname, '..')

/** A fresh directory under the OS temp dir, removed at process exit. */
export function tempDir(prefix = 'memmap-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Writes `size` random bytes (or the given data) to a new file and returns its path. */
export function tempFile(size: number | Buffer, name = 'data.bin', dir = tempDir()): string {
  const file = path.join(dir, name)
  fs.writeFileSync(file, typeof size === 'number' ? randomBytes(size) : size)
  return file
}

/** Lines of /proc/self/maps, optionally only those naming `file`. */
export function mapsLines(file?: string): string[] {
  const lines = fs.readFileSync('/proc/self/maps', 'utf8').trim().split('\n')
  return file === undefined ? lines : lines.filter((l) => l.endsWith(` ${fs.realpathSync(file)}`) || l.endsWith(` ${file}`))
}

/** Open descriptors of this process (entries of /proc/self/fd). */
export function openFds(): string[] {
  return fs.readdirSync('/proc/self/fd').sort()
}

/** A field of /proc/self/status in kB (e.g. 'RssAnon', 'VmLck'). */
export function statusKb(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'))
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
