/* read_latency.c — open+read+close of one file, N times; prints the median
 * and the 99th percentile in microseconds.
 *   read_latency PATH [N]   (default N = 10000) */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: read_latency PATH [N]\n");
    return 2;
  }
  int n = argc > 2 ? atoi(argv[2]) : 10000;
  double *us = calloc((size_t)n, sizeof(double));
  char buf[65536];
  for (int i = 0; i < n; i++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
      perror(argv[1]);
      return 1;
    }
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
    close(fd);
    clock_gettime(CLOCK_MONOTONIC, &b);
    us[i] = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
  }
  qsort(us, (size_t)n, sizeof(double), compare);
  printf("%.1f %.1f\n", us[n / 2], us[(int)(n * 0.99)]);
  free(us);
  return 0;
}
