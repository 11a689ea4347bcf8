// TypeScript under moduleResolution bundler: must resolve 'memmap' to index.d.mts.
import memmap, { openSync, open, type OpenOptions } from 'memmap'

const options: OpenOptions = { mode: 'copy-on-write' }
using map = openSync('data.bin', options)
const bytes: Uint8Array = map.bytes
await using log = await open('log.bin', { mode: 'read-write' })
const same: typeof open = memmap.open
// @ts-expect-error: a mode memmap does not have (the typings are real, not any)
openSync('data.bin', { mode: 'write-only' })
export { bytes, log, same }
