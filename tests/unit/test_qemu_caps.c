/* test_qemu_caps.c — parsing what QEMU says about itself (the samples in
 * tests/data/node/ are the real output of QEMU 7.2), the architecture of a
 * binary's name, and the capabilities.xml built from that real machine list
 * (golden). QEMU itself is never run here: the integration test test_node
 * reads node/ from a mounted daemon. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "drivers/qemu/qemu_caps.h"

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

static void test_version(void **state) {
  g_autofree char *text = load("qemu-7.2-version.txt");
  g_autofree char *version = NULL, *error = NULL;
  assert_int_equal(qemu_caps_parse_version(text, &version, &error), 0);
  assert_string_equal(version, "7.2.22");

  g_autofree char *v2 = NULL;
  assert_int_equal(qemu_caps_parse_version("QEMU emulator version 9.1.0\n", &v2, &error), 0);
  assert_string_equal(v2, "9.1.0");

  static const char *const bad[] = {
    "", "qemu-kvm 1.0\n", "QEMU emulator version \n", "QEMU emulator version v8\n",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    char *v = NULL;
    g_autofree char *err = NULL;
    assert_int_equal(qemu_caps_parse_version(bad[i], &v, &err), -EINVAL);
    assert_null(v);
    assert_non_null(err);
  }
}

static const NodeMachine *find(GPtrArray *machines, const char *name) {
  for (guint i = 0; i < machines->len; i++) {
    const NodeMachine *m = g_ptr_array_index(machines, i);
    if (strcmp(m->name, name) == 0)
      return m;
  }
  fail_msg("machine %s not found", name);
  return NULL;
}

static void test_machines(void **state) {
  g_autofree char *text = load("qemu-7.2-machine-help.txt");
  g_autoptr(GPtrArray) machines = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(qemu_caps_parse_machines(text, &machines, &error), 0);
  assert_int_equal(machines->len, 61);
  const NodeMachine *first = g_ptr_array_index(machines, 0);
  assert_string_equal(first->name, "microvm");
  assert_null(first->canonical);
  const NodeMachine *last = g_ptr_array_index(machines, machines->len - 1);
  assert_string_equal(last->name, "x-remote");

  const NodeMachine *pc = find(machines, "pc");
  assert_string_equal(pc->canonical, "pc-i440fx-7.2");
  assert_false(pc->is_default);
  const NodeMachine *q35 = find(machines, "q35");
  assert_string_equal(q35->canonical, "pc-q35-7.2");
  const NodeMachine *def = find(machines, "pc-i440fx-7.2");
  assert_true(def->is_default);
  assert_false(def->deprecated);
  assert_null(def->canonical);
  assert_true(find(machines, "pc-i440fx-1.7")->deprecated);
  assert_false(find(machines, "pc-q35-4.0.1")->deprecated);
  unsigned defaults = 0;
  for (guint i = 0; i < machines->len; i++)
    defaults += ((NodeMachine *)g_ptr_array_index(machines, i))->is_default;
  assert_int_equal(defaults, 1);
}

static void test_machines_bad(void **state) {
  static const char *const bad[] = {
    "",
    "pc   Standard PC\n",                                /* no header */
    "Supported machines are:\n",                        /* no machine */
    "Supported machines are:\n\n\n",
    "Supported machines are:\n   indented  Standard PC\n",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    GPtrArray *machines = NULL;
    g_autofree char *error = NULL;
    assert_int_equal(qemu_caps_parse_machines(bad[i], &machines, &error), -EINVAL);
    assert_null(machines);
    assert_non_null(error);
  }
}

static void test_binary_arch(void **state) {
  static const struct { const char *binary, *arch; unsigned wordsize; } good[] = {
    {"qemu-system-x86_64", "x86_64", 64},
    {"/usr/bin/qemu-system-x86_64", "x86_64", 64},
    {"/opt/qemu/bin/qemu-system-i386", "i686", 32},
    {"qemu-system-aarch64", "aarch64", 64},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
    g_autofree char *arch = NULL, *error = NULL;
    unsigned wordsize = 0;
    assert_int_equal(qemu_caps_binary_arch(good[i].binary, &arch, &wordsize, &error), 0);
    assert_string_equal(arch, good[i].arch);
    assert_int_equal(wordsize, good[i].wordsize);
  }
  static const char *const bad[] = {"qemu-kvm", "/usr/bin/qemu-system-mips", "qemu-system-"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    char *arch = NULL;
    g_autofree char *error = NULL;
    unsigned wordsize = 0;
    assert_int_equal(qemu_caps_binary_arch(bad[i], &arch, &wordsize, &error), -EINVAL);
    assert_null(arch);
    assert_non_null(error);
  }
}

static void test_probe_missing_binary(void **state) {
  NodeHypervisor *hv = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(qemu_caps_probe("/nonexistent/qemu-system-x86_64", &hv, &error), -ENOENT);
  assert_null(hv);
  assert_non_null(strstr(error, "not installed"));
  g_autofree char *error2 = NULL;
  assert_int_equal(qemu_caps_probe("qemu-kvm", &hv, &error2), -EINVAL);
}

/* The capabilities of a TCG-only host with QEMU 7.2's real machine list. */
static void test_capabilities_golden(void **state) {
  g_autofree char *text = load("qemu-7.2-machine-help.txt");
  g_autoptr(NodeHypervisor) hv = g_new0(NodeHypervisor, 1);
  g_autofree char *error = NULL;
  assert_int_equal(qemu_caps_parse_machines(text, &hv->machines, &error), 0);
  assert_int_equal(qemu_caps_binary_arch("qemu-system-x86_64", &hv->arch, &hv->wordsize,
                                         &error), 0);
  hv->emulator = g_strdup("/usr/bin/qemu-system-x86_64");
  hv->version = g_strdup("7.2.22");

  g_autofree char *cpuinfo = load("cpuinfo-amd-epyc.txt");
  g_autoptr(NodeFacts) facts = g_new0(NodeFacts, 1);
  assert_int_equal(node_cpuinfo_parse(cpuinfo, &facts->cpu), 0);
  facts->arch = g_strdup("x86_64");
  facts->hostname = g_strdup("host1");
  facts->uuid = g_strdup("3d1219c7-c4c5-404a-aa1f-6d2a48adfda4");
  facts->kvm = false;
  g_autofree char *xml = node_caps_format(facts, hv);

  g_autofree char *path = data_path("capabilities-qemu-7.2-tcg.xml");
  if (g_getenv("VIRTFS_REGENERATE"))
    assert_true(g_file_set_contents(path, xml, -1, NULL));
  g_autofree char *expected = load("capabilities-qemu-7.2-tcg.xml");
  if (strcmp(expected, xml) != 0)
    fail_msg("differs from the golden:\n%s", xml);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_version),
    cmocka_unit_test(test_machines),
    cmocka_unit_test(test_machines_bad),
    cmocka_unit_test(test_binary_arch),
    cmocka_unit_test(test_probe_missing_binary),
    cmocka_unit_test(test_capabilities_golden),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
