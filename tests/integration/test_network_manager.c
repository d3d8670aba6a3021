/* test_network_manager.c — the network manager without FUSE: taps for
 * QEMU's interfaces (open_tap/close_tap hooks), reattaching after the
 * manager is dropped, and the default network's marker. Needs root; every
 * test case moves the process into a fresh network namespace first
 * (unshare(CLONE_NEWNET)), so nothing touches the host.
 *
 * Exits 77 (skip) without root or tools, unless CI=true, where that fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "drivers/bridge/bridge_network.h"
#include "drivers/bridge/network_manager.h"
#include "drivers/bridge/nft_rules.h"
#include "drivers/bridge/nl_link.h"
#include "objects/network_obj.h"

typedef struct {
  char *dir;
  char *run_dir;
  Registry *registry;
  NetworkManager *m;
} Fixture;

static int setup(void **state) {
  if (unshare(CLONE_NEWNET) < 0) {
    print_error("unshare(CLONE_NEWNET): %s\n", g_strerror(errno));
    return -1;
  }
  nl_link_set_up("lo", true);
  Fixture *f = g_new0(Fixture, 1);
  f->dir = g_dir_make_tmp("virtfs-netmgr-XXXXXX", NULL);
  assert_non_null(f->dir);
  g_chmod(f->dir, 0755);
  g_autofree char *state_dir = g_build_filename(f->dir, "state", NULL);
  f->run_dir = g_build_filename(f->dir, "run", NULL);
  Store *store = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(store_open(state_dir, &store, &error), 0);
  obj_type_register(&network_obj_type);
  f->registry = registry_new(store, event_bus_new());
  NetworkManagerConfig cfg = {.run_dir = f->run_dir};
  f->m = network_manager_new(f->registry, &cfg);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  Fixture *f = *state;
  g_autoptr(GPtrArray) list = registry_list(f->registry, OBJ_NETWORK, NULL);
  for (guint i = 0; i < list->len; i++)
    network_manager_stop(f->m, list->pdata[i], NULL);
  network_manager_free(f->m);
  registry_free(f->registry);
  g_autofree char *cmd = g_strdup_printf("rm -rf %s", f->dir);
  assert_int_equal(system(cmd), 0);
  g_free(f->run_dir);
  g_free(f->dir);
  g_free(f);
  return 0;
}

static Obj *define(Fixture *f, const char *xml) {
  void *def = NULL;
  g_autofree char *error = NULL;
  if (network_obj_type.parse(xml, strlen(xml), &def, &error) < 0)
    fail_msg("%s", error);
  Obj *obj = NULL;
  if (registry_define(f->registry, OBJ_NETWORK, NULL, &def, &obj, &error) < 0)
    fail_msg("%s", error);
  return obj;
}

static const char nat_xml[] =
    "<network><name>lan</name><forward mode='nat'/>"
    "<ip address='10.88.0.1' prefix='24'><dhcp><range start='10.88.0.10' end='10.88.0.20'/>"
    "</dhcp></ip></network>";

static void start_ok(Fixture *f, Obj *obj) {
  g_autofree char *error = NULL;
  int r = network_manager_start(f->m, obj, &error);
  if (r != 0)
    fail_msg("start: %d %s", r, error);
}

static DomainInterface *iface_new(InterfaceType type, const char *source, const char *mac,
                                  const char *model) {
  DomainInterface *i = g_new0(DomainInterface, 1);
  i->type = type;
  i->source = g_strdup(source);
  g_strlcpy(i->mac, mac, sizeof(i->mac));
  i->model = g_strdup(model);
  return i;
}

static int master_of(const char *link) {
  NlLinkInfo info;
  if (nl_link_get(link, &info) < 0)
    return -1;
  int m = info.master_ifindex;
  nl_link_info_clear(&info);
  return m;
}

static int ifindex_of(const char *link) {
  NlLinkInfo info;
  if (nl_link_get(link, &info) < 0)
    return -1;
  int i = info.ifindex;
  nl_link_info_clear(&info);
  return i;
}

static void test_tap_network(void **state) {
  Fixture *f = *state;
  g_autoptr(Obj) net = define(f, nat_xml);
  g_autoptr(DomainDef) def = domain_def_new_default("vm1", false);
  g_autoptr(DomainInterface) iface = iface_new(INTERFACE_NETWORK, "lan", "52:54:00:12:34:56",
                                               "virtio");
  QemuDriverHooks hooks = {0};
  network_manager_fill_qemu_hooks(f->m, &hooks);
  assert_ptr_equal(hooks.user_data, f->m);

  int fd = -1;
  g_autofree char *error = NULL;
  assert_int_equal(hooks.open_tap(hooks.user_data, def, 0, iface, &fd, &error), -EBUSY);
  assert_non_null(strstr(error, "network 'lan' is not active"));
  g_clear_pointer(&error, g_free);

  start_ok(f, net);
  assert_int_equal(hooks.open_tap(hooks.user_data, def, 0, iface, &fd, &error), 0);
  assert_true(fd >= 0);
  assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  assert_non_null(iface->target_dev);
  assert_int_equal(master_of(iface->target_dev), ifindex_of("virbr-lan"));
  NlLinkInfo info;
  assert_int_equal(nl_link_get(iface->target_dev, &info), 0);
  assert_string_equal(info.mac, "fe:54:00:12:34:56");
  assert_true(info.up);
  nl_link_info_clear(&info);

  /* The tap's name shows in the domain's addresses once a lease exists. */
  g_autofree char *leases = g_build_filename(f->run_dir, "networks", "lan", "leases", NULL);
  g_autofree char *line = g_strdup_printf("%lld 52:54:00:12:34:56 10.88.0.15 vm1 *\n",
                                          (long long)(g_get_real_time() / G_USEC_PER_SEC + 600));
  assert_true(g_file_set_contents(leases, line, -1, NULL));
  g_ptr_array_add(def->interfaces, g_steal_pointer(&iface));
  DomainInterface *live = def->interfaces->pdata[def->interfaces->len - 1];
  g_autoptr(GString) out = g_string_new(NULL);
  assert_int_equal(network_manager_domain_addresses(f->m, def, out, &error), 0);
  g_autofree char *want = g_strdup_printf("%s 52:54:00:12:34:56 10.88.0.15/24\n",
                                          live->target_dev);
  assert_string_equal(out->str, want);

  hooks.close_tap(hooks.user_data, live->target_dev);
  assert_false(nl_link_exists(live->target_dev));
  hooks.close_tap(hooks.user_data, live->target_dev); /* gone already: fine */
  close(fd);

  g_autoptr(DomainInterface) ghost = iface_new(INTERFACE_NETWORK, "nowhere",
                                               "52:54:00:12:34:57", NULL);
  assert_int_equal(network_manager_open_tap(f->m, def, 1, ghost, &fd, &error), -ENOENT);
  assert_non_null(strstr(error, "'nowhere' is not defined"));
  g_clear_pointer(&error, g_free);
  g_autoptr(DomainInterface) user = iface_new(INTERFACE_USER, NULL, "52:54:00:12:34:58", NULL);
  assert_int_equal(network_manager_open_tap(f->m, def, 2, user, &fd, &error), -EINVAL);
}

/* Output of a command (run in this process's namespace), or NULL. */
static char *command_output(const char *cmd) {
  g_autofree char *out = NULL;
  int status = 0;
  if (!g_spawn_command_line_sync(cmd, &out, NULL, &status, NULL) || status != 0)
    return NULL;
  return g_steal_pointer(&out);
}

/* Opens a tap for an interface in `portgroup` of network pg; returns its tc
 * classes (NULL: none) and closes it again. */
static char *portgroup_tap_class(Fixture *f, const DomainDef *def, size_t index,
                                 const char *mac, const char *portgroup) {
  g_autoptr(DomainInterface) iface = iface_new(INTERFACE_NETWORK, "pg", mac, "virtio");
  iface->portgroup = g_strdup(portgroup);
  int fd = -1;
  g_autofree char *error = NULL;
  int r = network_manager_open_tap(f->m, def, index, iface, &fd, &error);
  if (r != 0)
    fail_msg("open_tap (portgroup %s): %d %s", portgroup, r, error);
  g_autofree char *cmd = g_strdup_printf("tc class show dev %s", iface->target_dev);
  char *cls = command_output(cmd);
  network_manager_close_tap(f->m, iface->target_dev);
  close(fd);
  return cls;
}

/* A tap on a network whose default portgroup has a <bandwidth> gets that
 * limit: an HTB class for inbound, an nftables policing chain for
 * outbound; closing the tap removes the chain. */
static void test_tap_portgroup(void **state) {
  Fixture *f = *state;
  g_autofree char *tc = g_find_program_in_path("tc");
  if (!tc && !g_file_test("/usr/sbin/tc", G_FILE_TEST_IS_EXECUTABLE))
    skip();
  g_autoptr(Obj) net = define(f,
      "<network><name>pg</name><forward mode='nat'/>"
      "<ip address='10.89.0.1' prefix='24'/>"
      "<portgroup name='slow' default='yes'><bandwidth>"
      "<inbound average='100' peak='200'/><outbound average='50' burst='20'/>"
      "</bandwidth></portgroup><portgroup name='other'/>"
      "<portgroup name='fast'><bandwidth><inbound average='1000'/></bandwidth></portgroup>"
      "</network>");
  start_ok(f, net);
  g_autoptr(DomainDef) def = domain_def_new_default("vm3", false);
  g_autoptr(DomainInterface) iface = iface_new(INTERFACE_NETWORK, "pg", "52:54:00:12:34:59",
                                               "virtio");
  int fd = -1;
  g_autofree char *error = NULL;
  int r = network_manager_open_tap(f->m, def, 0, iface, &fd, &error);
  if (r != 0)
    fail_msg("open_tap: %d %s", r, error);
  const char *tap = iface->target_dev;
  g_autofree char *cmd = g_strdup_printf("tc class show dev %s", tap);
  g_autofree char *cls = command_output(cmd);
  assert_non_null(cls);
  if (!strstr(cls, "rate 800Kbit ceil 1600Kbit"))
    fail_msg("tc class of %s: %s", tap, cls);
  g_autofree char *chain = g_strdup_printf("list chain inet virtfs bw-%s", tap);
  g_autofree char *rules = nft_rules_list(chain, &error);
  assert_non_null(rules);
  assert_non_null(strstr(rules, "limit rate over 50000 bytes/second burst 20000 bytes drop"));
  g_autofree char *hook = g_strdup_printf("hook ingress device \"%s\"", tap);
  assert_non_null(strstr(rules, hook));

  network_manager_close_tap(f->m, tap);
  assert_false(nl_link_exists(tap));
  g_autofree char *gone = nft_rules_list(chain, NULL);
  assert_null(gone);
  close(fd);

  /* <source network='pg' portgroup='fast'>: that group's limit, not the
   * default's */
  g_autofree char *cls2 = portgroup_tap_class(f, def, 1, "52:54:00:12:34:5a", "fast");
  if (!cls2 || !strstr(cls2, "rate 8Mbit ceil 8Mbit"))
    fail_msg("tc class of the tap in portgroup 'fast': %s", cls2 ? cls2 : "(none)");

  /* a portgroup without <bandwidth>: no limit, even though the default has one */
  g_autofree char *cls3 = portgroup_tap_class(f, def, 2, "52:54:00:12:34:5b", "other");
  if (cls3 && strstr(cls3, "htb"))
    fail_msg("portgroup 'other' has no bandwidth, yet its tap has: %s", cls3);

  /* a portgroup the network lacks: refused, no tap made */
  g_autoptr(DomainInterface) bad = iface_new(INTERFACE_NETWORK, "pg", "52:54:00:12:34:5c",
                                             "virtio");
  bad->portgroup = g_strdup("nope");
  g_clear_pointer(&error, g_free);
  assert_int_equal(network_manager_open_tap(f->m, def, 3, bad, &fd, &error), -ENOENT);
  assert_string_equal(error, "interface 3: the network 'pg' has no portgroup 'nope'");
  assert_null(bad->target_dev);
}

static void test_tap_bridge(void **state) {
  Fixture *f = *state;
  g_autoptr(DomainDef) def = domain_def_new_default("vm2", false);
  g_autoptr(DomainInterface) iface = iface_new(INTERFACE_BRIDGE, "br0", "52:54:00:00:00:01",
                                               "e1000");
  int fd = -1;
  g_autofree char *error = NULL;
  assert_int_equal(network_manager_open_tap(f->m, def, 0, iface, &fd, &error), -ENOENT);
  assert_non_null(strstr(error, "host bridge 'br0' does not exist"));
  g_clear_pointer(&error, g_free);

  /* A link that is not a bridge. */
  g_autofree char *other = NULL;
  int ofd = -1;
  assert_int_equal(nl_tap_create("br0", false, &other, &ofd), 0);
  assert_int_equal(network_manager_open_tap(f->m, def, 0, iface, &fd, &error), -EINVAL);
  g_clear_pointer(&error, g_free);
  close(ofd);
  nl_tap_delete("br0");

  NlBridgeOptions opts = {.stp = false};
  assert_int_equal(nl_bridge_create("br0", &opts), 0);
  assert_int_equal(network_manager_open_tap(f->m, def, 0, iface, &fd, &error), 0);
  assert_int_equal(master_of(iface->target_dev), ifindex_of("br0"));
  network_manager_close_tap(f->m, iface->target_dev);
  assert_false(nl_link_exists(iface->target_dev));
  close(fd);
  nl_link_delete("br0");
}

static pid_t dnsmasq_pid_of(Fixture *f, Obj *obj) {
  g_autoptr(NetworkDef) live = network_manager_live_def(obj);
  BridgeDriverConfig cfg = {.run_dir = f->run_dir};
  BridgeNetworkStatus st;
  assert_int_equal(bridge_network_status(live, &cfg, &st), 0);
  return st.dnsmasq_pid;
}

static void test_reattach(void **state) {
  Fixture *f = *state;
  g_autoptr(Obj) net = define(f, nat_xml);
  start_ok(f, net);
  pid_t pid = dnsmasq_pid_of(f, net);
  assert_true(pid > 0);
  /* As a restarted daemon: a new manager finds the network again. */
  network_manager_free(f->m);
  assert_false(network_manager_is_active(net));
  NetworkManagerConfig cfg = {.run_dir = f->run_dir};
  f->m = network_manager_new(f->registry, &cfg);
  assert_int_equal(network_manager_reattach_all(f->m), 1);
  assert_true(network_manager_is_active(net));
  assert_int_equal(dnsmasq_pid_of(f, net), pid);
  g_autofree char *error = NULL;
  assert_int_equal(registry_undefine(f->registry, net, &error), -EBUSY);
  g_clear_pointer(&error, g_free);
  assert_int_equal(network_manager_start(f->m, net, &error), 1);
  assert_int_equal(network_manager_stop(f->m, net, &error), 0);
  assert_int_equal(network_manager_stop(f->m, net, &error), 1);
  assert_false(nl_link_exists("virbr-lan"));
  g_autofree char *live = g_build_filename(f->run_dir, "networks", "lan", "live.xml", NULL);
  assert_false(g_file_test(live, G_FILE_TEST_EXISTS));
}

static void test_default_once(void **state) {
  Fixture *f = *state;
  g_autofree char *error = NULL;
  assert_int_equal(network_manager_define_default(f->m, &error), 1);
  g_autoptr(Obj) def = registry_lookup(f->registry, OBJ_NETWORK, NULL, "default");
  assert_non_null(def);
  assert_false(network_manager_is_active(def));
  assert_int_equal(network_manager_define_default(f->m, &error), 0);
  assert_int_equal(registry_undefine(f->registry, def, &error), 0);
  assert_int_equal(network_manager_define_default(f->m, &error), 0);
  assert_int_equal(registry_count(f->registry, OBJ_NETWORK, NULL), 0);
}

int main(void) {
  const char *path = g_getenv("PATH");
  g_autofree char *new_path = g_strdup_printf("/usr/sbin:/sbin:%s", path ? path : "/usr/bin:/bin");
  g_setenv("PATH", new_path, TRUE);
  bool ci = g_strcmp0(g_getenv("CI"), "true") == 0;
  const char *missing = NULL;
  if (geteuid() != 0)
    missing = "root";
  g_autofree char *dnsmasq = g_find_program_in_path("dnsmasq");
  if (!missing && !dnsmasq)
    missing = "dnsmasq";
  if (missing) {
    fprintf(stderr, "test_network_manager: needs %s\n", missing);
    return ci ? 1 : 77;
  }
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_tap_network, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tap_bridge, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tap_portgroup, setup, teardown),
    cmocka_unit_test_setup_teardown(test_reattach, setup, teardown),
    cmocka_unit_test_setup_teardown(test_default_once, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
