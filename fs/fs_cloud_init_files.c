/* fs_cloud_init_files.c — the handlers of domains/NAME/cloud-init/FILE;
 * see fs_cloud_init_files.h and docs/domains.md. */
#include "fs/fs_cloud_init_files.h"

#include <errno.h>
#include <string.h>

#include "drivers/qemu/qemu_driver.h"
#include "objects/cloud_init.h"
#include "objects/registry.h"
#include "objects/store.h"

static int ci_read(FsContext *ctx, Obj *obj, GString *out, const char *file) {
  g_autofree char *name = obj_dup_name(obj);
  g_autofree char *content = NULL, *error = NULL;
  registry_write_lock(ctx->registry);
  int r = store_extra_read(registry_store(ctx->registry), OBJ_DOMAIN, name, file, &content,
                           &error);
  registry_write_unlock(ctx->registry);
  if (r < 0) {
    obj_set_error(obj, "cloud-init/%s: %s", file, error);
    return r;
  }
  if (content)
    g_string_append(out, content);
  return 0;
}

/* Stores content (NULL: removes the file) under the registry's write lock,
 * which also keeps a rename or undefine of the domain from racing it. */
static int ci_store(FsContext *ctx, Obj *obj, const char *file, const char *content,
                    char **ret_error) {
  registry_write_lock(ctx->registry);
  g_mutex_lock(&obj->lock);
  bool removed = obj->removed;
  g_mutex_unlock(&obj->lock);
  g_autofree char *name = obj_dup_name(obj);
  int r = removed ? -ENOENT
                  : store_extra_write(registry_store(ctx->registry), OBJ_DOMAIN, name, file,
                                      content, ret_error);
  registry_write_unlock(ctx->registry);
  if (r == 0)
    registry_emit(ctx->registry, obj, "defined", "cloud-init");
  return r;
}

static int ci_write(FsContext *ctx, Obj *obj, const char *file, const char *data, size_t len,
                    char **ret_error) {
  /* Writing nothing (truncate and close) removes the file. */
  if (len == 0)
    return ci_store(ctx, obj, file, NULL, ret_error);
  int r = cloud_init_validate(file, data, len, ret_error);
  if (r < 0)
    return r;
  g_autofree char *content = g_strndup(data, len);
  return ci_store(ctx, obj, file, content, ret_error);
}

/* rm: while the domain is active the file is only hidden for a moment,
 * like the domain's other files, and nothing is deleted: `rm -r` of a
 * running domain is refused at its rmdir, which shows every file again,
 * and so it loses none of them. */
static int ci_remove(FsContext *ctx, Obj *obj, const char *file, char **ret_error) {
  if (qemu_domain_is_active(obj))
    return FS_REMOVE_HIDE;
  return ci_store(ctx, obj, file, NULL, ret_error);
}

#define FS_CLOUD_INIT_DEFINE(fn, file)                                                     \
  int fn##_read(FsContext *ctx, Obj *obj, GString *out) {                                  \
    return ci_read(ctx, obj, out, file);                                                   \
  }                                                                                         \
  int fn##_write(FsContext *ctx, Obj *obj, const char *data, size_t len, char **ret_error) { \
    return ci_write(ctx, obj, file, data, len, ret_error);                                 \
  }                                                                                         \
  int fn##_remove(FsContext *ctx, Obj *obj, char **ret_error) {                            \
    return ci_remove(ctx, obj, file, ret_error);                                           \
  }

FS_CLOUD_INIT_DEFINE(fs_ci_user_data, "user-data")
FS_CLOUD_INIT_DEFINE(fs_ci_meta_data, "meta-data")
FS_CLOUD_INIT_DEFINE(fs_ci_network_config, "network-config")
FS_CLOUD_INIT_DEFINE(fs_ci_vendor_data, "vendor-data")
