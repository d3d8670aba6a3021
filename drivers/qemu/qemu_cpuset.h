/* qemu_cpuset.h — <vcpu cpuset='...'>: which host CPUs a domain may run on.
 *
 * Like libvirt without <cputune>, the set applies to the whole QEMU process:
 * every thread it has once QEMU is up (vCPUs, the main loop, I/O threads) is
 * pinned with sched_setaffinity() before the guest runs, and threads QEMU
 * creates later (a hot-plugged vCPU, block I/O workers) inherit the mask
 * from the thread that creates them. The mask stays with the process, so a
 * daemon restart keeps it; every start (and restore) applies it again. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* Pins every thread of `pid` to `cpuset` (canonical text, values.h). 0, or
 * -errno with a sentence: -EINVAL when the set names no CPU this host can
 * use (offline, absent, or outside the daemon's own cgroup). */
int qemu_cpuset_apply(pid_t pid, const char *cpuset, char **ret_error);
