// The model of the model-based property tests (model.spec.ts): what every test file and every map
// should hold, page by page, derived only from the operations applied (never from memmap), and
// the check run after every step against the file on disk (node:fs) and memmap's answers.
//
// A 'read-write' map shares the file's pages. A 'read' or 'copy-on-write' map shows the file's
// pages until a page is stored into; from then on that page is a private copy (`priv`), kept
// across later changes of the file until 'dontneed' drops it. Pages wholly past the end of the
// file (after a truncation) are never touched through views here: that would be SIGBUS (SPEC
// §4.5); library calls on them must throw ERR_MMAP_TRUNCATED, which the check asserts.
import { execFileSync } from 'node:child_process'
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'

import type { MappedFile } from '..'

/** The page size, from the OS (getconf), not from memmap. */
export const PAGE = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim())

export type Mode = 'read' | 'read-write' | 'copy-on-write'

export interface FileModel {
  name: string
  path: string
  /** The file's bytes; null while the file does not exist. */
  data: Buffer | null
}

export type ViewKind = string

export interface ViewModel {
  kind: ViewKind
  /** A TypedArray, DataView, Buffer or ArrayBuffer handed out by memmap. */
  value: ArrayBufferView | ArrayBuffer
  /** Map-relative byte range the view covers. */
  start: number
  byteLength: number
}

export interface MapModel {
  id: number
  real: MappedFile
  file: FileModel
  mode: Mode
  offset: number
  length: number
  trackFile: boolean
  explicitLength: boolean
  byFd: boolean
  sizeAtOpen: number
  /** Private copies of file pages (by file page index), for 'read' and 'copy-on-write' maps. */
  priv: Map<number, Buffer>
  views: ViewModel[]
  /** Views detached by the last close/resize/remap, checked once and then forgotten. */
  detached: ViewModel[]
  protectedRead: boolean
  /** File pages locked by lock(); after a resize or remap of a locked map, unknown (mremap keeps locks, a new map has none). */
  locked: Set<number> | 'unknown'
}

export interface State {
  dir: string
  files: FileModel[]
  maps: MapModel[]
  nextId: number
  /** Maps forgotten without close(): collected by gc at the end of the run. */
  dropped: number
  trace: string[]
}

export const sizeOf = (f: FileModel): number => f.data?.length ?? 0

/** The end (file offset) of the pages still backed by the file: the bytes below it may be touched. */
export const backedEnd = (f: FileModel): number => Math.ceil(sizeOf(f) / PAGE) * PAGE

/** Map-relative end of the bytes that may be read (below it no page is wholly past the file's end). */
export function readableEnd(m: MapModel): number {
  return Math.max(0, Math.min(m.length, backedEnd(m.file) - m.offset))
}

/** Map-relative end of the bytes a store may reach: inside the file itself. */
export function storableEnd(m: MapModel): number {
  return Math.max(0, Math.min(m.length, sizeOf(m.file) - m.offset))
}

/** Whether a library call on map bytes `[start, start + len)` must throw ERR_MMAP_TRUNCATED. */
export function truncated(m: MapModel, start: number, len: number): boolean {
  return len > 0 && m.offset + start + len > backedEnd(m.file)
}

/** The current page `page` of the file as the page cache holds it (zeros past the end). */
function filePage(f: FileModel, page: number): Buffer {
  const out = Buffer.alloc(PAGE)
  const data = f.data ?? Buffer.alloc(0)
  if (page * PAGE < data.length) data.copy(out, 0, page * PAGE, Math.min(data.length, (page + 1) * PAGE))
  return out
}

/** The bytes map `m` shows at `[start, start + len)` (map-relative). */
export function expected(m: MapModel, start: number, len: number): Buffer {
  const out = Buffer.alloc(len)
  const data = m.file.data ?? Buffer.alloc(0)
  for (let i = 0; i < len;) {
    const pos = m.offset + start + i
    const page = Math.floor(pos / PAGE)
    const n = Math.min(len - i, (page + 1) * PAGE - pos)
    const copy = m.priv.get(page)
    if (copy !== undefined) copy.copy(out, i, pos - page * PAGE, pos - page * PAGE + n)
    else if (pos < data.length) data.copy(out, i, pos, Math.min(data.length, pos + n))
    i += n
  }
  return out
}

/** Applies a store of `bytes` at map-relative `start` through map `m` (a view, write or readInto). */
export function store(state: State, m: MapModel, start: number, bytes: Uint8Array): void {
  if (bytes.length === 0) return
  if (m.mode === 'read-write') {
    const data = m.file.data as Buffer
    assert.ok(m.offset + start + bytes.length <= data.length, 'the model stores only inside the file')
    data.set(bytes, m.offset + start)
    return
  }
  for (let i = 0; i < bytes.length;) {
    const pos = m.offset + start + i
    const page = Math.floor(pos / PAGE)
    const n = Math.min(bytes.length - i, (page + 1) * PAGE - pos)
    let copy = m.priv.get(page)
    if (copy === undefined) m.priv.set(page, (copy = filePage(m.file, page)))
    copy.set(bytes.subarray(i, i + n), pos - page * PAGE)
    i += n
  }
}

/**
 * Sets a file's length (truncate or extend with zeros), as ftruncate does. Truncation also takes
 * away the private copies of every page wholly past the new end, in every map of the file: Linux
 * unmaps them "even_cows" (truncate_pagecache), so after a regrowth those pages show the file again.
 */
export function setFileLength(s: State, f: FileModel, size: number): void {
  const data = f.data ?? Buffer.alloc(0)
  const next = Buffer.alloc(size)
  data.copy(next, 0, 0, Math.min(size, data.length))
  f.data = next
  const kept = Math.ceil(size / PAGE)
  for (const m of s.maps) if (m.file === f) for (const page of m.priv.keys()) if (page >= kept) m.priv.delete(page)
}

/** The code `fn` throws, or 'ok'; for comparing with the model's prediction. */
export function outcome(fn: () => unknown): string {
  try {
    fn()
    return 'ok'
  } catch (error) {
    return String((error as { code?: string }).code ?? error)
  }
}

export async function outcomeAsync(p: () => Promise<unknown>): Promise<string> {
  try {
    await p()
    return 'ok'
  } catch (error) {
    return String((error as { code?: string }).code ?? error)
  }
}

/** The bytes of a live view at view-relative `[from, from + n)`. */
export function viewBytes(v: ViewModel, from: number, n: number): Uint8Array {
  if (v.value instanceof ArrayBuffer) return new Uint8Array(v.value, from, n)
  return new Uint8Array(v.value.buffer, v.value.byteOffset + from, n)
}

function byteLengthOf(v: ViewModel): number {
  try {
    return v.value instanceof ArrayBuffer ? v.value.byteLength : v.value.byteLength
  } catch {
    return 0 // a DataView over a detached buffer throws on byteLength
  }
}

/** File pages `[first, last]` covering map bytes `[start, start + n)` (n > 0). */
export function pagesOf(m: MapModel, start: number, n: number): [number, number] {
  return [Math.floor((m.offset + start) / PAGE), Math.floor((m.offset + start + n - 1) / PAGE)]
}

/** Marks every view of `m` detached (close, resize, remap). */
export function detachViews(m: MapModel): void {
  if (m.locked !== 'unknown' && m.locked.size > 0) m.locked = 'unknown'
  m.detached.push(...m.views)
  m.views = []
}

/**
 * The check after every step: each existing file equals its model byte for byte (node:fs), each
 * live map reads what the model says up to the truncation point and throws ERR_MMAP_TRUNCATED
 * past it, each view shows the same bytes, and every view detached since the last step is.
 */
export function check(state: State): void {
  for (const f of state.files) {
    if (f.data === null) {
      assert.equal(fs.existsSync(f.path), false, `${f.name} must not exist`)
      continue
    }
    const disk = fs.readFileSync(f.path)
    if (!disk.equals(f.data))
      assert.fail(`${f.name} on disk (${disk.length} bytes) differs from the model (${f.data.length} bytes) at byte ${firstDiff(disk, f.data)}`)
  }
  for (const m of state.maps) {
    const what = `map ${m.id} (${m.mode}, ${m.file.name}, offset ${m.offset}, length ${m.length}${m.trackFile ? '' : ', trackFile: false'})`
    assert.equal(m.real.closed, false, `${what} is open`)
    assert.equal(m.real.length, m.length, `${what} length`)
    assert.equal(m.real.fileSize, m.trackFile ? sizeOf(m.file) : m.sizeAtOpen, `${what} fileSize`)
    const end = readableEnd(m)
    const want = expected(m, 0, end)
    const got = m.real.read(0, end)
    if (!got.equals(want)) assert.fail(`${what}: read(0, ${end}) differs from the model at byte ${firstDiff(got, want)}`)
    if (end < m.length && m.trackFile)
      assert.equal(
        outcome(() => m.real.read(0, m.length)),
        'ERR_MMAP_TRUNCATED',
        `${what}: read past the cut`,
      )
    for (const v of m.views) {
      assert.equal(byteLengthOf(v), v.byteLength, `${what}: view ${v.kind} keeps its length`)
      const n = Math.max(0, Math.min(v.start + v.byteLength, end) - v.start)
      if (n > 0 && !Buffer.from(viewBytes(v, 0, n)).equals(expected(m, v.start, n))) {
        assert.fail(`${what}: view ${v.kind} at ${v.start} differs from the model`)
      }
    }
    for (const v of m.detached) assert.equal(byteLengthOf(v), 0, `${what}: view ${v.kind} is detached`)
    m.detached = []
  }
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i
  return n
}

/** Entries of /proc/self/maps and /proc/self/fd naming a file under `dir` (deleted or not). */
export function procEntries(dir: string): { maps: string[]; fds: string[] } {
  const maps = fs
    .readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((l) => l.includes(` ${dir}/`))
  const fds: string[] = []
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`)
      if (target.startsWith(`${dir}/`)) fds.push(`${fd} -> ${target}`)
    } catch {
      // closed meanwhile (the descriptor readdir itself used)
    }
  }
  return { maps, fds }
}
