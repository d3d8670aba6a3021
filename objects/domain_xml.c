/* domain_xml.c — libvirt domain XML ⇄ DomainDef, pure (no I/O, no mutable
 * globals; libxml2 only through xml_util and the domain_xml*.c files).
 *
 * This file holds the root element, the general elements and the shared
 * helpers; each area of the document has its own file (domain_xml_os.c,
 * _disk, _controller, _net, _chardev, _graphics, _misc), see
 * domain_xml_priv.h.
 *
 * The parser accepts the subset of libvirt's format listed in domain_def.h
 * and refuses everything else with a sentence naming the element or
 * attribute and its line: nothing is dropped silently. It then fills the
 * defaults that make the definition canonical, so format(parse(x)) is a
 * fixed point of parse∘format. Choices, where libvirt leaves room:
 *
 *  - <domain id='N'> is live state: ignored on input, written by
 *    domain_def_format(live=true, id>=0). Namespace declarations on the root
 *    are ignored; any element in a namespace (qemu:commandline, ...) is
 *    refused, since its meaning is outside the subset.
 *  - Sizes are kept in KiB, rounded up like libvirt does; at most 16 TiB.
 *    currentMemory defaults to memory, and a larger one is an error (libvirt
 *    silently lowers it; we refuse rather than change what was written).
 *  - vcpu: 1..255 (QEMU's pc/q35 limit without an IOMMU); current defaults to
 *    the count and is written only when lower, as libvirt does.
 *  - os: type hvm, arch x86_64 (or i686) and machine 'pc' when missing. The
 *    machine is kept as written: libvirt expands 'pc' to a versioned machine
 *    by asking QEMU, which a pure parser cannot do. As libvirt does, a
 *    <boot dev='hd'/> is added when there is neither an <os><boot> nor a
 *    per-device <boot order>, and the two kinds cannot be mixed. initrd and
 *    cmdline without a kernel are refused (libvirt keeps and ignores them).
 *  - Devices keep their document order within each kind. No implicit
 *    controllers, videos, inputs or addresses are invented (libvirt's QEMU
 *    driver adds those by asking QEMU); the one implicit device is libvirt's
 *    default <memballoon model='virtio'/>, kept off by model='none'.
 *  - The serial console alias follows libvirt: only the first console may
 *    have target type 'serial' (the default); with serial ports it mirrors
 *    the first one and is written from it; given alone, it creates that
 *    serial port; serial ports without such a console get one. A serial-type
 *    console that contradicts the first <serial> is refused instead of being
 *    overwritten.
 *  - Disk buses are inferred from the target dev like libvirt: vd→virtio,
 *    hd→ide, sd→scsi, fd→fdc (floppy drives only). A volume disk needs pool
 *    and volume, even a cdrom.
 *  - Live-only data is parsed and kept but written only with live=true:
 *    interface <target dev>, a pty's <source path> (and console tty=).
 *    Likewise a VNC port together with autoport='yes' is the live port and
 *    is ignored, as libvirt ignores it.
 *  - Interfaces without a MAC get a random 52:54:00:xx:xx:xx one that is
 *    unique within the domain; a missing UUID is generated. Both are marked
 *    (mac_generated, uuid_generated) so that a redefinition can keep the
 *    current ones instead (domain_def_inherit_generated).
 *
 * Formatting is linear in the number of devices (10 000 domains are
 * formatted often): one pass, one GString. */
#include "objects/domain_def.h"

#include <errno.h>
#include <libxml/tree.h>
#include <string.h>

#include "objects/domain_xml_priv.h"
#include "objects/names.h"
#include "objects/values.h"
#include "objects/xml_util.h"

DEFINE_CHOICES(domain_virt_type, DomainVirtType, 0)

DEFINE_CHOICES(domain_lifecycle_action, DomainLifecycleAction, 0)

int dxml_bad_choice(char **err, const xmlNode *node, const char *what, const char *value,
                    char *choices) {
  g_autofree char *c = choices;
  return xml_fail(err, node, "%s must be one of %s, not '%s'", what, c, value);
}

char *dxml_choices_of(const char *const *list) {
  GString *s = g_string_new(NULL);
  for (size_t i = 0; list[i]; i++)
    g_string_append_printf(s, "%s'%s'", i ? ", " : "", list[i]);
  return g_string_free(s, FALSE);
}

bool dxml_in_list(const char *value, const char *const *list) {
  for (; *list; list++)
    if (strcmp(value, *list) == 0)
      return true;
  return false;
}

int dxml_require_prop(const xmlNode *n, const char *attr, char **ret, char **err) {
  char *v = xml_prop(n, attr);
  if (!v)
    return xml_fail(err, n, "attribute '%s' is required", attr);
  *ret = v;
  return 0;
}

/* The text of an element that may hold only text (and comments). */
int dxml_leaf_text(const xmlNode *n, bool strip, char **ret, char **err) {
  g_autoptr(GString) s = g_string_new(NULL);
  for (const xmlNode *c = n->children; c; c = c->next) {
    switch (c->type) {
    case XML_TEXT_NODE:
    case XML_CDATA_SECTION_NODE:
      if (c->content)
        g_string_append(s, (const char *)c->content);
      break;
    case XML_COMMENT_NODE:
      break;
    case XML_ELEMENT_NODE:
      return xml_fail(err, c, "element is not supported inside <%s>", (const char *)n->name);
    default:
      return xml_fail(err, n, "unsupported XML content inside <%s>", (const char *)n->name);
    }
  }
  char *text = g_string_free(g_steal_pointer(&s), FALSE);
  *ret = strip ? g_strstrip(text) : text;
  return 0;
}

/* An element with text only and no attributes: <name>, <uuid>, ... */
int dxml_text_element(const xmlNode *n, bool strip, char **ret, char **err) {
  int r = xml_check_attrs(n, NONE_LIST, err);
  if (r < 0)
    return r;
  return dxml_leaf_text(n, strip, ret, err);
}

/* An element with at most the listed attributes and no content. */
int dxml_empty_element(const xmlNode *n, const char *const *attrs, char **err) {
  int r = xml_check_attrs(n, attrs, err);
  if (r < 0)
    return r;
  return xml_check_children(n, NONE_LIST, NULL, err);
}

bool dxml_has_control(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      return true;
  return false;
}

int dxml_check_path(const xmlNode *n, const char *what, const char *path, char **err) {
  if (path[0] != '/')
    return xml_fail(err, n, "%s must be an absolute path, not '%s'", what, path);
  if (strlen(path) > PATH_MAX_BYTES)
    return xml_fail(err, n, "%s is longer than %d bytes", what, PATH_MAX_BYTES);
  if (dxml_has_control(path))
    return xml_fail(err, n, "%s must not contain control characters", what);
  return 0;
}

/* Names that end up inside QEMU options (machine, CPU model): a conservative
 * character set keeps them from carrying option syntax. */
int dxml_check_token(const xmlNode *n, const char *what, const char *value, char **err) {
  size_t len = strlen(value);
  if (len == 0 || len > 64)
    return xml_fail(err, n, "%s must be 1 to 64 characters long", what);
  for (const char *p = value; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '.' && *p != '_' && *p != '-')
      return xml_fail(err, n, "%s '%s' may contain only letters, digits, '.', '_' and '-'",
                      what, value);
  return 0;
}

/* The kernel's rule for network interface names (dev_valid_name). */
int dxml_check_ifname(const xmlNode *n, const char *what, const char *value, char **err) {
  size_t len = strlen(value);
  if (len == 0 || len > 15)
    return xml_fail(err, n, "%s '%s' must be 1 to 15 bytes long", what, value);
  if (strcmp(value, ".") == 0 || strcmp(value, "..") == 0)
    return xml_fail(err, n, "%s must not be '%s'", what, value);
  for (const unsigned char *p = (const unsigned char *)value; *p; p++)
    if (*p == '/' || *p == ':' || g_ascii_isspace(*p) || *p < 0x20 || *p == 0x7f)
      return xml_fail(err, n, "%s '%s' contains a character not allowed in an interface name",
                      what, value);
  return 0;
}

int dxml_check_object_name(const xmlNode *n, const char *what, const char *value, char **err) {
  g_autofree char *why = NULL;
  if (object_name_validate(value, &why) < 0)
    return xml_fail(err, n, "%s '%s' is invalid: %s", what, value, why);
  return 0;
}

/* 32 hex digits, either plain or as 8-4-4-4-12; stored lowercase with dashes.
 * The all-zero UUID is refused as libvirt does. */
static bool uuid_canonical(const char *text, char out[37]) {
  char hex[33];
  size_t n = 0;
  size_t len = strlen(text);
  bool dashed = len == 36;
  if (len != 32 && len != 36)
    return false;
  for (size_t i = 0; i < len; i++) {
    if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
      if (text[i] != '-')
        return false;
      continue;
    }
    if (!g_ascii_isxdigit(text[i]))
      return false;
    hex[n++] = g_ascii_tolower(text[i]);
  }
  hex[32] = '\0';
  if (strspn(hex, "0") == 32)
    return false;
  g_snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
  return true;
}

static void parse_state_clear(ParseState *ps) {
  g_clear_pointer(&ps->disk_targets, g_hash_table_unref);
  g_clear_pointer(&ps->macs, g_hash_table_unref);
  g_clear_pointer(&ps->boot_orders, g_hash_table_unref);
  g_clear_pointer(&ps->pci_addrs, g_hash_table_unref);
  g_clear_pointer(&ps->drive_addrs, g_hash_table_unref);
  g_clear_pointer(&ps->controllers, g_hash_table_unref);
  g_clear_pointer(&ps->audio_ids, g_hash_table_unref);
  g_clear_pointer(&ps->controller_nodes, g_ptr_array_unref);
  g_clear_pointer(&ps->controller_index_set, g_array_unref);
  g_clear_pointer(&ps->serial_nodes, g_ptr_array_unref);
  g_clear_pointer(&ps->serial_port_set, g_array_unref);
  g_clear_pointer(&ps->console_nodes, g_ptr_array_unref);
  g_clear_pointer(&ps->console_port_set, g_array_unref);
  g_clear_pointer(&ps->console_source_set, g_array_unref);
}

static void parse_state_init(ParseState *ps, DomainDef *def, char **err) {
  *ps = (ParseState){.def = def, .err = err};
  ps->disk_targets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  ps->macs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  ps->boot_orders = g_hash_table_new(g_direct_hash, g_direct_equal);
  ps->pci_addrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  ps->drive_addrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  ps->controllers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  ps->audio_ids = g_hash_table_new(g_direct_hash, g_direct_equal);
  ps->controller_nodes = g_ptr_array_new();
  ps->controller_index_set = g_array_new(FALSE, FALSE, sizeof(gboolean));
  ps->serial_nodes = g_ptr_array_new();
  ps->serial_port_set = g_array_new(FALSE, FALSE, sizeof(gboolean));
  ps->console_nodes = g_ptr_array_new();
  ps->console_port_set = g_array_new(FALSE, FALSE, sizeof(gboolean));
  ps->console_source_set = g_array_new(FALSE, FALSE, sizeof(gboolean));
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ParseState, parse_state_clear)

/* Records `key` in `table`; a second use fails naming both lines. */
int dxml_claim(ParseState *ps, GHashTable *table, char *key_owned, const xmlNode *n,
               const char *what) {
  g_autofree char *key = key_owned;
  const xmlNode *prev = g_hash_table_lookup(table, key);
  if (prev)
    return xml_fail(ps->err, n, "%s is already used on line %ld", what, xmlGetLineNo(prev));
  g_hash_table_insert(table, g_steal_pointer(&key), (gpointer)n);
  return 0;
}

int dxml_prop_u(const xmlNode *n, const char *attr, uint64_t max, unsigned *ret, bool *ret_set,
                char **err) {
  uint64_t v = 0;
  bool present = false;
  int r = xml_prop_uint(n, attr, max, &v, &present, err);
  if (r < 0)
    return r;
  if (present)
    *ret = (unsigned)v;
  if (ret_set)
    *ret_set = present;
  return 0;
}

static int parse_size_kib(ParseState *ps, const xmlNode *n, uint64_t *ret_kib) {
  int r;
  if ((r = xml_check_attrs(n, LIST("unit"), ps->err)) < 0)
    return r;
  g_autofree char *unit = xml_prop(n, "unit");
  g_autofree char *text = NULL;
  if ((r = dxml_leaf_text(n, true, &text, ps->err)) < 0)
    return r;
  uint64_t mult;
  if (unit && units_multiplier(unit, &mult) < 0)
    return xml_fail(ps->err, n, "attribute 'unit' must be a size unit such as 'KiB', 'MiB' or "
                    "'GiB', not '%s'", unit);
  uint64_t bytes;
  r = units_parse_xml_size(text, unit, 1024, &bytes);
  if (r == -ERANGE)
    return xml_fail(ps->err, n, "the size '%s' is too large", text);
  if (r < 0)
    return xml_fail(ps->err, n, "'%s' is not a size (a whole number, the unit goes in the "
                    "'unit' attribute)", text);
  uint64_t kib = bytes / 1024 + (bytes % 1024 != 0);
  if (kib == 0)
    return xml_fail(ps->err, n, "the size must be greater than 0");
  if (kib > DOMAIN_MAX_MEMORY_KIB)
    return xml_fail(ps->err, n, "the size is %" G_GUINT64_FORMAT " KiB; at most %llu KiB "
                    "(16 TiB) is supported", kib, DOMAIN_MAX_MEMORY_KIB);
  *ret_kib = kib;
  return 0;
}

static int parse_vcpu(ParseState *ps, const xmlNode *n) {
  DomainDef *def = ps->def;
  int r;
  if ((r = xml_check_attrs(n, LIST("placement", "current", "cpuset"), ps->err)) < 0)
    return r;
  g_autofree char *text = NULL;
  if ((r = dxml_leaf_text(n, true, &text, ps->err)) < 0)
    return r;
  uint64_t count;
  if (value_parse_uint(text, 1, DOMAIN_MAX_VCPUS, &count) < 0)
    return xml_fail(ps->err, n, "the vCPU count must be a number from 1 to %d, not '%s'",
                    DOMAIN_MAX_VCPUS, text);
  def->vcpus = (unsigned)count;
  def->vcpus_current = def->vcpus;
  g_autofree char *placement = xml_prop(n, "placement");
  if (placement) {
    if (strcmp(placement, "auto") == 0)
      def->vcpu_placement_auto = true;
    else if (strcmp(placement, "static") != 0)
      return xml_fail(ps->err, n, "attribute 'placement' must be 'static' or 'auto', not '%s'",
                      placement);
  }
  g_autofree char *cpuset = xml_prop(n, "cpuset");
  if (cpuset) {
    uint64_t bits[VALUE_CPUSET_WORDS];
    if ((r = value_parse_cpuset(cpuset, bits)) < 0)
      return xml_fail(ps->err, n, "attribute 'cpuset' must list host CPUs below %d as in "
                      "'0-3,^2,8' and leave at least one, not '%s'", VALUE_CPUSET_MAX, cpuset);
    def->vcpu_cpuset = value_format_cpuset(bits);
  }
  g_autofree char *current = xml_prop(n, "current");
  if (current) {
    uint64_t cur;
    if (value_parse_uint(current, 1, def->vcpus, &cur) < 0)
      return xml_fail(ps->err, n, "attribute 'current' must be a number from 1 to %u, not '%s'",
                      def->vcpus, current);
    def->vcpus_current = (unsigned)cur;
  }
  return 0;
}

static int parse_lifecycle(ParseState *ps, const xmlNode *n, DomainLifecycleAction *ret) {
  g_autofree char *text = NULL;
  int r = dxml_text_element(n, true, &text, ps->err);
  if (r < 0)
    return r;
  return PARSE_ENUM(domain_lifecycle_action, n, "the action", text, ret, ps->err);
}

/* <metadata> is kept as written: its children serialized with the
 * namespaces they use declared, so it reads back the same wherever it
 * goes. */
static int parse_metadata(ParseState *ps, const xmlNode *n) {
  int r;
  if ((r = xml_check_attrs(n, NONE_LIST, ps->err)) < 0)
    return r;
  for (const xmlNode *c = n->children; c; c = c->next)
    if (c->type == XML_TEXT_NODE && c->content &&
        strspn((const char *)c->content, " \t\r\n") != strlen((const char *)c->content))
      return xml_fail(ps->err, n, "unexpected text inside <metadata>");
  g_autoptr(xmlDoc) doc = xmlNewDoc(BAD_CAST "1.0");
  xmlNode *copy = xmlDocCopyNode((xmlNode *)n, doc, 1);
  if (!copy)
    return xml_fail(ps->err, n, "cannot copy <metadata>");
  xmlDocSetRootElement(doc, copy);
  xmlDOMWrapReconcileNamespaces(NULL, copy, 0);
  xmlBuffer *buf = xmlBufferCreate();
  int len = buf ? xmlNodeDump(buf, doc, copy, 1, 0) : -1;
  if (len >= 0)
    ps->def->metadata = g_strdup((const char *)xmlBufferContent(buf));
  xmlBufferFree(buf);
  if (len < 0)
    return xml_fail(ps->err, n, "cannot serialize <metadata>");
  return 0;
}

/* <pm>: whether the guest may suspend to RAM or disk. */
static const DxElem pm_children[] = {
  {"suspend-to-mem", (const DxAttr[]){{"enabled", DXT_ENUM, DX_YESNO}, {NULL}}},
  {"suspend-to-disk", (const DxAttr[]){{"enabled", DXT_ENUM, DX_YESNO}, {NULL}}},
  {NULL},
};
static const DxElem pm_row = {"pm", NULL, pm_children};

/* Top-level elements kept as table rows; see qemu_argv_os.c for their use. */
static const DxElem root_row = {
  "domain",
  NULL,
  (const DxElem[]){
    {"iothreads", NULL, NULL, DXT_UINT},
    {"maxMemory", (const DxAttr[]){{"slots", DXT_UINT, NULL, 255, true},
                                   {"unit", DXT_ENUM, LIST("KiB", "MiB", "GiB")},
                                   {NULL}},
     NULL, DXT_UINT},
    {"memoryBacking", NULL,
     (const DxElem[]){{"hugepages", NULL,
                       (const DxElem[]){{"page", (const DxAttr[]){{"size", DXT_UINT, NULL,
                                                                   1048576, true},
                                                                  {"unit", DXT_ENUM,
                                                                   LIST("KiB", "MiB", "GiB")},
                                                                  {NULL}}},
                                        {NULL}}},
                      {"nosharepages"},
                      {"locked"},
                      {"source", (const DxAttr[]){{"type", DXT_ENUM,
                                                   LIST("anonymous", "memfd", "file"), 0, true},
                                                  {NULL}}},
                      {"access", (const DxAttr[]){{"mode", DXT_ENUM, LIST("shared", "private"),
                                                   0, true},
                                                  {NULL}}},
                      {"allocation", (const DxAttr[]){{"mode", DXT_ENUM,
                                                       LIST("immediate", "ondemand"), 0, true},
                                                      {NULL}}},
                      {"discard"},
                      {NULL}}},
    {NULL},
  },
};

/* <seclabel>: kept, never enforced; the QEMU driver refuses to start a
 * domain whose label is not type='none' (docs/domain-xml.md). */
static const DxElem seclabel_row = {
  "seclabel",
  (const DxAttr[]){{"type", DXT_ENUM, LIST("none", "dynamic", "static"), 0, true},
                   {"model", DXT_TOKEN},
                   {"relabel", DXT_ENUM, DX_YESNO},
                   {NULL}},
  (const DxElem[]){{"label", NULL, NULL, DXT_STRING},
                   {"imagelabel", NULL, NULL, DXT_STRING},
                   {"baselabel", NULL, NULL, DXT_STRING},
                   {NULL}},
};

static int parse_devices(ParseState *ps, const xmlNode *n) {
  static const char *const children[] = {"emulator", "disk", "controller", "interface",
                                         "serial", "console", "input", "graphics", "audio",
                                         "video", "memballoon", "rng", "channel", "tpm",
                                         "sound", "redirdev", "watchdog", "panic", NULL};
  int r;
  if ((r = xml_check_attrs(n, NONE_LIST, ps->err)) < 0 ||
      (r = xml_check_children(n, children, LIST("emulator", "memballoon"), ps->err)) < 0)
    return r;
  for (const xmlNode *c = n->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    const char *name = (const char *)c->name;
    if (strcmp(name, "emulator") == 0) {
      g_autofree char *path = NULL;
      if ((r = dxml_text_element(c, true, &path, ps->err)) < 0 ||
          (r = dxml_check_path(c, "the emulator", path, ps->err)) < 0)
        return r;
      ps->def->emulator = g_steal_pointer(&path);
    } else if (strcmp(name, "disk") == 0) {
      r = dxml_parse_disk(ps, c);
    } else if (strcmp(name, "controller") == 0) {
      r = dxml_parse_controller(ps, c);
    } else if (strcmp(name, "interface") == 0) {
      r = dxml_parse_interface(ps, c);
    } else if (strcmp(name, "serial") == 0) {
      r = dxml_parse_chardev(ps, c, false);
    } else if (strcmp(name, "console") == 0) {
      r = dxml_parse_chardev(ps, c, true);
    } else if (strcmp(name, "input") == 0) {
      r = dxml_parse_input(ps, c);
    } else if (strcmp(name, "graphics") == 0) {
      r = dxml_parse_graphics(ps, c);
    } else if (strcmp(name, "audio") == 0) {
      r = dxml_parse_audio(ps, c);
    } else if (strcmp(name, "video") == 0) {
      r = dxml_parse_video(ps, c);
    } else if (strcmp(name, "memballoon") == 0) {
      r = dxml_parse_memballoon(ps, c);
    } else if (strcmp(name, "rng") == 0) {
      r = dxml_parse_rng(ps, c);
    } else {
      r = dxml_parse_xdevice(ps, c);
    }
    if (r < 0)
      return r;
  }
  if (ps->video_none && ps->def->videos->len > 1)
    return xml_fail(ps->err, ps->video_none, "a video of type 'none' must be the only video");
  return 0;
}

/* Elements in a namespace (qemu:commandline, ...) carry meaning outside the
 * supported subset; the one place they belong is <metadata>, which other
 * tools use for their own data and which is kept verbatim. */
static int reject_namespaces(const xmlNode *root, char **err) {
  const xmlNode *n = root;
  while (n) {
    if (n->type == XML_ELEMENT_NODE && n->ns) {
      const char *prefix = n->ns->prefix ? (const char *)n->ns->prefix : "";
      return xml_fail(err, NULL, "line %ld: <%s%s%s>: namespaced elements (namespace '%s') "
                      "are not supported", xmlGetLineNo(n), prefix, *prefix ? ":" : "",
                      (const char *)n->name, n->ns->href ? (const char *)n->ns->href : "");
    }
    bool metadata = n->type == XML_ELEMENT_NODE && n->parent == root && !n->ns &&
                    strcmp((const char *)n->name, "metadata") == 0;
    if (n->type == XML_ELEMENT_NODE && n->children && !metadata) {
      n = n->children;
      continue;
    }
    while (n && n != root && !n->next)
      n = n->parent;
    if (!n || n == root)
      break;
    n = n->next;
  }
  return 0;
}

static int parse_root(ParseState *ps, const xmlNode *root) {
  static const char *const children_typed[] = {
      "name", "uuid", "title", "description", "memory", "currentMemory", "vcpu", "os",
      "features", "cpu", "clock", "on_poweroff", "on_reboot", "on_crash", "devices",
      "metadata", "pm", "*seclabel", NULL};
  DomainDef *def = ps->def;
  int r;
  if ((r = reject_namespaces(root, ps->err)) < 0 ||
      (r = xml_check_attrs(root, LIST("type", "id"), ps->err)) < 0 ||
      (r = dxml_parse_xnode(ps, root, &root_row, LIST("type", "id"), children_typed,
                            &def->root_ext)) < 0)
    return r;
  g_autofree char *type = NULL;
  if ((r = dxml_require_prop(root, "type", &type, ps->err)) < 0 ||
      (r = PARSE_ENUM(domain_virt_type, root, "attribute 'type'", type, &def->virt_type,
                      ps->err)) < 0)
    return r;

  const xmlNode *c;
  if (!(c = xml_child(root, "name")))
    return xml_fail(ps->err, root, "a <name> element is required");
  if ((r = dxml_text_element(c, true, &def->name, ps->err)) < 0 ||
      (r = dxml_check_object_name(c, "the name", def->name, ps->err)) < 0)
    return r;

  if ((c = xml_child(root, "uuid"))) {
    g_autofree char *uuid = NULL;
    if ((r = dxml_text_element(c, true, &uuid, ps->err)) < 0)
      return r;
    if (!uuid_canonical(uuid, def->uuid))
      return xml_fail(ps->err, c, "'%s' is not a valid UUID (32 hex digits, as "
                      "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, not all zero)", uuid);
  } else {
    g_autofree char *uuid = g_uuid_string_random();
    g_strlcpy(def->uuid, uuid, sizeof(def->uuid));
    def->uuid_generated = true;
  }

  if ((c = xml_child(root, "title"))) {
    g_autofree char *title = NULL;
    if ((r = dxml_text_element(c, true, &title, ps->err)) < 0)
      return r;
    if (strchr(title, '\n') || strchr(title, '\r'))
      return xml_fail(ps->err, c, "a title must be one line");
    if (*title)
      def->title = g_steal_pointer(&title);
  }
  if ((c = xml_child(root, "description"))) {
    /* kept exactly, blanks and newlines included */
    g_autofree char *text = NULL;
    if ((r = dxml_text_element(c, false, &text, ps->err)) < 0)
      return r;
    if (*text)
      def->description = g_steal_pointer(&text);
  }

  if (!(c = xml_child(root, "memory")))
    return xml_fail(ps->err, root, "a <memory> element is required");
  if ((r = parse_size_kib(ps, c, &def->memory_kib)) < 0)
    return r;
  def->current_memory_kib = def->memory_kib;
  if ((c = xml_child(root, "currentMemory"))) {
    if ((r = parse_size_kib(ps, c, &def->current_memory_kib)) < 0)
      return r;
    if (def->current_memory_kib > def->memory_kib)
      return xml_fail(ps->err, c, "currentMemory (%" G_GUINT64_FORMAT " KiB) is larger than "
                      "memory (%" G_GUINT64_FORMAT " KiB)", def->current_memory_kib,
                      def->memory_kib);
  }
  def->vcpus = def->vcpus_current = 1;
  if ((c = xml_child(root, "vcpu")) && (r = parse_vcpu(ps, c)) < 0)
    return r;

  def->os.type = g_strdup("hvm");
  def->os.arch = g_strdup("x86_64");
  def->os.machine = g_strdup("pc");
  const xmlNode *os = xml_child(root, "os");
  if (os && (r = dxml_parse_os(ps, os)) < 0)
    return r;
  if ((c = xml_child(root, "metadata")) && (r = parse_metadata(ps, c)) < 0)
    return r;
  if ((c = xml_child(root, "pm")) && (r = dxml_parse_xnode(ps, c, &pm_row, NULL, NULL,
                                                           &def->pm)) < 0)
    return r;
  for (c = root->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "seclabel") != 0)
      continue;
    DomainXNode *x = NULL;
    if ((r = dxml_parse_xnode(ps, c, &seclabel_row, NULL, NULL, &x)) < 0)
      return r;
    g_ptr_array_add(def->seclabels, x);
  }
  if ((c = xml_child(root, "features")) && (r = dxml_parse_features(ps, c)) < 0)
    return r;
  if ((c = xml_child(root, "cpu")) && (r = dxml_parse_cpu(ps, c)) < 0)
    return r;
  if ((c = xml_child(root, "clock")) && (r = dxml_parse_clock(ps, c)) < 0)
    return r;
  if ((c = xml_child(root, "on_poweroff")) && (r = parse_lifecycle(ps, c, &def->on_poweroff)) < 0)
    return r;
  if ((c = xml_child(root, "on_reboot")) && (r = parse_lifecycle(ps, c, &def->on_reboot)) < 0)
    return r;
  if ((c = xml_child(root, "on_crash")) && (r = parse_lifecycle(ps, c, &def->on_crash)) < 0)
    return r;

  const xmlNode *devices = xml_child(root, "devices");
  ps->devices = devices ? devices : root;
  if (devices && (r = parse_devices(ps, devices)) < 0)
    return r;
  if ((r = dxml_assign_controller_indexes(ps)) < 0 || (r = dxml_resolve_consoles(ps)) < 0)
    return r;
  dxml_assign_macs(ps);
  dxml_assign_aliases(ps);
  if (!def->memballoon.present) {
    def->memballoon.present = true;
    def->memballoon.model = MEMBALLOON_VIRTIO;
  }
  if (ps->device_boot && def->os.nboot > 0)
    return xml_fail(ps->err, ps->device_boot, "per-device <boot order> cannot be combined with "
                    "<os><boot dev=...>; use one or the other");
  if (!ps->device_boot && def->os.nboot == 0) {
    def->os.boot[0] = DOMAIN_BOOT_HD;
    def->os.nboot = 1;
  }
  return 0;
}

/* What is stored and read back at start-up is the canonical form, which
 * spells out every default and can be several times the size of the input
 * (a bare <video/> becomes three lines): it must fit under the same cap, or
 * an accepted definition would fail to load after a restart. */
static int check_canonical_size(const DomainDef *def, char **err) {
  g_autofree char *canonical = domain_def_format(def, false, -1);
  size_t len = strlen(canonical);
  if (len <= XML_MAX_DOCUMENT_SIZE)
    return 0;
  g_free(*err);
  *err = g_strdup_printf("the definition is %zu bytes once every default is written out; at "
                         "most %d are accepted", len, XML_MAX_DOCUMENT_SIZE);
  return -EFBIG;
}

int domain_def_parse(const char *xml, size_t len, DomainDef **ret_def, char **ret_error) {
  g_autofree char *err = NULL;
  g_autoptr(xmlDoc) doc = NULL;
  int r = xml_parse_safe(xml, len, "domain", &doc, &err);
  if (r >= 0) {
    g_autoptr(DomainDef) def = domain_def_new();
    g_auto(ParseState) ps = {0};
    parse_state_init(&ps, def, &err);
    r = parse_root(&ps, xmlDocGetRootElement(doc));
    if (r >= 0)
      r = check_canonical_size(def, &err);
    if (r >= 0) {
      *ret_def = g_steal_pointer(&def);
      return 0;
    }
  }
  if (ret_error)
    *ret_error = err ? g_steal_pointer(&err) : g_strdup("invalid domain XML");
  return r;
}

void dxml_format_empty(XmlWriter *w, const char *name) {
  xml_writer_start(w, name);
  xml_writer_end_empty(w);
}

static guint len_of(const GPtrArray *a) {
  return a ? a->len : 0;
}

/* The table-driven devices of one kind, at libvirt's place for that kind. */
static void format_xdevices(XmlWriter *w, const DomainDef *def, const char *kind) {
  for (guint i = 0; i < len_of(def->xdevices); i++) {
    const DomainXNode *x = g_ptr_array_index(def->xdevices, i);
    if (strcmp(x->name, kind) == 0)
      dxml_format_xnode(w, x);
  }
}

static void format_devices(XmlWriter *w, const DomainDef *def, bool live) {
  guint total = len_of(def->disks) + len_of(def->controllers) + len_of(def->interfaces) +
                len_of(def->serials) + len_of(def->consoles) + len_of(def->inputs) +
                len_of(def->graphics) + len_of(def->audios) + len_of(def->videos) +
                len_of(def->rngs) + len_of(def->xdevices);
  if (!def->emulator && !def->memballoon.present && total == 0)
    return;
  xml_writer_start(w, "devices");
  xml_writer_end_open(w);
  xml_writer_text_element(w, "emulator", def->emulator);
  for (guint i = 0; i < len_of(def->disks); i++)
    dxml_format_disk(w, g_ptr_array_index(def->disks, i));
  for (guint i = 0; i < len_of(def->controllers); i++)
    dxml_format_controller(w, g_ptr_array_index(def->controllers, i));
  for (guint i = 0; i < len_of(def->interfaces); i++)
    dxml_format_interface(w, g_ptr_array_index(def->interfaces, i), live);
  for (guint i = 0; i < len_of(def->serials); i++) {
    const DomainChardev *s = g_ptr_array_index(def->serials, i);
    dxml_format_chardev(w, "serial", s, s->target_type ? s->target_type : "isa-serial",
                        s->target_port, &s->address, live);
  }
  for (guint i = 0; i < len_of(def->consoles); i++) {
    const DomainChardev *c = g_ptr_array_index(def->consoles, i);
    const char *ttype = c->target_type ? c->target_type : "serial";
    if (strcmp(ttype, "serial") == 0 && i == 0 && len_of(def->serials) > 0) {
      const DomainChardev *s0 = g_ptr_array_index(def->serials, 0);
      dxml_format_chardev(w, "console", s0, "serial", s0->target_port, NULL, live);
    } else {
      dxml_format_chardev(w, "console", c, ttype, c->target_port, NULL, live);
    }
  }
  format_xdevices(w, def, "channel");
  for (guint i = 0; i < len_of(def->inputs); i++)
    dxml_format_input(w, g_ptr_array_index(def->inputs, i));
  format_xdevices(w, def, "tpm");
  for (guint i = 0; i < len_of(def->graphics); i++)
    dxml_format_graphics(w, g_ptr_array_index(def->graphics, i));
  format_xdevices(w, def, "sound");
  for (guint i = 0; i < len_of(def->audios); i++) {
    const DomainAudio *a = g_ptr_array_index(def->audios, i);
    xml_writer_start(w, "audio");
    xml_writer_attr_printf(w, "id", "%u", a->id);
    xml_writer_attr(w, "type", a->spice ? "spice" : "none");
    xml_writer_end_empty(w);
  }
  for (guint i = 0; i < len_of(def->videos); i++)
    dxml_format_video(w, g_ptr_array_index(def->videos, i));
  format_xdevices(w, def, "redirdev");
  format_xdevices(w, def, "watchdog");
  dxml_format_memballoon(w, &def->memballoon);
  for (guint i = 0; i < len_of(def->rngs); i++)
    dxml_format_rng(w, g_ptr_array_index(def->rngs, i));
  format_xdevices(w, def, "panic");
  xml_writer_close(w);
}

static void format_memory(XmlWriter *w, const char *name, uint64_t kib) {
  xml_writer_start(w, name);
  xml_writer_attr(w, "unit", "KiB");
  g_autofree char *text = g_strdup_printf("%" G_GUINT64_FORMAT, kib);
  xml_writer_end_text(w, text);
}

static void format_lifecycle(XmlWriter *w, const char *name, DomainLifecycleAction a) {
  xml_writer_text_element(w, name, domain_lifecycle_action_to_string(a));
}

char *domain_def_format(const DomainDef *def, bool live, int id) {
  g_autoptr(XmlWriter) w = xml_writer_new();
  xml_writer_start(w, "domain");
  xml_writer_attr(w, "type", domain_virt_type_to_string(def->virt_type));
  if (live && id >= 0)
    xml_writer_attr_printf(w, "id", "%d", id);
  xml_writer_end_open(w);
  xml_writer_text_element(w, "name", def->name);
  if (def->uuid[0])
    xml_writer_text_element(w, "uuid", def->uuid);
  xml_writer_text_element(w, "title", def->title);
  xml_writer_text_element(w, "description", def->description);
  if (def->metadata)
    xml_writer_raw(w, def->metadata);
  format_memory(w, "memory", def->memory_kib);
  format_memory(w, "currentMemory", def->current_memory_kib);
  xml_writer_start(w, "vcpu");
  xml_writer_attr(w, "placement", def->vcpu_placement_auto ? "auto" : "static");
  if (def->vcpu_cpuset)
    xml_writer_attr(w, "cpuset", def->vcpu_cpuset);
  if (def->vcpus_current && def->vcpus_current < def->vcpus)
    xml_writer_attr_printf(w, "current", "%u", def->vcpus_current);
  g_autofree char *vcpus = g_strdup_printf("%u", def->vcpus);
  xml_writer_end_text(w, vcpus);
  dxml_format_ext_children(w, def->root_ext);
  dxml_format_os(w, &def->os);
  dxml_format_features(w, &def->features);
  dxml_format_cpu(w, &def->cpu);
  dxml_format_clock(w, def);
  format_lifecycle(w, "on_poweroff", def->on_poweroff);
  format_lifecycle(w, "on_reboot", def->on_reboot);
  format_lifecycle(w, "on_crash", def->on_crash);
  if (def->pm)
    dxml_format_xnode(w, def->pm);
  format_devices(w, def, live);
  for (guint i = 0; i < def->seclabels->len; i++)
    dxml_format_xnode(w, def->seclabels->pdata[i]);
  xml_writer_close(w);
  return xml_writer_finish(g_steal_pointer(&w));
}
