// Argument preparation for opening a map: what only JavaScript can judge (types, number or
// bigint, path / URL / Buffer / descriptor / FileHandle, membership of the closed sets), turned
// into the binding's typed request. Every rule that combines options (`create` and `size` need
// 'read-write', `create` needs a path, 'dontneed' on private pages) lives in the core
// (crates/core/src/options.rs), which checks it before any system call.
import { fileURLToPath } from 'node:url'

import type { Advice, Mode, OpenOptions } from '../index'
import type { FileIdentity } from '../native/binding'
import { argError } from './errors'
import { boolean, byteCount, object, oneOf, signalOf } from './validate'

export const MODES: readonly Mode[] = ['read', 'read-write', 'copy-on-write']
export const ADVICE: readonly Advice[] = ['normal', 'sequential', 'random', 'willneed', 'dontneed', 'hugepage']

/**
 * An open request, checked, as the binding takes it: positional numbers (`open` and
 * `openAsync` in crates/node/src/open.rs, `PackedOptions` in options.rs), so a call converts no
 * object. The codes are indexes into MODES, CREATE and ADVICE; -1 is "not given".
 */
export interface Prepared {
  path: string | null
  /** The descriptor, or -1. */
  fd: number
  mode: Mode
  modeCode: number
  offset: number
  length: number
  create: number
  permissions: number
  size: number
  /** OPEN_FLAGS bits, and the advice's code from bit 8. */
  flags: number
  identity: FileIdentity | undefined
  signal: AbortSignal | undefined
  /** The options as the caller wrote them, so a native argument error shows the value as given. */
  given: Readonly<Record<string, unknown>>
}

export const OPEN_FLAGS = { allocate: 1, populate: 2, trackFile: 4, shared: 8 } as const
const CREATE = ['no', 'if-missing', 'exclusive'] as const
const NO_OPTIONS: Readonly<Record<string, unknown>> = Object.freeze({})

/** Validates every argument before any system call. */
export function prepare(file: unknown, options: unknown): Prepared {
  const where = target(file)
  const o = object<OpenOptions>('options', options)
  const mode = oneOf('mode', o.mode, MODES, 'read')
  let flags = ADVICE.indexOf(oneOf('advice', o.advice, ADVICE, 'normal')) << 8
  if (boolean('allocate', o.allocate, false)) flags |= OPEN_FLAGS.allocate
  if (boolean('populate', o.populate, false)) flags |= OPEN_FLAGS.populate
  if (boolean('trackFile', o.trackFile, true)) flags |= OPEN_FLAGS.trackFile
  return {
    path: where.path,
    fd: where.fd ?? -1,
    mode,
    modeCode: MODE_CODES[mode],
    offset: o.offset === undefined ? 0 : byteCount('offset', o.offset),
    length: o.length === undefined ? -1 : byteCount('length', o.length),
    create: CREATE.indexOf(createValue(o.create)),
    permissions: permissionsValue(o.permissions),
    size: o.size === undefined ? -1 : byteCount('size', o.size),
    flags,
    identity: undefined,
    signal: signalOf('signal', o.signal),
    given: options === undefined || options === null ? NO_OPTIONS : (options as Record<string, unknown>),
  }
}

const MODE_CODES: Readonly<Record<Mode, number>> = { read: 0, 'read-write': 1, 'copy-on-write': 2 }

/**
 * A string of a closed set as the binding's string enum: napi-rs declares those as `const enum`s
 * whose values are exactly these strings.
 */
export function binding<E>(value: string): E {
  return value as unknown as E
}

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

/** Mode bits: an integer; the core checks the range (0 to 0o7777). */
function permissionsValue(value: unknown): number {
  if (value === undefined) return 0o666
  if (typeof value !== 'number') throw argError('ERR_INVALID_ARG_TYPE', 'permissions', 'a number', value)
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw argError('ERR_OUT_OF_RANGE', 'permissions', 'an integer in [0, 0o7777]', value)
  }
  return value
}
