// Sums a mapped file as little-endian int32 (wrapping, like the JS `(s + a[i]) | 0` loop): the
// C reference for the sum-1g scenario.
// usage: sum PATH REPS
// prints {"sum":u32,"firstNs":open+mmap+first sum,"loopNs":[one per later pass]}
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static uint32_t sum(const int32_t *a, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i < n; i++) s += (uint32_t)a[i];
  return s;
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: %s PATH REPS\n", argv[0]); return 2; }
  long reps = atol(argv[2]);
  double t = now_ns();
  int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (fd < 0) { perror("open"); return 1; }
  struct stat st;
  if (fstat(fd, &st) != 0) { perror("fstat"); return 1; }
  const int32_t *a = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (a == MAP_FAILED) { perror("mmap"); return 1; }
  size_t n = (size_t)st.st_size / 4;
  uint32_t first = sum(a, n);
  printf("{\"sum\":%u,\"firstNs\":%.0f,\"loopNs\":[", first, now_ns() - t);
  for (long r = 0; r < reps; r++) {
    t = now_ns();
    uint32_t s = sum(a, n);
    double el = now_ns() - t;
    if (s != first) { fprintf(stderr, "sum changed\n"); return 1; }
    printf("%s%.0f", r ? "," : "", el);
  }
  printf("]}\n");
  munmap((void *)a, (size_t)st.st_size);
  close(fd);
  return 0;
}
