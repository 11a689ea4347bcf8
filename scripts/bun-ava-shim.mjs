// A small ava-compatible test harness, for runtimes ava itself cannot run on (Bun). It provides
// `test`, `test.serial`, `test.macro`, `test.before/after/beforeEach/afterEach` and the assertions
// the specs use, with ava 7's semantics: a failed assertion throws and fails the test, a test with
// no assertion fails, `t.throws` requires an Error and checks the expectation object, `t.like`
// compares only the selector's keys, teardowns run in reverse order. It prints TAP 13 like
// `ava --tap`. Anything else (t.snapshot, test.skip, test.only, ...) is undefined, so a spec that
// needs it fails loudly instead of being skipped.
//
//   bun scripts/bun-ava-shim.mjs __test__/read.spec.ts [more specs...]
//
// Run as the main module it maps the `ava` import of the specs to this module (a Bun runtime
// plugin; on Node a `--require` of scripts/ava-shim-resolve.cjs does the same), imports each spec,
// runs its tests one after another and exits non-zero if any failed or none ran.
import { inspect, types } from 'node:util'
import * as path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const DEFAULT_TIMEOUT_MS = 10 * 60_000

export class AssertionError extends Error {
  constructor(message, assertion, details = []) {
    super(message || `${assertion} failed`)
    this.name = 'AssertionError'
    this.assertion = assertion
    this.details = details
  }
}

const show = (value) => inspect(value, { depth: 6, maxArrayLength: 40, maxStringLength: 400, breakLength: 100 })

// ---------------------------------------------------------------------------------------------
// Deep equality, strict like ava's (concordance): same prototype, same own enumerable keys,
// Object.is for primitives, element-wise for arrays, typed arrays, Maps and Sets.

function deepEqual(a, b, seen = new Map()) {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false
  if (Object.prototype.toString.call(a) !== Object.prototype.toString.call(b)) return false
  if (seen.get(a) === b) return true
  seen.set(a, b)
  if (a instanceof Date) return Object.is(a.getTime(), b.getTime())
  if (a instanceof RegExp) return a.source === b.source && a.flags === b.flags
  if (a instanceof Number || a instanceof String || a instanceof Boolean) return Object.is(a.valueOf(), b.valueOf())
  if (a instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && a instanceof SharedArrayBuffer)) {
    return a.byteLength === b.byteLength && Buffer.from(a).equals(Buffer.from(b))
  }
  if (a instanceof DataView) {
    return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
  }
  if (ArrayBuffer.isView(a)) {
    if (a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(a)) {
    if (a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i], seen)) return false
  }
  if (a instanceof Map) {
    if (a.size !== b.size) return false
    const ea = [...a]
    const eb = [...b]
    for (let i = 0; i < ea.length; i++) if (!deepEqual(ea[i][0], eb[i][0], seen) || !deepEqual(ea[i][1], eb[i][1], seen)) return false
  }
  if (a instanceof Set) {
    if (a.size !== b.size) return false
    const ea = [...a]
    const eb = [...b]
    for (let i = 0; i < ea.length; i++) if (!deepEqual(ea[i], eb[i], seen)) return false
  }
  if (a instanceof Error && (a.name !== b.name || a.message !== b.message)) return false
  const keys = (o) =>
    Reflect.ownKeys(o).filter((k) => Object.getOwnPropertyDescriptor(o, k).enumerable && !(Array.isArray(o) && typeof k === 'string' && /^\d+$/.test(k)))
  const ka = keys(a)
  const kb = keys(b)
  if (ka.length !== kb.length) return false
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false
    if (!deepEqual(a[k], b[k], seen)) return false
  }
  return true
}

const isPrimitive = (v) => v === null || (typeof v !== 'object' && typeof v !== 'function')
function isLikeSelector(s) {
  if (isPrimitive(s) || (!Array.isArray(s) && Reflect.getPrototypeOf(s) !== Object.prototype)) return false
  return Reflect.ownKeys(s).some((k) => Object.getOwnPropertyDescriptor(s, k).enumerable)
}
function selectComparable(actual, selector) {
  if (isPrimitive(actual)) return actual
  const out = Array.isArray(selector) ? [] : {}
  for (const key of Reflect.ownKeys(selector).filter((k) => Object.getOwnPropertyDescriptor(selector, k).enumerable)) {
    const sub = Reflect.get(selector, key)
    out[key] = isLikeSelector(sub) ? selectComparable(Reflect.get(actual, key), sub) : Reflect.get(actual, key)
  }
  return out
}

const isError = (v) => v instanceof Error || types.isNativeError(v)
const isPromise = (v) => v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function'
const EXPECTATION_KEYS = new Set(['instanceOf', 'is', 'message', 'name', 'code', 'any'])

function checkExpectations(assertion, expectations, argCount) {
  if (argCount === 1 || expectations === undefined) return {}
  if (expectations === null || typeof expectations !== 'object' || Array.isArray(expectations) || expectations instanceof RegExp || Object.keys(expectations).length === 0) {
    throw new AssertionError(`The second argument to \`${assertion}\` must be an expectation object or \`undefined\``, assertion, [['Called with', expectations]])
  }
  for (const key of Object.keys(expectations)) {
    if (!EXPECTATION_KEYS.has(key)) throw new AssertionError(`The second argument to \`${assertion}\` contains unexpected properties`, assertion, [['Called with', expectations]])
  }
  return expectations
}

function assertThrown(assertion, actual, e, message) {
  const fail = (what, expected) => {
    throw new AssertionError(message, assertion, [
      ['Threw', actual],
      [what, expected],
    ])
  }
  if (!isError(actual) && !e.any) fail('Expected', 'an Error (use `any: true` for other values)')
  if (Object.hasOwn(e, 'is') && actual !== e.is) fail('Expected to be strictly equal to', e.is)
  if (e.instanceOf && !(actual instanceof e.instanceOf)) fail('Expected instance of', e.instanceOf)
  if (typeof e.name === 'string' && actual.name !== e.name) fail('Expected name to equal', e.name)
  if (typeof e.message === 'string' && actual.message !== e.message) fail('Expected message to equal', e.message)
  if (e.message instanceof RegExp && !e.message.test(actual.message)) fail('Expected message to match', e.message)
  if (typeof e.message === 'function' && e.message(actual.message) === false) fail('Expected message to return true', e.message)
  if (e.code !== undefined && actual.code !== e.code) fail('Expected code to equal', e.code)
}

// ---------------------------------------------------------------------------------------------
// The execution context `t`.

class ExecutionContext {
  #test
  constructor(test) {
    this.#test = test
    this.context = {}
  }
  get title() {
    return this.#test.title
  }
  get passed() {
    return this.#test.failure === null
  }
  #count() {
    this.#test.assertions++
  }
  #ok(cond, assertion, message, details) {
    this.#count()
    if (!cond) throw new AssertionError(message, assertion, details)
    return true
  }
  pass() {
    return this.#ok(true, 't.pass()')
  }
  fail(message) {
    return this.#ok(false, 't.fail()', message || 'Test failed via `t.fail()`')
  }
  assert(actual, message) {
    return this.#ok(Boolean(actual), 't.assert()', message, [['Value is not truthy', actual]])
  }
  truthy(actual, message) {
    return this.#ok(Boolean(actual), 't.truthy()', message, [['Value is not truthy', actual]])
  }
  falsy(actual, message) {
    return this.#ok(!actual, 't.falsy()', message, [['Value is not falsy', actual]])
  }
  true(actual, message) {
    return this.#ok(actual === true, 't.true()', message, [['Value is not `true`', actual]])
  }
  false(actual, message) {
    return this.#ok(actual === false, 't.false()', message, [['Value is not `false`', actual]])
  }
  is(actual, expected, message) {
    return this.#ok(Object.is(actual, expected), 't.is()', message, [
      ['actual', actual],
      ['expected', expected],
    ])
  }
  not(actual, expected, message) {
    return this.#ok(!Object.is(actual, expected), 't.not()', message, [['Value is the same as', expected]])
  }
  deepEqual(actual, expected, message) {
    return this.#ok(deepEqual(actual, expected), 't.deepEqual()', message, [
      ['actual', actual],
      ['expected', expected],
    ])
  }
  notDeepEqual(actual, expected, message) {
    return this.#ok(!deepEqual(actual, expected), 't.notDeepEqual()', message, [['Value is deeply equal', expected]])
  }
  like(actual, selector, message) {
    if (!isLikeSelector(selector)) throw new AssertionError('`t.like()` selector must be a non-empty object', 't.like()', [['Called with', selector]])
    return this.#ok(deepEqual(selectComparable(actual, selector), selector), 't.like()', message, [
      ['actual', actual],
      ['selector', selector],
    ])
  }
  regex(string, regex, message) {
    if (typeof string !== 'string' || !(regex instanceof RegExp)) throw new AssertionError('`t.regex()` needs a string and a RegExp', 't.regex()', [['Called with', [string, regex]]])
    return this.#ok(regex.test(string), 't.regex()', message, [
      ['Value must match expression', string],
      ['Regular expression', regex],
    ])
  }
  notRegex(string, regex, message) {
    if (typeof string !== 'string' || !(regex instanceof RegExp)) throw new AssertionError('`t.notRegex()` needs a string and a RegExp', 't.notRegex()', [['Called with', [string, regex]]])
    return this.#ok(!regex.test(string), 't.notRegex()', message, [
      ['Value must not match expression', string],
      ['Regular expression', regex],
    ])
  }
  throws(...args) {
    const [fn, expectations, message] = args
    this.#count()
    if (typeof fn !== 'function') throw new AssertionError('`t.throws()` must be called with a function', 't.throws()')
    const e = checkExpectations('t.throws()', expectations, args.length)
    let actual
    let threw = false
    try {
      const returned = fn()
      if (isPromise(returned)) {
        Promise.resolve(returned).catch(() => {})
        throw new AssertionError(message || 'Function returned a promise. Use `t.throwsAsync()` instead', 't.throws()')
      }
      actual = returned
    } catch (error) {
      if (error instanceof AssertionError && error.assertion === 't.throws()') throw error
      threw = true
      actual = error
    }
    if (!threw) throw new AssertionError(message, 't.throws()', [['Function returned', actual]])
    assertThrown('t.throws()', actual, e, message)
    return actual
  }
  async throwsAsync(...args) {
    const [thrower, expectations, message] = args
    this.#count()
    const e = checkExpectations('t.throwsAsync()', expectations, args.length)
    let promise = thrower
    if (typeof thrower === 'function') {
      try {
        promise = thrower()
      } catch (error) {
        throw new AssertionError(message, 't.throwsAsync()', [['Function threw synchronously. Use `t.throws()` instead', error]])
      }
    }
    if (!isPromise(promise)) throw new AssertionError(message, 't.throwsAsync()', [['Function returned', promise]])
    try {
      const value = await promise
      throw new AssertionError(message, 't.throwsAsync()', [['Promise resolved with', value]])
    } catch (error) {
      if (error instanceof AssertionError && error.assertion === 't.throwsAsync()') throw error
      assertThrown('t.throwsAsync()', error, e, message)
      return error
    }
  }
  notThrows(fn, message) {
    this.#count()
    if (typeof fn !== 'function') throw new AssertionError('`t.notThrows()` must be called with a function', 't.notThrows()')
    try {
      fn()
    } catch (error) {
      throw new AssertionError(message, 't.notThrows()', [['Function threw', error]])
    }
  }
  async notThrowsAsync(nonThrower, message) {
    this.#count()
    try {
      await (typeof nonThrower === 'function' ? nonThrower() : nonThrower)
    } catch (error) {
      throw new AssertionError(message, 't.notThrowsAsync()', [['Promise rejected with', error]])
    }
  }
  log(...values) {
    this.#test.logs.push(values.map((v) => (typeof v === 'string' ? v : show(v))).join(' '))
  }
  plan(count) {
    this.#test.plan = count
  }
  teardown(fn) {
    this.#test.teardowns.push(fn)
  }
  timeout(ms) {
    this.#test.setTimeout(ms)
  }
}

// ---------------------------------------------------------------------------------------------
// Registration.

const tests = []
const hooks = { before: [], after: [], beforeEach: [], afterEach: [] }

function register(args, serial) {
  let [first, ...rest] = args
  let title
  let impl
  let extra
  if (typeof first === 'string') {
    title = first
    ;[impl, ...extra] = rest
  } else {
    impl = first
    extra = rest
  }
  if (impl && typeof impl === 'object' && typeof impl.exec === 'function') {
    const macro = impl
    title = typeof macro.title === 'function' ? macro.title(title, ...extra) : title
    impl = (t) => macro.exec(t, ...extra)
  } else if (typeof impl === 'function' && extra.length > 0) {
    const fn = impl
    impl = (t) => fn(t, ...extra)
  }
  if (typeof impl !== 'function') throw new TypeError(`test ${JSON.stringify(title)}: expected an implementation function`)
  if (typeof title !== 'string' || title === '') throw new TypeError('every test needs a title')
  if (tests.some((other) => other.title === title)) throw new TypeError(`duplicate test title: ${title}`)
  tests.push({ title, impl, serial })
}

export default function test(...args) {
  register(args, false)
}
test.serial = (...args) => register(args, true)
test.macro = (macro) => (typeof macro === 'function' ? { exec: macro } : macro)
test.before = (fn) => hooks.before.push(fn)
test.after = (fn) => hooks.after.push(fn)
test.beforeEach = (fn) => hooks.beforeEach.push(fn)
test.afterEach = (fn) => hooks.afterEach.push(fn)
test.serial.before = test.before
test.serial.after = test.after
export { test, ExecutionContext }

// ---------------------------------------------------------------------------------------------
// Running and reporting.

let current = null

function describeFailure(error) {
  const lines = []
  if (error instanceof AssertionError) {
    lines.push(`assertion: ${error.assertion}`, `message: ${error.message}`)
    for (const [label, value] of error.details) lines.push(`${label}: ${show(value)}`)
  } else {
    lines.push(`error: ${isError(error) ? error.stack || String(error) : show(error)}`)
  }
  return lines.flatMap((l) => l.split('\n'))
}

async function runOne(record) {
  const state = { title: record.title, assertions: 0, plan: null, teardowns: [], logs: [], failure: null, timer: null }
  // Settles the race below early: on timeout, or on an uncaught exception inside the test.
  const aborted = new Promise((_, reject) => {
    state.abort = reject
  })
  aborted.catch(() => {})
  state.setTimeout = (ms) => {
    clearTimeout(state.timer)
    state.timer = setTimeout(() => state.abort(new Error(`Test timed out after ${ms} ms`)), ms)
  }
  state.setTimeout(DEFAULT_TIMEOUT_MS)
  const t = new ExecutionContext(state)
  current = state
  try {
    for (const hook of hooks.beforeEach) await hook(t)
    await Promise.race([Promise.resolve().then(() => record.impl(t)), aborted])
    for (const hook of hooks.afterEach) await hook(t)
    if (state.plan !== null && state.assertions !== state.plan) {
      throw new AssertionError(`Planned for ${state.plan} assertions, but got ${state.assertions}`, 't.plan()')
    }
    if (state.assertions === 0) throw new AssertionError('Test finished without running any assertions', 'test')
  } catch (error) {
    state.failure ??= error
  } finally {
    clearTimeout(state.timer)
    for (const teardown of [...state.teardowns].reverse()) {
      try {
        await teardown()
      } catch (error) {
        state.failure ??= error
      }
    }
    current = null
  }
  return state
}

process.on('uncaughtException', (error) => {
  if (current !== null) {
    current.failure ??= error
    current.abort(error)
  } else {
    console.log(`not ok - uncaught exception outside a test\n  ---\n${describeFailure(error).map((l) => `    ${l}`).join('\n')}\n  ...`)
    process.exitCode = 1
  }
})
process.on('unhandledRejection', (error) => {
  if (current !== null) {
    current.failure ??= error
    current.abort(error)
  } else {
    console.log(`not ok - unhandled rejection outside a test\n  ---\n${describeFailure(error).map((l) => `    ${l}`).join('\n')}\n  ...`)
    process.exitCode = 1
  }
})

/** Runs every registered test (serial ones first, as ava does) and prints TAP; returns [passed, failed]. */
export async function run(prefix = '', counter = { n: 0 }) {
  let passed = 0
  let failed = 0
  const ordered = [...tests.filter((r) => r.serial), ...tests.filter((r) => !r.serial)]
  tests.length = 0
  const hookContext = new ExecutionContext({ title: 'hook', assertions: 0, teardowns: [], logs: [], failure: null, setTimeout() {} })
  for (const hook of hooks.before) await hook(hookContext)
  for (const record of ordered) {
    const state = await runOne(record)
    counter.n++
    const name = `${prefix}${record.title}`
    if (state.failure === null) {
      passed++
      console.log(`ok ${counter.n} - ${name}`)
    } else {
      failed++
      console.log(`not ok ${counter.n} - ${name}`)
      console.log(`  ---\n${describeFailure(state.failure).map((l) => `    ${l}`).join('\n')}\n  ...`)
    }
    for (const line of state.logs) console.log(`#   ${line}`)
  }
  for (const hook of hooks.after) await hook(hookContext)
  hooks.before.length = hooks.after.length = hooks.beforeEach.length = hooks.afterEach.length = 0
  return [passed, failed]
}

const self = fileURLToPath(import.meta.url)
const isMain = import.meta.main === true || (process.argv[1] !== undefined && path.resolve(process.argv[1]) === self)

if (isMain) {
  const specs = process.argv.slice(2)
  if (specs.length === 0) {
    console.error('usage: bun scripts/bun-ava-shim.mjs <spec.ts>...')
    process.exit(2)
  }
  const api = { default: test, test, ExecutionContext, AssertionError }
  if (typeof Bun !== 'undefined') {
    Bun.plugin({
      name: 'ava → bun-ava-shim',
      setup(build) {
        build.module('ava', () => ({ exports: api, loader: 'object' }))
      },
    })
  } else {
    globalThis.__memmapAvaShim = { __esModule: true, ...api } // scripts/ava-shim-resolve.cjs hands this to require('ava')
  }
  console.log('TAP version 13')
  let passed = 0
  let failed = 0
  const counter = { n: 0 }
  for (const spec of specs) {
    const file = path.resolve(spec)
    const prefix = `${path.basename(file).replace(/\.spec\.[cm]?[jt]s$/, '')} › `
    try {
      await import(pathToFileURL(file).href)
      const [p, f] = await run(prefix, counter)
      passed += p
      failed += f
    } catch (error) {
      counter.n++
      failed++
      console.log(`not ok ${counter.n} - ${prefix}loading the spec failed\n  ---\n${describeFailure(error).map((l) => `    ${l}`).join('\n')}\n  ...`)
    }
  }
  console.log(`\n1..${counter.n}\n# tests ${counter.n}\n# pass ${passed}\n# fail ${failed}`)
  // Let the specs' exit handlers (temp dirs) run, as under ava.
  process.exitCode = failed > 0 || passed === 0 || process.exitCode ? 1 : 0
}
