/* test_qmp_codec.c — QMP text to messages and back, against lines recorded
 * from QEMU 7.2 (tests/data/qmp/, see README.txt there), hand-written
 * malformed lines, and generated deep and oversized lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "drivers/qemu/qemu_driver.h"
#include "drivers/qemu/qmp_codec.h"

static char *load(const char *name, size_t *ret_len) {
  const char *dir = g_getenv("VIRTFS_TEST_DATA");
  assert_non_null(dir);
  g_autofree char *file = g_strdup_printf("%s.line", name);
  g_autofree char *path = g_build_filename(dir, "qmp", file, NULL);
  char *text = NULL;
  gsize len = 0;
  g_autoptr(GError) err = NULL;
  if (!g_file_get_contents(path, &text, &len, &err))
    fail_msg("%s", err->message);
  *ret_len = len;
  return text;
}

/* Parses a golden file; asserts success. */
static QmpMessage *parse_file(const char *name) {
  size_t len = 0;
  g_autofree char *text = load(name, &len);
  QmpMessage *m = NULL;
  g_autofree char *why = NULL;
  int r = qmp_message_parse(text, len, &m, &why);
  if (r < 0)
    fail_msg("%s: %d %s", name, r, why);
  return m;
}

static int parse_error_of(const char *text, size_t len) {
  QmpMessage *m = (QmpMessage *)(uintptr_t)0x1;
  g_autofree char *why = NULL;
  int r = qmp_message_parse(text, len, &m, &why);
  if (r < 0) {
    assert_true(m == (QmpMessage *)(uintptr_t)0x1); /* untouched on failure */
    assert_non_null(why);
  } else {
    qmp_message_free(m);
  }
  return r;
}

/* ---- building ---- */

static void test_build(void **state) {
  g_autofree char *t1 = NULL, *t2 = NULL, *t3 = NULL, *t4 = NULL, *t5 = NULL;
  assert_int_equal(qmp_command_build(QMP_CMD_CAPABILITIES, NULL, "virtfs-1", &t1), 0);
  assert_string_equal(t1, "{\"execute\":\"qmp_capabilities\",\"id\":\"virtfs-1\"}\r\n");

  g_autoptr(JsonNode) balloon = NULL;
  assert_int_equal(qmp_args_balloon(64ULL << 20, &balloon), 0);
  assert_int_equal(qmp_command_build(QMP_CMD_BALLOON, balloon, "virtfs-2", &t2), 0);
  assert_string_equal(t2, "{\"execute\":\"balloon\",\"arguments\":{\"value\":67108864},"
                          "\"id\":\"virtfs-2\"}\r\n");

  assert_int_equal(qmp_command_build(QMP_CMD_QUERY_STATUS, NULL, NULL, &t3), 0);
  assert_string_equal(t3, "{\"execute\":\"query-status\"}\r\n");

  g_autoptr(JsonNode) hmp = NULL;
  assert_int_equal(qmp_args_human_monitor_command("info \"x\"\n\\", &hmp), 0);
  assert_int_equal(qmp_command_build(QMP_CMD_HUMAN_MONITOR_COMMAND, hmp, "a", &t4), 0);
  assert_string_equal(t4, "{\"execute\":\"human-monitor-command\",\"arguments\":"
                          "{\"command-line\":\"info \\\"x\\\"\\n\\\\\"},\"id\":\"a\"}\r\n");

  g_autoptr(JsonNode) del = NULL;
  assert_int_equal(qmp_args_device_del("cpu1", &del), 0);
  assert_int_equal(qmp_command_build(QMP_CMD_DEVICE_DEL, del, "virtfs-5", &t5), 0);
  assert_string_equal(t5, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"cpu1\"},"
                          "\"id\":\"virtfs-5\"}\r\n");

  /* What we build is valid JSON (-EPROTO: an object, but not a reply). */
  assert_int_equal(parse_error_of(t4, strlen(t4)), -EPROTO);

  char *t = NULL;
  g_autoptr(JsonNode) str = json_node_new(JSON_NODE_VALUE);
  json_node_set_string(str, "x");
  assert_int_equal(qmp_command_build("stop", str, "id", &t), -EINVAL);
  assert_int_equal(qmp_command_build("", NULL, "id", &t), -EINVAL);
  assert_int_equal(qmp_command_build(NULL, NULL, "id", &t), -EINVAL);
  assert_null(t);
}

static void test_args(void **state) {
  JsonNode *n = NULL;
  assert_int_equal(qmp_args_balloon(0, &n), -EINVAL);
  assert_int_equal(qmp_args_balloon((uint64_t)INT64_MAX + 1, &n), -ERANGE);
  assert_int_equal(qmp_args_device_del("", &n), -EINVAL);
  assert_int_equal(qmp_args_device_del(NULL, &n), -EINVAL);
  assert_int_equal(qmp_args_human_monitor_command("", &n), -EINVAL);
  assert_null(n);

  /* device_add of a CPU into the first free slot QEMU listed. */
  g_autoptr(QmpMessage) m = parse_file("return-hotpluggable-cpus-1");
  g_autoptr(GPtrArray) slots = NULL;
  assert_int_equal(qmp_reply_parse_hotpluggable_cpus(m->value, &slots), 0);
  QmpHotpluggableCpu *free_slot = g_ptr_array_index(slots, 2);
  QmpHotpluggableCpu *used_slot = g_ptr_array_index(slots, 3);
  g_autoptr(JsonNode) add = NULL;
  assert_int_equal(qmp_args_device_add_cpu(free_slot, "cpu1", &add), 0);
  g_autofree char *text = NULL;
  assert_int_equal(qmp_command_build(QMP_CMD_DEVICE_ADD, add, "virtfs-9", &text), 0);
  /* The same arguments QEMU accepted in return-device-add-cpu.line. */
  assert_string_equal(text, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":"
                            "\"qemu64-x86_64-cpu\",\"id\":\"cpu1\",\"socket-id\":0,"
                            "\"core-id\":1,\"thread-id\":0},\"id\":\"virtfs-9\"}\r\n");
  assert_int_equal(qmp_args_device_add_cpu(used_slot, "cpu0", &n), -EINVAL);
  assert_int_equal(qmp_args_device_add_cpu(free_slot, "", &n), -EINVAL);
  assert_null(n);
}

/* ---- parsing golden lines ---- */

static void test_greeting(void **state) {
  g_autoptr(QmpMessage) m = parse_file("greeting");
  assert_int_equal(m->kind, QMP_MESSAGE_GREETING);
  assert_int_equal(m->version.major, 7);
  assert_int_equal(m->version.minor, 2);
  assert_int_equal(m->version.micro, 22);
  assert_string_equal(m->package, "Debian 1:7.2+dfsg-7+deb12u18+b3");
  assert_true(m->cap_oob);
  assert_null(m->id);
  assert_null(m->value);
}

static void test_returns(void **state) {
  {
    g_autoptr(QmpMessage) m = parse_file("return-capabilities");
    assert_int_equal(m->kind, QMP_MESSAGE_RETURN);
    assert_string_equal(m->id, "virtfs-return-capabilities");
    assert_true(JSON_NODE_HOLDS_OBJECT(m->value));
    assert_int_equal(json_object_get_size(json_node_get_object(m->value)), 0);
  }
  const struct {
    const char *file;
    bool running;
    const char *status;
  } statuses[] = {
    {"return-status-prelaunch", false, "prelaunch"},
    {"return-status-running", true, "running"},
    {"return-status-paused", false, "paused"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(statuses); i++) {
    g_autoptr(QmpMessage) m = parse_file(statuses[i].file);
    bool running = !statuses[i].running;
    g_autofree char *status = NULL;
    assert_int_equal(qmp_reply_parse_status(m->value, &running, &status), 0);
    assert_int_equal(running, statuses[i].running);
    assert_string_equal(status, statuses[i].status);
  }
  {
    g_autoptr(QmpMessage) m1 = parse_file("return-cpus-fast-1");
    g_autoptr(QmpMessage) m2 = parse_file("return-cpus-fast-2");
    guint n = 0;
    g_autoptr(GArray) tids = NULL;
    assert_int_equal(qmp_reply_parse_cpus_fast(m1->value, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(qmp_reply_parse_cpus_fast(m2->value, &n, &tids), 0);
    assert_int_equal(n, 2);
    assert_int_equal(tids->len, 2);
    assert_true(g_array_index(tids, int64_t, 0) > 0);
    assert_true(g_array_index(tids, int64_t, 1) != g_array_index(tids, int64_t, 0));
  }
  {
    g_autoptr(QmpMessage) m = parse_file("return-hotpluggable-cpus-2");
    g_autoptr(GPtrArray) cpus = NULL;
    assert_int_equal(qmp_reply_parse_hotpluggable_cpus(m->value, &cpus), 0);
    assert_int_equal(cpus->len, 4);
    guint plugged = 0;
    for (guint i = 0; i < cpus->len; i++) {
      QmpHotpluggableCpu *c = g_ptr_array_index(cpus, i);
      assert_string_equal(c->type, "qemu64-x86_64-cpu");
      assert_int_equal(c->vcpus_count, 1);
      assert_int_equal(c->socket_id, 0);
      assert_int_equal(c->core_id, 3 - (int)i);
      assert_int_equal(c->thread_id, 0);
      assert_int_equal(c->node_id, -1);
      assert_int_equal(c->die_id, -1);
      plugged += c->qom_path != NULL;
    }
    assert_int_equal(plugged, 2);
    assert_string_equal(((QmpHotpluggableCpu *)g_ptr_array_index(cpus, 2))->qom_path,
                        "/machine/peripheral/cpu1");
  }
  {
    g_autoptr(QmpMessage) m = parse_file("return-balloon-query");
    uint64_t actual = 0;
    assert_int_equal(qmp_reply_parse_balloon(m->value, &actual), 0);
    assert_true(actual == 128ULL << 20);
  }
  {
    g_autoptr(QmpMessage) m = parse_file("return-blockstats");
    g_autoptr(GPtrArray) stats = NULL;
    assert_int_equal(qmp_reply_parse_blockstats(m->value, &stats), 0);
    assert_int_equal(stats->len, 3);
    QmpBlockStats *a = g_ptr_array_index(stats, 0), *cd = g_ptr_array_index(stats, 1),
                  *b = g_ptr_array_index(stats, 2);
    assert_string_equal(a->device, "drive0");
    assert_string_equal(a->qdev, "/machine/peripheral/vda/virtio-backend");
    g_autofree char *ida = qmp_qdev_id(a->qdev);
    assert_string_equal(ida, "vda");
    assert_true(a->rd_bytes == 0 && a->rd_operations == 0);
    assert_true(a->wr_bytes == 0 && a->wr_operations == 0 && a->flush_operations == 0);
    /* An empty CD drive: no node; QEMU gives the device id itself as qdev. */
    assert_string_equal(cd->device, "cd0");
    assert_null(cd->node_name);
    g_autofree char *idcd = qmp_qdev_id(cd->qdev);
    assert_string_equal(idcd, "cdrom0");
    assert_null(b->device); /* -blockdev: QEMU says "" */
    assert_string_equal(b->node_name, "node1");
    g_autofree char *idb = qmp_qdev_id(b->qdev);
    assert_string_equal(idb, "vdb");
  }
  {
    g_autoptr(QmpMessage) m = parse_file("return-chardev");
    g_autoptr(GHashTable) ptys = NULL;
    assert_int_equal(qmp_reply_parse_chardev_ptys(m->value, &ptys), 0);
    assert_int_equal(g_hash_table_size(ptys), 1);
    assert_string_equal(g_hash_table_lookup(ptys, "serial0"), "/dev/pts/0");
    assert_null(g_hash_table_lookup(ptys, "compat_monitor0"));
  }
  {
    g_autoptr(QmpMessage) m = parse_file("return-hmp-info-version");
    g_autofree char *s = NULL;
    assert_int_equal(qmp_reply_parse_string(m->value, &s), 0);
    assert_true(g_str_has_prefix(s, "7.2.22"));
    assert_true(g_str_has_suffix(s, "\r\n"));
  }
  {
    g_autoptr(QmpMessage) m = parse_file("return-structured-id");
    assert_int_equal(m->kind, QMP_MESSAGE_RETURN);
    assert_string_equal(m->id, "{\"n\":[1,\"two\"]}");
  }
  {
    g_autoptr(QmpMessage) m = parse_file("return-no-id");
    assert_int_equal(m->kind, QMP_MESSAGE_RETURN);
    assert_null(m->id);
    JsonNode *v = qmp_message_steal_value(m);
    assert_non_null(v);
    assert_null(m->value);
    json_node_unref(v);
  }
  /* Every recorded reply parses, and the replies to commands that take no
   * interesting answer are {}. */
  const char *empty[] = {"return-cont", "return-cont-2", "return-stop", "return-balloon",
                         "return-device-add-cpu", "return-usb-add", "return-usb-del",
                         "return-open-tray", "return-system-reset",
                         "return-system-powerdown", "return-quit"};
  for (size_t i = 0; i < G_N_ELEMENTS(empty); i++) {
    g_autoptr(QmpMessage) m = parse_file(empty[i]);
    assert_int_equal(m->kind, QMP_MESSAGE_RETURN);
    g_autofree char *want = g_strdup_printf("virtfs-%s", empty[i]);
    assert_string_equal(m->id, want);
    assert_true(JSON_NODE_HOLDS_OBJECT(m->value));
  }
}

static void test_uint64_exact(void **state) {
  g_autoptr(QmpMessage) m = parse_file("synthetic-return-blockstats-huge");
  g_autoptr(GPtrArray) stats = NULL;
  assert_int_equal(qmp_reply_parse_blockstats(m->value, &stats), 0);
  QmpBlockStats *s = g_ptr_array_index(stats, 0);
  assert_true(s->rd_bytes == UINT64_MAX);
  assert_true(s->wr_bytes == 1ULL << 63);
  assert_true(s->flush_operations == 3);
  assert_null(s->device);
  g_autofree char *id = qmp_qdev_id(s->qdev);
  assert_string_equal(id, "disk1");
}

static void test_errors(void **state) {
  const struct {
    const char *file;
    const char *cls;
    const char *desc_part;
    int error;
    bool has_id;
  } cases[] = {
    {"error-command-not-found", "CommandNotFound", "no-such-command", -EOPNOTSUPP, true},
    {"error-device-not-found", "DeviceNotFound", "nonexistent", -ENODEV, true},
    {"error-bad-driver", "GenericError", "not a valid device model", -EIO, true},
    {"error-balloon-negative", "GenericError", "expects a size", -EIO, true},
    {"error-device-del-cpu", "GenericError", "unplug", -EIO, true},
    {"error-parse-no-id", "GenericError", "JSON parse error", -EIO, false},
    {"error-not-object-no-id", "GenericError", "must be a JSON object", -EIO, false},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(QmpMessage) m = parse_file(cases[i].file);
    assert_int_equal(m->kind, QMP_MESSAGE_ERROR);
    assert_string_equal(m->error_class, cases[i].cls);
    assert_non_null(strstr(m->error_desc, cases[i].desc_part));
    assert_int_equal(qmp_error_class_to_errno(m->error_class), cases[i].error);
    assert_int_equal(m->id != NULL, cases[i].has_id);
    assert_null(m->value);
  }
  assert_int_equal(qmp_error_class_to_errno("DeviceNotActive"), -ENODEV);
  assert_int_equal(qmp_error_class_to_errno("KVMMissingCap"), -EOPNOTSUPP);
  assert_int_equal(qmp_error_class_to_errno("SomethingNew"), -EIO);
  assert_int_equal(qmp_error_class_to_errno(NULL), -EIO);
  g_autofree char *s = qmp_error_sentence("device_del", "DeviceNotFound", "Device 'x' not found");
  assert_string_equal(s, "QEMU refused 'device_del': Device 'x' not found (DeviceNotFound)");
}

static void test_events(void **state) {
  const struct {
    const char *file;
    QmpEvent event;
    const char *name;
    bool has_data;
  } cases[] = {
    {"event-resume", QMP_EVENT_RESUME, "RESUME", false},
    {"event-resume-2", QMP_EVENT_RESUME, "RESUME", false},
    {"event-stop", QMP_EVENT_STOP, "STOP", false},
    {"event-powerdown", QMP_EVENT_POWERDOWN, "POWERDOWN", false},
    {"event-reset", QMP_EVENT_RESET, "RESET", true},
    {"event-shutdown", QMP_EVENT_SHUTDOWN, "SHUTDOWN", true},
    {"event-device-deleted", QMP_EVENT_DEVICE_DELETED, "DEVICE_DELETED", true},
    {"event-device-tray-moved", QMP_EVENT_UNKNOWN, "DEVICE_TRAY_MOVED", true},
    {"synthetic-event-shutdown-guest", QMP_EVENT_SHUTDOWN, "SHUTDOWN", true},
    {"synthetic-event-guest-panicked", QMP_EVENT_GUEST_PANICKED, "GUEST_PANICKED", true},
    {"synthetic-event-balloon-change", QMP_EVENT_BALLOON_CHANGE, "BALLOON_CHANGE", true},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(QmpMessage) m = parse_file(cases[i].file);
    assert_int_equal(m->kind, QMP_MESSAGE_EVENT);
    assert_int_equal(m->event, cases[i].event);
    assert_string_equal(m->event_name, cases[i].name);
    assert_int_equal(m->value != NULL, cases[i].has_data);
    assert_true(m->timestamp_seconds > 1700000000);
    assert_true(m->timestamp_microseconds >= 0 && m->timestamp_microseconds < 1000000);
    assert_null(m->id);
  }

  bool guest = true;
  g_autofree char *reason = NULL, *reason2 = NULL, *reason3 = NULL;
  g_autoptr(QmpMessage) sd = parse_file("event-shutdown");
  assert_int_equal(qmp_event_parse_shutdown(sd->value, &guest, &reason), 0);
  assert_false(guest);
  assert_string_equal(reason, "host-qmp-quit");
  g_autoptr(QmpMessage) sdg = parse_file("synthetic-event-shutdown-guest");
  assert_int_equal(qmp_event_parse_shutdown(sdg->value, &guest, &reason2), 0);
  assert_true(guest);
  assert_string_equal(reason2, "guest-shutdown");
  g_autoptr(QmpMessage) rs = parse_file("event-reset");
  assert_int_equal(qmp_event_parse_shutdown(rs->value, &guest, &reason3), 0);
  assert_false(guest);
  assert_string_equal(reason3, "host-qmp-system-reset");

  g_autoptr(QmpMessage) dd = parse_file("event-device-deleted");
  g_autofree char *dev = NULL, *path = NULL;
  assert_int_equal(qmp_event_parse_device_deleted(dd->value, &dev, &path), 0);
  assert_string_equal(dev, "kbd0");
  assert_string_equal(path, "/machine/peripheral/kbd0");

  g_autoptr(QmpMessage) gp = parse_file("synthetic-event-guest-panicked");
  g_autofree char *action = NULL;
  assert_int_equal(qmp_event_parse_guest_panicked(gp->value, &action), 0);
  assert_string_equal(action, "pause");
  assert_int_equal(gp->timestamp_microseconds, 250000);

  g_autoptr(QmpMessage) bc = parse_file("synthetic-event-balloon-change");
  uint64_t actual = 0;
  assert_int_equal(qmp_event_parse_balloon_change(bc->value, &actual), 0);
  assert_true(actual == 64ULL << 20);

  /* Events without data: the parsers refuse cleanly. */
  g_autoptr(QmpMessage) st = parse_file("event-stop");
  assert_int_equal(qmp_event_parse_shutdown(st->value, &guest, &reason), -EPROTO);
  assert_int_equal(qmp_event_parse_balloon_change(st->value, &actual), -EPROTO);

  g_autoptr(QmpMessage) nt = parse_file("synthetic-event-no-timestamp");
  assert_int_equal(nt->event, QMP_EVENT_SUSPEND);
  assert_int_equal(nt->timestamp_seconds, -1);
  assert_int_equal(nt->timestamp_microseconds, -1);

  assert_string_equal(qmp_event_to_string(QMP_EVENT_GUEST_PANICKED), "GUEST_PANICKED");
  assert_null(qmp_event_to_string(QMP_EVENT_UNKNOWN));
  QmpEvent e = QMP_EVENT_UNKNOWN;
  assert_int_equal(qmp_event_from_string("DEVICE_DELETED", &e), 0);
  assert_int_equal(e, QMP_EVENT_DEVICE_DELETED);
  assert_int_equal(qmp_event_from_string("RTC_CHANGE", &e), -EINVAL);
}

static void test_reply_shapes(void **state) {
  /* A reply of the wrong shape is -EPROTO, never a crash or a zero. */
  g_autoptr(QmpMessage) status = parse_file("return-status-running");
  g_autoptr(QmpMessage) cpus = parse_file("return-cpus-fast-1");
  g_autoptr(QmpMessage) hmp = parse_file("return-hmp-info-version");
  bool b;
  char *s = NULL;
  guint n = 0;
  uint64_t u = 0;
  GPtrArray *a = NULL;
  GHashTable *h = NULL;
  assert_int_equal(qmp_reply_parse_status(cpus->value, &b, &s), -EPROTO);
  assert_int_equal(qmp_reply_parse_status(hmp->value, &b, &s), -EPROTO);
  assert_int_equal(qmp_reply_parse_status(NULL, &b, &s), -EPROTO);
  assert_int_equal(qmp_reply_parse_cpus_fast(status->value, &n, NULL), -EPROTO);
  assert_int_equal(qmp_reply_parse_balloon(cpus->value, &u), -EPROTO);
  assert_int_equal(qmp_reply_parse_balloon(status->value, &u), -EPROTO);
  assert_int_equal(qmp_reply_parse_blockstats(cpus->value, &a), -EPROTO); /* no "stats" */
  assert_int_equal(qmp_reply_parse_hotpluggable_cpus(cpus->value, &a), -EPROTO);
  assert_int_equal(qmp_reply_parse_chardev_ptys(status->value, &h), -EPROTO);
  assert_int_equal(qmp_reply_parse_string(status->value, &s), -EPROTO);
  assert_null(s);
  assert_null(a);
  assert_null(h);
}

static void test_qdev_id(void **state) {
  const struct {
    const char *in, *out;
  } cases[] = {
    {"vda", "vda"},
    {"/machine/peripheral/vda/virtio-backend", "vda"},
    {"/machine/peripheral/net0", "net0"},
    {"/machine/unattached/device[3]", NULL},
    {"/machine/peripheral/", NULL},
    {"", NULL},
    {NULL, NULL},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *id = qmp_qdev_id(cases[i].in);
    if (cases[i].out)
      assert_string_equal(id, cases[i].out);
    else
      assert_null(id);
  }
}

/* ---- malformed, deep and oversized lines ---- */

static void test_malformed(void **state) {
  const struct {
    const char *file;
    int error;
  } cases[] = {
    {"malformed-truncated", -EBADMSG},
    {"malformed-garbage", -EBADMSG},
    {"malformed-empty", -EBADMSG},
    {"malformed-array", -EPROTO},
    {"malformed-string", -EPROTO},
    {"malformed-null", -EPROTO},
    {"malformed-single-quotes", -EBADMSG},
    {"malformed-comment", -EBADMSG},
    {"malformed-trailing-data", -EBADMSG},
    {"malformed-trailing-comma", -EBADMSG},
    {"malformed-hex", -EBADMSG},
    {"malformed-leading-zero", -EBADMSG},
    {"malformed-nan", -EBADMSG},
    {"malformed-nul-byte", -EBADMSG},
    {"malformed-utf8", -EBADMSG},
    {"malformed-escaped-nul", -EBADMSG},
    {"malformed-lone-surrogate", -EBADMSG},
    {"malformed-control-char", -EBADMSG},
    {"malformed-bad-escape", -EBADMSG},
    {"malformed-integer-too-big", -EBADMSG},
    {"malformed-integer-too-small", -EBADMSG},
    {"malformed-unknown-members", -EPROTO},
    {"malformed-error-no-desc", -EPROTO},
    {"malformed-error-not-object", -EPROTO},
    {"malformed-event-name-number", -EPROTO},
    {"malformed-event-data-array", -EPROTO},
    {"malformed-event-timestamp-string", -EPROTO},
    {"malformed-greeting-no-version", -EPROTO},
    {"malformed-greeting-version-string", -EPROTO},
    {"deep-nesting-200", -EBADMSG},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    size_t len = 0;
    g_autofree char *text = load(cases[i].file, &len);
    int r = parse_error_of(text, len);
    if (r != cases[i].error)
      fail_msg("%s: got %d, want %d", cases[i].file, r, cases[i].error);
  }
  QmpMessage *m = NULL;
  assert_int_equal(qmp_message_parse(NULL, 0, &m, NULL), -EINVAL);
  /* Limits of integers are exact. */
  const char *ok_ints[] = {"{\"return\": 18446744073709551615}", "{\"return\": -9223372036854775808}",
                           "{\"return\": 0}", "{\"return\": -0}", "{\"return\": 1.5e-3}"};
  for (size_t i = 0; i < G_N_ELEMENTS(ok_ints); i++)
    assert_int_equal(parse_error_of(ok_ints[i], strlen(ok_ints[i])), 0);
}

static char *nested(size_t depth) {
  /* {"return": [[...]]} with `depth` levels in all (the object counts). */
  GString *s = g_string_new("{\"return\": ");
  for (size_t i = 1; i < depth; i++)
    g_string_append_c(s, '[');
  for (size_t i = 1; i < depth; i++)
    g_string_append_c(s, ']');
  g_string_append(s, "}\r\n");
  return g_string_free(s, FALSE);
}

static void test_deep_nesting(void **state) {
  g_autofree char *at_limit = nested(QMP_MAX_NESTING);
  g_autofree char *over = nested(QMP_MAX_NESTING + 1);
  assert_int_equal(parse_error_of(at_limit, strlen(at_limit)), 0);
  assert_int_equal(parse_error_of(over, strlen(over)), -EBADMSG);
  /* Far deeper than any stack would survive if it were parsed recursively. */
  g_autofree char *huge = nested(4 * 1024 * 1024);
  assert_int_equal(parse_error_of(huge, strlen(huge)), -EBADMSG);
  /* Unbalanced: only openers. */
  g_autofree char *openers = g_strnfill(1 << 20, '[');
  assert_int_equal(parse_error_of(openers, strlen(openers)), -EBADMSG);
}

static void test_oversized(void **state) {
  /* A valid reply of exactly QMP_LINE_MAX bytes with its "\r\n" passes... */
  const char *head = "{\"return\": \"", *tail = "\", \"id\": \"big\"}\r\n";
  size_t fill = QMP_LINE_MAX - strlen(head) - strlen(tail);
  GString *s = g_string_sized_new(QMP_LINE_MAX + 2);
  g_string_append(s, head);
  for (size_t i = 0; i < fill; i++)
    g_string_append_c(s, 'x');
  g_string_append(s, tail);
  assert_int_equal(s->len, QMP_LINE_MAX);
  g_autoptr(QmpMessage) m = NULL;
  assert_int_equal(qmp_message_parse(s->str, s->len, &m, NULL), 0);
  assert_int_equal(strlen(json_node_get_string(m->value)), fill);
  /* ...one byte more does not. */
  g_string_insert_c(s, (gssize)strlen(head), 'x');
  assert_int_equal(parse_error_of(s->str, s->len), -EMSGSIZE);
  g_string_free(s, TRUE);
}

/* Every prefix and many byte flips of every golden line: a clean result
 * (0, -EBADMSG or -EPROTO), never a crash; under ASan this is a small fuzz. */
static void test_mutations(void **state) {
  const char *dir = g_getenv("VIRTFS_TEST_DATA");
  g_autofree char *qdir = g_build_filename(dir, "qmp", NULL);
  g_autoptr(GDir) d = g_dir_open(qdir, 0, NULL);
  assert_non_null(d);
  const char *name;
  guint files = 0;
  GRand *rand = g_rand_new_with_seed(42);
  static const char flips[] = "{}[]\",:\\0-e\x80 "; /* and its NUL */
  while ((name = g_dir_read_name(d))) {
    if (!g_str_has_suffix(name, ".line"))
      continue;
    files++;
    g_autofree char *path = g_build_filename(qdir, name, NULL);
    g_autofree char *text = NULL;
    gsize len = 0;
    assert_true(g_file_get_contents(path, &text, &len, NULL));
    for (size_t cut = 0; cut <= len; cut += 1 + len / 400) {
      int r = parse_error_of(text, cut);
      assert_true(r == 0 || r == -EBADMSG || r == -EPROTO);
    }
    g_autofree char *copy = g_memdup2(text, len);
    for (int k = 0; k < 200 && len > 0; k++) {
      size_t at = (size_t)g_rand_int_range(rand, 0, (gint32)len);
      char old = copy[at];
      copy[at] = flips[g_rand_int_range(rand, 0, (gint32)sizeof(flips))];
      int r = parse_error_of(copy, len);
      assert_true(r == 0 || r == -EBADMSG || r == -EPROTO);
      copy[at] = old;
    }
  }
  g_rand_free(rand);
  assert_true(files > 50);
}

/* screen.png: the screendump arguments, the VNC address, tap counters. */
static void test_screen_and_counters(void **state) {
  JsonNode *args = NULL;
  assert_int_equal(qmp_args_screendump("/run/x/screen.png", "png", &args), 0);
  g_autofree char *text = json_to_string(args, FALSE);
  assert_string_equal(text, "{\"filename\":\"/run/x/screen.png\",\"format\":\"png\"}");
  json_node_unref(args);
  assert_int_equal(qmp_args_screendump("", "png", &args), -EINVAL);

  const struct {
    const char *reply;
    int ret;
    const char *address;
  } vnc[] = {
    {"{\"enabled\": true, \"host\": \"127.0.0.1\", \"service\": \"5901\", \"family\": \"ipv4\"}", 0,
     "vnc://127.0.0.1:5901"},
    {"{\"enabled\": true, \"host\": \"::1\", \"service\": \"5900\"}", 0, "vnc://[::1]:5900"},
    {"{\"enabled\": false}", 0, NULL},
    {"{\"enabled\": true}", -EPROTO, NULL},
    {"{\"enabled\": \"yes\"}", -EPROTO, NULL},
    {"[]", -EPROTO, NULL},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(vnc); i++) {
    JsonNode *n = json_from_string(vnc[i].reply, NULL);
    assert_non_null(n);
    char *address = (char *)"unset";
    assert_int_equal(qmp_reply_parse_vnc(n, &address), vnc[i].ret);
    if (vnc[i].ret == 0) {
      assert_true(g_strcmp0(address, vnc[i].address) == 0);
      g_free(address);
    }
    json_node_unref(n);
  }

  const char *dev =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
      "    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0\n"
      " vnet3: 5000 50 1 2 0 0 0 0 7000 70 3 4 0 0 0 0\n"
      "vnet30: 1 1 1 1 0 0 0 0 1 1 1 1 0 0 0 0\n"
      " short: 1 2 3\n";
  QemuInterfaceStats s = {0};
  assert_int_equal(qemu_parse_proc_net_dev(dev, "vnet3", &s), 0);
  /* the tap received what the guest transmitted */
  assert_int_equal(s.tx_bytes, 5000);
  assert_int_equal(s.tx_packets, 50);
  assert_int_equal(s.tx_errors, 1);
  assert_int_equal(s.tx_drops, 2);
  assert_int_equal(s.rx_bytes, 7000);
  assert_int_equal(s.rx_packets, 70);
  assert_int_equal(s.rx_errors, 3);
  assert_int_equal(s.rx_drops, 4);
  assert_int_equal(qemu_parse_proc_net_dev(dev, "vnet", &s), -ENOENT);
  assert_int_equal(qemu_parse_proc_net_dev(dev, "short", &s), -EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_screen_and_counters),
    cmocka_unit_test(test_build),
    cmocka_unit_test(test_args),
    cmocka_unit_test(test_greeting),
    cmocka_unit_test(test_returns),
    cmocka_unit_test(test_uint64_exact),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_events),
    cmocka_unit_test(test_reply_shapes),
    cmocka_unit_test(test_qdev_id),
    cmocka_unit_test(test_malformed),
    cmocka_unit_test(test_deep_nesting),
    cmocka_unit_test(test_oversized),
    cmocka_unit_test(test_mutations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
