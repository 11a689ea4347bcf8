// scripts/check-linux-only.mjs, the check of the suite's split (run by npm test): it passes on this
// suite, and fails, naming the line, on each way a spec could leave a test out without naming the
// Linux facility it needs.
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'

import { runChild } from './child'
import { namedFacilities } from './linux-only.cjs'
import { ROOT, tempDir } from './helpers'

const CHECK = path.join(ROOT, 'scripts', 'check-linux-only.mjs')

/** Runs the check on __test__, or on a folder holding fixtures/linux-only/<fixture>.ts as its one spec file. */
function check(fixture?: string) {
  const args = [CHECK]
  if (fixture !== undefined) {
    const dir = tempDir('memmap-linux-only-')
    fs.copyFileSync(path.join(__dirname, 'fixtures', 'linux-only', `${fixture}.ts`), path.join(dir, 'sample.spec.ts'))
    args.push(dir)
  }
  // A child of this runtime runs the script with `process.execPath` (under the qemu shim too).
  return runChild(`require('node:child_process').execFileSync(process.execPath, ${JSON.stringify(args)}, { stdio: 'inherit' })`)
}

test('the suite as it is passes the check, which lists its marks', (t) => {
  const r = check()
  t.is(r.status, 0, r.stderr)
  t.regex(r.stdout, /^\d+ spec files, \d+ Linux-only marks, each with its reason:$/m)
  t.regex(r.stdout, /__test__[\\/]read\.spec\.ts:\d+: \/proc\/self\/maps$/m)
})

test('marks that name a /proc file, a tool or a signal pass', (t) => {
  const r = check('named')
  t.is(r.status, 0, r.stderr)
  t.regex(r.stdout, /^1 spec files, 3 Linux-only marks/m)
})

const FAULTS: Array<[string, string, RegExp]> = [
  ['a reason that names no facility', 'unnamed', /sample\.spec\.ts:5: linuxOnly\(…, 'needs Linux'\) names no Linux facility/],
  ['an empty reason', 'empty', /sample\.spec\.ts:5: linuxOnly\(…, ''\) names no Linux facility/],
  ['a reason that is not a string literal', 'variable', /sample\.spec\.ts:6: linuxOnly must be called as linuxOnly\(test, 'reason'\)/],
  ['a reason built by interpolation', 'interpolated', /sample\.spec\.ts:6: linuxOnly must be called as linuxOnly\(test, 'reason'\)/],
  ["ava's test.skip", 'skip', /sample\.spec\.ts:4: `\.skip\(` leaves tests out without a named reason/],
  ['an early return on the platform', 'early-return', /sample\.spec\.ts:5: `if \(process\.platform !== 'linux'\) return` leaves tests out/],
]
for (const [what, fixture, message] of FAULTS) {
  test(`the check fails on ${what}, naming the line`, (t) => {
    const r = check(fixture)
    t.is(r.status, 1, r.stdout)
    t.regex(r.stderr, message)
  })
}

test('namedFacilities finds paths, tools, signals and kernel interfaces, and nothing in plain words', (t) => {
  t.deepEqual(namedFacilities('/proc/self/smaps, /proc/self/status'), ['/proc/self/smaps', '/proc/self/status'])
  t.deepEqual(namedFacilities("python3's fcntl.lockf"), ['python3'])
  t.deepEqual(namedFacilities('killed by SIGSEGV'), ['SIGSEGV'])
  t.deepEqual(namedFacilities('rename(2) over a mapped file'), ['rename(2)'])
  t.deepEqual(namedFacilities('.runtimes/node24 (a Linux build)'), ['.runtimes/node24'])
  t.deepEqual(namedFacilities('needs Linux, the kernel, /proc/ or a shell'), [])
})
