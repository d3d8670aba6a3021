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

const FsFile *fs_file_lookup(const FsFileTable *table, const char *name) {
  if (!table)
    return NULL;
  for (size_t i = 0; i < table->count; i++)
    if (strcmp(table->files[i].name, name) == 0)
      return &table->files[i];
  return NULL;
}
