/* snapshot_def.c — SnapshotDef, its XML and its ObjType; see snapshot_def.h. */
#include "objects/snapshot_def.h"

#include <errno.h>
#include <string.h>

#include "objects/domain_def.h"
#include "objects/xml_util.h"

ENUM_TABLE_IMPL(snapshot_state, SnapshotState, "running", "paused", "shutoff")

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE_LIST ((const char *const[]){NULL})

static void snapshot_disk_free(gpointer p) {
  SnapshotDisk *d = p;
  g_free(d->target);
  g_free(d);
}

SnapshotDef *snapshot_def_new(const char *name) {
  SnapshotDef *def = g_new0(SnapshotDef, 1);
  def->name = g_strdup(name);
  def->disks = g_ptr_array_new_with_free_func(snapshot_disk_free);
  def->state = SNAPSHOT_STATE_SHUTOFF;
  return def;
}

void snapshot_def_free(SnapshotDef *def) {
  if (!def)
    return;
  g_free(def->name);
  g_free(def->parent);
  g_ptr_array_unref(def->disks);
  g_free(def->domain_xml);
  g_free(def);
}

void snapshot_def_add_disk(SnapshotDef *def, const char *target, bool included) {
  SnapshotDisk *d = g_new0(SnapshotDisk, 1);
  d->target = g_strdup(target);
  d->included = included;
  g_ptr_array_add(def->disks, d);
}

SnapshotDef *snapshot_def_copy(const SnapshotDef *def) {
  SnapshotDef *c = snapshot_def_new(def->name);
  c->parent = g_strdup(def->parent);
  c->created = def->created;
  c->state = def->state;
  c->memory = def->memory;
  c->memory_size = def->memory_size;
  c->rebuilt = def->rebuilt;
  c->domain_xml = g_strdup(def->domain_xml);
  for (guint i = 0; i < def->disks->len; i++) {
    const SnapshotDisk *d = def->disks->pdata[i];
    snapshot_def_add_disk(c, d->target, d->included);
  }
  return c;
}

static int parse_text(const xmlNode *n, char **ret, char **err) {
  int r;
  if ((r = xml_check_attrs(n, NONE_LIST, err)) < 0)
    return r;
  for (const xmlNode *c = n->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE)
      return xml_fail(err, c, "is not expected here");
  g_autofree char *t = xml_text(n);
  if (!t || !*t)
    return xml_fail(err, n, "is empty");
  *ret = g_steal_pointer(&t);
  return 0;
}

static int parse_memory(const xmlNode *n, SnapshotDef *def, char **err) {
  int r;
  if ((r = xml_check_attrs(n, LIST("snapshot", "size"), err)) < 0 ||
      (r = xml_check_children(n, NONE_LIST, NULL, err)) < 0)
    return r;
  g_autofree char *kind = xml_prop(n, "snapshot");
  if (g_strcmp0(kind, "internal") == 0)
    def->memory = true;
  else if (g_strcmp0(kind, "no") != 0)
    return xml_fail(err, n, "snapshot must be 'internal' or 'no'");
  return xml_prop_uint(n, "size", UINT64_MAX, &def->memory_size, NULL, err);
}

static int parse_disks(const xmlNode *n, SnapshotDef *def, char **err) {
  int r;
  if ((r = xml_check_attrs(n, NONE_LIST, err)) < 0 ||
      (r = xml_check_children(n, LIST("disk"), NULL, err)) < 0)
    return r;
  for (const xmlNode *c = n->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    if ((r = xml_check_attrs(c, LIST("name", "snapshot"), err)) < 0 ||
        (r = xml_check_children(c, NONE_LIST, NULL, err)) < 0)
      return r;
    g_autofree char *name = xml_prop(c, "name");
    g_autofree char *kind = xml_prop(c, "snapshot");
    if (!name || !*name)
      return xml_fail(err, c, "attribute 'name' is missing");
    if (g_strcmp0(kind, "internal") != 0 && g_strcmp0(kind, "no") != 0)
      return xml_fail(err, c, "snapshot must be 'internal' or 'no'");
    snapshot_def_add_disk(def, name, strcmp(kind, "internal") == 0);
  }
  return 0;
}

/* The embedded <domain> as canonical text when it parses as a domain, else
 * as libxml2 writes it (kept, so a record is never lost to a stricter
 * parser; the revert reports the problem). */
static char *domain_text(const xmlNode *n) {
  g_autofree char *raw = xml_node_to_string(n);
  DomainDef *dom = NULL;
  g_autofree char *error = NULL;
  if (domain_def_parse(raw, strlen(raw), &dom, &error) < 0)
    return g_strconcat(raw, "\n", NULL);
  char *text = domain_def_format(dom, false, -1);
  domain_def_free(dom);
  return text;
}

int snapshot_def_parse(const char *xml, size_t len, SnapshotDef **ret_def, char **ret_error) {
  g_autoptr(xmlDoc) doc = NULL;
  int r = xml_parse_safe(xml, len, "domainsnapshot", &doc, ret_error);
  if (r < 0)
    return r;
  const xmlNode *root = xmlDocGetRootElement(doc);
  static const char *const children[] = {"name", "state", "parent", "creationTime", "memory",
                                         "disks", "rebuilt", "domain", "description", NULL};
  if ((r = xml_check_attrs(root, NONE_LIST, ret_error)) < 0 ||
      (r = xml_check_children(root, children, children, ret_error)) < 0)
    return r;
  const xmlNode *c = xml_child(root, "name");
  if (!c)
    return xml_fail(ret_error, root, "<name> is missing");
  g_autoptr(SnapshotDef) def = snapshot_def_new(NULL);
  if ((r = parse_text(c, &def->name, ret_error)) < 0)
    return r;
  if ((c = xml_child(root, "state"))) {
    g_autofree char *s = NULL;
    if ((r = parse_text(c, &s, ret_error)) < 0)
      return r;
    if (snapshot_state_from_string(s, &def->state) < 0)
      return xml_fail(ret_error, c, "'%s' is not running, paused or shutoff", s);
  }
  if ((c = xml_child(root, "parent"))) {
    if ((r = xml_check_attrs(c, NONE_LIST, ret_error)) < 0 ||
        (r = xml_check_children(c, LIST("name"), LIST("name"), ret_error)) < 0)
      return r;
    const xmlNode *pn = xml_child(c, "name");
    if (!pn)
      return xml_fail(ret_error, c, "<name> is missing");
    if ((r = parse_text(pn, &def->parent, ret_error)) < 0)
      return r;
  }
  if ((c = xml_child(root, "creationTime"))) {
    g_autofree char *t = NULL;
    if ((r = parse_text(c, &t, ret_error)) < 0)
      return r;
    char *end = NULL;
    gint64 v = g_ascii_strtoll(t, &end, 10);
    if (*end || v < 0)
      return xml_fail(ret_error, c, "'%s' is not a time in seconds", t);
    def->created = v;
  }
  if ((c = xml_child(root, "memory")) && (r = parse_memory(c, def, ret_error)) < 0)
    return r;
  if ((c = xml_child(root, "disks")) && (r = parse_disks(c, def, ret_error)) < 0)
    return r;
  if ((c = xml_child(root, "rebuilt"))) {
    if ((r = xml_check_attrs(c, NONE_LIST, ret_error)) < 0 ||
        (r = xml_check_children(c, NONE_LIST, NULL, ret_error)) < 0)
      return r;
    def->rebuilt = true;
  }
  if ((c = xml_child(root, "domain")))
    def->domain_xml = domain_text(c);
  *ret_def = g_steal_pointer(&def);
  return 0;
}

char *snapshot_def_format(const SnapshotDef *def) {
  g_autoptr(XmlWriter) w = xml_writer_new();
  xml_writer_start(w, "domainsnapshot");
  xml_writer_end_open(w);
  xml_writer_text_element(w, "name", def->name);
  xml_writer_text_element(w, "state", snapshot_state_to_string(def->state));
  if (def->parent) {
    xml_writer_start(w, "parent");
    xml_writer_end_open(w);
    xml_writer_text_element(w, "name", def->parent);
    xml_writer_close(w);
  }
  xml_writer_text_element_printf(w, "creationTime", "%" G_GINT64_FORMAT, def->created);
  xml_writer_start(w, "memory");
  xml_writer_attr(w, "snapshot", def->memory ? "internal" : "no");
  if (def->memory)
    xml_writer_attr_printf(w, "size", "%" G_GUINT64_FORMAT, def->memory_size);
  xml_writer_end_empty(w);
  if (def->disks->len) {
    xml_writer_start(w, "disks");
    xml_writer_end_open(w);
    for (guint i = 0; i < def->disks->len; i++) {
      const SnapshotDisk *d = def->disks->pdata[i];
      xml_writer_start(w, "disk");
      xml_writer_attr(w, "name", d->target);
      xml_writer_attr(w, "snapshot", d->included ? "internal" : "no");
      xml_writer_end_empty(w);
    }
    xml_writer_close(w);
  }
  if (def->rebuilt) {
    xml_writer_start(w, "rebuilt");
    xml_writer_end_empty(w);
  }
  if (def->domain_xml)
    xml_writer_raw_block(w, def->domain_xml);
  xml_writer_close(w);
  return xml_writer_finish(g_steal_pointer(&w));
}

/* ---- ObjType ---- */

static int obj_parse(const char *xml, size_t len, void **ret_def, char **ret_error) {
  SnapshotDef *def = NULL;
  int r = snapshot_def_parse(xml, len, &def, ret_error);
  if (r >= 0)
    *ret_def = def;
  return r;
}

static char *obj_format(const void *def) {
  return snapshot_def_format(def);
}

static void *obj_copy(const void *def) {
  return snapshot_def_copy(def);
}

static void obj_free(void *def) {
  snapshot_def_free(def);
}

static const char *obj_get_name(const void *def) {
  return ((const SnapshotDef *)def)->name;
}

static void obj_set_name(void *def, const char *name) {
  SnapshotDef *d = def;
  g_free(d->name);
  d->name = g_strdup(name);
}

const ObjType snapshot_obj_type = {
  .kind = OBJ_SNAPSHOT,
  .dir_name = "snapshots",
  .stored = false,
  .parse = obj_parse,
  .format = obj_format,
  .copy = obj_copy,
  .free = obj_free,
  .get_name = obj_get_name,
  .set_name = obj_set_name,
  .get_uuid = NULL,
};
