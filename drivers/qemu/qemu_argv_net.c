/* qemu_argv_net.c — interfaces: -netdev (user, or a tap fd the daemon
 * opened) and the NIC -device.
 * Part of the builder; see qemu_argv_priv.h. */
#include "drivers/qemu/qemu_argv_priv.h"

static bool mac_is_valid(const char *mac) {
  if (strlen(mac) != 17)
    return false;
  for (int i = 0; i < 17; i++) {
    if (i % 3 == 2 ? mac[i] != ':' : !g_ascii_isxdigit(mac[i]))
      return false;
  }
  /* the low bit of the first octet marks multicast */
  return (g_ascii_xdigit_value(mac[1]) & 1) == 0;
}

static const char *nic_device(const char *model) {
  /* libvirt's default NIC for x86 QEMU guests is rtl8139; keeping it makes
   * XML written for libvirt give the guest the same hardware. */
  if (!model || strcmp(model, "rtl8139") == 0)
    return "rtl8139";
  if (strcmp(model, "virtio") == 0)
    return "virtio-net-pci";
  if (strcmp(model, "e1000") == 0)
    return "e1000";
  if (strcmp(model, "e1000e") == 0)
    return "e1000e";
  /* libvirt's names that are QEMU's too */
  if (strcmp(model, "ne2k_pci") == 0 || strcmp(model, "pcnet") == 0 ||
      strcmp(model, "vmxnet3") == 0)
    return model;
  return NULL;
}

const char *qemu_argv_nic_device(const char *model) {
  return nic_device(model);
}

void qargv_build_interface(Builder *b, const DomainInterface *n, size_t i) {
  const QemuArgvConfig *cfg = b->cfg;
  g_autofree char *label = g_strdup_printf("interface %zu", i);
  g_autofree char *netdev = g_strdup_printf("net%zu", i);
  g_autofree char *id = g_strdup_printf("nic%zu", i);
  int fd = i < cfg->n_tap_fds && cfg->tap_fds ? cfg->tap_fds[i] : -1;

  const char *device = nic_device(n->model);
  if (!device) {
    fail(b, -EOPNOTSUPP, "%s: interface models are virtio, e1000, e1000e, rtl8139, ne2k_pci, "
                             "pcnet and vmxnet3", label);
    return;
  }
  if (!mac_is_valid(n->mac)) {
    fail(b, -EINVAL, "%s: the MAC address is not a unicast aa:bb:cc:dd:ee:ff", label);
    return;
  }

  GString *s;
  if (n->type == INTERFACE_USER) {
    if (fd >= 0) {
      fail(b, -EINVAL, "%s is type 'user' but a tap fd was given for it", label);
      return;
    }
    s = opts_new("user");
    qemu_opt_append(s, "id", netdev);
  } else {
    /* The daemon creates the tap and attaches it to the bridge; QEMU only
     * gets the fd, so it needs no privileges and runs no scripts. */
    if (fd < 0) {
      fail(b, -EINVAL, "%s is type '%s' but no tap fd was given for it", label,
           n->type == INTERFACE_BRIDGE ? "bridge" : "network");
      return;
    }
    s = opts_new("tap");
    qemu_opt_append(s, "id", netdev);
    optf(s, "fd", "%d", fd);
  }
  const DomainXNode *drv = domain_xnode_child(n->ext, "driver");
  const char *queues = domain_xnode_attr(drv, "queues");
  if (queues && strcmp(queues, "1") != 0) {
    fail(b, -EOPNOTSUPP, "%s: several queues need one tap fd per queue, which virtfs does not "
                         "open; use queues='1'", label);
    g_string_free(s, TRUE);
    return;
  }
  if (domain_xnode_is(drv, "name", "vhost")) {
    fail(b, -EOPNOTSUPP, "%s: vhost-net needs a vhost fd from the daemon, which virtfs does "
                         "not open; use <driver name='qemu'>", label);
    g_string_free(s, TRUE);
    return;
  }
  if (domain_xnode_is(domain_xnode_child(n->ext, "link"), "state", "down")) {
    fail(b, -EOPNOTSUPP, "%s: a link that starts down is not supported yet (QEMU sets it "
                         "over QMP after start); use state='up'", label);
    g_string_free(s, TRUE);
    return;
  }
  arg_opts(b, "-netdev", s);

  s = opts_new(device);
  qemu_opt_append(s, "id", id);
  qemu_opt_append(s, "netdev", netdev);
  qemu_opt_append(s, "mac", n->mac);
  qargv_opt_pci(b, s, label, &n->address);
  bool virtio = strcmp(device, "virtio-net-pci") == 0;
  const char *mtu = domain_xnode_attr(domain_xnode_child(n->ext, "mtu"), "size");
  const char *rxq = domain_xnode_attr(drv, "rx_queue_size");
  const char *txq = domain_xnode_attr(drv, "tx_queue_size");
  if ((mtu || rxq || txq) && !virtio)
    fail(b, -EOPNOTSUPP, "%s: <mtu> and queue sizes are virtio-net options; use model "
                         "'virtio'", label);
  if (mtu)
    qemu_opt_append(s, "host_mtu", mtu);
  if (rxq)
    qemu_opt_append(s, "rx_queue_size", rxq);
  if (txq)
    qemu_opt_append(s, "tx_queue_size", txq);
  const DomainXNode *rom = domain_xnode_child(n->ext, "rom");
  if (domain_xnode_is(rom, "bar", "off"))
    qemu_opt_append(s, "rombar", "0");
  if (domain_xnode_is(rom, "enabled", "no"))
    qemu_opt_append(s, "romfile", "");
  else if (domain_xnode_attr(rom, "file"))
    opt_path(b, s, "romfile", "the ROM file", domain_xnode_attr(rom, "file"));
  if (b->net_bootindex[i])
    optf(s, "bootindex", "%u", b->net_bootindex[i]);
  arg_opts(b, "-device", s);
}
