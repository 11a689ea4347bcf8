// The sharing examples run as a user runs them (through tsx) and print what they promise. Their
// own oracles: node:fs reads the counter file; the pool's parent recomputes every answer from the
// index file's bytes as node:fs reads them.
import { spawnSync } from 'node:child_process'
import test from 'ava'

import { ROOT } from './helpers'

function example(file: string, args: string[] = []) {
  return spawnSync(process.execPath, ['--import', 'tsx', file, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 })
}

test('examples/shared-counter.ts: four workers with Atomics.add leave exactly 4,000,000 in the file', (t) => {
  const run = example('examples/shared-counter.ts')
  t.is(run.status, 0, run.stderr)
  t.regex(run.stdout, /^Atomics\.add: 4,000,000 \(expected 4,000,000\)$/m)
  t.regex(run.stdout, /^plain \+\+: {4}[\d,]+ \([\d,]+ updates lost\)$/m, 'the control is printed (its count is not asserted)')
})

test('examples/process-pool.ts: three processes answer lookups from one shared index into shared memory, all answers right', (t) => {
  const run = example('examples/process-pool.ts', ['3', '20000'])
  t.is(run.status, 0, run.stderr)
  t.regex(run.stdout, /^3 processes x 20,000 lookups in one shared index: \d+ ms, 0 wrong answers$/m)
})
