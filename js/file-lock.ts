// Advisory file locks (crates/node/src/file_lock.rs): lockFileSync() waits in the OS call,
// tryLockFile() tries once, and lockFile() tries on the JavaScript thread, again and again after a
// timer: at once, then after 1, 2, 4, 8 and 16 ms, then every POLL_MAX_MS. No lock call can
// be cancelled once it waits in the kernel (only a signal would interrupt F_OFD_SETLKW or
// LockFileEx), so nothing waits in one: a pending lockFile() holds no thread at all, neither
// libuv's pool nor one of memmap's, and an abort or close() settles it at once.
import type { FileLock, FileLockOptions, LockFileOptions, Range } from '../index'
import { abortError, argError, fromNative, mmapError } from './errors'
import { native, type NativeMap } from './native'
import { boolean, byteCount, checkRange, object, signalOf } from './validate'

/** The longest pause between two attempts of a pending lockFile(), in milliseconds: how late it may notice a release. */
export const POLL_MAX_MS = 20

/** A lock request as the binding takes it: the whole file, or `count` bytes from `start` of the map. */
export interface LockRequest {
  exclusive: boolean
  whole: boolean
  start: number
  count: number
}

/** The bytes of the map a lock covers: `range` inside the map, at least one byte. */
export function lockRange(mapLength: number, range: unknown, name: string): [number, number] {
  const r = object<Range>(name, range)
  const start = r.offset === undefined ? 0 : byteCount(`${name}.offset`, r.offset)
  if (start > mapLength) throw argError('ERR_OUT_OF_RANGE', `${name}.offset`, `at most ${mapLength}`, r.offset)
  const count = r.length === undefined ? mapLength - start : byteCount(`${name}.length`, r.length)
  checkRange([`${name}.offset`, r.offset ?? 0, start], [`${name}.length`, r.length ?? count, count], mapLength)
  if (count === 0) throw argError('ERR_OUT_OF_RANGE', `${name}.length`, 'at least 1 (a lock covers at least one byte)', r.length ?? count)
  return [start, count]
}

/** The options of lockFileSync, tryLockFile and lockFile, checked. */
export function lockRequest(mapLength: number, options: FileLockOptions | undefined): LockRequest {
  const o = object<FileLockOptions>('options', options)
  const exclusive = boolean('options.exclusive', o.exclusive, true)
  if (o.range === undefined) return { exclusive, whole: true, start: 0, count: 0 }
  const [start, count] = lockRange(mapLength, o.range, 'options.range')
  return { exclusive, whole: false, start, count }
}

/** What disposing releases: the lock with this id, if its map still holds it. */
export class HeldFileLock implements FileLock {
  readonly exclusive: boolean
  readonly #release: () => void

  constructor(exclusive: boolean, release: () => void) {
    this.exclusive = exclusive
    this.#release = release
  }

  unlock(): void {
    this.#release()
  }

  [Symbol.dispose](): void {
    this.#release()
  }
}

/** Each map's pending lockFile() calls, as functions that reject them with ERR_MMAP_CLOSED. */
const pending = new WeakMap<NativeMap, Set<() => void>>()

/** Rejects every pending lockFile() of `n` (close() calls it; the binding released the locks). */
export function rejectPendingLocks(n: NativeMap): void {
  const closers = pending.get(n)
  if (closers === undefined) return // most maps: nothing pending, nothing allocated on close
  pending.delete(n)
  for (const close of closers) close()
}

const where = (path: string | null) => path ?? 'anonymous memory or a descriptor'

/** `lockFile` of MappedFile: `held` wraps the id of the lock once taken. */
export function lockFile(
  n: NativeMap | null,
  path: string | null,
  mapLength: number,
  options: LockFileOptions | undefined,
  held: (exclusive: boolean, id: number) => FileLock,
): Promise<FileLock> {
  try {
    if (n === null) throw mmapError('ERR_MMAP_CLOSED', `the map of ${where(path)} is closed`)
    const r = lockRequest(mapLength, options)
    const signal = signalOf('options.signal', options?.signal)
    if (signal?.aborted) return Promise.reject(abortError(signal))
    const attempt = () => native.lockFile(n, r.exclusive, r.whole, r.start, r.count, false)
    // The first attempt also reports what can never succeed (an allocate() map, an overlapping
    // lock of this map, an exclusive lock on a 'read' map) at once.
    const first = attempt()
    if (first !== null) return Promise.resolve(held(r.exclusive, first))
    return new Promise<FileLock>((resolve, reject) => {
      const closers = pending.get(n) ?? pending.set(n, new Set()).get(n)!
      let delay = 1
      let timer: ReturnType<typeof setTimeout> | undefined
      const stop = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        closers.delete(onClose)
      }
      const onClose = () => {
        stop()
        reject(mmapError('ERR_MMAP_CLOSED', `the map of ${where(path)} was closed while waiting for a file lock`))
      }
      const onAbort = () => {
        stop()
        reject(abortError(signal as AbortSignal))
      }
      const retry = () => {
        let id: number | null
        try {
          id = attempt()
        } catch (error) {
          stop()
          return reject(fromNative(error, path))
        }
        if (id !== null) {
          stop()
          return resolve(held(r.exclusive, id))
        }
        delay = Math.min(delay * 2, POLL_MAX_MS)
        timer = setTimeout(retry, delay)
      }
      timer = setTimeout(retry, delay)
      signal?.addEventListener('abort', onAbort, { once: true })
      closers.add(onClose)
    })
  } catch (error) {
    return Promise.reject(fromNative(error, path))
  }
}
