// A Node process and a Python process exchange records through one file, taking turns under an
// advisory lock: Node writes a request, Python (its stdlib mmap over the same file) answers it in
// upper case, Node checks the answer. Whose turn it is is the parity of a counter in the file;
// each side only reads or writes the file while it holds the lock. Prints the round trips per
// second.
//
//   npm run build && npx tsx examples/python-exchange.ts [rounds]
//
// Linux: memmap's locks (OFD) and Python's fcntl.lockf (classic POSIX locks) exclude each other.
// macOS: memmap uses flock, so Python uses fcntl.flock. Layout: Int32 turn at byte 0, Int32
// record length at byte 4, the record's UTF-8 bytes from byte 8.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { openSync } from '..'

const RECORD = 8
const SIZE = 4096

const PYTHON = `
import fcntl, mmap, struct, sys
lock = (lambda f, op: fcntl.flock(f, op)) if sys.platform == 'darwin' else (lambda f, op: fcntl.lockf(f, op))
rounds = int(sys.argv[2])
with open(sys.argv[1], 'r+b') as f, mmap.mmap(f.fileno(), ${SIZE}) as m:
    while True:
        lock(f, fcntl.LOCK_EX)
        turn, length = struct.unpack_from('<ii', m, 0)
        if turn % 2 == 1:
            answer = m[${RECORD}:${RECORD} + length].decode().upper().encode()
            m[${RECORD}:${RECORD} + len(answer)] = answer
            struct.pack_into('<ii', m, 0, turn + 1, len(answer))
        lock(f, fcntl.LOCK_UN)
        if turn >= 2 * rounds - 1:
            break
`

async function main(rounds: number): Promise<void> {
  if (process.platform === 'win32') throw new Error('this example pairs memmap with fcntl locks: Linux and macOS')
  const dir = mkdtempSync(join(tmpdir(), 'memmap-exchange-'))
  try {
    const file = join(dir, 'exchange.bin')
    using map = openSync(file, { mode: 'read-write', create: true, size: SIZE })
    const header = map.view(Int32Array, 0, 2)
    const python = spawn('python3', ['-c', PYTHON, file, String(rounds)], { stdio: 'inherit' })
    const exited = new Promise<number | null>((resolve) => python.on('exit', resolve))

    const started = process.hrtime.bigint()
    for (let round = 0; round < rounds;) {
      using _lock = map.lockFileSync() // released at the end of each turn of the loop
      const [turn, length] = header
      if (turn === 2 * round) {
        const request = Buffer.from(`record ${round} from node`)
        map.write(request, RECORD)
        header[1] = request.length
        header[0] = turn + 1
      } else if (turn === 2 * round + 2) {
        const answer = map.read(RECORD, length).toString()
        if (answer !== `RECORD ${round} FROM NODE`) throw new Error(`round ${round}: Python answered ${JSON.stringify(answer)}`)
        round++
      }
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    if ((await exited) !== 0) throw new Error('the Python process failed')
    console.log(`${rounds} round trips with Python in ${seconds.toFixed(2)} s: ${Math.round(rounds / seconds)} per second`)
    console.log(`last answer: ${map.read(RECORD, header[1]).toString()}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

main(Number(process.argv[2] ?? 1000)).catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
