/* test_domain_device.c — device fragments (objects/domain_device.c): parse,
 * canonical format, entry names, and set/remove on a definition, with the
 * hostile fragments issue 13 names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "objects/domain_device.h"

static const char DISK[] =
    "<disk type='file' device='disk'>\n"
    "  <driver name='qemu' type='qcow2'/>\n"
    "  <source file='/img/a,b.qcow2'/>\n"
    "  <target dev='vdb' bus='virtio'/>\n"
    "</disk>\n";

static DomainDef *base_def(void) {
  static const char xml[] =
      "<domain type='qemu'><name>d</name><memory>131072</memory><devices>"
      "<disk type='file' device='cdrom'><source file='/iso/a.iso'/>"
      "<target dev='sdc' bus='sata'/></disk>"
      "<interface type='user'><mac address='52:54:00:00:00:01'/></interface>"
      "</devices></domain>";
  DomainDef *def = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(domain_def_parse(xml, strlen(xml), &def, &error), 0);
  return def;
}

static int parse(const char *xml, DomainDevice **ret, char **ret_error) {
  return domain_device_parse(xml, strlen(xml), ret, ret_error);
}

static void test_disk_round_trip(void **state) {
  g_autoptr(DomainDevice) dev = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(parse(DISK, &dev, &error), 0);
  assert_int_equal(dev->kind, DOMAIN_DEVICE_DISK);
  assert_string_equal(dev->disk->source, "/img/a,b.qcow2");
  g_autofree char *text = domain_device_format_disk(dev->disk);
  assert_string_equal(text, DISK);
}

static void test_interface(void **state) {
  g_autoptr(DomainDevice) dev = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(parse("<interface type='network'><source network='lab'/>"
                         "<model type='virtio'/></interface>", &dev, &error), 0);
  assert_int_equal(dev->kind, DOMAIN_DEVICE_INTERFACE);
  assert_true(dev->iface->mac_generated);
  g_autofree char *text = domain_device_format_interface(dev->iface);
  assert_non_null(strstr(text, "<interface type='network'>\n"));
  assert_non_null(strstr(text, "  <source network='lab'/>\n"));
  assert_non_null(strstr(text, "</interface>\n"));
}

static void test_hostile(void **state) {
  static const char *const bad[] = {
    /* two devices in one file */
    "<disk type='file'><source file='/a'/><target dev='vda'/></disk>"
    "<disk type='file'><source file='/b'/><target dev='vdb'/></disk>",
    /* breaking out of the skeleton */
    "<disk type='file'><source file='/a'/><target dev='vda'/></disk></devices><on_crash>"
    "destroy</on_crash><devices>",
    /* another root element */
    "<domain/>",
    "<controller type='scsi'/>",
    /* entities */
    "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><disk type='file'>"
    "<source file='&e;'/><target dev='vda'/></disk>",
    /* unsupported element, relative path, malformed */
    "<disk type='file'><source file='/a'/><target dev='vda'/><iotune/></disk>",
    "<disk type='file'><source file='a.img'/><target dev='vda'/></disk>",
    "<disk type='file'><source file='/a'/><target dev='vda'/>",
    "",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    DomainDevice *dev = NULL;
    g_autofree char *error = NULL;
    int r = parse(bad[i], &dev, &error);
    if (r != -EINVAL)
      fail_msg("fragment %zu: %d", i, r);
    assert_null(dev);
    assert_non_null(error);
  }
}

static void test_entry_names(void **state) {
  DeviceEntryType type;
  g_autofree char *t1 = NULL, *t2 = NULL, *t3 = NULL;
  assert_true(domain_device_entry_parse("vdb.xml", &type, &t1));
  assert_int_equal(type, DEVICE_ENTRY_XML);
  assert_string_equal(t1, "vdb");
  assert_true(domain_device_entry_parse("sdc.media", &type, &t2));
  assert_int_equal(type, DEVICE_ENTRY_MEDIA);
  assert_true(domain_device_entry_parse("lan_2-b.xml", &type, &t3));
  assert_string_equal(t3, "lan_2-b");
  g_autofree char *long_name = g_strnfill(65, 'a');
  g_autofree char *too_long = g_strconcat(long_name, ".xml", NULL);
  const char *const invalid[] = {"vdb", "vdb.xml~", ".vdb.xml.swp", "a/b.xml", "-x.xml",
                                 "a b.xml", "a,b.xml", ".xml", "x.media~", too_long};
  for (size_t i = 0; i < G_N_ELEMENTS(invalid); i++) {
    char *t = NULL;
    if (domain_device_entry_parse(invalid[i], &type, &t))
      fail_msg("'%s' was taken as an entry", invalid[i]);
  }
}

/* Interfaces are named by their alias: the parser gives ua-net0, ua-net1…
 * to those without one, and a removal does not rename the others. */
static void test_entries(void **state) {
  g_autoptr(DomainDef) def = base_def();
  g_autoptr(GPtrArray) names = domain_device_entries(def);
  assert_int_equal(names->len, 3);
  assert_string_equal(names->pdata[0], "sdc.media"); /* before its .xml: rm -r order */
  assert_string_equal(names->pdata[1], "sdc.xml");
  assert_string_equal(names->pdata[2], "net0.xml");

  DomainDevice *dev = NULL;
  g_autofree char *error = NULL;
  bool replaced = true;
  assert_int_equal(parse("<interface type='user'/>", &dev, &error), 0);
  assert_int_equal(domain_def_set_device(def, "lan.xml", &dev, &replaced, &error), 0);
  assert_false(replaced);
  assert_string_equal(((DomainInterface *)def->interfaces->pdata[1])->alias, "ua-lan");
  assert_int_equal(domain_def_remove_device(def, "net0.xml", &error), 0);
  g_autoptr(GPtrArray) after = domain_device_entries(def);
  assert_int_equal(after->len, 3);
  assert_string_equal(after->pdata[2], "lan.xml");
  DomainDeviceKind kind;
  assert_int_equal(domain_def_find_entry(def, "lan", &kind), 0);
  assert_int_equal(kind, DOMAIN_DEVICE_INTERFACE);
  assert_int_equal(domain_def_find_entry(def, "sdc", &kind), 0);
  assert_int_equal(kind, DOMAIN_DEVICE_DISK);
  assert_int_equal(domain_def_find_entry(def, "net0", &kind), -1);
}

static void test_set_and_remove(void **state) {
  g_autoptr(DomainDef) def = base_def();
  DomainDevice *dev = NULL;
  g_autofree char *error = NULL;
  bool replaced = true;
  assert_int_equal(parse(DISK, &dev, &error), 0);
  assert_int_equal(domain_def_set_device(def, "vdb.xml", &dev, &replaced, &error), 0);
  assert_null(dev);
  assert_false(replaced);
  assert_int_equal(def->disks->len, 2);

  /* a target already used, under another name: EEXIST, nothing changes */
  assert_int_equal(parse(DISK, &dev, &error), 0);
  g_clear_pointer(&error, g_free);
  assert_int_equal(domain_def_set_device(def, "vdc.xml", &dev, &replaced, &error), -EEXIST);
  assert_non_null(dev);
  assert_int_equal(def->disks->len, 2);
  /* the same name: a replacement */
  g_clear_pointer(&error, g_free);
  assert_int_equal(domain_def_set_device(def, "vdb.xml", &dev, &replaced, &error), 0);
  assert_true(replaced);
  assert_int_equal(def->disks->len, 2);

  /* an interface under a disk's name */
  assert_int_equal(parse("<interface type='user'/>", &dev, &error), 0);
  g_clear_pointer(&error, g_free);
  assert_int_equal(domain_def_set_device(def, "vdd.xml", &dev, &replaced, &error), -EINVAL);
  /* a replaced interface without <mac> keeps its MAC */
  g_clear_pointer(&error, g_free);
  assert_int_equal(domain_def_set_device(def, "net0.xml", &dev, &replaced, &error), 0);
  assert_true(replaced);
  assert_string_equal(((DomainInterface *)def->interfaces->pdata[0])->mac, "52:54:00:00:00:01");
  /* a second interface with the MAC of the first */
  assert_int_equal(parse("<interface type='user'><mac address='52:54:00:00:00:01'/></interface>",
                         &dev, &error), 0);
  g_clear_pointer(&error, g_free);
  assert_int_equal(domain_def_set_device(def, "net1.xml", &dev, &replaced, &error), -EEXIST);
  domain_device_free(dev);

  g_clear_pointer(&error, g_free);
  assert_int_equal(domain_def_remove_device(def, "vdb.xml", &error), 0);
  assert_int_equal(def->disks->len, 1);
  assert_int_equal(domain_def_remove_device(def, "vdb.xml", &error), -ENOENT);
  g_clear_pointer(&error, g_free);
  assert_int_equal(domain_def_remove_device(def, "net0.xml", &error), 0);
  assert_int_equal(def->interfaces->len, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_disk_round_trip),
    cmocka_unit_test(test_interface),
    cmocka_unit_test(test_hostile),
    cmocka_unit_test(test_entry_names),
    cmocka_unit_test(test_entries),
    cmocka_unit_test(test_set_and_remove),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
