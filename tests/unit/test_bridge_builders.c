/* test_bridge_builders.c — the pure parts of the bridge driver: the nftables
 * scripts and dnsmasq configs built from every network in
 * tests/data/networks/good (goldens in tests/data/nft and
 * tests/data/dnsmasq), the lease-file parser, and the error translations.
 *
 * VIRTFS_UPDATE_GOLDEN=1 rewrites the goldens instead of comparing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/wait.h>

#include "drivers/bridge/bandwidth.h"
#include "drivers/bridge/dnsmasq.h"
#include "drivers/bridge/nft_rules.h"
#include "objects/network_def.h"

static const char *data_root(void) {
  const char *root = g_getenv("VIRTFS_TEST_DATA");
  return root ? root : "tests/data";
}

static void check_golden(const char *sub, const char *name, const char *text) {
  g_autofree char *path = g_build_filename(data_root(), sub, name, NULL);
  if (g_strcmp0(g_getenv("VIRTFS_UPDATE_GOLDEN"), "1") == 0) {
    g_autofree char *dir = g_path_get_dirname(path);
    g_mkdir_with_parents(dir, 0755);
    assert_true(g_file_set_contents(path, text, -1, NULL));
    return;
  }
  g_autofree char *golden = NULL;
  if (!g_file_get_contents(path, &golden, NULL, NULL))
    fail_msg("missing golden %s", path);
  if (strcmp(golden, text) != 0)
    fail_msg("%s differs from its golden:\n%s", path, text);
}

/* Calls fn for each network of tests/data/networks/good. */
static int for_each_network(void (*fn)(const char *base, const NetworkDef *def)) {
  g_autofree char *dir_path = g_build_filename(data_root(), "networks", "good", NULL);
  g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
  assert_non_null(dir);
  int count = 0;
  const char *name;
  while ((name = g_dir_read_name(dir))) {
    if (!g_str_has_suffix(name, ".xml") || g_str_has_suffix(name, ".canonical.xml"))
      continue;
    g_autofree char *path = g_build_filename(dir_path, name, NULL);
    g_autofree char *xml = NULL;
    gsize len = 0;
    assert_true(g_file_get_contents(path, &xml, &len, NULL));
    g_autoptr(NetworkDef) def = NULL;
    g_autofree char *err = NULL;
    if (network_def_parse(xml, len, &def, &err) < 0)
      fail_msg("%s: %s", name, err);
    g_autofree char *base = g_strndup(name, strlen(name) - 4);
    fn(base, def);
    count++;
  }
  return count;
}

static void nft_one(const char *base, const NetworkDef *def) {
  g_autofree char *add = nft_rules_build_add(def);
  g_autofree char *name = g_strdup_printf("%s.nft", base);
  check_golden("nft", name, add);
  if (def->forward == NETWORK_FORWARD_BRIDGE) {
    assert_string_equal(add, "");
    return;
  }
  /* Every statement names our table; chains are named after the bridge. */
  g_auto(GStrv) lines = g_strsplit(add, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    if (!*lines[i] || lines[i][0] == '#')
      continue;
    assert_non_null(strstr(lines[i], "inet virtfs"));
  }
  g_autofree char *fwd = nft_rules_chain_name(def, "fwd");
  assert_non_null(strstr(add, fwd));
  /* The forward chain is always flushed before it is filled: no duplicates
   * when a network is started again. */
  g_autofree char *flush = g_strdup_printf("flush chain inet virtfs %s", fwd);
  assert_non_null(strstr(add, flush));
  g_autofree char *rm = nft_rules_build_remove(def);
  g_autofree char *del = g_strdup_printf("delete chain inet virtfs %s", fwd);
  assert_non_null(strstr(rm, del));
}

static void test_nft_goldens(void **state) {
  assert_true(for_each_network(nft_one) >= 12);
}

static NetworkDef *parse(const char *xml) {
  NetworkDef *def = NULL;
  g_autofree char *err = NULL;
  if (network_def_parse(xml, strlen(xml), &def, &err) < 0)
    fail_msg("%s", err);
  return def;
}

static void test_nft_modes(void **state) {
  g_autoptr(NetworkDef) nat = parse("<network><name>n</name><forward mode='nat'/>"
                                    "<bridge name='brn'/><ip address='10.8.0.1' prefix='24'/></network>");
  g_autofree char *s = nft_rules_build_add(nat);
  assert_non_null(strstr(s, "add rule inet virtfs net-brn-nat ip saddr 10.8.0.0/24 ip daddr != "
                            "10.8.0.0/24 meta l4proto { tcp, udp } masquerade to :1024-65535\n"));
  assert_non_null(strstr(s, "oifname \"brn\" ip daddr 10.8.0.0/24 ct state related,established accept"));
  assert_non_null(strstr(s, "type nat hook postrouting priority srcnat;"));

  g_autoptr(NetworkDef) route = parse("<network><name>r</name><forward mode='route'/>"
                                      "<bridge name='brr'/><ip address='10.9.0.1' prefix='24'/></network>");
  g_autofree char *r = nft_rules_build_add(route);
  assert_null(strstr(r, "masquerade"));
  /* A network that was nat before loses its nat chain. */
  assert_non_null(strstr(r, "delete chain inet virtfs net-brr-nat"));
  assert_null(strstr(r, "ct state"));

  g_autoptr(NetworkDef) iso = parse("<network><name>i</name><bridge name='bri'/></network>");
  g_autofree char *i = nft_rules_build_add(iso);
  assert_non_null(strstr(i, "add rule inet virtfs net-bri-fwd iifname \"bri\" reject"));
  assert_null(strstr(i, "accept\nadd rule inet virtfs net-bri-fwd iifname \"bri\" ip"));
}

static void dnsmasq_one(const char *base, const NetworkDef *def) {
  if (!network_def_wants_dnsmasq(def))
    return;
  g_autofree char *dir = g_build_filename("/run/virtfs/networks", def->name, NULL);
  g_autofree char *pid = g_build_filename(dir, "dnsmasq.pid", NULL);
  g_autofree char *leases = g_build_filename(dir, "leases", NULL);
  DnsmasqConfigOptions opts = {.pid_path = pid, .lease_path = leases};
  g_autofree char *conf = dnsmasq_build_config(def, &opts);
  g_autofree char *name = g_strdup_printf("%s.conf", base);
  check_golden("dnsmasq", name, conf);
  /* What makes it safe and self-contained, whatever the network. */
  assert_non_null(strstr(conf, "\nno-hosts\n"));
  assert_non_null(strstr(conf, "\nbind-dynamic\n"));
  assert_non_null(strstr(conf, "\nexcept-interface=lo\n"));
  g_autofree char *iface = g_strdup_printf("\ninterface=%s\n", def->bridge);
  assert_non_null(strstr(conf, iface));
  assert_null(strstr(conf, "\nconf-dir"));
  assert_null(strstr(conf, "\nconf-file"));
}

static void test_dnsmasq_goldens(void **state) {
  for_each_network(dnsmasq_one);
}

static void test_dnsmasq_options(void **state) {
  g_autoptr(NetworkDef) def = network_def_new_default();
  DnsmasqConfigOptions opts = {.pid_path = "/r/my net/pid", .lease_path = "/r/a\"b/leases",
                               .resolv_file = "", .user = "dnsmasq"};
  g_autofree char *c = dnsmasq_build_config(def, &opts);
  assert_non_null(strstr(c, "\npid-file=\"/r/my net/pid\"\n"));
  assert_non_null(strstr(c, "\ndhcp-leasefile=\"/r/a\\\"b/leases\"\n"));
  assert_non_null(strstr(c, "\nno-resolv\n"));
  assert_non_null(strstr(c, "\nuser=dnsmasq\n"));
  assert_non_null(strstr(c, "\ndhcp-range=192.168.122.2,192.168.122.254,255.255.255.0\n"));
  assert_non_null(strstr(c, "\ndhcp-lease-max=253\n"));

  DnsmasqConfigOptions host = {.pid_path = "/p", .lease_path = "/l", .resolv_file = "/etc/resolv.conf"};
  g_autofree char *h = dnsmasq_build_config(def, &host);
  assert_null(strstr(h, "no-resolv"));
  assert_non_null(strstr(h, "\nresolv-file=/etc/resolv.conf\n"));
}

static void test_leases(void **state) {
  const char *text =
      "1700000000 52:54:00:aa:bb:01 192.168.122.10 web1 01:52:54:00:aa:bb:01\n"
      "0 52:54:00:AA:BB:02 192.168.122.11 * *\n"
      "duid 00:01:00:01:2c:7c:1b:6e:52:54:00:12:34:56\n"
      "1700000500 305419896 fd00::10 v6host 00:04:ab:cd\n"
      "\n"
      "garbage\n"
      "1700000000 52:54:00:aa:bb:03 192.168.122.12 toomany fields here\n"
      "17x0 52:54:00:aa:bb:04 192.168.122.13 h *\n"
      "1700000000 not-a-mac 192.168.122.14 h *\n"
      "1700000000 52:54:00:aa:bb:05 300.1.1.1 h *\n"
      "1700000000 99999999999 fd00::11 h *\n"
      "1700000000 52:54:00:aa:bb:06 192.168.122.15 half";   /* cut mid-rewrite */
  unsigned skipped = 0;
  g_autoptr(GPtrArray) l = dnsmasq_parse_leases(text, strlen(text), &skipped);
  assert_int_equal(l->len, 3);
  assert_int_equal(skipped, 7);
  const DnsmasqLease *a = l->pdata[0];
  char buf[NETWORK_ADDR_STRLEN];
  assert_true(a->expiry == 1700000000);
  assert_string_equal(a->mac, "52:54:00:aa:bb:01");
  assert_string_equal(network_addr_format(&a->ip, buf), "192.168.122.10");
  assert_string_equal(a->hostname, "web1");
  assert_string_equal(a->client_id, "01:52:54:00:aa:bb:01");
  const DnsmasqLease *b = l->pdata[1];
  assert_true(b->expiry == 0);
  assert_string_equal(b->mac, "52:54:00:aa:bb:02");
  assert_null(b->hostname);
  assert_null(b->client_id);
  const DnsmasqLease *c = l->pdata[2];
  assert_string_equal(c->mac, "");
  assert_true(c->iaid == 305419896u);
  assert_string_equal(network_addr_format(&c->ip, buf), "fd00::10");

  /* Empty, NUL bytes, no newline at all, binary noise: never a crash. */
  g_autoptr(GPtrArray) e = dnsmasq_parse_leases("", 0, &skipped);
  assert_int_equal(e->len, 0);
  assert_int_equal(skipped, 0);
  const char nul[] = "1 52:54:00:aa:bb:01 10.0.0.1 a\0b *\n2 52:54:00:aa:bb:02 10.0.0.2 b *\n";
  g_autoptr(GPtrArray) n = dnsmasq_parse_leases(nul, sizeof(nul) - 1, &skipped);
  assert_int_equal(n->len, 1);
  assert_int_equal(skipped, 1);
  guint8 noise[4096];
  GRand *rand = g_rand_new_with_seed(42);
  for (int round = 0; round < 200; round++) {
    for (size_t i = 0; i < sizeof(noise); i++)
      noise[i] = (guint8)g_rand_int_range(rand, 0, 256);
    g_autoptr(GPtrArray) x = dnsmasq_parse_leases((const char *)noise, sizeof(noise), NULL);
    assert_non_null(x);
  }
  g_rand_free(rand);
}

static void test_error_translation(void **state) {
  assert_int_equal(nft_error_to_errno("Error: Could not process rule: Operation not permitted"), -EPERM);
  assert_int_equal(nft_error_to_errno("Error: No such file or directory; did you mean table"), -ENOENT);
  assert_int_equal(nft_error_to_errno("Error: syntax error, unexpected string"), -EINVAL);
  assert_int_equal(nft_error_to_errno(""), -EIO);
  assert_int_equal(dnsmasq_exit_status_to_errno(W_EXITCODE(1, 0)), -EINVAL);
  assert_int_equal(dnsmasq_exit_status_to_errno(W_EXITCODE(2, 0)), -EADDRINUSE);
  assert_int_equal(dnsmasq_exit_status_to_errno(W_EXITCODE(0, 0)), 0);
  assert_int_equal(dnsmasq_exit_status_to_errno(9), -EINTR);
}

/* <bandwidth>: tc commands for inbound, the nft policing chain for
 * outbound, from tests/data/networks/good/multi-ip.xml. */
static void test_bandwidth(void **state) {
  g_autofree char *path = g_build_filename(data_root(), "networks", "good", "multi-ip.xml", NULL);
  g_autofree char *xml = NULL;
  gsize len = 0;
  assert_true(g_file_get_contents(path, &xml, &len, NULL));
  g_autoptr(NetworkDef) def = NULL;
  g_autofree char *err = NULL;
  assert_int_equal(network_def_parse(xml, len, &def, &err), 0);

  g_autoptr(GPtrArray) tc = bandwidth_build_tc("vbmulti", &def->bandwidth);
  assert_int_equal(tc->len, 2);
  g_autofree char *q = g_strjoinv(" ", tc->pdata[0]);
  g_autofree char *c = g_strjoinv(" ", tc->pdata[1]);
  assert_string_equal(q, "tc qdisc add dev vbmulti root handle 1: htb default 1");
  assert_string_equal(c, "tc class add dev vbmulti parent 1: classid 1:1 htb rate 1000kbps "
                         "ceil 2000kbps burst 256kb cburst 256kb");
  g_autofree char *nft = bandwidth_build_nft("vbmulti", &def->bandwidth);
  assert_non_null(strstr(nft, "add chain inet virtfs bw-vbmulti { type filter hook ingress "
                              "device \"vbmulti\" priority filter; policy accept; }\n"));
  /* burst defaults to average; kilobytes are 1000 bytes as in tc. */
  assert_non_null(strstr(nft, "limit rate over 500000 bytes/second burst 500000 bytes drop\n"));

  /* The default portgroup: what its taps get. */
  const NetworkPortgroup *pg = network_def_portgroup(def, NULL);
  assert_non_null(pg);
  assert_string_equal(pg->name, "engineering");
  /* by name: the same one, and none for a name the network lacks */
  assert_ptr_equal(network_def_portgroup(def, "engineering"), pg);
  assert_null(network_def_portgroup(def, "no-such-group"));
  g_autofree char *tap_nft = bandwidth_build_nft("vnet7", &pg->bandwidth);
  assert_non_null(strstr(tap_nft, "limit rate over 400000 bytes/second burst 64000 bytes drop"));

  /* Nothing set: no tc command, and the script only removes the chain. */
  NetworkBandwidth none = {0};
  g_autoptr(GPtrArray) tc0 = bandwidth_build_tc("vbmulti", &none);
  assert_int_equal(tc0->len, 0);
  g_autofree char *rm = bandwidth_build_nft("vbmulti", &none);
  assert_non_null(strstr(rm, "delete chain inet virtfs bw-vbmulti\n"));
  assert_null(strstr(rm, "hook ingress"));

  /* An inbound without peak or burst: ceil = rate, no burst. */
  NetworkBandwidth avg = {.in = {.average = 10}};
  g_autoptr(GPtrArray) tc1 = bandwidth_build_tc("br", &avg);
  g_autofree char *c1 = g_strjoinv(" ", tc1->pdata[1]);
  assert_string_equal(c1, "tc class add dev br parent 1: classid 1:1 htb rate 10kbps ceil 10kbps");

  /* tc's failures. */
  assert_int_equal(bandwidth_tc_error_to_errno(0, ""), 0);
  assert_int_equal(bandwidth_tc_error_to_errno(2 << 8, "Error: Specified qdisc kind is unknown."),
                   -EOPNOTSUPP);
  assert_int_equal(bandwidth_tc_error_to_errno(1 << 8, "Cannot find device \"x\""), -ENODEV);
  assert_int_equal(bandwidth_tc_error_to_errno(2 << 8, "RTNETLINK answers: Operation not permitted"),
                   -EPERM);
  assert_int_equal(bandwidth_tc_error_to_errno(1 << 8, "garbage"), -EIO);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_nft_goldens),
    cmocka_unit_test(test_bandwidth),
    cmocka_unit_test(test_nft_modes),
    cmocka_unit_test(test_dnsmasq_goldens),
    cmocka_unit_test(test_dnsmasq_options),
    cmocka_unit_test(test_leases),
    cmocka_unit_test(test_error_translation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
