/* node_caps.c — the pure half of node_caps.h: parsers of /proc texts and
 * the formatters of node/info and node/capabilities.xml. */
#include "objects/node_caps.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "objects/xml_util.h"

void node_cpu_clear(NodeCpu *cpu) {
  if (!cpu)
    return;
  g_clear_pointer(&cpu->model, g_free);
  g_clear_pointer(&cpu->vendor, g_free);
}

void node_facts_free(NodeFacts *facts) {
  if (!facts)
    return;
  g_free(facts->hostname);
  g_free(facts->arch);
  g_free(facts->uuid);
  g_free(facts->kvm_reason);
  node_cpu_clear(&facts->cpu);
  g_free(facts);
}

void node_machine_free(NodeMachine *machine) {
  if (!machine)
    return;
  g_free(machine->name);
  g_free(machine->canonical);
  g_free(machine);
}

void node_hypervisor_free(NodeHypervisor *hv) {
  if (!hv)
    return;
  g_free(hv->emulator);
  g_free(hv->version);
  g_free(hv->arch);
  if (hv->machines)
    g_ptr_array_unref(hv->machines);
  g_free(hv);
}

/* Splits "key<blanks>: value" into its trimmed halves; false when the line
 * has no colon. Both outputs point into `line`, which is modified. */
static bool split_key_value(char *line, char **ret_key, char **ret_value) {
  char *colon = strchr(line, ':');
  if (!colon)
    return false;
  *colon = '\0';
  *ret_key = g_strstrip(line);
  *ret_value = g_strstrip(colon + 1);
  return true;
}

static unsigned parse_small_uint(const char *text) {
  char *end;
  unsigned long v = strtoul(text, &end, 10);
  if (end == text || *end || v > 1u << 20)
    return 0;
  return (unsigned)v;
}

/* The short names libvirt uses for the vendor_id strings of x86 CPUs. */
static const char *vendor_name(const char *vendor_id) {
  static const struct { const char *id, *name; } table[] = {
    {"GenuineIntel", "Intel"},
    {"AuthenticAMD", "AMD"},
    {"HygonGenuine", "Hygon"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
    if (strcmp(vendor_id, table[i].id) == 0)
      return table[i].name;
  return vendor_id;
}

int node_cpuinfo_parse(const char *text, NodeCpu *ret_cpu) {
  NodeCpu cpu = {0};
  unsigned cores_per_socket = 0, siblings = 0;
  g_autoptr(GHashTable) sockets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (char **l = lines; *l; l++) {
    char *key, *value;
    if (!split_key_value(*l, &key, &value))
      continue;
    if (strcmp(key, "processor") == 0)
      cpu.count++;
    else if (strcmp(key, "model name") == 0 && !cpu.model && *value)
      cpu.model = g_strdup(value);
    else if (strcmp(key, "vendor_id") == 0 && !cpu.vendor && *value)
      cpu.vendor = g_strdup(vendor_name(value));
    else if (strcmp(key, "physical id") == 0)
      g_hash_table_add(sockets, g_strdup(value));
    else if (strcmp(key, "cpu cores") == 0 && !cores_per_socket)
      cores_per_socket = parse_small_uint(value);
    else if (strcmp(key, "siblings") == 0 && !siblings)
      siblings = parse_small_uint(value);
  }
  if (cpu.count == 0) {
    node_cpu_clear(&cpu);
    return -EINVAL;
  }
  cpu.sockets = MAX(g_hash_table_size(sockets), 1u);
  /* Without the x86 topology fields (other architectures, some VMs) every
   * CPU counts as one core of one socket. */
  cpu.cores = cores_per_socket ? cores_per_socket : MAX(cpu.count / cpu.sockets, 1u);
  cpu.threads = 1;
  if (cores_per_socket && siblings >= cores_per_socket && siblings % cores_per_socket == 0)
    cpu.threads = siblings / cores_per_socket;
  *ret_cpu = cpu;
  return 0;
}

static bool parse_kib(const char *value, uint64_t *ret_kib) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(value, &end, 10);
  if (end == value || errno)
    return false;
  while (*end == ' ')
    end++;
  if (*end && strcmp(end, "kB") != 0)
    return false;
  *ret_kib = v;
  return true;
}

int node_meminfo_parse(const char *text, uint64_t *ret_total_kib, uint64_t *ret_free_kib) {
  uint64_t total = 0, available = 0, memfree = 0;
  bool have_total = false, have_available = false, have_free = false;
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (char **l = lines; *l; l++) {
    char *key, *value;
    if (!split_key_value(*l, &key, &value))
      continue;
    if (strcmp(key, "MemTotal") == 0)
      have_total = parse_kib(value, &total);
    else if (strcmp(key, "MemAvailable") == 0)
      have_available = parse_kib(value, &available);
    else if (strcmp(key, "MemFree") == 0)
      have_free = parse_kib(value, &memfree);
  }
  if (!have_total)
    return -EINVAL;
  *ret_total_kib = total;
  *ret_free_kib = have_available ? available : have_free ? memfree : 0;
  return 0;
}

int node_uuid_normalize(const char *text, char **ret_uuid) {
  g_autofree char *t = g_ascii_strdown(text, -1);
  g_strstrip(t);
  GString *hex = g_string_sized_new(32);
  size_t len = strlen(t);
  bool dashed = len == 36;
  size_t i;
  for (i = 0; i < len; i++) {
    if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
      if (t[i] != '-')
        break;
      continue;
    }
    if (!g_ascii_isxdigit(t[i]))
      break;
    g_string_append_c(hex, t[i]);
  }
  g_autofree char *h = g_string_free(hex, FALSE);
  if (i != len || strlen(h) != 32 || strspn(h, "0") == 32 || strspn(h, "f") == 32)
    return -EINVAL;
  *ret_uuid = g_strdup_printf("%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
  return 0;
}

/* Whether any "flags" line of cpuinfo lists `flag` as a whole word; sets
 * *ret_has_flags when there is a flags line at all (x86 only). */
static bool cpuinfo_has_flag(const char *cpuinfo, const char *flag, bool *ret_has_flags) {
  g_auto(GStrv) lines = g_strsplit(cpuinfo, "\n", -1);
  *ret_has_flags = false;
  for (char **l = lines; *l; l++) {
    const char *colon = strchr(*l, ':');
    if (!colon)
      continue;
    g_autofree char *key = g_strstrip(g_strndup(*l, (gsize)(colon - *l)));
    if (strcmp(key, "flags") != 0)
      continue;
    *ret_has_flags = true;
    g_auto(GStrv) words = g_strsplit_set(colon + 1, " \t", -1);
    for (char **w = words; *w; w++)
      if (strcmp(*w, flag) == 0)
        return true;
  }
  return false;
}

bool node_kvm_decide(const NodeKvmProbe *probe, char **ret_reason) {
  g_autofree char *reason = NULL;
  if (probe->open_errno == ENOENT)
    reason = g_strdup("this host has no /dev/kvm");
  else if (probe->open_errno != 0)
    reason = g_strdup_printf("/dev/kvm cannot be opened read-write: %s",
                             g_strerror(probe->open_errno));
  else if (probe->create_vm_errno != 0)
    reason = g_strdup_printf("/dev/kvm refuses to create a VM: %s",
                             g_strerror(probe->create_vm_errno));
  else if (probe->cpuinfo) {
    bool has_flags = false;
    bool hw = cpuinfo_has_flag(probe->cpuinfo, "vmx", &has_flags) ||
              cpuinfo_has_flag(probe->cpuinfo, "svm", &has_flags);
    if (has_flags && !hw)
      reason = g_strdup_printf(
          "/dev/kvm is %s without hardware virtualization (the CPU has no vmx or svm "
          "flag): it runs only guest kernels built for it, an ordinary guest would hang",
          probe->pvm_module ? "a paravirtual KVM (kvm_pvm)" : "a KVM");
  }
  if (!reason)
    return true;
  if (ret_reason)
    *ret_reason = g_steal_pointer(&reason);
  return false;
}

void node_info_format(const NodeFacts *facts, const NodeHypervisor *hv,
                      const char *virtfs_version, GString *out) {
  g_string_append_printf(out, "hostname: %s\n", facts->hostname ? facts->hostname : "");
  g_string_append_printf(out, "cpus: %u\n", facts->cpu.count);
  g_string_append_printf(out, "cpu_model: %s\n",
                         facts->cpu.model ? facts->cpu.model : "unknown");
  g_string_append_printf(out, "memory_kib: %" G_GUINT64_FORMAT "\n", facts->memory_kib);
  g_string_append_printf(out, "free_memory_kib: %" G_GUINT64_FORMAT "\n",
                         facts->free_memory_kib);
  if (hv)
    g_string_append_printf(out, "hypervisor: QEMU %s\n", hv->version);
  else
    g_string_append(out, "hypervisor: none\n");
  g_string_append_printf(out, "virtfs_version: %s\n", virtfs_version);
  g_string_append_printf(out, "kvm: %d\n", facts->kvm ? 1 : 0);
  if (!facts->kvm && facts->kvm_reason)
    g_string_append_printf(out, "kvm_unavailable: %s\n", facts->kvm_reason);
  g_string_append_printf(out, "architecture: %s\n", facts->arch ? facts->arch : "unknown");
}

static void format_host(XmlWriter *w, const NodeFacts *facts) {
  xml_writer_start(w, "host");
  xml_writer_end_open(w);
  xml_writer_text_element(w, "uuid", facts->uuid);
  xml_writer_start(w, "cpu");
  xml_writer_end_open(w);
  xml_writer_text_element(w, "arch", facts->arch);
  xml_writer_text_element(w, "model", facts->cpu.model);
  xml_writer_text_element(w, "vendor", facts->cpu.vendor);
  xml_writer_start(w, "topology");
  xml_writer_attr_printf(w, "sockets", "%u", facts->cpu.sockets);
  xml_writer_attr(w, "dies", "1");
  xml_writer_attr_printf(w, "cores", "%u", facts->cpu.cores);
  xml_writer_attr_printf(w, "threads", "%u", facts->cpu.threads);
  xml_writer_end_empty(w);
  xml_writer_close(w); /* cpu */
  xml_writer_close(w); /* host */
}

static bool arch_is_x86(const char *arch) {
  return g_strcmp0(arch, "x86_64") == 0 || g_strcmp0(arch, "i686") == 0;
}

static void format_guest(XmlWriter *w, const NodeFacts *facts, const NodeHypervisor *hv) {
  xml_writer_start(w, "guest");
  xml_writer_end_open(w);
  xml_writer_text_element(w, "os_type", "hvm");
  xml_writer_start(w, "arch");
  xml_writer_attr(w, "name", hv->arch);
  xml_writer_end_open(w);
  xml_writer_text_element_printf(w, "wordsize", "%u", hv->wordsize);
  xml_writer_text_element(w, "emulator", hv->emulator);
  for (guint i = 0; hv->machines && i < hv->machines->len; i++) {
    const NodeMachine *m = g_ptr_array_index(hv->machines, i);
    xml_writer_start(w, "machine");
    xml_writer_attr(w, "canonical", m->canonical);
    if (m->deprecated)
      xml_writer_attr(w, "deprecated", "yes");
    xml_writer_end_text(w, m->name);
  }
  xml_writer_start(w, "domain");
  xml_writer_attr(w, "type", "qemu");
  xml_writer_end_empty(w);
  /* KVM runs guests of the host's own architecture only. */
  if (facts->kvm && g_strcmp0(hv->arch, facts->arch) == 0) {
    xml_writer_start(w, "domain");
    xml_writer_attr(w, "type", "kvm");
    xml_writer_end_empty(w);
  }
  xml_writer_close(w); /* arch */
  /* Only the features the domain XML parser accepts are announced. */
  xml_writer_start(w, "features");
  xml_writer_end_open(w);
  if (arch_is_x86(hv->arch)) {
    xml_writer_start(w, "acpi");
    xml_writer_attr(w, "default", "on");
    xml_writer_attr(w, "toggle", "yes");
    xml_writer_end_empty(w);
    xml_writer_start(w, "apic");
    xml_writer_attr(w, "default", "on");
    xml_writer_attr(w, "toggle", "no");
    xml_writer_end_empty(w);
  }
  xml_writer_start(w, "cpuselection");
  xml_writer_end_empty(w);
  xml_writer_start(w, "deviceboot");
  xml_writer_end_empty(w);
  xml_writer_close(w); /* features */
  xml_writer_close(w); /* guest */
}

char *node_caps_format(const NodeFacts *facts, const NodeHypervisor *hv) {
  g_autoptr(XmlWriter) w = xml_writer_new();
  xml_writer_start(w, "capabilities");
  xml_writer_end_open(w);
  format_host(w, facts);
  if (hv)
    format_guest(w, facts, hv);
  xml_writer_close(w);
  return xml_writer_finish(g_steal_pointer(&w));
}
