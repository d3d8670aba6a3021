/* fs_node_files.c — the files of /virt/node/: facts about the host. */
#include "config.h"

#include <unistd.h>

#include "fs/fs_files.h"

static int version_read(FsContext *ctx, Obj *obj, GString *out) {
  g_string_append_printf(out, "%s\n", VIRTFS_VERSION);
  return 0;
}

static const FsFile node_files[] = {
  {"version", FS_FILE_VALUE, 0444, version_read, NULL},
};

const FsFileTable fs_node_files = {node_files, G_N_ELEMENTS(node_files)};
