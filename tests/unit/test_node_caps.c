/* test_node_caps.c — the pure half of node/: /proc parsers (samples in
 * tests/data/node/ taken from real hosts, plus a hand-written two-socket
 * hyper-threaded one), host UUIDs, and the info and capabilities.xml
 * formatters against golden files. VIRTFS_REGENERATE=1 rewrites goldens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "objects/node_caps.h"
#include "objects/xml_util.h"

static char *data_path(const char *file) {
  const char *root = g_getenv("VIRTFS_TEST_DATA");
  return g_build_filename(root ? root : "tests/data", "node", file, NULL);
}

static char *load(const char *file) {
  g_autofree char *path = data_path(file);
  char *text = NULL;
  assert_true(g_file_get_contents(path, &text, NULL, NULL));
  return text;
}

/* Compares text with a golden file (rewriting it under VIRTFS_REGENERATE). */
static void assert_golden(const char *file, const char *text) {
  g_autofree char *path = data_path(file);
  if (g_getenv("VIRTFS_REGENERATE"))
    assert_true(g_file_set_contents(path, text, -1, NULL));
  g_autofree char *expected = load(file);
  if (strcmp(expected, text) != 0)
    fail_msg("%s differs from the golden:\n%s", file, text);
}

static void test_cpuinfo_amd(void **state) {
  g_autofree char *text = load("cpuinfo-amd-epyc.txt");
  NodeCpu cpu = {0};
  assert_int_equal(node_cpuinfo_parse(text, &cpu), 0);
  assert_int_equal(cpu.count, 2);
  assert_string_equal(cpu.model, "AMD EPYC");
  assert_string_equal(cpu.vendor, "AMD");
  assert_int_equal(cpu.sockets, 1);
  assert_int_equal(cpu.cores, 2);
  assert_int_equal(cpu.threads, 1);
  node_cpu_clear(&cpu);
}

static void test_cpuinfo_intel_two_sockets(void **state) {
  g_autofree char *text = load("cpuinfo-intel-2s-ht.txt");
  NodeCpu cpu = {0};
  assert_int_equal(node_cpuinfo_parse(text, &cpu), 0);
  assert_int_equal(cpu.count, 8);
  assert_string_equal(cpu.model, "Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz");
  assert_string_equal(cpu.vendor, "Intel");
  assert_int_equal(cpu.sockets, 2);
  assert_int_equal(cpu.cores, 2);
  assert_int_equal(cpu.threads, 2);
  node_cpu_clear(&cpu);
}

static void test_cpuinfo_arm(void **state) {
  g_autofree char *text = load("cpuinfo-arm64.txt");
  NodeCpu cpu = {0};
  assert_int_equal(node_cpuinfo_parse(text, &cpu), 0);
  assert_int_equal(cpu.count, 4);
  assert_null(cpu.model);
  assert_null(cpu.vendor);
  assert_int_equal(cpu.sockets, 1);
  assert_int_equal(cpu.cores, 4);
  assert_int_equal(cpu.threads, 1);
  node_cpu_clear(&cpu);
}

static void test_cpuinfo_empty(void **state) {
  NodeCpu cpu = {.count = 42};
  assert_int_equal(node_cpuinfo_parse("", &cpu), -EINVAL);
  assert_int_equal(node_cpuinfo_parse("model name : x\n", &cpu), -EINVAL);
  assert_int_equal(cpu.count, 42); /* untouched on failure */
}

static void test_meminfo(void **state) {
  g_autofree char *text = load("meminfo.txt");
  uint64_t total = 0, avail = 0;
  assert_int_equal(node_meminfo_parse(text, &total, &avail), 0);
  assert_true(total == 24683620);
  assert_true(avail == 21993740);

  g_autofree char *old = load("meminfo-no-available.txt");
  assert_int_equal(node_meminfo_parse(old, &total, &avail), 0);
  assert_true(total == 2048000);
  assert_true(avail == 512000); /* MemFree when MemAvailable is missing */

  total = 7;
  assert_int_equal(node_meminfo_parse("MemFree: 10 kB\n", &total, &avail), -EINVAL);
  assert_int_equal(node_meminfo_parse("MemTotal: 10 MB\n", &total, &avail), -EINVAL);
  assert_int_equal(node_meminfo_parse("MemTotal: lots\n", &total, &avail), -EINVAL);
  assert_true(total == 7);
}

static void test_uuid(void **state) {
  static const struct { const char *in, *out; } good[] = {
    {"3d1219c7c4c5404aaa1f6d2a48adfda4\n", "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4"},
    {"4C4C4544-0051-3610-8052-B4C04F4A4E32", "4c4c4544-0051-3610-8052-b4c04f4a4e32"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
    g_autofree char *uuid = NULL;
    assert_int_equal(node_uuid_normalize(good[i].in, &uuid), 0);
    assert_string_equal(uuid, good[i].out);
  }
  static const char *const bad[] = {
    "", "uninitialized\n", "3d1219c7c4c5404aaa1f6d2a48adfda", "3d1219c7c4c5404aaa1f6d2a48adfda45",
    "00000000-0000-0000-0000-000000000000", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
    "3d1219c7-c4c5-404a-aa1f6d2a48adfda4x", "3d1219c7+c4c5-404a-aa1f-6d2a48adfda4",
    "3d1219c7c4c5404aaa1f6d2a48adfda4 trailing",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    char *uuid = NULL;
    assert_int_equal(node_uuid_normalize(bad[i], &uuid), -EINVAL);
    assert_null(uuid);
  }
}

/* A fixed host: two AMD cores, 8 GiB. */
static NodeFacts *sample_facts(bool kvm) {
  NodeFacts *f = g_new0(NodeFacts, 1);
  f->hostname = g_strdup("host1.example");
  f->arch = g_strdup("x86_64");
  f->uuid = g_strdup("3d1219c7-c4c5-404a-aa1f-6d2a48adfda4");
  f->cpu = (NodeCpu){.model = g_strdup("AMD EPYC"), .vendor = g_strdup("AMD"), .count = 2,
                     .sockets = 1, .cores = 2, .threads = 1};
  f->memory_kib = 8388608;
  f->free_memory_kib = 6291456;
  f->kvm = kvm;
  return f;
}

static NodeMachine *machine(const char *name, const char *canonical, bool is_default,
                            bool deprecated) {
  NodeMachine *m = g_new0(NodeMachine, 1);
  m->name = g_strdup(name);
  m->canonical = g_strdup(canonical);
  m->is_default = is_default;
  m->deprecated = deprecated;
  return m;
}

static NodeHypervisor *sample_hypervisor(const char *arch) {
  NodeHypervisor *hv = g_new0(NodeHypervisor, 1);
  hv->emulator = g_strdup("/usr/bin/qemu-system-x86_64");
  hv->version = g_strdup("7.2.22");
  hv->arch = g_strdup(arch);
  hv->wordsize = 64;
  hv->machines = g_ptr_array_new_with_free_func((GDestroyNotify)node_machine_free);
  g_ptr_array_add(hv->machines, machine("pc", "pc-i440fx-7.2", false, false));
  g_ptr_array_add(hv->machines, machine("pc-i440fx-7.2", NULL, true, false));
  g_ptr_array_add(hv->machines, machine("pc-i440fx-1.7", NULL, false, true));
  g_ptr_array_add(hv->machines, machine("q35", "pc-q35-7.2", false, false));
  g_ptr_array_add(hv->machines, machine("pc-q35-7.2", NULL, false, false));
  return hv;
}

static void test_info(void **state) {
  g_autoptr(NodeFacts) facts = sample_facts(true);
  g_autoptr(NodeHypervisor) hv = sample_hypervisor("x86_64");
  g_autoptr(GString) out = g_string_new(NULL);
  node_info_format(facts, hv, "0.1.0", out);
  assert_string_equal(out->str,
                      "hostname: host1.example\n"
                      "cpus: 2\n"
                      "cpu_model: AMD EPYC\n"
                      "memory_kib: 8388608\n"
                      "free_memory_kib: 6291456\n"
                      "hypervisor: QEMU 7.2.22\n"
                      "virtfs_version: 0.1.0\n"
                      "kvm: 1\n"
                      "architecture: x86_64\n");
}

static void test_info_without_qemu(void **state) {
  g_autoptr(NodeFacts) facts = sample_facts(false);
  g_clear_pointer(&facts->cpu.model, g_free);
  g_autoptr(GString) out = g_string_new(NULL);
  node_info_format(facts, NULL, "0.1.0", out);
  assert_non_null(strstr(out->str, "\nhypervisor: none\n"));
  assert_non_null(strstr(out->str, "\ncpu_model: unknown\n"));
  assert_non_null(strstr(out->str, "\nkvm: 0\n"));
}

static void test_info_says_why_no_kvm(void **state) {
  g_autoptr(NodeFacts) facts = sample_facts(false);
  facts->kvm_reason = g_strdup("this host has no /dev/kvm");
  g_autoptr(GString) out = g_string_new(NULL);
  node_info_format(facts, NULL, "0.1.0", out);
  assert_non_null(strstr(out->str, "\nkvm: 0\nkvm_unavailable: this host has no /dev/kvm\n"));
}

/* ---- node_kvm_decide: every branch, whatever this host has ---- */

static const char cpuinfo_vmx[] =
    "processor\t: 0\nvendor_id\t: GenuineIntel\n"
    "flags\t\t: fpu vme de pse tsc msr pae mce vmx ept\n\n";
static const char cpuinfo_svm[] =
    "processor\t: 0\nvendor_id\t: AuthenticAMD\n"
    "flags\t\t: fpu svm npt\n\n";
/* A guest of a nested cloud: a hypervisor flag, no vmx or svm (and a flag
 * that merely contains the letters, which must not count). */
static const char cpuinfo_pvm[] =
    "processor\t: 0\nvendor_id\t: GenuineIntel\n"
    "flags\t\t: fpu vme hypervisor vmxx svm_lock\n\n"
    "processor\t: 1\nvendor_id\t: GenuineIntel\n"
    "flags\t\t: fpu vme hypervisor\n\n";
/* No flags lines at all, as on arm64: open and create decide alone. */
static const char cpuinfo_arm[] = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd\n";

static void assert_kvm(const NodeKvmProbe *probe, bool usable, const char *reason_part) {
  char *reason = NULL;
  assert_int_equal(node_kvm_decide(probe, &reason), usable);
  if (usable) {
    assert_null(reason);
  } else {
    assert_non_null(reason);
    if (!strstr(reason, reason_part))
      fail_msg("reason '%s' lacks '%s'", reason, reason_part);
    g_free(reason);
  }
}

static void test_kvm_decide(void **state) {
  assert_kvm(&(NodeKvmProbe){.cpuinfo = cpuinfo_vmx}, true, NULL);
  assert_kvm(&(NodeKvmProbe){.cpuinfo = cpuinfo_svm}, true, NULL);
  assert_kvm(&(NodeKvmProbe){.cpuinfo = cpuinfo_arm}, true, NULL);
  /* cpuinfo unreadable: no evidence against KVM that works */
  assert_kvm(&(NodeKvmProbe){.cpuinfo = NULL}, true, NULL);

  assert_kvm(&(NodeKvmProbe){.open_errno = ENOENT, .cpuinfo = cpuinfo_vmx}, false,
             "no /dev/kvm");
  assert_kvm(&(NodeKvmProbe){.open_errno = EACCES, .cpuinfo = cpuinfo_vmx}, false,
             "cannot be opened read-write: Permission denied");
  assert_kvm(&(NodeKvmProbe){.create_vm_errno = EINVAL, .cpuinfo = cpuinfo_vmx}, false,
             "refuses to create a VM: Invalid argument");
  assert_kvm(&(NodeKvmProbe){.cpuinfo = cpuinfo_pvm, .pvm_module = true}, false,
             "a paravirtual KVM (kvm_pvm) without hardware virtualization");
  assert_kvm(&(NodeKvmProbe){.cpuinfo = cpuinfo_pvm}, false, "no vmx or svm flag");
  /* a NULL ret_reason is allowed */
  assert_false(node_kvm_decide(&(NodeKvmProbe){.open_errno = ENOENT}, NULL));
}

/* The formatter's output must be well-formed: parse it back. */
static void assert_well_formed(const char *xml) {
  g_autoptr(xmlDoc) doc = NULL;
  g_autofree char *error = NULL;
  if (xml_parse_safe(xml, strlen(xml), "capabilities", &doc, &error) < 0)
    fail_msg("not well-formed: %s", error);
}

static void test_caps_kvm(void **state) {
  g_autoptr(NodeFacts) facts = sample_facts(true);
  g_autoptr(NodeHypervisor) hv = sample_hypervisor("x86_64");
  g_autofree char *xml = node_caps_format(facts, hv);
  assert_well_formed(xml);
  assert_golden("capabilities-kvm.xml", xml);
}

static void test_caps_tcg_only(void **state) {
  g_autoptr(NodeFacts) facts = sample_facts(false);
  g_autoptr(NodeHypervisor) hv = sample_hypervisor("x86_64");
  g_autofree char *xml = node_caps_format(facts, hv);
  assert_non_null(strstr(xml, "<domain type='qemu'/>"));
  assert_null(strstr(xml, "<domain type='kvm'/>"));
}

static void test_caps_foreign_arch_has_no_kvm(void **state) {
  g_autoptr(NodeFacts) facts = sample_facts(true);
  g_autoptr(NodeHypervisor) hv = sample_hypervisor("aarch64");
  g_autofree char *xml = node_caps_format(facts, hv);
  assert_non_null(strstr(xml, "<arch name='aarch64'>"));
  assert_null(strstr(xml, "<domain type='kvm'/>"));
  assert_null(strstr(xml, "<acpi")); /* x86 features only on x86 */
}

static void test_caps_without_qemu(void **state) {
  g_autoptr(NodeFacts) facts = sample_facts(false);
  g_clear_pointer(&facts->uuid, g_free);
  g_free(facts->cpu.model);
  facts->cpu.model = g_strdup("Fancy <CPU> & co");
  g_autofree char *xml = node_caps_format(facts, NULL);
  assert_well_formed(xml);
  assert_golden("capabilities-no-guest.xml", xml);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cpuinfo_amd),
    cmocka_unit_test(test_cpuinfo_intel_two_sockets),
    cmocka_unit_test(test_cpuinfo_arm),
    cmocka_unit_test(test_cpuinfo_empty),
    cmocka_unit_test(test_meminfo),
    cmocka_unit_test(test_uuid),
    cmocka_unit_test(test_info),
    cmocka_unit_test(test_info_without_qemu),
    cmocka_unit_test(test_info_says_why_no_kvm),
    cmocka_unit_test(test_kvm_decide),
    cmocka_unit_test(test_caps_kvm),
    cmocka_unit_test(test_caps_tcg_only),
    cmocka_unit_test(test_caps_foreign_arch_has_no_kvm),
    cmocka_unit_test(test_caps_without_qemu),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
