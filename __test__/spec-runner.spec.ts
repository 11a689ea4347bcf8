// scripts/spec-runner.mjs, the runner of the spec files on Bun and Deno (and on Node under wine):
// on a fixture whose test titles say whether they pass or are skipped, it must report exactly
// those results, the TAP summary and the exit code, on each runtime.
import { spawnSync } from 'node:child_process'
import * as path from 'node:path'
import test from 'ava'

import { exitedCleanly } from './child'
import { ROOT, runtimeBinary } from './helpers'

const RUNNER = path.join(ROOT, 'scripts', 'spec-runner.mjs')

const RUNTIMES = ['bun', 'deno', 'node'] as const
type Runtime = (typeof RUNTIMES)[number]

function runner(runtime: Runtime, ...specs: string[]) {
  // As scripts/runtimes-suite.mjs starts it.
  const args = runtime === 'deno' ? ['run', '-A', '--node-modules-dir=manual', RUNNER, ...specs] : [RUNNER, ...specs]
  const bin = runtime === 'node' ? process.execPath : runtimeBinary(runtime)
  const r = spawnSync(bin, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000 })
  const lines = r.stdout.split('\n')
  const results = (ok: string, skip: boolean) =>
    lines.flatMap((l) => (l.startsWith(ok) && l.endsWith(' # SKIP') === skip ? [l.replace(/^(not )?ok \d+ - /, '').replace(/ # SKIP$/, '')] : []))
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout,
    stderr: r.stderr,
    passed: results('ok ', false),
    skipped: results('ok ', true),
    failed: results('not ok ', false),
  }
}

for (const runtime of RUNTIMES) {
  test(`on ${runtime}, on the fixture spec, every "passes:" test is reported ok and every "fails:" test not ok, with the TAP summary and exit code 1`, (t) => {
    const r = runner(runtime, '__test__/fixtures/spec-runner-sample.ts')
    t.is(r.signal, null, r.stderr)
    t.is(r.status, 1, r.stderr)
    t.deepEqual(
      r.passed.filter((title) => !title.startsWith('spec-runner-sample › passes: ')),
      [],
      'only passes: tests pass',
    )
    t.deepEqual(
      r.failed.filter((title) => !title.startsWith('spec-runner-sample › fails: ')),
      [],
      'only fails: tests fail',
    )
    t.deepEqual(r.skipped, [
      'spec-runner-sample › skipped: test.serial.skip never runs the test either',
      'spec-runner-sample › skipped: test.skip never runs the test',
    ])
    t.is(r.passed.length, 9, r.stdout)
    t.is(r.failed.length, 15, r.stdout)
    t.regex(r.stdout, /^1\.\.26\n# tests 26\n# pass 9\n# skip 2\n# fail 15$/m)
    t.regex(
      r.stdout,
      /not ok \d+ - spec-runner-sample › fails: a test still running at its t\.timeout\(\) limit\n {2}---\n {4}error: Error: Test timed out after 20 ms/,
    )
    t.is(r.passed[0], 'spec-runner-sample › passes: a serial test runs first, after the before hook')
    t.regex(
      r.stdout,
      /not ok \d+ - spec-runner-sample › fails: no assertion ran\n {2}---\n {4}assertion: test\n {4}message: Test finished without running any assertions/,
    )
  })

  test(`on ${runtime}, a real spec whose tests all pass (counters.spec.ts) exits 0`, (t) => {
    const r = runner(runtime, '__test__/counters.spec.ts')
    exitedCleanly(t, r)
    t.deepEqual(r.failed, [])
    t.true(r.passed.length > 0)
  })

  test(`on ${runtime}, a spec that cannot be loaded is reported as one failing test and exits 1`, (t) => {
    const r = runner(runtime, '__test__/fixtures/no-such.spec.ts')
    t.is(r.status, 1, r.stderr)
    t.deepEqual(r.failed, ['no-such › loading the spec or its before hook failed'])
    t.deepEqual(r.passed, [])
  })
}
