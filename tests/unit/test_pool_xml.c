/* test_pool_xml.c — storage pool XML: golden round trips and rejects from
 * tests/data/pools, defaults, live sizes, names and paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "objects/pool_def.h"
#include "tests/unit/golden.h"

static unsigned failures;

static void report(const char *file, const char *msg) {
  print_error("%s: %s\n", file, msg);
  failures++;
}

static int round_trip(const char *file, const char *xml, size_t len, char **ret_text,
                      char **ret_error) {
  g_autoptr(PoolDef) def = NULL;
  int r = pool_def_parse(xml, len, &def, ret_error);
  if (r < 0)
    return r;
  /* "-sizes" goldens show the live figures as pool-dumpxml does. */
  PoolSizes sizes = {.capacity = 1000, .allocation = 400, .available = 600};
  *ret_text = pool_def_format(def, strstr(file, "-sizes") ? &sizes : NULL);
  return 0;
}

static void test_goldens(void **state) {
  failures = 0;
  unsigned n = golden_run("pools", round_trip, report);
  assert_true(n >= 8);
  assert_int_equal(failures, 0);
}

static void test_default(void **state) {
  g_autoptr(PoolDef) def = pool_def_new_default("/var/lib/virtfs//images/");
  assert_string_equal(def->name, "default");
  assert_string_equal(def->target_path, "/var/lib/virtfs/images");
  assert_int_equal(def->type, POOL_TYPE_DIR);
  assert_int_equal(strlen(def->uuid), 36);
  g_autofree char *xml = pool_def_format(def, NULL);
  g_autoptr(PoolDef) again = NULL;
  g_autofree char *err = NULL;
  assert_int_equal(pool_def_parse(xml, strlen(xml), &again, &err), 0);
  g_autofree char *xml2 = pool_def_format(again, NULL);
  assert_string_equal(xml, xml2);
  assert_non_null(strstr(xml, "<mode>0711</mode>"));
  g_autoptr(PoolDef) copy = pool_def_copy(def);
  g_autofree char *xml3 = pool_def_format(copy, NULL);
  assert_string_equal(xml, xml3);
}

static void test_uuid_generated(void **state) {
  static const char xml[] = "<pool type='dir'><name>p</name><target><path>/srv/p</path></target></pool>";
  g_autoptr(PoolDef) a = NULL, b = NULL;
  g_autofree char *err = NULL;
  assert_int_equal(pool_def_parse(xml, strlen(xml), &a, &err), 0);
  assert_int_equal(pool_def_parse(xml, strlen(xml), &b, &err), 0);
  assert_int_equal(strlen(a->uuid), 36);
  assert_string_not_equal(a->uuid, b->uuid);
}

static void test_volume_path_and_names(void **state) {
  g_autoptr(PoolDef) dir = pool_def_new_default("/srv/images");
  g_autofree char *p = pool_volume_path(dir, "a.qcow2");
  assert_string_equal(p, "/srv/images/a.qcow2");
  static const char lxml[] = "<pool type='logical'><name>vg0</name></pool>";
  g_autoptr(PoolDef) lvm = NULL;
  g_autofree char *err = NULL;
  assert_int_equal(pool_def_parse(lxml, strlen(lxml), &lvm, &err), 0);
  g_autofree char *lp = pool_volume_path(lvm, "root");
  assert_string_equal(lp, "/dev/vg0/root");
  assert_int_equal(pool_volume_name_validate(dir, "disk one.img", NULL), 0);
  assert_int_equal(pool_volume_name_validate(lvm, "disk one", NULL), -EINVAL);
  assert_int_equal(pool_volume_name_validate(lvm, "-x", NULL), -EINVAL);
  assert_int_equal(pool_volume_name_validate(lvm, "data_tmeta", NULL), -EINVAL);
  assert_int_equal(pool_volume_name_validate(lvm, "snapshot1", NULL), -EINVAL);
  assert_int_equal(pool_volume_name_validate(lvm, "root-1.2_x+", NULL), 0);
  assert_int_equal(pool_volume_name_validate(dir, "../etc", NULL), -EINVAL);
  assert_int_equal(pool_volume_name_validate(dir, "a/b", NULL), -EINVAL);
}

static void test_path_normalize(void **state) {
  g_autofree char *a = NULL, *b = NULL, *c = NULL;
  assert_int_equal(pool_path_normalize("//srv///x/", &a), 0);
  assert_string_equal(a, "/srv/x");
  assert_int_equal(pool_path_normalize("/", &b), 0);
  assert_string_equal(b, "/");
  assert_int_equal(pool_path_normalize("srv", &c), -EINVAL);
  assert_int_equal(pool_path_normalize("/srv/../etc", &c), -EINVAL);
  assert_int_equal(pool_path_normalize("/srv/./x", &c), -EINVAL);
  assert_int_equal(pool_path_normalize("/srv/\nx", &c), -EINVAL);
  assert_null(c);
}

static void test_enums(void **state) {
  PoolType t;
  assert_int_equal(pool_type_from_string("logical", &t), 0);
  assert_int_equal(t, POOL_TYPE_LOGICAL);
  assert_int_equal(pool_type_from_string("iscsi", &t), -EINVAL);
  assert_string_equal(pool_format_to_string(POOL_FORMAT_EXT4), "ext4");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_goldens),
    cmocka_unit_test(test_default),
    cmocka_unit_test(test_uuid_generated),
    cmocka_unit_test(test_volume_path_and_names),
    cmocka_unit_test(test_path_normalize),
    cmocka_unit_test(test_enums),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
