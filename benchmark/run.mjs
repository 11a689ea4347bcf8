// `npm run bench`: runs the SPEC §6 scenarios (all, or those named as arguments), prints one
// markdown table per scenario (work | memmap | baseline(s) | ratio | target | met?) after a
// header with the conditions, and writes the same markdown to benchmark/results.md.
//
//   node benchmark/run.mjs                     every scenario
//   node benchmark/run.mjs sum-1g indexof-1g   a subset
//   MEMMAP_BENCH_PROCS=1 node benchmark/run.mjs  fewer processes per variant, to check a change runs (default 5)
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { Context, benchDir, renderSection, runScenario } from './lib.mjs'

const SCENARIOS = [
  'open-close-4k',
  'open-view-close-4k',
  'open-close-1g',
  'open-view-close-1g',
  'sum-1g',
  'random-records-4g',
  'cold-random',
  'indexof-1g',
  'sparse-64g',
  'populate-lock-1g',
  'prefetch-1g',
  'detach-cost',
  'wait-pingpong',
]

const args = process.argv.slice(2)
if (args.includes('--help') || args.includes('-h')) {
  console.log(`usage: node benchmark/run.mjs [scenario ...]\nscenarios: ${SCENARIOS.join(', ')}`)
  process.exit(0)
}
const unknown = args.filter((a) => !SCENARIOS.includes(a))
if (unknown.length) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}\nscenarios: ${SCENARIOS.join(', ')}`)
  process.exit(2)
}
const names = args.length ? SCENARIOS.filter((s) => args.includes(s)) : SCENARIOS

const started = Date.now()
const ctx = new Context()
const sections = []
const results = []
try {
  const header = ctx.header(names)
  console.log(`${header}\n`)
  for (const name of names) {
    const { default: scenario } = await import(`./${name}.mjs`)
    process.stderr.write(`running ${name}...\n`)
    const r = await runScenario(scenario, ctx)
    results.push(r)
    const section = renderSection(r)
    sections.push(section)
    console.log(`${section}\n`)
  }
  const targeted = results.flatMap((r) => (r.rows ?? []).filter((row) => row.met === 'yes' || row.met === '**NO**').map((row) => ({ ...row, name: r.name })))
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  const summary = [
    '## Summary',
    '',
    `${targeted.filter((r) => r.met === 'yes').length} of ${targeted.length} targets met; load average at the end ${load}; ${((Date.now() - started) / 1000).toFixed(0)} s in all.`,
    '',
    ...targeted.map((r) => `- ${r.met === 'yes' ? 'met' : '**not met**'}: ${r.name}, ${r.work}: ${r.memmap} (target ${r.target}; ${r.ratio})`),
  ].join('\n')
  console.log(summary)
  writeFileSync(join(benchDir, 'results.md'), `${[header, ...sections, summary].join('\n\n')}\n`)
  console.log(`\nwrote benchmark/results.md`)
} finally {
  ctx.cleanup()
}
