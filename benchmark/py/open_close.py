"""Python's floor for memmap's openSync + close: os.open, mmap.mmap(fd, 0, ACCESS_READ) (which
fstats and dups the descriptor), optionally reading the first byte, then mmap.close and os.close.

usage: open_close.py PATH ITERS SAMPLES TOUCH
prints {"ns": [ns per cycle, one per sample]} after one untimed warm-up sample.
"""
import json
import mmap
import os
import sys
import time


def cycle(path, touch):
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    m = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    if touch:
        m[0]
    m.close()
    os.close(fd)


def main():
    path, iters, samples, touch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
    out = []
    for s in range(-1, samples):
        t = time.perf_counter_ns()
        for _ in range(iters):
            cycle(path, touch)
        if s >= 0:
            out.append((time.perf_counter_ns() - t) / iters)
    print(json.dumps({"ns": out}))


main()
