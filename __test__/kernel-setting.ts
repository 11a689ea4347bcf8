// Changing a kernel setting (/proc/sys/...) for the length of one test, restored even when the
// test process is killed (SIGKILL included).
//
// Before the write, a guardian shell starts in a session of its own (spawn's `detached` is
// setsid(2)), so signals sent to the test's process group never reach it. Its stdin is a pipe
// whose only write end this process holds: when this process ends, however it ends, the kernel
// closes that end, the guardian's `read` sees end of file and it writes the previous value back.
// No polling of a pid (which could be reused), no timing. On the normal path `finally` restores
// the value itself and then kills the guardian, so a guardian never outlives its test to write a
// stale value over a later change.
import { spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'

/** The current value of a /proc/sys setting, without the trailing newline. */
export function readKernelSetting(file: string): string {
  return fs.readFileSync(file, 'utf8').trim()
}

/** Starts the guardian that writes `previous` to `file` once this process is gone. */
function startGuardian(file: string, previous: string): ChildProcess {
  const guardian = spawn('sh', ['-c', 'read -r _ ; printf "%s\\n" "$KERNEL_SETTING_PREVIOUS" > "$KERNEL_SETTING_FILE"'], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', KERNEL_SETTING_FILE: file, KERNEL_SETTING_PREVIOUS: previous },
  })
  if (guardian.pid === undefined) throw new Error(`could not start the guardian that restores ${file}`)
  guardian.on('error', () => {}) // a failure to start is the pid check above
  guardian.stdin?.on('error', () => {}) // EPIPE if it is killed while the pipe is still referenced
  // Neither the guardian nor its pipe may keep the test process alive.
  guardian.unref()
  ;(guardian.stdin as unknown as { unref?: () => void } | null)?.unref?.()
  return guardian
}

/** Restores the value and stops the guardian, in that order (see the header). */
function restore(file: string, previous: string, guardian: ChildProcess): void {
  try {
    fs.writeFileSync(file, previous)
  } finally {
    try {
      process.kill(guardian.pid as number, 'SIGKILL')
    } catch {
      // already gone
    }
    guardian.stdin?.destroy()
  }
}

/** Writes `value` to the /proc/sys `file`, runs `fn`, and restores the previous value (see the header). */
export function withKernelSetting<T>(file: string, value: string, fn: (previous: string) => T): T {
  const previous = readKernelSetting(file)
  const guardian = startGuardian(file, previous)
  try {
    fs.writeFileSync(file, value)
    return fn(previous)
  } finally {
    restore(file, previous, guardian)
  }
}

/** `withKernelSetting` for an async `fn`: the value is restored once its promise settles. */
export async function withKernelSettingAsync<T>(file: string, value: string, fn: (previous: string) => Promise<T>): Promise<T> {
  const previous = readKernelSetting(file)
  const guardian = startGuardian(file, previous)
  try {
    fs.writeFileSync(file, value)
    return await fn(previous)
  } finally {
    restore(file, previous, guardian)
  }
}
