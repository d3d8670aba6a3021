/* qemu_argv.c — the QEMU command line for a domain definition; the
 * contract (what the daemon must do with it, object ids, escaping) is in
 * qemu_argv.h.
 *
 * The builder walks the definition once to plan (resolve drive addresses,
 * reserve explicit PCI slots, find which controllers devices need, assign
 * boot indexes) and once to emit, in a fixed order: global options,
 * controllers (so buses exist before the devices that use them), disks,
 * interfaces, serial ports and consoles, video, inputs, balloon, RNGs. The
 * first error is kept ("sticky") and the rest of the walk is harmless, which
 * keeps each emitter a straight line.
 *
 * This file holds the entry point, escaping and boot-order planning; each
 * area has its own qemu_argv_AREA.c, see qemu_argv_priv.h.
 */
#include "drivers/qemu/qemu_argv_priv.h"

void qemu_opt_escape_append(GString *buf, const char *value) {
  for (const char *p = value; *p; p++) {
    if (*p == ',')
      g_string_append_c(buf, ',');
    g_string_append_c(buf, *p);
  }
}

void qemu_opt_append(GString *buf, const char *key, const char *value) {
  if (buf->len > 0)
    g_string_append_c(buf, ',');
  g_string_append(buf, key);
  g_string_append_c(buf, '=');
  qemu_opt_escape_append(buf, value);
}

bool qemu_value_is_safe(const char *value) {
  if (!value || !g_utf8_validate(value, -1, NULL))
    return false;
  for (const unsigned char *p = (const unsigned char *)value; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      return false;
  return true;
}

/* Names that go into sentences: the XML's own words where they are safe. */
char *qargv_disk_label(const DomainDisk *d, size_t i) {
  if (d->target_dev && qemu_value_is_safe(d->target_dev))
    return g_strdup_printf("disk '%s'", d->target_dev);
  return g_strdup_printf("disk %zu", i);
}

const char *qargv_address_type_name(DeviceAddressType t) {
  const char *name = device_address_type_to_string(t);
  return name ? name : "unknown";
}

static void set_bootindex(Builder *b, unsigned *slot, unsigned order, uint64_t *seen,
                          const char *label) {
  if (order == 0)
    return;
  if (order <= 64) {
    if (*seen & (1ull << (order - 1)))
      fail(b, -EINVAL, "%s: boot order %u is used twice", label, order);
    *seen |= 1ull << (order - 1);
  }
  *slot = order;
}

/* Boot order becomes bootindex properties: per-device <boot order>, or
 * <os><boot dev> mapped onto the first device of each kind as libvirt does
 * (so the order holds for any firmware, not just SeaBIOS's CMOS list). */
static void plan_boot(Builder *b) {
  const DomainDef *def = b->def;
  const GPtrArray *disks = def->disks, *ifaces = def->interfaces;
  bool per_device = false;
  uint64_t seen = 0;

  for (guint i = 0; disks && i < disks->len; i++) {
    const DomainDisk *d = disks->pdata[i];
    g_autofree char *label = qargv_disk_label(d, i);
    per_device |= d->boot_order != 0;
    set_bootindex(b, &b->disks[i].bootindex, d->boot_order, &seen, label);
  }
  for (guint i = 0; ifaces && i < ifaces->len; i++) {
    const DomainInterface *n = ifaces->pdata[i];
    g_autofree char *label = g_strdup_printf("interface %u", i);
    per_device |= n->boot_order != 0;
    set_bootindex(b, &b->net_bootindex[i], n->boot_order, &seen, label);
  }
  if (per_device && def->os.nboot > 0) {
    fail(b, -EINVAL, "<os><boot dev=...> and per-device <boot order=...> cannot be used together");
    return;
  }

  for (size_t k = 0; k < def->os.nboot && k < DOMAIN_MAX_BOOT_DEVS; k++) {
    unsigned order = (unsigned)k + 1;
    switch (def->os.boot[k]) {
    case DOMAIN_BOOT_HD:
    case DOMAIN_BOOT_CDROM:
    case DOMAIN_BOOT_FD: {
      DiskDevice want = def->os.boot[k] == DOMAIN_BOOT_HD      ? DISK_DEVICE_DISK
                        : def->os.boot[k] == DOMAIN_BOOT_CDROM ? DISK_DEVICE_CDROM
                                                               : DISK_DEVICE_FLOPPY;
      for (guint i = 0; disks && i < disks->len; i++) {
        const DomainDisk *d = disks->pdata[i];
        if (d->device == want) {
          if (!b->disks[i].bootindex)
            b->disks[i].bootindex = order;
          break;
        }
      }
      break;
    }
    case DOMAIN_BOOT_NETWORK:
      if (ifaces && ifaces->len > 0 && !b->net_bootindex[0])
        b->net_bootindex[0] = order;
      break;
    }
  }
}

static void plan(Builder *b) {
  const DomainDef *def = b->def;

  for (guint i = 0; def->controllers && i < def->controllers->len; i++) {
    const DomainController *c = def->controllers->pdata[i];
    qargv_pci_reserve(b, &c->address);
    if (c->type == CONTROLLER_PCI && c->index > 0 && c->index <= CONTROLLER_INDEX_MAX)
      b->pci_buses |= 1u << c->index;
  }
  for (guint i = 0; def->interfaces && i < def->interfaces->len; i++)
    qargv_pci_reserve(b, &((const DomainInterface *)def->interfaces->pdata[i])->address);
  for (guint i = 0; def->videos && i < def->videos->len; i++)
    qargv_pci_reserve(b, &((const DomainVideo *)def->videos->pdata[i])->address);
  for (guint i = 0; def->inputs && i < def->inputs->len; i++) {
    const DomainInput *in = def->inputs->pdata[i];
    qargv_pci_reserve(b, &in->address);
    if (in->bus == INPUT_BUS_USB)
      b->usb_needed = true;
  }
  for (guint i = 0; def->rngs && i < def->rngs->len; i++)
    qargv_pci_reserve(b, &((const DomainRng *)def->rngs->pdata[i])->address);
  if (def->memballoon.present && def->memballoon.model == MEMBALLOON_VIRTIO)
    qargv_pci_reserve(b, &def->memballoon.address);
  for (guint i = 0; def->xdevices && i < def->xdevices->len; i++) {
    const DomainXNode *x = def->xdevices->pdata[i];
    if (strcmp(x->name, "channel") == 0)
      b->vserial_needed = true;
    if (strcmp(x->name, "redirdev") == 0)
      b->usb_needed = true;
    if (x->address.type == DEVICE_ADDRESS_PCI)
      qargv_pci_reserve(b, &x->address);
  }
  for (guint i = 0; def->consoles && i < def->consoles->len; i++) {
    const DomainChardev *c = def->consoles->pdata[i];
    if (c->target_type && strcmp(c->target_type, "virtio") == 0)
      b->vserial_needed = true;
  }
  qargv_plan_disks(b);
  plan_boot(b);
}

int qemu_argv_build(const DomainDef *def, const QemuArgvConfig *cfg, GStrv *ret_argv,
                    char **ret_error) {
  g_return_val_if_fail(def && cfg && ret_argv, -EINVAL);

  const char *binary = def->emulator ? def->emulator : cfg->qemu_binary;
  guint ndisks = def->disks ? def->disks->len : 0;
  guint nifaces = def->interfaces ? def->interfaces->len : 0;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
  g_autofree DiskPlan *disks = g_new0(DiskPlan, ndisks + 1);
  g_autofree unsigned *net_bootindex = g_new0(unsigned, nifaces + 1);
  Builder b = {
    .def = def,
    .cfg = cfg,
    .argv = argv,
    .disks = disks,
    .net_bootindex = net_bootindex,
  };

  if (def->emulator)
    check_path(&b, "the emulator", def->emulator);
  else
    check_value(&b, "the configured QEMU binary", cfg->qemu_binary);
  if (!cfg->qmp_socket_path)
    fail(&b, -EINVAL, "no QMP socket path was given");
  qargv_check_host(&b);
  if (!b.err) {
    arg(&b, binary);
    plan(&b);
  }
  if (!b.err) {
    qargv_build_global(&b);
    qargv_build_graphics(&b);
    qargv_build_controllers(&b);
    for (guint i = 0; i < ndisks; i++)
      qargv_build_disk(&b, def->disks->pdata[i], i);
    for (guint i = 0; i < nifaces; i++)
      qargv_build_interface(&b, def->interfaces->pdata[i], i);
    qargv_build_serials_consoles(&b);
    qargv_build_channels(&b);
    qargv_build_video(&b);
    qargv_build_inputs(&b);
    qargv_build_memballoon(&b);
    qargv_build_rngs(&b);
    qargv_build_sound_redir(&b);
    qargv_build_watchdog_panic(&b);
    qargv_build_tpm(&b);
  }
  if (b.err) {
    if (ret_error)
      *ret_error = g_steal_pointer(&b.error);
    g_free(b.error);
    return b.err;
  }
  g_ptr_array_add(argv, NULL);
  *ret_argv = (GStrv)g_ptr_array_free(g_steal_pointer(&argv), FALSE);
  return 0;
}
