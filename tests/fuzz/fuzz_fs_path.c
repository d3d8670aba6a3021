/* fuzz_fs_path.c — fs_path_parse() on arbitrary paths: no crash, no leak,
 * and an accepted path is exactly what its parts say (a domain's file may
 * be DIR/FILE, cloud-init/user-data), so writing the parts
 * back gives the input (no component is lost, merged or invented). */
#include <errno.h>
#include <string.h>

#include "fs/fs_path.h"
#include "tests/fuzz/fuzz.h"

static void check_component(const char *what, const char *c) {
  FUZZ_CHECK(c && *c, "%s is empty", what);
  FUZZ_CHECK(!strchr(c, '/'), "%s '%s' holds a slash", what, c);
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
    check_component("pool", p.pool);
    back = g_strdup_printf("/pools/%s/volumes", p.pool);
    break;
  case FS_PATH_OBJ_DIR:
  case FS_PATH_OBJ_ENTRY: {
    check_component("name", p.name);
    const char *slash = p.file ? strchr(p.file, '/') : NULL;
    if (p.type == FS_PATH_OBJ_ENTRY && slash) {
      /* A file in a domain's subdirectory: "DIR/FILE", one slash. */
      FUZZ_CHECK(p.kind == OBJ_DOMAIN, "a nested file of kind %d", p.kind);
      g_autofree char *sub = g_strndup(p.file, (gsize)(slash - p.file));
      check_component("subdirectory", sub);
      check_component("file", slash + 1);
    } else if (p.type == FS_PATH_OBJ_ENTRY)
      check_component("file", p.file);
    else
      FUZZ_CHECK(!p.file, "a directory with a file");
    g_autofree char *tail = p.file ? g_strdup_printf("/%s", p.file) : g_strdup("");
    if (p.kind == OBJ_VOLUME) {
      check_component("pool", p.pool);
      back = g_strdup_printf("/pools/%s/volumes/%s%s", p.pool, p.name, tail);
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
