// The token `share()` makes (SPEC §3.1): plain data, structured-cloneable and JSON-safe. Kept
// apart from share.ts, which needs MappedFile, so mapped-file.ts can use it without a cycle.
import { resolve } from 'node:path'

import type { Mode, SharedMapToken } from '../index'
import type { ShareInfo } from '../native/binding'
import { mmapError } from './errors'

/** The token of a map, from what the binding says of it and the map's own fields. */
export function tokenOf(info: ShareInfo, path: string | null, offset: number, length: number, mode: Mode): SharedMapToken {
  const kind = info.kind as SharedMapToken['kind']
  const token: SharedMapToken = { v: 1, kind, dev: info.dev, ino: info.ino, offset, length, mode, pid: process.pid }
  if (kind === 'section') {
    token.name = info.name ?? undefined
    return token
  }
  if (kind === 'file' && path !== null) {
    // Resolved now: a worker shares the cwd, another process may not.
    token.path = resolve(path)
  } else if (kind === 'file' && process.platform !== 'linux') {
    throw mmapError('ERR_MMAP_UNSUPPORTED', 'share() of a map opened from a descriptor needs /proc/<pid>/fd (Linux) to reach the file again: open it by path')
  }
  if (info.fd !== undefined && info.fd !== null) token.fd = info.fd
  return token
}
