// viewOrCopy(): a zero-copy view where the file's alignment allows one, else an exact copy, for
// formats that put arrays at any byte offset (safetensors, GGUF, NumPy headers). Built on the
// map's public view() and readInto(): the copy is a plain heap TypedArray, never an external buffer.
import { constants as bufferConstants } from 'node:buffer'

import type { ViewOrCopy, ViewType } from '../index'
import { argError, mmapError } from './errors'
import type { MappedFile } from './mapped-file'
import { byteCount, checkRange, elementSize } from './validate'

type Source = Pick<MappedFile, 'offset' | 'length' | 'view' | 'readInto'>

export function viewOrCopy<T>(map: Source, Type: ViewType<T>, byteOffset: number | bigint, length: number | bigint | undefined): ViewOrCopy<T> {
  const size = elementSize(Type)
  if (size === undefined) throw argError('ERR_INVALID_ARG_TYPE', 'Type', 'a TypedArray constructor', Type)
  const start = byteCount('byteOffset', byteOffset)
  if ((map.offset + start) % size === 0) return { array: map.view(Type, byteOffset, length), copied: false }
  if (start > map.length) throw argError('ERR_OUT_OF_RANGE', 'byteOffset', `at most ${map.length}`, byteOffset)
  const count = length === undefined ? Math.floor((map.length - start) / size) : byteCount('length', length)
  checkRange(['byteOffset', byteOffset, start], ['length', length ?? count, count], map.length, size)
  if (count * size > bufferConstants.MAX_LENGTH) {
    throw mmapError('ERR_MMAP_VIEW_TOO_LARGE', `a copy of ${count * size} bytes exceeds this runtime's limit of ${bufferConstants.MAX_LENGTH} bytes`)
  }
  const array = new Type(new ArrayBuffer(count * size), 0, count)
  map.readInto(array as ArrayBufferView, start)
  return { array, copied: true }
}
