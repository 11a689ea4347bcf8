// Sharing one map with workers and other processes (SPEC §3.1): `share()` makes a plain token,
// `openShared(token)` maps the same range again after the binding checks it is still the same
// file or memory (device and inode; a Windows section by its name). Each isolate owns its map.
import type { Mode, OpenSharedOptions, SharedMapToken } from '../index'
import type { BindingMode } from '../native/binding'
import { argError, fromNative, mmapError } from './errors'
import { MappedFile } from './mapped-file'
import { native } from './native'
import { binding, MODES, OPEN_FLAGS, prepare } from './options'
import { byteCount, object, oneOf } from './validate'

const KINDS: readonly SharedMapToken['kind'][] = ['file', 'memfd', 'shm', 'section']

/** How much a mode may do: a receiver may ask for the token's mode or less, never more. */
const REACH: Readonly<Record<Mode, number>> = { read: 0, 'copy-on-write': 1, 'read-write': 2 }

function text(name: string, value: unknown, pattern?: RegExp): string {
  if (typeof value !== 'string') throw argError('ERR_INVALID_ARG_TYPE', name, 'a string', value)
  if (pattern !== undefined && !pattern.test(value)) throw argError('ERR_INVALID_ARG_VALUE', name, 'a decimal integer string', value)
  return value
}

function descriptor(name: string, value: unknown): number {
  if (typeof value !== 'number') throw argError('ERR_INVALID_ARG_TYPE', name, 'a number', value)
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) throw argError('ERR_OUT_OF_RANGE', name, 'an integer in [0, 2147483647]', value)
  return value
}

/** A token as `share()` makes it, checked field by field (it may have crossed JSON or a process). */
function checkToken(token: unknown): SharedMapToken {
  if (token === null || typeof token !== 'object') throw argError('ERR_INVALID_ARG_TYPE', 'token', 'a token from share()', token)
  const t = token as Record<string, unknown>
  if (t.v !== 1) throw argError('ERR_INVALID_ARG_VALUE', 'token.v', '1 (a token of this version of memmap)', t.v)
  const kind = oneOf('token.kind', t.kind, KINDS, 'file')
  const checked: SharedMapToken = {
    v: 1,
    kind,
    dev: text('token.dev', t.dev, /^\d+$/),
    ino: text('token.ino', t.ino, /^\d+$/),
    offset: byteCount('token.offset', t.offset),
    length: byteCount('token.length', t.length),
    mode: oneOf('token.mode', t.mode, MODES, 'read'),
  }
  if (t.mode === undefined) throw argError('ERR_INVALID_ARG_TYPE', 'token.mode', 'a string', t.mode)
  if (t.pid !== undefined) checked.pid = descriptor('token.pid', t.pid)
  if (t.fd !== undefined) checked.fd = descriptor('token.fd', t.fd)
  if (t.path !== undefined) checked.path = text('token.path', t.path)
  if (t.name !== undefined || kind === 'section') checked.name = text('token.name', t.name)
  if (kind !== 'section' && checked.path === undefined && checked.fd === undefined) {
    throw argError('ERR_INVALID_ARG_VALUE', 'token', 'a token with a path or a descriptor', token)
  }
  return checked
}

/** Where this process finds the token's file or memory: the caller's descriptor, the path, the sharer's descriptor (same process) or /proc. */
function source(t: SharedMapToken, fd: number | undefined): string | number {
  if (fd !== undefined) return fd
  if (t.path !== undefined) return t.path
  if (t.fd !== undefined && t.pid === process.pid) return t.fd
  if (t.fd !== undefined && t.pid !== undefined && process.platform === 'linux') return `/proc/${t.pid}/fd/${t.fd}`
  throw mmapError(
    'ERR_MMAP_UNSUPPORTED',
    `a '${t.kind}' token from another process travels with its descriptor: pass token.fd in the child's stdio and call openShared(token, { fd })`,
  )
}

/** Maps the range a `share()` token describes (see index.d.ts). */
export function openShared(token: SharedMapToken, options?: OpenSharedOptions): MappedFile {
  const t = checkToken(token)
  const o = object<OpenSharedOptions>('options', options)
  const mode = oneOf('mode', o.mode, MODES, t.mode)
  if (REACH[mode] > REACH[t.mode]) {
    throw mmapError('ERR_MMAP_READ_ONLY', `the token grants '${t.mode}': openShared may narrow the mode, not widen it to '${mode}'`)
  }
  const fd = o.fd === undefined ? undefined : descriptor('fd', o.fd)
  if (t.kind === 'section') {
    if (fd !== undefined) throw argError('ERR_INVALID_ARG_VALUE', 'fd', 'undefined for a section token (sections are opened by name)', fd)
    try {
      const handle = native.openSection(t.name as string, t.length, binding<BindingMode>(mode))
      return new MappedFile({ native: handle, path: null, mode, offset: 0 })
    } catch (error) {
      throw fromNative(error, null)
    }
  }
  const p = prepare(source(t, fd), { mode, offset: t.offset, length: t.length, populate: o.populate, advice: o.advice })
  const flags = t.kind === 'file' ? p.flags : p.flags | OPEN_FLAGS.shared
  try {
    const handle = native.open(p.path, p.fd, p.modeCode, p.offset, p.length, p.create, p.permissions, p.size, flags, { dev: t.dev, ino: t.ino })
    return new MappedFile({
      native: handle,
      path: t.kind === 'file' && fd === undefined && t.path !== undefined ? t.path : null,
      mode,
      offset: t.offset,
    })
  } catch (error) {
    throw fromNative(error, p.path, p.given)
  }
}
