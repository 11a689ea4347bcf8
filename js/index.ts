// memmap: memory-mapped files for Node.js. The public API; index.d.ts holds the documented
// typings this module implements (checked by js/conformance.ts).
import { abortable, abortError, argError, fromNative } from './errors'
import type { FileArgument, OpenOptions } from '../index'
import { MappedFile, maxViewBytes } from './mapped-file'
import { native, type NativeMap } from './native'
import { prepare, type Prepared } from './options'
import { boolean, byteCount, object } from './validate'

export { MappedFile, maxViewBytes }
export { openShared } from './share'
export type {
  Advice,
  CodedError,
  FileArgument,
  FileLock,
  FileLockOptions,
  LockFileOptions,
  MmapErrorCode,
  Mode,
  OpenOptions,
  OpenSharedOptions,
  Range,
  SharedMapToken,
} from '../index'

/** The system page size in bytes. */
export const pageSize: number = native.pageSize()

/** The granularity of mapping offsets, from the OS: the page size on Unix, 64 KiB on Windows. */
export const allocationGranularity: number = native.allocationGranularity()

/** Whether this runtime allows external ArrayBuffers (false inside Electron's V8 sandbox); probed once at load. */
export const externalBuffersSupported: boolean = native.probeExternalBuffers()

function wrap(p: Prepared, handle: NativeMap): MappedFile {
  return new MappedFile({ native: handle, path: p.path, mode: p.mode, offset: p.offset })
}

/** Opens and maps a file (see index.d.ts). An already aborted `signal` throws an AbortError. */
export function openSync(file: FileArgument, options?: OpenOptions): MappedFile {
  const p = prepare(file, options)
  if (p.signal?.aborted) throw abortError(p.signal)
  try {
    return wrap(p, native.open(p.path, p.fd, p.modeCode, p.offset, p.length, p.create, p.permissions, p.size, p.flags, undefined))
  } catch (error) {
    throw fromNative(error, p.path, p.given)
  }
}

/** Opens, sizes, maps and populates on the libuv thread pool; `signal` rejects with an AbortError. */
export async function open(file: FileArgument, options?: OpenOptions): Promise<MappedFile> {
  const p = prepare(file, options)
  if (p.signal?.aborted) throw abortError(p.signal)
  try {
    const request = native.openAsync(p.path, p.fd, p.modeCode, p.offset, p.length, p.create, p.permissions, p.size, p.flags)
    const handle = await abortable(request, p.signal, (late) => native.close(late))
    return wrap(p, handle)
  } catch (error) {
    throw fromNative(error, p.path, p.given)
  }
}

/** Anonymous memory (`path` null), zero-filled: private (fails early with ENOMEM, no MAP_NORESERVE) or `shared`. */
export function allocate(length: number | bigint, options?: { hugePages?: boolean; shared?: boolean }): MappedFile {
  const len = byteCount('length', length)
  const o = object<{ hugePages?: boolean; shared?: boolean }>('options', options)
  const huge = boolean('hugePages', o.hugePages, false)
  const shared = boolean('shared', o.shared, false)
  if (huge && shared) throw argError('ERR_INVALID_ARG_VALUE', 'hugePages', 'false with `shared: true` (shared memory gets ordinary pages)', o.hugePages)
  try {
    const handle = shared ? native.allocateShared(len) : native.allocate(len, huge)
    return new MappedFile({ native: handle, path: null, mode: 'read-write', offset: 0 })
  } catch (error) {
    throw fromNative(error, null, { length })
  }
}

/** Process-wide counts of live maps and the bytes they cover. */
export function stats(): { liveMaps: number; mappedBytes: number } {
  const c = native.counters()
  return { liveMaps: c.liveMaps, mappedBytes: c.mappedBytes }
}
