/* qemu_argv_disk.c — disks: drive addresses from the target name, the
 * -blockdev protocol and format nodes, and the -device on its bus; floppy
 * drives on the ISA floppy controller (built into pc, added on q35).
 * Part of the builder; see qemu_argv_priv.h. */
#include "drivers/qemu/qemu_argv_priv.h"

/* "vda" → 0, "hdc" → 2, "sdaa" → 26, as libvirt numbers disks. */
static bool disk_name_index(const char *name, const char *prefix, unsigned *ret_index) {
  if (!name || !g_str_has_prefix(name, prefix))
    return false;
  const char *p = name + strlen(prefix);
  size_t n = strlen(p);
  if (n == 0 || n > 3)
    return false;
  unsigned idx = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < 'a' || p[i] > 'z')
      return false;
    idx = (i == 0 ? 0 : (idx + 1) * 26) + (unsigned)(p[i] - 'a');
  }
  *ret_index = idx;
  return true;
}

static bool plan_drive_address(Builder *b, const DomainDisk *d, const char *label, DiskPlan *p) {
  const DeviceAddress *a = &d->address;
  const char *prefix = d->target_bus == DISK_BUS_IDE   ? "hd"
                       : d->target_bus == DISK_BUS_FDC ? "fd"
                                                       : "sd";
  unsigned idx = 0;

  if (a->type == DEVICE_ADDRESS_DRIVE) {
    p->controller = a->controller;
    p->bus = a->drive_bus;
    p->target = a->target;
    p->unit = a->unit;
  } else if (a->type == DEVICE_ADDRESS_NONE) {
    if (!disk_name_index(d->target_dev, prefix, &idx)) {
      fail(b, -EINVAL, "%s: without an <address>, the target dev must be %s<letters>", label,
           prefix);
      return false;
    }
  } else {
    fail(b, -EINVAL, "%s: an address of type '%s' is not valid on this bus", label,
         qargv_address_type_name(a->type));
    return false;
  }

  switch (d->target_bus) {
  case DISK_BUS_IDE:
    if (a->type == DEVICE_ADDRESS_NONE) {
      p->controller = 0;
      p->bus = idx / 2;
      p->unit = idx % 2;
    }
    if (p->controller != 0 || p->bus > 1 || p->unit > 1 || p->target != 0) {
      fail(b, -EINVAL, "%s: IDE has controller 0, buses 0-1 and units 0-1 only", label);
      return false;
    }
    return true;
  case DISK_BUS_SATA:
    if (a->type == DEVICE_ADDRESS_NONE) {
      p->controller = idx / SATA_PORTS;
      p->unit = idx % SATA_PORTS;
    }
    if (p->controller > CONTROLLER_INDEX_MAX || p->bus != 0 || p->target != 0 ||
        p->unit >= SATA_PORTS) {
      fail(b, -EINVAL, "%s: a SATA address has bus 0, target 0 and units (ports) 0-%d", label,
           SATA_PORTS - 1);
      return false;
    }
    b->sata_needed |= 1u << p->controller;
    return true;
  case DISK_BUS_SCSI:
    if (a->type == DEVICE_ADDRESS_NONE)
      p->unit = idx;
    if (p->controller > CONTROLLER_INDEX_MAX || p->bus != 0 || p->target > SCSI_TARGET_MAX ||
        p->unit > SCSI_LUN_MAX) {
      fail(b, -EINVAL, "%s: a SCSI address has bus 0, targets 0-%d and units 0-%d", label,
           SCSI_TARGET_MAX, SCSI_LUN_MAX);
      return false;
    }
    b->scsi_needed |= 1u << p->controller;
    return true;
  case DISK_BUS_FDC:
    if (a->type == DEVICE_ADDRESS_NONE)
      p->unit = idx;
    if (p->controller != 0 || p->bus != 0 || p->target != 0 || p->unit > 1) {
      fail(b, -EINVAL, "%s: the floppy controller has units 0-1 only (fda, fdb)", label);
      return false;
    }
    return true;
  case DISK_BUS_VIRTIO:
    break;
  }
  return false;
}

void qargv_plan_disks(Builder *b) {
  const GPtrArray *disks = b->def->disks;
  for (guint i = 0; disks && i < disks->len; i++) {
    const DomainDisk *d = disks->pdata[i];
    g_autofree char *label = qargv_disk_label(d, i);
    bool cdrom = d->device == DISK_DEVICE_CDROM;
    switch (d->target_bus) {
    case DISK_BUS_VIRTIO:
      if (cdrom)
        fail(b, -EOPNOTSUPP, "%s: a cdrom cannot be on bus 'virtio': use 'sata', 'scsi' or 'ide'",
             label);
      qargv_pci_reserve(b, &d->address);
      break;
    case DISK_BUS_IDE:
      if (b->q35)
        fail(b, -EOPNOTSUPP, "%s: q35 machines have no IDE bus: use bus 'sata'", label);
      G_GNUC_FALLTHROUGH;
    case DISK_BUS_SATA:
      if (d->readonly && !cdrom)
        fail(b, -EOPNOTSUPP, "%s: QEMU's IDE/SATA hard disks cannot be read-only: use bus "
                             "'virtio' or 'scsi', or a cdrom", label);
      G_GNUC_FALLTHROUGH;
    case DISK_BUS_SCSI:
    case DISK_BUS_FDC:
      plan_drive_address(b, d, label, &b->disks[i]);
      break;
    default:
      fail(b, -EINVAL, "%s: unknown bus", label);
    }
  }
}

static bool disk_source(Builder *b, const DomainDisk *d, const char *label, const char **ret_path,
                        bool *ret_block) {
  const QemuArgvConfig *cfg = b->cfg;
  const char *path = d->source;
  bool block = d->type == DISK_TYPE_BLOCK;

  if (d->type == DISK_TYPE_VOLUME) {
    const QemuArgvVolume *vol = NULL;
    path = NULL;
    if (!d->source_pool || !d->source_volume) {
      if (d->device == DISK_DEVICE_DISK) {
        fail(b, -EINVAL, "%s: a volume disk needs a pool and a volume", label);
        return false;
      }
    } else {
      for (size_t i = 0; i < cfg->n_volumes && !vol; i++)
        if (g_strcmp0(cfg->volumes[i].pool, d->source_pool) == 0 &&
            g_strcmp0(cfg->volumes[i].volume, d->source_volume) == 0)
          vol = &cfg->volumes[i];
      if (!vol || !vol->path) {
        if (qemu_value_is_safe(d->source_pool) && qemu_value_is_safe(d->source_volume))
          fail(b, -ENOENT, "%s: volume '%s' of pool '%s' is not available", label,
               d->source_volume, d->source_pool);
        else
          fail(b, -ENOENT, "%s: its volume is not available", label);
        return false;
      }
      path = vol->path;
      block = vol->is_block;
    }
  }
  if (!path && d->device == DISK_DEVICE_DISK) {
    fail(b, -EINVAL, "%s has no source (only a cdrom or floppy may be empty)", label);
    return false;
  }
  *ret_path = path;
  *ret_block = block;
  return true;
}

/* <driver cache>: libvirt's mapping onto the host page cache (cache.direct),
 * flushes (cache.no-flush) and the guest-visible write cache. */
static const struct {
  const char *mode;
  const char *direct, *no_flush, *write_cache;
} cache_modes[] = {
  {"writeback", "off", "off", "on"},   {"none", "on", "off", "on"},
  {"writethrough", "off", "off", "off"}, {"directsync", "on", "off", "off"},
  {"unsafe", "off", "on", "on"},
};

/* Options of the node that reads the file (cache, aio, discard). */
static void file_node_opts(Builder *b, GString *s, const DomainXNode *drv) {
  const char *cache = domain_xnode_attr(drv, "cache");
  for (size_t k = 0; cache && k < G_N_ELEMENTS(cache_modes); k++)
    if (strcmp(cache, cache_modes[k].mode) == 0) {
      qemu_opt_append(s, "cache.direct", cache_modes[k].direct);
      qemu_opt_append(s, "cache.no-flush", cache_modes[k].no_flush);
    }
  const char *io = domain_xnode_attr(drv, "io");
  if (io)
    qemu_opt_append(s, "aio", io);
  const char *discard = domain_xnode_attr(drv, "discard");
  if (discard)
    qemu_opt_append(s, "discard", discard);
}

/* Options of the disk's -device from <driver>, <target>, <blockio>, <wwn>. */
static void disk_device_opts(Builder *b, GString *s, const DomainDisk *d, const char *label) {
  const DomainXNode *drv = d->driver_ext;
  const char *cache = domain_xnode_attr(drv, "cache");
  for (size_t k = 0; cache && k < G_N_ELEMENTS(cache_modes); k++)
    if (strcmp(cache, cache_modes[k].mode) == 0)
      qemu_opt_append(s, "write-cache", cache_modes[k].write_cache);
  const char *werror = domain_xnode_attr(drv, "error_policy");
  if (werror)
    qemu_opt_append(s, "werror", strcmp(werror, "enospace") == 0 ? "enospc" : werror);
  const char *iothread = domain_xnode_attr(drv, "iothread");
  if (iothread) {
    const char *count = domain_xnode_attr_text(b->def->root_ext, "iothreads");
    guint64 n = count ? g_ascii_strtoull(count, NULL, 10) : 0;
    guint64 k = g_ascii_strtoull(iothread, NULL, 10);
    if (d->target_bus != DISK_BUS_VIRTIO || k == 0 || k > n)
      fail(b, -EINVAL, "%s: iothread='%s' needs bus virtio and 1 to <iothreads> (%" G_GUINT64_FORMAT
                       ")", label, iothread, n);
    else
      optf(s, "iothread", "iothread%s", iothread);
  }
  const char *rerror = domain_xnode_attr(drv, "rerror_policy");
  if (rerror)
    qemu_opt_append(s, "rerror", rerror);

  bool cdrom = d->device == DISK_DEVICE_CDROM;
  const DomainXNode *tgt = d->target_ext;
  if (domain_xnode_is(tgt, "tray", "open"))
    fail(b, -EOPNOTSUPP, "%s: QEMU starts with the tray closed; remove tray='open' and eject "
                         "the medium instead", label);
  const char *removable = domain_xnode_attr(tgt, "removable");
  if (removable && d->target_bus == DISK_BUS_SCSI && !cdrom)
    qemu_opt_append(s, "removable", removable);
  else if (removable && strcmp(removable, "on") == 0)
    fail(b, -EOPNOTSUPP, "%s: removable='on' needs a SCSI hard disk", label);
  const char *rate = domain_xnode_attr(tgt, "rotation_rate");
  if (rate && d->target_bus != DISK_BUS_VIRTIO)
    qemu_opt_append(s, "rotation_rate", rate);
  else if (rate)
    fail(b, -EOPNOTSUPP, "%s: virtio-blk has no rotation rate; use bus 'sata' or 'scsi'", label);

  const DomainXNode *blockio = domain_xnode_child(d->ext, "blockio");
  const char *lbs = domain_xnode_attr(blockio, "logical_block_size");
  const char *pbs = domain_xnode_attr(blockio, "physical_block_size");
  if (lbs)
    qemu_opt_append(s, "logical_block_size", lbs);
  if (pbs)
    qemu_opt_append(s, "physical_block_size", pbs);
  const DomainXNode *wwn = domain_xnode_child(d->ext, "wwn");
  if (wwn && d->target_bus == DISK_BUS_VIRTIO) {
    fail(b, -EOPNOTSUPP, "%s: virtio-blk has no WWN; use bus 'sata' or 'scsi'", label);
  } else if (wwn) {
    g_autofree char *v = g_strdup_printf("0x%s", wwn->text);
    qemu_opt_append(s, "wwn", v);
  }
}

/* The floppy controller, once, before the first drive: boot indexes are
 * its properties (bootindexA/B), not the drives'. pc has one built in
 * (reached with -global); q35 gets an isa-fdc with id fdc0. */
static void build_fdc(Builder *b) {
  if (b->fdc_built)
    return;
  b->fdc_built = true;
  unsigned boot[2] = {0, 0};
  for (guint i = 0; i < b->def->disks->len; i++) {
    const DomainDisk *d = b->def->disks->pdata[i];
    if (d->target_bus == DISK_BUS_FDC && b->disks[i].unit < 2)
      boot[b->disks[i].unit] = b->disks[i].bootindex;
  }
  GString *s = b->q35 ? opts_new("isa-fdc") : NULL;
  if (s)
    qemu_opt_append(s, "id", "fdc0");
  for (unsigned u = 0; u < 2; u++) {
    if (!boot[u])
      continue;
    g_autofree char *key = g_strdup_printf("bootindex%c", 'A' + u);
    if (s) {
      optf(s, key, "%u", boot[u]);
    } else {
      arg(b, "-global");
      g_ptr_array_add(b->argv, g_strdup_printf("isa-fdc.%s=%u", key, boot[u]));
    }
  }
  if (s)
    arg_opts(b, "-device", s);
}

void qargv_build_disk(Builder *b, const DomainDisk *d, size_t i) {
  g_autofree char *label = qargv_disk_label(d, i);
  g_autofree char *what = g_strdup_printf("%s: source", label);
  g_autofree char *file_node = g_strdup_printf("disk%zu-file", i);
  g_autofree char *format_node = g_strdup_printf("disk%zu-format", i);
  g_autofree char *id = g_strdup_printf("disk%zu", i);
  const DiskPlan *p = &b->disks[i];
  bool cdrom = d->device == DISK_DEVICE_CDROM;
  bool readonly = d->readonly || cdrom;
  const char *path = NULL;
  bool block = false;

  if (!disk_source(b, d, label, &path, &block))
    return;

  if (path) {
    /* Formats are always explicit: probing a raw image lets a guest that
     * writes a qcow2 header into it read host files on the next start. */
    GString *s = opts_new("");
    qemu_opt_append(s, "driver", !block ? "file" : cdrom ? "host_cdrom" : "host_device");
    opt_path(b, s, "filename", what, path);
    qemu_opt_append(s, "node-name", file_node);
    if (readonly)
      qemu_opt_append(s, "read-only", "on");
    file_node_opts(b, s, d->driver_ext);
    arg_opts(b, "-blockdev", s);

    s = opts_new("");
    qemu_opt_append(s, "driver", d->format == DISK_FORMAT_QCOW2 ? "qcow2" : "raw");
    qemu_opt_append(s, "node-name", format_node);
    qemu_opt_append(s, "file", file_node);
    if (readonly)
      qemu_opt_append(s, "read-only", "on");
    const char *discard = domain_xnode_attr(d->driver_ext, "discard");
    if (discard)
      qemu_opt_append(s, "discard", discard);
    const char *zeroes = domain_xnode_attr(d->driver_ext, "detect_zeroes");
    if (zeroes)
      qemu_opt_append(s, "detect-zeroes", zeroes);
    arg_opts(b, "-blockdev", s);
    if (domain_xnode_is(d->driver_ext, "copy_on_read", "on")) {
      /* a filter node above the format: reads are copied into the image */
      g_autofree char *cor_node = g_strdup_printf("disk%zu-cor", i);
      s = opts_new("");
      qemu_opt_append(s, "driver", "copy-on-read");
      qemu_opt_append(s, "node-name", cor_node);
      qemu_opt_append(s, "file", format_node);
      arg_opts(b, "-blockdev", s);
      g_free(format_node);
      format_node = g_steal_pointer(&cor_node);
    }
  }

  GString *s = NULL;
  switch (d->target_bus) {
  case DISK_BUS_VIRTIO:
    s = opts_new("virtio-blk-pci");
    qemu_opt_append(s, "id", id);
    qargv_opt_pci(b, s, label, &d->address);
    break;
  case DISK_BUS_IDE:
    s = opts_new(cdrom ? "ide-cd" : "ide-hd");
    qemu_opt_append(s, "id", id);
    optf(s, "bus", "ide.%u", p->bus);
    optf(s, "unit", "%u", p->unit);
    break;
  case DISK_BUS_SATA:
    s = opts_new(cdrom ? "ide-cd" : "ide-hd");
    qemu_opt_append(s, "id", id);
    /* an AHCI port is a bus with one unit */
    if (b->q35 && p->controller == 0)
      optf(s, "bus", "ide.%u", p->unit);
    else
      optf(s, "bus", "sata%u.%u", p->controller, p->unit);
    break;
  case DISK_BUS_SCSI:
    s = opts_new(cdrom ? "scsi-cd" : "scsi-hd");
    qemu_opt_append(s, "id", id);
    optf(s, "bus", "scsi%u.0", p->controller);
    qemu_opt_append(s, "channel", "0");
    optf(s, "scsi-id", "%u", p->target);
    optf(s, "lun", "%u", p->unit);
    break;
  case DISK_BUS_FDC:
    build_fdc(b);
    s = opts_new("floppy");
    qemu_opt_append(s, "id", id);
    if (b->q35)
      qemu_opt_append(s, "bus", "fdc0.0");
    optf(s, "unit", "%u", p->unit);
    if (d->serial)
      fail(b, -EOPNOTSUPP, "%s: a floppy drive has no serial number", label);
    break;
  }
  if (!s) {
    fail(b, -EINVAL, "%s: unknown bus", label);
    return;
  }
  if (path)
    qemu_opt_append(s, "drive", format_node);
  if (d->serial) {
    g_autofree char *swhat = g_strdup_printf("%s: serial", label);
    opt_str(b, s, "serial", swhat, d->serial);
  }
  if (d->shareable)
    qemu_opt_append(s, "share-rw", "on");
  disk_device_opts(b, s, d, label);
  if (p->bootindex && d->target_bus != DISK_BUS_FDC)
    optf(s, "bootindex", "%u", p->bootindex);
  arg_opts(b, "-device", s);
}
