/* test_qemu_hotplug_args.c — the QMP arguments of disk hot plug against
 * golden JSON (drivers/qemu/qemu_hotplug_args.c), and the replies it reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "drivers/qemu/qemu_hotplug_args.h"

static char *json(JsonNode *node) {
  g_autofree char *text = json_to_string(node, FALSE);
  json_node_unref(node);
  return g_steal_pointer(&text);
}

static DomainDisk *disk(DiskBus bus, DiskDevice device, DiskFormat format) {
  DomainDisk *d = g_new0(DomainDisk, 1);
  d->type = DISK_TYPE_FILE;
  d->device = device;
  d->format = format;
  d->source = g_strdup("/img/a,b.qcow2");
  d->target_dev = g_strdup(bus == DISK_BUS_VIRTIO ? "vdb" : "sdb");
  d->target_bus = bus;
  return d;
}

static void test_virtio(void **state) {
  g_autoptr(DomainDisk) d = disk(DISK_BUS_VIRTIO, DISK_DEVICE_DISK, DISK_FORMAT_QCOW2);
  d->serial = g_strdup("S\"1");
  g_autofree char *id = qemu_hotplug_disk_id(d->target_dev);
  assert_string_equal(id, "dev-vdb");
  JsonNode *file, *format, *dev;
  g_autofree char *error = NULL;
  assert_int_equal(qemu_hotplug_disk_args(d, d->source, false, id, 5, &file, &format, &dev,
                                          &error), 0);
  g_autofree char *f = json(file), *fm = json(format), *dv = json(dev);
  assert_string_equal(f, "{\"driver\":\"file\",\"filename\":\"/img/a,b.qcow2\","
                         "\"node-name\":\"dev-vdb-file\",\"read-only\":false}");
  assert_string_equal(fm, "{\"driver\":\"qcow2\",\"node-name\":\"dev-vdb-format\","
                          "\"file\":\"dev-vdb-file\",\"read-only\":false}");
  assert_string_equal(dv, "{\"driver\":\"virtio-blk-pci\",\"id\":\"dev-vdb\",\"bus\":\"pci.0\","
                          "\"addr\":\"0x5\",\"drive\":\"dev-vdb-format\",\"serial\":\"S\\\"1\"}");
}

static void test_virtio_explicit_address(void **state) {
  g_autoptr(DomainDisk) d = disk(DISK_BUS_VIRTIO, DISK_DEVICE_DISK, DISK_FORMAT_RAW);
  d->address = (DeviceAddress){.type = DEVICE_ADDRESS_PCI, .slot = 9};
  d->readonly = true;
  JsonNode *file, *format, *dev;
  g_autofree char *error = NULL;
  assert_int_equal(qemu_hotplug_disk_args(d, "/dev/sdz", true, "dev-vdb", 3, &file, &format,
                                          &dev, &error), 0);
  g_autofree char *f = json(file), *fm = json(format), *dv = json(dev);
  assert_string_equal(f, "{\"driver\":\"host_device\",\"filename\":\"/dev/sdz\","
                         "\"node-name\":\"dev-vdb-file\",\"read-only\":true}");
  assert_non_null(strstr(fm, "\"driver\":\"raw\""));
  assert_non_null(strstr(dv, "\"addr\":\"0x9\""));
  json_node_unref(file);
  json_node_unref(format);
  /* a function other than 0 cannot be hot-plugged */
  d->address.function = 1;
  g_clear_pointer(&error, g_free);
  assert_int_equal(qemu_hotplug_disk_args(d, "/dev/sdz", true, "dev-vdb", 3, &file, &format,
                                          &dev, &error), -EOPNOTSUPP);
}

static void test_scsi_cdrom(void **state) {
  g_autoptr(DomainDisk) d = disk(DISK_BUS_SCSI, DISK_DEVICE_CDROM, DISK_FORMAT_RAW);
  d->address = (DeviceAddress){.type = DEVICE_ADDRESS_DRIVE, .controller = 1, .target = 2,
                               .unit = 0};
  JsonNode *file, *format, *dev;
  g_autofree char *error = NULL;
  assert_int_equal(qemu_hotplug_disk_args(d, "/iso/x.iso", false, "dev-sdb", 0, &file, &format,
                                          &dev, &error), 0);
  g_autofree char *f = json(file), *fm = json(format), *dv = json(dev);
  assert_non_null(strstr(f, "\"read-only\":true"));
  assert_string_equal(dv, "{\"driver\":\"scsi-cd\",\"id\":\"dev-sdb\",\"bus\":\"scsi1.0\","
                          "\"channel\":0,\"scsi-id\":2,\"lun\":0,\"drive\":\"dev-sdb-format\"}");
}

static void test_refused(void **state) {
  JsonNode *file = NULL, *format = NULL, *dev = NULL;
  g_autofree char *error = NULL;
  g_autoptr(DomainDisk) ide = disk(DISK_BUS_IDE, DISK_DEVICE_DISK, DISK_FORMAT_RAW);
  assert_int_equal(qemu_hotplug_disk_args(ide, ide->source, false, "x", 3, &file, &format, &dev,
                                          &error), -EOPNOTSUPP);
  g_autoptr(DomainDisk) sata = disk(DISK_BUS_SATA, DISK_DEVICE_CDROM, DISK_FORMAT_RAW);
  g_clear_pointer(&error, g_free);
  assert_int_equal(qemu_hotplug_disk_args(sata, sata->source, false, "x", 3, &file, &format,
                                          &dev, &error), -EOPNOTSUPP);
  g_autoptr(DomainDisk) rel = disk(DISK_BUS_VIRTIO, DISK_DEVICE_DISK, DISK_FORMAT_RAW);
  g_clear_pointer(&error, g_free);
  assert_int_equal(qemu_hotplug_disk_args(rel, "json:{}", false, "x", 3, &file, &format, &dev,
                                          &error), -EINVAL);
  g_clear_pointer(&error, g_free);
  assert_int_equal(qemu_hotplug_disk_args(rel, NULL, false, "x", 3, &file, &format, &dev,
                                          &error), -EINVAL);
  assert_null(file);
  assert_null(dev);
}

static void test_media(void **state) {
  g_autoptr(DomainDisk) d = disk(DISK_BUS_SATA, DISK_DEVICE_CDROM, DISK_FORMAT_RAW);
  JsonNode *args = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(qemu_hotplug_change_medium_args("disk0", d, "/iso/b,c.iso", &args, &error), 0);
  g_autofree char *a = json(args);
  assert_string_equal(a, "{\"id\":\"disk0\",\"filename\":\"/iso/b,c.iso\",\"format\":\"raw\","
                         "\"read-only-mode\":\"read-only\"}");
  g_autofree char *e = json(qemu_hotplug_eject_args("disk0", false));
  assert_string_equal(e, "{\"id\":\"disk0\",\"force\":false}");
  g_autofree char *del = json(qemu_hotplug_blockdev_del_args("dev-vdb-format"));
  assert_string_equal(del, "{\"node-name\":\"dev-vdb-format\"}");
}

static void test_nic(void **state) {
  DomainInterface n = {.type = INTERFACE_USER, .mac = "52:54:00:aa:bb:cc",
                       .model = (char *)"virtio"};
  JsonNode *netdev = NULL, *dev = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(qemu_hotplug_nic_args(&n, "dev-nic-1", "dev-net-1", NULL, 6, &netdev,
                                         &dev, &error), 0);
  g_autofree char *nd = json(netdev), *dv = json(dev);
  assert_string_equal(nd, "{\"type\":\"user\",\"id\":\"dev-net-1\"}");
  assert_string_equal(dv, "{\"driver\":\"virtio-net-pci\",\"id\":\"dev-nic-1\","
                          "\"netdev\":\"dev-net-1\",\"mac\":\"52:54:00:aa:bb:cc\","
                          "\"bus\":\"pci.0\",\"addr\":\"0x6\"}");
  n.model = NULL; /* libvirt's default model */
  assert_int_equal(qemu_hotplug_nic_args(&n, "a", "b", NULL, 6, &netdev, &dev, &error), 0);
  g_autofree char *dv2 = json(dev);
  json_node_unref(netdev);
  assert_non_null(strstr(dv2, "\"driver\":\"rtl8139\""));
  /* a network interface: its tap, by the name getfd gave its descriptor */
  n.type = INTERFACE_NETWORK;
  netdev = dev = NULL;
  assert_int_equal(qemu_hotplug_nic_args(&n, "a", "b", NULL, 6, &netdev, &dev, &error), -EINVAL);
  assert_null(dev);
  assert_int_equal(qemu_hotplug_nic_args(&n, "a", "b", "fd-a,b", 6, &netdev, &dev, &error), 0);
  g_autofree char *tap = json(netdev);
  json_node_unref(dev);
  assert_string_equal(tap, "{\"type\":\"tap\",\"id\":\"b\",\"fd\":\"fd-a,b\"}");
  n.type = INTERFACE_USER;
  n.model = (char *)"bogus";
  g_clear_pointer(&error, g_free);
  assert_int_equal(qemu_hotplug_nic_args(&n, "a", "b", NULL, 6, &netdev, &dev, &error),
                   -EOPNOTSUPP);
}

static JsonNode *parse_json(const char *text) {
  g_autoptr(JsonParser) p = json_parser_new();
  assert_true(json_parser_load_from_data(p, text, -1, NULL));
  return json_node_copy(json_parser_get_root(p));
}

static void test_replies(void **state) {
  /* query-pci of QEMU 7.2, pc machine, trimmed to what is read */
  JsonNode *pci = parse_json("[{\"bus\":0,\"devices\":[{\"slot\":0,\"function\":0},"
                             "{\"slot\":1,\"function\":0},{\"slot\":1,\"function\":1},"
                             "{\"slot\":2,\"function\":0},{\"slot\":4,\"function\":0}]}]");
  guint32 used = 0;
  assert_int_equal(qemu_hotplug_parse_pci_slots(pci, &used), 0);
  json_node_unref(pci);
  assert_int_equal(used, 0x17);
  assert_int_equal(qemu_hotplug_pick_slot(used), 3);
  assert_int_equal(qemu_hotplug_pick_slot(0xffffffffu), -ENOSPC);
  JsonNode *bad = parse_json("{\"bus\":0}");
  assert_int_equal(qemu_hotplug_parse_pci_slots(bad, &used), -EPROTO);
  json_node_unref(bad);
  JsonNode *qom = parse_json("[{\"name\":\"type\",\"type\":\"string\"},"
                             "{\"name\":\"dev-vdb\",\"type\":\"child<virtio-blk-pci>\"}]");
  assert_true(qemu_hotplug_qom_list_has(qom, "dev-vdb"));
  assert_false(qemu_hotplug_qom_list_has(qom, "disk0"));
  json_node_unref(qom);
}

/* q35: a root port is free when query-pci shows nothing behind it; only
 * the definition's root ports (pci.N) count, in the definition's order. */
static void test_free_root_ports(void **state) {
  JsonNode *pci = parse_json(
      "[{\"bus\":0,\"devices\":["
      "{\"slot\":0,\"function\":0,\"qdev_id\":\"\"},"
      "{\"slot\":1,\"function\":0,\"qdev_id\":\"pci.1\",\"pci_bridge\":{\"bus\":{\"number\":1},"
      "\"devices\":[{\"slot\":0,\"function\":0,\"qdev_id\":\"disk0\"}]}},"
      "{\"slot\":1,\"function\":1,\"qdev_id\":\"pci.2\",\"pci_bridge\":{\"bus\":{\"number\":2},"
      "\"devices\":[]}},"
      "{\"slot\":1,\"function\":2,\"qdev_id\":\"pci.3\",\"pci_bridge\":{\"bus\":{\"number\":3}}},"
      "{\"slot\":2,\"function\":0,\"qdev_id\":\"pci.30x\",\"pci_bridge\":{\"bus\":{}}}]}]");
  g_autoptr(GArray) ports = g_array_new(FALSE, FALSE, sizeof(unsigned));
  unsigned want[] = {1, 3, 2};
  g_array_append_vals(ports, want, 3);
  int bus = -1;
  assert_int_equal(qemu_hotplug_parse_free_buses(pci, ports, &bus), 0);
  assert_int_equal(bus, 3); /* 1 is used; 3 comes before 2 in the definition */
  g_array_set_size(ports, 1); /* only the used one */
  assert_int_equal(qemu_hotplug_parse_free_buses(pci, ports, &bus), -ENOSPC);
  unsigned absent = 9;
  g_array_append_val(ports, absent); /* not in QEMU: not free */
  assert_int_equal(qemu_hotplug_parse_free_buses(pci, ports, &bus), -ENOSPC);
  json_node_unref(pci);
  JsonNode *bad = parse_json("{\"bus\":0}");
  assert_int_equal(qemu_hotplug_parse_free_buses(bad, ports, &bus), -EPROTO);
  json_node_unref(bad);

  /* a device placed behind a root port: bus pci.N, slot 0 */
  DomainInterface n = {.type = INTERFACE_USER, .mac = "52:54:00:aa:bb:cc",
                       .model = (char *)"virtio",
                       .address = {.type = DEVICE_ADDRESS_PCI, .bus = 3, .slot = 0}};
  JsonNode *netdev = NULL, *dev = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(qemu_hotplug_nic_args(&n, "a", "b", NULL, 0, &netdev, &dev, &error), 0);
  g_autofree char *dv = json(dev);
  json_node_unref(netdev);
  assert_non_null(strstr(dv, "\"bus\":\"pci.3\",\"addr\":\"0x0\""));
  n.address.bus = 0; /* slot 0 of the root bus is the host bridge's */
  assert_int_equal(qemu_hotplug_nic_args(&n, "a", "b", NULL, 0, &netdev, &dev, &error), -EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_virtio),
    cmocka_unit_test(test_virtio_explicit_address),
    cmocka_unit_test(test_scsi_cdrom),
    cmocka_unit_test(test_refused),
    cmocka_unit_test(test_media),
    cmocka_unit_test(test_nic),
    cmocka_unit_test(test_free_root_ports),
    cmocka_unit_test(test_replies),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
