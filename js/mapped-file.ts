// MappedFile: the public face of one mapping. ArrayBuffers are created lazily, tracked by the
// binding and detached by close() and resize(); read/readInto/write/indexOf/flush never create
// one. Maps larger than one ArrayBuffer serve windows from overlapping chunks.
import { constants as bufferConstants } from 'node:buffer'

import { argError, fromNative, mmapError } from './errors'
import type {
  Advice,
  FileLock,
  FileLockOptions,
  IndexOfAsyncOptions,
  LockFileOptions,
  WaitOptions,
  WaitResult,
  Mode,
  PrefetchOptions,
  Range,
  SharedMapToken,
  ViewOrCopy,
} from '../index'
import { HeldFileLock, lockFile, lockRange, lockRequest, rejectPendingLocks } from './file-lock'
import { native, type NativeMap } from './native'
import type { BindingAdvice } from '../native/binding'
import { ADVICE, binding } from './options'
import { prefetch } from './prefetch'
import { tokenOf } from './share-token'
import * as search from './search'
import { boolean, builtinElementSize, byteCount, byteLengthOf, bytesOf, checkRange, elementSize, object, oneOf } from './validate'
import { ViewCache } from './view-cache'
import { viewOrCopy } from './view-or-copy'
import { notify, waitAsync, waitSync, wakeWaiters } from './wait'

/** The largest ArrayBuffer this runtime can create: 2^32 on Node 20 and Bun, 2^53-1 on Node 22+. */
export const maxViewBytes: number = bufferConstants.MAX_LENGTH

interface ViewConstructor<T> {
  readonly BYTES_PER_ELEMENT: number
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T
}

// Maps collected without close() are reported by the binding's finalizer (not a JS
// FinalizationRegistry: registering every map there would promote each one to the old heap and
// grow the process's mappings in a tight open/close loop).
native.setUnclosedListener((what: string) => {
  process.emitWarning(`Closing memory map of ${what} on garbage collection; call close() or use \`using\``, {
    type: 'Warning',
    code: 'MEMMAP_UNCLOSED',
  })
})

/** Internal: what `openSync`, `open` and `allocate` hand the constructor. */
export interface MappedFileInit {
  native: NativeMap
  path: string | null
  mode: Mode
  offset: number
}

/** One mapped range of a file, or anonymous memory. Create it with `openSync`, `open` or `allocate`. */
export class MappedFile {
  readonly #path: string | null
  readonly #mode: Mode
  readonly #offset: number
  #length: number
  #native: NativeMap | null
  #buffer: ArrayBuffer | undefined
  #bytes: Uint8Array | undefined
  /** The buffers views stand on (view-cache.ts). */
  /** Made at the first view or `buffer`: a map used only through read/write/indexOf makes none. */
  #views: ViewCache | undefined
  /** `#views.whole` as last seen (refreshed where views are made, cleared with them): `view()`'s fast path. */
  #whole: ArrayBuffer | undefined
  /** The map's offset modulo 8: `#whole` starts that many bytes before the map. */
  readonly #shift: number

  /** @internal Use `openSync`, `open` or `allocate`. */
  constructor(init: MappedFileInit) {
    this.#native = init.native
    this.#path = init.path
    this.#mode = init.mode
    this.#offset = init.offset
    this.#shift = init.offset % 8
    this.#length = native.length(init.native)
  }

  /** The path as opened (a URL converted, a Buffer decoded as UTF-8), or null. */
  get path(): string | null {
    return this.#path
  }
  get mode(): Mode {
    return this.#mode
  }
  /** Byte offset of the mapping in the file. */
  get offset(): number {
    return this.#offset
  }
  /** Bytes mapped. */
  get length(): number {
    return this.#length
  }
  get closed(): boolean {
    return this.#native === null
  }
  /** The file's current size in bytes (fstat). */
  get fileSize(): number {
    return this.#call((n) => native.fileSize(n))
  }
  /** Huge pages backing the map: 'hugetlb' or 'thp' for `allocate(n, { hugePages: true })`, else false. */
  get hugePages(): 'hugetlb' | 'thp' | false {
    const kind = native.hugePages(this.#live())
    return kind === 'hugetlb' || kind === 'thp' ? kind : false
  }
  /** True when the OS refused a private writable map and 'read' fell back to a read-only one. */
  get strayWritesFault(): boolean {
    return native.strayWritesFault(this.#live())
  }

  /** The mapped bytes `[offset, offset + length)` as one ArrayBuffer; the same object until close. */
  get buffer(): ArrayBuffer {
    this.#live()
    // A buffer moved away by transfer() is detached here: make a new one.
    if (this.#buffer !== undefined && byteLengthOf(this.#buffer) !== this.#length) this.#buffer = this.#bytes = undefined
    if (this.#buffer === undefined) {
      if (this.#length > maxViewBytes) {
        throw mmapError(
          'ERR_MMAP_VIEW_TOO_LARGE',
          `the map's ${this.#length} bytes exceed this runtime's view limit of ${maxViewBytes} bytes; use view(), dataView() or read() on a window`,
        )
      }
      this.#buffer = this.#offset % 8 === 0 ? this.#viewCache().chunk(this.#length, { k: 0, begin: 0, size: this.#length }) : this.#create(0, 0, this.#length)
    }
    return this.#buffer
  }

  /** `new Uint8Array(buffer)`, cached. */
  get bytes(): Uint8Array {
    const buffer = this.buffer
    if (this.#bytes === undefined || this.#bytes.buffer !== buffer) this.#bytes = new Uint8Array(buffer)
    return this.#bytes
  }

  /**
   * A zero-copy TypedArray over `[byteOffset, byteOffset + length * BYTES_PER_ELEMENT)`.
   * `(offset + byteOffset)` must be a multiple of the element size.
   */
  view<T>(Type: ViewConstructor<T> | typeof Buffer, byteOffset: number | bigint = 0, length?: number | bigint): T {
    // Fast path, kept small so it inlines into the caller's loop: a built-in TypedArray over the
    // cached chunk of a map that fits in one (`whole`: the map and the `shift` bytes before it,
    // so it starts at a multiple of 8 in the file), with plain integer arguments. The
    // constructor itself checks the window against `whole`: in bounds, and aligned relative to
    // its start, hence in the file. The only checks here are the ones it does not make: a start
    // inside the map (not in the `shift` bytes) and an integral length. Anything else (closed, chunk not yet made or moved
    // away by transfer(), bigints, subclasses, Buffer, a window the constructor refuses) takes
    // #view, which makes the chunk or throws the coded error.
    const whole = this.#whole
    if (
      whole !== undefined &&
      typeof byteOffset === 'number' &&
      typeof length === 'number' &&
      byteOffset >>> 0 === byteOffset &&
      length >>> 0 === length &&
      builtinElementSize(Type) !== undefined
    ) {
      try {
        return new (Type as ViewConstructor<T>)(whole, byteOffset + this.#shift, length)
      } catch {
        // Out of bounds, misaligned, or detached by transfer(): #view throws or remakes the chunk.
      }
    }
    return this.#view(Type, byteOffset, length)
  }

  #view<T>(Type: ViewConstructor<T> | typeof Buffer, byteOffset: number | bigint, length: number | bigint | undefined): T {
    this.#live()
    if (Type === Buffer) {
      const [start, count] = this.#window('byteOffset', byteOffset, length, 1)
      const [ab, at] = this.#windowBuffer(start, count)
      return Buffer.from(ab, at, count) as T
    }
    const size = elementSize(Type)
    if (size === undefined) throw argError('ERR_INVALID_ARG_TYPE', 'Type', 'a TypedArray constructor', Type)
    const [start, count] = this.#window('byteOffset', byteOffset, length, size)
    if ((this.#offset + start) % size !== 0) {
      throw mmapError('ERR_MMAP_UNALIGNED', `offset + byteOffset (${this.#offset} + ${start}) must be a multiple of the element size ${size}`)
    }
    const [ab, at] = this.#windowBuffer(start, count * size)
    try {
      return new (Type as ViewConstructor<T>)(ab, at, count)
    } catch (error) {
      // A subclass whose constructor refuses (buffer, byteOffset, length).
      const e = argError('ERR_INVALID_ARG_VALUE', 'Type', 'a TypedArray constructor taking (buffer, byteOffset, length)', Type)
      e.cause = error
      throw e
    }
  }

  /** `view()` where `offset + byteOffset` is aligned for `Type`, else an exact copy (`copied: true`). */
  viewOrCopy<T>(Type: ViewConstructor<T>, byteOffset: number | bigint, length?: number | bigint): ViewOrCopy<T> {
    this.#live()
    return viewOrCopy(this, Type, byteOffset, length)
  }

  /** A DataView over `[byteOffset, byteOffset + byteLength)`. */
  dataView(byteOffset: number | bigint = 0, byteLength?: number | bigint): DataView {
    this.#live()
    const [start, count] = this.#window('byteOffset', byteOffset, byteLength, 1)
    const [ab, at] = this.#windowBuffer(start, count)
    return new DataView(ab, at, count)
  }

  /** A fresh copy of `[byteOffset, byteOffset + length)`. */
  read(byteOffset: number | bigint, length: number | bigint): Buffer {
    const n = this.#live()
    const start = byteCount('byteOffset', byteOffset)
    const count = byteCount('length', length)
    checkRange(['byteOffset', byteOffset, start], ['length', length, count], this.#length)
    return this.#call(() => native.read(n, start, count)) as Buffer
  }

  /** Copies `target.byteLength` bytes from `byteOffset` into `target`; returns the count. */
  readInto(target: ArrayBufferView, byteOffset: number | bigint = 0): number {
    const n = this.#live()
    const into = bytesOf('target', target)
    const start = byteCount('byteOffset', byteOffset)
    checkRange(['byteOffset', byteOffset, start], ['target.byteLength', into.byteLength, into.byteLength], this.#length)
    return this.#call(() => native.readInto(n, into, start))
  }

  /**
   * Copies `source` (or `length` bytes of it from `sourceOffset`) to `byteOffset`: all of it or,
   * on error, nothing. Returns the count. Not allowed on 'read' maps.
   */
  write(source: ArrayBufferView, byteOffset: number | bigint = 0, sourceOffset: number | bigint = 0, length?: number | bigint): number {
    const n = this.#live()
    const all = bytesOf('source', source)
    const from = byteCount('sourceOffset', sourceOffset)
    if (from > all.byteLength) throw argError('ERR_OUT_OF_RANGE', 'sourceOffset', `at most ${all.byteLength}`, sourceOffset)
    const count = length === undefined ? all.byteLength - from : byteCount('length', length)
    checkRange(['sourceOffset', sourceOffset, from], ['length', length ?? count, count], all.byteLength, 1, "the source's")
    const start = byteCount('byteOffset', byteOffset)
    if (this.#mode === 'read') throw mmapError('ERR_MMAP_READ_ONLY', "write() needs mode 'read-write' or 'copy-on-write'")
    checkRange(['byteOffset', byteOffset, start], ['length', length ?? count, count], this.#length)
    const slice = from === 0 && count === all.byteLength ? all : all.subarray(from, from + count)
    return this.#call(() => native.write(n, slice, start))
  }

  /** First index of `needle` in `[fromOffset, toOffset)`, or -1; Buffer's semantics otherwise. */
  indexOf(needle: search.Needle, fromOffset: number | bigint = 0, toOffset?: number | bigint): number {
    return this.#call((n) => search.indexOf(n, this.#length, needle, fromOffset, toOffset))
  }

  /** Last index of `needle` starting in `[toOffset, fromOffset]` (default: the end), or -1; Buffer's semantics otherwise. */
  lastIndexOf(needle: search.Needle, fromOffset?: number | bigint, toOffset: number | bigint = 0): number {
    return this.#call((n) => search.lastIndexOf(n, this.#length, needle, fromOffset, toOffset))
  }

  /** `indexOf` on the thread pool, for long scans; `signal` rejects the promise with an AbortError. */
  async indexOfAsync(needle: search.Needle, options?: IndexOfAsyncOptions): Promise<number> {
    return search.indexOfAsync(this.#live(), this.#path, this.#length, needle, options)
  }

  /** Reads in every page of `range` on the thread pool, so page faults do not block the event loop. */
  async prefetch(range?: Range, options?: PrefetchOptions): Promise<void> {
    const n = this.#live()
    return prefetch(n, this.#path, ...this.#range(range), options)
  }

  /** Writes dirty pages of the range to the file and waits (msync MS_SYNC); `durable` also flushes the device. No-op unless a 'read-write' file map. */
  flushSync(range?: Range): void {
    const n = this.#live()
    const [start, count] = this.#range(range)
    const durable = boolean('range.durable', range?.durable, false)
    this.#call(() => native.flush(n, start, count, durable))
  }

  /** `flushSync` on the thread pool. */
  async flush(range?: Range): Promise<void> {
    const n = this.#live()
    const [start, count] = this.#range(range)
    const durable = boolean('range.durable', range?.durable, false)
    try {
      await this.#call(() => native.flushAsync(native.hold(n), start, count, durable))
    } catch (error) {
      throw fromNative(error, this.#path)
    }
  }

  /** An access hint for the range (madvise). 'dontneed' throws ERR_MMAP_UNSUPPORTED on 'copy-on-write' and anonymous maps. */
  advise(advice: Advice, range?: Range): void {
    const n = this.#live()
    if (advice === undefined) throw argError('ERR_INVALID_ARG_TYPE', 'advice', 'a string', advice)
    const a = oneOf('advice', advice, ADVICE, 'normal')
    const [start, count] = this.#range(range)
    this.#call(() => native.advise(n, binding<BindingAdvice>(a), start, count))
  }

  /** Locks the range in memory (mlock2 MLOCK_ONFAULT, then populated by reads: no private copies). */
  lock(range?: Range): void {
    const n = this.#live()
    const [start, count] = this.#range(range)
    this.#call(() => native.lock(n, start, count))
  }

  /** Unlocks the range (munlock). */
  unlock(range?: Range): void {
    const n = this.#live()
    const [start, count] = this.#range(range)
    this.#call(() => native.unlock(n, start, count))
  }

  /** Pages of the range in memory (mincore). `exact` is false where the kernel reports only this process's own pages. */
  residency(range?: Range): { resident: number; total: number; exact: boolean } {
    const n = this.#live()
    const [start, count] = this.#range(range)
    return this.#call(() => native.residency(n, start, count))
  }

  /**
   * Changes the protection of a 'read-write' file map or an allocate() map (mprotect). Stores
   * through views of a 'read' protected map fault; library calls throw ERR_MMAP_READ_ONLY.
   */
  protect(protection: 'read' | 'read-write'): void {
    const n = this.#live()
    if (protection === undefined) throw argError('ERR_INVALID_ARG_TYPE', 'protection', 'a string', protection)
    const p = oneOf('protection', protection, ['read', 'read-write'] as const, 'read')
    if (this.#mode !== 'read-write') throw mmapError('ERR_MMAP_UNSUPPORTED', "protect() needs a 'read-write' file map or an allocate() map")
    this.#call(() => native.protect(n, p === 'read-write'))
  }

  /** Sleeps while the Int32 at `byteOffset` holds `expected` (Atomics.wait across processes). */
  wait(byteOffset: number | bigint, expected: number, timeoutMs?: number): WaitResult {
    return this.#call((n) => waitSync(n, this, byteOffset, expected, timeoutMs))
  }
  /** `wait` on a thread of memmap's own; does not keep the process alive unless `ref: true`. */
  waitAsync(byteOffset: number | bigint, expected: number, timeoutMs?: number, options?: WaitOptions): Promise<WaitResult> {
    return waitAsync(this.#native, this, this.#path, byteOffset, expected, timeoutMs, options)
  }
  /** Wakes up to `count` waiters on the Int32 at `byteOffset`, in any process that maps it. */
  notify(byteOffset: number | bigint, count?: number): number {
    return this.#call((n) => notify(n, this, byteOffset, count))
  }

  /** A plain token `openShared` maps this range with again, in a worker or another process (see index.d.ts). */
  share(): SharedMapToken {
    const info = this.#call((n) => native.shareInfo(n))
    return tokenOf(info, this.#path, this.#offset, this.#length, this.#mode)
  }

  /** Takes an advisory lock on the file (or a range of it), waiting for it; disposing the result releases it. */
  lockFileSync(options?: FileLockOptions): FileLock {
    const n = this.#live()
    const r = lockRequest(this.#length, options)
    const id = this.#call(() => native.lockFile(n, r.exclusive, r.whole, r.start, r.count, true))
    return this.#held(r.exclusive, id as number)
  }

  /** `lockFileSync` without blocking: tries on the JavaScript thread, then again after a growing pause (at most 20 ms). */
  lockFile(options?: LockFileOptions): Promise<FileLock> {
    return lockFile(this.#native, this.#path, this.#length, options, (exclusive, id) => this.#held(exclusive, id))
  }

  /** Takes the lock if no other holder's lock conflicts; true when taken (release it with `unlockFile` or `close`). */
  tryLockFile(options?: FileLockOptions): boolean {
    const n = this.#live()
    const r = lockRequest(this.#length, options)
    return this.#call(() => native.lockFile(n, r.exclusive, r.whole, r.start, r.count, false)) !== null
  }

  /** Releases every file lock of the map, or the one taken with exactly `range`. */
  unlockFile(range?: Range): void {
    const n = this.#live()
    if (range === undefined) return this.#call(() => native.unlockFile(n, true, 0, 0))
    const [start, count] = lockRange(this.#length, range, 'range')
    this.#call(() => native.unlockFile(n, false, start, count))
  }

  /**
   * Sets the map's length (and a 'read-write' file to `offset + newLength`), detaching every view.
   * 'read' throws ERR_MMAP_READ_ONLY, 'copy-on-write' ERR_MMAP_UNSUPPORTED.
   */
  resize(newLength: number | bigint): void {
    const n = this.#live()
    const len = byteCount('newLength', newLength)
    wakeWaiters(n)
    this.#dropViews()
    this.#call(() => native.resize(n, len))
    this.#length = native.length(n)
  }

  /** For 'read' maps opened without `length`: follows the file's current size. Returns the new length. */
  remap(): number {
    const n = this.#live()
    wakeWaiters(n)
    this.#dropViews()
    this.#length = this.#call(() => native.remap(n))
    return this.#length
  }

  /**
   * Detaches every view this map created and unmaps it. Idempotent. Afterwards every method and
   * accessor but `closed`, `length`, `offset`, `path` and `mode` throws ERR_MMAP_CLOSED.
   */
  close(): void {
    const n = this.#native
    if (n === null) return
    this.#native = null
    wakeWaiters(n)
    rejectPendingLocks(n)
    this.#dropViews()
    try {
      native.close(n)
    } catch (error) {
      throw fromNative(error, this.#path)
    }
  }

  [Symbol.dispose](): void {
    this.close()
  }

  /** Flushes a 'read-write' map, then closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      if (this.#native !== null && this.#mode === 'read-write') await this.flush()
    } finally {
      this.close()
    }
  }

  #live(): NativeMap {
    if (this.#native === null) throw mmapError('ERR_MMAP_CLOSED', `the map of ${this.#path ?? 'anonymous memory or a descriptor'} is closed`)
    return this.#native
  }

  #call<R>(fn: (n: NativeMap) => R): R {
    const n = this.#live()
    try {
      return fn(n)
    } catch (error) {
      throw fromNative(error, this.#path)
    }
  }

  /** The `FileLock` of lock `id`: releases it while this map is open and still holds it. */
  #held(exclusive: boolean, id: number): FileLock {
    return new HeldFileLock(exclusive, () => {
      const n = this.#native
      if (n !== null) this.#call(() => native.unlockFileLock(n, id))
    })
  }

  #dropViews(): void {
    this.#buffer = this.#bytes = this.#whole = undefined
    this.#views?.drop()
  }

  #create(shift: number, start: number, length: number): ArrayBuffer {
    const n = this.#live()
    return this.#call(() => native.createBuffer(n, shift, start, length)) as ArrayBuffer
  }

  /** Validates a `[start, start + count * size)` window; `count` defaults to what fits. */
  #window(name: string, byteOffset: number | bigint, count: number | bigint | undefined, size: number): [number, number] {
    const start = byteCount(name, byteOffset)
    if (start > this.#length) throw argError('ERR_OUT_OF_RANGE', name, `at most ${this.#length}`, byteOffset)
    const n = count === undefined ? Math.floor((this.#length - start) / size) : byteCount('length', count)
    checkRange([name, byteOffset, start], ['length', count, n], this.#length, size)
    return [start, n]
  }

  /** An ArrayBuffer and a byte offset in it where map byte `start` lies, covering `bytes` bytes. */
  #windowBuffer(start: number, bytes: number): [ArrayBuffer, number] {
    this.#live()
    if (bytes > maxViewBytes) {
      throw mmapError('ERR_MMAP_VIEW_TOO_LARGE', `a view of ${bytes} bytes exceeds this runtime's limit of ${maxViewBytes} bytes`)
    }
    const window = this.#viewCache().window(this.#length, start, bytes)
    this.#whole = this.#views?.whole
    return window
  }

  #viewCache(): ViewCache {
    return (this.#views ??= new ViewCache((shift, start, length) => this.#create(shift, start, length), this.#shift, maxViewBytes))
  }

  #range(range: Range | undefined): [number, number] {
    const r = object<Range>('range', range)
    const start = r.offset === undefined ? 0 : byteCount('range.offset', r.offset)
    if (start > this.#length) throw argError('ERR_OUT_OF_RANGE', 'range.offset', `at most ${this.#length}`, r.offset)
    const count = r.length === undefined ? this.#length - start : byteCount('range.length', r.length)
    checkRange(['range.offset', r.offset ?? 0, start], ['range.length', r.length ?? count, count], this.#length)
    return [start, count]
  }
}
