/* node_facts.c — the I/O half of node_caps.h: reads the host's facts from
 * /proc, uname(2), the hostname, the firmware or machine-id UUID and
 * /dev/kvm (opened, asked for a VM), and leaves the interpretation to the
 * pure parsers and node_kvm_decide(). Called each
 * time node/info or node/capabilities.xml is opened (free memory changes);
 * it costs a few small reads of /proc. */
#include "objects/node_caps.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

/* The firmware's UUID is readable by root only; machine-id is the fallback
 * libvirt uses too, so both daemons of a host agree on its identity. */
static char *read_host_uuid(void) {
  static const char *const sources[] = {
    "/sys/class/dmi/id/product_uuid",
    "/etc/machine-id",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(sources); i++) {
    g_autofree char *text = NULL;
    char *uuid = NULL;
    if (g_file_get_contents(sources[i], &text, NULL, NULL) &&
        node_uuid_normalize(text, &uuid) == 0)
      return uuid;
  }
  return NULL;
}

static bool kvm_usable_given_cpuinfo(const char *cpuinfo, char **ret_reason) {
  NodeKvmProbe probe = {.cpuinfo = cpuinfo};
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    probe.open_errno = errno;
  } else {
    int vm = ioctl(fd, KVM_CREATE_VM, 0UL);
    if (vm < 0)
      probe.create_vm_errno = errno;
    else
      close(vm);
    close(fd);
  }
  probe.pvm_module = g_file_test("/sys/module/kvm_pvm", G_FILE_TEST_IS_DIR);
  return node_kvm_decide(&probe, ret_reason);
}

bool node_kvm_usable(char **ret_reason) {
  g_autofree char *cpuinfo = NULL;
  g_file_get_contents("/proc/cpuinfo", &cpuinfo, NULL, NULL);
  return kvm_usable_given_cpuinfo(cpuinfo, ret_reason);
}

int node_facts_read(NodeFacts **ret_facts, char **ret_error) {
  g_autoptr(NodeFacts) facts = g_new0(NodeFacts, 1);
  g_autofree char *cpuinfo = NULL, *meminfo = NULL;
  g_autoptr(GError) err = NULL;

  if (!g_file_get_contents("/proc/meminfo", &meminfo, NULL, &err)) {
    *ret_error = g_strdup_printf("cannot read /proc/meminfo: %s", err->message);
    return -EIO;
  }
  if (node_meminfo_parse(meminfo, &facts->memory_kib, &facts->free_memory_kib) < 0) {
    *ret_error = g_strdup("/proc/meminfo has no MemTotal line");
    return -EIO;
  }
  if (!g_file_get_contents("/proc/cpuinfo", &cpuinfo, NULL, &err) ||
      node_cpuinfo_parse(cpuinfo, &facts->cpu) < 0) {
    /* Containers may hide cpuinfo; the count still comes from sysconf. */
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    facts->cpu = (NodeCpu){.count = n > 0 ? (unsigned)n : 1, .sockets = 1, .threads = 1};
    facts->cpu.cores = facts->cpu.count;
  }

  struct utsname u;
  if (uname(&u) == 0)
    facts->arch = g_strdup(u.machine);
  char host[256];
  if (gethostname(host, sizeof(host) - 1) == 0) {
    host[sizeof(host) - 1] = '\0';
    facts->hostname = g_strdup(host);
  }
  facts->uuid = read_host_uuid();
  facts->kvm = kvm_usable_given_cpuinfo(cpuinfo, &facts->kvm_reason);
  *ret_facts = g_steal_pointer(&facts);
  return 0;
}
