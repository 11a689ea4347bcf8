// Errors as node:fs shapes them: system errors carry `code`, negative `errno`, `syscall` and
// `path`; argument errors use Node's codes and classes; library errors use ERR_MMAP_* codes.
import { getSystemErrorMap, inspect } from 'node:util'

// The public types are declared once, in the curated typings.
import type { CodedError, MmapErrorCode } from '../index'

type ArgCode = 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE' | 'ERR_OUT_OF_RANGE'

function coded<E extends Error>(error: E, code: string): E & CodedError {
  Object.defineProperty(error, 'code', { value: code, enumerable: true, writable: true, configurable: true })
  return error as E & CodedError
}

/** A value as the caller wrote it, with its type: `8193 (number)`, `5n (bigint)`, `'x' (string)`. */
function describe(value: unknown): string {
  const type = value === null ? 'null' : typeof value
  const shown = typeof value === 'function' ? value.name || 'anonymous function' : inspect(value, { depth: 0, maxStringLength: 40 })
  return `${shown} (${type})`
}

export function argError(code: ArgCode, name: string, expected: string, value: unknown): CodedError {
  const message = `Expected \`${name}\` to be ${expected}, got ${describe(value)}`
  return code === 'ERR_OUT_OF_RANGE' ? coded(new RangeError(message), code) : coded(new TypeError(message), code)
}

export function mmapError(code: MmapErrorCode, message: string): CodedError {
  return coded(new Error(message), code)
}

let systemErrors: Map<number, [string, string]> | undefined

/** A system error shaped like node:fs's: `${code}: ${description}, ${syscall} '${path}'`. */
export function systemError(errno: number, syscall: string, path: string | null, fallback: string): CodedError {
  systemErrors ??= getSystemErrorMap()
  const uvErrno = -Math.abs(errno)
  const [name, description] = systemErrors.get(uvErrno) ?? ['EUNKNOWN', fallback]
  const where = path === null ? syscall : `${syscall} '${path}'`
  const error = coded(new Error(`${name}: ${description}, ${where}`), name)
  error.errno = uvErrno
  error.syscall = syscall
  if (path !== null) error.path = path
  return error
}

interface NativeParts {
  code: string
  message: string
  errno?: number
  syscall?: string
  /** An argument error's argument name and what it had to be. */
  arg?: string
  expected?: string
}

function classFor(code: string): ErrorConstructor {
  if (code === 'ERR_OUT_OF_RANGE') return RangeError
  if (code === 'ERR_INVALID_ARG_VALUE' || code === 'ERR_INVALID_ARG_TYPE') return TypeError
  return Error
}

/**
 * Rebuilds an error the binding threw (its parts travel as JSON in the message). `given` holds
 * the arguments as the caller wrote them, so an argument error shows the value as given (a
 * bigint as `5n (bigint)`), not as the binding received it.
 */
export function fromNative(error: unknown, path: string | null, given?: Readonly<Record<string, unknown>>): unknown {
  if (!(error instanceof Error)) return error
  // napi-rs's own conversion failures: an argument the TypeScript layer should have refused.
  if ((error as CodedError).code === 'InvalidArg') return coded(new TypeError(error.message), 'ERR_INVALID_ARG_TYPE')
  if (!error.message.startsWith('{"code":')) return error
  let parts: NativeParts
  try {
    parts = JSON.parse(error.message) as NativeParts
  } catch {
    return error
  }
  if (parts.errno !== undefined && parts.syscall !== undefined) {
    return systemError(parts.errno, parts.syscall, path, parts.message)
  }
  if (parts.arg !== undefined && parts.expected !== undefined && given !== undefined && Object.hasOwn(given, parts.arg)) {
    return argError(parts.code as ArgCode, parts.arg, parts.expected, given[parts.arg])
  }
  return coded(new (classFor(parts.code))(parts.message), parts.code)
}

/** Node's AbortError: `name` 'AbortError', `code` 'ABORT_ERR', the signal's reason as `cause`. */
export function abortError(signal: AbortSignal): CodedError {
  const error = coded(new Error('The operation was aborted', { cause: signal.reason }), 'ABORT_ERR')
  error.name = 'AbortError'
  return error
}

/**
 * Settles like `promise`, but rejects with an AbortError as soon as `signal` aborts; a value that
 * arrives after the abort is handed to `discard` (to close a map nobody will receive).
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, discard: (value: T) => void): Promise<T> {
  if (signal === undefined) return promise
  if (signal.aborted) {
    promise.then(discard, () => {})
    return Promise.reject(abortError(signal))
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal))
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        if (signal.aborted) discard(value)
        else resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
