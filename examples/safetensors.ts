// A safetensors reader: writes a small .safetensors file whose tensors sit at offsets that are not
// aligned to their element size (the format allows that), then maps it and prints each tensor's
// dtype, shape and first values. viewOrCopy() gives a zero-copy view where a tensor is aligned
// and an exact copy where it is not, so the reader needs no try/catch around view().
//
//   npm run build && npx tsx examples/safetensors.ts
//
// Format: an 8-byte little-endian header length N, N bytes of JSON
// ({ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {...} }), then the data;
// data_offsets count from the first byte after the header.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { openSync, type MappedFile } from '..'

type Typed = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int16Array
type Ctor = { readonly BYTES_PER_ELEMENT: number; new (buffer: ArrayBuffer, byteOffset: number, length: number): Typed }

const DTYPES: Record<string, Ctor> = {
  F64: Float64Array,
  F32: Float32Array,
  I64: BigInt64Array,
  I32: Int32Array,
  I16: Int16Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
}

interface Entry {
  dtype: string
  shape: number[]
  data_offsets: [number, number]
}

/** Writes `tensors` (packed back to back, in order) as a safetensors file. */
function writeSafetensors(file: string, tensors: { name: string; dtype: string; shape: number[]; data: Typed }[]): void {
  const header: Record<string, Entry | Record<string, string>> = { __metadata__: { format: 'pt' } }
  let at = 0
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + t.data.byteLength] }
    at += t.data.byteLength
  }
  // Padded with spaces so the data starts 8-aligned, as the reference writer does; the tensors
  // are then packed back to back, which leaves some of them unaligned.
  const text = JSON.stringify(header)
  const json = Buffer.from(text.padEnd(Math.ceil((8 + text.length) / 8) * 8 - 8, ' '))
  const length = Buffer.alloc(8)
  length.writeBigUInt64LE(BigInt(json.length))
  const data = tensors.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))
  writeFileSync(file, Buffer.concat([length, json, ...data]))
}

/** Every tensor of a mapped safetensors file: views where aligned, copies where not. */
function readSafetensors(map: MappedFile): { name: string; dtype: string; shape: number[]; array: Typed; copied: boolean; at: number }[] {
  const n = Number(map.dataView(0, 8).getBigUint64(0, true))
  const header = JSON.parse(map.read(8, n).toString('utf8')) as Record<string, Entry>
  const base = 8 + n
  return Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(
      ([
        name,
        {
          dtype,
          shape,
          data_offsets: [begin, end],
        },
      ]) => {
        const Type = DTYPES[dtype]
        if (Type === undefined) throw new Error(`${name}: dtype ${dtype} is not handled by this example`)
        const count = (end - begin) / Type.BYTES_PER_ELEMENT
        const { array, copied } = map.viewOrCopy(Type, base + begin, count)
        return { name, dtype, shape, array, copied, at: base + begin }
      },
    )
}

const dir = mkdtempSync(join(tmpdir(), 'memmap-safetensors-'))
const file = join(dir, 'model.safetensors')
try {
  writeSafetensors(file, [
    { name: 'mask', dtype: 'BOOL', shape: [3], data: Uint8Array.of(1, 0, 1) }, // 3 bytes: what follows is unaligned
    { name: 'embed.weight', dtype: 'F32', shape: [4, 3], data: Float32Array.from({ length: 12 }, (_, i) => i / 4) },
    { name: 'position_ids', dtype: 'I64', shape: [5], data: BigInt64Array.from({ length: 5 }, (_, i) => BigInt(i) * 1_000_000_000_000n) },
    { name: 'norm.bias', dtype: 'F64', shape: [2], data: Float64Array.of(Math.PI, -Math.E) },
    { name: 'lengths', dtype: 'I16', shape: [2], data: Int16Array.of(-7, 300) },
    { name: 'flag', dtype: 'U8', shape: [1], data: Uint8Array.of(255) },
    { name: 'scores', dtype: 'F32', shape: [3], data: Float32Array.of(0.5, 1.5, 2.5) }, // aligned again
  ])

  using map = openSync(file)
  console.log(`${file}: ${map.length} bytes`)
  for (const t of readSafetensors(map)) {
    const first = Array.from(t.array.subarray(0, 4) as ArrayLike<number | bigint>, (v) => (typeof v === 'number' ? +v.toFixed(4) : v))
    const how = t.copied ? `copied (byte ${t.at} is not a multiple of ${t.array.BYTES_PER_ELEMENT})` : `zero-copy view (byte ${t.at})`
    console.log(
      `${t.name.padEnd(13)} ${t.dtype.padEnd(4)} [${t.shape.join(', ')}]`.padEnd(34) + ` ${how}: ${first.join(', ')}${t.array.length > 4 ? ', …' : ''}`,
    )
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
