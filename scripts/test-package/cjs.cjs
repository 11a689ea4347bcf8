// A CommonJS consumer: require('memmap') from the installed tarball, exercised against node:fs.
const path = require('node:path')
const memmap = require('memmap')
const { openSync } = require('memmap')
const { assert, exercise } = require('./fixture.cjs')

// Resolved from this project's node_modules, never from a checkout above it.
assert.equal(require.resolve('memmap').startsWith(path.join(__dirname, 'node_modules', 'memmap') + path.sep), true)

assert.equal(typeof memmap.open, 'function')
assert.equal(memmap.pageSize > 0, true)
exercise(openSync)
console.log('ok')
