// The fault-injection specs' children, on the shared harness (./child and its prelude): `body` is
// the body of an async function whose return value is the report. Besides the prelude's globals
// it has `thrown(fn)` and `rejected(promise)` as { code, errno, syscall } (or null), `file` (env
// FILE) and `fileEntries()`: the child's /proc/self/maps and /proc/self/fd entries naming FILE,
// deleted or not.
import { type ChildResult, exitedCleanly, lastReport, runChild } from './child'

export { exitedCleanly }

export interface Outcome<T> extends ChildResult {
  /** The report; undefined when the child printed none (its status says why). */
  out: T
}

export interface FaultChildOptions {
  env?: NodeJS.ProcessEnv
  prefix?: string[]
  /** The runtime binary; default this process's. */
  node?: string
  args?: string[]
  file?: string
}

const BODY_PRELUDE = `
  const file = process.env.FILE
  const describe = (e) => ({ code: e.code ?? String(e), errno: e.errno, syscall: e.syscall })
  const thrown = (fn) => { try { fn(); return null } catch (e) { return describe(e) } }
  const rejected = (p) => p.then(() => null, describe)
  const real = file ? fs.realpathSync(file) : null
  const named = (target) => target === real || target === real + ' (deleted)'
  const fileEntries = () => ({
    maps: mapsLines().filter((l) => named(l.slice(l.indexOf('/')))).length,
    fds: fds().filter((fd) => { try { return named(fs.readlinkSync('/proc/self/fd/' + fd)) } catch { return false } }).length,
  })
`

/** Runs `body` in a child of this runtime (or of `opts.node`) with --expose-gc on Node. */
export function child<T>(body: string, opts: FaultChildOptions = {}): Outcome<T> {
  const bun = (opts.node ?? process.execPath).includes('bun')
  const args = opts.args ?? (bun || process.versions.bun ? [] : ['--expose-gc'])
  const env = { ...opts.env, ...(opts.file ? { FILE: opts.file } : {}) }
  const r = runChild(`${BODY_PRELUDE}\nreportAsync(async () => { ${body} })`, { runtime: opts.node, args, env, prefix: opts.prefix, timeout: 300_000 })
  let out: T | undefined
  try {
    out = lastReport<T>(r)
  } catch {
    out = undefined
  }
  return { ...r, out: out as T }
}
