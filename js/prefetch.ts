// prefetch(): pages a range in on the libuv thread pool (crates/node/src/prefetch.rs). An abort
// rejects at once and stops the native work at its next chunk.
import type { PrefetchOptions } from '../index'
import { abortable, abortError, fromNative } from './errors'
import { native, type NativeMap } from './native'
import { object, signalOf } from './validate'

/** Reads in every page of `[start, start + count)` of the map off the JavaScript thread. */
export async function prefetch(n: NativeMap, path: string | null, start: number, count: number, options: PrefetchOptions | undefined): Promise<void> {
  const o = object<PrefetchOptions>('options', options)
  const signal = signalOf('options.signal', o.signal)
  if (signal?.aborted) throw abortError(signal)
  const flag = new native.PrefetchAbort()
  const stop = () => flag.abort()
  signal?.addEventListener('abort', stop, { once: true })
  try {
    await abortable(native.prefetchAsync(native.hold(n), start, count, flag), signal, () => {})
  } catch (error) {
    throw fromNative(error, path)
  } finally {
    signal?.removeEventListener('abort', stop)
  }
}
