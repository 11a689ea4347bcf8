// The one way tests run code in a child process: a runtime (this one by default) with
// __test__/child-prelude.cjs preloaded, so the code can use `memmap`, `fs`, `report(value)`,
// `thrown(fn)` and the /proc helpers listed there. Exit status, signal and stderr are asserted by
// `exitedCleanly` and `killedBy`, whose messages carry the signal, the status and the stderr tail.
import { spawnSync } from 'node:child_process'
import * as path from 'node:path'
import type { ExecutionContext } from 'ava'

import { ROOT } from './helpers'

export const PRELUDE = path.join(__dirname, 'child-prelude.cjs')

export interface ChildOptions {
  /** The runtime binary; default this process's (node, or bun or deno under the spec runner). */
  runtime?: string
  /** Runtime arguments before `-e` (e.g. --expose-gc, another -r). */
  args?: string[]
  /** A command the runtime runs under (e.g. setpriv ...). */
  prefix?: string[]
  env?: NodeJS.ProcessEnv
  /** The file the prelude's `file`, `fileMaps()` and `fileFds()` refer to (MAP_FILE). */
  file?: string
  /** Default 120 s. */
  timeout?: number
}

export interface ChildResult {
  status: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs `code` (CommonJS unless `--input-type=module` is among `args`) in a child; never asserts. */
export function runChild(code: string, opts: ChildOptions = {}): ChildResult {
  // Deno runs its own binary given node's flags (`-e`, `--expose-gc`) but drops `-r`: there the
  // prelude is required by the code itself.
  const deno = opts.runtime === undefined && process.versions.deno !== undefined
  const preload = deno ? [] : ['-r', PRELUDE]
  if (deno) code = `require(${JSON.stringify(PRELUDE)});\n${code}`
  const argv = [...(opts.prefix ?? []), opts.runtime ?? process.execPath, ...preload, ...(opts.args ?? []), '-e', code]
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, MEMMAP_ROOT: ROOT }
  if (opts.file !== undefined) env.MAP_FILE = opts.file
  const r = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, encoding: 'utf8', env, timeout: opts.timeout ?? 120_000, maxBuffer: 64 << 20 })
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
}

/** The command that runs the program `file` as a main module on this runtime (on Deno: `deno run`
 * with every permission and node_modules read as npm left them, as scripts/runtimes-suite.mjs runs). */
export function mainCommand(file: string): string[] {
  return process.versions.deno === undefined ? [process.execPath, file] : [process.execPath, 'run', '-A', '--node-modules-dir=manual', file]
}

const ended = (r: ChildResult) => `child ended with status ${r.status}, signal ${r.signal}\n${r.stderr.slice(-4000)}`

/** Asserts the child exited with status 0 and no signal. */
export function exitedCleanly(t: ExecutionContext, r: ChildResult): void {
  t.is(r.signal, null, ended(r))
  t.is(r.status, 0, ended(r))
}

/** Asserts the child was killed by `signal` (so it has no exit status). */
export function killedBy(t: ExecutionContext, r: ChildResult, signal: NodeJS.Signals, message: string): void {
  t.is(r.signal, signal, `${message}: ${ended(r)}`)
  t.is(r.status, null, `${message}: ${ended(r)}`)
}

/** The child's report: its last line of stdout, parsed as JSON. */
export function lastReport<T>(r: ChildResult): T {
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as T
}

/** Runs `code` in a child, asserts it exited cleanly and returns its report. */
export function child<T>(t: ExecutionContext, code: string, opts: ChildOptions = {}): T {
  const r = runChild(code, opts)
  exitedCleanly(t, r)
  return lastReport<T>(r)
}
