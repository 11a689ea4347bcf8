/**
 * memmap: memory-mapped files for Node.js.
 *
 * Maps a file (or part of it) into memory and hands out zero-copy views over it. Written in Rust
 * on memmap2, bound with Node-API; views are detached on `close()`, so a closed map can never be
 * read through a dangling view.
 *
 * @example
 * ```ts
 * import { openSync } from 'memmap'
 * using map = openSync('weights.bin')
 * const header = map.dataView(0, 8).getBigUint64(0, true)
 * ```
 * @packageDocumentation
 */

/// <reference types="node" />

/** How the file is opened and mapped. */
export type Mode =
  /** Opened read-only, mapped private: a stray write through a view changes only a private copy of that page. */
  | 'read'
  /** Opened read-write, mapped shared: writes reach the file (durable after `flush`). */
  | 'read-write'
  /** Like 'read', and `write()` is allowed: changes stay private to this map. */
  | 'copy-on-write'

/** A path (string, Buffer decoded as UTF-8, or file URL), a file descriptor, or a `FileHandle`. The map dups descriptors: the caller keeps theirs. */
export type FileArgument = string | Buffer | URL | number | { readonly fd: number }

/** Options of {@link openSync} and {@link open}. */
export interface OpenOptions {
  /**
   * How the file is opened and mapped.
   * @default 'read'
   */
  mode?: Mode
  /**
   * Byte offset into the file: any value from 0 to the file size, aligned internally.
   * @default 0
   */
  offset?: number | bigint
  /**
   * Bytes to map. Past the end of the file is an error (`ERR_OUT_OF_RANGE`) in every mode.
   * @default the file size minus `offset`
   */
  length?: number | bigint
  /**
   * 'read-write' only: create a missing file; `'exclusive'` fails with `EEXIST` if it exists.
   * A file created by a call that then fails is unlinked.
   * @default false
   */
  create?: boolean | 'exclusive'
  /**
   * Mode bits of a created file, before the umask; 0 to 0o7777.
   * @default 0o666
   */
  permissions?: number
  /**
   * 'read-write' only: the total file size in bytes to grow the file to before mapping. Never
   * shrinks. A file grown by a call that then fails is cut back.
   */
  size?: number | bigint
  /**
   * With `size`: reserve the blocks of the grown part (fallocate), so a full disk is `ENOSPC` now
   * rather than SIGBUS on a later store into a hole. The file is cut back if it fails.
   * @default false
   */
  allocate?: boolean
  /**
   * Prefault every page before returning (MADV_POPULATE_READ; never a private copy of the file).
   * @default false
   */
  populate?: boolean
  /**
   * Initial access hint for the whole map (see {@link MappedFile.advise}).
   * @default 'normal'
   */
  advice?: Advice
  /**
   * Keep a descriptor (O_CLOEXEC) for `fileSize` and for the truncation checks of `read`,
   * `readInto`, `write` and `flush`. `false` frees it (Python's `trackfd`).
   * @default true
   */
  trackFile?: boolean
  /** `open()` only: rejects with an `AbortError` when aborted before the map is made. */
  signal?: AbortSignal
}

/**
 * An access hint (madvise on Unix). A hint the platform lacks is a no-op. 'dontneed' drops the
 * pages: on 'read' maps that reverts stray writes; on 'copy-on-write' and anonymous maps it would
 * discard data, so it throws `ERR_MMAP_UNSUPPORTED` there.
 */
export type Advice = 'normal' | 'sequential' | 'random' | 'willneed' | 'dontneed' | 'hugepage'

/** Pages of a range in memory. */
export interface Residency {
  /** Pages in memory. */
  resident: number
  /** Pages in the range. */
  total: number
  /**
   * False where the kernel hides the page cache: for a file the caller neither owns nor may write,
   * Linux reports every page as resident, so `resident` then says nothing.
   */
  exact: boolean
}

/** A byte range relative to the start of the mapping. */
export interface Range {
  /** @default 0 */
  offset?: number | bigint
  /** @default to the end of the mapping */
  length?: number | bigint
  /**
   * {@link MappedFile.flush} and {@link MappedFile.flushSync} only: after writing the pages back, ask the
   * device to persist them (fdatasync on Linux, F_FULLFSYNC on macOS, FlushFileBuffers on Windows).
   * Needs the descriptor: `ERR_MMAP_UNSUPPORTED` on a `trackFile: false` map. Ignored by other methods.
   * @default false
   */
  durable?: boolean
}

/** A TypedArray constructor, or `Buffer`. */
export type ViewType<T> = { readonly BYTES_PER_ELEMENT: number; new (buffer: ArrayBuffer, byteOffset: number, length: number): T }

/** Options of {@link MappedFile.indexOfAsync}: the bounds of {@link MappedFile.indexOf}. */
export interface IndexOfAsyncOptions {
  /**
   * Matches start at or after this byte offset; negative counts from the end; clamps to `[0, length]`.
   * @default 0
   */
  from?: number | bigint
  /**
   * Matches end at or before this byte offset; negative counts from the end; clamps to `[0, length]`.
   * @default the map's length
   */
  to?: number | bigint
  /** Rejects the promise with an `AbortError` (code `ABORT_ERR`) when it aborts. */
  signal?: AbortSignal
}

/** Options of {@link MappedFile.prefetch}. */
export interface PrefetchOptions {
  /** Rejects the promise with an `AbortError` (code `ABORT_ERR`) at once and stops the paging-in at its next 16 MiB step. */
  signal?: AbortSignal
}

/** How {@link MappedFile.wait} and {@link MappedFile.waitAsync} end, as `Atomics.wait` does. */
export type WaitResult = 'ok' | 'not-equal' | 'timed-out'

/** Options of {@link MappedFile.waitAsync}. */
export interface WaitOptions {
  /** Rejects the promise with an `AbortError` (code `ABORT_ERR`) at once and wakes the parked thread. */
  signal?: AbortSignal
  /**
   * Keep the process alive while waiting (like a pending timer). By default a pending
   * `waitAsync` does not, as a pending `Atomics.waitAsync` does not.
   * @default false
   */
  ref?: boolean
}

/** Options of {@link MappedFile.lockFileSync} and {@link MappedFile.tryLockFile}. */
export interface FileLockOptions {
  /**
   * An exclusive (write) lock, which excludes every other lock on its bytes, or a shared (read)
   * lock, which excludes only exclusive ones. Exclusive locks need a 'read-write' map.
   * @default true
   */
  exclusive?: boolean
  /**
   * Lock only these bytes of the map (`offset` and `length` relative to the mapping, at least one
   * byte; `durable` is ignored). Linux and Windows; macOS locks whole files (`ERR_MMAP_UNSUPPORTED`).
   * @default the whole file, including bytes past its current end
   */
  range?: Range
}

/** Options of {@link MappedFile.lockFile}. */
export interface LockFileOptions extends FileLockOptions {
  /** Rejects the promise with an `AbortError` (code `ABORT_ERR`) at once; the lock is then not taken. */
  signal?: AbortSignal
}

/** A file lock held through a map. Disposing it (`using`) or `unlock()` releases it; both do nothing once it is released. */
export interface FileLock extends Disposable {
  /** Whether the lock is exclusive (else shared). */
  readonly exclusive: boolean
  /** Releases the lock, if its map is open and still holds it (not released by `unlockFile()` or `close()`). */
  unlock(): void
  /** Calls `unlock()`. */
  [Symbol.dispose](): void
}

/**
 * What {@link MappedFile.share} returns: plain data (structured-cloneable and JSON-safe) that
 * {@link openShared} maps again, in a worker or another process. `dev` and `ino` are the file's
 * identity (device and inode; on Windows volume serial number and file index) as decimal strings,
 * exact beyond 2^53.
 */
export interface SharedMapToken {
  v: 1
  /** A file; shared anonymous memory (a Linux memfd, a macOS shm object, a Windows section). */
  kind: 'file' | 'memfd' | 'shm' | 'section'
  /** The file's absolute path (resolved when `share()` ran), for file maps opened by path. */
  path?: string
  dev: string
  ino: string
  /** The map's offset in the file and its length: `openShared` maps exactly this range. */
  offset: number
  length: number
  /** The sharer's mode: `openShared` may ask for it or a narrower one, never a wider one. */
  mode: Mode
  /** The sharing process. */
  pid?: number
  /** The sharer's descriptor of the file or memory: valid in its process (and its workers) while the map is open. */
  fd?: number
  /** A Windows section's name. */
  name?: string
}

/** Options of {@link openShared}. */
export interface OpenSharedOptions {
  /**
   * The token's mode or a narrower one ('read-write' > 'copy-on-write' > 'read'); a wider one
   * throws `ERR_MMAP_READ_ONLY`.
   * @default token.mode
   */
  mode?: Mode
  /**
   * The descriptor through which this process holds the token's file or memory, e.g. the one a
   * parent passed in `stdio` (`spawn(cmd, args, { stdio: ['inherit', 'inherit', 'inherit', token.fd] })`
   * gives the child descriptor 3). Checked to be the same file or memory.
   */
  fd?: number
  /** As {@link OpenOptions.populate}. */
  populate?: boolean
  /** As {@link OpenOptions.advice}. */
  advice?: Advice
}

/** What {@link MappedFile.viewOrCopy} returns. */
export interface ViewOrCopy<T> {
  /** A view of the map (`copied: false`), or a fresh TypedArray holding a copy of the same bytes. */
  array: T
  /** `true` when `offset + byteOffset` was not aligned for the type, so the bytes were copied. */
  copied: boolean
}

/** The library's own error codes; system errors use their errno name (`ENOENT`, ...). */
export type MmapErrorCode =
  | 'ERR_MMAP_CLOSED'
  | 'ERR_MMAP_READ_ONLY'
  | 'ERR_MMAP_UNALIGNED'
  | 'ERR_MMAP_VIEW_TOO_LARGE'
  | 'ERR_MMAP_TRUNCATED'
  | 'ERR_MMAP_EXTERNAL_BUFFERS_UNSUPPORTED'
  | 'ERR_MMAP_UNSUPPORTED'
  | 'ERR_MMAP_LIMIT'
  | 'ERR_MMAP_STALE_TOKEN'

/** Errors thrown by memmap: `code` always, and `errno`, `syscall`, `path` for system errors as node:fs sets them. */
export interface CodedError extends Error {
  code: string
  errno?: number
  syscall?: string
  path?: string
}

/**
 * One mapped range of a file. Close it with `close()` or `using`; after close every method and
 * accessor but `closed`, `length`, `offset`, `path` and `mode` throws `ERR_MMAP_CLOSED`, and
 * every view the map created has byteLength 0.
 */
export declare class MappedFile implements Disposable, AsyncDisposable {
  private constructor()
  /** The path as opened (a file URL converted, a Buffer decoded as UTF-8), or null for a descriptor. */
  readonly path: string | null
  readonly mode: Mode
  /** Byte offset of the mapping in the file. */
  readonly offset: number
  /** Bytes mapped. */
  readonly length: number
  readonly closed: boolean
  /**
   * The file's size now, by fstat on the map's descriptor (the size at open with `trackFile: false`).
   * @throws `ERR_MMAP_CLOSED`
   */
  readonly fileSize: number
  /** Huge pages behind an {@link allocate} map: 'hugetlb' (MAP_HUGETLB), 'thp' (MADV_HUGEPAGE) or false; always false for file maps and off Linux. */
  readonly hugePages: 'hugetlb' | 'thp' | false
  /** `true` when the OS refused a private writable map and 'read' fell back to a read-only one: a stray write then faults. */
  readonly strayWritesFault: boolean
  /**
   * `[offset, offset + length)` as one ArrayBuffer, created on first access; the same object until `close()`.
   * @throws `ERR_MMAP_VIEW_TOO_LARGE` when `length` exceeds {@link maxViewBytes}; `ERR_MMAP_CLOSED`.
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('data.bin')
   * new Uint8Array(map.buffer)[0]
   * ```
   */
  readonly buffer: ArrayBuffer
  /**
   * `new Uint8Array(buffer)`, cached.
   * @throws as {@link MappedFile.buffer}
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('data.bin')
   * const first = map.bytes[0]
   * ```
   */
  readonly bytes: Uint8Array
  /**
   * A zero-copy view of `length` elements (default: as many as fit) at `byteOffset` bytes into the map.
   * `offset + byteOffset` must be a multiple of `Type.BYTES_PER_ELEMENT`: alignment in the file is
   * alignment in memory.
   * @throws `ERR_MMAP_UNALIGNED`, `ERR_OUT_OF_RANGE`, `ERR_INVALID_ARG_TYPE`, `ERR_MMAP_CLOSED`
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('weights.bin')
   * const floats = map.view(Float32Array, 4096, 1024)
   * ```
   */
  view<T>(Type: ViewType<T>, byteOffset?: number | bigint, length?: number | bigint): T
  view(Type: typeof Buffer, byteOffset?: number | bigint, length?: number | bigint): Buffer
  /**
   * {@link MappedFile.view} where `offset + byteOffset` is a multiple of `Type.BYTES_PER_ELEMENT`;
   * elsewhere an exact copy of the same bytes in a fresh `Type` (`copied: true`), read with
   * {@link MappedFile.readInto}, instead of `ERR_MMAP_UNALIGNED`. For formats that put arrays at any
   * byte offset: safetensors, GGUF, NumPy headers. A store into a copy does not reach the map.
   * `length` counts elements (default: as many as fit).
   * @throws `ERR_OUT_OF_RANGE`, `ERR_INVALID_ARG_TYPE`, `ERR_MMAP_VIEW_TOO_LARGE`, `ERR_MMAP_TRUNCATED` (a copy), `ERR_MMAP_CLOSED`
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('model.safetensors')
   * const { array: weights, copied } = map.viewOrCopy(Float32Array, 8 + 117, 1024) // copied: true at an unaligned offset
   * ```
   */
  viewOrCopy<T>(Type: ViewType<T>, byteOffset: number | bigint, length?: number | bigint): ViewOrCopy<T>
  /**
   * A DataView over `[byteOffset, byteOffset + byteLength)`.
   * @throws `ERR_OUT_OF_RANGE`, `ERR_MMAP_VIEW_TOO_LARGE`, `ERR_MMAP_CLOSED`
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('weights.bin')
   * const count = map.dataView(0, 8).getBigUint64(0, true)
   * ```
   */
  dataView(byteOffset?: number | bigint, byteLength?: number | bigint): DataView
  /**
   * A fresh copy of `length` bytes at `byteOffset`; creates no view of the map.
   * @throws `ERR_OUT_OF_RANGE`, `ERR_MMAP_TRUNCATED`, `ERR_MMAP_CLOSED`
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('log.bin')
   * const record = map.read(128, 64)
   * ```
   */
  read(byteOffset: number | bigint, length: number | bigint): Buffer
  /**
   * Copies `target.byteLength` bytes from `byteOffset` into `target`; returns the count. No allocation.
   * @throws `ERR_OUT_OF_RANGE`, `ERR_MMAP_TRUNCATED`, `ERR_MMAP_CLOSED`
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('records.bin')
   * const record = new Float64Array(16)
   * map.readInto(record, 4096)
   * ```
   */
  readInto(target: ArrayBufferView, byteOffset?: number | bigint): number
  /**
   * Copies `source` (or `length` bytes of it from `sourceOffset`) to `byteOffset`: all or, on error,
   * nothing. Returns the count. 'read-write' writes reach the file; 'copy-on-write' writes stay private.
   * @throws `ERR_MMAP_READ_ONLY` on 'read' maps; `ERR_OUT_OF_RANGE`, `ERR_MMAP_TRUNCATED`, `ERR_MMAP_CLOSED`
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using log = openSync('log.bin', { mode: 'read-write' })
   * log.write(Buffer.from('hello'), 0)
   * log.flushSync()
   * ```
   */
  write(source: ArrayBufferView, byteOffset?: number | bigint, sourceOffset?: number | bigint, length?: number | bigint): number
  /**
   * The first index of `needle` starting at or after `fromOffset` and ending at or before
   * `toOffset`, or -1. Buffer's semantics otherwise: a negative offset counts from the end, offsets
   * clamp to `[0, length]`, an empty needle returns the clamped `fromOffset` (-1 past `toOffset`),
   * a number is one byte (an integer 0-255), a string is UTF-8. Reads only `[fromOffset, toOffset)`.
   * Python's `find(n, start, end)` is `indexOf(n, start, end)`. Native SIMD search (memchr).
   * @param fromOffset - matches start at or after it; default 0
   * @param toOffset - matches end at or before it; default `length`
   * @throws `ERR_OUT_OF_RANGE`, `ERR_INVALID_ARG_TYPE`, `ERR_MMAP_TRUNCATED` (only for pages in the bounds), `ERR_MMAP_CLOSED`
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('log.txt')
   * const firstNewline = map.indexOf('\n')
   * const inFirstRecord = map.indexOf('id=', 0, firstNewline) // -1 unless the first line has it
   * ```
   */
  indexOf(needle: string | number | ArrayBufferView, fromOffset?: number | bigint, toOffset?: number | bigint): number
  /**
   * The last index of `needle` that starts at or before `fromOffset` and at or after `toOffset`,
   * or -1, with Buffer's semantics (the match may extend past `fromOffset`). Reads only
   * `[toOffset, fromOffset + needle length)`. Python's `rfind(n, start, end)` is
   * `lastIndexOf(n, end - len(n), start)` when `end - len(n) >= start`, else -1.
   * @param fromOffset - matches start at or before it; default `length`
   * @param toOffset - matches start at or after it; default 0
   * @throws as {@link MappedFile.indexOf}
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('log.txt')
   * const lastLine = map.lastIndexOf('\n', map.length - 2) + 1
   * const lastComma = map.lastIndexOf(',', map.length, lastLine) // -1 unless the last line has one
   * ```
   */
  lastIndexOf(needle: string | number | ArrayBufferView, fromOffset?: number | bigint, toOffset?: number | bigint): number
  /**
   * {@link MappedFile.indexOf} on the libuv thread pool, for long scans. The map stays valid while
   * the scan runs even if it is closed meanwhile.
   * @throws as {@link MappedFile.indexOf}; rejects with an `AbortError` (code `ABORT_ERR`) when `signal` aborts
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('big.bin')
   * const at = await map.indexOfAsync(Buffer.from('needle'), { from: 0, to: 1 << 30, signal: AbortSignal.timeout(5000) })
   * ```
   */
  indexOfAsync(needle: string | number | ArrayBufferView, options?: IndexOfAsyncOptions): Promise<number>
  /**
   * Reads every page of `range` in on the libuv thread pool and resolves once each has been read
   * once (resident then, if it fits in memory), so the page faults of a cold file do not block the
   * event loop. Uses MADV_POPULATE_READ (Linux >= 5.14), else reads one byte per page: never a
   * write fault, so a 'read' map's pages stay the file's. Unlike `populate` (at open, blocking) and
   * `advise('willneed')` (a hint that returns at once and reports nothing), it tells you when the
   * pages are in. `close()` meanwhile is safe.
   * @param range - default: the whole map
   * @throws `ERR_OUT_OF_RANGE`, `ERR_INVALID_ARG_TYPE`, `ERR_MMAP_TRUNCATED`, `ERR_MMAP_CLOSED`, the madvise error; rejects with an `AbortError` (code `ABORT_ERR`) when `signal` aborts
   * @example
   * ```ts
   * import { open } from 'memmap'
   * await using map = await open('weights.bin')
   * await map.prefetch(undefined, { signal: AbortSignal.timeout(60_000) }) // the event loop keeps serving meanwhile
   * map.residency() // { resident: total, total, exact: true }
   * ```
   */
  prefetch(range?: Range, options?: PrefetchOptions): Promise<void>
  /**
   * Writes the range's dirty pages to the file and waits (msync MS_SYNC; FlushViewOfFile on Windows). With
   * `durable: true` it then asks the device to persist them (fdatasync, F_FULLFSYNC, FlushFileBuffers).
   * A no-op that succeeds on 'read', 'copy-on-write' and anonymous maps.
   * @throws `ERR_OUT_OF_RANGE`, `ERR_MMAP_TRUNCATED`, `ERR_MMAP_CLOSED`, `ERR_MMAP_UNSUPPORTED` (durable on a
   * `trackFile: false` map), or the msync / fdatasync error
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using log = openSync('log.bin', { mode: 'read-write' })
   * log.bytes.set([1, 2, 3], 0)
   * log.flushSync({ offset: 0, length: 3 })
   * ```
   */
  flushSync(range?: Range): void
  /**
   * {@link MappedFile.flushSync} on the libuv thread pool.
   * @example
   * ```ts
   * import { open } from 'memmap'
   * await using log = await open('log.bin', { mode: 'read-write' })
   * log.bytes[0] = 1
   * await log.flush({ offset: 0, length: 4096 })
   * await log.flush({ durable: true }) // survives a power cut once this resolves
   * ```
   */
  flush(range?: Range): Promise<void>
  /**
   * An access hint for the pages covering `range` (madvise).
   * @throws `ERR_MMAP_UNSUPPORTED` for 'dontneed' on 'copy-on-write' and anonymous maps; the madvise error (`syscall: 'madvise'`)
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('index.bin')
   * map.advise('random')
   * ```
   */
  advise(advice: Advice, range?: Range): void
  /**
   * Locks the pages covering `range` in memory: mlock2(MLOCK_ONFAULT), then populated by reads, so
   * a 'read' map never copies the file into private memory. Needs RLIMIT_MEMLOCK room.
   * @throws the mlock error (`EPERM`, `ENOMEM`, `EAGAIN`), `ERR_OUT_OF_RANGE`, `ERR_MMAP_CLOSED`
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('hot.bin')
   * map.lock()
   * ```
   */
  lock(range?: Range): void
  /**
   * Unlocks the pages covering `range` (munlock).
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('hot.bin')
   * map.lock({ offset: 0, length: 1 << 20 })
   * map.unlock({ offset: 0, length: 1 << 20 })
   * ```
   */
  unlock(range?: Range): void
  /**
   * Pages of `range` in memory (mincore).
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('data.bin')
   * const { resident, total } = map.residency()
   * ```
   */
  residency(range?: Range): Residency
  /**
   * Changes the protection of a 'read-write' file map or an `allocate()` map (mprotect). While
   * 'read', a store through a view faults (SIGSEGV): use it to catch stray writes in development.
   * Library calls never store into such a map: `write()`, and `readInto()` into one of its views,
   * throw `ERR_MMAP_READ_ONLY`. The protection stays across `resize()`.
   * @throws `ERR_MMAP_UNSUPPORTED` on other maps
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using table = openSync('table.bin', { mode: 'read-write' })
   * table.protect('read') // stores through views now fault: catches stray writes while debugging
   * table.protect('read-write')
   * ```
   */
  protect(protection: 'read' | 'read-write'): void
  /**
   * `Atomics.wait` across threads and processes: sleeps while the Int32 at `byteOffset` holds
   * `expected`, until a {@link MappedFile.notify} on the same place of the file (from any map of
   * it, in any process) or the timeout. Blocks the calling thread. Use `Atomics.load`/`store`/`add`
   * on views to change the value; JavaScript's own `Atomics.wait`/`notify` and these do not see each
   * other. 'read-write' file maps only. Linux: a shared futex; macOS: `os_sync_wait_on_address`
   * (14.4+) or `__ulock_wait2`. Windows has no call that wakes across maps or processes, so there
   * every wait, waitAsync and notify throws `ERR_MMAP_UNSUPPORTED` (README).
   * @param byteOffset - the Int32's byte offset in the map; `offset + byteOffset` a multiple of 4
   * @param expected - the value to sleep on, converted as `Atomics.wait` does (ToInt32)
   * @param timeoutMs - milliseconds; `undefined` and NaN mean Infinity, a negative value means 0
   * @returns 'ok' (woken), 'not-equal' (the value differed), or 'timed-out'
   * @throws `ERR_MMAP_UNSUPPORTED` on 'read', 'copy-on-write' and `allocate()` maps, and on Windows; `ERR_MMAP_UNALIGNED`, `ERR_OUT_OF_RANGE`, `ERR_MMAP_TRUNCATED`, `ERR_MMAP_CLOSED`
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('queue.bin', { mode: 'read-write' })
   * map.wait(0, 0, 1000) // 'ok' once another process stores and notifies, or 'timed-out'
   * ```
   */
  wait(byteOffset: number | bigint, expected: number, timeoutMs?: number): WaitResult
  /**
   * {@link MappedFile.wait} without blocking: the wait parks on a thread of memmap's own (never the
   * libuv pool). `close()`, `resize()` and `remap()` wake this map's pending waits, which reject
   * with `ERR_MMAP_CLOSED`. A pending wait does not keep the process alive unless `ref: true`.
   * @throws as {@link MappedFile.wait} (as a rejection); `ABORT_ERR` when `signal` aborts
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * const map = openSync('queue.bin', { mode: 'read-write' })
   * const head = map.view(Int32Array, 0, 1)
   * while (Atomics.load(head, 0) === 0) await map.waitAsync(0, 0)
   * ```
   */
  waitAsync(byteOffset: number | bigint, expected: number, timeoutMs?: number, options?: WaitOptions): Promise<WaitResult>
  /**
   * `Atomics.notify` across threads and processes: wakes up to `count` waiters on the Int32 at
   * `byteOffset` (default all). Returns how many woke on Linux; on macOS 1 if any woke, else 0
   * (the OS does not count).
   * @throws as {@link MappedFile.wait}
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('queue.bin', { mode: 'read-write' })
   * Atomics.add(map.view(Int32Array, 0, 1), 0, 1)
   * map.notify(0)
   * ```
   */
  notify(byteOffset: number | bigint, count?: number): number
  /**
   * Takes an advisory lock on the map's file, waiting (blocking the thread) while another holder's
   * lock conflicts. Advisory: it excludes other locks, never reads or writes (except on Windows).
   * Linux: an OFD lock (`fcntl` F_OFD_SETLKW), which also conflicts with classic POSIX locks
   * (Python's `fcntl.lockf`) but not with `flock` locks. macOS: `flock`, whole file only. Windows:
   * `LockFileEx`, mandatory for `ReadFile`/`WriteFile` through other handles (mapped views are not
   * checked). Locks belong to the map: other maps of the file, in this process too, are other
   * holders; one map never holds two locks over one byte (to change a shared lock into an
   * exclusive one, unlock, then lock: another holder may come between). `close()` releases the
   * map's locks. A `trackFile: false` map opens a descriptor for its locks (by path, checked to be
   * the same file). Waiting on a lock this process holds through another map waits forever.
   * @returns the lock; disposing it releases it
   * @throws `ERR_MMAP_READ_ONLY` for an exclusive lock on a 'read' or 'copy-on-write' map; `ERR_MMAP_UNSUPPORTED` on `allocate()` maps, for a lock overlapping one this map holds, and for `range` on macOS; `ERR_OUT_OF_RANGE` for a range outside the map or of length 0; `ERR_MMAP_CLOSED`
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('counter.bin', { mode: 'read-write' })
   * {
   *   using lock = map.lockFileSync() // exclusive, whole file
   *   map.view(Int32Array, 0, 1)[0] += 1
   * } // released here
   * ```
   */
  lockFileSync(options?: FileLockOptions): FileLock
  /**
   * A token {@link openShared} maps this map's range with again, in a worker (`postMessage` it)
   * or another process (send it as JSON; shared memory also needs its descriptor in the child's
   * `stdio` on macOS, and on Linux for another user). The new map is its own: each isolate closes
   * its own, and closing one never affects another. File maps opened by path carry the absolute
   * path; maps opened from a descriptor carry it (`/proc/<pid>/fd` reaches it, Linux only).
   * `postMessage` of a view copies the whole mapping: send a token instead.
   * @throws `ERR_MMAP_UNSUPPORTED` for private `allocate()` memory, a map opened from a descriptor with `trackFile: false`, or opened from a descriptor on macOS and Windows; `ERR_MMAP_CLOSED`
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * import { Worker } from 'node:worker_threads'
   * using map = openSync('counters.bin', { mode: 'read-write', create: true, size: 4096 })
   * new Worker('./count.js', { workerData: map.share() })
   * ```
   */
  share(): SharedMapToken
  /**
   * {@link MappedFile.lockFileSync} without blocking. It tries at once, then again after 1, 2, 4, 8
   * and 16 ms, then every 20 ms, on the JavaScript thread: a pending call holds no thread (never
   * the libuv pool), notices a release within 20 ms, and keeps the process alive like a timer. It
   * is not fair: a holder that waits in the OS (`lockFileSync`, `fcntl.lockf`) may get the lock
   * first. `close()` rejects this map's pending calls with `ERR_MMAP_CLOSED`; `resize()` and
   * `remap()` do not touch locks.
   * @throws as {@link MappedFile.lockFileSync} (as a rejection); `ABORT_ERR` when `signal` aborts
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('queue.bin', { mode: 'read-write' })
   * using lock = await map.lockFile({ signal: AbortSignal.timeout(5000) })
   * ```
   */
  lockFile(options?: LockFileOptions): Promise<FileLock>
  /**
   * Takes the lock of {@link MappedFile.lockFileSync} if no other holder's lock conflicts, without
   * waiting. Release it with `unlockFile()` or `close()`.
   * @returns true when the lock was taken, false when another holder's lock conflicts
   * @throws as {@link MappedFile.lockFileSync}
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('index.bin')
   * if (map.tryLockFile({ exclusive: false })) {
   *   try { map.read(0, 16) } finally { map.unlockFile() }
   * }
   * ```
   */
  tryLockFile(options?: FileLockOptions): boolean
  /**
   * Releases every file lock the map holds, or, with `range`, the lock taken with exactly that
   * range (a range the map holds no lock on does nothing).
   * @throws `ERR_MMAP_UNSUPPORTED` for a range that overlaps a held lock without being its range; `ERR_OUT_OF_RANGE`; `ERR_MMAP_CLOSED`
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using map = openSync('table.bin', { mode: 'read-write' })
   * map.tryLockFile({ range: { offset: 0, length: 4096 } })
   * map.unlockFile({ offset: 0, length: 4096 })
   * ```
   */
  unlockFile(range?: Range): void
  /**
   * Sets the map's length to `newLength`; a 'read-write' file is set to `offset + newLength` bytes.
   * Detaches every view of the map, then remaps (mremap MREMAP_MAYMOVE on Linux, else maps anew).
   * A failure leaves the file's size and bytes and the map's length and contents as they were.
   * A running task (`flush()`, `indexOfAsync()`) keeps reading the old pages; a shrink cuts the
   * file only once such tasks end. What a shrink does to other mappings of the file is the
   * caller's business.
   * @throws `ERR_MMAP_READ_ONLY` on 'read', `ERR_MMAP_UNSUPPORTED` on 'copy-on-write'; the ftruncate or mmap error; `ERR_MMAP_LIMIT`
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using log = openSync('log.bin', { mode: 'read-write' })
   * log.resize(log.length * 2)
   * ```
   */
  resize(newLength: number | bigint): void
  /**
   * For 'read' (and 'copy-on-write') maps opened without `length`: follows the file to its current
   * size (log tailing). Detaches every view. Returns the new length.
   * @throws `ERR_MMAP_UNSUPPORTED` on other maps
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * using tail = openSync('app.log')
   * // ...another process appends...
   * const newLength = tail.remap()
   * ```
   */
  remap(): number
  /**
   * Detaches every view the map created and unmaps. Idempotent. Await pending I/O on views first.
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * const map = openSync('data.bin')
   * try { map.bytes[0] } finally { map.close() }
   * ```
   */
  close(): void
  /**
   * Calls `close()`.
   * @example
   * ```ts
   * import { openSync } from 'memmap'
   * { using map = openSync('data.bin') } // closed here
   * ```
   */
  [Symbol.dispose](): void
  /**
   * Flushes a 'read-write' map, then closes it.
   * @example
   * ```ts
   * import { open } from 'memmap'
   * { await using log = await open('log.bin', { mode: 'read-write' }) } // flushed and closed here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * Opens and maps a file. A `signal` that is already aborted throws an `AbortError`
 * (`ABORT_ERR`); otherwise it is not consulted (the call is synchronous).
 * @throws system errors like `fs.openSync`'s (`ENOENT`, `EACCES`, `EISDIR`, ...), `ERR_MMAP_UNSUPPORTED`
 * for anything but a regular file, `ERR_OUT_OF_RANGE` past the end, `ERR_INVALID_ARG_TYPE` and
 * `ERR_INVALID_ARG_VALUE` for bad options, `ERR_MMAP_LIMIT` near `vm.max_map_count`.
 * @example
 * ```ts
 * import { openSync } from 'memmap'
 * using map = openSync('weights.bin', { offset: 8 })
 * const floats = map.view(Float32Array)
 * ```
 */
export declare function openSync(file: FileArgument, options?: OpenOptions): MappedFile

/**
 * {@link openSync} as a promise, with `signal`.
 * @example
 * ```ts
 * import { open } from 'memmap'
 * await using log = await open('events.log', { mode: 'read-write', create: true, size: 1 << 20 })
 * ```
 */
export declare function open(file: FileArgument, options?: OpenOptions): Promise<MappedFile>

/**
 * Anonymous memory of `length` bytes, zero-filled (`path` null, mode 'read-write'). Private by
 * default: no MAP_NORESERVE, so it fails early with `ENOMEM`. `hugePages` tries MAP_HUGETLB, then
 * MADV_HUGEPAGE; `map.hugePages` says which (always false on macOS and Windows, which get ordinary
 * pages). `shared: true` makes memory {@link MappedFile.share} can hand to workers and other
 * processes: a memfd sealed against shrinking (Linux), an unlinked POSIX shared memory object
 * (macOS), a pagefile-backed section (Windows). It grows with `resize()` on Linux only (macOS and
 * Windows fix its size at creation) and never shrinks (`ERR_MMAP_UNSUPPORTED`); it takes no file
 * locks and `flush()` does nothing.
 * @example
 * ```ts
 * import { allocate } from 'memmap'
 * using scratch = allocate(1 << 20)
 * scratch.view(Float64Array)[0] = 1
 * ```
 */
export declare function allocate(length: number | bigint, options?: { hugePages?: boolean; shared?: boolean }): MappedFile

/**
 * Maps the range a {@link MappedFile.share} token describes: in a worker, or in another process.
 * The file (or memory) is checked to be the one the token was made for: a file renamed over the
 * token's path, or another file now at its descriptor number, throws `ERR_MMAP_STALE_TOKEN`.
 * Where it is found: `options.fd` if given; else the token's path; else the sharer's descriptor
 * (in the same process); else `/proc/<pid>/fd/<fd>` (Linux, same user); a Windows section by
 * name. The new map is this isolate's own: close it (or `using`); it never closes the sharer's.
 * @throws `ERR_MMAP_STALE_TOKEN`; `ERR_MMAP_READ_ONLY` for a mode wider than the token's; `ERR_MMAP_UNSUPPORTED` for a descriptor-only token from another process without `options.fd` (except on Linux); `ERR_INVALID_ARG_VALUE`/`ERR_INVALID_ARG_TYPE` for a malformed token; the open error (`ENOENT` when the file is gone)
 * @example
 * ```ts
 * import { openShared } from 'memmap'
 * import { workerData } from 'node:worker_threads'
 * using map = openShared(workerData)
 * Atomics.add(map.view(Int32Array, 0, 1), 0, 1)
 * ```
 */
export declare function openShared(token: SharedMapToken, options?: OpenSharedOptions): MappedFile

/** The system page size in bytes. */
export declare const pageSize: number

/** The largest view the runtime allows, read at load: 2^32 on Node 20 and Bun, 2^53-1 on Node 22+. */
export declare const maxViewBytes: number

/** The granularity of mapping offsets, from the OS: the page size on Unix, 64 KiB on Windows (GetSystemInfo). Any offset works, aligned internally. */
export declare const allocationGranularity: number

/** Whether this runtime allows external ArrayBuffers (false in Electron's V8 sandbox), probed once at load. When false, `buffer`, `bytes`, `view` and `dataView` throw `ERR_MMAP_EXTERNAL_BUFFERS_UNSUPPORTED`; everything else works. */
export declare const externalBuffersSupported: boolean

/**
 * Maps still mapped in this process and the bytes they cover.
 * @example
 * ```ts
 * import { stats } from 'memmap'
 * const { liveMaps, mappedBytes } = stats()
 * ```
 */
export declare function stats(): { liveMaps: number; mappedBytes: number }
