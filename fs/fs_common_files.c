/* fs_common_files.c — config.xml, uuid, autostart and error, the same for
 * every kind of object; see fs_common_files.h. */
#include "fs/fs_common_files.h"

#include <errno.h>

#include "objects/values.h"

void *fs_obj_copy_def(Obj *obj) {
  g_mutex_lock(&obj->lock);
  void *def = obj->type->copy(obj->def);
  g_mutex_unlock(&obj->lock);
  return def;
}

int fs_config_read(FsContext *ctx, Obj *obj, GString *out) {
  g_mutex_lock(&obj->lock);
  g_string_append(out, obj->def_xml);
  g_mutex_unlock(&obj->lock);
  return 0;
}

int fs_config_write(FsContext *ctx, Obj *obj, const char *data, size_t len, char **ret_error) {
  void *def = NULL;
  g_autofree char *error = NULL;
  int r = obj->type->parse(data, len, &def, &error);
  if (r < 0) {
    *ret_error = g_strdup_printf("config.xml: %s", error);
    return r;
  }
  /* Under the object lock only (no registry lock is held here, so the lock
   * order holds); the hook is pure and quick. A concurrent writer may still
   * replace obj->def before registry_update: the last writer wins, as with
   * any two writes. */
  if (obj->type->inherit) {
    g_mutex_lock(&obj->lock);
    obj->type->inherit(def, obj->def);
    g_mutex_unlock(&obj->lock);
  }
  r = registry_update(ctx->registry, obj, &def, &error);
  if (def)
    obj->type->free(def);
  if (r < 0)
    *ret_error = g_strdup_printf("config.xml: %s", error);
  return r;
}

int fs_uuid_read(FsContext *ctx, Obj *obj, GString *out) {
  g_mutex_lock(&obj->lock);
  const char *uuid = obj->type->get_uuid ? obj->type->get_uuid(obj->def) : NULL;
  g_string_append_printf(out, "%s\n", uuid ? uuid : "");
  g_mutex_unlock(&obj->lock);
  return 0;
}

int fs_autostart_read(FsContext *ctx, Obj *obj, GString *out) {
  g_mutex_lock(&obj->lock);
  g_string_append(out, obj->autostart ? "1\n" : "0\n");
  g_mutex_unlock(&obj->lock);
  return 0;
}

int fs_autostart_write(FsContext *ctx, Obj *obj, const char *data, size_t len, char **ret_error) {
  bool on;
  if (value_parse_bool(data, &on) < 0) {
    *ret_error = g_strdup_printf("autostart: '%s' is not 1 or 0 (yes/no, true/false, on/off)",
                                 data);
    return -EINVAL;
  }
  g_autofree char *error = NULL;
  int r = registry_set_autostart(ctx->registry, obj, on, &error);
  if (r < 0)
    *ret_error = g_strdup_printf("autostart: %s", error);
  return r;
}

int fs_error_read(FsContext *ctx, Obj *obj, GString *out) {
  g_mutex_lock(&obj->lock);
  if (obj->error)
    g_string_append_printf(out, "%s\n", obj->error);
  g_mutex_unlock(&obj->lock);
  return 0;
}

int fs_error_write(FsContext *ctx, Obj *obj, const char *data, size_t len, char **ret_error) {
  obj_clear_error(obj);
  return 0;
}

ssize_t fs_bytes_pread(GBytes *bytes, char *buf, size_t size, off_t offset) {
  gsize len;
  const char *data = g_bytes_get_data(bytes, &len);
  if (offset < 0)
    return -EINVAL;
  if ((gsize)offset >= len)
    return 0;
  size_t n = MIN(size, len - (gsize)offset);
  memcpy(buf, data + offset, n);
  return (ssize_t)n;
}

int fs_qemu_verbs_read(const FsQemuVerb *verbs, size_t n, GString *out) {
  for (size_t i = 0; i < n; i++)
    g_string_append_printf(out, "%s\n", verbs[i].verb);
  return 0;
}

int fs_qemu_verbs_dispatch(FsContext *ctx, Obj *obj, const FsQemuVerb *verbs, size_t n,
                           const char *line, char **ret_error) {
  g_auto(GStrv) words = g_strsplit_set(line, " \t", -1);
  guint nwords = 0;
  for (guint i = 0; words[i]; i++)
    if (*words[i])
      nwords++;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(words[0], verbs[i].verb) != 0)
      continue;
    if (nwords != 1 && !verbs[i].func_arg) {
      *ret_error = g_strdup_printf("ctl: '%s' takes no argument", verbs[i].verb);
      return -EINVAL;
    }
    g_autofree char *error = NULL;
    g_autofree char *arg = g_strstrip(g_strdup(line + strlen(words[0])));
    int r = verbs[i].func_arg ? verbs[i].func_arg(ctx->qemu, obj, arg, &error)
                              : verbs[i].func(ctx->qemu, obj, &error);
    if (r < 0)
      *ret_error = g_strdup_printf("ctl %s: %s", line, error ? error : g_strerror(-r));
    return r;
  }
  *ret_error = g_strdup_printf("ctl: unknown verb '%s' (read ctl for the list)", words[0]);
  return -EINVAL;
}
