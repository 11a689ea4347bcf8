// The operations of the model-based property tests and how each changes the model (model.ts).
// An operation is a kind and five naturals that fast-check generates and shrinks; `apply` turns
// the naturals into concrete arguments against the current state (which map, which range), runs
// the call on memmap, predicts its outcome from the model alone and asserts it. Operations that
// would touch a page wholly past the end of a file through a view (SIGBUS by design, SPEC §4.5) or
// through a map that skips the size check (`trackFile: false`) are skipped, not run.
import * as assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'

import { open, openSync, type Advice, type MappedFile } from '..'
import * as model from './model'
import { PAGE, expected, outcome, outcomeAsync, sizeOf, store, truncated, type MapModel, type State, type ViewModel } from './model'
import { applyView, applyStore } from './model-views'

export interface Op {
  k: string
  a: number
  b: number
  c: number
  d: number
  e: number
}

const MODES = ['read', 'read-write', 'copy-on-write'] as const
const ADVICE: Advice[] = ['normal', 'sequential', 'random', 'willneed', 'dontneed', 'hugepage']
const pick = <T>(items: readonly T[], n: number): T => items[n % items.length]

/** Deterministic bytes for a seed (mulberry32), so a shrunk sequence replays the same data. */
export function bytesFor(seed: number, n: number): Buffer {
  const out = Buffer.alloc(n)
  let s = seed >>> 0
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0
    let t = Math.imul(s ^ (s >>> 15), 1 | s)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    out[i] = (t ^ (t >>> 14)) & 0xff
  }
  return out
}

/** A range `[start, start + n)` of a map chosen from two naturals; `whole` when b's low bit is 0. */
function rangeOf(m: MapModel, b: number, c: number): { start: number; n: number; arg?: { offset: number; length: number } } {
  if ((b & 1) === 0) return { start: 0, n: m.length }
  const start = (b >> 1) % (m.length + 1)
  const n = c % (m.length - start + 1)
  return { start, n, arg: { offset: start, length: n } }
}

const expect = (got: string, want: string, what: string) => assert.equal(got, want, `${what}: memmap answered ${got}, the model says ${want}`)

async function openOp(s: State, o: Op): Promise<void> {
  const f = s.files[[0, 0, 0, 1, 1, 2][o.a % 6]] // the missing c.bin less often
  const mode = pick(MODES, o.b)
  const byFd = (o.c & 1) === 1 && f.data !== null
  const useAsync = (o.c & 2) === 2
  const trackFile = (o.c & 28) !== 0
  const populate = (o.c & 32) !== 0
  const advice = pick(ADVICE, o.c >> 6)
  const create = mode === 'read-write' && !byFd ? [undefined, undefined, true, 'exclusive' as const][(o.c >> 9) & 3] : undefined
  const size = mode === 'read-write' && (o.d & 3) === 0 ? (o.d >> 2) % (6 * PAGE + 100) : undefined
  const exists = f.data !== null
  const grown = Math.max(sizeOf(f), exists || create !== undefined ? (size ?? 0) : 0)
  const raw = o.e >> 2
  const offset = (o.e & 3) === 0 ? PAGE * (raw % 3) : raw % (grown + 2)
  const length = (o.b >> 2) & 1 ? undefined : (o.b >> 3) % Math.max(1, grown - offset + 2)
  const options = { mode, offset, length, size, create, populate, advice, trackFile }
  let want = 'ok'
  if (mode === 'copy-on-write' && advice === 'dontneed') want = 'ERR_MMAP_UNSUPPORTED'
  else if (!exists && create === undefined) want = 'ENOENT'
  else if (exists && create === 'exclusive') want = 'EEXIST'
  else if (offset > grown || (length !== undefined && offset + length > grown)) want = 'ERR_OUT_OF_RANGE'
  s.trace.push(`${useAsync ? 'await open' : 'openSync'}(${byFd ? 'fd of ' : ''}${f.name}, ${JSON.stringify(options)}) -> map ${s.nextId}, expect ${want}`)
  let fd: number | undefined
  let map: MappedFile | undefined
  const got = await outcomeAsync(async () => {
    if (byFd) fd = fs.openSync(f.path, mode === 'read-write' ? 'r+' : 'r')
    try {
      const target = fd ?? f.path
      map = useAsync ? await open(target, options) : openSync(target, options)
    } finally {
      if (fd !== undefined) fs.closeSync(fd)
    }
  })
  expect(got, want, 'open')
  if (map === undefined) return
  if (!exists) f.data = Buffer.alloc(0)
  model.setFileLength(s, f, grown)
  const m: MapModel = {
    id: s.nextId++,
    real: map,
    file: f,
    mode,
    offset,
    length: length ?? grown - offset,
    trackFile,
    explicitLength: length !== undefined,
    byFd,
    sizeAtOpen: grown,
    priv: new Map(),
    views: [],
    detached: [],
    protectedRead: false,
    locked: new Set(),
  }
  assert.equal(map.path, byFd ? null : f.path)
  s.maps.push(m)
}

/** Source or target buffers that are not map views: a heap Buffer, a pooled one, a SharedArrayBuffer. */
function plainBuffer(kind: string, n: number): Uint8Array {
  if (kind === 'pooled') {
    const b = Buffer.allocUnsafe(n) // below Buffer.poolSize >>> 1: a slice of Node's shared pool (Bun has none)
    // The pool's ArrayBuffer is at least poolSize bytes (Node 26 pads it: 65,600 for 65,536).
    if (!process.versions.bun) assert.ok(n === 0 || n >= Buffer.poolSize >>> 1 || b.buffer.byteLength >= Buffer.poolSize, 'a pooled Buffer')
    return b
  }
  if (kind === 'sab') return new Uint8Array(new SharedArrayBuffer(n + 8), 3, n)
  return Buffer.alloc(n)
}

/** A Uint8Array view of map `x` over `[start, start + n)`, recorded in the model; null when not safe to touch. */
function mapWindow(x: MapModel, start: number, n: number, forStore: boolean): Uint8Array | null {
  const limit = forStore ? model.storableEnd(x) : model.readableEnd(x)
  if (start + n > limit) return null
  const value = x.real.view(Uint8Array, start, n)
  x.views.push({ kind: 'Uint8Array', value, start, byteLength: n })
  return value
}

function writeOp(s: State, m: MapModel, o: Op): void {
  const kind = pick(['heap', 'pooled', 'sab', 'view'], o.b)
  const start = (o.d >> 3) % (m.length + 1)
  let n = Math.min(o.c % (kind === 'pooled' ? (Buffer.poolSize >>> 1) - 1 : 2 * PAGE), m.length - start)
  if (truncated(m, start, n)) {
    if (!m.trackFile) return // no size check: the store would fault
  } else if (start + n > model.storableEnd(m)) {
    n = Math.max(0, model.storableEnd(m) - start) // never store past the end of the file (see model.ts)
  }
  let source: Uint8Array | null
  let bytes: Buffer
  let from = 'a heap Buffer'
  if (kind === 'view') {
    const x = pick(s.maps, o.e)
    const xs = (o.e >> 4) % (x.length + 1)
    // A copy onto itself may store nothing (memmove returns early): whether a private page is made is not determined.
    if (xs + n > x.length || (x === m && xs === start)) return
    bytes = expected(x, xs, n)
    source = mapWindow(x, xs, n, false)
    from = `a view of map ${x.id} at ${xs}`
  } else {
    bytes = bytesFor(o.e, n)
    source = plainBuffer(kind, n)
    source.set(bytes)
    from = `a ${kind} buffer`
  }
  if (source === null) return
  let want = 'ok'
  if (m.mode === 'read') want = 'ERR_MMAP_READ_ONLY'
  else if (truncated(m, start, n)) want = 'ERR_MMAP_TRUNCATED'
  else if (m.protectedRead && n > 0) want = 'ERR_MMAP_READ_ONLY'
  s.trace.push(`map ${m.id}.write(${from}, ${start}) of ${n} bytes, expect ${want}`)
  expect(
    outcome(() => assert.equal(m.real.write(source as Uint8Array, start), n)),
    want,
    'write',
  )
  if (want === 'ok') store(s, m, start, bytes)
}

function readIntoOp(s: State, m: MapModel, o: Op): void {
  const kind = pick(['heap', 'pooled', 'sab', 'view', 'dataView'], o.b)
  const start = (o.d >> 3) % (m.length + 1)
  const n = Math.min(o.c % (kind === 'pooled' ? (Buffer.poolSize >>> 1) - 1 : 2 * PAGE), m.length - start)
  if (truncated(m, start, n) && !m.trackFile) return
  let target: ArrayBufferView | null
  let y: MapModel | undefined
  let ys = 0
  if (kind === 'view' || kind === 'dataView') {
    y = pick(s.maps, o.e)
    ys = (o.e >> 4) % (y.length + 1)
    if (ys + n > model.storableEnd(y) || (y === m && ys === start)) return // as in writeOp
    target = kind === 'view' ? mapWindow(y, ys, n, true) : y.real.dataView(ys, n)
    if (kind === 'dataView') y.views.push({ kind: 'DataView', value: target as DataView, start: ys, byteLength: n })
  } else {
    target = plainBuffer(kind, n)
  }
  if (target === null) return
  let want = 'ok'
  if (truncated(m, start, n)) want = 'ERR_MMAP_TRUNCATED'
  else if (y?.protectedRead && n > 0) want = 'ERR_MMAP_READ_ONLY'
  s.trace.push(`map ${m.id}.readInto(${y ? `a ${kind} of map ${y.id} at ${ys}` : `a ${kind} buffer`}, ${start}) of ${n} bytes, expect ${want}`)
  const bytes = expected(m, start, n)
  expect(
    outcome(() => assert.equal(m.real.readInto(target as ArrayBufferView, start), n)),
    want,
    'readInto',
  )
  if (want !== 'ok') return
  if (y !== undefined) store(s, y, ys, bytes)
  else assert.ok(Buffer.from(target.buffer, target.byteOffset, n).equals(bytes), 'readInto copied the model bytes')
}

/** The oracle of the bounded search (SPEC §3): brute force over the model's bytes. */
function searchOracle(hay: Buffer, needle: Buffer, from: number, to: number, last: boolean): { answer: number; window: [number, number] } {
  const n = needle.length
  const lo = last ? to : from
  const hi = last ? Math.min(from, hay.length - n) : to - n
  if (hi < lo) return { answer: -1, window: [0, 0] }
  const at = (i: number) => hay.subarray(i, i + n).equals(needle)
  let answer = -1
  if (last) {
    for (let i = hi; i >= lo && answer < 0; i--) if (at(i)) answer = i
  } else {
    for (let i = lo; i <= hi && answer < 0; i++) if (at(i)) answer = i
  }
  return { answer, window: [lo, hi + n] }
}

async function searchOp(s: State, m: MapModel, o: Op): Promise<void> {
  const call = pick(['indexOf', 'lastIndexOf', 'indexOfAsync'], o.a >> 3)
  const readable = model.readableEnd(m)
  const hay = expected(m, 0, m.length)
  let needle: Buffer
  if ((o.b & 1) === 1 && readable > 0) {
    const at = (o.b >> 3) % readable
    needle = hay.subarray(at, Math.min(readable, at + 1 + ((o.b >> 1) & 3)))
  } else {
    needle = bytesFor(o.b, 1 + ((o.b >> 1) & 1))
  }
  const asNumber = needle.length === 1 && (o.c & 1) === 1
  const last = call === 'lastIndexOf'
  // Each bound given (sometimes counted from the end, as a negative offset) or left to its default.
  const given = (bit: number, value: number) => ((o.e >> bit) & 1 ? (value < m.length && (o.e >> (bit + 1)) & 1 ? value - m.length : value) : undefined)
  const fromArg = given(0, (o.c >> 2) % (m.length + 1))
  const toArg = given(2, o.d % (m.length + 1))
  const resolve = (v: number | undefined, fallback: number) => (v === undefined ? fallback : v < 0 ? v + m.length : v)
  const from = resolve(fromArg, last ? m.length : 0)
  const to = resolve(toArg, last ? 0 : m.length)
  const { answer, window } = searchOracle(hay, needle, from, to, last)
  const cut = truncated(m, window[0], window[1] - window[0])
  if (cut && !m.trackFile) return
  const want = cut ? 'ERR_MMAP_TRUNCATED' : String(answer)
  s.trace.push(`map ${m.id}.${call}(${asNumber ? needle[0] : `<${needle.toString('hex')}>`}, ${fromArg}, ${toArg}), expect ${want}`)
  const arg = asNumber ? needle[0] : Buffer.from(needle)
  let got: string
  try {
    if (call === 'indexOf') got = String(m.real.indexOf(arg, fromArg, toArg))
    else if (call === 'lastIndexOf') got = String(m.real.lastIndexOf(arg, fromArg, toArg))
    else got = String(await m.real.indexOfAsync(arg, { from: fromArg, to: toArg }))
  } catch (error) {
    got = String((error as { code?: string }).code ?? error)
  }
  expect(got, want, call)
}

async function flushOp(s: State, m: MapModel, o: Op): Promise<void> {
  const r = rangeOf(m, o.b, o.c)
  const cut = truncated(m, r.start, r.n)
  if (cut && !m.trackFile) return
  const want = cut ? 'ERR_MMAP_TRUNCATED' : 'ok'
  const call = pick(['flushSync', 'flush', 'prefetch'], o.a >> 3)
  s.trace.push(`map ${m.id}.${call}(${JSON.stringify(r.arg)}), expect ${want}`)
  const got =
    call === 'flushSync' ? outcome(() => m.real.flushSync(r.arg)) : await outcomeAsync(() => (call === 'flush' ? m.real.flush(r.arg) : m.real.prefetch(r.arg)))
  expect(got, want, call)
}

function adviseOp(s: State, m: MapModel, o: Op): void {
  const advice = pick(ADVICE, o.d)
  const r = rangeOf(m, o.b, o.c)
  const locking = (o.d >> 3) % 4 === 0
  if (locking) {
    if (truncated(m, r.start, r.n)) return // populating a page past the end is EFAULT or SIGBUS, not a library promise
    const unlock = ((o.d >> 5) & 1) === 1
    s.trace.push(`map ${m.id}.${unlock ? 'unlock' : 'lock'}(${JSON.stringify(r.arg)})`)
    if (unlock) m.real.unlock(r.arg)
    else m.real.lock(r.arg)
    if (r.n > 0 && m.locked !== 'unknown') {
      const [first, last] = model.pagesOf(m, r.start, r.n)
      for (let page = first; page <= last; page++) {
        if (unlock) m.locked.delete(page)
        else m.locked.add(page)
      }
    }
    return
  }
  const [first, last] = r.n > 0 ? model.pagesOf(m, r.start, r.n) : [1, 0]
  const inRange = (page: number) => page >= first && page <= last
  const locked = m.locked === 'unknown' ? 'maybe' : [...m.locked].some(inRange) ? 'yes' : 'no'
  const accept = new Set(['ok'])
  if (advice === 'dontneed' && m.mode === 'copy-on-write') {
    accept.delete('ok')
    accept.add('ERR_MMAP_UNSUPPORTED')
  } else if (advice === 'dontneed' && locked !== 'no') {
    // madvise(MADV_DONTNEED) refuses locked pages with EINVAL, possibly after dropping pages of
    // an unlocked part of the range: skip when that would leave private pages undetermined.
    if (m.mode === 'read' && [...m.priv.keys()].some(inRange)) return
    if (locked === 'yes') accept.delete('ok')
    accept.add('EINVAL')
  }
  s.trace.push(`map ${m.id}.advise('${advice}', ${JSON.stringify(r.arg)}), expect ${[...accept].join(' or ')}`)
  let code = 'ok'
  try {
    m.real.advise(advice, r.arg)
  } catch (error) {
    const e = error as { code?: string; syscall?: string }
    code = String(e.code ?? error)
    if (code === 'EINVAL') assert.equal(e.syscall, 'madvise', 'an madvise failure names its syscall')
  }
  assert.ok(accept.has(code), `advise: memmap answered ${code}, the model says ${[...accept].join(' or ')}`)
  if (code === 'ok' && advice === 'dontneed' && m.mode === 'read') for (const page of m.priv.keys()) if (inRange(page)) m.priv.delete(page)
}

function resizeOp(s: State, m: MapModel, o: Op): void {
  const newLength = o.b % (4 * PAGE + 300)
  let want = 'ok'
  if (m.mode === 'read') want = 'ERR_MMAP_READ_ONLY'
  else if (m.mode === 'copy-on-write' || !m.trackFile) want = 'ERR_MMAP_UNSUPPORTED'
  s.trace.push(`map ${m.id}.resize(${newLength}), expect ${want}`)
  expect(
    outcome(() => m.real.resize(newLength)),
    want,
    'resize',
  )
  if (want !== 'ok') return
  model.setFileLength(s, m.file, m.offset + newLength)
  m.length = newLength
  model.detachViews(m)
}

function remapOp(s: State, m: MapModel): void {
  if (m.priv.size > 0) return // mremap keeps private pages, a fresh map drops them: not determined
  let want = 'ok'
  if (m.mode === 'read-write' || m.explicitLength || !m.trackFile) want = 'ERR_MMAP_UNSUPPORTED'
  else if (m.offset > sizeOf(m.file)) want = 'ERR_OUT_OF_RANGE'
  s.trace.push(`map ${m.id}.remap(), expect ${want}`)
  expect(
    outcome(() => assert.equal(m.real.remap(), sizeOf(m.file) - m.offset)),
    want,
    'remap',
  )
  if (want !== 'ok') return
  m.length = sizeOf(m.file) - m.offset
  model.detachViews(m)
}

function protectOp(s: State, m: MapModel, o: Op): void {
  const p = o.b & 1 ? 'read' : 'read-write'
  const want = m.mode === 'read-write' ? 'ok' : 'ERR_MMAP_UNSUPPORTED'
  s.trace.push(`map ${m.id}.protect('${p}'), expect ${want}`)
  expect(
    outcome(() => m.real.protect(p)),
    want,
    'protect',
  )
  if (want === 'ok') m.protectedRead = p === 'read'
}

/** Another writer: node:fs in this process, or a `truncate` child process. */
function externalOp(s: State, o: Op): void {
  const f = pick(s.files, o.a >> 3)
  if (f.data === null) return
  if ((o.b & 1) === 0) {
    const pos = (o.b >> 1) % (f.data.length + PAGE)
    const bytes = bytesFor(o.d, 1 + (o.c % (PAGE + 100)))
    s.trace.push(`fs.writeSync(${f.name}, ${bytes.length} bytes at ${pos})`)
    const fd = fs.openSync(f.path, 'r+')
    try {
      fs.writeSync(fd, bytes, 0, bytes.length, pos)
    } finally {
      fs.closeSync(fd)
    }
    if (pos + bytes.length > f.data.length) model.setFileLength(s, f, pos + bytes.length)
    ;(f.data as Buffer).set(bytes, pos)
    return
  }
  const size = (o.b >> 1) % (6 * PAGE + 100)
  const child = o.c % 16 === 0
  s.trace.push(`${child ? 'child process truncate -s' : 'fs.truncateSync'}(${f.name}, ${size})`)
  if (child) {
    const r = spawnSync('truncate', ['-s', String(size), f.path])
    assert.equal(r.status, 0, String(r.stderr))
  } else {
    fs.truncateSync(f.path, size)
  }
  model.setFileLength(s, f, size)
}

function closeOp(s: State, m: MapModel, o: Op): void {
  s.maps.splice(s.maps.indexOf(m), 1)
  // Bun's collector scans the stack conservatively: a dropped map may stay reachable for an
  // unbounded number of collections there, so only Node drops maps (lifecycle.spec.ts covers Bun's).
  if ((o.b & 7) === 0 && !process.versions.bun) {
    s.trace.push(`drop map ${m.id} without close()`)
    s.dropped++
    return
  }
  s.trace.push(`map ${m.id}.close()`)
  m.real.close()
  m.real.close()
  assert.equal(m.real.closed, true)
  assert.equal(m.real.length, m.length, 'length keeps its value after close')
  for (const v of [...m.views, ...m.detached])
    assert.equal(
      v.value instanceof ArrayBuffer
        ? v.value.byteLength
        : v.value instanceof DataView
          ? outcome(() => (v.value as DataView).byteLength) === 'ok'
            ? -1
            : 0
          : v.value.byteLength,
      0,
      `view ${v.kind} of map ${m.id} detached by close()`,
    )
  assert.equal(
    outcome(() => m.real.read(0, 0)),
    'ERR_MMAP_CLOSED',
  )
}

/** An async call (flush, indexOfAsync, prefetch) with close() or resize() right after it, before it settles. */
async function raceOp(s: State, m: MapModel, o: Op): Promise<void> {
  const call = pick(['flush', 'indexOfAsync', 'prefetch'], o.b)
  const resizing = (o.c & 1) === 1 && m.mode === 'read-write' && m.trackFile
  const cut = truncated(m, 0, m.length)
  if (cut && !m.trackFile) return
  const needle = bytesFor(o.d, 1)
  const answer = searchOracle(expected(m, 0, m.length), needle, 0, m.length, false).answer
  const done = call === 'indexOfAsync' ? String(answer) : 'ok'
  const accept = new Set([cut ? 'ERR_MMAP_TRUNCATED' : done])
  if (!resizing) accept.add('ERR_MMAP_CLOSED')
  const newLength = o.e % (4 * PAGE + 300)
  // The size check runs on the pool thread, before or after the resize changed the file's size.
  if (resizing && cut) accept.add(m.length > 0 && m.length > Math.ceil((m.offset + newLength) / PAGE) * PAGE - m.offset ? 'ERR_MMAP_TRUNCATED' : done)
  s.trace.push(`map ${m.id}.${call}() racing ${resizing ? `resize(${newLength})` : 'close()'}, expect ${[...accept].join(' or ')}`)
  const p = call === 'flush' ? m.real.flush() : call === 'prefetch' ? m.real.prefetch() : m.real.indexOfAsync(needle)
  const settled = p.then(
    (v) => (v === undefined ? 'ok' : String(v)),
    (e) => String(e.code ?? e),
  )
  if (resizing) {
    m.real.resize(newLength)
    model.setFileLength(s, m.file, m.offset + newLength)
    m.length = newLength
    model.detachViews(m)
  } else {
    closeOp(s, m, { ...o, b: 1 })
  }
  const got = await settled
  assert.ok(accept.has(got), `${call} racing: got ${got}, expected ${[...accept].join(' or ')}`)
}

/** open() in flight while another writer changes the file's size: the map has either size. */
async function openRaceOp(s: State, o: Op): Promise<void> {
  const f = pick(s.files, o.a >> 3)
  if (f.data === null) return
  const before = f.data.length
  const after = (o.b >> 1) % (6 * PAGE + 100)
  s.trace.push(`await open(${f.name}) racing fs.truncateSync(${f.name}, ${after}) -> map ${s.nextId}`)
  const p = open(f.path)
  fs.truncateSync(f.path, after)
  model.setFileLength(s, f, after)
  const map = await p
  assert.ok(map.length === before || map.length === after, `open() racing a truncation mapped ${map.length} bytes, neither ${before} nor ${after}`)
  s.maps.push({
    id: s.nextId++,
    real: map,
    file: f,
    mode: 'read',
    offset: 0,
    length: map.length,
    trackFile: true,
    explicitLength: false,
    byFd: false,
    sizeAtOpen: map.length,
    priv: new Map(),
    views: [],
    detached: [],
    protectedRead: false,
    locked: new Set(),
  })
  // fileSize is fstat now, not the size at open: the check compares it with the model's size.
}

/** Runs one operation against the state; returns without effect when it does not apply. */
export async function apply(s: State, o: Op): Promise<void> {
  if (o.k === 'open') return openOp(s, o)
  if (o.k === 'external') return externalOp(s, o)
  if (o.k === 'openRace') return openRaceOp(s, o)
  if (s.maps.length === 0) return
  const m = pick(s.maps, o.a)
  switch (o.k) {
    case 'view':
      return applyView(s, m, o)
    case 'store':
      return applyStore(s, o)
    case 'write':
      return writeOp(s, m, o)
    case 'read': {
      const r = rangeOf(m, 1 | (o.b << 1), o.c)
      const cut = truncated(m, r.start, r.n)
      if (cut && !m.trackFile) return
      s.trace.push(`map ${m.id}.read(${r.start}, ${r.n})`)
      const got = outcome(() => assert.ok(m.real.read(r.start, r.n).equals(expected(m, r.start, r.n)), 'read() returns the model bytes'))
      return expect(got, cut ? 'ERR_MMAP_TRUNCATED' : 'ok', 'read')
    }
    case 'readInto':
      return readIntoOp(s, m, o)
    case 'search':
      return searchOp(s, m, o)
    case 'flush':
      return flushOp(s, m, o)
    case 'advise':
      return adviseOp(s, m, o)
    case 'resize':
      return resizeOp(s, m, o)
    case 'remap':
      return remapOp(s, m)
    case 'protect':
      return protectOp(s, m, o)
    case 'close':
      return closeOp(s, m, o)
    case 'race':
      return raceOp(s, m, o)
  }
  throw new Error(`unknown operation ${o.k}`)
}

export type { ViewModel }
