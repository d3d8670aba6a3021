/* test_bridge_driver.c — the bridge driver against the real kernel, nft and
 * dnsmasq. Needs root. Every test case first moves the process into a fresh
 * network namespace (unshare(CLONE_NEWNET)), so bridges, addresses, nft
 * tables, sysctls and dnsmasq's sockets never touch the host; the namespace
 * disappears with the last process in it. The DHCP case adds a second
 * namespace (an `unshare -n sleep` process) for the client end of a veth
 * pair. Checks use the tools a person would: ip -j, nft -j, /proc.
 *
 * Exits 77 (skip) without root or tools, unless CI=true, where that fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <sched.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drivers/bridge/bridge_network.h"
#include "drivers/bridge/nft_rules.h"
#include "drivers/bridge/nl_link.h"

typedef struct {
  char *run_dir;
  BridgeDriverConfig cfg;
} Fixture;

/* ---- helpers ---- */

static char *run_out(const char *cmdline, int *ret_status) {
  g_auto(GStrv) argv = NULL;
  g_assert_true(g_shell_parse_argv(cmdline, NULL, &argv, NULL));
  char *out = NULL, *err = NULL;
  int status = -1;
  g_autoptr(GError) gerr = NULL;
  if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &gerr))
    fail_msg("cannot run %s: %s", cmdline, gerr->message);
  g_free(err);
  if (ret_status)
    *ret_status = status;
  return out;
}

static char *run_ok(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static char *run_ok(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *cmd = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  int status = 0;
  char *out = run_out(cmd, &status);
  if (!g_spawn_check_wait_status(status, NULL))
    fail_msg("'%s' failed (status %d): %s", cmd, status, out);
  return out;
}

static int run_status(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static int run_status(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *cmd = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  int status = 0;
  g_free(run_out(cmd, &status));
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static JsonNode *json(const char *text) {
  g_autoptr(JsonParser) p = json_parser_new();
  if (!json_parser_load_from_data(p, text, -1, NULL))
    fail_msg("not JSON: %s", text);
  return json_node_copy(json_parser_get_root(p));
}

/* The object `ip -j [-d] link show NAME` gives, or NULL if absent. */
static JsonObject *ip_link(const char *name, JsonNode **keep) {
  int status = 0;
  g_autofree char *cmd = g_strdup_printf("ip -j -d link show %s", name);
  g_autofree char *out = run_out(cmd, &status);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return NULL;
  *keep = json(out);
  JsonArray *a = json_node_get_array(*keep);
  return json_array_get_length(a) ? json_array_get_object_element(a, 0) : NULL;
}

static bool json_array_has_string(JsonArray *a, const char *s) {
  for (guint i = 0; a && i < json_array_get_length(a); i++)
    if (g_strcmp0(json_array_get_string_element(a, i), s) == 0)
      return true;
  return false;
}

/* Whether `ip -j addr` shows addr/prefix on link `name`. */
static bool has_addr(const char *name, const char *addr, int prefix) {
  g_autofree char *out = run_ok("ip -j addr show dev %s", name);
  g_autoptr(JsonNode) root = json(out);
  JsonArray *links = json_node_get_array(root);
  for (guint i = 0; i < json_array_get_length(links); i++) {
    JsonArray *infos = json_object_get_array_member(json_array_get_object_element(links, i), "addr_info");
    for (guint j = 0; j < json_array_get_length(infos); j++) {
      JsonObject *o = json_array_get_object_element(infos, j);
      if (g_strcmp0(json_object_get_string_member(o, "local"), addr) == 0 &&
          json_object_get_int_member(o, "prefixlen") == prefix)
        return true;
    }
  }
  return false;
}

/* Rules of chain `chain` in table inet virtfs as JSON texts (NULL-terminated
 * array), from `nft -j list table inet virtfs`. */
static GPtrArray *nft_rules_of(const char *chain) {
  GPtrArray *rules = g_ptr_array_new_with_free_func(g_free);
  int status = 0;
  g_autofree char *out = run_out("nft -j list table inet virtfs", &status);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return rules;
  g_autoptr(JsonNode) root = json(out);
  JsonArray *items = json_object_get_array_member(json_node_get_object(root), "nftables");
  for (guint i = 0; i < json_array_get_length(items); i++) {
    JsonObject *o = json_array_get_object_element(items, i);
    if (!json_object_has_member(o, "rule"))
      continue;
    JsonObject *r = json_object_get_object_member(o, "rule");
    if (g_strcmp0(json_object_get_string_member(r, "chain"), chain) != 0)
      continue;
    g_ptr_array_add(rules, json_to_string(json_object_get_member(r, "expr"), FALSE));
  }
  return rules;
}

static bool nft_chain_exists(const char *chain) {
  return run_status("nft list chain inet virtfs %s", chain) == 0;
}

static int count_matching(GPtrArray *rules, const char *needle) {
  int n = 0;
  for (guint i = 0; i < rules->len; i++)
    if (strstr(rules->pdata[i], needle))
      n++;
  return n;
}

/* Processes whose command line has --conf-file=CONF. */
static int count_dnsmasq(const char *conf) {
  g_autofree char *want = g_strdup_printf("--conf-file=%s", conf);
  g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
  int n = 0;
  const char *e;
  while ((e = g_dir_read_name(d))) {
    if (!g_ascii_isdigit(e[0]))
      continue;
    g_autofree char *path = g_strdup_printf("/proc/%s/cmdline", e);
    g_autofree char *cmd = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &cmd, &len, NULL))
      continue;
    for (gsize i = 0; i < len; i += strlen(cmd + i) + 1)
      if (strcmp(cmd + i, want) == 0)
        n++;
  }
  return n;
}

static NetworkDef *parse(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static NetworkDef *parse(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *xml = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  NetworkDef *def = NULL;
  g_autofree char *err = NULL;
  if (network_def_parse(xml, strlen(xml), &def, &err) < 0)
    fail_msg("parse: %s", err);
  return def;
}

static void start_ok(Fixture *f, const NetworkDef *def, gint64 *ret_us) {
  g_autofree char *err = NULL;
  gint64 t0 = g_get_monotonic_time();
  int r = bridge_network_start(def, &f->cfg, &err);
  gint64 t1 = g_get_monotonic_time();
  if (r < 0)
    fail_msg("start %s: %d %s", def->name, r, err);
  if (ret_us)
    *ret_us = t1 - t0;
}

static void stop_ok(Fixture *f, const NetworkDef *def, gint64 *ret_us) {
  g_autofree char *err = NULL;
  gint64 t0 = g_get_monotonic_time();
  int r = bridge_network_stop(def, &f->cfg, &err);
  gint64 t1 = g_get_monotonic_time();
  if (r < 0)
    fail_msg("stop %s: %d %s", def->name, r, err);
  if (ret_us)
    *ret_us = t1 - t0;
}

static pid_t dnsmasq_pid_of(Fixture *f, const NetworkDef *def) {
  BridgeNetworkStatus st;
  assert_int_equal(bridge_network_status(def, &f->cfg, &st), 0);
  return st.dnsmasq_pid;
}

/* ---- fixture: a fresh network namespace and run dir per test ---- */

static int setup(void **state) {
  if (unshare(CLONE_NEWNET) < 0) {
    print_error("unshare(CLONE_NEWNET): %s\n", g_strerror(errno));
    return -1;
  }
  Fixture *f = g_new0(Fixture, 1);
  f->run_dir = g_dir_make_tmp("virtfs-bridge-XXXXXX", NULL);
  assert_non_null(f->run_dir);
  f->cfg.run_dir = f->run_dir;
  /* Never read the host's resolv.conf in tests. */
  f->cfg.resolv_file = "";
  *state = f;
  return 0;
}

static int teardown(void **state) {
  Fixture *f = *state;
  /* Stop any dnsmasq a failed test left behind. */
  g_autofree char *nets = g_build_filename(f->run_dir, "networks", NULL);
  g_autoptr(GDir) d = g_dir_open(nets, 0, NULL);
  const char *e;
  while (d && (e = g_dir_read_name(d))) {
    g_autofree char *conf = g_build_filename(nets, e, "dnsmasq.conf", NULL);
    g_autofree char *pid = g_build_filename(nets, e, "dnsmasq.pid", NULL);
    DnsmasqFiles files = {.conf_path = conf, .pid_path = pid};
    dnsmasq_stop(&files);
  }
  g_autofree char *cmd = g_strdup_printf("rm -rf %s", f->run_dir);
  g_free(run_out(cmd, NULL));
  g_free(f->run_dir);
  g_free(f);
  return 0;
}

/* ---- tests ---- */

static void test_nat_start_stop(void **state) {
  Fixture *f = *state;
  g_autoptr(NetworkDef) def = parse(
      "<network><name>natnet</name><forward mode='nat'/>"
      "<bridge name='vtnat0' stp='on' delay='0'/><mtu size='1400'/>"
      "<ip address='10.77.0.1' netmask='255.255.255.0'><dhcp>"
      "<range start='10.77.0.10' end='10.77.0.50'/>"
      "<host mac='52:54:00:00:00:42' name='fixed' ip='10.77.0.5'/>"
      "</dhcp></ip></network>");
  assert_false(bridge_network_is_active(def, &f->cfg));
  gint64 start_us = 0, stop_us = 0;
  start_ok(f, def, &start_us);

  g_autoptr(JsonNode) keep = NULL;
  JsonObject *link = ip_link("vtnat0", &keep);
  assert_non_null(link);
  assert_true(json_array_has_string(json_object_get_array_member(link, "flags"), "UP"));
  assert_int_equal(json_object_get_int_member(link, "mtu"), 1400);
  assert_string_equal(json_object_get_string_member(link, "address"), def->mac);
  g_autofree char *alias = g_strdup_printf("virtfs-network %s", def->uuid);
  assert_string_equal(json_object_get_string_member(link, "ifalias"), alias);
  JsonObject *linkinfo = json_object_get_object_member(link, "linkinfo");
  assert_string_equal(json_object_get_string_member(linkinfo, "info_kind"), "bridge");
  JsonObject *data = json_object_get_object_member(linkinfo, "info_data");
  assert_int_equal(json_object_get_int_member(data, "stp_state"), 1);
  assert_true(has_addr("vtnat0", "10.77.0.1", 24));

  g_autoptr(GPtrArray) nat = nft_rules_of("net-vtnat0-nat");
  assert_int_equal(count_matching(nat, "\"masquerade\""), 2);
  g_autoptr(GPtrArray) fwd = nft_rules_of("net-vtnat0-fwd");
  assert_true(fwd->len >= 5);

  g_autofree char *fwd_sysctl = NULL;
  assert_true(g_file_get_contents("/proc/sys/net/ipv4/ip_forward", &fwd_sysctl, NULL, NULL));
  assert_true(g_str_has_prefix(fwd_sysctl, "1"));

  pid_t pid = dnsmasq_pid_of(f, def);
  assert_true(pid > 0);
  assert_int_equal(kill(pid, 0), 0);
  g_autofree char *conf = g_build_filename(f->run_dir, "networks", "natnet", "dnsmasq.conf", NULL);
  g_autofree char *cmdline_path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
  g_autofree char *cmdline = NULL;
  gsize cmdlen = 0;
  assert_true(g_file_get_contents(cmdline_path, &cmdline, &cmdlen, NULL));
  g_autofree char *conf_arg = g_strdup_printf("--conf-file=%s", conf);
  bool found = false;
  for (gsize i = 0; i < cmdlen; i += strlen(cmdline + i) + 1)
    found = found || strcmp(cmdline + i, conf_arg) == 0;
  assert_true(found);
  g_autofree char *conf_text = NULL;
  assert_true(g_file_get_contents(conf, &conf_text, NULL, NULL));
  assert_non_null(strstr(conf_text, "\ndhcp-range=10.77.0.10,10.77.0.50,255.255.255.0\n"));
  assert_non_null(strstr(conf_text, "\ninterface=vtnat0\n"));
  /* dnsmasq listens on the bridge's address, for DNS and DHCP. */
  g_autofree char *ss = run_ok("ss -lnup");
  assert_non_null(strstr(ss, "10.77.0.1:53"));
  assert_non_null(strstr(ss, ":67"));

  assert_true(bridge_network_is_active(def, &f->cfg));

  stop_ok(f, def, &stop_us);
  g_autoptr(JsonNode) keep2 = NULL;
  assert_null(ip_link("vtnat0", &keep2));
  assert_false(nft_chain_exists("net-vtnat0-fwd"));
  assert_false(nft_chain_exists("net-vtnat0-nat"));
  /* The pid may only be reused after the process is gone. */
  assert_true(kill(pid, 0) < 0);
  assert_int_equal(count_dnsmasq(conf), 0);
  assert_false(bridge_network_is_active(def, &f->cfg));
  BridgeNetworkStatus st;
  assert_int_equal(bridge_network_status(def, &f->cfg, &st), 0);
  assert_false(st.bridge || st.rules || st.dnsmasq);
  /* Stopping again is fine. */
  stop_ok(f, def, NULL);
  print_message("    NAT network: start %.1f ms, stop %.1f ms\n", start_us / 1000.0, stop_us / 1000.0);
}

static int cmp_int64(const void *a, const void *b) {
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
  return x < y ? -1 : x > y;
}

static void test_latency(void **state) {
  Fixture *f = *state;
  g_autoptr(NetworkDef) def = network_def_new_default();
  /* Medians over a few runs: the machine is shared. */
  enum { RUNS = 7 };
  gint64 starts[RUNS], stops[RUNS];
  for (int i = 0; i < RUNS; i++) {
    start_ok(f, def, &starts[i]);
    assert_true(bridge_network_is_active(def, &f->cfg));
    stop_ok(f, def, &stops[i]);
  }
  qsort(starts, RUNS, sizeof(gint64), cmp_int64);
  qsort(stops, RUNS, sizeof(gint64), cmp_int64);
  print_message("    default network (NAT + dnsmasq), %d runs: start median %.1f ms (max %.1f), "
                "stop median %.1f ms (max %.1f)\n", RUNS, starts[RUNS / 2] / 1000.0,
                starts[RUNS - 1] / 1000.0, stops[RUNS / 2] / 1000.0, stops[RUNS - 1] / 1000.0);
  /* Generous bounds: the goal is 100/50 ms; this catches a sleep or a hang. */
  assert_true(starts[RUNS / 2] < 1000 * 1000);
  assert_true(stops[RUNS / 2] < 1000 * 1000);
}

static void test_modes(void **state) {
  Fixture *f = *state;
  g_autoptr(NetworkDef) iso = parse(
      "<network><name>iso</name><bridge name='vtiso0'/>"
      "<ip address='10.78.0.1' prefix='24'><dhcp><range start='10.78.0.10' end='10.78.0.20'/></dhcp></ip>"
      "</network>");
  g_autoptr(NetworkDef) route = parse(
      "<network><name>rt</name><forward mode='route'/><bridge name='vtrt0'/>"
      "<ip address='10.79.0.1' prefix='24'/>"
      "<ip family='ipv6' address='fd00:79::1' prefix='64'/></network>");
  g_autoptr(NetworkDef) open = parse(
      "<network><name>op</name><forward mode='open'/><bridge name='vtop0'/>"
      "<ip address='10.80.0.1' prefix='24'/></network>");
  /* All three at once: per-network chains coexist. */
  start_ok(f, iso, NULL);
  start_ok(f, route, NULL);
  start_ok(f, open, NULL);

  g_autoptr(GPtrArray) iso_fwd = nft_rules_of("net-vtiso0-fwd");
  assert_int_equal(count_matching(iso_fwd, "\"reject\""), 2);
  assert_int_equal(count_matching(iso_fwd, "10.78.0.0"), 0);
  assert_false(nft_chain_exists("net-vtiso0-nat"));
  assert_true(has_addr("vtiso0", "10.78.0.1", 24));
  assert_true(dnsmasq_pid_of(f, iso) > 0);

  g_autoptr(GPtrArray) rt_fwd = nft_rules_of("net-vtrt0-fwd");
  assert_int_equal(count_matching(rt_fwd, "10.79.0.0"), 2);
  assert_int_equal(count_matching(rt_fwd, "fd00:79::"), 2);
  assert_int_equal(count_matching(rt_fwd, "\"reject\""), 2);
  assert_false(nft_chain_exists("net-vtrt0-nat"));
  assert_true(has_addr("vtrt0", "fd00:79::1", 64));
  g_autofree char *v6fwd = NULL;
  assert_true(g_file_get_contents("/proc/sys/net/ipv6/conf/all/forwarding", &v6fwd, NULL, NULL));
  assert_true(g_str_has_prefix(v6fwd, "1"));

  g_autoptr(GPtrArray) op_fwd = nft_rules_of("net-vtop0-fwd");
  assert_int_equal(op_fwd->len, 2);
  assert_int_equal(count_matching(op_fwd, "\"accept\""), 2);
  assert_int_equal(count_matching(op_fwd, "\"reject\""), 0);

  assert_true(bridge_network_is_active(iso, &f->cfg));
  assert_true(bridge_network_is_active(route, &f->cfg));
  assert_true(bridge_network_is_active(open, &f->cfg));

  /* Stopping one leaves the others alone. */
  stop_ok(f, route, NULL);
  assert_false(nft_chain_exists("net-vtrt0-fwd"));
  assert_true(nft_chain_exists("net-vtiso0-fwd"));
  assert_true(nft_chain_exists("net-vtop0-fwd"));
  assert_true(bridge_network_is_active(iso, &f->cfg));
  stop_ok(f, iso, NULL);
  stop_ok(f, open, NULL);
  g_autoptr(JsonNode) k = NULL;
  assert_null(ip_link("vtiso0", &k));
  assert_null(ip_link("vtop0", &k));
}

static void test_bridge_mode(void **state) {
  Fixture *f = *state;
  g_free(run_ok("ip link add hostbr0 type bridge"));
  g_free(run_ok("ip link add notabr0 type veth peer name notabr1"));
  g_autoptr(NetworkDef) def = parse(
      "<network><name>hb</name><forward mode='bridge'/><bridge name='hostbr0'/></network>");
  g_autoptr(NetworkDef) missing = parse(
      "<network><name>hm</name><forward mode='bridge' dev='nosuchbr'/></network>");
  g_autoptr(NetworkDef) dummy = parse(
      "<network><name>hd</name><forward mode='bridge' dev='notabr0'/></network>");
  start_ok(f, def, NULL);
  assert_true(bridge_network_is_active(def, &f->cfg));
  g_autofree char *err = NULL;
  assert_int_equal(bridge_network_start(missing, &f->cfg, &err), -ENODEV);
  assert_non_null(strstr(err, "does not exist"));
  g_clear_pointer(&err, g_free);
  assert_int_equal(bridge_network_start(dummy, &f->cfg, &err), -EMEDIUMTYPE);
  g_clear_pointer(&err, g_free);

  /* A guest's tap goes onto the host bridge. */
  g_autofree char *tap = NULL;
  int fd = -1;
  assert_int_equal(bridge_tap_create("hostbr0", "52:54:00:01:02:03", false, &tap, &fd, &err), 0);
  g_autoptr(JsonNode) k = NULL;
  JsonObject *l = ip_link(tap, &k);
  assert_non_null(l);
  assert_string_equal(json_object_get_string_member(l, "master"), "hostbr0");
  close(fd);
  assert_int_equal(bridge_tap_delete(tap), 0);

  stop_ok(f, def, NULL);
  /* The host's bridge is not ours to remove, and no rules were made. */
  g_autoptr(JsonNode) k2 = NULL;
  assert_non_null(ip_link("hostbr0", &k2));
  assert_int_equal(run_status("nft list table inet virtfs"), 1);
}

static void test_idempotent_restart(void **state) {
  Fixture *f = *state;
  g_autoptr(NetworkDef) def = parse(
      "<network><name>twice</name><forward mode='nat'/><bridge name='vttw0'/>"
      "<ip address='10.81.0.1' prefix='24'><dhcp><range start='10.81.0.10' end='10.81.0.20'/></dhcp></ip>"
      "</network>");
  start_ok(f, def, NULL);
  g_autoptr(GPtrArray) fwd1 = nft_rules_of("net-vttw0-fwd");
  g_autoptr(GPtrArray) nat1 = nft_rules_of("net-vttw0-nat");
  pid_t pid1 = dnsmasq_pid_of(f, def);
  /* A second start (as after a daemon restart) replaces, never duplicates. */
  start_ok(f, def, NULL);
  g_autoptr(GPtrArray) fwd2 = nft_rules_of("net-vttw0-fwd");
  g_autoptr(GPtrArray) nat2 = nft_rules_of("net-vttw0-nat");
  assert_int_equal(fwd1->len, fwd2->len);
  assert_int_equal(nat1->len, nat2->len);
  g_autofree char *conf = g_build_filename(f->run_dir, "networks", "twice", "dnsmasq.conf", NULL);
  assert_int_equal(count_dnsmasq(conf), 1);
  assert_true(dnsmasq_pid_of(f, def) != pid1);
  assert_true(bridge_network_is_active(def, &f->cfg));

  /* Leftovers of a crash: a stale address, a dead dnsmasq, missing rules. */
  g_free(run_ok("ip addr add 10.99.99.1/24 dev vttw0"));
  kill(dnsmasq_pid_of(f, def), SIGKILL);
  g_free(run_ok("nft delete chain inet virtfs net-vttw0-nat"));
  assert_false(bridge_network_is_active(def, &f->cfg));
  start_ok(f, def, NULL);
  assert_false(has_addr("vttw0", "10.99.99.1", 24));
  assert_true(has_addr("vttw0", "10.81.0.1", 24));
  assert_true(bridge_network_is_active(def, &f->cfg));
  assert_int_equal(count_dnsmasq(conf), 1);
  stop_ok(f, def, NULL);
  stop_ok(f, def, NULL);
}

static void test_refusals(void **state) {
  Fixture *f = *state;
  g_free(run_ok("ip link add vtforeign type bridge"));
  g_autoptr(NetworkDef) foreign = parse(
      "<network><name>fo</name><bridge name='vtforeign'/></network>");
  g_autofree char *err = NULL;
  assert_int_equal(bridge_network_start(foreign, &f->cfg, &err), -EEXIST);
  assert_non_null(strstr(err, "was not made by virtfs"));
  g_clear_pointer(&err, g_free);
  g_autoptr(JsonNode) k = NULL;
  assert_non_null(ip_link("vtforeign", &k));

  g_free(run_ok("ip link add vtdummy type veth peer name vtdummy1"));
  g_free(run_ok("ip addr add 10.82.0.5/24 dev vtdummy"));
  g_autoptr(NetworkDef) clash = parse(
      "<network><name>cl</name><forward mode='nat'/><bridge name='vtcl0'/>"
      "<ip address='10.82.0.1' prefix='24'/></network>");
  assert_int_equal(bridge_network_start(clash, &f->cfg, &err), -EADDRINUSE);
  assert_non_null(strstr(err, "already in use by interface vtdummy"));
  g_autoptr(JsonNode) k2 = NULL;
  assert_null(ip_link("vtcl0", &k2));
  assert_false(nft_chain_exists("net-vtcl0-fwd"));

  /* dnsmasq refusing to start (here: a bad binary) undoes everything. */
  g_autoptr(NetworkDef) def = network_def_new_default();
  BridgeDriverConfig bad = f->cfg;
  bad.dnsmasq_binary = "/bin/false";
  g_clear_pointer(&err, g_free);
  assert_true(bridge_network_start(def, &bad, &err) < 0);
  assert_non_null(strstr(err, "dnsmasq failed to start"));
  g_autoptr(JsonNode) k3 = NULL;
  assert_null(ip_link(def->bridge, &k3));
  assert_false(nft_chain_exists("net-virbr-default-fwd"));
}

static void test_tap(void **state) {
  Fixture *f = *state;
  g_autoptr(NetworkDef) def = parse(
      "<network><name>tapnet</name><forward mode='nat'/><bridge name='vttap0'/><mtu size='1450'/>"
      "<ip address='10.83.0.1' prefix='24'/></network>");
  start_ok(f, def, NULL);
  g_autofree char *tap = NULL, *err = NULL;
  int fd = -1;
  assert_int_equal(bridge_tap_create("vttap0", "52:54:00:12:34:56", true, &tap, &fd, &err), 0);
  assert_true(fd >= 0);
  assert_true(g_str_has_prefix(tap, "vnet"));
  g_autoptr(JsonNode) k = NULL;
  JsonObject *l = ip_link(tap, &k);
  assert_non_null(l);
  assert_string_equal(json_object_get_string_member(l, "master"), "vttap0");
  assert_string_equal(json_object_get_string_member(l, "address"), "fe:54:00:12:34:56");
  assert_int_equal(json_object_get_int_member(l, "mtu"), 1450);
  assert_true(json_array_has_string(json_object_get_array_member(l, "flags"), "UP"));
  JsonObject *info = json_object_get_object_member(json_object_get_object_member(l, "linkinfo"), "info_data");
  assert_string_equal(json_object_get_string_member(info, "type"), "tap");
  assert_true(json_object_get_boolean_member(info, "pi") == FALSE);
  assert_true(json_object_get_boolean_member(info, "vnet_hdr"));
  /* Persistent: it outlives the fd, until deleted. */
  close(fd);
  g_autoptr(JsonNode) k2 = NULL;
  assert_non_null(ip_link(tap, &k2));
  NlLinkInfo li;
  assert_int_equal(nl_link_get(tap, &li), 0);
  assert_string_equal(li.kind, "tun");
  nl_link_info_clear(&li);
  assert_int_equal(bridge_tap_delete(tap), 0);
  g_autoptr(JsonNode) k3 = NULL;
  assert_null(ip_link(tap, &k3));
  assert_int_equal(bridge_tap_delete(tap), 0);
  assert_int_equal(bridge_tap_create("nosuchbr", NULL, false, &tap, &fd, &err), -ENODEV);
  stop_ok(f, def, NULL);
}

typedef struct {
  GMainLoop *loop;
  DnsmasqWatchEvent event;
  pid_t pid;
  int calls;
} WatchSeen;

static void on_watch(DnsmasqWatchEvent event, pid_t new_pid, const char *error, void *userdata) {
  WatchSeen *s = userdata;
  s->event = event;
  s->pid = new_pid;
  s->calls++;
  if (error)
    print_message("    watch: %s\n", error);
  g_main_loop_quit(s->loop);
}

static gboolean on_timeout(gpointer data) {
  g_main_loop_quit(data);
  return G_SOURCE_REMOVE;
}

static void test_watch_restart(void **state) {
  Fixture *f = *state;
  g_autoptr(NetworkDef) def = network_def_new_default();
  start_ok(f, def, NULL);
  pid_t old = dnsmasq_pid_of(f, def);
  g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
  WatchSeen seen = {.loop = loop};
  DnsmasqWatch *w = NULL;
  assert_int_equal(bridge_network_watch(def, &f->cfg, NULL, on_watch, &seen, NULL, &w), 0);
  assert_non_null(w);
  assert_int_equal(dnsmasq_watch_pid(w), old);

  for (int round = 0; round < 2; round++) {
    pid_t before = dnsmasq_watch_pid(w);
    gint64 t0 = g_get_monotonic_time();
    assert_int_equal(kill(before, SIGKILL), 0);
    guint timer = g_timeout_add(5000, on_timeout, loop);
    g_main_loop_run(loop);
    g_source_remove(timer);
    assert_int_equal(seen.calls, round + 1);
    assert_int_equal(seen.event, DNSMASQ_WATCH_RESTARTED);
    assert_true(seen.pid > 0 && seen.pid != before);
    assert_int_equal(kill(seen.pid, 0), 0);
    assert_int_equal(dnsmasq_pid_of(f, def), seen.pid);
    print_message("    dnsmasq restarted after kill -9 in %.1f ms\n",
                  (g_get_monotonic_time() - t0) / 1000.0);
  }
  assert_true(bridge_network_is_active(def, &f->cfg));
  dnsmasq_watch_free(w);
  stop_ok(f, def, NULL);
  /* No restart after the watch is gone. */
  g_main_context_iteration(NULL, FALSE);
  assert_int_equal(dnsmasq_pid_of(f, def), 0);

  /* A crash loop: the fifth exit within 30 s is reported, not restarted. */
  start_ok(f, def, NULL);
  seen = (WatchSeen){.loop = loop};
  assert_int_equal(bridge_network_watch(def, &f->cfg, NULL, on_watch, &seen, NULL, &w), 0);
  for (int round = 0; round < 5; round++) {
    assert_int_equal(kill(dnsmasq_watch_pid(w), SIGKILL), 0);
    guint timer = g_timeout_add(5000, on_timeout, loop);
    g_main_loop_run(loop);
    g_source_remove(timer);
    assert_int_equal(seen.calls, round + 1);
    assert_int_equal(seen.event, round < 4 ? DNSMASQ_WATCH_RESTARTED : DNSMASQ_WATCH_FAILED);
  }
  assert_int_equal(dnsmasq_watch_pid(w), 0);
  assert_false(bridge_network_is_active(def, &f->cfg));
  dnsmasq_watch_free(w);
  stop_ok(f, def, NULL);
  g_main_context_iteration(NULL, FALSE);
  assert_int_equal(dnsmasq_pid_of(f, def), 0);
}

static void test_dhcp_lease(void **state) {
  Fixture *f = *state;
  g_autoptr(NetworkDef) def = parse(
      "<network><name>dhcp</name><forward mode='nat'/><bridge name='vtdh0' stp='off'/>"
      "<ip address='10.84.0.1' prefix='24'><dhcp><range start='10.84.0.100' end='10.84.0.110'/></dhcp></ip>"
      "</network>");
  start_ok(f, def, NULL);
  /* The guest: the far end of a veth pair, in its own namespace. */
  g_free(run_ok("ip link add vt-host type veth peer name vt-guest"));
  assert_int_equal(nl_link_set_master("vt-host", "vtdh0"), 0);
  assert_int_equal(nl_link_set_up("vt-host", true), 0);
  NlLinkInfo gi;
  assert_int_equal(nl_link_get("vt-guest", &gi), 0);
  char guest_mac[18];
  g_strlcpy(guest_mac, gi.mac, sizeof(guest_mac));
  nl_link_info_clear(&gi);

  char *argv[] = {(char *)"unshare", (char *)"-n", (char *)"sleep", (char *)"60", NULL};
  GPid holder = 0;
  assert_true(g_spawn_async(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                            NULL, NULL, &holder, NULL));
  /* Wait until it has its own namespace (unshare runs before exec). */
  g_autofree char *mine = g_file_read_link("/proc/self/ns/net", NULL);
  g_autofree char *ns_path = g_strdup_printf("/proc/%d/ns/net", (int)holder);
  for (int i = 0; i < 500; i++) {
    g_autofree char *theirs = g_file_read_link(ns_path, NULL);
    if (theirs && g_strcmp0(theirs, mine) != 0)
      break;
    g_usleep(2000);
  }
  g_free(run_ok("ip link set vt-guest netns %d", (int)holder));
  g_free(run_ok("nsenter -t %d -n ip link set vt-guest up", (int)holder));
  g_autofree char *out = run_ok(
      "nsenter -t %d -n busybox udhcpc -i vt-guest -f -q -n -t 10 -T 1 -s /bin/true "
      "-x hostname:guest1", (int)holder);

  g_autoptr(GPtrArray) leases = NULL;
  g_autofree char *err = NULL;
  for (int i = 0; i < 200; i++) {
    g_clear_pointer(&leases, g_ptr_array_unref);
    assert_int_equal(bridge_network_read_leases(def, &f->cfg, &leases, &err), 0);
    if (leases->len)
      break;
    g_usleep(10000);
  }
  kill(holder, SIGKILL);
  waitpid(holder, NULL, 0);
  if (!leases->len)
    fail_msg("no lease; udhcpc said: %s", out);
  const DnsmasqLease *l = leases->pdata[0];
  assert_string_equal(l->mac, guest_mac);
  assert_string_equal(l->hostname, "guest1");
  NetworkAddr lo, hi;
  network_addr_parse("10.84.0.100", &lo);
  network_addr_parse("10.84.0.110", &hi);
  assert_true(network_addr_compare(&l->ip, &lo) >= 0 && network_addr_compare(&l->ip, &hi) <= 0);
  assert_true(l->expiry > (int64_t)time(NULL));
  char buf[NETWORK_ADDR_STRLEN];
  print_message("    udhcpc got %s for %s\n", network_addr_format(&l->ip, buf), l->mac);
  stop_ok(f, def, NULL);
}

/* ---- main ---- */

static bool have(const char *prog) {
  g_autofree char *p = g_find_program_in_path(prog);
  return p != NULL;
}

int main(void) {
  const char *path = g_getenv("PATH");
  g_autofree char *new_path = g_strdup_printf("/usr/sbin:/sbin:%s", path ? path : "/usr/bin:/bin");
  g_setenv("PATH", new_path, TRUE);
  bool ci = g_strcmp0(g_getenv("CI"), "true") == 0;
  const char *missing = NULL;
  if (geteuid() != 0)
    missing = "root";
  for (const char *const *p = (const char *const[]){"ip", "nft", "dnsmasq", "busybox",
                                                    "nsenter", "unshare", "ss", NULL};
       *p && !missing; p++)
    if (!have(*p))
      missing = *p;
  if (missing) {
    fprintf(stderr, "test_bridge_driver: needs %s\n", missing);
    return ci ? 1 : 77;
  }
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_nat_start_stop, setup, teardown),
    cmocka_unit_test_setup_teardown(test_latency, setup, teardown),
    cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bridge_mode, setup, teardown),
    cmocka_unit_test_setup_teardown(test_idempotent_restart, setup, teardown),
    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tap, setup, teardown),
    cmocka_unit_test_setup_teardown(test_watch_restart, setup, teardown),
    cmocka_unit_test_setup_teardown(test_dhcp_lease, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
