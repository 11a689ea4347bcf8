// The quick-start demo: generates a small binary file, maps it, reads it through typed views,
// writes through a read-write map, flushes, and prints what it did.
//
//   npm run demo
// TypeScript, run with tsx, because Node 20 has no native `using` (Node 24 does).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { maxViewBytes, openSync, pageSize } from '..'

const dir = mkdtempSync(join(tmpdir(), 'memmap-demo-'))
const file = join(dir, 'vectors.bin')
try {
  // A 16-byte header (magic, count) followed by 1,000 float32 values i * 0.5.
  const count = 1000
  const data = Buffer.alloc(16 + count * 4)
  data.write('MMAPDEMO', 0, 'latin1')
  data.writeBigUInt64LE(BigInt(count), 8)
  for (let i = 0; i < count; i++) data.writeFloatLE(i * 0.5, 16 + i * 4)
  writeFileSync(file, data)
  console.log(`wrote ${data.length} bytes to ${file} (page size ${pageSize}, max view ${maxViewBytes} bytes)`)

  {
    using map = openSync(file) // mode 'read'
    const magic = Buffer.from(map.view(Uint8Array, 0, 8)).toString('latin1')
    const n = map.dataView(8, 8).getBigUint64(0, true)
    const floats = map.view(Float32Array, 16, Number(n))
    let sum = 0
    for (const x of floats) sum += x
    console.log(`read map: magic=${magic} count=${n} floats[0..3]=[${Array.from(floats.subarray(0, 4))}] sum=${sum}`)
  }

  {
    using map = openSync(file, { mode: 'read-write', offset: 16 })
    const floats = map.view(Float32Array)
    for (let i = 0; i < floats.length; i++) floats[i] *= 2
    map.flushSync()
    console.log(`read-write map at offset 16: doubled ${floats.length} floats in place and flushed`)
  }
  // `using` closed the map: the views are detached and the file is unmapped.

  const after = readFileSync(file)
  console.log(`fs.readFileSync sees floats[1]=${after.readFloatLE(20)} floats[999]=${after.readFloatLE(16 + 999 * 4)}`)

  {
    using map = openSync(file, { mode: 'copy-on-write' })
    map.write(Buffer.from('PRIVATE!', 'latin1'), 0)
    console.log(`copy-on-write map sees "${map.read(0, 8).toString('latin1')}", the file still says "${readFileSync(file).subarray(0, 8).toString('latin1')}"`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
