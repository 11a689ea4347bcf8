// The node:fs oracle the consumer programs share: a file of known bytes, and what it must hold after the writes.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const assert = require('node:assert/strict')

exports.assert = assert
exports.fs = fs

/** A file of 3 pages and 5 bytes of a known pattern, in a fresh directory. */
exports.makeFile = function makeFile() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-program-'))
  const file = path.join(dir, 'data.bin')
  const data = Buffer.alloc(3 * 4096 + 5)
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff
  fs.writeFileSync(file, data)
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  return { file, data }
}

exports.patch = Buffer.from('written through memmap')
exports.at = 4096 - 3

/** The file's bytes once `patch` is written at `at` and byte 0 is set to 0xab. */
exports.expected = function expected(data) {
  const out = Buffer.from(data)
  exports.patch.copy(out, exports.at)
  out[0] = 0xab
  return out
}

/** Maps, reads, writes, flushes and closes with the synchronous API, checking against node:fs. */
exports.exercise = function exercise(openSync) {
  const { file, data } = exports.makeFile()
  const map = openSync(file)
  assert.equal(map.length, data.length)
  assert.deepEqual(map.read(0, map.length), fs.readFileSync(file))
  assert.deepEqual(Buffer.from(map.bytes), data)
  map.close()
  assert.equal(map.closed, true)
  const rw = openSync(file, { mode: 'read-write' })
  assert.equal(rw.write(exports.patch, exports.at), exports.patch.length)
  rw.bytes[0] = 0xab
  rw.flushSync()
  rw.close()
  assert.deepEqual(fs.readFileSync(file), exports.expected(data))
}
