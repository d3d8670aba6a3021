/* node_caps.h — facts about the host and the hypervisor, and the two texts
 * /virt/node/ renders from them: `info` (key: value lines) and
 * `capabilities.xml` (libvirt's capabilities format).
 *
 * Everything here is pure except node_facts_read() (node_facts.c), which
 * reads /proc, uname and /dev/kvm and hands the texts to the parsers below
 * (node_kvm_usable() probes /dev/kvm the same way).
 * The hypervisor half (emulator, version, machine types) is filled by the
 * QEMU driver (drivers/qemu/qemu_caps.h), which runs QEMU to learn it.
 *
 * Error convention: 0 or a negative errno; outputs through ret_ parameters
 * written only on success. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* What /proc/cpuinfo says about the processors. */
typedef struct NodeCpu {
  char *model;        /* "model name" of the first processor, or NULL */
  char *vendor;       /* "Intel", "AMD", else the raw vendor_id, or NULL */
  unsigned count;     /* logical CPUs listed */
  unsigned sockets;   /* distinct "physical id" values (1 when absent) */
  unsigned cores;     /* cores per socket */
  unsigned threads;   /* threads per core */
} NodeCpu;

typedef struct NodeFacts {
  char *hostname;
  char *arch;                 /* uname's machine, e.g. x86_64 */
  char *uuid;                 /* host UUID (SMBIOS, else machine-id), or NULL */
  NodeCpu cpu;
  uint64_t memory_kib;        /* MemTotal */
  uint64_t free_memory_kib;   /* MemAvailable (MemFree on old kernels) */
  bool kvm;                   /* KVM can run ordinary guests (node_kvm_decide) */
  char *kvm_reason;           /* when !kvm: why not, one sentence; else NULL */
} NodeFacts;

/* What probing /dev/kvm found: the inputs of node_kvm_decide(). */
typedef struct NodeKvmProbe {
  int open_errno;        /* 0: /dev/kvm opened read-write; else the errno
                            (ENOENT: no device node) */
  int create_vm_errno;   /* 0: KVM_CREATE_VM gave a VM; else the errno. Only
                            meaningful when open_errno is 0 */
  const char *cpuinfo;   /* the text of /proc/cpuinfo, or NULL if unreadable */
  bool pvm_module;       /* the kernel has kvm_pvm (/sys/module/kvm_pvm) */
} NodeKvmProbe;

/* One machine type of `qemu-system-ARCH -machine help`. */
typedef struct NodeMachine {
  char *name;        /* "pc-i440fx-7.2", or an alias such as "pc" */
  char *canonical;   /* for an alias, the machine it stands for; else NULL */
  bool is_default;
  bool deprecated;
} NodeMachine;

/* The emulator virtfs starts for guests. */
typedef struct NodeHypervisor {
  char *emulator;        /* absolute path */
  char *version;         /* "7.2.22" */
  char *arch;            /* guest architecture, e.g. x86_64 */
  unsigned wordsize;     /* 32 or 64 */
  GPtrArray *machines;   /* NodeMachine*, in QEMU's order */
} NodeHypervisor;

void node_cpu_clear(NodeCpu *cpu);
void node_facts_free(NodeFacts *facts);
void node_machine_free(NodeMachine *machine);
void node_hypervisor_free(NodeHypervisor *hv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NodeFacts, node_facts_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NodeMachine, node_machine_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NodeHypervisor, node_hypervisor_free)

/* ---- pure parsers of the kernel's texts ---- */

/* /proc/cpuinfo. -EINVAL when it lists no processor. */
int node_cpuinfo_parse(const char *text, NodeCpu *ret_cpu);

/* /proc/meminfo: MemTotal and MemAvailable (or MemFree), in KiB. -EINVAL
 * without MemTotal. */
int node_meminfo_parse(const char *text, uint64_t *ret_total_kib, uint64_t *ret_free_kib);

/* A UUID from /sys/class/dmi/id/product_uuid (already dashed) or from
 * /etc/machine-id (32 hex digits), lowercased and dashed. -EINVAL for
 * anything else, including the all-zero and all-F placeholders of firmware
 * that has no UUID. */
int node_uuid_normalize(const char *text, char **ret_uuid);

/* Whether KVM can run ordinary guests, from what a probe found. It can
 * when /dev/kvm opens read-write, KVM_CREATE_VM succeeds and, on x86 (a
 * cpuinfo with "flags" lines), the CPU has hardware virtualization (vmx or
 * svm). A paravirtual KVM such as kvm_pvm passes the first two but runs
 * only guest kernels built for it: an ordinary guest spins forever, so it
 * counts as no KVM. Returns true, or false with *ret_reason set to a
 * sentence for node/info, the log and the error of a refused start. */
bool node_kvm_decide(const NodeKvmProbe *probe, char **ret_reason);

/* ---- pure formatters ---- */

/* The `info` file: one "key: value" line per fact, keys in a fixed order.
 * hv may be NULL (no usable QEMU): "hypervisor: none". */
void node_info_format(const NodeFacts *facts, const NodeHypervisor *hv,
                      const char *virtfs_version, GString *out);

/* libvirt's <capabilities> document: <host> from the facts and, when hv is
 * not NULL, one <guest> for its architecture with its machine types; domain
 * type 'qemu' always, 'kvm' only when facts->kvm and the guest architecture
 * is the host's. */
char *node_caps_format(const NodeFacts *facts, const NodeHypervisor *hv);

/* ---- I/O (node_facts.c) ---- */

/* Reads the facts of this host. Fails only when /proc is unreadable. */
int node_facts_read(NodeFacts **ret_facts, char **ret_error);

/* Probes /dev/kvm (open, KVM_CREATE_VM), /proc/cpuinfo and the kvm_pvm
 * module and decides with node_kvm_decide(). The one place that says
 * whether this host runs type='kvm' guests; costs about a millisecond. */
bool node_kvm_usable(char **ret_reason);
