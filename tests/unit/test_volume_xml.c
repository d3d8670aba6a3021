/* test_volume_xml.c — storage volume XML: golden round trips and rejects
 * from tests/data/volumes, resolution against dir and logical pools. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "objects/pool_def.h"
#include "objects/volume_def.h"
#include "tests/unit/golden.h"

static unsigned failures;
static PoolDef *dir_pool, *lvm_pool;

static void report(const char *file, const char *msg) {
  print_error("%s: %s\n", file, msg);
  failures++;
}

/* The file name picks the pool: logical-* a logical pool on VG vg0,
 * nopool-* none, anything else a dir pool on /var/lib/virtfs/images. */
static int round_trip(const char *file, const char *xml, size_t len, char **ret_text,
                      char **ret_error) {
  const PoolDef *pool = dir_pool;
  if (strstr(file, "logical-"))
    pool = lvm_pool;
  else if (strstr(file, "nopool-"))
    pool = NULL;
  g_autoptr(VolumeDef) def = NULL;
  int r = volume_def_parse(xml, len, pool, &def, ret_error);
  if (r < 0)
    return r;
  *ret_text = volume_def_format(def);
  return 0;
}

static int setup(void **state) {
  static const char lxml[] = "<pool type='logical'><name>vg0</name></pool>";
  g_autofree char *err = NULL;
  dir_pool = pool_def_new_default("/var/lib/virtfs/images");
  return pool_def_parse(lxml, strlen(lxml), &lvm_pool, &err);
}

static int teardown(void **state) {
  g_clear_pointer(&dir_pool, pool_def_free);
  g_clear_pointer(&lvm_pool, pool_def_free);
  return 0;
}

static void test_goldens(void **state) {
  failures = 0;
  unsigned n = golden_run("volumes", round_trip, report);
  assert_true(n >= 8);
  assert_int_equal(failures, 0);
}

static void test_resolve(void **state) {
  g_autoptr(VolumeDef) def = volume_def_new("disk.img");
  g_autofree char *err = NULL;
  assert_int_equal(volume_def_resolve(def, dir_pool, &err), 0);
  assert_string_equal(def->target_path, "/var/lib/virtfs/images/disk.img");
  assert_string_equal(def->key, def->target_path);
  assert_int_equal(def->type, VOLUME_TYPE_FILE);
  /* the same def resolved against a logical pool disagrees on the type */
  g_autofree char *err2 = NULL;
  g_autoptr(VolumeDef) lv = volume_def_new("root");
  lv->type = VOLUME_TYPE_BLOCK;
  assert_int_equal(volume_def_resolve(lv, lvm_pool, &err2), 0);
  assert_string_equal(lv->target_path, "/dev/vg0/root");
  g_autofree char *err3 = NULL;
  assert_int_equal(volume_def_resolve(def, lvm_pool, &err3), -EINVAL);
  assert_non_null(err3);
  g_autoptr(VolumeDef) copy = volume_def_copy(lv);
  g_autofree char *a = volume_def_format(lv), *b = volume_def_format(copy);
  assert_string_equal(a, b);
}

static void test_units(void **state) {
  static const char xml[] =
      "<volume><name>v</name><capacity unit='GiB'>2</capacity>"
      "<allocation unit='M'>1</allocation></volume>";
  g_autoptr(VolumeDef) def = NULL;
  g_autofree char *err = NULL;
  assert_int_equal(volume_def_parse(xml, strlen(xml), dir_pool, &def, &err), 0);
  assert_true(def->capacity == 2ULL << 30);
  assert_true(def->allocation == 1ULL << 20);
  assert_true(def->capacity_set && def->allocation_set);
  assert_int_equal(def->format, VOLUME_FORMAT_RAW);
  assert_int_equal(def->perms.mode, 0600);
}

static void test_name_too_long(void **state) {
  g_autofree char *name = g_strnfill(65, 'v');
  g_autofree char *xml = g_strdup_printf("<volume><name>%s</name><capacity>1</capacity></volume>", name);
  g_autoptr(VolumeDef) def = NULL;
  g_autofree char *err = NULL;
  assert_int_equal(volume_def_parse(xml, strlen(xml), dir_pool, &def, &err), -ENAMETOOLONG);
  assert_non_null(strstr(err, "line 1: <name>"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_goldens),
    cmocka_unit_test(test_resolve),
    cmocka_unit_test(test_units),
    cmocka_unit_test(test_name_too_long),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
