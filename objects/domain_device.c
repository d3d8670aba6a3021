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

/* A target dev as the parser accepts it: 3..32 lowercase letters and
 * digits, starting with a letter. */
static bool target_is_valid(const char *s, size_t len) {
  if (len < 3 || len > 32 || !g_ascii_islower(s[0]))
    return false;
  for (size_t i = 0; i < len; i++)
    if (!g_ascii_islower(s[i]) && !g_ascii_isdigit(s[i]))
      return false;
  return true;
}

bool domain_device_entry_parse(const char *entry, DomainDeviceKind *ret_kind,
                               DeviceEntryType *ret_type, char **ret_target,
                               unsigned *ret_index) {
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
  size_t len = (size_t)(dot - entry);
  /* net<digits> names interfaces only (a disk may not take such a target) */
  bool net = len > 3 && strncmp(entry, "net", 3) == 0 && strspn(entry + 3, "0123456789") == len - 3;
  if (net && (type != DEVICE_ENTRY_XML || len > 6))
    return false;
  if (net) {
    unsigned idx = 0;
    for (size_t i = 3; i < len; i++) {
      if (!g_ascii_isdigit(entry[i]) || (i == 3 && entry[i] == '0' && len > 4))
        return false;
      idx = idx * 10 + (unsigned)(entry[i] - '0');
    }
    *ret_kind = DOMAIN_DEVICE_INTERFACE;
    *ret_type = type;
    *ret_target = NULL;
    *ret_index = idx;
    return true;
  }
  if (!target_is_valid(entry, len))
    return false;
  *ret_kind = DOMAIN_DEVICE_DISK;
  *ret_type = type;
  *ret_target = g_strndup(entry, len);
  *ret_index = 0;
  return true;
}

GPtrArray *domain_device_entries(const DomainDef *def) {
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < def->disks->len; i++) {
    const DomainDisk *d = def->disks->pdata[i];
    g_ptr_array_add(names, g_strdup_printf("%s.xml", d->target_dev));
    if (d->device == DISK_DEVICE_CDROM)
      g_ptr_array_add(names, g_strdup_printf("%s.media", d->target_dev));
  }
  for (guint i = 0; i < def->interfaces->len; i++)
    g_ptr_array_add(names, g_strdup_printf("net%u.xml", i));
  return names;
}

int domain_def_find_disk(const DomainDef *def, const char *target) {
  for (guint i = 0; i < def->disks->len; i++)
    if (strcmp(((const DomainDisk *)def->disks->pdata[i])->target_dev, target) == 0)
      return (int)i;
  return -1;
}

/* A fragment's entry name (not a .media). */
static int fragment_entry_parse(const char *entry, DomainDeviceKind *ret_kind,
                                char **ret_target, unsigned *ret_index, char **ret_error) {
  DeviceEntryType type;
  if (!domain_device_entry_parse(entry, ret_kind, &type, ret_target, ret_index) ||
      type != DEVICE_ENTRY_XML) {
    g_clear_pointer(ret_target, g_free);
    *ret_error = g_strdup_printf("'%s' is not a device fragment name (TARGET.xml for a disk, "
                                 "netN.xml for an interface)", entry);
    return -EINVAL;
  }
  return 0;
}

int domain_def_set_device(DomainDef *def, const char *entry, DomainDevice **dev,
                          bool *ret_replaced, char **ret_error) {
  DomainDeviceKind kind;
  g_autofree char *target = NULL;
  unsigned index;
  int r = fragment_entry_parse(entry, &kind, &target, &index, ret_error);
  if (r < 0)
    return r;
  DomainDevice *d = *dev;
  if (d->kind != kind) {
    *ret_error = g_strdup_printf("%s holds %s, but its name is that of %s", entry,
                                 d->kind == DOMAIN_DEVICE_DISK ? "a <disk>" : "an <interface>",
                                 kind == DOMAIN_DEVICE_DISK ? "a disk (TARGET.xml)"
                                                            : "an interface (netN.xml)");
    return -EINVAL;
  }
  if (kind == DOMAIN_DEVICE_DISK) {
    if (strcmp(d->disk->target_dev, target) != 0) {
      bool used = domain_def_find_disk(def, d->disk->target_dev) >= 0;
      *ret_error = g_strdup_printf("%s holds a disk with target '%s'%s; a disk's fragment is "
                                   "named after its target", entry, d->disk->target_dev,
                                   used ? ", which another disk already uses" : "");
      return used ? -EEXIST : -EINVAL;
    }
    int i = domain_def_find_disk(def, target);
    if (i >= 0) {
      domain_disk_free(def->disks->pdata[i]);
      def->disks->pdata[i] = g_steal_pointer(&d->disk);
    } else {
      g_ptr_array_add(def->disks, g_steal_pointer(&d->disk));
    }
    *ret_replaced = i >= 0;
  } else {
    DomainInterface *n = d->iface;
    bool replace = index < def->interfaces->len;
    for (guint i = 0; i < def->interfaces->len; i++) {
      const DomainInterface *o = def->interfaces->pdata[i];
      if (!n->mac_generated && i != index && g_ascii_strcasecmp(o->mac, n->mac) == 0) {
        *ret_error = g_strdup_printf("MAC address %s is already used by net%u.xml", n->mac, i);
        return -EEXIST;
      }
    }
    if (replace) {
      DomainInterface *old = def->interfaces->pdata[index];
      if (n->mac_generated && old->type == n->type)
        memcpy(n->mac, old->mac, sizeof(n->mac));
      domain_interface_free(old);
      def->interfaces->pdata[index] = g_steal_pointer(&d->iface);
    } else {
      g_ptr_array_add(def->interfaces, g_steal_pointer(&d->iface));
    }
    *ret_replaced = replace;
  }
  domain_device_free(g_steal_pointer(dev));
  return 0;
}

int domain_def_remove_device(DomainDef *def, const char *entry, char **ret_error) {
  DomainDeviceKind kind;
  g_autofree char *target = NULL;
  unsigned index;
  int r = fragment_entry_parse(entry, &kind, &target, &index, ret_error);
  if (r < 0)
    return r;
  if (kind == DOMAIN_DEVICE_DISK) {
    int i = domain_def_find_disk(def, target);
    if (i < 0) {
      *ret_error = g_strdup_printf("no disk has target '%s'", target);
      return -ENOENT;
    }
    g_ptr_array_remove_index(def->disks, (guint)i);
    return 0;
  }
  if (index >= def->interfaces->len) {
    *ret_error = g_strdup_printf("there is no interface net%u", index);
    return -ENOENT;
  }
  g_ptr_array_remove_index(def->interfaces, index);
  return 0;
}
