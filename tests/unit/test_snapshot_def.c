/* test_snapshot_def.c — the pure parts of snapshots and saved state: the
 * <domainsnapshot> record, qemu-img's snapshot list, QMP job and migration
 * replies and builders, and the restore compatibility check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "drivers/qemu/qemu_save.h"
#include "drivers/qemu/qemu_snapshot.h"
#include "drivers/qemu/qmp_codec.h"
#include "objects/domain_def.h"
#include "objects/snapshot_def.h"

static const char *const DOMAIN_XML =
    "<domain type='qemu'><name>web</name><uuid>4c6d1f3a-0000-4000-8000-000000000001</uuid>"
    "<memory unit='MiB'>256</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm"
    "</type></os><devices><disk type='file' device='disk' snapshot='no'><driver name='qemu' "
    "type='raw'/><source file='/img/a,b.raw'/><target dev='vdb' bus='virtio'/></disk>"
    "</devices></domain>";

static DomainDef *domain(const char *xml) {
  DomainDef *def = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(domain_def_parse(xml, strlen(xml), &def, &error), 0);
  return def;
}

static void test_record_round_trip(void **state) {
  g_autoptr(DomainDef) dom = domain(DOMAIN_XML);
  assert_true(((DomainDisk *)dom->disks->pdata[0])->snapshot_excluded);
  g_autoptr(SnapshotDef) s = snapshot_def_new("before <upgrade> & co");
  s->parent = g_strdup("base");
  s->created = 1764690000;
  s->state = SNAPSHOT_STATE_PAUSED;
  s->memory = true;
  s->memory_size = 12345;
  snapshot_def_add_disk(s, "vda", true);
  snapshot_def_add_disk(s, "vdb", false);
  s->domain_xml = domain_def_format(dom, false, -1);
  g_autofree char *xml = snapshot_def_format(s);
  assert_non_null(strstr(xml, "snapshot='no'"));
  g_autoptr(SnapshotDef) back = NULL;
  g_autofree char *error = NULL;
  int pr = snapshot_def_parse(xml, strlen(xml), &back, &error);
  if (pr < 0)
    fprintf(stderr, "%s\n%s\n", error, xml);
  assert_int_equal(pr, 0);
  assert_string_equal(back->name, s->name);
  assert_string_equal(back->parent, "base");
  assert_int_equal(back->created, 1764690000);
  assert_int_equal(back->state, SNAPSHOT_STATE_PAUSED);
  assert_true(back->memory);
  assert_int_equal(back->memory_size, 12345);
  assert_int_equal(back->disks->len, 2);
  assert_false(((SnapshotDisk *)back->disks->pdata[1])->included);
  assert_string_equal(back->domain_xml, s->domain_xml);
  g_autofree char *again = snapshot_def_format(back);
  assert_string_equal(again, xml);
}

static void test_record_rejects(void **state) {
  static const char *const bad[] = {
    "<domainsnapshot/>",
    "<domainsnapshot><name>a</name><state>asleep</state></domainsnapshot>",
    "<domainsnapshot><name>a</name><memory snapshot='external'/></domainsnapshot>",
    "<domainsnapshot><name>a</name><creationTime>-4</creationTime></domainsnapshot>",
    "<domainsnapshot><name>a</name><disks><disk snapshot='no'/></disks></domainsnapshot>",
    "<domainsnapshot><name>a</name><unknown/></domainsnapshot>",
    "<snapshot><name>a</name></snapshot>",
    "<!DOCTYPE x [<!ENTITY e 'x'>]><domainsnapshot><name>&e;</name></domainsnapshot>",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    SnapshotDef *s = NULL;
    g_autofree char *error = NULL;
    assert_int_not_equal(snapshot_def_parse(bad[i], strlen(bad[i]), &s, &error), 0);
    assert_null(s);
    assert_non_null(error);
  }
}

static void test_disk_snapshot_attribute(void **state) {
  const char *xml = "<domain type='qemu'><name>x</name><memory>65536</memory><os><type>hvm"
                    "</type></os><devices><disk type='file' snapshot='maybe'><source "
                    "file='/a'/><target dev='vda'/></disk></devices></domain>";
  DomainDef *def = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(domain_def_parse(xml, strlen(xml), &def, &error), -EINVAL);
  assert_non_null(strstr(error, "snapshot"));
}

static void test_qemu_img_list(void **state) {
  const char *json = "{\"format\": \"qcow2\", \"virtual-size\": 1024, \"snapshots\": ["
                     "{\"id\": \"1\", \"name\": \"s1\", \"vm-state-size\": 0, \"date-sec\": 10,"
                     " \"date-nsec\": 0, \"vm-clock-sec\": 0, \"vm-clock-nsec\": 0},"
                     "{\"id\": \"2\", \"name\": \"s2\", \"vm-state-size\": 999, \"date-sec\": 20}"
                     "]}";
  g_autoptr(GPtrArray) list = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(qemu_img_snapshots_parse(json, strlen(json), &list, &error), 0);
  g_ptr_array_set_free_func(list, g_free);
  assert_int_equal(list->len, 2);
  QemuImgSnapshot *s2 = list->pdata[1];
  assert_string_equal(s2->name, "s2");
  assert_int_equal(s2->vm_state_size, 999);
  assert_int_equal(s2->date_sec, 20);
  g_autoptr(GPtrArray) none = NULL;
  const char *plain = "{\"format\": \"qcow2\", \"virtual-size\": 1}";
  assert_int_equal(qemu_img_snapshots_parse(plain, strlen(plain), &none, &error), 0);
  assert_int_equal(none->len, 0);
  GPtrArray *bad = NULL;
  g_clear_pointer(&error, g_free);
  assert_int_equal(qemu_img_snapshots_parse("[1]", 3, &bad, &error), -EPROTO);
}

static JsonNode *json(const char *text) {
  g_autoptr(JsonParser) p = json_parser_new();
  assert_true(json_parser_load_from_data(p, text, -1, NULL));
  return json_node_copy(json_parser_get_root(p));
}

static void test_qmp_jobs(void **state) {
  const char *const devices[] = {"disk0-format", "disk2-format", NULL};
  JsonNode *args = NULL;
  assert_int_equal(qmp_args_snapshot_job("j", "t", "disk0-format", devices, &args), 0);
  g_autofree char *text = json_to_string(args, FALSE);
  assert_string_equal(text, "{\"job-id\":\"j\",\"tag\":\"t\",\"vmstate\":\"disk0-format\","
                            "\"devices\":[\"disk0-format\",\"disk2-format\"]}");
  json_node_unref(args);
  const char *const empty[] = {NULL};
  assert_int_equal(qmp_args_snapshot_job("j", "t", NULL, empty, &args), -EINVAL);

  g_autoptr(JsonNode) jobs = json("[{\"id\": \"other\", \"type\": \"x\", \"status\": \"running\","
                                  " \"current-progress\": 1, \"total-progress\": 2},"
                                  "{\"id\": \"j\", \"type\": \"snapshot-save\", \"status\": "
                                  "\"concluded\", \"current-progress\": 1, \"total-progress\": 1,"
                                  " \"error\": \"Device 'x' is writable but does not support "
                                  "snapshots\"}]");
  g_auto(QmpProgress) p = {0};
  assert_int_equal(qmp_reply_parse_job(jobs, "j", &p), 0);
  assert_string_equal(p.status, "concluded");
  assert_non_null(strstr(p.error, "does not support"));
  g_auto(QmpProgress) q = {0};
  assert_int_equal(qmp_reply_parse_job(jobs, "nope", &q), -ENOENT);

  g_autoptr(JsonNode) mig = json("{\"status\": \"active\", \"ram\": {\"transferred\": 5, "
                                 "\"total\": 9, \"remaining\": 4}}");
  g_auto(QmpProgress) m = {0};
  assert_int_equal(qmp_reply_parse_migrate(mig, &m), 0);
  assert_string_equal(m.status, "active");
  assert_int_equal(m.done, 5);
  assert_int_equal(m.total, 9);
  g_autoptr(JsonNode) idle = json("{}");
  g_auto(QmpProgress) i = {0};
  assert_int_equal(qmp_reply_parse_migrate(idle, &i), 0);
  assert_string_equal(i.status, "none");
}

static void test_restore_compatibility(void **state) {
  g_autoptr(DomainDef) saved = domain(DOMAIN_XML);
  g_autoptr(DomainDef) same = domain(DOMAIN_XML);
  g_autofree char *error = NULL;
  assert_int_equal(qemu_save_check_compatible(saved, same, &error), 0);
  same->memory_kib *= 2;
  assert_int_equal(qemu_save_check_compatible(saved, same, &error), -EINVAL);
  assert_non_null(strstr(error, "<memory>"));
  assert_non_null(strstr(error, "discard-saved"));
  g_clear_pointer(&error, g_free);
  g_autoptr(DomainDef) moved = domain(DOMAIN_XML);
  DomainDisk *d = moved->disks->pdata[0];
  g_free(d->target_dev);
  d->target_dev = g_strdup("vdc");
  assert_int_equal(qemu_save_check_compatible(saved, moved, &error), -EINVAL);
  assert_non_null(strstr(error, "vdc"));
  g_clear_pointer(&error, g_free);
  /* another image behind the same disk is the user's business */
  g_autoptr(DomainDef) swapped = domain(DOMAIN_XML);
  d = swapped->disks->pdata[0];
  g_free(d->source);
  d->source = g_strdup("/img/other.raw");
  assert_int_equal(qemu_save_check_compatible(saved, swapped, &error), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_record_round_trip),
    cmocka_unit_test(test_record_rejects),
    cmocka_unit_test(test_disk_snapshot_attribute),
    cmocka_unit_test(test_qemu_img_list),
    cmocka_unit_test(test_qmp_jobs),
    cmocka_unit_test(test_restore_compatibility),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
