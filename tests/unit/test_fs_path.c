/* test_fs_path.c — the pure path parser of the FUSE layer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "fs/fs_path.h"

static void expect_sub(const char *path, ObjKind kind, const char *pool, const char *name,
                       const char *file, const char *sub) {
  g_auto(FsPath) p = {0};
  assert_int_equal(fs_path_parse(path, &p), 0);
  assert_int_equal(p.type, FS_PATH_OBJ_SUBENTRY);
  assert_int_equal(p.kind, kind);
  assert_true(g_strcmp0(p.pool, pool) == 0);
  assert_string_equal(p.name, name);
  assert_string_equal(p.file, file);
  assert_string_equal(p.sub, sub);
}

static void expect_path(const char *path, FsPathType type, ObjKind kind, const char *pool,
                        const char *name, const char *file) {
  g_auto(FsPath) p = {0};
  assert_int_equal(fs_path_parse(path, &p), 0);
  assert_int_equal(p.type, type);
  if (type == FS_PATH_KIND_DIR || type == FS_PATH_OBJ_DIR || type == FS_PATH_OBJ_ENTRY)
    assert_int_equal(p.kind, kind);
  assert_true(g_strcmp0(p.pool, pool) == 0);
  assert_true(g_strcmp0(p.name, name) == 0);
  assert_true(g_strcmp0(p.file, file) == 0);
}

static void expect_enoent(const char *path) {
  g_auto(FsPath) p = {0};
  assert_int_equal(fs_path_parse(path, &p), -ENOENT);
}

static void test_tree(void **state) {
  expect_path("/", FS_PATH_ROOT, 0, NULL, NULL, NULL);
  expect_path("/events", FS_PATH_ROOT_FILE, 0, NULL, NULL, "events");
  expect_path("/node", FS_PATH_NODE_DIR, 0, NULL, NULL, NULL);
  expect_path("/node/info", FS_PATH_NODE_FILE, 0, NULL, NULL, "info");
  expect_path("/domains", FS_PATH_KIND_DIR, OBJ_DOMAIN, NULL, NULL, NULL);
  expect_path("/networks", FS_PATH_KIND_DIR, OBJ_NETWORK, NULL, NULL, NULL);
  expect_path("/pools", FS_PATH_KIND_DIR, OBJ_POOL, NULL, NULL, NULL);
  expect_path("/domains/web1", FS_PATH_OBJ_DIR, OBJ_DOMAIN, NULL, "web1", NULL);
  expect_path("/domains/web1/config.xml", FS_PATH_OBJ_ENTRY, OBJ_DOMAIN, NULL, "web1",
              "config.xml");
  expect_path("/domains/a,b c/sedXYZ", FS_PATH_OBJ_ENTRY, OBJ_DOMAIN, NULL, "a,b c", "sedXYZ");
  /* devices/vdb.xml is a sub-entry here; fs_ops.c turns the entries of
   * table and data directories into the object's entries "DIR/FILE". */
  expect_sub("/domains/web1/devices/vdb.xml", OBJ_DOMAIN, NULL, "web1", "devices", "vdb.xml");
  expect_path("/pools/default/volumes", FS_PATH_VOLUMES_DIR, 0, "default", NULL, NULL);
  expect_path("/pools/default/info", FS_PATH_OBJ_ENTRY, OBJ_POOL, NULL, "default", "info");
  expect_path("/pools/default/volumes/v1", FS_PATH_OBJ_DIR, OBJ_VOLUME, "default", "v1", NULL);
  expect_path("/pools/default/volumes/v1/data", FS_PATH_OBJ_ENTRY, OBJ_VOLUME, "default", "v1",
              "data");
  /* Root files are looked up in the root table, like node/ files. */
  expect_path("/metrics", FS_PATH_ROOT_FILE, 0, NULL, NULL, "metrics");
  expect_path("/events.log", FS_PATH_ROOT_FILE, 0, NULL, NULL, "events.log");
  expect_sub("/domains/web1/history/0001.xml", OBJ_DOMAIN, NULL, "web1", "history", "0001.xml");
  expect_sub("/pools/p/history/0002.xml", OBJ_POOL, NULL, "p", "history", "0002.xml");
  expect_sub("/pools/p/volumes/v/history/0003.xml", OBJ_VOLUME, "p", "v", "history",
             "0003.xml");
  expect_path("/domains/web1/snapshots", FS_PATH_VOLUMES_DIR, 0, "web1", NULL, NULL);
  expect_path("/domains/web1/snapshots/s1", FS_PATH_OBJ_DIR, OBJ_SNAPSHOT, "web1", "s1", NULL);
  expect_path("/domains/web1/snapshots/s1/ctl", FS_PATH_OBJ_ENTRY, OBJ_SNAPSHOT, "web1", "s1",
              "ctl");
  assert_int_equal(fs_path_parent_kind(OBJ_SNAPSHOT), OBJ_DOMAIN);
  assert_int_equal(fs_path_child_kind(OBJ_DOMAIN), OBJ_SNAPSHOT);
  assert_int_equal(fs_path_child_kind(OBJ_NETWORK), OBJ_KIND_COUNT);
}

static void test_rejects(void **state) {
  expect_enoent("");
  expect_enoent("domains");
  expect_enoent("/events/x");
  expect_enoent("/node/a/b");
  expect_enoent("/domains//x");
  expect_enoent("/domains/x/y/z/w");
  expect_enoent("/networks/n/volumes/v/x");
  expect_enoent("/pools/p/volumes/v/data/x/y");
  expect_enoent("/pools/p/other/v/w");
  expect_enoent("/domains/d/volumes/v/x");
  expect_enoent("/pools/p/snapshots/s/x");
  expect_enoent("/domains/d/snapshots/s/ctl/x/y");
  expect_enoent(NULL);
}

static void test_kind_names(void **state) {
  assert_string_equal(fs_kind_dir_name(OBJ_DOMAIN), "domains");
  assert_string_equal(fs_kind_dir_name(OBJ_POOL), "pools");
  assert_null(fs_kind_dir_name(OBJ_VOLUME));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_tree),
    cmocka_unit_test(test_rejects),
    cmocka_unit_test(test_kind_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
