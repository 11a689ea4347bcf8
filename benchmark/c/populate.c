// What MAP_POPULATE costs in private memory: maps the whole file with MAP_POPULATE and reports
// the growth of RssAnon (/proc/self/status). On a private writable map (what a safe 'read' map
// is, SPEC §4.2) the kernel prefaults with write faults, so every page becomes a private copy.
// usage: populate PATH MODE   (MODE: private-write | private-read | shared-read)
// prints {"ns":time of the mmap call,"rssAnonGrowth":bytes}
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static long rss_anon_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "RssAnon:", 8) == 0) kib = atol(line + 8);
  if (f) fclose(f);
  return kib;
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: %s PATH MODE\n", argv[0]); return 2; }
  int prot = PROT_READ, flags = MAP_POPULATE;
  if (strcmp(argv[2], "private-write") == 0) { prot |= PROT_WRITE; flags |= MAP_PRIVATE | MAP_NORESERVE; }
  else if (strcmp(argv[2], "private-read") == 0) flags |= MAP_PRIVATE;
  else if (strcmp(argv[2], "shared-read") == 0) flags |= MAP_SHARED;
  else { fprintf(stderr, "unknown mode %s\n", argv[2]); return 2; }
  int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (fd < 0) { perror("open"); return 1; }
  struct stat st;
  if (fstat(fd, &st) != 0) { perror("fstat"); return 1; }
  long before = rss_anon_kib();
  double t = now_ns();
  void *p = mmap(NULL, (size_t)st.st_size, prot, flags, fd, 0);
  double el = now_ns() - t;
  if (p == MAP_FAILED) { perror("mmap"); return 1; }
  long after = rss_anon_kib();
  printf("{\"ns\":%.0f,\"rssAnonGrowth\":%ld}\n", el, (after - before) * 1024);
  munmap(p, (size_t)st.st_size);
  close(fd);
  return 0;
}
