// A child process for the fault-injection specs: runs an async body with `memmap`, `fs`, `file`
// (env FILE), `thrown(fn)` (the error's code, errno and syscall, or null), `fileEntries()` (the
// child's /proc/self/maps and /proc/self/fd entries naming FILE) and `collect()` (gc), and returns
// its exit status, signal, stderr and the body's result (JSON on the last stdout line).
import type { ExecutionContext } from 'ava'

import { runChild } from './helpers'

export interface Outcome<T> {
  status: number | null
  signal: NodeJS.Signals | null
  stderr: string
  out: T
}

export interface ChildOptions {
  env?: NodeJS.ProcessEnv
  prefix?: string[]
  node?: string
  args?: string[]
}

export const PRELUDE = `
  const memmap = require(process.env.MEMMAP_ROOT)
  const fs = require('node:fs')
  const file = process.env.FILE
  const thrown = (fn) => { try { fn(); return null } catch (e) { return { code: e.code ?? String(e), errno: e.errno, syscall: e.syscall } } }
  const rejected = (p) => p.then(() => null, (e) => ({ code: e.code ?? String(e), errno: e.errno, syscall: e.syscall }))
  const collect = globalThis.gc ?? (() => Bun.gc(true))
  const real = file ? fs.realpathSync(file) : null
  const fileEntries = () => ({
    maps: fs.readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.endsWith(' ' + real) || l.endsWith(' ' + real + ' (deleted)')).length,
    fds: fs.readdirSync('/proc/self/fd').filter((fd) => { try { const t = fs.readlinkSync('/proc/self/fd/' + fd); return t === real || t === real + ' (deleted)' } catch { return false } }).length,
  })
`

/** Runs `body` (the body of an async function) in a child of this runtime, or of `opts.node`. */
export function child<T>(body: string, opts: ChildOptions & { file?: string } = {}): Outcome<T> {
  const code = `${PRELUDE}
    ;(async () => { ${body} })().then(
      (out) => process.stdout.write('\\n' + JSON.stringify(out ?? null) + '\\n'),
      (e) => { console.error(e); process.exit(70) })
  `
  const bun = (opts.node ?? process.execPath).includes('bun')
  const args = opts.args ?? (bun || process.versions.bun ? [] : ['--expose-gc'])
  const r = runChild(code, { node: opts.node, args, env: { ...opts.env, ...(opts.file ? { FILE: opts.file } : {}) }, prefix: opts.prefix, timeout: 300_000 })
  const last = r.stdout.trim().split('\n').at(-1) ?? ''
  let out: T | undefined
  try {
    out = JSON.parse(last) as T
  } catch {
    out = undefined
  }
  return { status: r.status, signal: r.signal, stderr: r.stderr, out: out as T }
}

export function exitedCleanly(t: ExecutionContext, r: Outcome<unknown>): void {
  t.deepEqual([r.status, r.signal], [0, null], `child exited ${r.status} by ${r.signal}: ${r.stderr.slice(-3000)}`)
}
