// MappedFile: the public face of one mapping. Views are created lazily, tracked by the binding,
// and detached by close(); read/readInto/write/flush never create an ArrayBuffer.
import { argError, fromNative, mmapError } from './errors'
import type { NativeMap } from './native'
import { byteCount, bytesOf, checkRange, object } from './validate'
import { constants as bufferConstants } from 'node:buffer'

export type Mode = 'read' | 'read-write' | 'copy-on-write'

/** A byte range relative to the start of the mapping. */
export interface Range {
  offset?: number | bigint
  length?: number | bigint
}

/** The largest ArrayBuffer this runtime can create: 2^32 on Node 20 and Bun, 2^53-1 on Node 22+. */
export const maxViewBytes: number = bufferConstants.MAX_LENGTH

type TypedArrayConstructor =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor

interface ViewConstructor<T> {
  readonly BYTES_PER_ELEMENT: number
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T
}

const unclosed = new FinalizationRegistry<string>((what) => {
  process.emitWarning(`Closing memory map of ${what} on garbage collection; call close() or use \`using\``, {
    type: 'Warning',
    code: 'MEMMAP_UNCLOSED',
  })
})

/** Internal: what `openSync` hands the constructor. */
export interface MappedFileInit {
  native: NativeMap
  path: string | null
  mode: Mode
  offset: number
}

/** One mapped range of a file. Create it with `openSync` or `open`. */
export class MappedFile {
  readonly #path: string | null
  readonly #mode: Mode
  readonly #offset: number
  readonly #length: number
  #native: NativeMap | null
  #buffer: ArrayBuffer | undefined
  #bytes: Uint8Array | undefined
  /** Views over an 8-aligned buffer when `offset` is not: `#aligned` starts `offset % 8` early. */
  #aligned: ArrayBuffer | undefined
  readonly #shift: number

  /** @internal Use `openSync` or `open`. */
  constructor(init: MappedFileInit) {
    this.#native = init.native
    this.#path = init.path
    this.#mode = init.mode
    this.#offset = init.offset
    this.#length = init.native.length
    this.#shift = init.offset % 8
    const what = `${init.path === null ? 'a descriptor' : `'${init.path}'`} (${this.#length} bytes)`
    unclosed.register(this, what, this)
  }

  /** The path as opened (a URL converted, a Buffer decoded as UTF-8), or null. */
  get path(): string | null {
    return this.#path
  }
  get mode(): Mode {
    return this.#mode
  }
  /** Byte offset of the mapping in the file. */
  get offset(): number {
    return this.#offset
  }
  /** Bytes mapped. */
  get length(): number {
    return this.#length
  }
  get closed(): boolean {
    return this.#native === null
  }
  /** The file's current size in bytes (fstat). */
  get fileSize(): number {
    return this.#call((n) => n.fileSize())
  }
  /** Huge pages backing the map: always false for file maps. */
  get hugePages(): 'hugetlb' | 'thp' | false {
    this.#live()
    return false
  }
  /** True when the OS refused a private writable map and 'read' fell back to a read-only one. */
  get strayWritesFault(): boolean {
    return this.#live().strayWritesFault
  }

  /** The mapped bytes `[offset, offset + length)` as one ArrayBuffer; the same object until close. */
  get buffer(): ArrayBuffer {
    const n = this.#live()
    if (this.#buffer === undefined) {
      this.#checkViewSize(this.#length)
      this.#buffer = this.#length === 0 ? new ArrayBuffer(0) : this.#create(n, 0)
    }
    return this.#buffer
  }

  /** `new Uint8Array(buffer)`, cached. */
  get bytes(): Uint8Array {
    this.#bytes ??= new Uint8Array(this.buffer)
    return this.#bytes
  }

  /**
   * A zero-copy TypedArray over `[byteOffset, byteOffset + length * BYTES_PER_ELEMENT)`.
   * `(offset + byteOffset)` must be a multiple of the element size.
   */
  view<T>(Type: ViewConstructor<T> | TypedArrayConstructor | typeof Buffer, byteOffset: number | bigint = 0, length?: number | bigint): T {
    this.#live()
    if (Type === Buffer) {
      const start = byteCount('byteOffset', byteOffset)
      const count = length === undefined ? this.#length - Math.min(start, this.#length) : byteCount('length', length)
      checkRange('byteOffset', start, count, this.#length)
      return Buffer.from(this.#alignedBuffer(), this.#shift + start, count) as T
    }
    if (typeof Type !== 'function' || typeof (Type as ViewConstructor<T>).BYTES_PER_ELEMENT !== 'number') {
      throw argError('ERR_INVALID_ARG_TYPE', 'Type', 'a TypedArray constructor', Type)
    }
    const size = (Type as ViewConstructor<T>).BYTES_PER_ELEMENT
    const start = byteCount('byteOffset', byteOffset)
    if (start > this.#length) throw argError('ERR_OUT_OF_RANGE', 'byteOffset', `at most ${this.#length}`, byteOffset)
    if ((this.#offset + start) % size !== 0) {
      throw mmapError(
        'ERR_MMAP_UNALIGNED',
        `offset + byteOffset (${this.#offset} + ${start}) must be a multiple of ${Type.name}.BYTES_PER_ELEMENT (${size})`,
      )
    }
    const count = length === undefined ? Math.floor((this.#length - start) / size) : byteCount('length', length)
    checkRange('byteOffset', start, count * size, this.#length)
    return new (Type as ViewConstructor<T>)(this.#alignedBuffer(), this.#shift + start, count)
  }

  /** A DataView over `[byteOffset, byteOffset + byteLength)`. */
  dataView(byteOffset: number | bigint = 0, byteLength?: number | bigint): DataView {
    this.#live()
    const start = byteCount('byteOffset', byteOffset)
    if (start > this.#length) throw argError('ERR_OUT_OF_RANGE', 'byteOffset', `at most ${this.#length}`, byteOffset)
    const count = byteLength === undefined ? this.#length - start : byteCount('byteLength', byteLength)
    checkRange('byteOffset', start, count, this.#length)
    return new DataView(this.#alignedBuffer(), this.#shift + start, count)
  }

  /** A fresh copy of `[byteOffset, byteOffset + length)`. */
  read(byteOffset: number | bigint, length: number | bigint): Buffer {
    const start = byteCount('byteOffset', byteOffset)
    const count = byteCount('length', length)
    const n = this.#live()
    checkRange('byteOffset', start, count, this.#length)
    return this.#call(() => n.read(start, count)) as Buffer
  }

  /** Copies `target.byteLength` bytes from `byteOffset` into `target`; returns the count. */
  readInto(target: ArrayBufferView, byteOffset: number | bigint = 0): number {
    const into = bytesOf('target', target)
    const start = byteCount('byteOffset', byteOffset)
    const n = this.#live()
    checkRange('byteOffset', start, into.byteLength, this.#length)
    return this.#call(() => n.readInto(into, start))
  }

  /**
   * Copies `source` (or `length` bytes of it from `sourceOffset`) to `byteOffset`: all of it or,
   * on error, nothing. Returns the count. Not allowed on 'read' maps.
   */
  write(source: ArrayBufferView, byteOffset: number | bigint = 0, sourceOffset: number | bigint = 0, length?: number | bigint): number {
    const all = bytesOf('source', source)
    const from = byteCount('sourceOffset', sourceOffset)
    if (from > all.byteLength) throw argError('ERR_OUT_OF_RANGE', 'sourceOffset', `at most ${all.byteLength}`, sourceOffset)
    const count = length === undefined ? all.byteLength - from : byteCount('length', length)
    checkRange('sourceOffset', from, count, all.byteLength)
    const start = byteCount('byteOffset', byteOffset)
    const n = this.#live()
    if (this.#mode === 'read') throw mmapError('ERR_MMAP_READ_ONLY', "write() needs mode 'read-write' or 'copy-on-write'")
    checkRange('byteOffset', start, count, this.#length)
    const slice = from === 0 && count === all.byteLength ? all : all.subarray(from, from + count)
    return this.#call(() => n.write(slice, start))
  }

  /** Writes dirty pages of the range to the file and waits (msync MS_SYNC). No-op unless 'read-write'. */
  flushSync(range?: Range): void {
    const [start, count] = this.#range(range)
    this.#call((n) => n.flush(start, count))
  }

  /** `flushSync` as a promise. */
  async flush(range?: Range): Promise<void> {
    this.flushSync(range)
  }

  /**
   * Detaches every view this map created and unmaps it. Idempotent. Afterwards every method and
   * accessor but `closed`, `length`, `offset`, `path` and `mode` throws ERR_MMAP_CLOSED.
   */
  close(): void {
    const n = this.#native
    if (n === null) return
    this.#native = null
    this.#buffer = this.#bytes = this.#aligned = undefined
    unclosed.unregister(this)
    try {
      n.close()
    } catch (error) {
      throw fromNative(error, this.#path)
    }
  }

  [Symbol.dispose](): void {
    this.close()
  }

  /** Flushes a 'read-write' map, then closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#native !== null && this.#mode === 'read-write') await this.flush()
    this.close()
  }

  #live(): NativeMap {
    if (this.#native === null) throw mmapError('ERR_MMAP_CLOSED', `the map of ${this.#path ?? 'a descriptor'} is closed`)
    return this.#native
  }

  #call<R>(fn: (n: NativeMap) => R): R {
    const n = this.#live()
    try {
      return fn(n)
    } catch (error) {
      throw fromNative(error, this.#path)
    }
  }

  #checkViewSize(bytes: number): void {
    if (bytes > maxViewBytes) {
      throw mmapError('ERR_MMAP_VIEW_TOO_LARGE', `a view of ${bytes} bytes exceeds this runtime's limit of ${maxViewBytes} bytes`)
    }
  }

  #create(n: NativeMap, shift: number): ArrayBuffer {
    return this.#call(() => n.createBuffer(shift)) as ArrayBuffer
  }

  /** The buffer views are built over: `buffer` itself when `offset` is 8-aligned. */
  #alignedBuffer(): ArrayBuffer {
    if (this.#shift === 0) return this.buffer
    if (this.#aligned === undefined) {
      const n = this.#live()
      this.#checkViewSize(this.#length + this.#shift)
      this.#aligned = this.#length === 0 ? new ArrayBuffer(this.#shift) : this.#create(n, this.#shift)
    }
    return this.#aligned
  }

  #range(range: Range | undefined): [number, number] {
    const r = object<Range>('range', range)
    const start = r.offset === undefined ? 0 : byteCount('range.offset', r.offset)
    if (start > this.#length) throw argError('ERR_OUT_OF_RANGE', 'range.offset', `at most ${this.#length}`, r.offset)
    const count = r.length === undefined ? this.#length - start : byteCount('range.length', r.length)
    checkRange('range.offset', start, count, this.#length)
    return [start, count]
  }
}
