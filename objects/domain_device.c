/* domain_device.c — device fragments of a domain definition; see
 * domain_device.h. The document parser and formatter of domain_xml.c do
 * all the work: a fragment is checked to be one well-formed element, then
 * parsed inside a minimal domain; a device is formatted inside a
 * definition holding only it and its element is cut out of the text. */
#include "objects/domain_device.h"

#include <errno.h>
#include <string.h>

#include <libxml/tree.h>

#include "objects/xml_util.h"

void domain_device_free(DomainDevice *dev) {
  if (!dev)
    return;
  domain_disk_free(dev->disk);
  domain_interface_free(dev->iface);
  g_free(dev);
}

/* The skeleton around a fragment: on the first line, so the line numbers
 * of the parser's sentences are the fragment's own. */
#define SKELETON_HEAD "<domain type='qemu'><name>fragment</name><memory>65536</memory><devices>"
#define SKELETON_TAIL "</devices></domain>"

int domain_device_parse(const char *xml, size_t len, DomainDevice **ret_dev, char **ret_error) {
  g_autoptr(xmlDoc) doc = NULL;
  g_autofree char *error = NULL;
  int r = xml_parse_safe(xml, len, "disk", &doc, &error);
  if (r == -EINVAL && doc == NULL && error && strstr(error, "root element")) {
    g_clear_pointer(&error, g_free);
    r = xml_parse_safe(xml, len, "interface", &doc, &error);
    if (r < 0 && error && strstr(error, "root element")) {
      g_free(error);
      error = g_strdup("a device fragment is one <disk> or one <interface> element");
    }
  }
  if (r < 0) {
    *ret_error = g_steal_pointer(&error);
    return r;
  }
  /* Only the root element goes on: it is balanced, so nothing in it can
   * close the skeleton and add elements of its own. */
  xmlNode *root = xmlDocGetRootElement(doc);
  xmlBuffer *buf = xmlBufferCreate();
  xmlNodeDump(buf, doc, root, 0, 0);
  g_autofree char *text = g_strconcat(SKELETON_HEAD, (const char *)xmlBufferContent(buf),
                                      SKELETON_TAIL, NULL);
  xmlBufferFree(buf);
  g_autoptr(DomainDef) def = NULL;
  r = domain_def_parse(text, strlen(text), &def, &error);
  if (r < 0) {
    *ret_error = g_steal_pointer(&error);
    return r;
  }
  if (def->disks->len + def->interfaces->len != 1) {
    *ret_error = g_strdup("a device fragment holds exactly one device");
    return -EINVAL;
  }
  DomainDevice *dev = g_new0(DomainDevice, 1);
  if (def->disks->len) {
    dev->kind = DOMAIN_DEVICE_DISK;
    dev->disk = g_ptr_array_steal_index(def->disks, 0);
  } else {
    dev->kind = DOMAIN_DEVICE_INTERFACE;
    dev->iface = g_ptr_array_steal_index(def->interfaces, 0);
  }
  *ret_dev = dev;
  return 0;
}

/* Cuts the first element whose opening line is "    <NAME" out of a
 * formatted domain and removes the 4 spaces of its depth. */
static char *cut_element(const char *domain_xml, const char *name) {
  g_autofree char *open = g_strdup_printf("    <%s ", name);
  g_autofree char *close = g_strdup_printf("    </%s>\n", name);
  const char *start = strstr(domain_xml, open);
  if (!start)
    return g_strdup("");
  const char *line_end = strchr(start, '\n');
  const char *end;
  if (line_end && line_end > start + 1 && line_end[-1] == '>' && line_end[-2] == '/')
    end = line_end + 1; /* <disk .../> on one line */
  else {
    const char *c = strstr(start, close);
    end = c ? c + strlen(close) : start + strlen(start);
  }
  GString *out = g_string_new(NULL);
  for (const char *p = start; p < end;) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl ? nl + 1 : end;
    const char *q = p;
    for (int i = 0; i < 4 && q < stop && *q == ' '; i++)
      q++;
    g_string_append_len(out, q, stop - q);
    p = stop;
  }
  return g_string_free(out, FALSE);
}

static DomainDef *holder_def(void) {
  DomainDef *def = NULL;
  g_autofree char *error = NULL;
  const char *text = SKELETON_HEAD SKELETON_TAIL;
  if (domain_def_parse(text, strlen(text), &def, &error) < 0)
    g_error("the device skeleton does not parse: %s", error);
  return def;
}

char *domain_device_format_disk(const DomainDisk *disk) {
  g_autoptr(DomainDef) def = holder_def();
  g_ptr_array_add(def->disks, domain_disk_copy(disk));
  g_autofree char *xml = domain_def_format(def, false, -1);
  return cut_element(xml, "disk");
}

char *domain_device_format_interface(const DomainInterface *iface) {
  g_autoptr(DomainDef) def = holder_def();
  g_ptr_array_add(def->interfaces, domain_interface_copy(iface));
  g_autofree char *xml = domain_def_format(def, false, -1);
  return cut_element(xml, "interface");
}

bool domain_device_entry_parse(const char *entry, DeviceEntryType *ret_type, char **ret_name) {
  const char *dot = strrchr(entry, '.');
  if (!dot)
    return false;
  DeviceEntryType type;
  if (strcmp(dot, ".xml") == 0)
    type = DEVICE_ENTRY_XML;
  else if (strcmp(dot, ".media") == 0)
    type = DEVICE_ENTRY_MEDIA;
  else
    return false;
  g_autofree char *name = g_strndup(entry, (gsize)(dot - entry));
  if (!domain_alias_name_is_valid(name))
    return false;
  *ret_type = type;
  *ret_name = g_steal_pointer(&name);
  return true;
}

/* An interface's entry name: its alias without "ua-" (every parsed
 * interface has one; a definition built in code may not). */
static char *interface_entry_name(const DomainInterface *iface, guint i) {
  if (iface->alias && g_str_has_prefix(iface->alias, DOMAIN_USER_ALIAS_PREFIX))
    return g_strdup(iface->alias + strlen(DOMAIN_USER_ALIAS_PREFIX));
  return g_strdup_printf("net%u", i);
}

GPtrArray *domain_device_entries(const DomainDef *def) {
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < def->disks->len; i++) {
    const DomainDisk *d = def->disks->pdata[i];
    /* The medium first: `rm -r` removes in this order, and a CD-ROM's
     * .media goes away with its .xml. */
    if (d->device == DISK_DEVICE_CDROM)
      g_ptr_array_add(names, g_strdup_printf("%s.media", d->target_dev));
    g_ptr_array_add(names, g_strdup_printf("%s.xml", d->target_dev));
  }
  for (guint i = 0; i < def->interfaces->len; i++) {
    g_autofree char *name = interface_entry_name(def->interfaces->pdata[i], i);
    g_ptr_array_add(names, g_strdup_printf("%s.xml", name));
  }
  return names;
}

int domain_def_find_disk(const DomainDef *def, const char *target) {
  for (guint i = 0; i < def->disks->len; i++)
    if (strcmp(((const DomainDisk *)def->disks->pdata[i])->target_dev, target) == 0)
      return (int)i;
  return -1;
}

int domain_def_find_interface(const DomainDef *def, const char *name) {
  for (guint i = 0; i < def->interfaces->len; i++) {
    g_autofree char *n = interface_entry_name(def->interfaces->pdata[i], i);
    if (strcmp(n, name) == 0)
      return (int)i;
  }
  return -1;
}

int domain_def_find_entry(const DomainDef *def, const char *name, DomainDeviceKind *ret_kind) {
  int i = domain_def_find_disk(def, name);
  if (i >= 0) {
    *ret_kind = DOMAIN_DEVICE_DISK;
    return i;
  }
  i = domain_def_find_interface(def, name);
  if (i >= 0)
    *ret_kind = DOMAIN_DEVICE_INTERFACE;
  return i;
}

/* A fragment's entry name (not a .media). */
static int fragment_entry_parse(const char *entry, char **ret_name, char **ret_error) {
  DeviceEntryType type;
  if (!domain_device_entry_parse(entry, &type, ret_name) || type != DEVICE_ENTRY_XML) {
    g_clear_pointer(ret_name, g_free);
    *ret_error = g_strdup_printf("'%s' is not a device fragment name (TARGET.xml for a disk, "
                                 "NAME.xml for an interface: letters, digits, '_' and '-')",
                                 entry);
    return -EINVAL;
  }
  return 0;
}

static int set_disk(DomainDef *def, const char *entry, const char *name, DomainDisk **disk,
                    bool *ret_replaced, char **ret_error) {
  DomainDisk *d = *disk;
  if (strcmp(d->target_dev, name) != 0) {
    bool used = domain_def_find_disk(def, d->target_dev) >= 0;
    *ret_error = g_strdup_printf("%s holds a disk with target '%s'%s; a disk's fragment is "
                                 "named after its target", entry, d->target_dev,
                                 used ? ", which another disk already uses" : "");
    return used ? -EEXIST : -EINVAL;
  }
  if (domain_def_find_interface(def, name) >= 0) {
    *ret_error = g_strdup_printf("%s is the name of an interface", entry);
    return -EEXIST;
  }
  int i = domain_def_find_disk(def, name);
  if (i >= 0) {
    domain_disk_free(def->disks->pdata[i]);
    def->disks->pdata[i] = g_steal_pointer(disk);
  } else {
    g_ptr_array_add(def->disks, g_steal_pointer(disk));
  }
  *ret_replaced = i >= 0;
  return 0;
}

/* hdX, sdX, vdX, xvdX, fdX: the names disks have. */
static bool looks_like_disk_target(const char *name) {
  static const char *const prefixes[] = {"hd", "sd", "vd", "xvd", "fd"};
  for (size_t i = 0; i < G_N_ELEMENTS(prefixes); i++) {
    size_t n = strlen(prefixes[i]);
    if (strncmp(name, prefixes[i], n) == 0 && name[n] &&
        strspn(name + n, "abcdefghijklmnopqrstuvwxyz") == strlen(name + n))
      return true;
  }
  return false;
}

static int set_interface(DomainDef *def, const char *entry, const char *name,
                         DomainInterface **iface, bool *ret_replaced, char **ret_error) {
  DomainInterface *n = *iface;
  if (domain_def_find_disk(def, name) >= 0 || looks_like_disk_target(name)) {
    *ret_error = g_strdup_printf("%s is named like a disk (TARGET.xml); name an interface's "
                                 "fragment otherwise, e.g. net1.xml", entry);
    return -EINVAL;
  }
  int index = domain_def_find_interface(def, name);
  for (guint i = 0; i < def->interfaces->len; i++) {
    const DomainInterface *o = def->interfaces->pdata[i];
    if (!n->mac_generated && (int)i != index && g_ascii_strcasecmp(o->mac, n->mac) == 0) {
      g_autofree char *other = interface_entry_name(o, i);
      *ret_error = g_strdup_printf("MAC address %s is already used by %s.xml", n->mac, other);
      return -EEXIST;
    }
  }
  /* The file's name is the interface's name: its alias follows it. */
  g_free(n->alias);
  n->alias = g_strconcat(DOMAIN_USER_ALIAS_PREFIX, name, NULL);
  if (index >= 0) {
    DomainInterface *old = def->interfaces->pdata[index];
    if (n->mac_generated && old->type == n->type)
      memcpy(n->mac, old->mac, sizeof(n->mac));
    domain_interface_free(old);
    def->interfaces->pdata[index] = g_steal_pointer(iface);
  } else {
    g_ptr_array_add(def->interfaces, g_steal_pointer(iface));
  }
  *ret_replaced = index >= 0;
  return 0;
}

int domain_def_set_device(DomainDef *def, const char *entry, DomainDevice **dev,
                          bool *ret_replaced, char **ret_error) {
  g_autofree char *name = NULL;
  int r = fragment_entry_parse(entry, &name, ret_error);
  if (r < 0)
    return r;
  DomainDevice *d = *dev;
  r = d->kind == DOMAIN_DEVICE_DISK
          ? set_disk(def, entry, name, &d->disk, ret_replaced, ret_error)
          : set_interface(def, entry, name, &d->iface, ret_replaced, ret_error);
  if (r < 0)
    return r;
  domain_device_free(g_steal_pointer(dev));
  return 0;
}

int domain_def_remove_device(DomainDef *def, const char *entry, char **ret_error) {
  g_autofree char *name = NULL;
  int r = fragment_entry_parse(entry, &name, ret_error);
  if (r < 0)
    return r;
  DomainDeviceKind kind;
  int i = domain_def_find_entry(def, name, &kind);
  if (i < 0) {
    *ret_error = g_strdup_printf("no disk or interface is named '%s'", name);
    return -ENOENT;
  }
  g_ptr_array_remove_index(kind == DOMAIN_DEVICE_DISK ? def->disks : def->interfaces, (guint)i);
  return 0;
}
