/* fuzz_fs_path.c — fs_path_parse() on arbitrary paths: no crash, no leak,
 * and an accepted path is exactly what its parts say, so writing the parts
 * back gives the input (no component is lost, merged or invented). */
#include <errno.h>
#include <string.h>

#include "fs/fs_path.h"
#include "tests/fuzz/fuzz.h"

static void check_component(const char *what, const char *c) {
  FUZZ_CHECK(c && *c, "%s is empty", what);
  FUZZ_CHECK(!strchr(c, '/'), "%s '%s' holds a slash", what, c);
}

/* The directory of a parent's children: pools' volumes/, domains'
 * snapshots/. */
static const char *children_dir(ObjKind parent) {
  return parent == OBJ_POOL ? "volumes" : parent == OBJ_DOMAIN ? "snapshots" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  g_autofree char *path = fuzz_string(data, size);
  g_auto(FsPath) p = {0};
  int r = fs_path_parse(path, &p);
  if (r < 0) {
    FUZZ_CHECK(r == -ENOENT, "fs_path_parse: %d", r);
    FUZZ_CHECK(!p.name && !p.file && !p.pool, "output written on failure");
    return 0;
  }
  g_autofree char *back = NULL;
  const char *dir = fs_kind_dir_name(p.kind);
  switch (p.type) {
  case FS_PATH_ROOT:
    back = g_strdup("/");
    break;
  case FS_PATH_ROOT_FILE:
    check_component("file", p.file);
    back = g_strdup_printf("/%s", p.file);
    break;
  case FS_PATH_NODE_DIR:
    back = g_strdup("/node");
    break;
  case FS_PATH_NODE_FILE:
    check_component("file", p.file);
    back = g_strdup_printf("/node/%s", p.file);
    break;
  case FS_PATH_KIND_DIR:
    FUZZ_CHECK(dir, "kind %d has no directory", p.kind);
    back = g_strdup_printf("/%s", dir);
    break;
  case FS_PATH_VOLUMES_DIR:
    check_component("parent", p.pool);
    FUZZ_CHECK(dir && children_dir(p.kind), "kind %d has no children", p.kind);
    back = g_strdup_printf("/%s/%s/%s", dir, p.pool, children_dir(p.kind));
    break;
  case FS_PATH_OBJ_DIR:
  case FS_PATH_OBJ_ENTRY:
  case FS_PATH_OBJ_SUBENTRY: {
    check_component("name", p.name);
    if (p.type == FS_PATH_OBJ_DIR)
      FUZZ_CHECK(!p.file, "a directory with a file");
    else
      check_component("file", p.file);
    if (p.type == FS_PATH_OBJ_SUBENTRY)
      check_component("entry", p.sub);
    else
      FUZZ_CHECK(!p.sub, "an entry without a subdirectory");
    g_autofree char *tail = g_strdup_printf("%s%s%s%s", p.file ? "/" : "", p.file ? p.file : "",
                                            p.sub ? "/" : "", p.sub ? p.sub : "");
    ObjKind parent = fs_path_parent_kind(p.kind);
    if (parent != OBJ_KIND_COUNT) {
      check_component("parent", p.pool);
      back = g_strdup_printf("/%s/%s/%s/%s%s", fs_kind_dir_name(parent), p.pool,
                             children_dir(parent), p.name, tail);
    } else {
      FUZZ_CHECK(dir && !p.pool, "kind %d", p.kind);
      back = g_strdup_printf("/%s/%s%s", dir, p.name, tail);
    }
    break;
  }
  default:
    FUZZ_CHECK(false, "unknown path type %d", p.type);
  }
  FUZZ_CHECK(strcmp(back, path) == 0, "'%s' parsed as '%s'", path, back);
  return 0;
}
