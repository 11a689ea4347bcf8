// Argument checks, run before any system call. Messages name the argument, the expectation and
// the value received.
import { argError } from './errors'

/** A byte offset or count: a non-negative safe integer, as a number or a bigint (-0 is 0). */
export function byteCount(name: string, value: unknown): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value + 0
    throw argError('ERR_OUT_OF_RANGE', name, 'a non-negative safe integer', value)
  }
  if (typeof value === 'bigint') {
    if (value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value)
    throw argError('ERR_OUT_OF_RANGE', name, `a bigint in [0, ${Number.MAX_SAFE_INTEGER}]`, value)
  }
  throw argError('ERR_INVALID_ARG_TYPE', name, 'a number or bigint', value)
}

/** An argument as the caller wrote it: its name, the value given, and that value as a number. */
export type Arg = readonly [name: string, given: unknown, value: number]

/**
 * Checks that `count` elements of `size` bytes from byte `start` lie in `[0, total)`. The error
 * names the offset when it alone is past the end, else the length, in the caller's unit
 * (elements when `size` > 1), with the value as given.
 */
export function checkRange(offset: Arg, length: Arg, total: number, size = 1, what = "the map's"): void {
  const [offsetName, offsetGiven, start] = offset
  const [lengthName, lengthGiven, count] = length
  if (start > total) throw argError('ERR_OUT_OF_RANGE', offsetName, `at most ${total}`, offsetGiven)
  if (count * size > total - start) {
    const most = Math.floor((total - start) / size)
    const unit = size === 1 ? '' : ` elements of ${size} bytes`
    throw argError('ERR_OUT_OF_RANGE', lengthName, `at most ${most}${unit} (${what} ${total} bytes from ${offsetName} ${start})`, lengthGiven)
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

// The intrinsic accessors of views, taken at load: a subclass or a patched prototype (getters,
// Symbol.hasInstance) cannot make a view lie about the memory it covers.
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object
const getter = (proto: object, key: string) => Object.getOwnPropertyDescriptor(proto, key)?.get as (this: unknown) => unknown
const typedBuffer = getter(typedArrayProto, 'buffer')
const typedByteOffset = getter(typedArrayProto, 'byteOffset')
const typedByteLength = getter(typedArrayProto, 'byteLength')
const dataViewBuffer = getter(DataView.prototype, 'buffer')
const dataViewByteOffset = getter(DataView.prototype, 'byteOffset')
const dataViewByteLength = getter(DataView.prototype, 'byteLength')
const typedArrayTag = getter(typedArrayProto, Symbol.toStringTag as unknown as string)
const isView = ArrayBuffer.isView
const arrayBufferByteLength = getter(ArrayBuffer.prototype, 'byteLength')

/** An ArrayBuffer's length by the intrinsic getter: 0 once detached (moved by `transfer()`). */
export function byteLengthOf(buffer: ArrayBuffer): number {
  return arrayBufferByteLength.call(buffer) as number
}

/** The TypedArray constructors the runtime has, by the intrinsic each derives from. */
const ELEMENT_SIZES = new Map<unknown, number>(
  [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array]
    .concat((globalThis as { Float16Array?: typeof Uint16Array }).Float16Array ?? [])
    .map((Type) => [Type, Type.BYTES_PER_ELEMENT]),
)

/** The element size of exactly a built-in TypedArray constructor (not a subclass), else undefined: `view()`'s fast path. */
export function builtinElementSize(Type: unknown): number | undefined {
  if (Type === lastType) return lastSize
  const size = ELEMENT_SIZES.get(Type)
  if (size !== undefined) [lastType, lastSize] = [Type, size]
  return size
}
/** The last constructor `builtinElementSize` found: code in a loop asks for the same one. */
let lastType: unknown
let lastSize = 0

/**
 * The element size of a TypedArray constructor or a subclass of one, from the intrinsic it
 * derives from (a subclass's own BYTES_PER_ELEMENT could lie); undefined for anything else.
 */
export function elementSize(Type: unknown): number | undefined {
  try {
    for (let c = Type; typeof c === 'function'; c = Object.getPrototypeOf(c)) {
      const size = ELEMENT_SIZES.get(c)
      if (size !== undefined) return size
    }
  } catch {
    // A Proxy whose getPrototypeOf trap throws: not a constructor we can trust.
  }
  return undefined
}

/** Any ArrayBufferView as a plain Uint8Array over the same bytes (no copy), read through the intrinsics. */
export function bytesOf(name: string, value: unknown): Uint8Array {
  if (!isView(value)) throw argError('ERR_INVALID_ARG_TYPE', name, 'a TypedArray, Buffer or DataView', value)
  const typed = typedArrayTag.call(value) !== undefined
  const buffer = (typed ? typedBuffer : dataViewBuffer).call(value) as ArrayBufferLike
  const byteOffset = (typed ? typedByteOffset : dataViewByteOffset).call(value) as number
  const byteLength = (typed ? typedByteLength : dataViewByteLength).call(value) as number
  return new Uint8Array(buffer, byteOffset, byteLength)
}

/** An integer that may be negative (search offsets count from the end when negative). */
export function integer(name: string, value: unknown): number {
  if (typeof value === 'bigint') {
    if (value < BigInt(Number.MIN_SAFE_INTEGER) || value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw argError('ERR_OUT_OF_RANGE', name, 'a safe integer', value)
    }
    return Number(value)
  }
  if (typeof value !== 'number') throw argError('ERR_INVALID_ARG_TYPE', name, 'an integer', value)
  if (!Number.isSafeInteger(value)) throw argError('ERR_OUT_OF_RANGE', name, 'a safe integer', value)
  return value + 0
}

/** A search needle: bytes, a string (UTF-8) or a byte value 0-255. */
export function needleOf(value: unknown): Uint8Array {
  if (typeof value === 'string') return Buffer.from(value, 'utf8')
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 255) throw argError('ERR_OUT_OF_RANGE', 'needle', 'an integer in [0, 255]', value)
    return Uint8Array.of(value)
  }
  if (isView(value)) return bytesOf('needle', value)
  throw argError('ERR_INVALID_ARG_TYPE', 'needle', 'a string, a byte value or an ArrayBufferView', value)
}

/** An AbortSignal, or undefined. */
export function signalOf(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined
  if (!isAbortSignal(value)) throw argError('ERR_INVALID_ARG_TYPE', name, 'an AbortSignal', value)
  return value
}

const abortedGetter = getter(AbortSignal.prototype, 'aborted')
/** Whether `value` is a real AbortSignal (its intrinsic getter accepts it), whatever instanceof says. */
function isAbortSignal(value: unknown): value is AbortSignal {
  try {
    abortedGetter.call(value)
    return true
  } catch {
    return false
  }
}
