// For Node runtimes that ava does not support: `node --require scripts/ava-shim-resolve.cjs
// scripts/bun-ava-shim.mjs <spec>` hands the specs' `require('ava')` (tsx compiles them to
// CommonJS) the shim's API, which the shim publishes on globalThis before importing a spec.
'use strict'
const Module = require('node:module')

const load = Module._load
Module._load = function (request, parent, isMain) {
  if (request === 'ava') {
    const api = globalThis.__memmapAvaShim
    if (api === undefined) throw new Error("require('ava') before scripts/bun-ava-shim.mjs published its API")
    return api
  }
  return load.call(this, request, parent, isMain)
}
