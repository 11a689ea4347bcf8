// Plain JavaScript with `using`: run as is where the runtime has it, else compiled by tsc (tsconfig.using.json).
import { openSync, open } from 'memmap'
import fixture from './fixture.cjs'

const { assert, fs } = fixture
const { file, data } = fixture.makeFile()
let reader
{
  using map = openSync(file)
  assert.deepEqual(map.read(0, map.length), fs.readFileSync(file))
  reader = map
}
assert.equal(reader.closed, true)

let writer
{
  await using map = await open(file, { mode: 'read-write' })
  map.write(fixture.patch, fixture.at)
  map.write(Buffer.from([0xab]), 0)
  writer = map
}
assert.equal(writer.closed, true)
assert.deepEqual(fs.readFileSync(file), fixture.expected(data))
console.log('ok')
