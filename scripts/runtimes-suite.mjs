// The test suite on the pinned extra runtimes: the whole ava suite on Node 22, 24 and 26 (ava runs
// itself on each), and the spec files of RUNNER_SPECS on Bun and Deno through
// scripts/spec-runner.mjs (ava needs Node).
// Each runtime's version is printed and checked against scripts/runtimes.mjs first. Prints one
// result line per runtime, e.g. `node22 v22.23.3: 240 passed, 0 failed`, plus the failing tests'
// details; the full TAP of each runtime goes to .tmp/runtimes-suite/<runtime>.tap. Exits non-zero
// if any test failed, a runner failed, a version differs, or a runtime ran no test.
//
//   node scripts/runtimes-suite.mjs [node22] [node24] [node26] [bun] [deno]    (default: all five)
//
// Run it on Node 20, the machine's Node: specs that need a Node 20 child (large.spec.ts) find it in
// MEMMAP_NODE20, set here to this process's binary.
import { spawn, spawnSync } from 'node:child_process'
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { install, RUNTIMES, runtimeBinary } from './runtimes.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const logDir = join(root, '.tmp', 'runtimes-suite')
const NODES = ['node22', 'node24', 'node26']

/**
 * The spec files run on Bun and Deno: the core behaviour (read, write, close, errors, counters), the
 * package's entries, and every other spec that needs no Node-only API. Not here: flush.spec.ts
 * (one test pins open() and flush() to libuv's thread pool with UV_THREADPOOL_SIZE=1, which Bun
 * and Deno do not use), install.spec.ts (the generated loader on Node, with a --require preload
 * faking another platform) and large.spec.ts (its scenarios are Node 20 and Node 24 children by
 * definition), and the fault-* specs (prlimit semantics of Node's startup, libuv's pool and
 * worker_threads; their Bun case, transfer() then close(), runs as a Bun child from
 * fault-lifecycle.spec.ts).
 */
const RUNNER_SPECS = [
  'read',
  'write',
  'close',
  'errors',
  'counters',
  'entries',
  'permissions',
  'lifecycle',
  'resize',
  'search',
  'bounded-search',
  'prefetch',
  'view-or-copy',
  'truncation',
  'memory',
  'disk',
  'electron',
  'bun',
  'safety-promises',
  'safety-edges',
  'view-cache',
  'model',
  'aliased-maps',
  'file-safety',
  'file-locks',
  'share',
]

/** The specs of RUNNER_SPECS that cannot run on a runtime, each with the reason. */
const EXCLUDED = {
  bun: {},
  deno: {},
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const ava = JSON.parse(readFileSync(join(root, 'node_modules', 'ava', 'package.json'), 'utf8'))
const avaCli = join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs')
const specRunner = join(root, 'scripts', 'spec-runner.mjs')

/**
 * How scripts/spec-runner.mjs starts on a runtime: ava's nodeArguments less the TypeScript loader
 * (Bun and Deno run .ts themselves); on Deno as V8 flags, with every permission and the project's
 * node_modules read as npm left them (`nodeModulesDir: manual`; no deno.json here).
 */
function runnerArgs(name) {
  const nodeArgs = (pkg.ava?.nodeArguments ?? []).filter((a) => !a.startsWith('--import=tsx') && a !== '--import' && a !== 'tsx')
  if (name === 'bun') return [...nodeArgs, specRunner]
  return ['run', '-A', '--node-modules-dir=manual', ...nodeArgs.map((a) => `--v8-flags=${a}`), specRunner]
}

/** Whether `version` (x.y.z) satisfies an npm engines range made of `^x[.y[.z]]`, `>=x[.y[.z]]` and `x.y.z` joined by `||`. */
export function satisfies(version, range) {
  const parse = (v) => v.replace(/^v/, '').split('.').map(Number).concat([0, 0, 0]).slice(0, 3)
  const compare = (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]
  const v = parse(version)
  return range.split('||').some((part) => {
    const p = part.trim()
    let m
    if ((m = /^\^(\d+(?:\.\d+){0,2})$/.exec(p))) return v[0] === parse(m[1])[0] && compare(v, parse(m[1])) >= 0
    if ((m = /^>=\s*(\d+(?:\.\d+){0,2})$/.exec(p))) return compare(v, parse(m[1])) >= 0
    if ((m = /^(\d+\.\d+\.\d+)$/.exec(p))) return compare(v, parse(m[1])) === 0
    throw new Error(`cannot read the engines range part ${JSON.stringify(p)} of ${JSON.stringify(range)}`)
  })
}

/** Runs `cmd args`, streaming stdout lines to `onLine` and both streams to `log`; resolves with the exit code. */
function run(cmd, args, env, log, onLine) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let rest = ''
    child.stdout.on('data', (chunk) => {
      log.write(chunk)
      const lines = (rest + chunk).split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) onLine(line)
    })
    child.stdout.on('end', () => rest && onLine(rest))
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      log.write(chunk)
      stderr = (stderr + chunk).slice(-4000)
    })
    child.on('error', (error) => resolve({ code: 127, stderr: String(error) }))
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), signal, stderr }))
  })
}

/** Counts TAP results and prints each failing test with its YAML block. */
function tapCounter() {
  const tally = { passed: 0, failed: 0 }
  let inFailure = false
  tally.onLine = (line) => {
    if (/^ok \d+/.test(line)) {
      tally.passed++
      inFailure = false
    } else if (/^not ok\b/.test(line)) {
      tally.failed++
      inFailure = true
      console.log(`  ${line}`)
    } else if (inFailure) {
      if (/^\S/.test(line) && !line.startsWith('#')) inFailure = false
      else console.log(`  ${line}`)
    }
  }
  return tally
}

function versionOf(bin, args) {
  const r = spawnSync(bin, args, { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : `(failed: ${r.error ?? r.stderr.trim()})`
}

const env = { ...process.env }
if (process.versions.node.split('.')[0] === '20') env.MEMMAP_NODE20 = process.execPath
else if (!env.MEMMAP_NODE20)
  console.log(`warning: this runner runs on Node ${process.version}, not 20; specs that need a Node 20 child will fail unless MEMMAP_NODE20 is set`)

const named = process.argv.slice(2)
const wanted = named.length ? named : [...NODES, 'bun', 'deno']
for (const name of wanted) if (!(name in RUNTIMES)) throw new Error(`unknown runtime ${name}; known: ${Object.keys(RUNTIMES).join(', ')}`)
install(wanted)
mkdirSync(logDir, { recursive: true })

const results = []
const started = process.hrtime.bigint()
for (const name of wanted) {
  const bin = runtimeBinary(name)
  const pinned = RUNTIMES[name].version
  const runtimeEnv = { ...env, PATH: `${dirname(bin)}${delimiter}${env.PATH ?? ''}` }
  const log = createWriteStream(join(logDir, `${name}.tap`))
  const t0 = process.hrtime.bigint()
  const tally = tapCounter()
  let label
  let problems = []
  if (name === 'bun' || name === 'deno') {
    // `bun --version` prints 1.4.5; `deno --version` prints `deno 2.9.6 (stable, ...)` and more lines.
    const version = versionOf(bin, ['--version']).replace(/^deno (\S+)[^]*$/, '$1')
    label = `${name} ${version} (core specs)`
    console.log(`\n=== ${name}: ${bin} reports ${version}; pinned ${pinned}`)
    if (version !== pinned) problems.push(`version ${version} is not the pinned ${pinned}`)
    else {
      for (const [spec, reason] of Object.entries(EXCLUDED[name])) console.log(`  skipped ${spec}.spec.ts: ${reason}`)
      for (const spec of RUNNER_SPECS.filter((s) => !(s in EXCLUDED[name]))) {
        const file = join('__test__', `${spec}.spec.ts`)
        const before = tally.passed + tally.failed
        const r = await run(bin, [...runnerArgs(name), file], runtimeEnv, log, tally.onLine)
        if (r.code !== 0 && tally.failed === 0) problems.push(`${file}: exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n${r.stderr}`)
        if (tally.passed + tally.failed === before) problems.push(`${file}: no test ran`)
      }
    }
  } else {
    const version = versionOf(bin, ['-p', 'process.version'])
    label = `${name} ${version}`
    console.log(`\n=== ${name}: ${bin} reports ${version}; pinned v${pinned}`)
    if (version !== `v${pinned}`) problems.push(`version ${version} is not the pinned v${pinned}`)
    else if (!satisfies(pinned, ava.engines.node)) problems.push(`ava ${ava.version} does not support Node ${pinned} (it needs ${ava.engines.node})`)
    else {
      const r = await run(bin, [avaCli, '--tap'], runtimeEnv, log, tally.onLine)
      if (r.code !== 0 && tally.failed === 0) problems.push(`ava exited ${r.code}${r.signal ? ` (${r.signal})` : ''} with no failing test\n${r.stderr}`)
    }
  }
  log.end()
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  for (const p of problems) console.log(`  problem: ${p}`)
  console.log(`=== ${name} took ${seconds.toFixed(1)} s (full TAP: ${join('.tmp', 'runtimes-suite', `${name}.tap`)})`)
  results.push({ label, ...tally, excluded: Object.keys(EXCLUDED[name] ?? {}), problems, seconds })
}

const total = Number(process.hrtime.bigint() - started) / 1e9
console.log(`\nruntimes (${total.toFixed(1)} s):`)
for (const r of results)
  console.log(
    `${r.label}: ${r.passed} passed, ${r.failed} failed${r.excluded.length ? `; not run: ${r.excluded.map((s) => `${s}.spec.ts`).join(', ')} (reasons above)` : ''}${r.problems.length ? ` (${r.problems.length} runner problem${r.problems.length > 1 ? 's' : ''})` : ''}`,
  )
if (results.some((r) => r.failed > 0 || r.passed === 0 || r.problems.length > 0)) process.exit(1)
