/* fs_files.c — which table serves which kind; see fs_files.h. */
#include "fs/fs_files.h"

#include <string.h>

const FsFileTable *fs_files_of_kind(ObjKind kind) {
  switch (kind) {
  case OBJ_DOMAIN:
    return &fs_domain_files;
  case OBJ_NETWORK:
    return &fs_network_files;
  case OBJ_POOL:
    return &fs_pool_files;
  case OBJ_VOLUME:
    return &fs_volume_files;
  case OBJ_SNAPSHOT:
    return &fs_snapshot_files;
  default:
    return NULL;
  }
}

const FsFileTable *fs_files_of_node(void) {
  return &fs_node_files;
}

/* The root's files; docs/events.md and docs/metrics.md document them. */
static const FsFile root_files[] = {
  {"events", FS_FILE_STREAM, 0444, NULL, NULL, &fs_events_ops},
  {"events.log", FS_FILE_STREAM, 0444, NULL, NULL, &fs_events_log_ops},
  {"metrics", FS_FILE_STREAM, 0444, NULL, NULL, &fs_metrics_ops},
};

static const FsFileTable root_table = {
  .files = root_files,
  .count = G_N_ELEMENTS(root_files),
};

const FsFileTable *fs_files_of_root(void) {
  return &root_table;
}

const FsFile *fs_file_lookup(const FsFileTable *table, const char *name) {
  if (!table)
    return NULL;
  for (size_t i = 0; i < table->count; i++)
    if (strcmp(table->files[i].name, name) == 0)
      return &table->files[i];
  return NULL;
}
