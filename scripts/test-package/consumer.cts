// TypeScript, CommonJS under module nodenext: must resolve 'memmap' to index.d.ts.
import memmap = require('memmap')
import { openSync, type MappedFile, type OpenOptions } from 'memmap'

const options: OpenOptions = { mode: 'read-write' }
const map: MappedFile = openSync('data.bin', options)
const length: number = map.length
const copy: Buffer = map.read(0, length)
map.flushSync()
map.close()
const pending: Promise<MappedFile> = memmap.open('data.bin')
// @ts-expect-error: a mode memmap does not have (the typings are real, not any)
openSync('data.bin', { mode: 'write-only' })
export { copy, pending }
