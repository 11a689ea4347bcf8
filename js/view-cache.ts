// The ArrayBuffers views of one map stand on. Views are built over chunks that start
// `shift = offset % 8` bytes before the map, so alignment in the file is alignment in the chunk.
// A map that fits in one ArrayBuffer (`max` bytes) is one chunk; a larger one is served by
// overlapping chunks: chunk k covers, in shifted coordinates, [k * stride, k * stride + max) with
// stride = max / 2 (a multiple of 8), so any window of at most half a chunk lies inside one. A
// longer window that straddles two chunks gets an ArrayBuffer of its own. Every buffer is made by
// `create` (the binding tracks it, and close() detaches it).
import { byteLengthOf } from './validate'

/** Where a window lies in the chunk cache. */
export interface ChunkSlot {
  /** The chunk's index. */
  k: number
  /** The chunk's first byte, in shifted coordinates. */
  begin: number
  /** The chunk's size in bytes. */
  size: number
  /** The window's byte offset in the chunk. */
  at: number
}

/** Distance between the starts of consecutive chunks: half a chunk, a multiple of 8. */
export function strideOf(max: number): number {
  return Math.floor(max / 2 / 8) * 8
}

/**
 * The chunk holding `bytes` bytes from map byte `start` of a map of `length` bytes at shift
 * `shift`, or null when none does (the window straddles two chunks).
 */
export function chunkFor(start: number, bytes: number, length: number, shift: number, max: number): ChunkSlot | null {
  const whole = length + shift
  const shifted = start + shift
  if (whole <= max) return { k: 0, begin: 0, size: whole, at: shifted }
  const stride = strideOf(max)
  const k = Math.floor(shifted / stride)
  const begin = k * stride
  const size = Math.min(max, whole - begin)
  return shifted - begin + bytes <= size ? { k, begin, size, at: shifted - begin } : null
}

/** Makes an ArrayBuffer over `[start - shift, start - shift + length)` of the map. */
export type CreateBuffer = (shift: number, start: number, length: number) => ArrayBuffer

export class ViewCache {
  readonly #create: CreateBuffer
  readonly #shift: number
  readonly #max: number
  #chunks: (ArrayBuffer | undefined)[] = []
  /** Heap ArrayBuffers standing in for the chunk of an empty map, detached with the others. */
  #heap: ArrayBuffer[] = []
  /**
   * The one chunk of a map that fits in one (from `shift` bytes before the map to its end), once
   * made: `view()`'s fast path builds views on it directly. Undefined after `drop()`.
   */
  whole: ArrayBuffer | undefined

  /** The map's offset modulo 8: chunks start that many bytes before the map. */
  readonly shift: number

  constructor(create: CreateBuffer, shift: number, max: number) {
    this.shift = shift
    this.#create = create
    this.#shift = shift
    this.#max = max
  }

  /** An ArrayBuffer and the byte offset in it where map byte `start` lies, covering `bytes` bytes. */
  window(length: number, start: number, bytes: number): [ArrayBuffer, number] {
    const slot = chunkFor(start, bytes, length, this.#shift, this.#max)
    // Straddling: a buffer of its own over exactly the window. A valid view's start is aligned
    // in the file, hence in memory, so no shift is needed.
    if (slot === null) return [this.#create(0, start, bytes), 0]
    return [this.chunk(length, slot), slot.at]
  }

  /** The chunk of `slot`, made on first use, and made again if it was moved away by transfer(). */
  chunk(length: number, slot: Pick<ChunkSlot, 'k' | 'begin' | 'size'>): ArrayBuffer {
    let chunk = this.#chunks[slot.k]
    if (chunk === undefined || byteLengthOf(chunk) !== slot.size) {
      if (length === 0) {
        chunk = new ArrayBuffer(this.#shift)
        this.#heap.push(chunk)
      } else {
        chunk = this.#create(this.#shift, slot.begin, slot.size)
      }
      this.#chunks[slot.k] = chunk
      if (slot.k === 0 && length > 0 && slot.size === length + this.#shift) this.whole = chunk
    }
    return chunk
  }

  /** Forgets every chunk (the binding detaches those it made) and detaches the heap ones. */
  drop(): void {
    this.#chunks = []
    this.whole = undefined
    for (const heap of this.#heap) structuredClone(heap, { transfer: [heap] })
    this.#heap = []
  }
}
