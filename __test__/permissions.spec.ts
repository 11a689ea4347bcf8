// Permission errors look like node:fs's. As root the check cannot fail, so the child runs without
// CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH: dropped from the bounding set (the permitted and
// effective sets of the exec'd process are then computed without them) and from the inheritable
// set (which would otherwise re-grant them across exec).
import * as fs from 'node:fs'
import test from 'ava'

import { exitedCleanly, runChild } from './child'
import { tempFile } from './helpers'

const WITHOUT_DAC = ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--inh-caps=-dac_override,-dac_read_search']

interface Captured {
  name: string
  code: string
  errno: number
  syscall: string
  path: string
  message: string
}

test("'read-write' on a 0444 file fails like fs.openSync(path, 'r+') without leaking a descriptor, and 'read' works", (t) => {
  const file = tempFile(64, 'read-only.bin')
  fs.chmodSync(file, 0o444)
  const child = runChild(
    `
    const fs = require('node:fs')
    const { openSync } = require(process.env.MEMMAP_ROOT)
    const file = ${JSON.stringify(file)}
    const fds = () => fs.readdirSync('/proc/self/fd').sort()
    const capture = (fn) => {
      try {
        fn()
        return null
      } catch (e) {
        return { name: e.constructor.name, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, message: e.message }
      }
    }
    const fdsBefore = fds()
    const fsError = capture(() => fs.closeSync(fs.openSync(file, 'r+')))
    const mmapError = capture(() => openSync(file, { mode: 'read-write' }).close())
    const fdsAfter = fds()
    const map = openSync(file, { mode: 'read' })
    const firstByte = map.read(0, 1)[0]
    const viewByte = map.bytes[63]
    map.close()
    const capEff = /^CapEff:\\s+(\\S+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]
    console.log(JSON.stringify({ capEff, fsError, mmapError, fdsBefore, fdsAfter, firstByte, viewByte }))
    `,
    { prefix: WITHOUT_DAC },
  )
  exitedCleanly(t, child)
  const r = JSON.parse(child.stdout) as {
    capEff: string
    fsError: Captured | null
    mmapError: Captured | null
    fdsBefore: string[]
    fdsAfter: string[]
    firstByte: number
    viewByte: number
  }
  const CAP_DAC_OVERRIDE = 1n << 1n
  const CAP_DAC_READ_SEARCH = 1n << 2n
  t.is(BigInt(`0x${r.capEff}`) & (CAP_DAC_OVERRIDE | CAP_DAC_READ_SEARCH), 0n, `CapEff ${r.capEff}`)
  // The premise: node:fs itself is refused, so the comparison below is not vacuous.
  t.like(r.fsError, { name: 'Error', code: 'EACCES', syscall: 'open', path: file, message: `EACCES: permission denied, open '${file}'` })
  t.deepEqual(r.mmapError, r.fsError)
  t.deepEqual(r.fdsAfter, r.fdsBefore)
  const original = fs.readFileSync(file)
  t.is(r.firstByte, original[0])
  t.is(r.viewByte, original[63])
})
