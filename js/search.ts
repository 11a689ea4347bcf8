// indexOf, lastIndexOf and indexOfAsync of MappedFile: argument checks and defaults; the search
// itself is one native body for all three (crates/node/src/search.rs over crates/core's search).
import type { IndexOfAsyncOptions } from '../index'
import { abortable, fromNative } from './errors'
import { native, type NativeMap } from './native'
import { integer, needleOf, object, signalOf } from './validate'

export type Needle = string | number | ArrayBufferView
type Offset = number | bigint

/** First match starting at or after `fromOffset` and ending at or before `toOffset` (default: the end). */
export function indexOf(n: NativeMap, length: number, needle: Needle, fromOffset: Offset, toOffset: Offset | undefined): number {
  const bytes = needleOf(needle)
  const from = integer('fromOffset', fromOffset)
  const to = toOffset === undefined ? length : integer('toOffset', toOffset)
  return native.indexOf(n, bytes, from, to)
}

/** Last match starting at or before `fromOffset` (default: the end) and at or after `toOffset`. */
export function lastIndexOf(n: NativeMap, length: number, needle: Needle, fromOffset: Offset | undefined, toOffset: Offset): number {
  const bytes = needleOf(needle)
  const from = fromOffset === undefined ? length : integer('fromOffset', fromOffset)
  const to = integer('toOffset', toOffset)
  return native.lastIndexOf(n, bytes, from, to)
}

/** `indexOf` on the thread pool; `signal` rejects the promise with an AbortError at once. */
export async function indexOfAsync(
  n: NativeMap,
  path: string | null,
  length: number,
  needle: Needle,
  options: IndexOfAsyncOptions | undefined,
): Promise<number> {
  const o = object<IndexOfAsyncOptions>('options', options)
  const bytes = needleOf(needle)
  const from = o.from === undefined ? 0 : integer('options.from', o.from)
  const to = o.to === undefined ? length : integer('options.to', o.to)
  const signal = signalOf('options.signal', o.signal)
  try {
    return await abortable(native.indexOfAsync(native.hold(n), bytes, from, to), signal, () => {})
  } catch (error) {
    throw fromNative(error, path)
  }
}
