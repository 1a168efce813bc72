/*
 * jitter: how late a thread that sleeps between short jobs wakes up on one CPU of this machine,
 * the way a server's event loop does at a moderate request rate (cyclictest's method, simplified).
 *
 * The thread is pinned to --cpu, sleeps until an absolute time every --interval-us (clock_nanosleep
 * on CLOCK_MONOTONIC, TIMER_ABSTIME) for --seconds, and records how late each wake-up was. Every
 * wake-up later than --late-us is listed with its wall-clock time and, when --watch-pid is given,
 * the CPU that process (a kernel thread such as kdamond) last ran on and how much CPU time it
 * gained since the previous wake-up, so stalls can be laid at a culprit's door. The summary gives
 * the percentiles of lateness and the share of wake-ups later than 1 and 2 ms.
 *
 *   gcc -O2 -o jitter jitter.c
 *   ./jitter --cpu 0 --seconds 30 [--interval-us 500] [--late-us 1000] [--watch-pid PID] > out.tsv
 *
 * Lines starting with '#' are the summary; the rest are "wall_utc late_us watched_cpu
 * watched_gained_ticks" rows, tab-separated.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t ns(struct timespec t) { return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec; }

static struct timespec ts(int64_t n) {
  struct timespec t = {n / 1000000000LL, n % 1000000000LL};
  return t;
}

/* utime + stime and the last CPU (fields 14, 15, 39) of /proc/PID/stat; 0 when unreadable. */
static int watched(const char *path, long long *ticks, int *cpu) {
  FILE *f;
  char buf[2048];
  char *p;
  int field = 2;
  long long utime = 0, stime = 0;
  if (path[0] == 0 || (f = fopen(path, "r")) == NULL) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  p = strrchr(buf, ')'); /* the command may contain spaces */
  if (p == NULL) return 0;
  p++;
  while (*p && field < 39) {
    while (*p == ' ') p++;
    field++;
    if (field == 14) utime = atoll(p);
    if (field == 15) stime = atoll(p);
    if (field == 39) *cpu = atoi(p);
    while (*p && *p != ' ') p++;
  }
  *ticks = utime + stime;
  return 1;
}

static int cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int cpu = 0;
  double seconds = 30, interval_us = 500, late_us = 1000;
  char stat_path[64] = "";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--cpu")) cpu = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--interval-us")) interval_us = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--late-us")) late_us = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--watch-pid")) snprintf(stat_path, sizeof stat_path, "/proc/%s/stat", argv[i + 1]);
    else { fprintf(stderr, "jitter: unknown option %s\n", argv[i]); return 2; }
  }
  if (seconds <= 0 || interval_us < 10 || late_us < 0) {
    fprintf(stderr, "jitter: --seconds > 0, --interval-us >= 10, --late-us >= 0\n");
    return 2;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) { perror("jitter: sched_setaffinity"); return 1; }

  int64_t step = (int64_t)(interval_us * 1000), late_ns = (int64_t)(late_us * 1000);
  long total = (long)(seconds * 1e9 / step);
  int64_t *lat = malloc(sizeof(int64_t) * total);
  if (lat == NULL) { perror("jitter: malloc"); return 1; }
  long long wticks = 0, prev_ticks = 0;
  int wcpu = -1;
  watched(stat_path, &prev_ticks, &wcpu);
  long over1 = 0, over2 = 0;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  int64_t due = ns(now) + 10 * step;
  printf("wall_utc\tlate_us\twatched_cpu\twatched_gained_ticks\n");
  for (long k = 0; k < total; k++, due += step) {
    struct timespec d = ts(due);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL) == EINTR) {}
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t late = ns(now) - due;
    lat[k] = late;
    if (late > 1000000) over1++;
    if (late > 2000000) over2++;
    if (late > late_ns) {
      struct timespec wall;
      clock_gettime(CLOCK_REALTIME, &wall);
      struct tm tm;
      gmtime_r(&wall.tv_sec, &tm);
      char when[32];
      strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
      int have = watched(stat_path, &wticks, &wcpu);
      printf("%s.%03ldZ\t%.0f\t%d\t%lld\n", when, wall.tv_nsec / 1000000, late / 1e3,
             have ? wcpu : -1, have ? wticks - prev_ticks : -1);
      if (have) prev_ticks = wticks;
    } else if (k % 200 == 0) {
      watched(stat_path, &prev_ticks, &wcpu); /* so "gained" covers only the recent past */
    }
  }
  qsort(lat, total, sizeof(int64_t), cmp);
  printf("# cpu=%d interval_us=%.0f wakeups=%ld\n", cpu, interval_us, total);
  printf("# late_us p50=%.0f p90=%.0f p99=%.0f p99.9=%.0f max=%.0f\n", lat[total / 2] / 1e3,
         lat[(long)(total * 0.9)] / 1e3, lat[(long)(total * 0.99)] / 1e3,
         lat[(long)(total * 0.999)] / 1e3, lat[total - 1] / 1e3);
  printf("# over_1ms=%ld (%.3f%%) over_2ms=%ld (%.3f%%)\n", over1, 100.0 * over1 / total, over2,
         100.0 * over2 / total);
  free(lat);
  return 0;
}
