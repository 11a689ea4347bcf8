// TypeScript, ESM under module nodenext: must resolve 'memmap' to index.d.mts.
import memmap, { openSync, open, pageSize, type MappedFile } from 'memmap'

const page: number = pageSize
{
  using map = openSync('data.bin')
  const floats: Float32Array = map.view(Float32Array, 0, 1)
  void floats
}
{
  await using log: MappedFile = await open('log.bin', { mode: 'read-write', create: true, size: page })
  log.write(new Uint8Array([1, 2, 3]), 0)
  await log.flush()
}
const again: typeof openSync = memmap.openSync
// @ts-expect-error: a mode memmap does not have (the typings are real, not any)
openSync('data.bin', { mode: 'write-only' })
export { again }
