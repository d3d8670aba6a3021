/* pool_xml.c — libvirt storage pool XML to PoolDef and back, pure; see
 * pool_def.h for the contract and the subset accepted. Also holds the
 * <permissions> and size helpers volume_xml.c shares (storage_xml.h). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "objects/names.h"
#include "objects/pool_def.h"
#include "objects/storage_xml.h"
#include "objects/values.h"
#include "objects/xml_util.h"

/* ---- shared with volume_xml.c ---- */

int storage_xml_check_leaf(const xmlNode *node, const char *const *attrs, char **ret_error) {
  static const char *const none[] = {NULL};
  int r = xml_check_attrs(node, attrs ? attrs : none, ret_error);
  if (r < 0)
    return r;
  for (const xmlNode *c = node->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE)
      return xml_fail(ret_error, c, "element is not supported inside <%s>",
                      (const char *)node->name);
  return 0;
}

static int parse_id(const xmlNode *node, long *ret_id, char **ret_error) {
  g_autofree char *text = xml_text(node);
  uint64_t v;
  if (strcmp(text, "-1") == 0) {
    *ret_id = STORAGE_ID_UNSET;
    return 0;
  }
  /* uid_t is 32 bits and (uid_t)-1 means "unchanged" to chown(2). */
  if (value_parse_uint(text, 0, UINT32_MAX - 1, &v) < 0)
    return xml_fail(ret_error, node, "must be a user or group number or -1, not '%s'", text);
  *ret_id = (long)v;
  return 0;
}

int storage_xml_parse_permissions(const xmlNode *node, StoragePermissions *perms,
                                  char **ret_error) {
  static const char *const children[] = {"mode", "owner", "group", "label", NULL};
  int r;
  if ((r = xml_check_attrs(node, (const char *const[]){NULL}, ret_error)) < 0 ||
      (r = xml_check_children(node, children, children, ret_error)) < 0)
    return r;
  for (const xmlNode *c = node->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && (r = storage_xml_check_leaf(c, NULL, ret_error)) < 0)
      return r;
  StoragePermissions p = *perms;
  xmlNode *c;
  if ((c = xml_child(node, "label"))) {
    /* Kept and given back, never applied (pool_def.h). */
    g_autofree char *label = xml_text(c);
    if (!*label || strlen(label) >= sizeof(p.label))
      return xml_fail(ret_error, c, "a label must be 1 to %zu characters", sizeof(p.label) - 1);
    for (const char *q = label; *q; q++)
      if ((unsigned char)*q < 0x20 || *q == 0x7f)
        return xml_fail(ret_error, c, "a label must not contain control characters");
    g_strlcpy(p.label, label, sizeof(p.label));
  }
  if ((c = xml_child(node, "mode"))) {
    g_autofree char *text = xml_text(c);
    char *end = NULL;
    size_t len = strlen(text);
    unsigned long v = 0;
    if (len >= 1 && len <= 5 && strspn(text, "01234567") == len)
      v = strtoul(text, &end, 8);
    if (!end || *end || v > 07777)
      return xml_fail(ret_error, c, "must be an octal mode such as 0600, not '%s'", text);
    p.mode = (unsigned)v;
  }
  if ((c = xml_child(node, "owner")) && (r = parse_id(c, &p.owner, ret_error)) < 0)
    return r;
  if ((c = xml_child(node, "group")) && (r = parse_id(c, &p.group, ret_error)) < 0)
    return r;
  *perms = p;
  return 0;
}

void storage_xml_format_permissions(XmlWriter *w, const StoragePermissions *perms) {
  xml_writer_start(w, "permissions");
  xml_writer_end_open(w);
  xml_writer_text_element_printf(w, "mode", "%04o", perms->mode);
  if (perms->owner != STORAGE_ID_UNSET)
    xml_writer_text_element_printf(w, "owner", "%ld", perms->owner);
  if (perms->group != STORAGE_ID_UNSET)
    xml_writer_text_element_printf(w, "group", "%ld", perms->group);
  if (perms->label[0])
    xml_writer_text_element(w, "label", perms->label);
  xml_writer_close(w);
}

int storage_xml_parse_size(const xmlNode *node, uint64_t *ret_bytes, char **ret_error) {
  static const char *const attrs[] = {"unit", NULL};
  int r;
  if ((r = storage_xml_check_leaf(node, attrs, ret_error)) < 0)
    return r;
  g_autofree char *unit = xml_prop(node, "unit");
  g_autofree char *text = xml_text(node);
  uint64_t bytes;
  r = units_parse_xml_size(text, unit, 1, &bytes);
  if (r == -ERANGE)
    return xml_fail(ret_error, node, "the size '%s %s' is too large", text, unit ? unit : "bytes");
  if (r < 0)
    return xml_fail(ret_error, node, "'%s' with unit '%s' is not a size", text,
                    unit ? unit : "bytes");
  *ret_bytes = bytes;
  return 0;
}

void storage_xml_format_size(XmlWriter *w, const char *name, uint64_t bytes) {
  xml_writer_start(w, name);
  xml_writer_attr(w, "unit", "bytes");
  g_autofree char *text = g_strdup_printf("%" PRIu64, bytes);
  xml_writer_end_text(w, text);
}

/* ---- pool ---- */

/* libvirt accepts 32 hex digits, optionally grouped by dashes. */
static int parse_uuid(const char *text, char ret_uuid[37]) {
  char hex[33];
  size_t n = 0;
  for (const char *p = text; *p; p++) {
    if (*p == '-')
      continue;
    if (!g_ascii_isxdigit(*p) || n == 32)
      return -EINVAL;
    hex[n++] = g_ascii_tolower(*p);
  }
  if (n != 32)
    return -EINVAL;
  g_snprintf(ret_uuid, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
             hex + 20);
  return 0;
}

static int parse_path_element(const xmlNode *node, char **ret_path, char **ret_error) {
  int r;
  if ((r = storage_xml_check_leaf(node, NULL, ret_error)) < 0)
    return r;
  g_autofree char *text = xml_text(node);
  if (pool_path_normalize(text, ret_path) < 0)
    return xml_fail(ret_error, node,
                    "'%s' is not an absolute path without '.' or '..' components", text);
  return 0;
}

static bool format_fits_type(PoolType type, PoolFormat format) {
  switch (type) {
  case POOL_TYPE_DIR: return format == POOL_FORMAT_AUTO;
  case POOL_TYPE_FS:
    return format != POOL_FORMAT_LVM2 && format != POOL_FORMAT_NFS && format != POOL_FORMAT_CIFS;
  case POOL_TYPE_LOGICAL: return format == POOL_FORMAT_LVM2;
  case POOL_TYPE_NETFS:
    return format == POOL_FORMAT_AUTO || format == POOL_FORMAT_NFS || format == POOL_FORMAT_CIFS;
  }
  return false;
}

/* A host name or address for a netfs source: what mount(8) and the mount
 * helpers take, and nothing that could become an option (',', '=') or a
 * second path (':', '/' other than in an IPv6 address in brackets). */
static bool netfs_host_ok(const char *s) {
  size_t len = strlen(s);
  if (len == 0 || len > 253 || s[0] == '-')
    return false;
  if (s[0] == '[')
    return len > 2 && s[len - 1] == ']' &&
           strspn(s + 1, "0123456789abcdefABCDEF:.") == len - 2;
  return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == len;
}

static int parse_netfs_source(const xmlNode *c, PoolDef *def, char **ret_error) {
  const char *cname = (const char *)c->name;
  int r;
  if (strcmp(cname, "host") == 0) {
    uint64_t port = 0;
    if ((r = storage_xml_check_leaf(c, (const char *const[]){"name", "port", NULL}, ret_error)) < 0 ||
        (r = xml_prop_uint(c, "port", 65535, &port, NULL, ret_error)) < 0)
      return r;
    g_autofree char *host = xml_prop(c, "name");
    if (!host)
      return xml_fail(ret_error, c, "attribute 'name' is missing");
    if (!netfs_host_ok(host))
      return xml_fail(ret_error, c, "'%s' is not a host name or address", host);
    def->source_host = g_steal_pointer(&host);
    def->source_port = (unsigned)port;
    return 0;
  }
  if (strcmp(cname, "dir") == 0) {
    if ((r = storage_xml_check_leaf(c, (const char *const[]){"path", NULL}, ret_error)) < 0)
      return r;
    g_autofree char *path = xml_prop(c, "path");
    if (!path)
      return xml_fail(ret_error, c, "attribute 'path' is missing");
    if (pool_path_normalize(path, &def->source_dir) < 0 || strchr(path, ','))
      return xml_fail(ret_error, c, "'%s' is not an absolute path without '.', '..' or ','",
                      path);
    return 0;
  }
  /* <protocol ver='N'/>: the NFS version */
  uint64_t ver = 0;
  bool given = false;
  if ((r = storage_xml_check_leaf(c, (const char *const[]){"ver", NULL}, ret_error)) < 0 ||
      (r = xml_prop_uint(c, "ver", 4, &ver, &given, ret_error)) < 0)
    return r;
  if (!given || ver < 2)
    return xml_fail(ret_error, c, "attribute 'ver' must be an NFS version, 2 to 4");
  def->source_protocol = (unsigned)ver;
  return 0;
}

static int parse_source(const xmlNode *node, PoolDef *def, char **ret_error) {
  static const char *const children[] = {"device", "name", "format", "host", "dir", "protocol",
                                         NULL};
  static const char *const single[] = {"name", "format", "host", "dir", "protocol", NULL};
  int r;
  if ((r = xml_check_attrs(node, (const char *const[]){NULL}, ret_error)) < 0 ||
      (r = xml_check_children(node, children, single, ret_error)) < 0)
    return r;
  for (xmlNode *c = node->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    const char *cname = (const char *)c->name;
    if (strcmp(cname, "host") == 0 || strcmp(cname, "dir") == 0 ||
        strcmp(cname, "protocol") == 0) {
      if (def->type != POOL_TYPE_NETFS)
        return xml_fail(ret_error, c, "only netfs pools have a source %s", cname);
      if ((r = parse_netfs_source(c, def, ret_error)) < 0)
        return r;
    } else if (strcmp(cname, "device") == 0) {
      if (def->type == POOL_TYPE_DIR || def->type == POOL_TYPE_NETFS)
        return xml_fail(ret_error, c, "a %s pool has no source device",
                        pool_type_to_string(def->type));
      if ((r = storage_xml_check_leaf(c, (const char *const[]){"path", NULL}, ret_error)) < 0)
        return r;
      g_autofree char *path = xml_prop(c, "path");
      char *norm = NULL;
      if (!path)
        return xml_fail(ret_error, c, "attribute 'path' is missing");
      if (pool_path_normalize(path, &norm) < 0)
        return xml_fail(ret_error, c, "'%s' is not an absolute path without '.' or '..' components",
                        path);
      for (guint i = 0; i < def->source_devices->len; i++)
        if (strcmp(g_ptr_array_index(def->source_devices, i), norm) == 0) {
          g_free(norm);
          return xml_fail(ret_error, c, "device '%s' is listed twice", path);
        }
      g_ptr_array_add(def->source_devices, norm);
      if (def->type == POOL_TYPE_FS && def->source_devices->len > 1)
        return xml_fail(ret_error, c, "an fs pool has exactly one source device");
    } else if (strcmp(cname, "name") == 0) {
      if (def->type != POOL_TYPE_LOGICAL)
        return xml_fail(ret_error, c, "only logical pools have a source name (the volume group)");
      if ((r = storage_xml_check_leaf(c, (const char *const[]){NULL}, ret_error)) < 0)
        return r;
      g_autofree char *vg = xml_text(c);
      g_autofree char *why = NULL;
      if (pool_lvm_name_validate(vg, &why) < 0)
        return xml_fail(ret_error, c, "%s", why);
      def->source_name = g_steal_pointer(&vg);
    } else if (strcmp(cname, "format") == 0) {
      if ((r = storage_xml_check_leaf(c, (const char *const[]){"type", NULL}, ret_error)) < 0)
        return r;
      g_autofree char *type = xml_prop(c, "type");
      PoolFormat f;
      if (!type)
        return xml_fail(ret_error, c, "attribute 'type' is missing");
      if (pool_format_from_string(type, &f) < 0 || !format_fits_type(def->type, f))
        return xml_fail(ret_error, c, "format '%s' is not supported for %s pools", type,
                        pool_type_to_string(def->type));
      def->source_format = f;
    }
  }
  return 0;
}

static int parse_target(const xmlNode *node, PoolDef *def, char **ret_error) {
  static const char *const children[] = {"path", "permissions", NULL};
  int r;
  if ((r = xml_check_attrs(node, (const char *const[]){NULL}, ret_error)) < 0 ||
      (r = xml_check_children(node, children, children, ret_error)) < 0)
    return r;
  xmlNode *c;
  if ((c = xml_child(node, "path")) && (r = parse_path_element(c, &def->target_path, ret_error)) < 0)
    return r;
  if ((c = xml_child(node, "permissions")) &&
      (r = storage_xml_parse_permissions(c, &def->perms, ret_error)) < 0)
    return r;
  return 0;
}

int pool_def_parse(const char *xml, size_t len, PoolDef **ret_def, char **ret_error) {
  static const char *const children[] = {"name", "uuid", "capacity", "allocation",
                                         "available", "source", "target", NULL};
  g_autoptr(xmlDoc) doc = NULL;
  int r = xml_parse_safe(xml, len, "pool", &doc, ret_error);
  if (r < 0)
    return r;
  xmlNode *root = xmlDocGetRootElement(doc);
  if ((r = xml_check_attrs(root, (const char *const[]){"type", NULL}, ret_error)) < 0 ||
      (r = xml_check_children(root, children, children, ret_error)) < 0)
    return r;

  g_autoptr(PoolDef) def = pool_def_new_default("/");
  g_clear_pointer(&def->name, g_free);
  g_clear_pointer(&def->target_path, g_free);
  def->uuid[0] = '\0';

  g_autofree char *type = xml_prop(root, "type");
  if (!type)
    return xml_fail(ret_error, root, "attribute 'type' is missing");
  if (pool_type_from_string(type, &def->type) < 0)
    return xml_fail(ret_error, root, "pool type '%s' is not supported (dir, fs, netfs, logical)",
                    type);
  def->source_format = def->type == POOL_TYPE_LOGICAL ? POOL_FORMAT_LVM2 : POOL_FORMAT_AUTO;

  xmlNode *c = xml_child(root, "name");
  if (!c)
    return xml_fail(ret_error, root, "element <name> is missing");
  if ((r = storage_xml_check_leaf(c, (const char *const[]){NULL}, ret_error)) < 0)
    return r;
  def->name = xml_text(c);
  g_autofree char *why = NULL;
  if (object_name_validate(def->name, &why) < 0)
    return xml_fail(ret_error, c, "%s", why);

  if ((c = xml_child(root, "uuid"))) {
    if ((r = storage_xml_check_leaf(c, (const char *const[]){NULL}, ret_error)) < 0)
      return r;
    g_autofree char *text = xml_text(c);
    if (parse_uuid(text, def->uuid) < 0)
      return xml_fail(ret_error, c, "'%s' is not a UUID", text);
  } else {
    g_autofree char *uuid = g_uuid_string_random();
    g_strlcpy(def->uuid, uuid, sizeof(def->uuid));
  }

  /* Live figures: checked so garbage is still refused, then ignored. */
  static const char *const live[] = {"capacity", "allocation", "available"};
  for (size_t i = 0; i < G_N_ELEMENTS(live); i++) {
    uint64_t ignored;
    if ((c = xml_child(root, live[i])) && (r = storage_xml_parse_size(c, &ignored, ret_error)) < 0)
      return r;
  }

  if ((c = xml_child(root, "source")) && (r = parse_source(c, def, ret_error)) < 0)
    return r;
  xmlNode *target = xml_child(root, "target");
  if (target && (r = parse_target(target, def, ret_error)) < 0)
    return r;

  switch (def->type) {
  case POOL_TYPE_DIR:
    break;
  case POOL_TYPE_FS:
    if (def->source_devices->len != 1)
      return xml_fail(ret_error, root, "an fs pool needs <source><device path='...'/></source>");
    break;
  case POOL_TYPE_NETFS:
    if (!def->source_host || !def->source_dir)
      return xml_fail(ret_error, root, "a netfs pool needs <source><host name='...'/>"
                      "<dir path='...'/></source>");
    if (def->source_protocol && def->source_format == POOL_FORMAT_CIFS)
      return xml_fail(ret_error, root, "<protocol ver> is the NFS version; a cifs pool has none");
    break;
  case POOL_TYPE_LOGICAL: {
    if (!def->source_name) {
      g_autofree char *vgwhy = NULL;
      if (pool_lvm_name_validate(def->name, &vgwhy) < 0)
        return xml_fail(ret_error, root,
                        "the pool name is used as the volume group name, but %s; "
                        "give <source><name>", vgwhy);
      def->source_name = g_strdup(def->name);
    }
    g_autofree char *expected = g_strconcat("/dev/", def->source_name, NULL);
    if (def->target_path && strcmp(def->target_path, expected) != 0)
      return xml_fail(ret_error, target,
                      "the target path of a logical pool is %s (the volume group's), not %s",
                      expected, def->target_path);
    if (!def->target_path)
      def->target_path = g_steal_pointer(&expected);
    break;
  }
  }
  if (!def->target_path)
    return xml_fail(ret_error, target ? target : root, "element <target><path> is missing");
  if (def->type == POOL_TYPE_FS &&
      strcmp(def->target_path, g_ptr_array_index(def->source_devices, 0)) == 0)
    return xml_fail(ret_error, target, "the target path must differ from the source device");
  if (def->type != POOL_TYPE_LOGICAL && strcmp(def->target_path, "/") == 0)
    return xml_fail(ret_error, target, "the target path must not be '/'");

  *ret_def = g_steal_pointer(&def);
  return 0;
}

char *pool_def_format(const PoolDef *def, const PoolSizes *sizes) {
  g_autoptr(XmlWriter) w = xml_writer_new();
  xml_writer_start(w, "pool");
  xml_writer_attr(w, "type", pool_type_to_string(def->type));
  xml_writer_end_open(w);
  xml_writer_text_element(w, "name", def->name);
  xml_writer_text_element(w, "uuid", def->uuid);
  if (sizes) {
    storage_xml_format_size(w, "capacity", sizes->capacity);
    storage_xml_format_size(w, "allocation", sizes->allocation);
    storage_xml_format_size(w, "available", sizes->available);
  }
  xml_writer_start(w, "source");
  if (def->type == POOL_TYPE_DIR) {
    xml_writer_end_empty(w);
  } else {
    xml_writer_end_open(w);
    if (def->source_host) {
      xml_writer_start(w, "host");
      xml_writer_attr(w, "name", def->source_host);
      if (def->source_port)
        xml_writer_attr_printf(w, "port", "%u", def->source_port);
      xml_writer_end_empty(w);
      xml_writer_start(w, "dir");
      xml_writer_attr(w, "path", def->source_dir);
      xml_writer_end_empty(w);
    }
    for (guint i = 0; i < def->source_devices->len; i++) {
      xml_writer_start(w, "device");
      xml_writer_attr(w, "path", g_ptr_array_index(def->source_devices, i));
      xml_writer_end_empty(w);
    }
    if (def->type == POOL_TYPE_LOGICAL)
      xml_writer_text_element(w, "name", def->source_name);
    xml_writer_start(w, "format");
    xml_writer_attr(w, "type", pool_format_to_string(def->source_format));
    xml_writer_end_empty(w);
    if (def->source_protocol) {
      xml_writer_start(w, "protocol");
      xml_writer_attr_printf(w, "ver", "%u", def->source_protocol);
      xml_writer_end_empty(w);
    }
    xml_writer_close(w);
  }
  xml_writer_start(w, "target");
  xml_writer_end_open(w);
  xml_writer_text_element(w, "path", def->target_path);
  storage_xml_format_permissions(w, &def->perms);
  xml_writer_close(w);
  xml_writer_close(w);
  return xml_writer_finish(g_steal_pointer(&w));
}
