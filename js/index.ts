// memmap: memory-mapped files for Node.js. The public API; index.d.ts holds the documented
// typings this module implements (checked by js/conformance.ts).
import { fileURLToPath } from 'node:url'

import { abortable, abortError, argError, fromNative } from './errors'
import type { FileArgument, Mode, OpenOptions } from '../index'
import { ADVICE, MappedFile, maxViewBytes } from './mapped-file'
import { native } from './native'
import { boolean, byteCount, object, oneOf, signalOf } from './validate'

export { MappedFile, maxViewBytes }
export type { Advice, CodedError, FileArgument, MmapErrorCode, Mode, OpenOptions, Range } from '../index'

/** The system page size in bytes. */
export const pageSize: number = native.pageSize()

/** The granularity of mapping offsets, from the OS: the page size on Unix, 64 KiB on Windows. */
export const allocationGranularity: number = native.allocationGranularity()

/** Whether this runtime allows external ArrayBuffers (false inside Electron's V8 sandbox); probed once at load. */
export const externalBuffersSupported: boolean = native.probeExternalBuffers()

const MODES: readonly Mode[] = ['read', 'read-write', 'copy-on-write']

interface Target {
  path: string | null
  fd: number | null
}

function target(file: unknown): Target {
  if (typeof file === 'string') return { path: checkPath(file), fd: null }
  if (file instanceof URL) return { path: checkPath(fileURLToPath(file)), fd: null }
  if (file instanceof Uint8Array) return { path: checkPath(new TextDecoder().decode(file)), fd: null }
  if (typeof file === 'number') {
    if (!Number.isInteger(file) || file < 0 || file > 0x7fffffff) {
      throw argError('ERR_OUT_OF_RANGE', 'fd', 'an integer in [0, 2147483647]', file)
    }
    return { path: null, fd: file }
  }
  if (file !== null && typeof file === 'object' && typeof (file as { fd?: unknown }).fd === 'number') {
    return target((file as { fd: number }).fd)
  }
  throw argError('ERR_INVALID_ARG_TYPE', 'file', 'a path (string, Buffer or file URL), a descriptor or a FileHandle', file)
}

function checkPath(path: string): string {
  if (path.includes('\u0000')) throw argError('ERR_INVALID_ARG_VALUE', 'path', 'a string without null bytes', path)
  if (path.length === 0) throw argError('ERR_INVALID_ARG_VALUE', 'path', 'a non-empty string', path)
  return path
}

function createValue(value: unknown): 'no' | 'if-missing' | 'exclusive' {
  if (value === undefined || value === false) return 'no'
  if (value === true) return 'if-missing'
  if (value === 'exclusive') return 'exclusive'
  if (typeof value === 'boolean' || typeof value === 'string') {
    throw argError('ERR_INVALID_ARG_VALUE', 'create', "true, false or 'exclusive'", value)
  }
  throw argError('ERR_INVALID_ARG_TYPE', 'create', "a boolean or 'exclusive'", value)
}

function permissionsValue(value: unknown): number {
  if (value === undefined) return 0o666
  if (typeof value !== 'number') throw argError('ERR_INVALID_ARG_TYPE', 'permissions', 'a number', value)
  if (!Number.isInteger(value) || value < 0 || value > 0o7777) {
    throw argError('ERR_OUT_OF_RANGE', 'permissions', 'an integer in [0, 0o7777]', value)
  }
  return value
}

interface Prepared {
  where: Target
  mode: Mode
  signal: AbortSignal | undefined
  /** The numeric options as the caller wrote them, for error messages. */
  given: Record<string, unknown>
  binding: Parameters<typeof native.NativeMap.openPath>[1]
}

/** Validates every argument before any system call. */
function prepare(file: unknown, options: unknown): Prepared {
  const where = target(file)
  const o = object<OpenOptions>('options', options)
  const mode = oneOf('mode', o.mode, MODES, 'read')
  const create = createValue(o.create)
  if (create !== 'no' && mode !== 'read-write') {
    throw argError('ERR_INVALID_ARG_VALUE', 'create', `false with mode '${mode}' (create needs 'read-write')`, o.create)
  }
  if (create !== 'no' && where.path === null) {
    throw argError('ERR_INVALID_ARG_VALUE', 'create', 'false when mapping a descriptor', o.create)
  }
  if (o.size !== undefined && mode !== 'read-write') {
    throw argError('ERR_INVALID_ARG_VALUE', 'size', `undefined with mode '${mode}' (size needs 'read-write')`, o.size)
  }
  // 'dontneed' with 'copy-on-write' is refused by the core (ERR_MMAP_UNSUPPORTED), before any system call.
  const advice = oneOf('advice', o.advice, ADVICE, 'normal')
  return {
    where,
    mode,
    signal: signalOf('signal', o.signal),
    given: { offset: o.offset, length: o.length, size: o.size },
    binding: {
      mode,
      offset: o.offset === undefined ? 0 : byteCount('offset', o.offset),
      length: o.length === undefined ? undefined : byteCount('length', o.length),
      create,
      permissions: permissionsValue(o.permissions),
      size: o.size === undefined ? undefined : byteCount('size', o.size),
      allocate: boolean('allocate', o.allocate, false),
      populate: boolean('populate', o.populate, false),
      advice,
      trackFile: boolean('trackFile', o.trackFile, true),
    },
  }
}

function wrap(p: Prepared, handle: InstanceType<typeof native.NativeMap>): MappedFile {
  return new MappedFile({ native: handle, path: p.where.path, mode: p.mode, offset: p.binding.offset })
}

/** Opens and maps a file (see index.d.ts). An already aborted `signal` throws an AbortError. */
export function openSync(file: FileArgument, options?: OpenOptions): MappedFile {
  const p = prepare(file, options)
  if (p.signal?.aborted) throw abortError(p.signal)
  try {
    const handle =
      p.where.path !== null ? native.NativeMap.openPath(p.where.path, p.binding) : native.NativeMap.openFd(p.where.fd as number, p.binding)
    return wrap(p, handle)
  } catch (error) {
    throw fromNative(error, p.where.path, p.given)
  }
}

/** Opens, sizes, maps and populates on the libuv thread pool; `signal` rejects with an AbortError. */
export async function open(file: FileArgument, options?: OpenOptions): Promise<MappedFile> {
  const p = prepare(file, options)
  if (p.signal?.aborted) throw abortError(p.signal)
  try {
    const pending =
      p.where.path !== null ? native.openPathAsync(p.where.path, p.binding) : native.openFdAsync(p.where.fd as number, p.binding)
    const handle = await abortable(pending, p.signal, (late) => late.close())
    return wrap(p, handle)
  } catch (error) {
    throw fromNative(error, p.where.path, p.given)
  }
}

/** Anonymous private memory (`path` null), zero-filled; fails early with ENOMEM (no MAP_NORESERVE). */
export function allocate(length: number | bigint, options?: { hugePages?: boolean }): MappedFile {
  const len = byteCount('length', length)
  const o = object<{ hugePages?: boolean }>('options', options)
  const huge = boolean('hugePages', o.hugePages, false)
  try {
    return new MappedFile({ native: native.NativeMap.allocate(len, huge), path: null, mode: 'read-write', offset: 0 })
  } catch (error) {
    throw fromNative(error, null, { length })
  }
}

/** Process-wide counts of live maps and the bytes they cover. */
export function stats(): { liveMaps: number; mappedBytes: number } {
  const c = native.counters()
  return { liveMaps: c.liveMaps, mappedBytes: c.mappedBytes }
}
