/* test_cloud_init.c — the pure parts of the cloud-init seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "objects/cloud_init.h"

static int check(const char *name, const char *text, char **err) {
  return cloud_init_validate(name, text, strlen(text), err);
}

static void test_validate(void **state) {
  g_autofree char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL, *e5 = NULL, *e6 = NULL;
  char *none = NULL;
  assert_int_equal(check("user-data", "#cloud-config\nusers: [{name: ops}]\nhostname: web\n",
                         &none), 0);
  assert_null(none);
  assert_int_equal(check("user-data", "#cloud-config\n", &none), 0);
  /* Scripts and MIME archives are cloud-init's to judge. */
  assert_int_equal(check("user-data", "#!/bin/sh\necho [unbalanced\n", &none), 0);
  /* A bad line is named, counting from 1. */
  assert_int_equal(check("user-data", "#cloud-config\nusers:\n  - name: ops\n bad: [\n", &e1),
                   -EINVAL);
  assert_non_null(strstr(e1, "user-data: invalid YAML at line "));
  assert_int_equal(check("user-data", "#cloud-config\na: 1\nb: \"open\n", &e2), -EINVAL);
  assert_non_null(strstr(e2, "line 3"));
  assert_int_equal(check("meta-data", "- a\n- b\n", &e3), -EINVAL);
  assert_non_null(strstr(e3, "must be a mapping"));
  assert_int_equal(check("network-config", "version: 2\nethernets: {eth0: {dhcp4: true}}\n",
                         &none), 0);
  assert_int_equal(cloud_init_validate("user-data", "#cloud-config\n\0x", 16, &e4), -EINVAL);
  assert_non_null(strstr(e4, "NUL"));
  assert_int_equal(check("other", "a: 1\n", &e5), -EINVAL);
  assert_int_equal(check("vendor-data", "#cloud-config\n: : :\n  - x\n", &e6), -EINVAL);
}

static void test_instance_id(void **state) {
  const char *a[CLOUD_INIT_N_FILES] = {"#cloud-config\nhostname: a\n", NULL, NULL, NULL};
  const char *b[CLOUD_INIT_N_FILES] = {"#cloud-config\nhostname: b\n", NULL, NULL, NULL};
  /* The same content under another file name is another seed. */
  const char *c[CLOUD_INIT_N_FILES] = {NULL, NULL, NULL, "#cloud-config\nhostname: a\n"};
  g_autofree char *ia = cloud_init_instance_id(a), *ia2 = cloud_init_instance_id(a);
  g_autofree char *ib = cloud_init_instance_id(b), *ic = cloud_init_instance_id(c);
  assert_string_equal(ia, ia2);
  assert_int_equal(strlen(ia), 4 + 16);
  assert_true(g_str_has_prefix(ia, "iid-"));
  assert_string_not_equal(ia, ib);
  assert_string_not_equal(ia, ic);
  assert_true(cloud_init_has_files(a));
  const char *none[CLOUD_INIT_N_FILES] = {0};
  assert_false(cloud_init_has_files(none));
}

static void test_meta_data(void **state) {
  g_autofree char *d = cloud_init_meta_data(NULL, "iid-1", "web");
  assert_string_equal(d, "instance-id: iid-1\nlocal-hostname: 'web'\n");
  g_autofree char *u = cloud_init_meta_data("local-hostname: db\nx: 1", "iid-2", "web");
  assert_string_equal(u, "instance-id: iid-2\nlocal-hostname: db\nx: 1\n");
  g_autofree char *k = cloud_init_meta_data("instance-id: mine\n", "iid-3", "web");
  assert_string_equal(k, "local-hostname: 'web'\ninstance-id: mine\n");
}

static void test_seed_disk_and_argv(void **state) {
  g_autoptr(DomainDef) def = domain_def_new_default("web", false);
  DomainDisk *vda = g_new0(DomainDisk, 1);
  vda->target_dev = g_strdup("vda");
  g_ptr_array_add(def->disks, vda);
  DomainDisk *vdc = g_new0(DomainDisk, 1);
  vdc->target_dev = g_strdup("vdc");
  g_ptr_array_add(def->disks, vdc);
  g_autoptr(DomainDisk) seed = cloud_init_seed_disk(def, "/run/x/cidata.img");
  assert_string_equal(seed->target_dev, "vdb");
  assert_true(seed->readonly);
  assert_int_equal(seed->target_bus, DISK_BUS_VIRTIO);
  assert_int_equal(seed->device, DISK_DEVICE_DISK);
  assert_int_equal(seed->format, DISK_FORMAT_RAW);
  assert_string_equal(seed->source, "/run/x/cidata.img");

  assert_int_equal(cloud_init_seed_size_kib(10), 1024);
  assert_true(cloud_init_seed_size_kib(4 * 1024 * 1024) >= 8 * 1024);
  g_auto(GStrv) mkfs = cloud_init_mkfs_argv("/r/cidata.img", 1024);
  g_autofree char *m = g_strjoinv(" ", mkfs);
  assert_string_equal(m, "mkfs.vfat -C -n CIDATA /r/cidata.img 1024");
  const char *paths[] = {"/r/d/user-data", "/r/d/meta-data", NULL};
  g_auto(GStrv) mcopy = cloud_init_mcopy_argv("/r/cidata.img", paths);
  g_autofree char *c = g_strjoinv(" ", mcopy);
  assert_string_equal(c, "mcopy -i /r/cidata.img /r/d/user-data /r/d/meta-data ::/");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_validate),
    cmocka_unit_test(test_instance_id),
    cmocka_unit_test(test_meta_data),
    cmocka_unit_test(test_seed_disk_and_argv),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
