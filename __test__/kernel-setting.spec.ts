// withKernelSetting (kernel-setting.ts) restores a /proc/sys setting on return, on throw, and when
// the process using it is SIGKILLed, its whole process group with it. The setting is
// kernel.msgmax (largest System V message, per IPC namespace): harmless to change by one, used by
// nothing in the suite, and read back exactly from /proc.
import { spawn } from 'node:child_process'
import test from 'ava'

import { ROOT } from './helpers'
import { readKernelSetting, withKernelSetting, withKernelSettingAsync } from './kernel-setting'

const KNOB = '/proc/sys/kernel/msgmax'

/** Polls `condition` every 50 ms for up to `ms` (a generous bound, not a timing claim). */
async function until(condition: () => boolean, ms = 30_000): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return true
}

test.serial('withKernelSetting writes the value for the call and restores the previous one on return and on throw', async (t) => {
  const previous = readKernelSetting(KNOB)
  const changed = String(Number(previous) + 1)
  t.is(
    withKernelSetting(KNOB, changed, (was) => [was, readKernelSetting(KNOB)].join(' ')),
    `${previous} ${changed}`,
  )
  t.is(readKernelSetting(KNOB), previous, 'restored on return')
  t.throws(
    () =>
      withKernelSetting(KNOB, changed, () => {
        throw new Error('inside')
      }),
    { message: 'inside' },
  )
  t.is(readKernelSetting(KNOB), previous, 'restored on throw')
  const seen = await withKernelSettingAsync(KNOB, changed, async () => {
    await new Promise(setImmediate)
    return readKernelSetting(KNOB)
  })
  t.is(seen, changed)
  t.is(readKernelSetting(KNOB), previous, 'restored once the async fn settled')
})

test.serial('a process SIGKILLed (with its process group) inside withKernelSetting still gets the setting restored', async (t) => {
  const previous = readKernelSetting(KNOB)
  const changed = String(Number(previous) + 1)
  const code = `
    const { require: tsxRequire } = require('tsx/cjs/api')
    const { withKernelSetting } = tsxRequire(process.env.MEMMAP_ROOT + '/__test__/kernel-setting.ts', process.env.MEMMAP_ROOT + '/')
    withKernelSetting(process.env.KNOB, process.env.VALUE, () => {
      process.stdout.write('changed\\n')
      // Blocks here until killed: the normal path never runs.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
    })
  `
  const child = spawn(process.execPath, ['-e', code], {
    cwd: ROOT,
    detached: true, // a process group of its own, killed as a whole below
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MEMMAP_ROOT: ROOT, KNOB, VALUE: changed },
  })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (code, signal) => resolve([code, signal])))
  // The child's own signal that the setting is changed, not a delay.
  const signalled = await new Promise<boolean>((resolve) => {
    child.stdout.on('data', (d) => {
      stdout += d
      if (stdout.includes('changed\n')) resolve(true)
    })
    void exited.then(() => resolve(false))
  })
  t.true(signalled, `the child reported the change (stderr: ${stderr})`)
  try {
    t.is(readKernelSetting(KNOB), changed, 'the child changed the setting')
  } finally {
    process.kill(-(child.pid as number), 'SIGKILL')
  }
  t.deepEqual(await exited, [null, 'SIGKILL'])
  const restored = await until(() => readKernelSetting(KNOB) === previous)
  t.true(restored, `restored to ${previous} within 30 s of the kill`)
  t.is(readKernelSetting(KNOB), previous)
})
