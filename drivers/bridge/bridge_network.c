/* bridge_network.c — start/stop/status of a virtual network from its
 * NetworkDef, composed from nl_link (bridge, addresses, taps), nft_rules
 * (firewall) and dnsmasq (DHCP/DNS); see bridge_network.h for the contract.
 * Nothing here sleeps: every wait is on an event (netlink ack, pidfd,
 * inotify). */
#include "drivers/bridge/bridge_network.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/bridge/bandwidth.h"
#include "drivers/bridge/nft_rules.h"
#include "drivers/bridge/nl_link.h"

#define ALIAS_PREFIX "virtfs-network "

static int fail(char **ret_error, int err, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static int fail(char **ret_error, int err, const char *fmt, ...) {
  if (ret_error) {
    va_list ap;
    va_start(ap, fmt);
    g_free(*ret_error);
    *ret_error = g_strdup_vprintf(fmt, ap);
    va_end(ap);
  }
  return err;
}

char *bridge_network_dir(const NetworkDef *def, const BridgeDriverConfig *cfg) {
  return g_build_filename(cfg->run_dir, "networks", def->name, NULL);
}

DnsmasqFiles bridge_network_dnsmasq_files(const NetworkDef *def, const BridgeDriverConfig *cfg,
                                          char **ret_conf, char **ret_pid, char **ret_log) {
  g_autofree char *dir = bridge_network_dir(def, cfg);
  *ret_conf = g_build_filename(dir, "dnsmasq.conf", NULL);
  *ret_pid = g_build_filename(dir, "dnsmasq.pid", NULL);
  *ret_log = g_build_filename(dir, "dnsmasq.log", NULL);
  return (DnsmasqFiles){.binary = cfg->dnsmasq_binary, .conf_path = *ret_conf,
                        .pid_path = *ret_pid, .log_path = *ret_log};
}

static char *lease_path(const NetworkDef *def, const BridgeDriverConfig *cfg) {
  g_autofree char *dir = bridge_network_dir(def, cfg);
  return g_build_filename(dir, "leases", NULL);
}

static char *owner_alias(const NetworkDef *def) {
  return g_strdup_printf(ALIAS_PREFIX "%s", def->uuid);
}

/* Whether `info` is the bridge virtfs made for `def`. */
static bool is_ours(const NetworkDef *def, const NlLinkInfo *info) {
  g_autofree char *alias = owner_alias(def);
  return strcmp(info->kind, "bridge") == 0 && g_strcmp0(info->alias, alias) == 0;
}

/* Writes "0" or "1" to a sysctl file unless it already says so. The files
 * under /proc/sys/net belong to the caller's network namespace. */
static int sysctl_set(const char *path, bool on, char **ret_error) {
  g_autofree char *cur = NULL;
  const char *want = on ? "1\n" : "0\n";
  if (g_file_get_contents(path, &cur, NULL, NULL) && cur[0] == want[0])
    return 0;
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, want, 2) != 2) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    return fail(ret_error, -e, "cannot write %c to %s: %s", want[0], path, g_strerror(e));
  }
  close(fd);
  return 0;
}

static int sysctl_enable(const char *path, char **ret_error) {
  return sysctl_set(path, true, ret_error);
}

/* IPv6 on the bridge, as libvirt sets it: on when the network has an IPv6
 * <ip> or says ipv6='yes' (guests then talk IPv6 among themselves), off
 * otherwise; and never autoconfigured from a guest's router
 * advertisements. A kernel without IPv6 has no such files: nothing to do. */
static int set_bridge_ipv6(const NetworkDef *def, char **ret_error) {
  bool on = def->ipv6 || network_def_first_ip(def, AF_INET6);
  g_autofree char *dir = g_build_filename("/proc/sys/net/ipv6/conf", def->bridge, NULL);
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
    return 0;
  g_autofree char *disable = g_build_filename(dir, "disable_ipv6", NULL);
  g_autofree char *accept_ra = g_build_filename(dir, "accept_ra", NULL);
  int r = sysctl_set(disable, !on, ret_error);
  if (r >= 0 && on)
    r = sysctl_set(accept_ra, false, ret_error);
  return r;
}

static int enable_forwarding(const NetworkDef *def, char **ret_error) {
  if (def->forward != NETWORK_FORWARD_NAT && def->forward != NETWORK_FORWARD_ROUTE &&
      def->forward != NETWORK_FORWARD_OPEN)
    return 0;
  int r = 0;
  if (network_def_first_ip(def, AF_INET))
    r = sysctl_enable("/proc/sys/net/ipv4/ip_forward", ret_error);
  if (r >= 0 && network_def_first_ip(def, AF_INET6))
    r = sysctl_enable("/proc/sys/net/ipv6/conf/all/forwarding", ret_error);
  return r;
}

static bool is_link_local6(const NetworkAddr *a) {
  return a->family == AF_INET6 && a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80;
}

/* Refuses a subnet some other interface already has an address in: the
 * routes would fight and guests would reach the wrong hosts. */
static int check_subnets_free(const NetworkDef *def, int own_ifindex, char **ret_error) {
  g_autoptr(GArray) addrs = NULL;
  int r = nl_addr_list(NULL, &addrs);
  if (r < 0)
    return fail(ret_error, r, "cannot list the host's addresses: %s", g_strerror(-r));
  for (guint i = 0; i < addrs->len; i++) {
    const NlAddr *a = &g_array_index(addrs, NlAddr, i);
    if (a->ifindex == own_ifindex || is_link_local6(&a->addr))
      continue;
    for (guint f = 0; f < def->ips->len; f++) {
      const NetworkIp *ip = def->ips->pdata[f];
      if (!network_subnets_overlap(&ip->address, ip->prefix, &a->addr, a->prefix))
        continue;
      char ifname[IF_NAMESIZE] = "?";
      if_indextoname((unsigned)a->ifindex, ifname);
      char b1[NETWORK_ADDR_STRLEN], b2[NETWORK_ADDR_STRLEN];
      NetworkAddr net = network_addr_mask(&ip->address, ip->prefix);
      return fail(ret_error, -EADDRINUSE,
                  "network '%s': the subnet %s/%u is already in use by interface %s (%s/%u)",
                  def->name, network_addr_format(&net, b1), ip->prefix, ifname,
                  network_addr_format(&a->addr, b2), a->prefix);
    }
  }
  return 0;
}

/* Makes the bridge's addresses exactly the definition's (link-local IPv6
 * addresses, which the kernel manages, are kept). */
static int sync_addresses(const NetworkDef *def, char **ret_error) {
  g_autoptr(GArray) addrs = NULL;
  int r = nl_addr_list(def->bridge, &addrs);
  if (r < 0)
    return fail(ret_error, r, "cannot list the addresses of %s: %s", def->bridge, g_strerror(-r));
  for (guint i = 0; i < addrs->len; i++) {
    const NlAddr *a = &g_array_index(addrs, NlAddr, i);
    const NetworkIp *want = network_def_ip_for(def, &a->addr);
    if (is_link_local6(&a->addr))
      continue;
    if (want && want->prefix == a->prefix && network_addr_compare(&want->address, &a->addr) == 0)
      continue;
    r = nl_addr_del(def->bridge, &a->addr, a->prefix);
    if (r < 0 && r != -EADDRNOTAVAIL)
      return fail(ret_error, r, "cannot remove a stale address from %s: %s", def->bridge,
                  g_strerror(-r));
  }
  for (guint f = 0; f < def->ips->len; f++) {
    const NetworkIp *ip = def->ips->pdata[f];
    r = nl_addr_add(def->bridge, &ip->address, ip->prefix);
    if (r < 0 && r != -EEXIST) {
      char b[NETWORK_ADDR_STRLEN];
      return fail(ret_error, r, "cannot add %s/%u to %s: %s", network_addr_format(&ip->address, b),
                  ip->prefix, def->bridge, g_strerror(-r));
    }
  }
  return 0;
}

static int start_host_bridge(const NetworkDef *def, char **ret_error) {
  NlLinkInfo info;
  int r = nl_link_get(def->bridge, &info);
  if (r == -ENODEV)
    return fail(ret_error, r, "network '%s': the host bridge %s does not exist", def->name,
                def->bridge);
  if (r < 0)
    return fail(ret_error, r, "network '%s': cannot look up %s: %s", def->name, def->bridge,
                g_strerror(-r));
  bool bridge = strcmp(info.kind, "bridge") == 0;
  nl_link_info_clear(&info);
  if (!bridge)
    return fail(ret_error, -EMEDIUMTYPE, "network '%s': %s is not a bridge", def->name,
                def->bridge);
  return 0;
}

static int start_dnsmasq(const NetworkDef *def, const BridgeDriverConfig *cfg, char **ret_error) {
  g_autofree char *conf = NULL, *pid = NULL, *log = NULL;
  DnsmasqFiles files = bridge_network_dnsmasq_files(def, cfg, &conf, &pid, &log);
  g_autofree char *leases = lease_path(def, cfg);
  DnsmasqConfigOptions opts = {.pid_path = pid, .lease_path = leases,
                               .resolv_file = cfg->resolv_file, .user = cfg->dnsmasq_user};
  g_autofree char *text = dnsmasq_build_config(def, &opts);
  g_autoptr(GError) gerr = NULL;
  if (!g_file_set_contents_full(conf, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &gerr))
    return fail(ret_error, -EIO, "network '%s': cannot write %s: %s", def->name, conf,
                gerr->message);
  pid_t p = 0;
  g_autofree char *why = NULL;
  int r = dnsmasq_spawn(&files, &p, NULL, &why);
  if (r < 0)
    return fail(ret_error, r, "network '%s': %s", def->name, why);
  return 0;
}

static void stop_dnsmasq(const NetworkDef *def, const BridgeDriverConfig *cfg) {
  g_autofree char *conf = NULL, *pid = NULL, *log = NULL;
  DnsmasqFiles files = bridge_network_dnsmasq_files(def, cfg, &conf, &pid, &log);
  dnsmasq_stop(&files);
}

int bridge_network_start(const NetworkDef *def, const BridgeDriverConfig *cfg, char **ret_error) {
  if (def->forward == NETWORK_FORWARD_BRIDGE)
    return start_host_bridge(def, ret_error);

  g_autofree char *dir = bridge_network_dir(def, cfg);
  if (g_mkdir_with_parents(dir, 0755) < 0) {
    int e = errno;
    return fail(ret_error, -e, "network '%s': cannot create %s: %s", def->name, dir, g_strerror(e));
  }
  /* A dnsmasq left by a crashed daemon holds the old config: replace it. */
  stop_dnsmasq(def, cfg);

  NlLinkInfo info;
  bool reused = false;
  int own_ifindex = 0;
  g_autofree char *nft_error = NULL;
  g_autofree char *tc_error = NULL;
  int r = nl_link_get(def->bridge, &info);
  if (r == 0) {
    bool ours = is_ours(def, &info);
    own_ifindex = info.ifindex;
    nl_link_info_clear(&info);
    if (!ours)
      return fail(ret_error, -EEXIST, "network '%s': the interface %s already exists and "
                  "was not made by virtfs for this network", def->name, def->bridge);
    reused = true;
  } else if (r != -ENODEV) {
    return fail(ret_error, r, "network '%s': cannot look up %s: %s", def->name, def->bridge,
                g_strerror(-r));
  }
  if ((r = check_subnets_free(def, own_ifindex, ret_error)) < 0)
    return r;

  g_autofree char *alias = owner_alias(def);
  NlBridgeOptions opts = {.stp = def->stp, .delay = def->delay, .mtu = def->mtu,
                          .mac = def->mac[0] ? def->mac : NULL, .alias = alias};
  r = reused ? nl_bridge_configure(def->bridge, &opts) : nl_bridge_create(def->bridge, &opts);
  if (r < 0)
    return fail(ret_error, r, "network '%s': cannot %s the bridge %s: %s", def->name,
                reused ? "configure" : "create", def->bridge, g_strerror(-r));

  /* IPv6 settings first: addresses on a bridge with IPv6 off would fail. */
  if ((r = set_bridge_ipv6(def, ret_error)) < 0 || (r = sync_addresses(def, ret_error)) < 0)
    goto undo;
  if ((r = nl_link_set_up(def->bridge, true)) < 0) {
    fail(ret_error, r, "network '%s': cannot set %s up: %s", def->name, def->bridge,
         g_strerror(-r));
    goto undo;
  }
  if ((r = enable_forwarding(def, ret_error)) < 0)
    goto undo;
  if ((r = nft_rules_add(def, &nft_error)) < 0) {
    fail(ret_error, r, "network '%s': %s", def->name, nft_error);
    goto undo;
  }
  if ((r = bandwidth_apply_tc(def->bridge, &def->bandwidth, &tc_error)) < 0) {
    fail(ret_error, r, "network '%s': cannot set the inbound bandwidth: %s", def->name, tc_error);
    goto undo;
  }
  if (network_def_wants_dnsmasq(def) && (r = start_dnsmasq(def, cfg, ret_error)) < 0)
    goto undo;
  return 0;

undo:
  nft_rules_remove(def, NULL);
  stop_dnsmasq(def, cfg);
  if (!reused)
    nl_link_delete(def->bridge);
  return r;
}

int bridge_network_stop(const NetworkDef *def, const BridgeDriverConfig *cfg, char **ret_error) {
  if (def->forward == NETWORK_FORWARD_BRIDGE)
    return 0;
  stop_dnsmasq(def, cfg);
  g_autofree char *nft_error = NULL;
  int r = nft_rules_remove(def, &nft_error);
  if (r < 0)
    return fail(ret_error, r, "network '%s': %s", def->name, nft_error);
  NlLinkInfo info;
  if (nl_link_get(def->bridge, &info) == 0) {
    bool ours = is_ours(def, &info);
    nl_link_info_clear(&info);
    if (ours && (r = nl_link_delete(def->bridge)) < 0 && r != -ENODEV)
      return fail(ret_error, r, "network '%s': cannot delete the bridge %s: %s", def->name,
                  def->bridge, g_strerror(-r));
  }
  g_autofree char *conf = NULL, *pid = NULL, *log = NULL;
  bridge_network_dnsmasq_files(def, cfg, &conf, &pid, &log);
  unlink(conf);
  return 0;
}

int bridge_network_status(const NetworkDef *def, const BridgeDriverConfig *cfg,
                          BridgeNetworkStatus *ret_status) {
  BridgeNetworkStatus st = {0};
  NlLinkInfo info;
  int r = nl_link_get(def->bridge, &info);
  if (r < 0 && r != -ENODEV)
    return r;
  if (r == 0) {
    if (def->forward == NETWORK_FORWARD_BRIDGE)
      st.bridge = strcmp(info.kind, "bridge") == 0;
    else
      st.bridge = is_ours(def, &info);
    st.up = st.bridge && info.up;
    nl_link_info_clear(&info);
  }
  st.addresses = st.bridge;
  if (st.bridge && def->forward != NETWORK_FORWARD_BRIDGE) {
    g_autoptr(GArray) addrs = NULL;
    if ((r = nl_addr_list(def->bridge, &addrs)) < 0)
      return r;
    for (guint f = 0; f < def->ips->len; f++) {
      const NetworkIp *ip = def->ips->pdata[f];
      bool found = false;
      for (guint i = 0; i < addrs->len; i++) {
        const NlAddr *a = &g_array_index(addrs, NlAddr, i);
        if (a->prefix == ip->prefix && network_addr_compare(&a->addr, &ip->address) == 0)
          found = true;
      }
      st.addresses = st.addresses && found;
    }
  }
  st.rules = nft_rules_present(def);
  st.dnsmasq = true;
  if (network_def_wants_dnsmasq(def)) {
    g_autofree char *conf = NULL, *pid = NULL, *log = NULL;
    DnsmasqFiles files = bridge_network_dnsmasq_files(def, cfg, &conf, &pid, &log);
    st.dnsmasq = dnsmasq_find(&files, &st.dnsmasq_pid, NULL) == 0;
  }
  *ret_status = st;
  return 0;
}

bool bridge_network_is_active(const NetworkDef *def, const BridgeDriverConfig *cfg) {
  BridgeNetworkStatus st;
  if (bridge_network_status(def, cfg, &st) < 0)
    return false;
  /* A host bridge is the host's business: it only has to exist. */
  if (def->forward == NETWORK_FORWARD_BRIDGE)
    return st.bridge;
  return st.bridge && st.up && st.addresses && st.rules && st.dnsmasq;
}

int bridge_network_read_leases(const NetworkDef *def, const BridgeDriverConfig *cfg,
                               GPtrArray **ret_leases, char **ret_error) {
  g_autofree char *path = lease_path(def, cfg);
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr(GError) gerr = NULL;
  if (!g_file_get_contents(path, &text, &len, &gerr)) {
    if (g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
      *ret_leases = g_ptr_array_new_with_free_func((GDestroyNotify)dnsmasq_lease_free);
      return 0;
    }
    return fail(ret_error, -EIO, "network '%s': cannot read %s: %s", def->name, path,
                gerr->message);
  }
  *ret_leases = dnsmasq_parse_leases(text, len, NULL);
  return 0;
}

int bridge_network_watch(const NetworkDef *def, const BridgeDriverConfig *cfg, GMainContext *ctx,
                         DnsmasqWatchFunc fn, void *userdata, GDestroyNotify destroy,
                         DnsmasqWatch **ret_watch) {
  if (!network_def_wants_dnsmasq(def)) {
    *ret_watch = NULL;
    return 0;
  }
  g_autofree char *conf = NULL, *pid = NULL, *log = NULL;
  DnsmasqFiles files = bridge_network_dnsmasq_files(def, cfg, &conf, &pid, &log);
  return dnsmasq_watch_new(&files, ctx, fn, userdata, destroy, ret_watch);
}

int bridge_tap_create(const char *bridge_name, const char *mac, bool vnet_hdr,
                      char **ret_tap_name, int *ret_fd, char **ret_error) {
  NlLinkInfo br;
  int r = nl_link_get(bridge_name, &br);
  if (r < 0)
    return fail(ret_error, r, "the bridge %s %s", bridge_name,
                r == -ENODEV ? "does not exist" : g_strerror(-r));
  unsigned mtu = br.mtu;
  bool is_bridge = strcmp(br.kind, "bridge") == 0;
  nl_link_info_clear(&br);
  if (!is_bridge)
    return fail(ret_error, -EMEDIUMTYPE, "%s is not a bridge", bridge_name);
  char tap_mac[18];
  if (mac) {
    if (network_mac_parse(mac, tap_mac) < 0)
      return fail(ret_error, -EINVAL, "'%s' is not a MAC address", mac);
    tap_mac[0] = 'f';
    tap_mac[1] = 'e';
  }
  g_autofree char *name = NULL;
  int fd = -1;
  if ((r = nl_tap_create(NULL, vnet_hdr, &name, &fd)) < 0)
    return fail(ret_error, r, "cannot create a tap device: %s", g_strerror(-r));
  const char *step = NULL;
  if (mac && (r = nl_link_set_mac(name, tap_mac)) < 0)
    step = "set the MAC of";
  else if ((r = nl_link_set_mtu(name, mtu)) < 0)
    step = "set the MTU of";
  else if ((r = nl_link_set_master(name, bridge_name)) < 0)
    step = "attach to the bridge";
  else if ((r = nl_link_set_up(name, true)) < 0)
    step = "set up";
  if (!step) {
    *ret_tap_name = g_steal_pointer(&name);
    *ret_fd = fd;
    return 0;
  }
  fail(ret_error, r, "cannot %s the tap %s: %s", step, name, g_strerror(-r));
  close(fd);
  nl_tap_delete(name);
  return r;
}

int bridge_tap_delete(const char *tap_name) {
  int r = nl_tap_delete(tap_name);
  return r == -ENODEV ? 0 : r;
}
