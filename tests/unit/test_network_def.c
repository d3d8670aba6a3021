/* test_network_def.c — network XML: canonical round trips against goldens in
 * tests/data/networks/good, rejections with their sentences from
 * tests/data/networks/bad (first line: <!-- expect: SUBSTRING -->), defaults,
 * the bridge name scheme, conflicts and the address helpers.
 *
 * VIRTFS_UPDATE_GOLDEN=1 rewrites the *.canonical.xml goldens instead of
 * comparing (review the diff before committing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "objects/network_def.h"

static char *data_path(const char *sub) {
  const char *root = g_getenv("VIRTFS_TEST_DATA");
  return g_build_filename(root ? root : "tests/data", "networks", sub, NULL);
}

static NetworkDef *parse_ok(const char *xml) {
  NetworkDef *def = NULL;
  g_autofree char *err = NULL;
  int r = network_def_parse(xml, strlen(xml), &def, &err);
  if (r < 0)
    fail_msg("parse failed: %s", err);
  return def;
}

/* Generated values are replaced by placeholders so goldens stay stable. */
static char *stable_text(const NetworkDef *def, const char *input) {
  g_autofree char *out = network_def_format(def);
  GString *s = g_string_new(out);
  if (!strstr(input, "<uuid>"))
    g_string_replace(s, def->uuid, "@UUID@", 0);
  /* The default MAC derives from the UUID. */
  if (!strstr(input, "<mac ") && !strstr(input, "<uuid>") && def->mac[0])
    g_string_replace(s, def->mac, "@MAC@", 0);
  return g_string_free(s, FALSE);
}

static void test_good_files(void **state) {
  g_autofree char *dir_path = data_path("good");
  g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
  assert_non_null(dir);
  bool update = g_strcmp0(g_getenv("VIRTFS_UPDATE_GOLDEN"), "1") == 0;
  int count = 0;
  const char *name;
  while ((name = g_dir_read_name(dir))) {
    if (!g_str_has_suffix(name, ".xml") || g_str_has_suffix(name, ".canonical.xml"))
      continue;
    count++;
    g_autofree char *path = g_build_filename(dir_path, name, NULL);
    g_autofree char *base = g_strndup(name, strlen(name) - 4);
    g_autofree char *golden_path = g_strdup_printf("%s/%s.canonical.xml", dir_path, base);
    g_autofree char *input = NULL;
    assert_true(g_file_get_contents(path, &input, NULL, NULL));
    g_autoptr(NetworkDef) def = parse_ok(input);
    g_autofree char *text = stable_text(def, input);
    if (update) {
      assert_true(g_file_set_contents(golden_path, text, -1, NULL));
    } else {
      g_autofree char *golden = NULL;
      if (!g_file_get_contents(golden_path, &golden, NULL, NULL))
        fail_msg("missing golden %s", golden_path);
      if (strcmp(golden, text) != 0)
        fail_msg("%s differs from its golden:\n%s", name, text);
    }
    /* The canonical form is a fixed point. */
    g_autofree char *once = network_def_format(def);
    g_autoptr(NetworkDef) again = parse_ok(once);
    g_autofree char *twice = network_def_format(again);
    assert_string_equal(once, twice);
    /* And a deep copy formats the same. */
    g_autoptr(NetworkDef) copy = network_def_copy(def);
    g_autofree char *copied = network_def_format(copy);
    assert_string_equal(once, copied);
  }
  assert_true(count >= 12);
}

static void test_bad_files(void **state) {
  g_autofree char *dir_path = data_path("bad");
  g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
  assert_non_null(dir);
  int count = 0;
  const char *name;
  while ((name = g_dir_read_name(dir))) {
    if (!g_str_has_suffix(name, ".xml"))
      continue;
    count++;
    g_autofree char *path = g_build_filename(dir_path, name, NULL);
    g_autofree char *input = NULL;
    assert_true(g_file_get_contents(path, &input, NULL, NULL));
    const char *tag = "<!-- expect: ";
    assert_true(g_str_has_prefix(input, tag));
    const char *end = strstr(input, " -->");
    assert_non_null(end);
    g_autofree char *expect = g_strndup(input + strlen(tag), (size_t)(end - input) - strlen(tag));
    g_autofree char *err = NULL;
    NetworkDef *def = NULL;
    int r = network_def_parse(input, strlen(input), &def, &err);
    if (def) {
      network_def_free(def);
      fail_msg("%s: accepted, expected '%s'", name, expect);
    }
    if (r != -EINVAL)
      fail_msg("%s: expected -EINVAL, got %d (%s)", name, r, err ? err : "no error");
    if (!err || !strstr(err, expect))
      fail_msg("%s: error '%s' does not contain '%s'", name, err ? err : "", expect);
  }
  assert_true(count >= 12);
}

static void test_libvirt_default(void **state) {
  g_autofree char *path = data_path("good/libvirt-default.xml");
  g_autofree char *input = NULL;
  assert_true(g_file_get_contents(path, &input, NULL, NULL));
  g_autoptr(NetworkDef) def = parse_ok(input);
  assert_string_equal(def->name, "default");
  assert_int_equal(def->forward, NETWORK_FORWARD_NAT);
  assert_string_equal(def->bridge, "virbr0");
  assert_true(def->stp);
  assert_int_equal(def->delay, 0);
  const NetworkIp *v4 = network_def_first_ip(def, AF_INET);
  assert_non_null(v4);
  assert_null(network_def_first_ip(def, AF_INET6));
  assert_int_equal(v4->prefix, 24);
  assert_int_equal(v4->ranges->len, 1);
  assert_true(g_uuid_string_is_valid(def->uuid));
  assert_true(g_str_has_prefix(def->mac, "52:54:00:"));
  assert_true(network_def_wants_dnsmasq(def));
}

static void test_new_default(void **state) {
  g_autoptr(NetworkDef) def = network_def_new_default();
  assert_string_equal(def->name, "default");
  assert_int_equal(def->forward, NETWORK_FORWARD_NAT);
  assert_string_equal(def->bridge, "virbr-default");
  char buf[NETWORK_ADDR_STRLEN];
  const NetworkIp *v4 = network_def_first_ip(def, AF_INET);
  assert_string_equal(network_addr_format(&v4->address, buf), "192.168.122.1");
  assert_int_equal(v4->prefix, 24);
  const NetworkDhcpRange *r = v4->ranges->pdata[0];
  assert_string_equal(network_addr_format(&r->start, buf), "192.168.122.2");
  assert_string_equal(network_addr_format(&r->end, buf), "192.168.122.254");
  /* It parses back to itself. */
  g_autofree char *text = network_def_format(def);
  g_autoptr(NetworkDef) again = parse_ok(text);
  g_autofree char *text2 = network_def_format(again);
  assert_string_equal(text, text2);
  /* Two fresh defaults differ only by UUID and MAC. */
  g_autoptr(NetworkDef) other = network_def_new_default();
  assert_string_not_equal(def->uuid, other->uuid);

  g_autoptr(NetworkDef) empty = network_def_new_empty("scratch");
  assert_int_equal(empty->forward, NETWORK_FORWARD_NONE);
  assert_int_equal(empty->ips->len, 0);
  assert_string_equal(empty->bridge, "virbr-scratch");
  assert_false(network_def_wants_dnsmasq(empty));
  g_autofree char *etext = network_def_format(empty);
  g_autoptr(NetworkDef) eagain = parse_ok(etext);
  assert_string_equal(eagain->bridge, "virbr-scratch");
}

static void test_bridge_names(void **state) {
  g_autofree char *a = network_def_default_bridge_name("default");
  assert_string_equal(a, "virbr-default");
  g_autofree char *b = network_def_default_bridge_name("12345678");
  assert_string_equal(b, "virbr-12345678");
  g_autofree char *c = network_def_default_bridge_name("123456789");
  assert_int_equal(strlen(c), 15);
  assert_true(g_str_has_prefix(c, "virbr-"));
  g_autofree char *d = network_def_default_bridge_name("123456780");
  assert_string_not_equal(c, d);
  g_autofree char *e = network_def_default_bridge_name("my net");
  assert_int_equal(strlen(e), 15);
  for (const char *p = e + 6; *p; p++)
    assert_true(g_ascii_isxdigit(*p));
  /* Deterministic. */
  g_autofree char *e2 = network_def_default_bridge_name("my net");
  assert_string_equal(e, e2);
}

static void test_conflicts(void **state) {
  g_autoptr(NetworkDef) a = parse_ok(
      "<network><name>a</name><forward mode='nat'/><bridge name='bra'/>"
      "<ip address='10.1.0.1' netmask='255.255.0.0'/></network>");
  g_autoptr(NetworkDef) b = parse_ok(
      "<network><name>b</name><forward mode='nat'/><bridge name='brb'/>"
      "<ip address='10.1.5.1' netmask='255.255.255.0'/></network>");
  g_autoptr(NetworkDef) c = parse_ok(
      "<network><name>c</name><forward mode='nat'/><bridge name='brc'/>"
      "<ip address='10.2.0.1' netmask='255.255.255.0'/></network>");
  g_autoptr(NetworkDef) d = parse_ok(
      "<network><name>d</name><bridge name='bra'/></network>");
  g_autoptr(NetworkDef) h1 = parse_ok(
      "<network><name>h1</name><forward mode='bridge'/><bridge name='br0'/></network>");
  g_autoptr(NetworkDef) h2 = parse_ok(
      "<network><name>h2</name><forward mode='bridge' dev='br0'/></network>");
  g_autoptr(NetworkDef) m = parse_ok(
      "<network><name>m</name><bridge name='br0'/></network>");
  g_autoptr(NetworkDef) v6a = parse_ok(
      "<network><name>v6a</name><forward mode='route'/><ip family='ipv6' address='fd00:1::1' prefix='48'/></network>");
  g_autoptr(NetworkDef) v6b = parse_ok(
      "<network><name>v6b</name><forward mode='route'/><ip family='ipv6' address='fd00:1:0:5::1' prefix='64'/></network>");
  g_autoptr(NetworkDef) v6c = parse_ok(
      "<network><name>v6c</name><forward mode='route'/><ip family='ipv6' address='fd00:2::1' prefix='64'/></network>");

  g_autofree char *err = NULL;
  assert_int_equal(network_def_conflicts(a, b, &err), -EADDRINUSE);
  assert_non_null(strstr(err, "the subnet 10.1.0.0/16 of network 'a' overlaps the subnet 10.1.5.0/24 of network 'b'"));
  g_clear_pointer(&err, g_free);
  assert_int_equal(network_def_conflicts(b, a, NULL), -EADDRINUSE);
  assert_int_equal(network_def_conflicts(a, c, &err), 0);
  assert_null(err);
  assert_int_equal(network_def_conflicts(a, d, &err), -EADDRINUSE);
  assert_non_null(strstr(err, "both use the bridge 'bra'"));
  g_clear_pointer(&err, g_free);
  /* Two networks on one host bridge are fine; a managed bridge of that name is not. */
  assert_int_equal(network_def_conflicts(h1, h2, NULL), 0);
  assert_int_equal(network_def_conflicts(h1, m, NULL), -EADDRINUSE);
  assert_int_equal(network_def_conflicts(v6a, v6b, NULL), -EADDRINUSE);
  assert_int_equal(network_def_conflicts(v6a, v6c, NULL), 0);
  assert_int_equal(network_def_conflicts(a, v6a, NULL), 0);

  /* virtfs's default and libvirt's stock default share 192.168.122.0/24. */
  g_autoptr(NetworkDef) vdef = network_def_new_default();
  g_autofree char *path = data_path("good/libvirt-default.xml");
  g_autofree char *input = NULL;
  assert_true(g_file_get_contents(path, &input, NULL, NULL));
  g_autoptr(NetworkDef) ldef = parse_ok(input);
  assert_int_equal(network_def_conflicts(vdef, ldef, NULL), -EADDRINUSE);
}

static void test_addr_helpers(void **state) {
  NetworkAddr a, n;
  char buf[NETWORK_ADDR_STRLEN];
  assert_int_equal(network_addr_parse("192.168.1.77", &a), 0);
  assert_int_equal(a.family, AF_INET);
  n = network_addr_mask(&a, 26);
  assert_string_equal(network_addr_format(&n, buf), "192.168.1.64");
  n = network_addr_broadcast(&a, 26);
  assert_string_equal(network_addr_format(&n, buf), "192.168.1.127");
  n = network_addr_netmask(20);
  assert_string_equal(network_addr_format(&n, buf), "255.255.240.0");
  n = network_addr_netmask(32);
  assert_string_equal(network_addr_format(&n, buf), "255.255.255.255");
  assert_int_equal(network_addr_parse("FD00::1:2", &a), 0);
  assert_int_equal(a.family, AF_INET6);
  assert_string_equal(network_addr_format(&a, buf), "fd00::1:2");
  n = network_addr_mask(&a, 112);
  assert_string_equal(network_addr_format(&n, buf), "fd00::1:0");
  assert_int_equal(network_addr_parse("300.1.1.1", &a), -EINVAL);
  assert_int_equal(network_addr_parse("", &a), -EINVAL);

  NetworkAddr s, e;
  network_addr_parse("10.0.0.2", &s);
  network_addr_parse("10.0.0.254", &e);
  assert_true(network_addr_range_size(&s, &e) == 253);
  assert_true(network_addr_range_size(&e, &s) == 0);
  network_addr_parse("fd00::", &s);
  network_addr_parse("fd00::ffff:ffff:ffff:ffff", &e);
  assert_true(network_addr_range_size(&s, &e) == UINT64_MAX);
  network_addr_parse("fd00::100", &s);
  network_addr_parse("fd00::1ff", &e);
  assert_true(network_addr_range_size(&s, &e) == 256);

  char mac[18];
  assert_int_equal(network_mac_parse("52:54:00:AB:cd:0F", mac), 0);
  assert_string_equal(mac, "52:54:00:ab:cd:0f");
  assert_int_equal(network_mac_parse("52:54:00:ab:cd", mac), -EINVAL);
  assert_int_equal(network_mac_parse("52-54-00-ab-cd-ef", mac), -EINVAL);
  assert_int_equal(network_mac_parse("52:54:00:ab:cd:eg", mac), -EINVAL);
}

static void test_size_cap(void **state) {
  size_t len = 1024 * 1024 + 1;
  g_autofree char *big = g_malloc(len);
  memset(big, ' ', len);
  g_autofree char *err = NULL;
  NetworkDef *def = NULL;
  assert_int_equal(network_def_parse(big, len, &def, &err), -EFBIG);
  assert_null(def);
  assert_non_null(err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_good_files),
    cmocka_unit_test(test_bad_files),
    cmocka_unit_test(test_libvirt_default),
    cmocka_unit_test(test_new_default),
    cmocka_unit_test(test_bridge_names),
    cmocka_unit_test(test_conflicts),
    cmocka_unit_test(test_addr_helpers),
    cmocka_unit_test(test_size_cap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
