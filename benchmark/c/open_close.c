// The C floor for memmap's openSync + close: one open/fstat/mmap/munmap/close cycle per
// iteration, optionally reading the first byte (a page fault) before the unmap.
// usage: open_close PATH ITERS SAMPLES TOUCH
// prints {"ns":[ns per cycle, one per sample]} after one untimed warm-up sample.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned char sink;

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static void cycle(const char *path, int touch) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) { perror("open"); exit(1); }
  struct stat st;
  if (fstat(fd, &st) != 0) { perror("fstat"); exit(1); }
  void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(1); }
  if (touch) sink = *(volatile unsigned char *)p;
  if (munmap(p, (size_t)st.st_size) != 0) { perror("munmap"); exit(1); }
  close(fd);
}

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: %s PATH ITERS SAMPLES TOUCH\n", argv[0]); return 2; }
  const char *path = argv[1];
  long iters = atol(argv[2]), samples = atol(argv[3]);
  int touch = atoi(argv[4]);
  printf("{\"ns\":[");
  for (long s = -1; s < samples; s++) {
    double t = now_ns();
    for (long i = 0; i < iters; i++) cycle(path, touch);
    double per = (now_ns() - t) / iters;
    if (s >= 0) printf("%s%.1f", s ? "," : "", per);
  }
  printf("]}\n");
  return 0;
}
