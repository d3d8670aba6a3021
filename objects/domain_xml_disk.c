/* domain_xml_disk.c — <disk>: type, device, driver, source, target (bus
 * inferred from the dev name like libvirt), readonly, shareable, serial,
 * boot order and drive or PCI address.
 *
 * Part of the domain XML parser and formatter; shared state and helpers are
 * in domain_xml_priv.h. Pure: no I/O, no mutable globals. */
#include "objects/domain_xml_priv.h"

#include <string.h>

DEFINE_CHOICES(disk_type, DiskType, 0)

DEFINE_CHOICES(disk_device, DiskDevice, 0)

DEFINE_CHOICES(disk_format, DiskFormat, 0)

DEFINE_CHOICES(disk_bus, DiskBus, 0)

/* Infers the bus from the target dev like libvirt: vd → virtio, hd → ide,
 * sd → scsi, fd → fdc. */
static bool disk_bus_from_dev(const char *dev, DiskBus *ret) {
  if (g_str_has_prefix(dev, "vd"))
    *ret = DISK_BUS_VIRTIO;
  else if (g_str_has_prefix(dev, "hd"))
    *ret = DISK_BUS_IDE;
  else if (g_str_has_prefix(dev, "sd"))
    *ret = DISK_BUS_SCSI;
  else if (g_str_has_prefix(dev, "fd"))
    *ret = DISK_BUS_FDC;
  else
    return false;
  return true;
}

static int parse_disk_source(ParseState *ps, const xmlNode *n, DomainDisk *d) {
  int r;
  if ((r = xml_check_children(n, NONE_LIST, NULL, ps->err)) < 0)
    return r;
  switch (d->type) {
  case DISK_TYPE_FILE:
  case DISK_TYPE_BLOCK: {
    const char *attr = d->type == DISK_TYPE_FILE ? "file" : "dev";
    if ((r = xml_check_attrs(n, (const char *const[]){attr, NULL}, ps->err)) < 0)
      return r;
    g_autofree char *path = xml_prop(n, attr);
    if (!path || !*path)
      return 0; /* <source/>: an empty drive, as libvirt reads it */
    g_autofree char *what = g_strdup_printf("attribute '%s'", attr);
    if ((r = dxml_check_path(n, what, path, ps->err)) < 0)
      return r;
    d->source = g_steal_pointer(&path);
    return 0;
  }
  case DISK_TYPE_VOLUME:
    if ((r = xml_check_attrs(n, LIST("pool", "volume"), ps->err)) < 0)
      return r;
    d->source_pool = xml_prop(n, "pool");
    d->source_volume = xml_prop(n, "volume");
    if (d->source_pool &&
        (r = dxml_check_object_name(n, "the pool name", d->source_pool, ps->err)) < 0)
      return r;
    if (d->source_volume &&
        (r = dxml_check_object_name(n, "the volume name", d->source_volume, ps->err)) < 0)
      return r;
    return 0;
  }
  return 0;
}

static int check_serial_text(ParseState *ps, const xmlNode *n, const char *s) {
  size_t len = strlen(s);
  if (len == 0 || len > 20)
    return xml_fail(ps->err, n, "a disk serial must be 1 to 20 characters long");
  for (const char *p = s; *p; p++)
    if (!g_ascii_isalnum(*p) && !strchr("_ .+-", *p))
      return xml_fail(ps->err, n, "a disk serial may contain only letters, digits, "
                      "' ', '_', '.', '+' and '-'");
  return 0;
}

/* ---- tables: what a disk has beyond the typed fields ---- */

/* <driver>: each attribute becomes a -blockdev/-device option, see
 * qemu_argv_disk.c */
static const DxElem disk_driver_row = {
  "driver",
  (const DxAttr[]){
    {"cache", DXT_ENUM, LIST("default", "none", "writethrough", "writeback", "directsync",
                             "unsafe")},
    {"error_policy", DXT_ENUM, LIST("stop", "report", "ignore", "enospace")},
    {"rerror_policy", DXT_ENUM, LIST("stop", "report", "ignore")},
    {"io", DXT_ENUM, LIST("threads", "native", "io_uring")},
    {"discard", DXT_ENUM, LIST("ignore", "unmap")},
    {"copy_on_read", DXT_ENUM, DX_ONOFF},
    {"detect_zeroes", DXT_ENUM, LIST("off", "on", "unmap")},
    {"iothread", DXT_UINT, NULL, 1024},
    {NULL},
  },
};

static const DxElem disk_target_row = {
  "target",
  (const DxAttr[]){{"tray", DXT_ENUM, LIST("open", "closed")},
                   {"removable", DXT_ENUM, DX_ONOFF},
                   {"rotation_rate", DXT_UINT, NULL, 65534},
                   {NULL}},
};

static const DxElem disk_row = {
  "disk",
  NULL,
  (const DxElem[]){
    {"blockio", (const DxAttr[]){{"logical_block_size", DXT_ENUM,
                                  LIST("512", "1024", "2048", "4096", "8192", "16384", "32768")},
                                 {"physical_block_size", DXT_ENUM,
                                  LIST("512", "1024", "2048", "4096", "8192", "16384", "32768")},
                                 {NULL}}},
    {"wwn", NULL, NULL, DXT_TOKEN},
    {NULL},
  },
};

int dxml_parse_disk(ParseState *ps, const xmlNode *n) {
  static const char *const children[] = {"driver", "source", "target", "readonly", "shareable",
                                         "serial", "boot", "address", NULL};
  int r;
  g_autoptr(DomainDisk) d = g_new0(DomainDisk, 1);
  if ((r = dxml_parse_xnode(ps, n, &disk_row, LIST("type", "device", "snapshot"), children,
                            &d->ext)) < 0)
    return r;
  /* snapshot='no' leaves the disk out of snapshots (docs/snapshots.md). */
  g_autofree char *snapshot = xml_prop(n, "snapshot");
  if (snapshot && strcmp(snapshot, "no") != 0 && strcmp(snapshot, "internal") != 0)
    return xml_fail(ps->err, n, "attribute 'snapshot' must be 'no' or 'internal', not '%s'",
                    snapshot);
  d->snapshot_excluded = g_strcmp0(snapshot, "no") == 0;
  const DomainXNode *wwn = domain_xnode_child(d->ext, "wwn");
  if (wwn && (strlen(wwn->text) != 16 || strspn(wwn->text, "0123456789abcdefABCDEF") != 16))
    return xml_fail(ps->err, xml_child(n, "wwn"), "a WWN is 16 hex digits, not '%s'",
                    wwn->text);
  g_autofree char *type = xml_prop(n, "type");
  g_autofree char *device = xml_prop(n, "device");
  if (type && (r = PARSE_ENUM(disk_type, n, "attribute 'type'", type, &d->type, ps->err)) < 0)
    return r;
  if (device &&
      (r = PARSE_ENUM(disk_device, n, "attribute 'device'", device, &d->device, ps->err)) < 0)
    return r;

  const xmlNode *driver = xml_child(n, "driver");
  if (driver) {
    if ((r = dxml_parse_xnode(ps, driver, &disk_driver_row, LIST("name", "type"), NULL,
                              &d->driver_ext)) < 0 ||
        (r = xml_check_children(driver, NONE_LIST, NULL, ps->err)) < 0)
      return r;
    g_autofree char *dname = xml_prop(driver, "name");
    if (dname && strcmp(dname, "qemu") != 0)
      return xml_fail(ps->err, driver, "attribute 'name' must be 'qemu', not '%s'", dname);
    g_autofree char *format = xml_prop(driver, "type");
    if (format &&
        (r = PARSE_ENUM(disk_format, driver, "attribute 'type'", format, &d->format,
                        ps->err)) < 0)
      return r;
  }

  const xmlNode *source = xml_child(n, "source");
  if (source && (r = parse_disk_source(ps, source, d)) < 0)
    return r;
  if (d->type == DISK_TYPE_VOLUME && (!d->source_pool || !d->source_volume))
    return xml_fail(ps->err, source ? source : n,
                    "a disk of type 'volume' needs <source pool='...' volume='...'/>");
  if (d->type != DISK_TYPE_VOLUME && !d->source && d->device == DISK_DEVICE_DISK)
    return xml_fail(ps->err, n, "a disk needs a <source>; only a cdrom or floppy may be empty");

  const xmlNode *target = xml_child(n, "target");
  if (!target)
    return xml_fail(ps->err, n, "a <target dev='...'/> element is required");
  if ((r = dxml_parse_xnode(ps, target, &disk_target_row, LIST("dev", "bus"), NULL,
                            &d->target_ext)) < 0 ||
      (r = xml_check_children(target, NONE_LIST, NULL, ps->err)) < 0 ||
      (r = dxml_require_prop(target, "dev", &d->target_dev, ps->err)) < 0)
    return r;
  size_t dlen = strlen(d->target_dev);
  bool dev_ok = dlen >= 3 && dlen <= 32 && g_ascii_islower(d->target_dev[0]);
  for (const char *p = d->target_dev; dev_ok && *p; p++)
    dev_ok = g_ascii_islower(*p) || g_ascii_isdigit(*p);
  if (!dev_ok)
    return xml_fail(ps->err, target, "target dev '%s' must be a name such as 'vda', 'hdc' or "
                    "'sda'", d->target_dev);
  g_autofree char *bus = xml_prop(target, "bus");
  if (bus) {
    if ((r = PARSE_ENUM(disk_bus, target, "attribute 'bus'", bus, &d->target_bus, ps->err)) < 0)
      return r;
  } else if (!disk_bus_from_dev(d->target_dev, &d->target_bus)) {
    return xml_fail(ps->err, target, "cannot infer the bus of target dev '%s'; add bus='...'",
                    d->target_dev);
  }
  if (d->device == DISK_DEVICE_CDROM && d->target_bus == DISK_BUS_VIRTIO)
    return xml_fail(ps->err, target, "a cdrom cannot be on the virtio bus (virtio-blk has no "
                    "removable media); use sata, ide or scsi");
  if ((d->device == DISK_DEVICE_FLOPPY) != (d->target_bus == DISK_BUS_FDC))
    return xml_fail(ps->err, target, "a floppy drive goes on bus 'fdc' (target dev 'fda' or "
                    "'fdb'), and bus 'fdc' holds floppy drives only");
  g_autofree char *what = g_strdup_printf("target dev '%s'", d->target_dev);
  if ((r = dxml_claim(ps, ps->disk_targets, g_strdup(d->target_dev), target, what)) < 0)
    return r;

  const xmlNode *c;
  if ((c = xml_child(n, "readonly"))) {
    if ((r = dxml_empty_element(c, NONE_LIST, ps->err)) < 0)
      return r;
    d->readonly = true;
  }
  if ((c = xml_child(n, "shareable"))) {
    if ((r = dxml_empty_element(c, NONE_LIST, ps->err)) < 0)
      return r;
    d->shareable = true;
  }
  if ((c = xml_child(n, "serial"))) {
    g_autofree char *serial = NULL;
    if ((r = dxml_text_element(c, true, &serial, ps->err)) < 0 ||
        (r = check_serial_text(ps, c, serial)) < 0)
      return r;
    d->serial = g_steal_pointer(&serial);
  }
  if ((r = dxml_parse_boot_order(ps, n, &d->boot_order)) < 0)
    return r;
  bool virtio = d->target_bus == DISK_BUS_VIRTIO;
  if ((r = dxml_parse_address(ps, n, virtio ? ADDR_PCI : ADDR_DRIVE,
                              virtio ? " with bus 'virtio' (use type='pci')"
                                     : " with this bus (use type='drive')",
                              &d->address)) < 0)
    return r;
  if (d->address.type == DEVICE_ADDRESS_DRIVE) {
    const DeviceAddress *a = &d->address;
    const xmlNode *an = xml_child(n, "address");
    if (d->target_bus == DISK_BUS_IDE && (a->drive_bus > 1 || a->target != 0 || a->unit > 1))
      return xml_fail(ps->err, an, "an IDE drive address has bus 0-1, target 0 and unit 0-1");
    if (d->target_bus == DISK_BUS_SATA && (a->drive_bus != 0 || a->target != 0 || a->unit > 5))
      return xml_fail(ps->err, an, "a SATA drive address has bus 0, target 0 and unit 0-5");
    if (d->target_bus == DISK_BUS_SCSI && a->drive_bus != 0)
      return xml_fail(ps->err, an, "a SCSI drive address has bus 0");
    if (d->target_bus == DISK_BUS_FDC &&
        (a->controller != 0 || a->drive_bus != 0 || a->target != 0 || a->unit > 1))
      return xml_fail(ps->err, an, "a floppy drive address has controller 0, bus 0, target 0 "
                      "and unit 0-1");
    if ((r = dxml_claim(ps, ps->drive_addrs,
                        g_strdup_printf("%s/%u:%u:%u:%u", disk_bus_to_string(d->target_bus),
                                        a->controller, a->drive_bus, a->target, a->unit),
                        an, "this drive address")) < 0)
      return r;
  }
  g_ptr_array_add(ps->def->disks, g_steal_pointer(&d));
  return 0;
}

void dxml_format_disk(XmlWriter *w, const DomainDisk *d) {
  xml_writer_start(w, "disk");
  xml_writer_attr(w, "type", disk_type_to_string(d->type));
  xml_writer_attr(w, "device", disk_device_to_string(d->device));
  if (d->snapshot_excluded)
    xml_writer_attr(w, "snapshot", "no");
  xml_writer_end_open(w);
  xml_writer_start(w, "driver");
  xml_writer_attr(w, "name", "qemu");
  xml_writer_attr(w, "type", disk_format_to_string(d->format));
  dxml_format_ext_attrs(w, d->driver_ext);
  xml_writer_end_empty(w);
  if (d->type == DISK_TYPE_VOLUME) {
    xml_writer_start(w, "source");
    xml_writer_attr(w, "pool", d->source_pool);
    xml_writer_attr(w, "volume", d->source_volume);
    xml_writer_end_empty(w);
  } else if (d->source) {
    xml_writer_start(w, "source");
    xml_writer_attr(w, d->type == DISK_TYPE_FILE ? "file" : "dev", d->source);
    xml_writer_end_empty(w);
  }
  xml_writer_start(w, "target");
  xml_writer_attr(w, "dev", d->target_dev);
  xml_writer_attr(w, "bus", disk_bus_to_string(d->target_bus));
  dxml_format_ext_attrs(w, d->target_ext);
  xml_writer_end_empty(w);
  if (d->readonly)
    dxml_format_empty(w, "readonly");
  if (d->shareable)
    dxml_format_empty(w, "shareable");
  xml_writer_text_element(w, "serial", d->serial);
  dxml_format_ext_children(w, d->ext);
  dxml_format_boot_order(w, d->boot_order);
  dxml_format_address(w, &d->address);
  xml_writer_close(w);
}
