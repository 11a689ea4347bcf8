// `npm run test:package`: a user's first minute, checked. Packs the main package and one platform
// package (`npm pack`), installs both tarballs into a fresh project outside the repo with a PATH
// that holds no compiler (no cargo, rustc, cc, gcc, g++, make or python), and there runs, on each
// runtime, a CommonJS `require` program, an ESM `import` program, a `using` program and `tsc
// --noEmit` on TypeScript consumers (nodenext .cts and .mts, and moduleResolution bundler). Every
// program maps a file, reads, writes, flushes and closes, and checks the bytes against node:fs.
// The programs and their tsconfigs are the files of scripts/test-package/.
//
//   node scripts/test-package.mjs               npm run build, pack, test on this Node (20 here),
//                                               and Node 22, 24, 26 and Bun from .runtimes/
//   --no-build                                  use the current native/ and dist/ (check.mjs's build)
//   --pack-only DIR                             CI build job: pack and check the tarballs into DIR, test nothing
//   --from DIR                                  CI test job: test the tarballs in DIR (default runtime: this one)
//   --platform NAME                             the platform package (default: this host's, e.g. linux-x64-gnu)
//   --runtimes a,b                              node20, node22, node24, node26, bun
//   --keep                                      keep the temporary project
import { spawnSync } from 'node:child_process'
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'

import { install, RUNTIMES, runtimeBinary } from './runtimes.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const CONSUMERS = join(root, 'scripts', 'test-package')
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const isWindows = process.platform === 'win32'
const exe = isWindows ? '.exe' : ''
const FORBIDDEN = ['cargo', 'rustc', 'cc', 'c++', 'gcc', 'g++', 'clang', 'make', 'python', 'python3', 'cl']

const args = parseArgs(process.argv.slice(2))
const platform = args.platform ?? hostPlatform()
let failures = 0
let passes = 0

// 1. The tarballs: packed here, or handed over by the CI build job.
let tarballs
if (args.from) {
  tarballs = findTarballs(resolve(args.from))
} else {
  if (!args['no-build'] && !args['pack-only']) run('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
  const out = args['pack-only'] ? resolve(args['pack-only']) : mkdtempSync(join(tmpdir(), 'memmap-tarballs-'))
  if (!args['pack-only']) process.on('exit', () => rmSync(out, { recursive: true, force: true }))
  tarballs = pack(out)
}
checkTarballs(tarballs)
if (args['pack-only']) process.exit(0)

// 2. A fresh consumer project, installed with a PATH that holds node and npm and no compiler.
const project = mkdtempSync(join(tmpdir(), 'memmap-consumer-'))
try {
  const versions = installProject(project, tarballs)
  const usingBuild = compileUsing(project)
  // 3. Each runtime runs each consumer.
  for (const runtime of runtimes()) testRuntime(project, runtime, versions, usingBuild)
} finally {
  if (args.keep || failures > 0) console.log(`consumer project kept at ${project}`)
  else rmSync(project, { recursive: true, force: true })
}
console.log(`test:package: ${passes} passed, ${failures} failed`)
process.exit(failures === 0 ? 0 : 1)

function parseArgs(argv) {
  const out = {}
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '')
    if (['no-build', 'keep'].includes(name)) out[name] = true
    else if (['pack-only', 'from', 'platform', 'runtimes'].includes(name) && i + 1 < argv.length) out[name] = argv[++i]
    else throw new Error(`unknown argument ${argv[i]}`)
  }
  return out
}

/** This host in napi's platform naming, as the generated loader picks the package. */
function hostPlatform() {
  const { platform: os, arch } = process
  if (os === 'linux') {
    let musl
    try {
      musl = readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
    } catch {
      musl = !(/** @type {{ header: { glibcVersionRuntime?: string } }} */ (process.report.getReport()).header.glibcVersionRuntime)
    }
    return `linux-${arch}-${musl ? 'musl' : 'gnu'}`
  }
  return os === 'win32' ? `win32-${arch}-msvc` : `${os}-${arch}`
}

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts })
  if (r.error) throw r.error
  if (r.status !== 0) {
    throw new Error(`${cmd} ${argv.join(' ')} failed (exit ${r.status ?? r.signal})\n${r.stdout ?? ''}${r.stderr ?? ''}`)
  }
  return r
}

/** The machine's npm as a script for node (`npm` on PATH may be a shell wrapper). */
function npmCli() {
  const candidates = [
    process.env.npm_execpath,
    join(dirname(process.execPath), 'node_modules', 'npm', 'bin', 'npm-cli.js'),
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
  ]
  const found = candidates.find((p) => p && p.endsWith('npm-cli.js') && existsSync(p))
  if (!found) throw new Error(`npm-cli.js not found next to ${process.execPath}`)
  return found
}

function npmPack(dir, destination) {
  const r = run(process.execPath, [npmCli(), 'pack', '--json', '--pack-destination', destination], { cwd: dir, env: cleanEnv(process.env.PATH) })
  const [info] = JSON.parse(r.stdout.slice(r.stdout.indexOf('[')))
  return { file: join(destination, info.filename), size: info.size, unpackedSize: info.unpackedSize, entries: info.entryCount }
}

/** Packs the main package (the repo) and the platform package (npm/<platform> plus its binary). */
function pack(out) {
  mkdirSync(out, { recursive: true })
  const main = npmPack(root, out)
  const binary = `${manifest.napi.binaryName}.${platform}.node`
  if (!existsSync(join(root, 'native', binary))) throw new Error(`native/${binary} is missing: build it first (npm run build)`)
  const stage = mkdtempSync(join(tmpdir(), 'memmap-platform-'))
  try {
    for (const name of readdirSync(join(root, 'npm', platform))) copyFileSync(join(root, 'npm', platform, name), join(stage, name))
    copyFileSync(join(root, 'native', binary), join(stage, binary)) // what `napi artifacts` does at publish
    return { main, platform: npmPack(stage, out) }
  } finally {
    rmSync(stage, { recursive: true, force: true })
  }
}

function findTarballs(dir) {
  const version = manifest.version
  const platformName = `${manifest.napi.packageName.replace('@', '').replace('/', '-')}-${platform}-${version}.tgz`
  const describe = (name) => {
    const file = join(dir, name)
    if (!existsSync(file)) throw new Error(`${file} is missing`)
    const entries = readTarball(file)
    return { file, size: statSync(file).size, unpackedSize: [...entries.values()].reduce((n, b) => n + b.length, 0), entries: entries.size }
  }
  return { main: describe(`${manifest.name}-${version}.tgz`), platform: describe(platformName) }
}

/** The files of an npm tarball (gzip'd ustar), by path. */
function readTarball(file) {
  const tar = gunzipSync(readFileSync(file))
  const files = new Map()
  let longName = null
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512)
    if (header.every((b) => b === 0)) break
    const field = (start, length) =>
      header
        .subarray(start, start + length)
        .toString('utf8')
        .replace(/\0.*$/s, '')
    const size = parseInt(field(124, 12).trim() || '0', 8)
    const type = field(156, 1)
    const prefix = field(345, 155)
    const body = tar.subarray(at + 512, at + 512 + size)
    if (type === 'x') {
      const path = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))
      longName = path ? path[1] : null
    } else if (type === '0' || type === '') {
      files.set(longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100)), Buffer.from(body))
      longName = null
    }
    at += 512 + Math.ceil(size / 512) * 512
  }
  return files
}

function kb(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`
}

function checkTarballs({ main, platform: binary }) {
  const mainFiles = readTarball(main.file)
  const names = [...mainFiles.keys()]
  const bad = names.filter((n) => /\.node$|\.rs$|(^|\/)Cargo\.(toml|lock)$/.test(n))
  if (bad.length > 0) throw new Error(`the main tarball holds native or Rust files: ${bad.join(', ')}`)
  const mainJson = JSON.parse(mainFiles.get('package/package.json'))
  for (const hook of ['preinstall', 'install', 'postinstall']) {
    if (mainJson.scripts?.[hook]) throw new Error(`the main package has a ${hook} script`)
  }
  for (const needed of ['package/native/binding.js', 'package/dist/index.js', 'package/index.mjs', 'package/index.d.ts', 'package/index.d.mts']) {
    if (!mainFiles.has(needed)) throw new Error(`the main tarball lacks ${needed.slice('package/'.length)}`)
  }
  if (mainJson.optionalDependencies) throw new Error('the packed main package.json has optionalDependencies: they are added only at publish (napi prepublish)')

  const platformFiles = readTarball(binary.file)
  const nodeFile = `package/${manifest.napi.binaryName}.${platform}.node`
  if (!platformFiles.has(nodeFile)) throw new Error(`the platform tarball lacks ${nodeFile}`)
  const platformJson = JSON.parse(platformFiles.get('package/package.json'))
  const wanted = platform.startsWith('linux-') ? ['os', 'cpu', 'libc'] : ['os', 'cpu']
  for (const field of wanted) {
    if (!Array.isArray(platformJson[field]) || platformJson[field].length === 0) throw new Error(`the platform package.json has no ${field}`)
  }
  const [os, cpu] = platform.split('-')
  if (platformJson.os[0] !== os || platformJson.cpu[0] !== cpu)
    throw new Error(`the platform package.json says ${platformJson.os}/${platformJson.cpu}, not ${platform}`)
  if (platformJson.name !== `${manifest.napi.packageName}-${platform}`) throw new Error(`the platform package is named ${platformJson.name}`)
  const libc = platformJson.libc ? `, libc ${platformJson.libc}` : ''
  console.log(
    `main tarball ${main.file.split(/[\\/]/).pop()}: ${kb(main.size)} (${kb(main.unpackedSize)} unpacked, ${main.entries} files, no .node, no Rust source)`,
  )
  console.log(
    `platform tarball ${binary.file.split(/[\\/]/).pop()}: ${kb(binary.size)} (${kb(binary.unpackedSize)} unpacked, ${binary.entries} files; os ${platformJson.os}, cpu ${platformJson.cpu}${libc})`,
  )
}

/** process.env without what `npm run` adds, and with PATH set to `path`. */
function cleanEnv(path) {
  /** @type {NodeJS.ProcessEnv} */
  const env = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) && !/^npm_config_(registry|cache|userconfig)$/i.test(key)) continue
    if (['INIT_CWD', 'NODE', 'NODE_OPTIONS', 'NODE_PATH'].includes(key) || /^path$/i.test(key)) continue
    env[key] = value
  }
  env[isWindows ? 'Path' : 'PATH'] = path
  return env
}

/** A directory holding only the given commands, as links (copies on Windows). */
function binDir(parent, name, commands) {
  const dir = join(parent, '.bin-only', name)
  mkdirSync(dir, { recursive: true })
  for (const [command, target] of Object.entries(commands)) {
    const link = join(dir, command + (isWindows && !command.includes('.') ? exe : ''))
    if (isWindows) copyFileSync(target, link)
    else symlinkSync(target, link)
  }
  return dir
}

/** Fails when any forbidden tool is reachable through `path`, as `which` would find it. */
function assertNoCompilers(path) {
  const found = []
  for (const dir of path.split(delimiter).filter(Boolean)) {
    for (const tool of FORBIDDEN) {
      for (const suffix of isWindows ? ['.exe', '.cmd', '.bat'] : ['']) {
        if (existsSync(join(dir, tool + suffix))) found.push(join(dir, tool + suffix))
      }
    }
  }
  if (found.length > 0) throw new Error(`PATH holds build tools: ${found.join(', ')}`)
}

function installProject(dir, { main, platform: binary }) {
  const pinned = (name) => manifest.devDependencies[name]
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'memmap-consumer', version: '1.0.0', private: true }, null, 2)}\n`)
  const commands = { node: process.execPath }
  if (!isWindows) commands.npm = npmCli()
  const path = binDir(dir, 'install', commands)
  assertNoCompilers(path)
  const npmArgs = [
    'install',
    '--no-audit',
    '--no-fund',
    '--prefer-offline',
    main.file,
    binary.file,
    `typescript@${pinned('typescript')}`,
    `@types/node@${pinned('@types/node')}`,
  ]
  const r = isWindows
    ? run(join(path, `node${exe}`), [npmCli(), ...npmArgs], { cwd: dir, env: cleanEnv(path) })
    : run(join(path, 'npm'), npmArgs, { cwd: dir, env: cleanEnv(path) })
  const installed = JSON.parse(readFileSync(join(dir, 'node_modules', ...`${manifest.napi.packageName}-${platform}`.split('/'), 'package.json'), 'utf8'))
  console.log(
    `installed ${manifest.name} and ${installed.name} with PATH=${path} (node${commands.npm ? ', npm' : ''}; no ${FORBIDDEN.join(', ')}): ${r.stdout.trim().split('\n').pop()}`,
  )
  writeConsumers(dir)
  return { typescript: pinned('typescript') }
}

/** The `using` program compiled by the project's pinned TypeScript, for runtimes without native `using`. */
function compileUsing(dir) {
  const path = binDir(dir, 'compile', { node: process.execPath })
  run(join(path, `node${exe}`), [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.using.json'], { cwd: dir, env: cleanEnv(path) })
  return join(dir, 'build', 'using.mjs')
}

function runtimes() {
  const current = `node${process.versions.node.split('.')[0]}`
  const names = args.runtimes ? args.runtimes.split(',') : args.from ? [current] : ['node20', 'node22', 'node24', 'node26', 'bun']
  const extra = names.filter((name) => name !== current && name in RUNTIMES)
  if (!args.from && extra.length > 0) install(extra)
  return names.map((name) => {
    const kind = name === 'bun' ? 'bun' : 'node'
    if (name === current) return { name, kind, bin: process.execPath }
    const local = name in RUNTIMES && runtimeBinary(name)
    if (local && existsSync(local)) return { name, kind, bin: local }
    const onPath =
      kind === 'bun' &&
      (process.env.PATH ?? '')
        .split(delimiter)
        .map((d) => join(d, `bun${exe}`))
        .find((p) => existsSync(p))
    if (onPath) return { name, kind, bin: onPath }
    throw new Error(`runtime ${name} not found: install it with node scripts/runtimes.mjs ${name}`)
  })
}

function testRuntime(dir, runtime, versions, usingBuild) {
  const path = binDir(dir, runtime.name, { [runtime.kind]: runtime.bin })
  assertNoCompilers(path)
  const env = cleanEnv(path)
  const bin = join(path, runtime.kind + exe)
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8', env }).stdout.trim()
  console.log(`== ${runtime.name} ${version} (PATH=${path})`)
  const nativeUsing = spawnSync(bin, ['probe-using.mjs'], { cwd: dir, env, encoding: 'utf8' }).status === 0
  const mustBeNative = runtime.kind === 'bun' || Number(version.replace(/^v/, '').split('.')[0]) >= 24
  const tsc = join(dir, 'node_modules', 'typescript', 'bin', 'tsc')
  /** @type {Array<[kind: string, argv: string[], note?: string]>} */
  const cases = [
    ['cjs', [bin, 'cjs.cjs']],
    ['esm', [bin, 'esm.mjs']],
    [
      'using',
      [bin, nativeUsing ? 'using.mjs' : usingBuild],
      nativeUsing ? '(native `using`)' : `(compiled by typescript ${versions.typescript}: no native \`using\`)`,
    ],
    ['ts-nodenext', [bin, tsc, '-p', 'tsconfig.nodenext.json', '--explainFiles'], '(.cts and .mts consumers)'],
    ['ts-bundler', [bin, tsc, '-p', 'tsconfig.bundler.json', '--explainFiles'], '(moduleResolution bundler)'],
  ]
  for (const [kind, [cmd, ...argv], note] of cases) {
    const r = spawnToFiles(cmd, argv, { cwd: dir, env, timeout: 300_000 })
    let problem = r.status === 0 ? null : `exit ${r.status ?? r.signal}`
    if (!problem && kind === 'using' && mustBeNative && !nativeUsing) problem = `${runtime.name} was expected to run \`using\` natively`
    if (!problem && kind.startsWith('ts-')) problem = checkResolution(kind, r.stdout)
    if (!problem && !kind.startsWith('ts-') && r.stdout.trim() !== 'ok') problem = `printed ${JSON.stringify(r.stdout.trim())}`
    if (problem) {
      failures++
      console.log(`${runtime.name} ${kind} FAILED: ${problem}\n${r.stdout}${r.stderr}`)
    } else {
      passes++
      console.log(`${runtime.name} ${kind} ok${note ? ` ${note}` : ''}`)
    }
  }
}

/**
 * spawnSync with stdout and stderr going to regular files, read back afterwards: Bun writes to a
 * pipe without blocking and may drop what the reader hasn't taken yet (tsc --explainFiles prints
 * thousands of lines), while a file write always completes.
 */
function spawnToFiles(cmd, argv, opts) {
  const outDir = mkdtempSync(join(tmpdir(), 'memmap-consumer-out-'))
  const outFile = join(outDir, 'stdout')
  const errFile = join(outDir, 'stderr')
  const out = openSync(outFile, 'w')
  const err = openSync(errFile, 'w')
  try {
    const r = spawnSync(cmd, argv, { ...opts, stdio: ['ignore', out, err] })
    return { status: r.status, signal: r.signal, stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8') }
  } finally {
    closeSync(out)
    closeSync(err)
    rmSync(outDir, { recursive: true, force: true })
  }
}

/** The typings each consumer resolved, from `tsc --explainFiles`: ESM to index.d.mts, CommonJS to index.d.ts. */
function checkResolution(kind, output) {
  const file = (name) => new RegExp(`node_modules/memmap/${name.replace('.', '\\.')}\\s*\\n\\s+Imported via 'memmap' from file '(?:[^']*/)?([^'/]+)'`, 'g')
  const importers = (name) => [...output.replace(/\\/g, '/').matchAll(file(name))].map((m) => m[1])
  const expected = kind === 'ts-nodenext' ? { 'index.d.ts': 'consumer.cts', 'index.d.mts': 'consumer.mts' } : { 'index.d.mts': 'bundler.ts' }
  for (const [typings, consumer] of Object.entries(expected)) {
    if (!importers(typings).includes(consumer)) return `${consumer} did not resolve 'memmap' to ${typings}\n${output}`
  }
  return null
}

/** Copies the consumer programs and their tsconfigs (scripts/test-package/) into the project. */
function writeConsumers(dir) {
  for (const name of readdirSync(CONSUMERS)) copyFileSync(join(CONSUMERS, name), join(dir, name))
}
