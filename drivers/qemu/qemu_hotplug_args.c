/* qemu_hotplug_args.c — QMP arguments of device hot plug; see
 * qemu_hotplug_args.h. */
#include "drivers/qemu/qemu_hotplug_args.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "drivers/qemu/qemu_argv.h"

char *qemu_hotplug_disk_id(const char *target) {
  return g_strdup_printf("dev-%s", target);
}

static JsonNode *object_node(JsonObject *o) {
  JsonNode *n = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(n, o);
  return n;
}

/* bus and addr of a PCI device: its <address>, or `pci_slot`. */
static int set_pci(JsonObject *dev, const DeviceAddress *a, unsigned pci_slot, const char *what,
                   char **ret_error) {
  unsigned slot = a->type == DEVICE_ADDRESS_PCI ? a->slot : pci_slot;
  unsigned bus = a->type == DEVICE_ADDRESS_PCI ? a->bus : 0;
  if (a->type == DEVICE_ADDRESS_PCI && (a->domain != 0 || a->function != 0)) {
    *ret_error = g_strdup_printf("%s: only function 0 of a slot in PCI domain 0 can be "
                                 "hot-plugged", what);
    return -EOPNOTSUPP;
  }
  /* Bus N is the one behind the PCI controller of index N (a root port),
   * pci.N to QEMU, where slot 0 is the only one (qemu_argv_controller.c). */
  if ((bus == 0 && slot == 0) || slot > 0x1f || bus > 0xff) {
    *ret_error = g_strdup_printf("%s: PCI bus %u slot 0x%x is out of range", what, bus, slot);
    return -EINVAL;
  }
  g_autofree char *bus_id = g_strdup_printf("pci.%u", bus);
  json_object_set_string_member(dev, "bus", bus_id);
  g_autofree char *addr = g_strdup_printf("0x%x", slot);
  json_object_set_string_member(dev, "addr", addr);
  return 0;
}

int qemu_hotplug_disk_args(const DomainDisk *disk, const char *path, bool is_block,
                           const char *id, unsigned pci_slot, JsonNode **ret_file,
                           JsonNode **ret_format, JsonNode **ret_device, char **ret_error) {
  bool cdrom = disk->device == DISK_DEVICE_CDROM;
  bool readonly = disk->readonly || cdrom;
  if (disk->target_bus == DISK_BUS_IDE || disk->target_bus == DISK_BUS_SATA) {
    *ret_error = g_strdup_printf("disk %s is on the %s bus, which cannot be hot-plugged; use "
                                 "bus='virtio' or bus='scsi', or shut the domain off",
                                 disk->target_dev, disk_bus_to_string(disk->target_bus));
    return -EOPNOTSUPP;
  }
  if (!path) {
    *ret_error = g_strdup_printf("disk %s has no source: only a CD-ROM on a bus that can be "
                                 "hot-plugged may be plugged empty", disk->target_dev);
    return cdrom ? -EOPNOTSUPP : -EINVAL;
  }
  if (path[0] != '/') {
    *ret_error = g_strdup_printf("disk %s: source '%s' is not an absolute path",
                                 disk->target_dev, path);
    return -EINVAL;
  }
  if (!g_utf8_validate(path, -1, NULL)) {
    *ret_error = g_strdup_printf("disk %s: its source is not valid UTF-8", disk->target_dev);
    return -EINVAL;
  }
  g_autofree char *file_node = g_strdup_printf("%s-file", id);
  g_autofree char *format_node = g_strdup_printf("%s-format", id);

  JsonObject *file = json_object_new();
  json_object_set_string_member(file, "driver",
                                !is_block ? "file" : cdrom ? "host_cdrom" : "host_device");
  json_object_set_string_member(file, "filename", path);
  json_object_set_string_member(file, "node-name", file_node);
  json_object_set_boolean_member(file, "read-only", readonly);

  JsonObject *format = json_object_new();
  json_object_set_string_member(format, "driver",
                                disk->format == DISK_FORMAT_QCOW2 ? "qcow2" : "raw");
  json_object_set_string_member(format, "node-name", format_node);
  json_object_set_string_member(format, "file", file_node);
  json_object_set_boolean_member(format, "read-only", readonly);

  JsonObject *dev = json_object_new();
  if (disk->target_bus == DISK_BUS_VIRTIO) {
    json_object_set_string_member(dev, "driver", "virtio-blk-pci");
    json_object_set_string_member(dev, "id", id);
    g_autofree char *what = g_strdup_printf("disk %s", disk->target_dev);
    int r = set_pci(dev, &disk->address, pci_slot, what, ret_error);
    if (r < 0) {
      json_object_unref(file), json_object_unref(format), json_object_unref(dev);
      return r;
    }
  } else {
    json_object_set_string_member(dev, "driver", cdrom ? "scsi-cd" : "scsi-hd");
    json_object_set_string_member(dev, "id", id);
    const DeviceAddress *a = &disk->address;
    unsigned controller = a->type == DEVICE_ADDRESS_DRIVE ? a->controller : 0;
    g_autofree char *bus = g_strdup_printf("scsi%u.0", controller);
    json_object_set_string_member(dev, "bus", bus);
    json_object_set_int_member(dev, "channel", 0);
    if (a->type == DEVICE_ADDRESS_DRIVE) {
      json_object_set_int_member(dev, "scsi-id", a->target);
      json_object_set_int_member(dev, "lun", a->unit);
    }
  }
  json_object_set_string_member(dev, "drive", format_node);
  if (disk->serial)
    json_object_set_string_member(dev, "serial", disk->serial);
  if (disk->shareable)
    json_object_set_boolean_member(dev, "share-rw", true);
  *ret_file = object_node(file);
  *ret_format = object_node(format);
  *ret_device = object_node(dev);
  return 0;
}

int qemu_hotplug_nic_args(const DomainInterface *iface, const char *id, const char *netdev_id,
                          const char *tap_fdname, unsigned pci_slot, JsonNode **ret_netdev,
                          JsonNode **ret_device, char **ret_error) {
  if (iface->type != INTERFACE_USER && !tap_fdname) {
    *ret_error = g_strdup_printf("interface %s: a %s interface needs its tap passed to QEMU",
                                 iface->mac, interface_type_to_string(iface->type));
    return -EINVAL;
  }
  const char *driver = qemu_argv_nic_device(iface->model);
  if (!driver) {
    *ret_error = g_strdup_printf("interface %s: model '%s' is not supported", iface->mac,
                                 iface->model);
    return -EOPNOTSUPP;
  }
  JsonObject *dev = json_object_new();
  json_object_set_string_member(dev, "driver", driver);
  json_object_set_string_member(dev, "id", id);
  json_object_set_string_member(dev, "netdev", netdev_id);
  json_object_set_string_member(dev, "mac", iface->mac);
  g_autofree char *what = g_strdup_printf("interface %s", iface->mac);
  int r = set_pci(dev, &iface->address, pci_slot, what, ret_error);
  if (r < 0) {
    json_object_unref(dev);
    return r;
  }
  /* As at start (qemu_argv_net.c): the daemon made the tap and put it on
   * the bridge; QEMU gets its descriptor, by the name getfd gave it. */
  JsonObject *netdev = json_object_new();
  json_object_set_string_member(netdev, "type", iface->type == INTERFACE_USER ? "user" : "tap");
  json_object_set_string_member(netdev, "id", netdev_id);
  if (iface->type != INTERFACE_USER)
    json_object_set_string_member(netdev, "fd", tap_fdname);
  *ret_netdev = object_node(netdev);
  *ret_device = object_node(dev);
  return 0;
}

JsonNode *qemu_hotplug_fdname_args(const char *fdname) {
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "fdname", fdname);
  return object_node(o);
}

int qemu_hotplug_change_medium_args(const char *id, const DomainDisk *disk, const char *path,
                                    JsonNode **ret_args, char **ret_error) {
  if (!path || path[0] != '/' || !g_utf8_validate(path, -1, NULL)) {
    *ret_error = g_strdup_printf("disk %s: a medium is an absolute path", disk->target_dev);
    return -EINVAL;
  }
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "id", id);
  json_object_set_string_member(o, "filename", path);
  json_object_set_string_member(o, "format", disk->format == DISK_FORMAT_QCOW2 ? "qcow2" : "raw");
  json_object_set_string_member(o, "read-only-mode", "read-only");
  *ret_args = object_node(o);
  return 0;
}

JsonNode *qemu_hotplug_eject_args(const char *id, bool force) {
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "id", id);
  json_object_set_boolean_member(o, "force", force);
  return object_node(o);
}

JsonNode *qemu_hotplug_id_args(const char *id) {
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "id", id);
  return object_node(o);
}

JsonNode *qemu_hotplug_blockdev_del_args(const char *node) {
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "node-name", node);
  return object_node(o);
}

int qemu_hotplug_parse_pci_slots(JsonNode *value, guint32 *ret_used) {
  if (!value || !JSON_NODE_HOLDS_ARRAY(value))
    return -EPROTO;
  guint32 used = 0;
  JsonArray *buses = json_node_get_array(value);
  for (guint i = 0; i < json_array_get_length(buses); i++) {
    JsonObject *bus = json_array_get_object_element(buses, i);
    if (!bus || json_object_get_int_member_with_default(bus, "bus", -1) != 0)
      continue;
    JsonNode *dn = json_object_get_member(bus, "devices");
    JsonArray *devices = dn && JSON_NODE_HOLDS_ARRAY(dn) ? json_node_get_array(dn) : NULL;
    for (guint j = 0; devices && j < json_array_get_length(devices); j++) {
      JsonObject *d = json_array_get_object_element(devices, j);
      gint64 slot = d ? json_object_get_int_member_with_default(d, "slot", -1) : -1;
      if (slot >= 0 && slot < 32)
        used |= 1u << slot;
    }
  }
  *ret_used = used;
  return 0;
}

int qemu_hotplug_parse_free_buses(JsonNode *value, GArray *candidates, int *ret_bus) {
  if (!value || !JSON_NODE_HOLDS_ARRAY(value))
    return -EPROTO;
  g_autoptr(GHashTable) busy = g_hash_table_new(g_direct_hash, g_direct_equal);
  g_autoptr(GHashTable) present = g_hash_table_new(g_direct_hash, g_direct_equal);
  JsonArray *buses = json_node_get_array(value);
  for (guint i = 0; i < json_array_get_length(buses); i++) {
    JsonObject *bus = json_array_get_object_element(buses, i);
    JsonNode *dn = bus ? json_object_get_member(bus, "devices") : NULL;
    JsonArray *devices = dn && JSON_NODE_HOLDS_ARRAY(dn) ? json_node_get_array(dn) : NULL;
    for (guint j = 0; devices && j < json_array_get_length(devices); j++) {
      JsonObject *d = json_array_get_object_element(devices, j);
      const char *qdev = d ? json_object_get_string_member_with_default(d, "qdev_id", "") : "";
      JsonObject *bridge = d && json_object_has_member(d, "pci_bridge")
                               ? json_object_get_object_member(d, "pci_bridge")
                               : NULL;
      unsigned n = 0;
      char end = 0;
      if (!bridge || sscanf(qdev, "pci.%u%c", &n, &end) != 1)
        continue;
      g_hash_table_add(present, GUINT_TO_POINTER(n));
      JsonNode *bd = json_object_get_member(bridge, "devices");
      if (bd && JSON_NODE_HOLDS_ARRAY(bd) && json_array_get_length(json_node_get_array(bd)) > 0)
        g_hash_table_add(busy, GUINT_TO_POINTER(n));
    }
  }
  for (guint i = 0; i < candidates->len; i++) {
    unsigned n = g_array_index(candidates, unsigned, i);
    if (g_hash_table_contains(present, GUINT_TO_POINTER(n)) &&
        !g_hash_table_contains(busy, GUINT_TO_POINTER(n))) {
      *ret_bus = (int)n;
      return 0;
    }
  }
  return -ENOSPC;
}

bool qemu_hotplug_qom_list_has(JsonNode *value, const char *id) {
  if (!value || !JSON_NODE_HOLDS_ARRAY(value))
    return false;
  JsonArray *a = json_node_get_array(value);
  for (guint i = 0; i < json_array_get_length(a); i++) {
    JsonObject *o = json_array_get_object_element(a, i);
    const char *name = o ? json_object_get_string_member_with_default(o, "name", NULL) : NULL;
    if (g_strcmp0(name, id) == 0)
      return true;
  }
  return false;
}

int qemu_hotplug_pick_slot(guint32 used) {
  for (unsigned slot = 2; slot < 32; slot++)
    if (!(used & (1u << slot)))
      return (int)slot;
  return -ENOSPC;
}
