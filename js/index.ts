// memmap: memory-mapped files for Node.js. The public API; see index.d.ts for the documented
// typings this module implements (checked by js/conformance.ts).
import { fileURLToPath } from 'node:url'

import { argError, fromNative } from './errors'
import { MappedFile, maxViewBytes, type Mode } from './mapped-file'
import { native } from './native'
import { boolean, byteCount, object, oneOf } from './validate'

export { MappedFile, maxViewBytes }
export type { Mode, Range } from './mapped-file'
export type { CodedError, MmapErrorCode } from './errors'

/** The system page size in bytes. */
export const pageSize: number = native.pageSize()

/** What `openSync` and `open` accept as the file. */
export type FileArgument = string | Buffer | URL | number | { readonly fd: number }

export interface OpenOptions {
  mode?: Mode
  offset?: number | bigint
  length?: number | bigint
  create?: boolean | 'exclusive'
  permissions?: number
  size?: number | bigint
  trackFile?: boolean
  signal?: AbortSignal
}

const MODES: readonly Mode[] = ['read', 'read-write', 'copy-on-write']

interface Target {
  path: string | null
  fd: number | null
}

function target(file: unknown): Target {
  if (typeof file === 'string') return { path: checkPath(file), fd: null }
  if (file instanceof URL) return { path: fileURLToPath(file), fd: null }
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

/**
 * Opens and maps a file. See index.d.ts for the documentation.
 */
export function openSync(file: FileArgument, options?: OpenOptions): MappedFile {
  const where = target(file)
  const o = object<OpenOptions>('options', options)
  const mode = oneOf('mode', o.mode, MODES, 'read')
  const create = createValue(o.create)
  if (create !== 'no' && mode !== 'read-write') {
    throw argError('ERR_INVALID_ARG_VALUE', 'create', `false with mode '${mode}' (create needs 'read-write')`, o.create)
  }
  if (o.size !== undefined && mode !== 'read-write') {
    throw argError('ERR_INVALID_ARG_VALUE', 'size', `undefined with mode '${mode}' (size needs 'read-write')`, o.size)
  }
  const bindingOptions = {
    mode,
    offset: o.offset === undefined ? 0 : byteCount('offset', o.offset),
    length: o.length === undefined ? undefined : byteCount('length', o.length),
    create,
    permissions: permissionsValue(o.permissions),
    size: o.size === undefined ? undefined : byteCount('size', o.size),
    trackFile: boolean('trackFile', o.trackFile, true),
  }
  if (create !== 'no' && where.path === null) {
    throw argError('ERR_INVALID_ARG_VALUE', 'create', 'false when mapping a descriptor', o.create)
  }
  let handle
  try {
    handle =
      where.path !== null
        ? native.NativeMap.openPath(where.path, bindingOptions)
        : native.NativeMap.openFd(where.fd as number, bindingOptions)
  } catch (error) {
    throw fromNative(error, where.path)
  }
  return new MappedFile({ native: handle, path: where.path, mode, offset: bindingOptions.offset })
}

/**
 * `openSync` as a promise; rejects with an AbortError if `signal` is aborted.
 */
export async function open(file: FileArgument, options?: OpenOptions): Promise<MappedFile> {
  const signal = object<OpenOptions>('options', options).signal
  signal?.throwIfAborted()
  return openSync(file, options)
}

/** Process-wide counts of live maps and the bytes they cover. */
export function stats(): { liveMaps: number; mappedBytes: number } {
  const c = native.counters()
  return { liveMaps: c.liveMaps, mappedBytes: c.mappedBytes }
}

/**
 * @internal For tests: counters of the binding (external ArrayBuffers created and alive).
 */
export function _counters(): { externalBuffersCreated: number; externalBuffersLive: number; liveMaps: number; mappedBytes: number } {
  return native.counters()
}
