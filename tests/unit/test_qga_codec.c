/* test_qga_codec.c — the guest agent protocol as data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "drivers/qemu/qga_codec.h"
#include "drivers/qemu/qmp_codec.h"

static JsonNode *reply(const char *line) {
  g_autoptr(QmpMessage) m = NULL;
  g_autofree char *err = NULL;
  assert_int_equal(qmp_message_parse(line, strlen(line), &m, &err), 0);
  assert_int_equal(m->kind, QMP_MESSAGE_RETURN);
  return qmp_message_steal_value(m);
}

static char *args_text(JsonNode *args) {
  return json_to_string(args, FALSE);
}

static void test_sync(void **state) {
  g_autoptr(JsonNode) args = qga_args_sync(4242);
  g_autofree char *line = NULL;
  assert_int_equal(qmp_command_build(QGA_CMD_SYNC_DELIMITED, args, NULL, &line), 0);
  assert_non_null(strstr(line, "\"execute\":\"guest-sync-delimited\""));
  assert_non_null(strstr(line, "\"id\":4242"));
  /* Stale output of an abandoned exchange, the marker, then the answer. */
  const char buf[] = "{\"return\": {}}\n\xff{\"return\": 4242}\n";
  ssize_t off = qga_after_sync_marker(buf, sizeof(buf) - 1);
  assert_int_equal(off, 16);
  g_autoptr(JsonNode) v = reply(buf + off);
  assert_int_equal(qga_reply_check_sync(v, 4242), 0);
  assert_int_equal(qga_reply_check_sync(v, 4243), -EPROTO);
  assert_int_equal(qga_after_sync_marker("abc", 3), -1);
}

static void test_ctl(void **state) {
  g_auto(QgaCtl) f = {0};
  char *err = NULL;
  assert_int_equal(qga_ctl_parse("fsfreeze", &f, &err), 0);
  assert_string_equal(f.command, QGA_CMD_FSFREEZE_FREEZE);
  assert_null(f.args);
  g_auto(QgaCtl) t = {0};
  assert_int_equal(qga_ctl_parse(" thaw ", &t, &err), 0);
  assert_string_equal(t.command, QGA_CMD_FSFREEZE_THAW);
  g_auto(QgaCtl) r = {0};
  assert_int_equal(qga_ctl_parse("reboot", &r, &err), 0);
  g_autofree char *rt = args_text(r.args);
  assert_string_equal(rt, "{\"mode\":\"reboot\"}");
  g_auto(QgaCtl) s = {0};
  assert_int_equal(qga_ctl_parse("shutdown", &s, &err), 0);
  g_autofree char *st = args_text(s.args);
  assert_string_equal(st, "{\"mode\":\"powerdown\"}");
  g_auto(QgaCtl) p = {0};
  assert_int_equal(qga_ctl_parse("set-password ops", &p, &err), 0);
  assert_string_equal(p.await_password_for, "ops");
  g_autoptr(JsonNode) pa = qga_args_set_password("ops", "s3cret");
  g_autofree char *pt = args_text(pa);
  assert_string_equal(pt, "{\"username\":\"ops\",\"password\":\"czNjcmV0\",\"crypted\":false}");
  g_auto(QgaCtl) k = {0};
  assert_int_equal(qga_ctl_parse("ssh-key ops ssh-ed25519 AAAA ops@x", &k, &err), 0);
  g_autofree char *kt = args_text(k.args);
  assert_string_equal(kt, "{\"username\":\"ops\",\"keys\":[\"ssh-ed25519 AAAA ops@x\"],"
                          "\"reset\":false}");
  const char *bad[] = {"fly", "fsfreeze now", "set-password", "set-password a b",
                       "ssh-key ops", "ssh-key a:b KEY", ""};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_auto(QgaCtl) c = {0};
    g_autofree char *e = NULL;
    assert_int_equal(qga_ctl_parse(bad[i], &c, &e), -EINVAL);
    assert_non_null(e);
  }
}

static void test_render(void **state) {
  g_autoptr(JsonNode) ifs = reply(
      "{\"return\": [{\"name\": \"lo\", \"hardware-address\": \"00:00:00:00:00:00\","
      " \"ip-addresses\": [{\"ip-address-type\": \"ipv4\", \"ip-address\": \"127.0.0.1\", \"prefix\": 8},"
      " {\"ip-address-type\": \"ipv6\", \"ip-address\": \"::1\", \"prefix\": 128}]},"
      " {\"name\": \"eth\\n0\", \"hardware-address\": \"52:54:00:12:34:56\"}]}");
  g_autoptr(GString) out = g_string_new(NULL);
  char *err = NULL;
  assert_int_equal(qga_render_addresses(ifs, out, &err), 0);
  assert_string_equal(out->str, "lo 00:00:00:00:00:00 ipv4 127.0.0.1/8\n"
                                "lo 00:00:00:00:00:00 ipv6 ::1/128\n"
                                "eth?0 52:54:00:12:34:56 - -\n");
  g_autoptr(JsonNode) os = reply("{\"return\": {\"pretty-name\": \"Debian GNU/Linux 12 (bookworm)\","
                                 " \"id\": \"debian\", \"kernel-release\": \"6.1.0-57-amd64\","
                                 " \"machine\": \"x86_64\"}}");
  g_autoptr(JsonNode) host = reply("{\"return\": {\"host-name\": \"web\"}}");
  g_string_truncate(out, 0);
  assert_int_equal(qga_render_os(os, host, out, &err), 0);
  assert_string_equal(out->str, "pretty_name: Debian GNU/Linux 12 (bookworm)\nid: debian\n"
                                "kernel_release: 6.1.0-57-amd64\nmachine: x86_64\nhostname: web\n");
  g_autoptr(JsonNode) users = reply("{\"return\": [{\"user\": \"ops\", \"login-time\": 1700000000.5}]}");
  g_string_truncate(out, 0);
  assert_int_equal(qga_render_users(users, out, &err), 0);
  assert_string_equal(out->str, "ops 2023-11-14T22:13:20Z\n");
  /* a login time no clock gives (found by fuzz_qga: 1.7e26 overflowed) */
  g_autoptr(JsonNode) odd = reply("{\"return\": [{\"user\": \"a\", \"login-time\": 1.7e26},"
                                  " {\"user\": \"b\", \"login-time\": -5}]}");
  g_string_truncate(out, 0);
  assert_int_equal(qga_render_users(odd, out, &err), 0);
  assert_string_equal(out->str, "a ?\nb ?\n");
  g_autoptr(JsonNode) fs = reply("{\"return\": [{\"name\": \"vda1\", \"mountpoint\": \"/\", \"type\": \"ext4\","
                                 " \"used-bytes\": 1000, \"total-bytes\": 4000, \"disk\": []},"
                                 " {\"name\": \"tmpfs\", \"mountpoint\": \"/run\", \"type\": \"tmpfs\", \"disk\": []}]}");
  g_string_truncate(out, 0);
  assert_int_equal(qga_render_filesystems(fs, out, &err), 0);
  assert_string_equal(out->str, "/ ext4 vda1 1000 4000\n/run tmpfs tmpfs - -\n");
  g_autoptr(JsonNode) t = reply("{\"return\": 1700000000123456789}");
  g_string_truncate(out, 0);
  assert_int_equal(qga_render_time(t, out, &err), 0);
  assert_string_equal(out->str, "2023-11-14T22:13:20Z 1700000000123456789\n");
  /* A reply of the wrong shape is a protocol error, not a crash. */
  g_autofree char *e1 = NULL, *e2 = NULL;
  assert_int_equal(qga_render_addresses(t, out, &e1), -EPROTO);
  assert_int_equal(qga_render_time(os, out, &e2), -EPROTO);
  g_autoptr(JsonNode) mixed = reply("{\"return\": [{\"name\": \"lo\", \"ip-addresses\": 3}, 4]}");
  g_autoptr(JsonNode) inner = reply("{\"return\": [{\"name\": \"lo\", \"ip-addresses\": [1]}]}");
  g_autofree char *e3 = NULL, *e4 = NULL, *e5 = NULL;
  assert_int_equal(qga_render_users(mixed, out, &e3), -EPROTO);
  assert_int_equal(qga_render_addresses(inner, out, &e4), -EPROTO);
  assert_int_equal(qga_render_filesystems(mixed, out, &e5), -EPROTO);
  /* state: guest-info's version and guest-fsfreeze-status */
  g_autoptr(JsonNode) info = reply("{\"return\": {\"version\": \"7.2.\\u001b1\","
                                   " \"supported_commands\": []}}");
  g_autoptr(JsonNode) frozen = reply("{\"return\": \"frozen\"}");
  g_string_truncate(out, 0);
  assert_int_equal(qga_render_state(info, frozen, out, &err), 0);
  assert_string_equal(out->str, "connected: yes\nversion: 7.2.?1\nfilesystems: frozen\n");
  g_autofree char *e6 = NULL, *e7 = NULL;
  assert_int_equal(qga_render_state(frozen, frozen, out, &e6), -EPROTO);
  assert_int_equal(qga_render_state(info, info, out, &e7), -EPROTO);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sync),
    cmocka_unit_test(test_ctl),
    cmocka_unit_test(test_render),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
