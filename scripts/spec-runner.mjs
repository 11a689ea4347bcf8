// Runs ava spec files where ava itself cannot run: on Bun and Deno, and on Node under wine
// (node.exe there cannot write to a pipe, which ava's workers need). Gives the specs a minimal
// ava `test` (test, test.serial, test.skip, test.serial.skip, test.macro, test.before) and the `t`
// assertions they use, with ava's rules: a failed assertion throws and fails the test, a test with
// no assertion fails, teardowns run in reverse order, serial tests run first, a skipped test is
// reported `# SKIP` with its title (linuxOnly in __test__/helpers.ts puts the reason there).
// Anything else is undefined, so a spec that needs it fails loudly instead of being skipped.
// Prints TAP like `ava --tap`; exits 1 if a test failed or none ran.
// __test__/spec-runner.spec.ts runs it on a fixture with known results.
//
//   bun scripts/spec-runner.mjs __test__/read.spec.ts [more specs...]
//   deno run -A --node-modules-dir=manual scripts/spec-runner.mjs __test__/read.spec.ts [...]
//   node scripts/spec-runner.mjs __test__/read.spec.ts [...]     (wine node.exe: stdout to a file)
import { readFileSync } from 'node:fs'
import Module, { createRequire } from 'node:module'
import { basename, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { inspect, isDeepStrictEqual } from 'node:util'

const TIMEOUT_MS = 10 * 60_000 // ava's `timeout` in package.json
const show = (value) => inspect(value, { depth: 6, maxArrayLength: 40, breakLength: 100 })

class AssertionError extends Error {
  /** @param {string | undefined} message @param {string} assertion @param {Array<[string, unknown]>} details */
  constructor(message, assertion, details = []) {
    super(message || `${assertion} failed`)
    this.assertion = assertion
    this.details = details
  }
}

/** Checks a thrown value against ava's expectation object (instanceOf, is, name, message, code, any). */
function expectThrown(assertion, error, e = {}, message) {
  const fail = (what, expected) => {
    throw new AssertionError(message, assertion, [
      ['Threw', error],
      [what, expected],
    ])
  }
  if (!(error instanceof Error) && !e.any) fail('Expected', 'an Error')
  if ('is' in e && error !== e.is) fail('Expected to be', e.is)
  if (e.instanceOf && !(error instanceof e.instanceOf)) fail('Expected instance of', e.instanceOf)
  if (e.name !== undefined && error.name !== e.name) fail('Expected name', e.name)
  if (typeof e.message === 'string' && error.message !== e.message) fail('Expected message', e.message)
  if (e.message instanceof RegExp && !e.message.test(error.message)) fail('Expected message to match', e.message)
  if (typeof e.message === 'function' && !e.message(error.message)) fail('Expected message to satisfy', e.message)
  if (e.code !== undefined && error.code !== e.code) fail('Expected code', e.code)
  return error
}

/** `actual` cut down to the keys of `selector`, through nested plain objects and arrays (ava's t.like). */
function pick(actual, selector) {
  if (actual === null || typeof actual !== 'object' || selector === null || typeof selector !== 'object') return actual
  if (Array.isArray(selector)) return selector.map((s, i) => pick(actual[i], s))
  if (Object.getPrototypeOf(selector) !== Object.prototype) return actual
  return Object.fromEntries(Object.keys(selector).map((k) => [k, pick(actual[k], selector[k])]))
}

/** [whether fn threw, what it returned or threw] */
function attempt(fn) {
  try {
    return [false, fn()]
  } catch (error) {
    return [true, error]
  }
}
/** [whether the promise rejected, its value or reason] */
const settle = (promise) =>
  Promise.resolve(promise).then(
    (value) => [false, value],
    (error) => [true, error],
  )

/** The execution context `t` of one test (or hook); counts assertions into `state`. */
function context(state) {
  const ok = (cond, assertion, message, details) => {
    state.assertions++
    if (!cond) throw new AssertionError(message, assertion, details)
    return true
  }
  const vs = (actual, expected) => [
    ['actual', actual],
    ['expected', expected],
  ]
  return {
    title: state.title,
    pass: () => ok(true, 't.pass()'),
    true: (actual, message) => ok(actual === true, 't.true()', message, [['Value is not `true`', actual]]),
    false: (actual, message) => ok(actual === false, 't.false()', message, [['Value is not `false`', actual]]),
    truthy: (actual, message) => ok(Boolean(actual), 't.truthy()', message, [['Value is not truthy', actual]]),
    falsy: (actual, message) => ok(!actual, 't.falsy()', message, [['Value is not falsy', actual]]),
    is: (actual, expected, message) => ok(Object.is(actual, expected), 't.is()', message, vs(actual, expected)),
    not: (actual, expected, message) => ok(!Object.is(actual, expected), 't.not()', message, [['Value is the same as', expected]]),
    deepEqual: (actual, expected, message) => ok(isDeepStrictEqual(actual, expected), 't.deepEqual()', message, vs(actual, expected)),
    like: (actual, selector, message) => ok(isDeepStrictEqual(pick(actual, selector), selector), 't.like()', message, vs(actual, selector)),
    regex: (string, re, message) => ok(typeof string === 'string' && re.test(string), 't.regex()', message, vs(string, re)),
    notRegex: (string, re, message) => ok(typeof string === 'string' && !re.test(string), 't.notRegex()', message, vs(string, re)),
    throws(fn, expectations, message) {
      const [threw, value] = attempt(fn)
      if (!threw) return ok(false, 't.throws()', message, [[typeof value?.then === 'function' ? 'Returned a promise; use t.throwsAsync()' : 'Returned', value]])
      state.assertions++
      return expectThrown('t.throws()', value, expectations, message)
    },
    async throwsAsync(thrower, expectations, message) {
      const [threw, value] = await settle(typeof thrower === 'function' ? thrower() : thrower) // a synchronous throw fails the test
      if (!threw) return ok(false, 't.throwsAsync()', message, [['Resolved with', value]])
      state.assertions++
      return expectThrown('t.throwsAsync()', value, expectations, message)
    },
    notThrows(fn, message) {
      const [threw, error] = attempt(fn)
      return ok(!threw, 't.notThrows()', message, [['Threw', error]])
    },
    async notThrowsAsync(nonThrower, message) {
      const [threw, error] = await settle(typeof nonThrower === 'function' ? nonThrower() : nonThrower)
      return ok(!threw, 't.notThrowsAsync()', message, [['Rejected with', error]])
    },
    log: (...values) => state.logs.push(values.map((v) => (typeof v === 'string' ? v : show(v))).join(' ')),
    teardown: (fn) => state.teardowns.push(fn),
    timeout: (ms) => state.timeout(ms),
  }
}

const tests = []
const beforeHooks = []
function register(serial, title, impl, ...args) {
  if (typeof title !== 'string') [title, impl, args] = [undefined, title, [impl, ...args]]
  if (typeof impl === 'object' && impl !== null) [title, impl] = [impl.title ? impl.title(title, ...args) : title, impl.exec]
  if (typeof title !== 'string' || title === '' || typeof impl !== 'function') throw new TypeError(`test ${title}: needs a title and an implementation`)
  if (tests.some((other) => other.title === title)) throw new TypeError(`duplicate test title: ${title}`)
  tests.push({ title, serial, skip: false, run: (t) => impl(t, ...args) })
}
/** ava's test.skip: reported as skipped, never run; the title is all that is checked. */
function registerSkip(serial, title) {
  if (typeof title !== 'string' || title === '') throw new TypeError(`test.skip: needs a title, got ${show(title)}`)
  if (tests.some((other) => other.title === title)) throw new TypeError(`duplicate test title: ${title}`)
  tests.push({ title, serial, skip: true, run: () => {} })
}
const test = (...args) => register(false, ...args)
test.skip = (title) => registerSkip(false, title)
test.serial = (...args) => register(true, ...args)
test.serial.skip = (title) => registerSkip(true, title)
test.macro = (macro) => (typeof macro === 'function' ? { exec: macro } : macro)
test.before = (fn) => beforeHooks.push(fn)

let current = null // the running test's state: an uncaught error anywhere fails it
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (error) => (current ? current.abort(error) : report('(outside any test)', error)))
}

async function runTest({ title, run }) {
  /** @type {(error: unknown) => void} */
  let abort = () => {}
  const aborted = new Promise((_, reject) => (abort = reject))
  const state = { title, assertions: 0, logs: [], teardowns: [], failure: /** @type {unknown} */ (null), abort, timeout: (/** @type {number} */ _ms) => {} }
  aborted.catch(() => {})
  const limit = (/** @type {number} */ ms) => setTimeout(() => state.abort(new Error(`Test timed out after ${ms} ms`)), ms)
  let timer = limit(TIMEOUT_MS)
  // t.timeout(ms): the test's own limit, from now, instead of the default.
  state.timeout = (/** @type {number} */ ms) => {
    clearTimeout(timer)
    timer = limit(ms)
  }
  current = state
  try {
    await Promise.race([(async () => run(context(state)))(), aborted])
    if (state.assertions === 0) throw new AssertionError('Test finished without running any assertions', 'test')
  } catch (error) {
    state.failure = error
  }
  clearTimeout(timer)
  for (const fn of state.teardowns.reverse())
    await Promise.resolve()
      .then(fn)
      .catch((error) => (state.failure ??= error))
  current = null
  return state
}

const counts = { n: 0, passed: 0, failed: 0, skipped: 0 }
function report(title, failure, logs = [], skipped = false) {
  counts.n++
  if (skipped) {
    counts.skipped++
    console.log(`ok ${counts.n} - ${title} # SKIP`)
  } else if (failure == null) {
    counts.passed++
    console.log(`ok ${counts.n} - ${title}`)
  } else {
    counts.failed++
    const lines =
      failure instanceof AssertionError
        ? [`assertion: ${failure.assertion}`, `message: ${failure.message}`, ...failure.details.map(([label, v]) => `${label}: ${show(v)}`)]
        : [`error: ${failure?.stack ?? show(failure)}`]
    console.log(`not ok ${counts.n} - ${title}\n  ---\n${lines.flatMap((l) => l.split('\n').map((s) => `    ${s}`)).join('\n')}\n  ...`)
  }
  for (const line of logs) console.log(`#   ${line}`)
}

/**
 * How this runtime loads a spec, with `ava` resolved to the `test` above. Bun runs TypeScript
 * itself, and a plugin answers `ava`. Deno would run a .ts file as an ES module, where the specs'
 * `__dirname`, `require` and `import ... from '..'` (the package directory) do not exist: ava
 * runs them as CommonJS (tsx, `"ts": "commonjs"` in package.json), so here each .ts file is
 * compiled to CommonJS by TypeScript's transpileModule (no type check, as tsx) and required. Node
 * loads them the same way (tsx's esbuild would need its Windows binary under wine).
 */
function specLoader() {
  const { Bun } = /** @type {{ Bun?: { plugin(plugin: object): void } }} */ (globalThis)
  if (Bun !== undefined) {
    Bun.plugin({ name: 'ava → spec-runner', setup: (build) => build.module('ava', () => ({ exports: { default: test, test }, loader: 'object' })) })
    return (/** @type {string} */ spec) => import(pathToFileURL(resolve(spec)).href)
  }
  {
    const require = createRequire(import.meta.url)
    const ts = require('typescript')
    const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2023, esModuleInterop: true }
    // node:module's loader internals, which Deno's CommonJS loader keeps as Node has them.
    const loader = /** @type {any} */ (Module)
    loader._extensions['.ts'] = (/** @type {any} */ module, /** @type {string} */ filename) =>
      module._compile(ts.transpileModule(readFileSync(filename, 'utf8'), { fileName: filename, compilerOptions }).outputText, filename)
    const load = loader._load
    const ava = { __esModule: true, default: test, test }
    loader._load = function (/** @type {string} */ request, /** @type {unknown[]} */ ...rest) {
      return request === 'ava' ? ava : load.call(this, request, ...rest)
    }
    return (/** @type {string} */ spec) => require(resolve(spec))
  }
}
const specs = process.argv.slice(2)
if (specs.length === 0) throw new Error('usage: bun|node scripts/spec-runner.mjs <spec.ts>... (or deno run -A --node-modules-dir=manual)')
const loadSpec = specLoader()

console.log('TAP version 13')
for (const spec of specs) {
  const prefix = `${basename(spec).replace(/(\.spec)?\.[cm]?[jt]s$/, '')} › `
  tests.length = beforeHooks.length = 0
  try {
    await loadSpec(spec)
    for (const hook of beforeHooks) await hook(context({ title: 'before', assertions: 0, logs: [], teardowns: [] }))
  } catch (error) {
    report(`${prefix}loading the spec or its before hook failed`, error)
    continue
  }
  for (const record of [...tests.filter((r) => r.serial), ...tests.filter((r) => !r.serial)]) {
    if (record.skip) {
      report(prefix + record.title, null, [], true)
      continue
    }
    const state = await runTest(record)
    report(prefix + record.title, state.failure, state.logs)
  }
}
console.log(`\n1..${counts.n}\n# tests ${counts.n}\n# pass ${counts.passed}\n# skip ${counts.skipped}\n# fail ${counts.failed}`)
process.exitCode = counts.failed > 0 || counts.passed === 0 ? 1 : 0
