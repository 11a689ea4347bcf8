// Lifecycle at scale (SPEC §4.1): a million synchronous open + view + close cycles leave the
// process's mappings and descriptors as they were, and maps never closed are unmapped once
// collected, with a warning naming them. Both run in child processes; the oracle is /proc.
import * as fs from 'node:fs'
import test, { type ExecutionContext } from 'ava'

import { exitedCleanly, lastReport, runChild } from './child'
import { tempDir, tempFile } from './helpers'

const dir = tempDir('memmap-lifecycle-')

/** Runs `code` in a child (see ./child), logging how long it ran; asserts it exited cleanly, returns its report. */
function timedChild<T>(t: ExecutionContext, code: string, file: string, opts: { args?: string[]; timeout: number }): T {
  const started = Date.now()
  const r = runChild(code, { args: opts.args, file, timeout: opts.timeout })
  t.log(`child ran ${((Date.now() - started) / 1000).toFixed(1)} s (stderr ${r.stderr.length} bytes)`)
  exitedCleanly(t, r)
  return lastReport<T>(r)
}

interface Sample {
  cycle: number
  lines: number
  fileLines: number
  fds: string[]
  /** Descriptors open on the file. */
  fileFds: number
  /** The address range the map of this cycle occupied, and the lines of /proc/self/maps covering it after its close(). */
  range: string | null
  coveredAfterClose: string[] | null
}

test("1,000,000 synchronous openSync + bytes + close cycles leave the file's entries in /proc/self/maps and /proc/self/fd as they began, each close() unmapping its range", (t) => {
  const file = tempFile(4096, 'million.bin', dir)
  const r = timedChild<{ samples: Sample[]; sum: number; ms: number; liveMapsAtEnd: number }>(
    t,
    `
    const CYCLES = 1_000_000
    const range = (line) => line.split(' ')[0].split('-').map((x) => BigInt('0x' + x))
    // The lines of /proc/self/maps that overlap [lo, hi).
    const covering = ([lo, hi]) => mapsLines().filter((l) => { const [a, b] = range(l); return a < hi && b > lo })
    const sample = (cycle, own = null) => {
      const lines = mapsLines()
      return {
        cycle, lines: lines.length, fileLines: lines.filter((l) => l.endsWith(' ' + real)).length, fds: fds(), fileFds: fileFds(),
        range: own && own.map((x) => x.toString(16)).join('-'), coveredAfterClose: own && covering(own),
      }
    }
    const samples = [sample(0)]
    const started = process.hrtime.bigint()
    let sum = 0
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const map = memmap.openSync(file)
      sum += map.bytes[0]
      // Every 100,000th cycle notes where its map lies, to check that close() really unmapped it.
      const own = cycle % 100_000 === 0 ? range(mapsLines().find((l) => l.endsWith(' ' + real))) : null
      map.close()
      if (own) samples.push(sample(cycle, own))
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    report({ samples, sum, ms, liveMapsAtEnd: require(process.env.MEMMAP_ROOT + '/dist/native.js').native.counters().liveMaps })
    `,
    file,
    { timeout: 9 * 60_000 },
  )
  t.log(`1,000,000 cycles in ${(r.ms / 1000).toFixed(1)} s (${((r.ms * 1000) / 1_000_000).toFixed(2)} µs per cycle)`)
  t.log(`/proc/self/maps lines: ${r.samples.map((s) => s.lines).join(', ')}`)
  t.deepEqual(
    r.samples.map((s) => s.cycle),
    Array.from({ length: 11 }, (_, i) => i * 100_000),
  )
  // The totals of /proc/self/maps and /proc/self/fd move with the runtime's own mappings and
  // descriptors; what is exact is the file's own entries, and the address range each sampled map
  // occupied: close() unmaps it at once, so nothing covers it right after (a leaked mapping, or an
  // anonymous replacement left behind, would).
  const [start] = r.samples
  t.deepEqual([start.fileLines, start.fileFds], [0, 0])
  for (const s of r.samples) {
    t.is(s.fileLines, 0, `the file is not mapped at cycle ${s.cycle}`)
    t.is(s.fileFds, 0, `no descriptor is open on the file at cycle ${s.cycle}`)
    if (s.cycle > 0) t.deepEqual(s.coveredAfterClose, [], `${s.range}, mapped by cycle ${s.cycle}, is unmapped by its close()`)
    t.deepEqual(
      start.fds.filter((fd) => !s.fds.includes(fd)),
      [],
      `every descriptor open at the start is still open at cycle ${s.cycle} (nothing closed another's descriptor)`,
    )
  }
  t.is(r.sum, fs.readFileSync(file)[0] * 1_000_000, 'every cycle read the file through bytes[0]')
  t.is(r.liveMapsAtEnd, 0, '_counters: no map is alive at the end')
})

test('100,000 maps never closed are unmapped once collected, with a MEMMAP_UNCLOSED warning naming the file', (t) => {
  const file = tempFile(4096, 'never-closed.bin', dir)
  const r = timedChild<{
    opened: number
    failure: { cycle: number; code: unknown; message: string; liveMaps: number; fileMaps: number; fileFds: number; maxMapCount: string; nofile: string } | null
    sum: number
    maxLiveMaps: number
    maxFileMaps: number
    maxFileFds: number
    ms: number
    gcRounds: number
    fileMapsAfter: number
    fileFdsAfter: number
    warnings: number
    warning: { name: string; code: unknown; message: string } | null
  }>(
    t,
    `
    const COUNT = 100_000
    let warnings = 0
    let warning = null
    process.on('warning', (w) => {
      if (w.code !== 'MEMMAP_UNCLOSED') return
      warnings++
      warning ??= { name: w.name, code: w.code, message: w.message }
    })
    ;(async () => {
      const started = process.hrtime.bigint()
      let opened = 0
      let failure = null
      let sum = 0
      let maxLiveMaps = 0
      let maxFileMaps = 0
      let maxFileFds = 0
      for (let cycle = 1; cycle <= COUNT; cycle++) {
        try {
          const map = memmap.openSync(file)
          sum += map.bytes[0]
          opened++
        } catch (e) {
          const limits = fs.readFileSync('/proc/self/limits', 'utf8').split('\\n').find((l) => l.startsWith('Max open files'))
          failure = {
            cycle, code: e.code, message: String(e.message), liveMaps: require(process.env.MEMMAP_ROOT + '/dist/native.js').native.counters().liveMaps,
            fileMaps: fileMaps().length, fileFds: fileFds(),
            maxMapCount: fs.readFileSync('/proc/sys/vm/max_map_count', 'utf8').trim(), nofile: String(limits),
          }
          break
        }
        if (cycle % 1000 === 0) {
          maxLiveMaps = Math.max(maxLiveMaps, require(process.env.MEMMAP_ROOT + '/dist/native.js').native.counters().liveMaps)
          maxFileMaps = Math.max(maxFileMaps, fileMaps().length)
          maxFileFds = Math.max(maxFileFds, fileFds())
          await new Promise(setImmediate)
        }
      }
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      // Collection and the finalizers that unmap run when V8 and its background threads get to
      // them: poll (gc, then give the loop 10 ms) until the file is gone, for up to 60 s.
      let gcRounds = 0
      const deadline = Date.now() + 60_000
      for (; (fileMaps().length > 0 || fileFds() > 0) && Date.now() < deadline; gcRounds++) {
        gc()
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      report({
        opened, failure, sum, maxLiveMaps, maxFileMaps, maxFileFds, ms, gcRounds,
        fileMapsAfter: fileMaps().length, fileFdsAfter: fileFds(), warnings, warning,
      })
    })()
    `,
    file,
    { args: ['--expose-gc'], timeout: 5 * 60_000 },
  )
  t.log(
    `opened ${r.opened} in ${(r.ms / 1000).toFixed(1)} s; at most ${r.maxLiveMaps} live maps, ${r.maxFileMaps} mappings and ` +
      `${r.maxFileFds} descriptors of the file at once; unmapped after ${r.gcRounds} gc rounds; ${r.warnings} warnings`,
  )
  t.is(r.failure, null, `openSync failed: ${JSON.stringify(r.failure)}`)
  t.is(r.opened, 100_000)
  t.is(r.sum, fs.readFileSync(file)[0] * 100_000, 'every map read the file through bytes[0]')
  t.is(r.fileMapsAfter, 0, 'none of the file is mapped once collected (polled for up to 60 s)')
  t.is(r.fileFdsAfter, 0, 'no descriptor of the file is open once collected (polled for up to 60 s)')
  t.true(r.warnings >= 1, 'a warning was emitted for the unclosed maps')
  t.like(r.warning, { name: 'Warning', code: 'MEMMAP_UNCLOSED' })
  t.true(r.warning?.message.includes(file), `the warning names ${file}: ${r.warning?.message}`)
})
