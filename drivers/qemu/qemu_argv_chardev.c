/* qemu_argv_chardev.c — character devices: -chardev backends, ISA serial
 * ports and virtio consoles, with the console socket the daemon serves.
 * Part of the builder; see qemu_argv_priv.h. */
#include "drivers/qemu/qemu_argv_priv.h"
#include "drivers/qemu/qga_codec.h"

static void build_chardev(Builder *b, const char *id, const DomainChardev *c, const char *label,
                          bool console_socket) {
  g_autofree char *what = g_strdup_printf("%s: source path", label);
  GString *s;

  if (console_socket) {
    s = opts_new("socket");
    qemu_opt_append(s, "id", id);
    opt_path(b, s, "path", "the console socket path", b->cfg->console_socket_path);
    qemu_opt_append(s, "server", "on");
    qemu_opt_append(s, "wait", "off");
    arg_opts(b, "-chardev", s);
    return;
  }
  switch (c->type) {
  case CHARDEV_PTY:
    s = opts_new("pty");
    qemu_opt_append(s, "id", id);
    break;
  case CHARDEV_FILE:
    s = opts_new("file");
    qemu_opt_append(s, "id", id);
    opt_path(b, s, "path", what, c->source_path);
    break;
  case CHARDEV_UNIX:
    s = opts_new("socket");
    qemu_opt_append(s, "id", id);
    opt_path(b, s, "path", what, c->source_path);
    if (c->unix_listen) {
      qemu_opt_append(s, "server", "on");
      qemu_opt_append(s, "wait", "off");
    }
    break;
  default:
    fail(b, -EINVAL, "%s: unknown character device type", label);
    return;
  }
  arg_opts(b, "-chardev", s);
}

static void build_isa_serial(Builder *b, const DomainChardev *c, unsigned idx, const char *label,
                             bool console_socket) {
  const DeviceAddress *addr = &c->address;
  g_autofree char *chr = g_strdup_printf("charserial%u", idx);
  g_autofree char *id = g_strdup_printf("serial%u", idx);

  if (c->target_type && strcmp(c->target_type, "isa-serial") != 0 &&
      strcmp(c->target_type, "serial") != 0) {
    fail(b, -EOPNOTSUPP, "%s: the only serial target type is isa-serial", label);
    return;
  }
  if (c->target_port >= ISA_SERIAL_PORTS) {
    fail(b, -EINVAL, "%s: ISA serial ports are 0 to %d", label, ISA_SERIAL_PORTS - 1);
    return;
  }
  if (addr->type != DEVICE_ADDRESS_NONE && addr->type != DEVICE_ADDRESS_ISA) {
    fail(b, -EINVAL, "%s: an address of type '%s' is not valid on an ISA serial port", label,
         qargv_address_type_name(addr->type));
    return;
  }
  build_chardev(b, chr, c, label, console_socket);

  GString *s = opts_new("isa-serial");
  qemu_opt_append(s, "id", id);
  qemu_opt_append(s, "chardev", chr);
  optf(s, "index", "%u", c->target_port);
  if (addr->type == DEVICE_ADDRESS_ISA) {
    if (addr->iobase_set)
      optf(s, "iobase", "0x%x", addr->iobase);
    if (addr->irq_set)
      optf(s, "irq", "%u", addr->irq);
  }
  arg_opts(b, "-device", s);
}

void qargv_build_serials_consoles(Builder *b) {
  const GPtrArray *serials = b->def->serials, *consoles = b->def->consoles;
  guint nserials = serials ? serials->len : 0;
  bool socket_pending = b->cfg->console_socket_path != NULL;

  for (guint i = 0; i < nserials; i++) {
    g_autofree char *label = g_strdup_printf("serial %u", i);
    build_isa_serial(b, serials->pdata[i], i, label, socket_pending);
    socket_pending = false;
  }
  for (guint i = 0; consoles && i < consoles->len; i++) {
    const DomainChardev *c = consoles->pdata[i];
    g_autofree char *label = g_strdup_printf("console %u", i);
    bool is_virtio = c->target_type && strcmp(c->target_type, "virtio") == 0;
    bool is_serial = !c->target_type || strcmp(c->target_type, "serial") == 0;

    if (is_serial) {
      /* As in libvirt, a serial console is another view of serial port 0. */
      if (i != 0) {
        fail(b, -EOPNOTSUPP, "%s: only the first console can be a serial console", label);
      } else if (nserials == 0) {
        build_isa_serial(b, c, 0, label, socket_pending);
        socket_pending = false;
      }
      continue;
    }
    if (!is_virtio) {
      fail(b, -EOPNOTSUPP, "%s: console target types are serial and virtio", label);
      continue;
    }
    g_autofree char *chr = g_strdup_printf("charconsole%u", i);
    g_autofree char *id = g_strdup_printf("console%u", i);
    build_chardev(b, chr, c, label, socket_pending);
    socket_pending = false;
    GString *s = opts_new("virtconsole");
    qemu_opt_append(s, "id", id);
    qemu_opt_append(s, "chardev", chr);
    qemu_opt_append(s, "bus", "virtio-serial0.0");
    arg_opts(b, "-device", s);
  }
}

/* The next <channel> of xs from *pos on (moving *pos past it), or NULL. */
static const DomainXNode *next_channel(const GPtrArray *xs, guint *pos) {
  while (xs && *pos < xs->len) {
    const DomainXNode *x = xs->pdata[(*pos)++];
    if (strcmp(x->name, "channel") == 0)
      return x;
  }
  return NULL;
}

/* Where a unix channel without <source path> listens. */
static char *channel_auto_path(const char *run_dir, unsigned idx) {
  g_autofree char *file = g_strdup_printf("channel%u.sock", idx);
  return g_build_filename(run_dir, file, NULL);
}

int qemu_argv_agent_channel(const DomainDef *def, const char *run_dir, unsigned *ret_index,
                            char **ret_path) {
  guint pos = 0;
  const DomainXNode *x;
  for (unsigned idx = 0; (x = next_channel(def->xdevices, &pos)); idx++) {
    const DomainXNode *src = domain_xnode_child(x, "source");
    if (!domain_xnode_is(x, "type", "unix") || domain_xnode_is(src, "mode", "connect") ||
        !domain_xnode_is(domain_xnode_child(x, "target"), "name", QGA_CHANNEL_NAME))
      continue;
    const char *path = domain_xnode_attr(src, "path");
    *ret_index = idx;
    *ret_path = path ? g_strdup(path) : channel_auto_path(run_dir, idx);
    return 0;
  }
  return -ENOENT;
}

/* <channel>: a virtio-serial port named for the guest (the QEMU guest
 * agent's org.qemu.guest_agent.0, SPICE's com.redhat.spice.0), backed by a
 * unix socket (without a path: channelN.sock in the domain's run
 * directory, the one of the QMP socket), SPICE's agent channel, or a pty.
 * Ports without an <address> take the lowest free number from 1 (0 is the
 * console's). */
void qargv_build_channels(Builder *b) {
  const GPtrArray *xs = b->def->xdevices;
  uint32_t used = 1; /* port 0 of controller 0: virtconsole */
  for (guint i = 0; xs && i < xs->len; i++) {
    const DomainXNode *x = xs->pdata[i];
    if (strcmp(x->name, "channel") == 0 && x->address.type == DEVICE_ADDRESS_VIRTIO_SERIAL &&
        x->address.controller == 0 && x->address.vs_port < 32)
      used |= 1u << x->address.vs_port;
  }
  guint pos = 0;
  const DomainXNode *x;
  for (unsigned idx = 0; (x = next_channel(xs, &pos)); idx++) {
    g_autofree char *label = g_strdup_printf("channel %u", idx);
    g_autofree char *chr = g_strdup_printf("charchannel%u", idx);
    const char *type = domain_xnode_attr(x, "type");
    const DomainXNode *target = domain_xnode_child(x, "target");
    const char *name = domain_xnode_attr(target, "name");
    GString *s;
    if (strcmp(type, "unix") == 0) {
      const DomainXNode *src = domain_xnode_child(x, "source");
      const char *path = domain_xnode_attr(src, "path");
      g_autofree char *auto_path = NULL;
      if (!path) {
        g_autofree char *dir = g_path_get_dirname(b->cfg->qmp_socket_path);
        path = auto_path = channel_auto_path(dir, idx);
      }
      s = opts_new("socket");
      qemu_opt_append(s, "id", chr);
      opt_path(b, s, "path", "the channel socket path", path);
      if (!domain_xnode_is(src, "mode", "connect")) {
        qemu_opt_append(s, "server", "on");
        qemu_opt_append(s, "wait", "off");
      }
    } else if (strcmp(type, "spicevmc") == 0) {
      const GPtrArray *g = b->def->graphics;
      if (!g || g->len == 0 || !((const DomainGraphicsVnc *)g->pdata[0])->spice) {
        fail(b, -EOPNOTSUPP, "%s: a spicevmc channel needs <graphics type='spice'>", label);
        return;
      }
      s = opts_new("spicevmc");
      qemu_opt_append(s, "id", chr);
      qemu_opt_append(s, "name", "vdagent");
    } else {
      s = opts_new("pty");
      qemu_opt_append(s, "id", chr);
    }
    arg_opts(b, "-chardev", s);

    s = opts_new("virtserialport");
    unsigned controller = 0, port = 0;
    if (x->address.type == DEVICE_ADDRESS_VIRTIO_SERIAL && x->address.vs_port > 0) {
      controller = x->address.controller;
      port = x->address.vs_port;
    } else {
      while (port < 31 && (used & (1u << port)))
        port++;
      used |= 1u << port;
    }
    optf(s, "bus", "virtio-serial%u.0", controller);
    optf(s, "nr", "%u", port);
    qemu_opt_append(s, "chardev", chr);
    optf(s, "id", "channel%u", idx);
    if (name)
      opt_str(b, s, "name", "the channel name", name);
    arg_opts(b, "-device", s);
  }
}
