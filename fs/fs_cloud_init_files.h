/* fs_cloud_init_files.h — domains/NAME/cloud-init/: the files of the
 * domain's NoCloud seed, kept with the definition in the state directory
 * (store_extra_*), checked at write (cloud_init_validate). The seed itself
 * is built at each start by the QEMU driver (qemu_seed.c). The entries go
 * into the domain table with FS_CLOUD_INIT_FILES. */
#pragma once

#include "fs/fs_files.h"

#define FS_CLOUD_INIT_DECLARE(fn)                                                         \
  int fn##_read(FsContext *ctx, Obj *obj, GString *out);                                  \
  int fn##_write(FsContext *ctx, Obj *obj, const char *data, size_t len, char **ret_error); \
  int fn##_remove(FsContext *ctx, Obj *obj, char **ret_error);

FS_CLOUD_INIT_DECLARE(fs_ci_user_data)
FS_CLOUD_INIT_DECLARE(fs_ci_meta_data)
FS_CLOUD_INIT_DECLARE(fs_ci_network_config)
FS_CLOUD_INIT_DECLARE(fs_ci_vendor_data)

#define FS_CLOUD_INIT_ENTRY(file, fn)                                                     \
  {"cloud-init/" file, FS_FILE_DOCUMENT, 0644, fn##_read, fn##_write, .remove = fn##_remove}

#define FS_CLOUD_INIT_FILES                                                               \
  {"cloud-init", FS_FILE_DIR, 0755, NULL, NULL},                                          \
  FS_CLOUD_INIT_ENTRY("user-data", fs_ci_user_data),                                      \
  FS_CLOUD_INIT_ENTRY("meta-data", fs_ci_meta_data),                                      \
  FS_CLOUD_INIT_ENTRY("network-config", fs_ci_network_config),                            \
  FS_CLOUD_INIT_ENTRY("vendor-data", fs_ci_vendor_data)
