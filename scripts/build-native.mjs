// Builds the binding with `napi build` into a staging directory, then renames the results into
// native/. A rename gives the new .node file a new inode, so processes that have the old binary
// loaded (a running test, a demo) keep their mapping intact instead of faulting on a rewritten file.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const features = process.argv.includes('--test-hooks') ? ['--features', 'test-hooks'] : []
const out = process.argv.includes('--test-hooks') ? 'native-test' : 'native'
const stage = join(root, '.tmp', `${out}-build`)
rmSync(stage, { recursive: true, force: true })
mkdirSync(stage, { recursive: true })
const napi = join(root, 'node_modules', '.bin', 'napi')
execFileSync(
  napi,
  ['build', '--platform', '--release', '-p', 'memmap-node', ...features, '--output-dir', stage, '--js', 'binding.js', '--dts', 'binding.d.ts'],
  { cwd: root, stdio: 'inherit' },
)
mkdirSync(join(root, out), { recursive: true })
for (const name of readdirSync(stage)) renameSync(join(stage, name), join(root, out, name))
rmSync(stage, { recursive: true, force: true })
