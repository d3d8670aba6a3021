/* cloud_init.c — the pure parts of the NoCloud seed; see cloud_init.h. */
#include "objects/cloud_init.h"

#include <errno.h>
#include <string.h>
#include <yaml.h>

const char *const cloud_init_files[CLOUD_INIT_N_FILES] = {
  "user-data", "meta-data", "network-config", "vendor-data",
};

bool cloud_init_file_known(const char *name) {
  for (size_t i = 0; i < CLOUD_INIT_N_FILES; i++)
    if (g_strcmp0(name, cloud_init_files[i]) == 0)
      return true;
  return false;
}

/* Parses every document; the first one's top node must be a mapping. */
static int yaml_check(const char *name, const char *data, size_t len, char **ret_error) {
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) {
    *ret_error = g_strdup("out of memory");
    return -ENOMEM;
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
  int r = 0;
  bool first_node = false, seen_node = false;
  for (;;) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&parser, &ev)) {
      g_autofree char *context =
          parser.context ? g_strdup_printf(" (%s at line %zu)", parser.context,
                                           parser.context_mark.line + 1)
                         : g_strdup("");
      *ret_error = g_strdup_printf("%s: invalid YAML at line %zu, column %zu: %s%s", name,
                                   parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                                   parser.problem ? parser.problem : "syntax error", context);
      r = -EINVAL;
      break;
    }
    yaml_event_type_t type = ev.type;
    if (!seen_node && (type == YAML_MAPPING_START_EVENT || type == YAML_SEQUENCE_START_EVENT ||
                       type == YAML_SCALAR_EVENT || type == YAML_ALIAS_EVENT)) {
      seen_node = true;
      first_node = type == YAML_MAPPING_START_EVENT;
      /* An empty document ("key:" missing, just "---") is a null scalar. */
      if (type == YAML_SCALAR_EVENT && ev.data.scalar.length == 0 && ev.data.scalar.plain_implicit)
        first_node = true;
      if (!first_node) {
        *ret_error = g_strdup_printf("%s: line %zu: the document must be a mapping of keys "
                                     "(key: value), not a %s", name, ev.start_mark.line + 1,
                                     type == YAML_SEQUENCE_START_EVENT ? "list" : "single value");
        r = -EINVAL;
      }
    }
    yaml_event_delete(&ev);
    if (r < 0 || type == YAML_STREAM_END_EVENT)
      break;
  }
  yaml_parser_delete(&parser);
  return r;
}

int cloud_init_validate(const char *name, const char *data, size_t len, char **ret_error) {
  if (!cloud_init_file_known(name)) {
    *ret_error = g_strdup_printf("'%s' is not a cloud-init file", name);
    return -EINVAL;
  }
  if (memchr(data, '\0', len)) {
    *ret_error = g_strdup_printf("%s: text only (a NUL byte was written)", name);
    return -EINVAL;
  }
  bool user = strcmp(name, "user-data") == 0 || strcmp(name, "vendor-data") == 0;
  if (user && !(len >= 13 && memcmp(data, "#cloud-config", 13) == 0))
    return 0;
  return yaml_check(name, data, len, ret_error);
}

char *cloud_init_instance_id(const char *const contents[CLOUD_INIT_N_FILES]) {
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  for (size_t i = 0; i < CLOUD_INIT_N_FILES; i++) {
    if (!contents[i])
      continue;
    g_checksum_update(sum, (const guchar *)cloud_init_files[i], (gssize)strlen(cloud_init_files[i]) + 1);
    g_checksum_update(sum, (const guchar *)contents[i], (gssize)strlen(contents[i]) + 1);
  }
  return g_strdup_printf("iid-%.16s", g_checksum_get_string(sum));
}

static bool has_top_key(const char *yaml, const char *key) {
  size_t n = strlen(key);
  for (const char *p = yaml; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
    if (strncmp(p, key, n) == 0 && p[n] == ':')
      return true;
  return false;
}

char *cloud_init_meta_data(const char *user_meta_data, const char *instance_id,
                           const char *hostname) {
  GString *out = g_string_new(NULL);
  const char *user = user_meta_data ? user_meta_data : "";
  if (!has_top_key(user, "instance-id"))
    g_string_append_printf(out, "instance-id: %s\n", instance_id);
  /* Domain names are [A-Za-z0-9_.+-]: plain YAML scalars, but quoted so a
   * name like "1e3" or "yes" stays a string. */
  if (!has_top_key(user, "local-hostname"))
    g_string_append_printf(out, "local-hostname: '%s'\n", hostname);
  g_string_append(out, user);
  if (out->len && out->str[out->len - 1] != '\n')
    g_string_append_c(out, '\n');
  return g_string_free(out, FALSE);
}

bool cloud_init_has_files(const char *const contents[CLOUD_INIT_N_FILES]) {
  for (size_t i = 0; i < CLOUD_INIT_N_FILES; i++)
    if (contents[i])
      return true;
  return false;
}

DomainDisk *cloud_init_seed_disk(const DomainDef *def, const char *image_path) {
  for (char c = 'a'; c <= 'z'; c++) {
    char dev[4] = {'v', 'd', c, '\0'};
    bool used = false;
    for (guint i = 0; i < def->disks->len && !used; i++) {
      const DomainDisk *d = def->disks->pdata[i];
      used = g_strcmp0(d->target_dev, dev) == 0;
    }
    if (used)
      continue;
    DomainDisk *disk = g_new0(DomainDisk, 1);
    disk->type = DISK_TYPE_FILE;
    disk->device = DISK_DEVICE_DISK;
    disk->format = DISK_FORMAT_RAW;
    disk->source = g_strdup(image_path);
    disk->target_dev = g_strdup(dev);
    disk->target_bus = DISK_BUS_VIRTIO;
    disk->readonly = true;
    disk->serial = g_strdup("cidata");
    return disk;
  }
  return NULL;
}

unsigned cloud_init_seed_size_kib(size_t total) {
  /* FAT12 with its tables and root directory fits in 1 MiB with room for
   * small files; larger contents get twice their size. */
  size_t kib = (total + 1023) / 1024 * 2 + 256;
  return (unsigned)MAX(kib, (size_t)1024);
}

GStrv cloud_init_mkfs_argv(const char *image_path, unsigned size_kib) {
  GStrvBuilder *b = g_strv_builder_new();
  g_strv_builder_add_many(b, "mkfs.vfat", "-C", "-n", "CIDATA", image_path, NULL);
  g_autofree char *size = g_strdup_printf("%u", size_kib);
  g_strv_builder_add(b, size);
  GStrv argv = g_strv_builder_end(b);
  g_strv_builder_unref(b);
  return argv;
}

GStrv cloud_init_mcopy_argv(const char *image_path, const char *const *paths) {
  GStrvBuilder *b = g_strv_builder_new();
  g_strv_builder_add_many(b, "mcopy", "-i", image_path, NULL);
  for (size_t i = 0; paths[i]; i++)
    g_strv_builder_add(b, paths[i]);
  g_strv_builder_add(b, "::/");
  GStrv argv = g_strv_builder_end(b);
  g_strv_builder_unref(b);
  return argv;
}
