/* volume_xml.c — libvirt storage volume XML to VolumeDef and back, pure; see
 * volume_def.h for the contract and the subset accepted. */
#include <errno.h>
#include <string.h>

#include "objects/names.h"
#include "objects/storage_xml.h"
#include "objects/volume_def.h"
#include "objects/xml_util.h"

static const char *const no_names[] = {NULL};

static int check_leaf(const xmlNode *node, const char *const *attrs, char **ret_error) {
  return storage_xml_check_leaf(node, attrs, ret_error);
}

static int parse_format(const xmlNode *node, VolumeFormat *ret_format, char **ret_error) {
  static const char *const attrs[] = {"type", NULL};
  int r = check_leaf(node, attrs, ret_error);
  if (r < 0)
    return r;
  g_autofree char *type = xml_prop(node, "type");
  if (!type)
    return xml_fail(ret_error, node, "attribute 'type' is missing");
  if (volume_format_from_string(type, ret_format) < 0)
    return xml_fail(ret_error, node, "volume format '%s' is not supported (raw, qcow2)", type);
  return 0;
}

static int parse_path(const xmlNode *node, char **ret_path, char **ret_error) {
  int r = check_leaf(node, no_names, ret_error);
  if (r < 0)
    return r;
  g_autofree char *text = xml_text(node);
  if (pool_path_normalize(text, ret_path) < 0)
    return xml_fail(ret_error, node,
                    "'%s' is not an absolute path without '.' or '..' components", text);
  return 0;
}

/* libvirt writes atime/mtime/ctime/btime; they describe the file, not the
 * definition, so they are checked for shape and dropped. */
static int check_timestamps(const xmlNode *node, char **ret_error) {
  static const char *const children[] = {"atime", "mtime", "ctime", "btime", NULL};
  int r;
  if ((r = xml_check_attrs(node, no_names, ret_error)) < 0 ||
      (r = xml_check_children(node, children, children, ret_error)) < 0)
    return r;
  for (xmlNode *c = node->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && (r = check_leaf(c, no_names, ret_error)) < 0)
      return r;
  return 0;
}

/* <source><device path='...'><extent start end/></device></source>: where
 * libvirt found a logical volume's extents. A live fact: checked, dropped. */
static int check_source(const xmlNode *node, char **ret_error) {
  static const char *const devices[] = {"device", NULL};
  static const char *const extents[] = {"extent", NULL};
  static const char *const path_attr[] = {"path", NULL};
  static const char *const range[] = {"start", "end", NULL};
  int r;
  if ((r = xml_check_attrs(node, no_names, ret_error)) < 0 ||
      (r = xml_check_children(node, devices, NULL, ret_error)) < 0)
    return r;
  for (xmlNode *d = node->children; d; d = d->next) {
    if (d->type != XML_ELEMENT_NODE)
      continue;
    if ((r = xml_check_attrs(d, path_attr, ret_error)) < 0 ||
        (r = xml_check_children(d, extents, NULL, ret_error)) < 0)
      return r;
    for (xmlNode *e = d->children; e; e = e->next)
      if (e->type == XML_ELEMENT_NODE && (r = check_leaf(e, range, ret_error)) < 0)
        return r;
  }
  return 0;
}

/* An LVM UUID as libvirt uses for a logical volume's key: 32 letters and
 * digits in groups of 6-4-4-4-4-4-6. */
static bool lvm_uuid_ok(const char *s) {
  static const int groups[] = {6, 4, 4, 4, 4, 4, 6};
  for (size_t g = 0; g < G_N_ELEMENTS(groups); g++) {
    for (int i = 0; i < groups[g]; i++, s++)
      if (!g_ascii_isalnum(*s))
        return false;
    if (g + 1 < G_N_ELEMENTS(groups) && *s++ != '-')
      return false;
  }
  return *s == '\0';
}

static int parse_features(const xmlNode *node, VolumeDef *def, char **ret_error) {
  static const char *const children[] = {"lazy_refcounts", NULL};
  int r;
  if ((r = xml_check_attrs(node, no_names, ret_error)) < 0 ||
      (r = xml_check_children(node, children, children, ret_error)) < 0)
    return r;
  xmlNode *c = xml_child(node, "lazy_refcounts");
  if (!c)
    return 0;
  if ((r = check_leaf(c, no_names, ret_error)) < 0)
    return r;
  if (def->format != VOLUME_FORMAT_QCOW2)
    return xml_fail(ret_error, c, "only qcow2 volumes have lazy refcounts");
  def->lazy_refcounts = true;
  return 0;
}

static int parse_target(const xmlNode *node, VolumeDef *def, char **ret_error) {
  static const char *const children[] = {"path", "format", "permissions", "timestamps",
                                         "compat", "features", NULL};
  int r;
  if ((r = xml_check_attrs(node, no_names, ret_error)) < 0 ||
      (r = xml_check_children(node, children, children, ret_error)) < 0)
    return r;
  xmlNode *c;
  if ((c = xml_child(node, "path")) && (r = parse_path(c, &def->target_path, ret_error)) < 0)
    return r;
  if ((c = xml_child(node, "format")) && (r = parse_format(c, &def->format, ret_error)) < 0)
    return r;
  if ((c = xml_child(node, "permissions")) &&
      (r = storage_xml_parse_permissions(c, &def->perms, ret_error)) < 0)
    return r;
  if ((c = xml_child(node, "timestamps")) && (r = check_timestamps(c, ret_error)) < 0)
    return r;
  if ((c = xml_child(node, "compat"))) {
    if ((r = check_leaf(c, no_names, ret_error)) < 0)
      return r;
    g_autofree char *compat = xml_text(c);
    if (strcmp(compat, "0.10") != 0 && strcmp(compat, "1.1") != 0)
      return xml_fail(ret_error, c, "qcow2 compat must be '0.10' or '1.1', not '%s'", compat);
    if (def->format != VOLUME_FORMAT_QCOW2)
      return xml_fail(ret_error, c, "only qcow2 volumes have a compat level");
    def->compat = g_steal_pointer(&compat);
  }
  if ((c = xml_child(node, "features")) && (r = parse_features(c, def, ret_error)) < 0)
    return r;
  if (def->lazy_refcounts) {
    if (def->compat && strcmp(def->compat, "0.10") == 0)
      return xml_fail(ret_error, c, "lazy refcounts need qcow2 compat 1.1, not 0.10");
    if (!def->compat)
      def->compat = g_strdup("1.1");
  }
  return 0;
}

static int parse_backing(const xmlNode *node, VolumeDef *def, char **ret_error) {
  static const char *const children[] = {"path", "format", "permissions", "timestamps", NULL};
  int r;
  if ((r = xml_check_attrs(node, no_names, ret_error)) < 0 ||
      (r = xml_check_children(node, children, children, ret_error)) < 0)
    return r;
  xmlNode *c = xml_child(node, "path");
  if (!c)
    return xml_fail(ret_error, node, "element <path> is missing");
  if ((r = parse_path(c, &def->backing_path, ret_error)) < 0)
    return r;
  if ((c = xml_child(node, "format"))) {
    if ((r = parse_format(c, &def->backing_format, ret_error)) < 0)
      return r;
    def->backing_format_set = true;
  }
  /* The backing file's own permissions and times are live facts about
   * another file: checked, then dropped. */
  StoragePermissions ignored = {0, STORAGE_ID_UNSET, STORAGE_ID_UNSET};
  if ((c = xml_child(node, "permissions")) &&
      (r = storage_xml_parse_permissions(c, &ignored, ret_error)) < 0)
    return r;
  if ((c = xml_child(node, "timestamps")) && (r = check_timestamps(c, ret_error)) < 0)
    return r;
  return 0;
}

int volume_def_parse(const char *xml, size_t len, const PoolDef *pool,
                     VolumeDef **ret_def, char **ret_error) {
  static const char *const children[] = {"name", "key", "source", "capacity", "allocation",
                                         "physical", "target", "backingStore", NULL};
  g_autoptr(xmlDoc) doc = NULL;
  int r = xml_parse_safe(xml, len, "volume", &doc, ret_error);
  if (r < 0)
    return r;
  xmlNode *root = xmlDocGetRootElement(doc);
  if ((r = xml_check_attrs(root, (const char *const[]){"type", NULL}, ret_error)) < 0 ||
      (r = xml_check_children(root, children, children, ret_error)) < 0)
    return r;

  xmlNode *c = xml_child(root, "name");
  if (!c)
    return xml_fail(ret_error, root, "element <name> is missing");
  if ((r = check_leaf(c, no_names, ret_error)) < 0)
    return r;
  g_autofree char *name = xml_text(c);
  g_autofree char *why = NULL;
  if ((r = pool ? pool_volume_name_validate(pool, name, &why)
                : object_name_validate(name, &why)) < 0) {
    xml_fail(ret_error, c, "%s", why);
    return r;
  }
  g_autoptr(VolumeDef) def = volume_def_new(name);

  g_autofree char *type = xml_prop(root, "type");
  if (type) {
    if (volume_type_from_string(type, &def->type) < 0)
      return xml_fail(ret_error, root, "volume type '%s' is not supported (file, block)", type);
  } else if (pool && pool->type == POOL_TYPE_LOGICAL) {
    def->type = VOLUME_TYPE_BLOCK;
  }

  if ((c = xml_child(root, "key"))) {
    if ((r = check_leaf(c, no_names, ret_error)) < 0)
      return r;
    def->key = xml_text(c);
    if (pool && pool->type == POOL_TYPE_LOGICAL && lvm_uuid_ok(def->key))
      g_clear_pointer(&def->key, g_free);
  }
  if ((c = xml_child(root, "source")) && (r = check_source(c, ret_error)) < 0)
    return r;
  if ((c = xml_child(root, "capacity"))) {
    if ((r = storage_xml_parse_size(c, &def->capacity, ret_error)) < 0)
      return r;
    def->capacity_set = true;
  }
  if ((c = xml_child(root, "allocation"))) {
    if ((r = storage_xml_parse_size(c, &def->allocation, ret_error)) < 0)
      return r;
    def->allocation_set = true;
  }
  uint64_t physical;
  if ((c = xml_child(root, "physical")) && (r = storage_xml_parse_size(c, &physical, ret_error)) < 0)
    return r;
  xmlNode *target = xml_child(root, "target");
  if (target && (r = parse_target(target, def, ret_error)) < 0)
    return r;
  xmlNode *backing = xml_child(root, "backingStore");
  if (backing) {
    if (def->format != VOLUME_FORMAT_QCOW2)
      return xml_fail(ret_error, backing,
                      "only qcow2 volumes have a backing store; add <target><format type='qcow2'/>");
    if ((r = parse_backing(backing, def, ret_error)) < 0)
      return r;
  }
  if (!def->capacity_set && !def->backing_path)
    return xml_fail(ret_error, root, "element <capacity> is missing");

  if (pool && (r = volume_def_resolve(def, pool, ret_error)) < 0) {
    g_autofree char *sentence = g_steal_pointer(ret_error);
    return xml_fail(ret_error, root, "%s", sentence);
  }
  *ret_def = g_steal_pointer(&def);
  return 0;
}

char *volume_def_format(const VolumeDef *def) {
  g_autoptr(XmlWriter) w = xml_writer_new();
  xml_writer_start(w, "volume");
  xml_writer_attr(w, "type", volume_type_to_string(def->type));
  xml_writer_end_open(w);
  xml_writer_text_element(w, "name", def->name);
  xml_writer_text_element(w, "key", def->key);
  if (def->capacity_set)
    storage_xml_format_size(w, "capacity", def->capacity);
  if (def->allocation_set)
    storage_xml_format_size(w, "allocation", def->allocation);
  xml_writer_start(w, "target");
  xml_writer_end_open(w);
  xml_writer_text_element(w, "path", def->target_path);
  xml_writer_start(w, "format");
  xml_writer_attr(w, "type", volume_format_to_string(def->format));
  xml_writer_end_empty(w);
  storage_xml_format_permissions(w, &def->perms);
  if (def->timestamps_set) {
    xml_writer_start(w, "timestamps");
    xml_writer_end_open(w);
    const struct timespec *ts[] = {&def->atime, &def->mtime, &def->ctime};
    const char *names[] = {"atime", "mtime", "ctime"};
    for (size_t i = 0; i < G_N_ELEMENTS(ts); i++) {
      /* libvirt's form: seconds, and nanoseconds only when not zero. */
      if (ts[i]->tv_nsec)
        xml_writer_text_element_printf(w, names[i], "%lld.%09ld", (long long)ts[i]->tv_sec,
                                       ts[i]->tv_nsec);
      else
        xml_writer_text_element_printf(w, names[i], "%lld", (long long)ts[i]->tv_sec);
    }
    xml_writer_close(w);
  }
  xml_writer_text_element(w, "compat", def->compat);
  if (def->lazy_refcounts) {
    xml_writer_start(w, "features");
    xml_writer_end_open(w);
    xml_writer_start(w, "lazy_refcounts");
    xml_writer_end_empty(w);
    xml_writer_close(w);
  }
  xml_writer_close(w);
  if (def->backing_path) {
    xml_writer_start(w, "backingStore");
    xml_writer_end_open(w);
    xml_writer_text_element(w, "path", def->backing_path);
    if (def->backing_format_set) {
      xml_writer_start(w, "format");
      xml_writer_attr(w, "type", volume_format_to_string(def->backing_format));
      xml_writer_end_empty(w);
    }
    xml_writer_close(w);
  }
  xml_writer_close(w);
  return xml_writer_finish(g_steal_pointer(&w));
}
