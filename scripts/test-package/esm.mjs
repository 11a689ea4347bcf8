// An ESM consumer: import from the installed tarball, one instance with the CommonJS entry.
import { createRequire } from 'node:module'
import * as namespace from 'memmap'
import memmap, { openSync, open, pageSize } from 'memmap'
import fixture from './fixture.cjs'

const { assert, fs } = fixture
const commonjs = createRequire(import.meta.url)('memmap')
// The ESM entry exports exactly the CommonJS entry's names, from the same instance.
assert.deepEqual(
  Object.keys(namespace)
    .filter((name) => name !== 'default')
    .sort(),
  Object.keys(commonjs).sort(),
)
assert.equal(openSync, commonjs.openSync)
assert.equal(memmap, commonjs)
assert.equal(pageSize > 0, true)
fixture.exercise(openSync)

const { file, data } = fixture.makeFile()
const map = await open(file, { mode: 'read-write' })
assert.deepEqual(map.read(0, map.length), data)
map.write(fixture.patch, fixture.at)
map.write(Buffer.from([0xab]), 0)
await map.flush()
map.close()
assert.deepEqual(fs.readFileSync(file), fixture.expected(data))
console.log('ok')
