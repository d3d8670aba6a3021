/* fs_domain_files.c — the files of /virt/domains/NAME/ and their handlers.
 * The table at the end is the list users see; docs/domains.md documents
 * each entry and tests/integration/test_docs.sh checks that it does. */
#include <errno.h>
#include <string.h>

#include "fs/fs_common_files.h"
#include "fs/fs_network_files.h"
#include "objects/domain_def.h"
#include "objects/values.h"

/* The smallest and largest memory a definition may ask for. */
#define DOMAIN_MEMORY_MIN_KIB (16 * 1024ULL)
#define DOMAIN_MEMORY_MAX_KIB (16ULL * 1024 * 1024 * 1024)
#define DOMAIN_VCPUS_MAX 255

static int memory_read(FsContext *ctx, Obj *obj, GString *out) {
  g_mutex_lock(&obj->lock);
  const DomainDef *def = obj->def;
  g_string_append_printf(out, "%" G_GUINT64_FORMAT "\n", def->memory_kib);
  g_mutex_unlock(&obj->lock);
  return 0;
}

static int memory_write(FsContext *ctx, Obj *obj, const char *data, size_t len,
                        char **ret_error) {
  uint64_t bytes;
  int r = units_parse_value(data, 1024, &bytes);
  if (r < 0) {
    *ret_error = g_strdup_printf("memory: '%s' is not a size (KiB, or with a unit such as "
                                 "512M or 2G)", data);
    return -EINVAL;
  }
  uint64_t kib = (bytes + 1023) / 1024;
  if (kib < DOMAIN_MEMORY_MIN_KIB || kib > DOMAIN_MEMORY_MAX_KIB) {
    *ret_error = g_strdup_printf("memory: %" G_GUINT64_FORMAT " KiB is outside %llu KiB..%llu KiB",
                                 kib, DOMAIN_MEMORY_MIN_KIB, DOMAIN_MEMORY_MAX_KIB);
    return -EINVAL;
  }
  g_autoptr(DomainDef) def = fs_obj_copy_def(obj);
  if (def->current_memory_kib == def->memory_kib || def->current_memory_kib > kib)
    def->current_memory_kib = kib;
  def->memory_kib = kib;
  g_autofree char *error = NULL;
  r = registry_update(ctx->registry, obj, (void **)&def, &error);
  if (r < 0)
    *ret_error = g_strdup_printf("memory: %s", error);
  return r;
}

static int vcpus_read(FsContext *ctx, Obj *obj, GString *out) {
  g_mutex_lock(&obj->lock);
  const DomainDef *def = obj->def;
  g_string_append_printf(out, "%u\n", def->vcpus);
  g_mutex_unlock(&obj->lock);
  return 0;
}

static int vcpus_write(FsContext *ctx, Obj *obj, const char *data, size_t len,
                       char **ret_error) {
  uint64_t n;
  if (value_parse_uint(data, 1, DOMAIN_VCPUS_MAX, &n) < 0) {
    *ret_error = g_strdup_printf("vcpus: '%s' is not a number from 1 to %d", data,
                                 DOMAIN_VCPUS_MAX);
    return -EINVAL;
  }
  g_autoptr(DomainDef) def = fs_obj_copy_def(obj);
  if (def->vcpus_current == def->vcpus || def->vcpus_current > n)
    def->vcpus_current = (unsigned)n;
  def->vcpus = (unsigned)n;
  g_autofree char *error = NULL;
  int r = registry_update(ctx->registry, obj, (void **)&def, &error);
  if (r < 0)
    *ret_error = g_strdup_printf("vcpus: %s", error);
  return r;
}

static int info_read(FsContext *ctx, Obj *obj, GString *out) {
  g_mutex_lock(&obj->lock);
  const DomainDef *def = obj->def;
  g_string_append_printf(out, "name: %s\n", def->name);
  g_string_append_printf(out, "uuid: %s\n", def->uuid);
  g_string_append_printf(out, "type: %s\n", domain_virt_type_to_string(def->virt_type));
  g_string_append(out, "state: shutoff\n");
  g_string_append_printf(out, "memory: %" G_GUINT64_FORMAT "\n", def->memory_kib);
  g_string_append_printf(out, "current_memory: %" G_GUINT64_FORMAT "\n",
                         def->current_memory_kib);
  g_string_append_printf(out, "vcpus: %u\n", def->vcpus);
  g_string_append_printf(out, "autostart: %d\n", obj->autostart ? 1 : 0);
  g_mutex_unlock(&obj->lock);
  return 0;
}

static int domain_create(FsContext *ctx, Obj *parent, const char *name, char **ret_error) {
  DomainDef *def = domain_def_new_default(name, ctx->kvm_available);
  int r = registry_define(ctx->registry, OBJ_DOMAIN, NULL, (void **)&def, NULL, ret_error);
  domain_def_free(def);
  return r;
}

static const FsFile domain_files[] = {
  {"config.xml", FS_FILE_DOCUMENT, 0644, fs_config_read, fs_config_write},
  {"uuid", FS_FILE_VALUE, 0444, fs_uuid_read, NULL},
  {"autostart", FS_FILE_VALUE, 0644, fs_autostart_read, fs_autostart_write},
  {"memory", FS_FILE_VALUE, 0644, memory_read, memory_write},
  {"vcpus", FS_FILE_VALUE, 0644, vcpus_read, vcpus_write},
  {"info", FS_FILE_VALUE, 0444, info_read, NULL},
  {"addresses", FS_FILE_VALUE, 0444, fs_domain_addresses_read, NULL},
  {"error", FS_FILE_VALUE, 0644, fs_error_read, fs_error_write},
};

const FsFileTable fs_domain_files = {
  .files = domain_files,
  .count = G_N_ELEMENTS(domain_files),
  .create = domain_create,
};
