/* test_qemu_migrate.c — the pure parts of live migration: the strict check
 * of addresses (nothing but an address may reach QEMU's migrate and
 * migrate-incoming), the arguments of `ctl migrate`, and query-migrate
 * replies (as QEMU 7.2 sends them on a source and on a target) turned into
 * the `job` file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "drivers/qemu/qemu_migrate.h"

static void assert_address(const char *text, bool listen, const char *want) {
  g_autofree char *out = NULL, *error = NULL;
  int r = qemu_migrate_parse_address(text, listen, &out, &error);
  if (r < 0)
    fail_msg("'%s' refused: %s", text, error);
  assert_string_equal(out, want);
}

static void assert_refused(const char *text, bool listen) {
  g_autofree char *out = NULL, *error = NULL;
  int r = qemu_migrate_parse_address(text, listen, &out, &error);
  if (r != -EINVAL)
    fail_msg("'%s' was accepted as '%s'", text, out);
  assert_null(out);
  assert_non_null(strstr(error, "not a migration address"));
}

static void test_addresses_accepted(void **state) {
  assert_address("tcp:127.0.0.1:4444", false, "tcp:127.0.0.1:4444");
  assert_address("tcp:10.0.0.2:0", true, "tcp:10.0.0.2:0");
  assert_address("tcp:host-2.example.org:49152", false, "tcp:host-2.example.org:49152");
  assert_address("tcp:[::1]:4444", false, "tcp:[::1]:4444");
  assert_address("tcp:[fe80::1]:00080", false, "tcp:[fe80::1]:80");
  assert_address("tcp:0.0.0.0:65535", true, "tcp:0.0.0.0:65535");
  assert_address("unix:/run/virtfs/m.sock", false, "unix:/run/virtfs/m.sock");
}

static void test_addresses_refused(void **state) {
  const char *bad[] = {
    "", "tcp:", "tcp:127.0.0.1", "tcp:127.0.0.1:", "tcp::4444", "tcp:127.0.0.1:65536",
    "tcp:127.0.0.1:123456", "tcp:127.0.0.1:-1", "tcp:127.0.0.1:+4", "tcp:127.0.0.1:4444,fd=3",
    "tcp:127.0.0.1,ipv6=on:4444", "tcp:-oops:4444", "tcp:.x:4444", "tcp:a b:4444",
    "tcp:[::1]4444", "tcp:[::1;x]:4444", "tcp:[]:4444", "tcp:host/x:4444",
    "exec:sh -c 'touch /tmp/x'", "fd:3", "rdma:127.0.0.1:4444", "file:/tmp/x",
    "unix:relative", "unix:", "unix:/tmp/a,b", "unix:/tmp/a\nb", "TCP:127.0.0.1:4444",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
    assert_refused(bad[i], true);
  /* port 0 is for listening only */
  assert_refused("tcp:127.0.0.1:0", false);
  g_autofree char *a107 = g_strnfill(107, 'a');
  g_autofree char *long_path = g_strdup_printf("unix:/%s", a107);
  assert_refused(long_path, false);
}

static void test_request(void **state) {
  g_auto(QemuMigrateRequest) req = {0};
  g_autofree char *error = NULL;
  assert_int_equal(qemu_migrate_parse_request("  tcp:10.0.0.2:49152\tbandwidth=8 downtime=50 ",
                                              &req, &error), 0);
  assert_string_equal(req.address, "tcp:10.0.0.2:49152");
  assert_int_equal(req.bandwidth_mib, 8);
  assert_int_equal(req.downtime_ms, 50);
  qemu_migrate_request_clear(&req);
  assert_int_equal(qemu_migrate_parse_request("tcp:10.0.0.2:1", &req, &error), 0);
  assert_int_equal(req.bandwidth_mib, 0);
  assert_int_equal(req.downtime_ms, 0);
  const char *bad[] = {
    "", "   ", "bandwidth=8", "tcp:10.0.0.2:1 bandwidth=0", "tcp:10.0.0.2:1 bandwidth=x",
    "tcp:10.0.0.2:1 bandwidth=", "tcp:10.0.0.2:1 speed=9", "tcp:10.0.0.2:1 bandwidthx=1",
    "tcp:10.0.0.2:1 downtime=600001", "tcp:10.0.0.2:1 tcp:10.0.0.3:1",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_auto(QemuMigrateRequest) r = {0};
    g_autofree char *e = NULL;
    if (qemu_migrate_parse_request(bad[i], &r, &e) != -EINVAL)
      fail_msg("'%s' was accepted", bad[i]);
    assert_non_null(e);
    assert_null(r.address);
  }
}

static JsonNode *json(const char *text) {
  g_autoptr(JsonParser) p = json_parser_new();
  assert_true(json_parser_load_from_data(p, text, -1, NULL));
  return json_node_copy(json_parser_get_root(p));
}

/* query-migrate on a source, in the middle and at the end (QEMU 7.2). */
static const char *const source_active =
  "{\"expected-downtime\": 300, \"status\": \"active\", \"setup-time\": 8, "
  "\"total-time\": 2120, \"ram\": {\"total\": 268967936, \"postcopy-requests\": 0, "
  "\"dirty-sync-count\": 1, \"multifd-bytes\": 0, \"pages-per-second\": 256, "
  "\"downtime-bytes\": 0, \"page-size\": 4096, \"remaining\": 230686720, "
  "\"postcopy-bytes\": 0, \"mbps\": 8.4, \"transferred\": 2238464, "
  "\"dirty-sync-missed-zero-copy\": 0, "
  "\"precopy-bytes\": 2238464, \"duplicate\": 300, \"dirty-pages-rate\": 10, \"skipped\": 0, "
  "\"normal-bytes\": 2195456, \"normal\": 536}}";
static const char *const source_failed =
  "{\"status\": \"failed\", "
  "\"error-desc\": \"Unable to write to socket: Connection reset by peer\"}";
static const char *const target_setup =
  "{\"status\": \"setup\", \"socket-address\": [{\"port\": \"41234\", \"ipv6\": false, "
  "\"host\": \"127.0.0.1\", \"type\": \"inet\"}]}";

static void test_info(void **state) {
  g_autoptr(JsonNode) a = json(source_active);
  g_auto(QemuMigrateInfo) info = {0};
  assert_int_equal(qemu_migrate_info_parse(a, &info), 0);
  assert_string_equal(info.status, "active");
  assert_int_equal(info.transferred, 2238464);
  assert_int_equal(info.remaining, 230686720);
  assert_int_equal(info.total, 268967936);
  assert_int_equal(info.expected_downtime_ms, 300);
  g_autoptr(GString) out = g_string_new(NULL);
  qemu_migrate_info_format(&info, "migrate", "tcp:10.0.0.2:41234", out);
  assert_string_equal(out->str,
                      "job: migrate\nstatus: active\naddress: tcp:10.0.0.2:41234\n"
                      "total_time_ms: 2120\nsetup_time_ms: 8\ntransferred_bytes: 2238464\n"
                      "remaining_bytes: 230686720\ntotal_bytes: 268967936\n"
                      "dirty_rate_bytes_per_second: 40960\ndirty_sync_count: 1\n"
                      "throughput_mbps: 8.4\nexpected_downtime_ms: 300\ndowntime_ms: 0\n"
                      "error: \n");

  g_autoptr(JsonNode) f = json(source_failed);
  g_auto(QemuMigrateInfo) failed = {0};
  assert_int_equal(qemu_migrate_info_parse(f, &failed), 0);
  assert_string_equal(failed.status, "failed");
  assert_string_equal(failed.error, "Unable to write to socket: Connection reset by peer");
  assert_int_equal(failed.transferred, 0);

  g_autoptr(JsonNode) t = json(target_setup);
  g_auto(QemuMigrateInfo) target = {0};
  assert_int_equal(qemu_migrate_info_parse(t, &target), 0);
  assert_string_equal(target.socket_address, "tcp:127.0.0.1:41234");

  const struct {
    const char *reply, *address;
  } bound[] = {
    {"{\"socket-address\": [{\"port\": \"80\", \"host\": \"::\", \"type\": \"inet\"}]}",
     "tcp:[::]:80"},
    {"{\"socket-address\": [{\"path\": \"/run/m.sock\", \"type\": \"unix\"}]}",
     "unix:/run/m.sock"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bound); i++) {
    g_autoptr(JsonNode) v = json(bound[i].reply);
    g_auto(QemuMigrateInfo) b = {0};
    assert_int_equal(qemu_migrate_info_parse(v, &b), 0);
    assert_string_equal(b.socket_address, bound[i].address);
    assert_string_equal(b.status, "none");
  }

  g_autoptr(JsonNode) arr = json("[1]");
  g_auto(QemuMigrateInfo) bad = {0};
  assert_int_equal(qemu_migrate_info_parse(arr, &bad), -EPROTO);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_addresses_accepted),
    cmocka_unit_test(test_addresses_refused),
    cmocka_unit_test(test_request),
    cmocka_unit_test(test_info),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
