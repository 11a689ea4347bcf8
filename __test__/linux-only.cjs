'use strict'
// The split of the test suite (issue 12): platform-neutral tests run everywhere (under wine too,
// through scripts/spec-runner.mjs in `npm run test:cross`); a test that needs a Linux facility is
// registered through `linuxOnly(test, reason)` of __test__/helpers.ts and skipped elsewhere, and a
// spec file that needs one throughout is listed in FILES. A reason must name the facility: a path
// under /proc, /sys or /dev, a tool, a signal, a kernel interface or a Linux runtime binary of
// .runtimes/. scripts/check-linux-only.mjs (run by `npm test`) fails on a mark whose reason names
// none, and on any other way of leaving a test out (test.skip, process.platform in a spec).

/** What a reason may name. A word of the reason must start with a path or kernel prefix, or equal a tool or signal. */
const FACILITIES = {
  paths: ['/proc/', '/sys/', '/dev/'],
  tools: ['mkfifo', 'python3', 'setpriv', 'prlimit', 'truncate', 'fincore', 'sh', 'chattr'],
  signals: ['SIGBUS', 'SIGSEGV', 'SIGKILL', 'SIGTERM', 'SIGSTOP', 'SIGABRT'],
  kernel: [
    'mlock2',
    'MAP_HUGETLB',
    'MADV_',
    'RLIMIT_',
    'AF_UNIX',
    'O_TMPFILE',
    'rename(2)',
    'unlink(2)',
    'ftruncate(2)',
    'sysctl',
    'futex',
    'memfd_create',
    'umask(2)',
    'symlink(2)',
  ],
  runtimes: ['.runtimes/'],
}

/** Spec files that are Linux-only throughout (not run under wine), each with its reason. */
const FILES = {
  'bun.spec.ts': 'every scenario runs .runtimes/bun (a Linux build) as a child',
  'electron.spec.ts': 'each child checks its mappings in /proc/self/maps; stray writes die by SIGSEGV',
  'fault-files.spec.ts':
    'unlink(2), rename(2) and ftruncate(2) of a mapped file (Windows refuses them; SIGBUS on Linux), checked in /proc/self/maps and /proc/self/fd',
  'fault-lifecycle.spec.ts':
    'collected maps are checked in /proc/self/maps and /proc/self/fd; .runtimes/node22 and .runtimes/bun (Linux builds) run the transfer cases',
  'fault-limits.spec.ts': 'prlimit (RLIMIT_NOFILE, RLIMIT_AS) and /proc/sys/vm/max_map_count, through sh',
  'file-safety.spec.ts': 'umask(2) modes, symlink(2) (wine makes none), and unlink(2) of files whose views are not yet collected (Windows refuses it)',
  'kernel-setting.spec.ts': 'writes /proc/sys/vm settings and restores them after SIGKILL',
  'large.spec.ts': '/proc/self/smaps of 64 GiB maps, on .runtimes/node24 and Node 20 (Linux builds)',
  'lifecycle.spec.ts': 'counts entries of /proc/self/maps and /proc/self/fd over 1,000,000 cycles',
  'memory.spec.ts': '/proc/self/status (VmLck, RssAnon), /proc/self/smaps VmFlags, prlimit with RLIMIT_MEMLOCK, python3 mlock',
  'model.spec.ts': 'after every sequence no entry of /proc/self/maps or /proc/self/fd may remain',
  'permissions.spec.ts': 'setpriv drops root; descriptors in /proc/self/fd, capabilities in /proc/self/status',
  'prefetch.spec.ts': 'residency checked in /proc/self/smaps, the page cache evicted by python3 (posix_fadvise)',
  'safety-promises.spec.ts': 'prlimit (RLIMIT_AS), a sealed memfd from python3, page flags in /proc/kpageflags',
  'spec-runner.spec.ts': 'runs the runner on .runtimes/bun and .runtimes/deno (Linux builds)',
  'truncation.spec.ts': 'ftruncate(2) below a live mapping, which Windows refuses (Linux raises SIGBUS on the cut pages)',
  'wait.spec.ts': 'wait and notify are the futex (futex_waitv; ERR_MMAP_UNSUPPORTED on Windows); checks in /proc/self/maps',
}

/** The facilities `reason` names (empty when it names none). */
function namedFacilities(reason) {
  if (typeof reason !== 'string') return []
  const words = reason.split(/[\s,;:()'"`]+/)
  const under = (prefixes) => words.filter((w) => prefixes.some((p) => w.startsWith(p) && w.length > p.length))
  return [
    ...under(FACILITIES.paths),
    ...FACILITIES.tools.filter((tool) => words.includes(tool)),
    ...FACILITIES.signals.filter((signal) => words.includes(signal)),
    ...FACILITIES.kernel.filter((k) => reason.includes(k)),
    ...under(FACILITIES.runtimes),
  ]
}

module.exports = { FACILITIES, FILES, namedFacilities }
