/* qemu_cpuset.c — pinning QEMU's threads to <vcpu cpuset>; see
 * qemu_cpuset.h. */
#include "drivers/qemu/qemu_cpuset.h"

#include <errno.h>
#include <glib.h>
#include <sched.h>

#include "objects/values.h"

int qemu_cpuset_apply(pid_t pid, const char *cpuset, char **ret_error) {
  uint64_t bits[VALUE_CPUSET_WORDS];
  if (value_parse_cpuset(cpuset, bits) < 0) {
    *ret_error = g_strdup_printf("the vCPU cpuset '%s' is not valid", cpuset);
    return -EINVAL;
  }
  cpu_set_t *set = CPU_ALLOC(VALUE_CPUSET_MAX);
  size_t size = CPU_ALLOC_SIZE(VALUE_CPUSET_MAX);
  CPU_ZERO_S(size, set);
  for (unsigned c = 0; c < VALUE_CPUSET_MAX; c++)
    if (bits[c / 64] >> (c % 64) & 1)
      CPU_SET_S(c, size, set);
  g_autofree char *task_dir = g_strdup_printf("/proc/%d/task", (int)pid);
  g_autoptr(GDir) d = g_dir_open(task_dir, 0, NULL);
  const char *name;
  int r = d ? 0 : -ESRCH, pinned = 0;
  while (r == 0 && d && (name = g_dir_read_name(d))) {
    pid_t tid = (pid_t)g_ascii_strtoll(name, NULL, 10);
    if (sched_setaffinity(tid, size, set) == 0)
      pinned++;
    else if (errno != ESRCH) /* a thread that just ended is no matter */
      r = -errno;
  }
  CPU_FREE(set);
  if (r == 0 && pinned == 0)
    r = -ESRCH;
  if (r < 0) {
    g_autofree char *online = NULL;
    g_file_get_contents("/sys/devices/system/cpu/online", &online, NULL, NULL);
    if (online)
      g_strstrip(online);
    *ret_error = r == -EINVAL
                     ? g_strdup_printf("<vcpu cpuset='%s'> names no CPU this host can run QEMU "
                                       "on (online: %s)", cpuset, online ? online : "unknown")
                     : g_strdup_printf("cannot pin QEMU's threads to CPUs %s: %s", cpuset,
                                       g_strerror(-r));
  }
  return r;
}
