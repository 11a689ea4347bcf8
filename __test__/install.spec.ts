// What a user gets from the install: on a platform with no usable binary, the error names the
// platform and the package that provides (or would provide) it; the ESM entry exports what the
// CommonJS entry exports; the platform list in js/native.ts is the napi targets' and npm/'s. The
// load failures run in children whose preload script pretends to be another platform, so the
// generated loader finds no binary. (`npm run test:package` covers the packed install itself.)
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'

import { PLATFORMS } from '../js/native'
import { exitedCleanly, runChild } from './child'
import { ROOT, tempDir } from './helpers'

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  napi: { packageName: string; targets: string[] }
}
const glibc = Boolean((process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime)
const hostLibc = glibc ? 'gnu' : 'musl'

interface Outcome {
  loaded?: boolean
  code?: string
  message?: string
}

/** Requires memmap (at `entry`, default the repo) in a child that reports `platform`/`arch` as given. */
function loadAs(platform: NodeJS.Platform | null, arch: string | null, entry = ROOT): Outcome {
  const preload = path.join(tempDir(), 'pretend.js')
  fs.writeFileSync(
    preload,
    [
      platform && `Object.defineProperty(process, 'platform', { value: ${JSON.stringify(platform)} })`,
      arch && `Object.defineProperty(process, 'arch', { value: ${JSON.stringify(arch)} })`,
    ]
      .filter(Boolean)
      .join('\n'),
  )
  const code = `try { require(${JSON.stringify(entry)}); console.log(JSON.stringify({ loaded: true })) }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }`
  const r = runChild(code, { args: ['-r', preload] })
  if (r.status !== 0) throw new Error(`child failed (${r.status ?? r.signal}): ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Outcome
}

function triplePlatform(triple: string): string {
  const arch = triple.startsWith('x86_64') ? 'x64' : triple.startsWith('aarch64') ? 'arm64' : triple.split('-')[0]
  if (triple.includes('linux')) return `linux-${arch}-${triple.endsWith('musl') ? 'musl' : 'gnu'}`
  if (triple.includes('darwin')) return `darwin-${arch}`
  if (triple.includes('windows-msvc')) return `win32-${arch}-msvc`
  throw new Error(`no napi platform name for ${triple}`)
}

test('on a platform memmap builds no binary for, the error names the platform and the package that would provide it', (t) => {
  const outcome = loadAs('freebsd', 'x64')
  t.is(outcome.code, 'ERR_MMAP_UNSUPPORTED')
  t.regex(outcome.message ?? '', /for freebsd-x64: /)
  t.true(outcome.message?.includes(`${manifest.napi.packageName}-freebsd-x64`), outcome.message)
  t.true(outcome.message?.includes('not published'), outcome.message)
})

// Every platform but the host's: there the binary exists, so nothing fails to load (the test once
// pretended to be linux-arm64, darwin-arm64 and win32-x64 on every host, and so failed on those).
const OTHER_PLATFORMS = (
  [
    ['linux', 'x64', `linux-x64-${hostLibc}`],
    ['linux', 'arm64', `linux-arm64-${hostLibc}`],
    ['darwin', 'x64', 'darwin-x64'],
    ['darwin', 'arm64', 'darwin-arm64'],
    ['win32', 'x64', 'win32-x64-msvc'],
    ['win32', 'arm64', 'win32-arm64-msvc'],
  ] as const
).filter(([platform, arch]) => platform !== process.platform || arch !== process.arch)

test('the pretended platforms leave out only the host', (t) => {
  t.is(OTHER_PLATFORMS.length, 5)
})

for (const [platform, arch, name] of OTHER_PLATFORMS) {
  test(`without its platform package, the error on ${name} names the platform and ${manifest.napi.packageName}-${name}`, (t) => {
    const outcome = loadAs(platform, arch)
    t.is(outcome.code, 'ERR_MMAP_UNSUPPORTED')
    t.true(outcome.message?.startsWith(`No native binary of memmap for ${name}: `), outcome.message)
    t.true(outcome.message?.includes(`the package ${manifest.napi.packageName}-${name}, which provides it, is not installed`), outcome.message)
    t.true(outcome.message?.includes('--omit=optional'), outcome.message)
  })
}

test('a platform package whose binary fails to load is named, with the reason', (t) => {
  // An installed layout: the package's dist/ and loader (no binary), and a platform package
  // holding a file that is not a shared library.
  const dir = tempDir()
  const name =
    process.platform === 'linux'
      ? `linux-${process.arch}-${hostLibc}`
      : process.platform === 'win32'
        ? `win32-${process.arch}-msvc`
        : `${process.platform}-${process.arch}`
  const pkg = path.join(dir, 'node_modules', 'memmap')
  fs.cpSync(path.join(ROOT, 'dist'), path.join(pkg, 'dist'), { recursive: true })
  fs.mkdirSync(path.join(pkg, 'native'))
  fs.copyFileSync(path.join(ROOT, 'native', 'binding.js'), path.join(pkg, 'native', 'binding.js'))
  const binding = path.join(dir, 'node_modules', ...`${manifest.napi.packageName}-${name}`.split('/'))
  fs.mkdirSync(binding, { recursive: true })
  fs.writeFileSync(
    path.join(binding, 'package.json'),
    JSON.stringify({ name: `${manifest.napi.packageName}-${name}`, version: '0.0.0', main: `memmap.${name}.node` }),
  )
  fs.writeFileSync(path.join(binding, `memmap.${name}.node`), 'not a shared library')

  const outcome = loadAs(null, null, path.join(pkg, 'dist', 'index.js'))
  t.is(outcome.code, 'ERR_MMAP_UNSUPPORTED')
  t.true(
    outcome.message?.startsWith(
      `No native binary of memmap for ${name}: the package ${manifest.napi.packageName}-${name} is installed but its binary failed to load: `,
    ),
    outcome.message,
  )
  t.true(outcome.message?.includes(`memmap.${name}.node`), outcome.message)
})

test('on this platform the binding loads', (t) => {
  t.deepEqual(loadAs(null, null), { loaded: true })
})

test('the ESM entry exports the CommonJS entry’s names, from the same instance', (t) => {
  const code = `
    import { createRequire } from 'node:module'
    import { pathToFileURL } from 'node:url'
    const root = process.env.MEMMAP_ROOT
    const esm = await import(pathToFileURL(root + '/index.mjs').href)
    const cjs = createRequire(root + '/')(root)
    console.log(JSON.stringify({
      esm: Object.keys(esm).filter((k) => k !== 'default').sort(),
      cjs: Object.keys(cjs).sort(),
      same: esm.openSync === cjs.openSync && esm.default === cjs,
    }))`
  const r = runChild(code, { args: ['--input-type=module'] })
  exitedCleanly(t, r)
  const { esm, cjs, same } = JSON.parse(r.stdout) as { esm: string[]; cjs: string[]; same: boolean }
  t.deepEqual(esm, cjs, 'index.mjs must list every name js/index.ts exports')
  t.true(same)
})

test('PLATFORMS names exactly the napi targets, each with its npm/ package', (t) => {
  const fromTargets = manifest.napi.targets.map(triplePlatform).sort()
  t.deepEqual([...PLATFORMS].sort(), fromTargets)
  t.deepEqual(fs.readdirSync(path.join(ROOT, 'npm')).sort(), fromTargets)
  for (const platform of fromTargets) {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'npm', platform, 'package.json'), 'utf8')) as Record<string, unknown>
    t.is(pkg.name, `${manifest.napi.packageName}-${platform}`)
    t.deepEqual(pkg.os, [platform.split('-')[0]])
    t.deepEqual(pkg.cpu, [platform.split('-')[1]])
    if (platform.startsWith('linux-')) t.deepEqual(pkg.libc, [platform.endsWith('musl') ? 'musl' : 'glibc'])
  }
})
