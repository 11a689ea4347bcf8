"""mmap.find of a byte that is absent from the file: Python's baseline for memmap's indexOf.

usage: find.py PATH REPS NEEDLE   (NEEDLE: one byte value, 0-255)
prints {"firstNs": open + mmap + first find (page faults included),
        "loopNs": [ns per later find], "found": -1}
"""
import json
import mmap
import os
import sys
import time


def main():
    path, reps, needle = sys.argv[1], int(sys.argv[2]), bytes([int(sys.argv[3])])
    t = time.perf_counter_ns()
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    m = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    found = m.find(needle)
    first = time.perf_counter_ns() - t
    loop = []
    for _ in range(reps):
        t = time.perf_counter_ns()
        m.find(needle)
        loop.append(time.perf_counter_ns() - t)
    m.close()
    os.close(fd)
    print(json.dumps({"firstNs": first, "loopNs": loop, "found": found, "size": os.path.getsize(path)}))


main()
