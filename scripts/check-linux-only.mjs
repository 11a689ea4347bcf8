// The check of the suite's split (issue 12), run by `npm test`: every test left out off Linux is
// left out through linuxOnly(test, reason) (__test__/helpers.ts) or the FILES table of
// __test__/linux-only.cjs, and every reason names the Linux facility it needs. Reads the spec
// files' text (no spec runs here), so a mark in a test that is never reached is checked too.
// Fails on:
//   - a linuxOnly(...) whose reason is not a plain string literal, or names no facility;
//   - a FILES entry that is not a spec file of the folder, or whose reason names no facility;
//   - any other way of leaving tests out: `.skip`, or an early return on the platform
//     (`if (process.platform …) return`) in a spec file.
//
//   node scripts/check-linux-only.mjs [folder]     (the spec files of folder, default __test__;
//                                                  prints each mark; __test__/linux-only.spec.ts
//                                                  runs it on folders of known faults)
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const folder = process.argv[2] ?? join(root, '__test__')
const { FILES, namedFacilities } = createRequire(import.meta.url)(join(root, '__test__', 'linux-only.cjs'))

const problems = []
const marks = []
const lineOf = (text, index) => text.slice(0, index).split('\n').length

const specs = readdirSync(folder).filter((f) => f.endsWith('.spec.ts'))
for (const spec of specs) {
  const file = join(folder, spec)
  const text = readFileSync(file, 'utf8')
  const where = (index) => `${relative(root, file)}:${lineOf(text, index)}`
  // linuxOnly(register, 'reason'): the reason must be one string literal, without interpolation.
  for (const m of text.matchAll(/\blinuxOnly\(/g)) {
    const call = /^linuxOnly\(\s*[\w.]+\s*,\s*(?:(['"`])((?:(?!\1)[^\\$])*)\1)?([^)]*)\)/.exec(text.slice(m.index))
    const reason = call?.[2]
    if (!call || reason === undefined || call[3].trim() !== '')
      problems.push(
        `${where(m.index)}: linuxOnly must be called as linuxOnly(test, 'reason') with a plain string literal: ${text.slice(m.index, m.index + 80).split('\n')[0]}`,
      )
    else if (namedFacilities(reason).length === 0)
      problems.push(`${where(m.index)}: linuxOnly(…, '${reason}') names no Linux facility (a /proc file, tool, signal…: __test__/linux-only.cjs)`)
    else marks.push(`${where(m.index)}: ${reason}`)
  }
  // ava's skip, or a test that returns early on some platforms (`if (process.platform …) return`).
  for (const m of text.matchAll(/\.skip\s*\(|\bif\s*\([^)\n]*\b(?:process\.platform|LINUX)\b[^)\n]*\)\s*return\b/g))
    problems.push(`${where(m.index)}: \`${m[0]}\` leaves tests out without a named reason; use linuxOnly(test, 'reason') from helpers.ts`)
}
// The table of Linux-only files belongs to __test__: checked when the check runs on it.
for (const [spec, reason] of Object.entries(process.argv[2] === undefined ? FILES : {})) {
  if (!existsSync(join(root, '__test__', spec)) || !spec.endsWith('.spec.ts')) problems.push(`linux-only.cjs FILES: ${spec} is not a spec file of __test__`)
  else if (namedFacilities(reason).length === 0) problems.push(`linux-only.cjs FILES: ${spec}: ${JSON.stringify(reason)} names no Linux facility`)
  else marks.push(`${basename(spec)} (whole file): ${reason}`)
}

console.log(`${specs.length} spec files, ${marks.length} Linux-only marks, each with its reason:`)
for (const mark of marks) console.log(`  ${mark}`)
for (const problem of problems) console.error(`problem: ${problem}`)
if (problems.length > 0) process.exit(1)
