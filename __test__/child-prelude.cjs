// Loaded with `-r` (node --require, bun --preload) into every child of __test__/child.ts, so the
// child's code starts with these globals:
//   memmap       the package at MEMMAP_ROOT (loaded on first use, so a later -r can still prepare it)
//   fs           node:fs
//   file, real   MAP_FILE and its real path, when the parent named a file
//   mapsLines()  the lines of /proc/self/maps; fileMaps() those of `real`
//   fds()        the open descriptors (/proc/self/fd, numerically); fileFds() how many are on `real`
//   statusKb(f)  a field of /proc/self/status in kB (e.g. 'RssAnon', 'VmLck')
//   describeError(e)  an error's class, code, errno, syscall, path and message, as JSON can carry
//   thrown(fn)   describeError of what fn throws; null if it returns
//   thrownCode(fn) the code of what fn throws (else its string), or null
//   hex(view)    the bytes of a view as hex
//   collect()    a full garbage collection (needs --expose-gc on Node)
//   report(v)    writes v as the JSON line the parent reads (the last line of stdout)
//   reportAsync(fn)  reports what the async fn returns; if it rejects, prints the error and exits 70
//   say(line)    writes one line to stdout (to a parent talking to the child: child.ts `converse`)
//   nextLine()   a promise of the next line on stdin, or null once stdin is closed (read from first use)
'use strict'
const fs = require('node:fs')

/** Defines globalThis[name] as get()'s value, computed on first use. */
const lazy = (name, get) =>
  Object.defineProperty(globalThis, name, {
    configurable: true,
    get() {
      const value = get()
      Object.defineProperty(globalThis, name, { value, configurable: true, writable: true })
      return value
    },
  })
lazy('memmap', () => require(process.env.MEMMAP_ROOT))
lazy('real', () => fs.realpathSync(process.env.MAP_FILE))

/** /proc/self/<name>; throws off Linux (wine's \proc would be the emulator's own, an oracle that always agrees). */
function proc(name) {
  if (process.platform !== 'linux') throw new Error(`/proc/self/${name} exists on Linux only: mark the test linuxOnly (__test__/helpers.ts)`)
  return `/proc/self/${name}`
}

/** The lines of stdin, read from the first call of nextLine() (before that stdin is left alone). */
let nextStdinLine
function nextLine() {
  if (nextStdinLine === undefined) {
    const queue = []
    const waiting = []
    let closed = false
    const lines = require('node:readline').createInterface({ input: process.stdin })
    lines.on('line', (line) => (waiting.length > 0 ? waiting.shift()(line) : queue.push(line)))
    lines.on('close', () => {
      closed = true
      for (const resolve of waiting.splice(0)) resolve(null)
    })
    nextStdinLine = () => (queue.length > 0 ? Promise.resolve(queue.shift()) : closed ? Promise.resolve(null) : new Promise((resolve) => waiting.push(resolve)))
  }
  return nextStdinLine()
}

Object.assign(globalThis, {
  nextLine,
  say: (line) => process.stdout.write(line + '\n'),
  fs,
  file: process.env.MAP_FILE,
  mapsLines: () => fs.readFileSync(proc('maps'), 'utf8').trim().split('\n'),
  fileMaps: () => globalThis.mapsLines().filter((l) => l.endsWith(' ' + globalThis.real)),
  fds: () => fs.readdirSync(proc('fd')).sort((a, b) => a - b),
  fileFds() {
    const real = globalThis.real
    return globalThis.fds().filter((fd) => {
      try {
        return fs.readlinkSync('/proc/self/fd/' + fd) === real
      } catch {
        return false
      }
    }).length
  },
  statusKb: (field) => Number(new RegExp('^' + field + ':\\s+(\\d+) kB', 'm').exec(fs.readFileSync(proc('status'), 'utf8'))[1]),
  describeError: (e) => ({ name: e.constructor.name, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, message: String(e.message) }),
  thrown(fn) {
    try {
      fn()
      return null
    } catch (e) {
      return globalThis.describeError(e)
    }
  },
  thrownCode(fn) {
    try {
      fn()
      return null
    } catch (e) {
      return e.code ?? String(e)
    }
  },
  hex: (view) => Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('hex'),
  collect: () => (globalThis.gc ? globalThis.gc() : Bun.gc(true)),
  report: (value) => process.stdout.write(JSON.stringify(value) + '\n'),
  reportAsync(fn) {
    Promise.resolve()
      .then(fn)
      .then(
        (value) => process.stdout.write('\n' + JSON.stringify(value ?? null) + '\n'),
        (error) => {
          console.error(error)
          process.exit(70)
        },
      )
  },
})
