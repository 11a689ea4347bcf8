// Views in the model-based property tests: every view type memmap hands out (buffer, bytes,
// view(Type) of each TypedArray and Buffer, dataView), and stores through them. The bytes a store
// puts in memory come from the same store into a scratch array of the same type (an independent
// oracle of the element encoding); the model then records them as stores into the map.
import * as assert from 'node:assert/strict'

import { outcome, store, type MapModel, type State, type ViewModel } from './model'
import type { Op } from './model-ops'

type TypedConstructor = {
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): ArrayBufferView
  new (length: number): ArrayBufferView
  BYTES_PER_ELEMENT: number
  name: string
}

const TYPED: TypedConstructor[] = [
  Uint8Array,
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  ...((globalThis as { Float16Array?: TypedConstructor }).Float16Array ? [(globalThis as unknown as { Float16Array: TypedConstructor }).Float16Array] : []),
] as TypedConstructor[]

const KINDS = ['buffer', 'bytes', 'Buffer', 'DataView', ...TYPED.map((T) => T.name)]
const DATAVIEW_SETTERS = [
  ['setUint8', 1],
  ['setInt16', 2],
  ['setUint32', 4],
  ['setFloat32', 4],
  ['setFloat64', 8],
  ['setBigUint64', 8],
] as const

/** Creates a view of `m` of a type chosen by `o.b`, checking the one error the model predicts (ERR_MMAP_UNALIGNED). */
export function applyView(s: State, m: MapModel, o: Op): void {
  const kind = KINDS[o.b % KINDS.length]
  if (kind === 'buffer' || kind === 'bytes') {
    s.trace.push(`map ${m.id}.${kind}`)
    const value = kind === 'buffer' ? m.real.buffer : m.real.bytes
    assert.equal(value.byteLength, m.length)
    m.views.push({ kind, value, start: 0, byteLength: m.length })
    return
  }
  const T = TYPED.find((t) => t.name === kind)
  const size = T?.BYTES_PER_ELEMENT ?? 1
  let start = o.c % (m.length + 1)
  const misaligned = size > 1 && o.e % 16 === 0
  const shift = (m.offset + start) % size
  if (misaligned) {
    if (shift === 0) start = start + 1 <= m.length ? start + 1 : start - 1
    if (start < 0) return
  } else {
    start += (size - shift) % size
  }
  if (start > m.length) return
  const fits = Math.floor((m.length - start) / size)
  const count = o.d & 1 ? undefined : (o.d >> 1) % (fits + 1)
  const want = misaligned && (m.offset + start) % size !== 0 ? 'ERR_MMAP_UNALIGNED' : 'ok'
  s.trace.push(`map ${m.id}.${kind === 'DataView' ? 'dataView(' : `view(${kind}, `}${start}, ${count}), expect ${want}`)
  let value: ArrayBufferView | undefined
  const got = outcome(() => {
    if (kind === 'DataView') value = m.real.dataView(start, count)
    else if (kind === 'Buffer') value = m.real.view(Buffer, start, count)
    else value = m.real.view(T as never, start, count) as ArrayBufferView
  })
  assert.equal(got, want, `view: memmap answered ${got}, the model says ${want}`)
  if (value === undefined) return
  const byteLength = (count ?? fits) * size
  assert.equal(value.byteLength, byteLength)
  m.views.push({ kind, value, start, byteLength })
}

/** The bytes storing `v` into element 0 of a scratch `T` produces. */
function encode(T: TypedConstructor, v: number): Uint8Array {
  const scratch = new T(1) as unknown as { [i: number]: number | bigint; buffer: ArrayBuffer }
  scratch[0] = T === BigInt64Array || T === BigUint64Array ? BigInt(v) : v
  return new Uint8Array(scratch.buffer)
}

/** A store through a live view, into bytes of the file (never past its end, never a read-only map). */
export function applyStore(s: State, o: Op): void {
  const live: [MapModel, ViewModel][] = []
  for (const m of s.maps) if (!m.protectedRead) for (const v of m.views) live.push([m, v])
  if (live.length === 0) return
  const [m, v] = live[o.a % live.length]
  const value = (o.c % 2001) - 1000
  const limit = Math.min(m.length, Math.max(0, (m.file.data?.length ?? 0) - m.offset))
  if (v.value instanceof ArrayBuffer || v.kind === 'bytes' || v.kind === 'Buffer' || v.kind === 'Uint8Array') {
    if (v.byteLength === 0) return
    const i = o.b % v.byteLength
    if (v.start + i >= limit) return
    s.trace.push(`map ${m.id}: ${v.kind}[${i}] = ${value & 0xff}`)
    const bytes = v.value instanceof ArrayBuffer ? new Uint8Array(v.value) : (v.value as Uint8Array)
    bytes[i] = value & 0xff
    store(s, m, v.start + i, Uint8Array.of(value & 0xff))
    return
  }
  if (v.value instanceof DataView) {
    const [setter, width] = DATAVIEW_SETTERS[o.d % DATAVIEW_SETTERS.length]
    if (v.byteLength < width) return
    const at = o.b % (v.byteLength - width + 1)
    if (v.start + at + width > limit) return
    const little = (o.d >> 3) & 1 ? true : false
    s.trace.push(`map ${m.id}: dataView.${setter}(${at}, ${value}, ${little})`)
    const scratch = new DataView(new ArrayBuffer(8))
    const arg = setter === 'setBigUint64' ? BigInt.asUintN(64, BigInt(value)) : value
    ;(scratch[setter] as (o: number, v: number | bigint, le: boolean) => void)(0, arg, little)
    ;(v.value[setter] as (o: number, v: number | bigint, le: boolean) => void)(at, arg, little)
    store(s, m, v.start + at, new Uint8Array(scratch.buffer, 0, width))
    return
  }
  const T = TYPED.find((t) => t.name === v.kind) as TypedConstructor
  const size = T.BYTES_PER_ELEMENT
  const elements = v.byteLength / size
  if (elements === 0) return
  const i = o.b % elements
  if (v.start + (i + 1) * size > limit) return
  const stored = T === Uint8ClampedArray ? value : value
  s.trace.push(`map ${m.id}: ${v.kind}[${i}] = ${stored}`)
  const array = v.value as unknown as { [i: number]: number | bigint }
  array[i] = T === BigInt64Array || T === BigUint64Array ? BigInt(stored) : stored
  store(s, m, v.start + i * size, encode(T, stored))
}
