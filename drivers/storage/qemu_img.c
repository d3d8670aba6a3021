/* qemu_img.c — argv builders for qemu-img and the parser of its JSON image
 * info; see qemu_img.h. Pure: json-glib only parses text handed in. */
#include "drivers/storage/qemu_img.h"

#include <errno.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <string.h>

void qemu_img_info_free(QemuImgInfo *info) {
  if (!info)
    return;
  g_free(info->format);
  g_free(info->backing_filename);
  g_free(info->full_backing_filename);
  g_free(info->backing_format);
  g_free(info->compat);
  g_free(info);
}

static int fail(char **ret_error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static int fail(char **ret_error, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *text = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  if (ret_error)
    *ret_error = g_strdup_printf("cannot read qemu-img's image info: %s", text);
  return -EINVAL;
}

/* A member that must be a non-negative integer, when present. */
static int get_size(JsonObject *o, const char *name, bool required, uint64_t *ret_value,
                    char **ret_error) {
  JsonNode *n = json_object_get_member(o, name);
  if (!n) {
    if (required)
      return fail(ret_error, "member \"%s\" is missing", name);
    return 0;
  }
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
      json_node_get_int(n) < 0)
    return fail(ret_error, "member \"%s\" is not a size", name);
  *ret_value = (uint64_t)json_node_get_int(n);
  return 0;
}

static int get_string(JsonObject *o, const char *name, bool required, char **ret_value,
                      char **ret_error) {
  JsonNode *n = o ? json_object_get_member(o, name) : NULL;
  if (!n) {
    if (required)
      return fail(ret_error, "member \"%s\" is missing", name);
    return 0;
  }
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return fail(ret_error, "member \"%s\" is not a string", name);
  g_free(*ret_value);
  *ret_value = g_strdup(json_node_get_string(n));
  return 0;
}

static bool get_bool(JsonObject *o, const char *name) {
  JsonNode *n = o ? json_object_get_member(o, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN &&
         json_node_get_boolean(n);
}

int qemu_img_info_parse(const char *json, size_t len, QemuImgInfo **ret_info, char **ret_error) {
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  g_autoptr(GError) error = NULL;
  if (len > G_MAXSSIZE || !json_parser_load_from_data(parser, json, (gssize)len, &error))
    return fail(ret_error, "%s", error ? error->message : "too long");
  JsonNode *root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root))
    return fail(ret_error, "the output is not a JSON object");
  JsonObject *o = json_node_get_object(root);

  g_autoptr(QemuImgInfo) info = g_new0(QemuImgInfo, 1);
  int r;
  if ((r = get_string(o, "format", true, &info->format, ret_error)) < 0 ||
      (r = get_size(o, "virtual-size", true, &info->virtual_size, ret_error)) < 0 ||
      (r = get_size(o, "actual-size", false, &info->actual_size, ret_error)) < 0 ||
      (r = get_string(o, "backing-filename", false, &info->backing_filename, ret_error)) < 0 ||
      (r = get_string(o, "full-backing-filename", false, &info->full_backing_filename,
                      ret_error)) < 0 ||
      (r = get_string(o, "backing-filename-format", false, &info->backing_format, ret_error)) < 0)
    return r;
  info->dirty = get_bool(o, "dirty-flag");

  JsonNode *fs = json_object_get_member(o, "format-specific");
  if (fs && JSON_NODE_HOLDS_OBJECT(fs)) {
    JsonObject *fso = json_node_get_object(fs);
    JsonNode *data = json_object_get_member(fso, "data");
    g_autofree char *type = NULL;
    if ((r = get_string(fso, "type", false, &type, ret_error)) < 0)
      return r;
    if (type && strcmp(type, "qcow2") == 0 && data && JSON_NODE_HOLDS_OBJECT(data)) {
      JsonObject *d = json_node_get_object(data);
      if ((r = get_string(d, "compat", false, &info->compat, ret_error)) < 0)
        return r;
      info->corrupt = get_bool(d, "corrupt");
      info->lazy_refcounts = get_bool(d, "lazy-refcounts");
    }
  }
  *ret_info = g_steal_pointer(&info);
  return 0;
}

static void add(GPtrArray *argv, const char *arg) {
  g_ptr_array_add(argv, g_strdup(arg));
}

static GStrv finish(GPtrArray *argv) {
  g_ptr_array_add(argv, NULL);
  return (GStrv)g_ptr_array_free(argv, FALSE);
}

GStrv qemu_img_info_argv(const char *binary, const char *path, VolumeFormat format) {
  g_assert(path[0] == '/');
  GPtrArray *argv = g_ptr_array_new();
  add(argv, binary);
  add(argv, "info");
  add(argv, "-U");
  add(argv, "--output=json");
  add(argv, "-f");
  add(argv, volume_format_to_string(format));
  add(argv, path);
  return finish(argv);
}

GStrv qemu_img_create_argv(const char *binary, const char *path, VolumeFormat format,
                           uint64_t capacity, const char *compat, bool lazy_refcounts,
                           bool preallocate,
                           const char *backing_path, VolumeFormat backing_format) {
  g_assert(path[0] == '/' && (!backing_path || backing_path[0] == '/'));
  GPtrArray *argv = g_ptr_array_new();
  add(argv, binary);
  add(argv, "create");
  add(argv, "-q");
  add(argv, "-f");
  add(argv, volume_format_to_string(format));
  g_autoptr(GString) opts = g_string_new("");
  if (compat && format == VOLUME_FORMAT_QCOW2)
    g_string_append_printf(opts, "compat=%s", compat);
  if (lazy_refcounts && format == VOLUME_FORMAT_QCOW2)
    g_string_append_printf(opts, "%slazy_refcounts=on", opts->len ? "," : "");
  if (preallocate)
    g_string_append_printf(opts, "%spreallocation=falloc", opts->len ? "," : "");
  if (opts->len) {
    add(argv, "-o");
    add(argv, opts->str);
  }
  if (backing_path) {
    add(argv, "-b");
    add(argv, backing_path);
    add(argv, "-F");
    add(argv, volume_format_to_string(backing_format));
  }
  add(argv, path);
  if (capacity || !backing_path)
    g_ptr_array_add(argv, g_strdup_printf("%" PRIu64, capacity));
  return finish(argv);
}

GStrv qemu_img_resize_argv(const char *binary, const char *path, VolumeFormat format,
                           uint64_t capacity) {
  g_assert(path[0] == '/');
  GPtrArray *argv = g_ptr_array_new();
  add(argv, binary);
  add(argv, "resize");
  add(argv, "-q");
  add(argv, "-f");
  add(argv, volume_format_to_string(format));
  add(argv, path);
  g_ptr_array_add(argv, g_strdup_printf("%" PRIu64, capacity));
  return finish(argv);
}

GStrv qemu_img_convert_argv(const char *binary, const char *src, VolumeFormat src_format,
                            const char *dst, VolumeFormat dst_format, const char *compat) {
  g_assert(src[0] == '/' && dst[0] == '/');
  GPtrArray *argv = g_ptr_array_new();
  add(argv, binary);
  add(argv, "convert");
  add(argv, "-q");
  add(argv, "-f");
  add(argv, volume_format_to_string(src_format));
  add(argv, "-O");
  add(argv, volume_format_to_string(dst_format));
  if (compat && dst_format == VOLUME_FORMAT_QCOW2) {
    add(argv, "-o");
    g_ptr_array_add(argv, g_strdup_printf("compat=%s", compat));
  }
  add(argv, src);
  add(argv, dst);
  return finish(argv);
}
