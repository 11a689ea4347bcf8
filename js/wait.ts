// wait, waitAsync and notify: Atomics.wait/notify semantics on an Int32 of a mapped file, across
// threads and processes that map it. Arguments are converted as Atomics converts them; the
// binding sleeps (on memmap's own threads for waitAsync) and wakes.
import type { WaitOptions, WaitResult } from '../index'
import { abortError, argError, fromNative, mmapError } from './errors'
import { native, type NativeMap } from './native'
import { boolean, byteCount, checkRange, object, signalOf } from './validate'

/** The map as the checks see it. */
interface Extent {
  offset: number
  length: number
}

/** The byte offset of an Int32 in the map: inside it, and 4-aligned in the file (so in memory). */
export function int32At(map: Extent, byteOffset: unknown): number {
  const start = byteCount('byteOffset', byteOffset)
  checkRange(['byteOffset', byteOffset, start], ['length', 4, 4], map.length, 1, "the map's")
  if ((map.offset + start) % 4 !== 0) {
    throw mmapError('ERR_MMAP_UNALIGNED', `offset + byteOffset (${map.offset} + ${start}) must be a multiple of 4 for an Int32`)
  }
  return start
}

/** The expected value, converted as Atomics.wait converts it (ToInt32). */
export function int32Of(value: unknown): number {
  if (typeof value !== 'number') throw argError('ERR_INVALID_ARG_TYPE', 'expected', 'a number', value)
  return value | 0
}

/** A timeout as Atomics.wait takes it, in milliseconds: NaN and undefined mean Infinity, negative means 0. */
export function timeoutOf(value: unknown): number {
  if (value === undefined) return Infinity
  if (typeof value !== 'number') throw argError('ERR_INVALID_ARG_TYPE', 'timeoutMs', 'a number', value)
  return Number.isNaN(value) ? Infinity : Math.max(0, value)
}

/** How many waiters to wake, as Atomics.notify takes it: undefined and Infinity mean all. */
export function countOf(value: unknown): number {
  if (value === undefined) return Infinity
  if (typeof value !== 'number') throw argError('ERR_INVALID_ARG_TYPE', 'count', 'a number', value)
  if (Number.isNaN(value)) return 0
  return Math.max(0, Math.trunc(value))
}

/** `wait` of MappedFile: blocks the calling thread. */
export function waitSync(n: NativeMap, map: Extent, byteOffset: unknown, expected: unknown, timeoutMs: unknown): WaitResult {
  const [start, value, timeout] = [int32At(map, byteOffset), int32Of(expected), timeoutOf(timeoutMs)]
  return native.wait(n, start, value, timeout) as WaitResult
}

/** `notify` of MappedFile: the number of waiters woken (where the OS tells; see the README). */
export function notify(n: NativeMap, map: Extent, byteOffset: unknown, count: unknown): number {
  const [start, c] = [int32At(map, byteOffset), countOf(count)]
  return native.notify(n, start, c)
}

/**
 * Each map's pending waitAsync calls, as functions that settle them 'closed'. close(), resize() and
 * remap() call `wakeWaiters` so the rejections are due at once, even when no `ref: true` wait keeps
 * the loop alive for the waiter threads' own answers (which then find the promise settled).
 */
const pending = new WeakMap<NativeMap, Set<() => void>>()

/** Rejects every pending waitAsync of `n` with ERR_MMAP_CLOSED (the binding wakes their threads). */
export function wakeWaiters(n: NativeMap): void {
  const closers = pending.get(n)
  if (closers === undefined) return // most maps: nothing pending, nothing allocated on close
  pending.delete(n)
  for (const close of closers) close()
}

/** `waitAsync` of MappedFile: settles with the result, or rejects (closed map, abort). */
export function waitAsync(
  n: NativeMap | null,
  map: Extent,
  path: string | null,
  byteOffset: unknown,
  expected: unknown,
  timeoutMs: unknown,
  options: WaitOptions | undefined,
): Promise<WaitResult> {
  try {
    if (n === null) throw mmapError('ERR_MMAP_CLOSED', `the map of ${path ?? 'anonymous memory or a descriptor'} is closed`)
    const start = int32At(map, byteOffset)
    const value = int32Of(expected)
    const timeout = timeoutOf(timeoutMs)
    const o = object<WaitOptions>('options', options)
    const signal = signalOf('options.signal', o.signal)
    const keepAlive = boolean('options.ref', o.ref, false)
    if (signal?.aborted) return Promise.reject(abortError(signal))
    return new Promise<WaitResult>((resolve, reject) => {
      const closers = pending.get(n) ?? pending.set(n, new Set()).get(n)!
      const close = () => {
        settle('aborted')
        reject(mmapError('ERR_MMAP_CLOSED', `the map of ${path ?? 'anonymous memory or a descriptor'} was closed, resized or remapped while waiting`))
      }
      const settle = (result: string) => {
        signal?.removeEventListener('abort', onAbort)
        closers.delete(close)
        if (result === 'closed') close()
        else if (result === 'unsupported') reject(mmapError('ERR_MMAP_UNSUPPORTED', 'this platform has no wait-on-address call'))
        else if (result !== 'aborted') resolve(result as WaitResult)
      }
      let handle: ReturnType<typeof native.waitAsync>
      try {
        handle = native.waitAsync(n, start, value, timeout, keepAlive, settle)
      } catch (error) {
        return reject(fromNative(error, path))
      }
      // Rejects at once; the parked thread is woken and lets go of the map.
      const onAbort = () => {
        closers.delete(close)
        handle.cancel()
        reject(abortError(signal as AbortSignal))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      closers.add(close)
    })
  } catch (error) {
    return Promise.reject(fromNative(error, path))
  }
}
