/* qemu_argv_chardev.c — character devices: -chardev backends, ISA serial
 * ports and virtio consoles, with the console socket the daemon serves.
 * Part of the builder; see qemu_argv_priv.h. */
#include "drivers/qemu/qemu_argv_priv.h"

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
