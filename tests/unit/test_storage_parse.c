/* test_storage_parse.c — the storage driver's pure parts: format detection,
 * blkid/lvs/vgs/mountinfo parsing, mkfs argv and the exit-to-errno map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/wait.h>

#include "drivers/storage/storage_parse.h"

static void test_format_detect(void **state) {
  static const unsigned char qcow2_v3[] = {'Q', 'F', 'I', 0xfb, 0, 0, 0, 3, 0, 0};
  static const unsigned char qcow2_v2[] = {'Q', 'F', 'I', 0xfb, 0, 0, 0, 2};
  static const unsigned char qcow2_v9[] = {'Q', 'F', 'I', 0xfb, 0, 0, 0, 9};
  static const unsigned char short_magic[] = {'Q', 'F', 'I', 0xfb};
  static const unsigned char mbr[512] = {[510] = 0x55, [511] = 0xaa};
  assert_int_equal(storage_format_detect(qcow2_v3, sizeof(qcow2_v3)), VOLUME_FORMAT_QCOW2);
  assert_int_equal(storage_format_detect(qcow2_v2, sizeof(qcow2_v2)), VOLUME_FORMAT_QCOW2);
  assert_int_equal(storage_format_detect(qcow2_v9, sizeof(qcow2_v9)), VOLUME_FORMAT_RAW);
  assert_int_equal(storage_format_detect(short_magic, sizeof(short_magic)), VOLUME_FORMAT_RAW);
  assert_int_equal(storage_format_detect(mbr, sizeof(mbr)), VOLUME_FORMAT_RAW);
  assert_int_equal(storage_format_detect("", 0), VOLUME_FORMAT_RAW);
  assert_int_equal(storage_format_detect("QFI", 3), VOLUME_FORMAT_RAW);
}

static void test_blkid(void **state) {
  g_autofree char *type = NULL, *pttype = NULL;
  assert_int_equal(storage_blkid_parse("UUID=1234\nVERSION=1.0\nBLOCK_SIZE=4096\nTYPE=ext4\n"
                                       "USAGE=filesystem\n", &type, &pttype), 0);
  assert_string_equal(type, "ext4");
  assert_null(pttype);
  g_autofree char *t2 = NULL, *p2 = NULL;
  assert_int_equal(storage_blkid_parse("PTUUID=abcd\nPTTYPE=dos\n", &t2, &p2), 0);
  assert_null(t2);
  assert_string_equal(p2, "dos");
  g_autofree char *t3 = NULL, *p3 = NULL;
  assert_int_equal(storage_blkid_parse("", &t3, &p3), 0);
  assert_null(t3);
  assert_int_equal(storage_blkid_parse("garbage\n", &t3, &p3), -EINVAL);
}

static const char mountinfo[] =
    "22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p1 rw\n"
    "40 22 0:35 / /mnt/with\\040space rw,relatime shared:20 - tmpfs tmpfs rw,size=1024k\n"
    "41 22 7:3 / /var/lib/virtfs/fs rw,nosuid,nodev,relatime shared:21 - ext4 /dev/loop3 rw\n"
    "42 41 7:4 / /var/lib/virtfs/fs rw,relatime - xfs /dev/loop4 rw\n"
    "43 22 0:50 / /srv/opt rw master:3 propagate_from:2 unbindable - nfs srv:/x rw\n";

static void test_mountinfo(void **state) {
  g_autofree char *src = NULL, *fstype = NULL;
  assert_int_equal(storage_mountinfo_find(mountinfo, "/var/lib/virtfs/fs", &src, &fstype), 1);
  assert_string_equal(src, "/dev/loop4"); /* the last mount on a target wins */
  assert_string_equal(fstype, "xfs");
  g_autofree char *s2 = NULL;
  assert_int_equal(storage_mountinfo_find(mountinfo, "/mnt/with space", &s2, NULL), 1);
  assert_string_equal(s2, "tmpfs");
  g_autofree char *s3 = NULL;
  assert_int_equal(storage_mountinfo_find(mountinfo, "/srv/opt", &s3, NULL), 1);
  assert_string_equal(s3, "srv:/x");
  assert_int_equal(storage_mountinfo_find(mountinfo, "/var/lib", NULL, NULL), 0);
  assert_int_equal(storage_mountinfo_find("", "/", NULL, NULL), 0);
  assert_int_equal(storage_mountinfo_find("short line\n", "/", NULL, NULL), 0);
  assert_true(storage_mountinfo_has_source(mountinfo, "/dev/loop3"));
  assert_false(storage_mountinfo_has_source(mountinfo, "/dev/loop5"));
  g_auto(GStrv) sources = storage_mountinfo_sources(mountinfo);
  assert_int_equal(g_strv_length(sources), 5);
  assert_string_equal(sources[0], "/dev/nvme0n1p1");
}

static void test_lvs_vgs(void **state) {
  g_autoptr(GPtrArray) lvs = NULL;
  assert_int_equal(storage_lvs_parse("  web|8388608|-wi-a-----\n  db|16777216|-wi-XX----\n\n",
                                     &lvs), 0);
  assert_int_equal(lvs->len, 2);
  StorageLv *first = g_ptr_array_index(lvs, 0);
  assert_string_equal(first->name, "db");
  assert_true(first->size == 16777216);
  assert_string_equal(first->attr, "-wi-XX----");
  g_autoptr(GPtrArray) none = NULL;
  assert_int_equal(storage_lvs_parse("", &none), 0);
  assert_int_equal(none->len, 0);
  GPtrArray *bad = NULL;
  assert_int_equal(storage_lvs_parse("  x|12M|-wi\n", &bad), -EINVAL);
  assert_int_equal(storage_lvs_parse("  x|12\n", &bad), -EINVAL);
  assert_null(bad);

  uint64_t size = 0, free_bytes = 0, extent = 0;
  assert_int_equal(storage_vgs_parse("  62914560|54525952|4194304\n", &size, &free_bytes, &extent), 0);
  assert_true(size == 62914560 && free_bytes == 54525952 && extent == 4194304);
  assert_int_equal(storage_vgs_parse("  1|2|3\n", &size, &free_bytes, &extent), -EINVAL);
  assert_int_equal(storage_vgs_parse("1|1|4\n2|2|4\n", &size, &free_bytes, &extent), -EINVAL);
  assert_int_equal(storage_vgs_parse("", &size, &free_bytes, &extent), -EINVAL);
}

static void test_mkfs(void **state) {
  g_auto(GStrv) a = storage_mkfs_argv(POOL_FORMAT_EXT4, "/dev/vdb");
  g_autofree char *ja = g_strjoinv(" ", a);
  assert_string_equal(ja, "mkfs.ext4 -F -q /dev/vdb");
  g_auto(GStrv) b = storage_mkfs_argv(POOL_FORMAT_XFS, "/img");
  g_autofree char *jb = g_strjoinv(" ", b);
  assert_string_equal(jb, "mkfs.xfs -f -q /img");
  g_auto(GStrv) c = storage_mkfs_argv(POOL_FORMAT_VFAT, "/img");
  g_autofree char *jc = g_strjoinv(" ", c);
  assert_string_equal(jc, "mkfs.vfat /img");
  assert_null(storage_mkfs_argv(POOL_FORMAT_AUTO, "/img"));
  assert_null(storage_mkfs_argv(POOL_FORMAT_LVM2, "/img"));
}

#define EXITED(n) ((n) << 8)

static PoolDef *netfs_pool(const char *xml) {
  PoolDef *def = NULL;
  g_autofree char *err = NULL;
  if (pool_def_parse(xml, strlen(xml), &def, &err) < 0)
    fail_msg("%s", err);
  return def;
}

static char *joined(GStrv argv) {
  char *s = g_strjoinv(" ", argv);
  g_strfreev(argv);
  return s;
}

/* netfs pools: the mount argv for nfs, cifs and auto, and the source the
 * mount table shows. */
static void test_netfs(void **state) {
  g_autoptr(PoolDef) nfs = netfs_pool(
      "<pool type='netfs'><name>n</name><source><host name='nfs.example.com'/>"
      "<dir path='/export/images/'/><format type='nfs'/><protocol ver='4'/></source>"
      "<target><path>/mnt/n</path></target></pool>");
  g_autofree char *a = joined(storage_netfs_mount_argv(nfs));
  assert_string_equal(a, "mount -o nosuid,nodev,noexec,nfsvers=4 -t nfs "
                         "nfs.example.com:/export/images /mnt/n");
  g_autofree char *src = storage_netfs_source(nfs);
  assert_string_equal(src, "nfs.example.com:/export/images");

  g_autoptr(PoolDef) cifs = netfs_pool(
      "<pool type='netfs'><name>c</name><source><host name='files' port='445'/>"
      "<dir path='/vmshare'/><format type='cifs'/></source>"
      "<target><path>/mnt/c</path></target></pool>");
  g_autofree char *b = joined(storage_netfs_mount_argv(cifs));
  assert_string_equal(b, "mount -o nosuid,nodev,noexec,guest,port=445 -t cifs //files/vmshare /mnt/c");

  g_autoptr(PoolDef) aut = netfs_pool(
      "<pool type='netfs'><name>a</name><source><host name='[2001:db8::1]'/>"
      "<dir path='/srv'/></source><target><path>/mnt/a</path></target></pool>");
  g_autofree char *c = joined(storage_netfs_mount_argv(aut));
  assert_string_equal(c, "mount -o nosuid,nodev,noexec [2001:db8::1]:/srv /mnt/a");
  assert_null(storage_netfs_fstype(aut));

  const char *filesystems = "nodev\tsysfs\nnodev\ttmpfs\n\text4\nnodev\tnfs4\n";
  assert_true(storage_filesystems_has(filesystems, "ext4"));
  assert_true(storage_filesystems_has(filesystems, "nfs4"));
  assert_false(storage_filesystems_has(filesystems, "nfs"));
  assert_false(storage_filesystems_has(filesystems, "cifs"));
}

static void test_exit_errno(void **state) {
  assert_int_equal(storage_exit_errno(EXITED(0), "warnings do not matter"), 0);
  assert_int_equal(storage_exit_errno(9 /* SIGKILL */, NULL), -EIO);
  assert_int_equal(storage_exit_errno(EXITED(1), NULL), -EIO);
  assert_int_equal(storage_exit_errno(EXITED(1),
      "qemu-img: /p/a: Could not resize file: No space left on device"), -ENOSPC);
  assert_int_equal(storage_exit_errno(EXITED(5),
      "  Volume group \"vg\" has insufficient free space (2 extents): 4 required."), -ENOSPC);
  assert_int_equal(storage_exit_errno(EXITED(1),
      "qemu-img: Could not open '/p/a': Failed to get \"write\" lock\nIs another process using the image [/p/a]?"), -EBUSY);
  assert_int_equal(storage_exit_errno(EXITED(32), "umount: /mnt: target is busy."), -EBUSY);
  assert_int_equal(storage_exit_errno(EXITED(5), "  Logical volume vg/lv in use."), -EBUSY);
  assert_int_equal(storage_exit_errno(EXITED(5), "  Volume group \"nope\" not found"), -ENOENT);
  assert_int_equal(storage_exit_errno(EXITED(5), "  Failed to find logical volume \"vg/x\""), -ENOENT);
  assert_int_equal(storage_exit_errno(EXITED(1),
      "qemu-img: /p/a: Could not open '/p/b': No such file or directory"), -ENOENT);
  assert_int_equal(storage_exit_errno(EXITED(5), "  Logical Volume \"x\" already exists in volume group \"vg\""), -EEXIST);
  assert_int_equal(storage_exit_errno(EXITED(1), "open: Permission denied"), -EACCES);
  assert_int_equal(storage_exit_errno(EXITED(32),
      "mount: /mnt: unknown filesystem type 'foo'."), -EOPNOTSUPP);
  assert_int_equal(storage_exit_errno(EXITED(1), "Invalid parameter 'compat'"), -EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_format_detect),
    cmocka_unit_test(test_blkid),
    cmocka_unit_test(test_mountinfo),
    cmocka_unit_test(test_lvs_vgs),
    cmocka_unit_test(test_mkfs),
    cmocka_unit_test(test_netfs),
    cmocka_unit_test(test_exit_errno),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
