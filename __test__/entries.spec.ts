// The package's two entries as a project that depends on memmap reaches them, on whichever runtime
// runs this spec (Node under ava, Bun and Deno under scripts/spec-runner.mjs): `import` (index.mjs)
// and `require` (dist/index.js) of 'memmap' from node_modules, where memmap is linked to this
// checkout, as `npm link`, a workspace or `npm install <folder>` leave it. Deno 2 took
// dist/index.js for an ES module there, so the ESM entry failed to load (regression test).
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test from 'ava'

import { exitedCleanly, lastReport, mainCommand } from './child'
import { ROOT, tempDir } from './helpers'

/** A project whose node_modules/memmap links to this checkout, with `files` written into it. */
function project(files: Record<string, string>): string {
  const dir = tempDir('memmap-entries-')
  fs.mkdirSync(path.join(dir, 'node_modules'))
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'memmap'), 'dir')
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text)
  return dir
}

/** Runs `file` of `dir` as the main module on this runtime. */
function runProgram(dir: string, file: string) {
  const [command, ...args] = mainCommand(file)
  const r = spawnSync(command, args, { cwd: dir, encoding: 'utf8', timeout: 120_000 })
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
}

const program = (load: string) => `${load}
const fs = require('node:fs')
fs.writeFileSync('data.bin', Buffer.from('memmap entries'))
const map = openSync('data.bin', { mode: 'read-write' })
map.write(Buffer.from('M'), 0)
const text = Buffer.from(map.bytes).toString()
map.close()
console.log(JSON.stringify({ text, file: fs.readFileSync('data.bin', 'utf8'), same, names: Object.keys(memmap).sort() }))
`

const expectedNames = Object.keys(require('..') as object).sort()

test("import { openSync } from 'memmap' loads the ESM entry, which shares its module with require('memmap')", (t) => {
  const dir = project({
    'main.mjs': program(`import memmap, { openSync } from 'memmap'
import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
const same = require('memmap') === memmap && require('memmap').openSync === openSync`),
  })
  const r = runProgram(dir, 'main.mjs')
  exitedCleanly(t, r)
  t.deepEqual(lastReport(r), { text: 'Memmap entries', file: 'Memmap entries', same: true, names: expectedNames })
})

test("require('memmap') from a CommonJS file loads the CommonJS entry", (t) => {
  const dir = project({
    'main.cjs': program(`const memmap = require('memmap')
const { openSync } = memmap
const same = typeof openSync === 'function'`),
  })
  const r = runProgram(dir, 'main.cjs')
  exitedCleanly(t, r)
  t.deepEqual(lastReport(r), { text: 'Memmap entries', file: 'Memmap entries', same: true, names: expectedNames })
})
