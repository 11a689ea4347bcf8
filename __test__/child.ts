// The one way tests run code in a child process: a runtime (this one by default) with
// __test__/child-prelude.cjs preloaded, so the code can use `memmap`, `fs`, `report(value)`,
// `thrown(fn)` and the /proc helpers listed there. Exit status, signal and stderr are asserted by
// `exitedCleanly` and `killedBy`, whose messages carry the signal, the status and the stderr tail.
// `runChild` runs a child to its end; `converse` talks with one line by line while both run.
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process'
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
  /** Descriptors of this process the child gets as its descriptors 3, 4, ... (`converse` only). */
  fds?: number[]
}

export interface ChildResult {
  status: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** The runtime command that runs `code` with the prelude, as `runChild` runs it. */
function childArgv(code: string, opts: ChildOptions): string[] {
  // Deno runs its own binary given node's flags (`-e`, `--expose-gc`) but drops `-r`: there the
  // prelude is required by the code itself.
  const deno = opts.runtime === undefined && process.versions.deno !== undefined
  const preload = deno ? [] : ['-r', PRELUDE]
  if (deno) code = `require(${JSON.stringify(PRELUDE)});\n${code}`
  return [...(opts.prefix ?? []), opts.runtime ?? process.execPath, ...preload, ...(opts.args ?? []), '-e', code]
}

function childEnv(opts: ChildOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, MEMMAP_ROOT: ROOT }
  if (opts.file !== undefined) env.MAP_FILE = opts.file
  return env
}

/** Runs `code` (CommonJS unless `--input-type=module` is among `args`) in a child; never asserts. */
export function runChild(code: string, opts: ChildOptions = {}): ChildResult {
  const argv = childArgv(code, opts)
  const r = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, encoding: 'utf8', env: childEnv(opts), timeout: opts.timeout ?? 120_000, maxBuffer: 64 << 20 })
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
}

/** A process the test talks with while both run: it writes lines to stdout, the test answers on its stdin. */
export interface Conversation {
  /** The next line the process writes; rejects (with its stderr) if it ends first. */
  next(): Promise<string>
  /** Writes `line` to its stdin. */
  send(line: string): void
  /** Closes its stdin and resolves with how it ended. */
  end(): Promise<ChildResult>
}

/**
 * Starts `argv` (a Python process, say) for a conversation. With `code` instead, runs that code on
 * this runtime with the prelude, as `runChild` does, where `say(line)` and `nextLine()` talk.
 */
export function converse(argvOrCode: string[] | string, opts: ChildOptions = {}): Conversation {
  const argv = typeof argvOrCode === 'string' ? childArgv(argvOrCode, opts) : argvOrCode
  const child = spawn(argv[0], argv.slice(1), {
    cwd: ROOT,
    env: childEnv(opts),
    timeout: opts.timeout ?? 120_000,
    stdio: ['pipe', 'pipe', 'pipe', ...(opts.fds ?? [])],
  }) as ChildProcessWithoutNullStreams
  let stdout = ''
  let stderr = ''
  let unread = ''
  const lines: string[] = []
  const waiting: Array<{ resolve: (line: string) => void; reject: (error: Error) => void }> = []
  const ended = new Promise<ChildResult>((resolve) => {
    child.on('close', (status, signal) => {
      for (const w of waiting.splice(0)) w.reject(new Error(`child ended before saying more: status ${status}, signal ${signal}\n${stderr.slice(-4000)}`))
      resolve({ status, signal, stdout, stderr })
    })
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    const parts = (unread + chunk).split('\n')
    unread = parts.pop() ?? ''
    for (const line of parts) {
      const w = waiting.shift()
      if (w) w.resolve(line)
      else lines.push(line)
    }
  })
  return {
    next: () => {
      const line = lines.shift()
      if (line !== undefined) return Promise.resolve(line)
      if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(new Error(`child ended: ${stderr.slice(-4000)}`))
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }))
    },
    send: (line) => void child.stdin.write(line + '\n'),
    end: () => {
      child.stdin.end()
      return ended
    },
  }
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
