'use strict'
// Preloaded (NODE_OPTIONS=--require) into the arm64 Node that `npm run test:cross` runs under
// qemu-aarch64. This container has no binfmt_misc, so the kernel cannot exec an arm64 binary by
// itself: a test that starts a child on `process.execPath` (child.ts, a spec's own spawn) would get
// ENOEXEC. Here every start of that binary becomes a start of qemu (MEMMAP_QEMU) running it; qemu
// reads the arm64 libraries' prefix from QEMU_LD_PREFIX, and the children inherit NODE_OPTIONS, so
// grandchildren are rewritten too. Children started through another program (setpriv, prlimit,
// sh -c) are not: such tests need the Linux host, and cross.mjs names them.
const childProcess = require('node:child_process')

const qemu = process.env.MEMMAP_QEMU
const guest = process.execPath
if (qemu) {
  // spawn, fork, exec and execFile all reach ChildProcess.prototype.spawn({ file, args }), args[0] being argv0.
  // `spawn` is internal to ChildProcess (not in @types/node): reached through an untyped view.
  const proto = /** @type {any} */ (childProcess.ChildProcess.prototype)
  const spawn = proto.spawn
  proto.spawn = function (/** @type {any} */ options) {
    if (options && options.file === guest) options = { ...options, file: qemu, args: [qemu, guest, ...options.args.slice(1)] }
    return spawn.call(this, options)
  }
  // The synchronous forms call the binding directly: wrap the exports.
  for (const name of ['spawnSync', 'execFileSync']) {
    const original = childProcess[name]
    childProcess[name] = function (file, args, options) {
      if (file !== guest) return original.apply(this, arguments)
      return Array.isArray(args) ? original.call(this, qemu, [guest, ...args], options) : original.call(this, qemu, [guest], args)
    }
  }
  require('node:module').syncBuiltinESMExports()
}
