// The platform packages (npm/<platform>/) as npm would pack them: each carries the root LICENSE,
// byte for byte, and the root package's description, license, keywords, homepage, bugs and
// repository, the repository with `directory` naming its own folder (npm provenance checks that the
// repository matches the source). Run by `npm test`; publint and attw check the main package.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { fileURLToPath } from 'node:url'

const root = join(fileURLToPath(import.meta.url), '..', '..')
const read = (path) => JSON.parse(readFileSync(path, 'utf8'))
const main = read(join(root, 'package.json'))
const license = readFileSync(join(root, 'LICENSE'), 'utf8')
const problems = []
const dirs = readdirSync(join(root, 'npm'))
for (const dir of dirs) {
  const at = join(root, 'npm', dir)
  const pkg = read(join(at, 'package.json'))
  const expected = { ...main.repository, directory: `npm/${dir}` }
  if (!isDeepStrictEqual(pkg.repository, expected))
    problems.push(`npm/${dir}: repository is ${JSON.stringify(pkg.repository)}, not ${JSON.stringify(expected)}`)
  for (const field of ['description', 'license', 'keywords', 'homepage', 'bugs', 'engines'])
    if (!isDeepStrictEqual(pkg[field], main[field])) problems.push(`npm/${dir}: ${field} differs from the root package.json's`)
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: at, encoding: 'utf8' }))
  const files = packed.files.map((f) => f.path)
  if (!files.includes('LICENSE')) problems.push(`npm/${dir}: the tarball has no LICENSE (files: ${files.join(', ')})`)
  else if (readFileSync(join(at, 'LICENSE'), 'utf8') !== license) problems.push(`npm/${dir}/LICENSE differs from the root LICENSE`)
}
for (const p of problems) console.error(p)
if (problems.length > 0) process.exit(1)
console.log(`${dirs.length} platform packages: LICENSE and metadata match the root package`)
