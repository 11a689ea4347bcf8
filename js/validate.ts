// Argument checks, run before any system call. Messages name the argument, the expectation and
// the value received.
import { argError } from './errors'

/** A byte offset or count: a non-negative safe integer, as a number or a bigint. */
export function byteCount(name: string, value: unknown): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value
    throw argError('ERR_OUT_OF_RANGE', name, 'a non-negative safe integer', value)
  }
  if (typeof value === 'bigint') {
    if (value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value)
    throw argError('ERR_OUT_OF_RANGE', name, `a bigint in [0, ${Number.MAX_SAFE_INTEGER}]`, value)
  }
  throw argError('ERR_INVALID_ARG_TYPE', name, 'a number or bigint', value)
}

/** Like `byteCount`, and at most `max`. */
export function byteCountUpTo(name: string, value: unknown, max: number): number {
  const n = byteCount(name, value)
  if (n > max) throw argError('ERR_OUT_OF_RANGE', name, `at most ${max}`, value)
  return n
}

/** Checks `[start, start + length)` lies in `[0, total)`. */
export function checkRange(name: string, start: number, length: number, total: number): void {
  if (start + length > total) {
    throw argError('ERR_OUT_OF_RANGE', `${name} + length`, `at most ${total}`, `${start} + ${length}`)
  }
}

export function boolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw argError('ERR_INVALID_ARG_TYPE', name, 'a boolean', value)
  return value
}

export function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (typeof value !== 'string') throw argError('ERR_INVALID_ARG_TYPE', name, 'a string', value)
  if (!(allowed as readonly string[]).includes(value)) {
    throw argError('ERR_INVALID_ARG_VALUE', name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value)
  }
  return value as T
}

export function object<T extends object>(name: string, value: unknown): Partial<T> {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object') throw argError('ERR_INVALID_ARG_TYPE', name, 'an object', value)
  return value as Partial<T>
}

/** Any ArrayBufferView as a Uint8Array over the same bytes (no copy). */
export function bytesOf(name: string, value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  throw argError('ERR_INVALID_ARG_TYPE', name, 'a TypedArray, Buffer or DataView', value)
}

/** An integer that may be negative (search offsets count from the end when negative). */
export function integer(name: string, value: unknown): number {
  if (typeof value === 'bigint') value = Number(value)
  if (typeof value !== 'number') throw argError('ERR_INVALID_ARG_TYPE', name, 'an integer', value)
  if (!Number.isSafeInteger(value)) throw argError('ERR_OUT_OF_RANGE', name, 'a safe integer', value)
  return value
}

/** A search needle: bytes, a string (UTF-8) or a byte value 0-255. */
export function needleOf(value: unknown): Uint8Array {
  if (typeof value === 'string') return Buffer.from(value, 'utf8')
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 255) throw argError('ERR_OUT_OF_RANGE', 'needle', 'an integer in [0, 255]', value)
    return Uint8Array.of(value)
  }
  if (ArrayBuffer.isView(value)) return bytesOf('needle', value)
  throw argError('ERR_INVALID_ARG_TYPE', 'needle', 'a string, a byte value or an ArrayBufferView', value)
}

/** An AbortSignal, or undefined. */
export function signalOf(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined
  if (!(value instanceof AbortSignal)) throw argError('ERR_INVALID_ARG_TYPE', name, 'an AbortSignal', value)
  return value
}
