/* fs_history_files.c — OBJECT/history/: every accepted definition of the
 * object as a read-only file 0001.xml, 0002.xml, ... (objects/history.h
 * keeps them; the registry adds them). docs/history.md documents it. */
#include <errno.h>

#include "fs/fs_files.h"
#include "objects/history.h"

static int history_dir_list(FsContext *ctx, Obj *obj, GPtrArray *names) {
  History *h = registry_history(ctx->registry);
  if (!h)
    return 0;
  g_autofree char *key = registry_history_key(obj);
  g_autoptr(GArray) numbers = history_list(h, key);
  for (guint i = 0; i < numbers->len; i++)
    g_ptr_array_add(names, history_entry_name(g_array_index(numbers, uint64_t, i)));
  return 0;
}

static int history_dir_read(FsContext *ctx, Obj *obj, const char *name, GString *out,
                            int64_t *ret_mtime_us) {
  History *h = registry_history(ctx->registry);
  if (!h)
    return -ENOENT;
  g_autofree char *key = registry_history_key(obj);
  int r = history_read(h, key, name, out, ret_mtime_us);
  return r < 0 ? -ENOENT : 0;
}

const FsDirOps fs_history_dir = {
  .list = history_dir_list,
  .read = history_dir_read,
};
