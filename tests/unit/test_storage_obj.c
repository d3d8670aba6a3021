/* test_storage_obj.c — the ObjTypes of pools and volumes: what the registry
 * and the store do with their definitions (parse, format without live
 * sizes, copy, rename, UUIDs), and that the stored form of a pool is a
 * fixed point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "objects/pool_obj.h"
#include "objects/volume_obj.h"

static const char pool_xml[] =
  "<pool type='dir'>\n"
  "  <name>fast</name>\n"
  "  <uuid>4c6d1f3a-1111-4222-8333-944455556666</uuid>\n"
  "  <capacity unit='bytes'>1000</capacity>\n"
  "  <target><path>/srv/images/</path></target>\n"
  "</pool>\n";

static void test_pool_type(void **state) {
  const ObjType *t = &pool_obj_type;
  assert_int_equal(t->kind, OBJ_POOL);
  assert_true(t->stored);
  assert_string_equal(t->dir_name, "pools");
  void *def = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(t->parse(pool_xml, strlen(pool_xml), &def, &error), 0);
  assert_string_equal(t->get_name(def), "fast");
  assert_string_equal(t->get_uuid(def), "4c6d1f3a-1111-4222-8333-944455556666");
  g_autofree char *xml = t->format(def);
  /* live sizes are never part of what is stored */
  assert_null(strstr(xml, "capacity"));
  assert_non_null(strstr(xml, "<path>/srv/images</path>"));
  /* the stored form parses back to itself */
  void *again = NULL;
  assert_int_equal(t->parse(xml, strlen(xml), &again, &error), 0);
  g_autofree char *xml2 = t->format(again);
  assert_string_equal(xml, xml2);
  void *copy = t->copy(def);
  t->set_name(copy, "slow");
  assert_string_equal(t->get_name(copy), "slow");
  assert_string_equal(t->get_name(def), "fast");
  assert_string_equal(t->get_uuid(copy), t->get_uuid(def));
  t->free(copy);
  t->free(again);
  t->free(def);
}

static void test_pool_type_rejects(void **state) {
  void *def = NULL;
  g_autofree char *error = NULL;
  const char bad[] = "<pool type='iscsi'><name>x</name></pool>";
  assert_int_equal(pool_obj_type.parse(bad, strlen(bad), &def, &error), -EINVAL);
  assert_null(def);
  assert_non_null(error);
}

static void test_default_pool(void **state) {
  g_autoptr(PoolDef) def = pool_def_new_default("/var/lib/virtfs//images/");
  g_autofree char *xml = pool_obj_type.format(def);
  assert_non_null(strstr(xml, "<pool type='dir'>"));
  assert_non_null(strstr(xml, "<name>default</name>"));
  assert_non_null(strstr(xml, "<path>/var/lib/virtfs/images</path>"));
  assert_non_null(strstr(xml, "<mode>0711</mode>"));
}

static void test_volume_type(void **state) {
  const ObjType *t = &volume_obj_type;
  assert_int_equal(t->kind, OBJ_VOLUME);
  assert_false(t->stored);
  assert_null(t->get_uuid);
  const char xml[] = "<volume><name>vm1.qcow2</name><capacity unit='G'>10</capacity>"
                     "<target><format type='qcow2'/></target></volume>";
  void *def = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(t->parse(xml, strlen(xml), &def, &error), 0);
  assert_string_equal(t->get_name(def), "vm1.qcow2");
  const VolumeDef *v = def;
  assert_int_equal(v->format, VOLUME_FORMAT_QCOW2);
  assert_true(v->capacity == 10ULL << 30);
  void *copy = t->copy(def);
  t->set_name(copy, "vm2.qcow2");
  assert_string_equal(t->get_name(copy), "vm2.qcow2");
  g_autofree char *out = t->format(copy);
  assert_non_null(strstr(out, "<name>vm2.qcow2</name>"));
  assert_non_null(strstr(out, "<capacity unit='bytes'>10737418240</capacity>"));
  t->free(copy);
  t->free(def);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_pool_type),
    cmocka_unit_test(test_pool_type_rejects),
    cmocka_unit_test(test_default_pool),
    cmocka_unit_test(test_volume_type),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
