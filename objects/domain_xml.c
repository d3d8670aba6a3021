/* domain_xml.c — libvirt domain XML ⇄ DomainDef, pure (no I/O, no mutable
 * globals; libxml2 only through xml_util and here).
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
 *    hd→ide, sd→scsi. A volume disk needs pool and volume, even a cdrom.
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

#include <arpa/inet.h>
#include <errno.h>
#include <libxml/tree.h>
#include <string.h>

#include "objects/names.h"
#include "objects/values.h"
#include "objects/xml_util.h"

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE_LIST ((const char *const[]){NULL})
#define PATH_MAX_BYTES 4096

/* ---- small parsing helpers ---- */

/* "'a', 'b', 'c'" from an enum table, starting at index `first`. */
#define DEFINE_CHOICES(name, type, first)                                             \
  static char *name##_choices(void) {                                                 \
    GString *s = g_string_new(NULL);                                                  \
    for (int i = (first); name##_to_string((type)i); i++)                             \
      g_string_append_printf(s, "%s'%s'", i > (first) ? ", " : "",                    \
                             name##_to_string((type)i));                              \
    return g_string_free(s, FALSE);                                                   \
  }

DEFINE_CHOICES(domain_virt_type, DomainVirtType, 0)
DEFINE_CHOICES(domain_lifecycle_action, DomainLifecycleAction, 0)
DEFINE_CHOICES(device_address_type, DeviceAddressType, 1)
DEFINE_CHOICES(domain_boot_dev, DomainBootDev, 0)
DEFINE_CHOICES(domain_cpu_mode, DomainCpuMode, 1)
DEFINE_CHOICES(domain_clock_offset, DomainClockOffset, 0)
DEFINE_CHOICES(disk_type, DiskType, 0)
DEFINE_CHOICES(disk_device, DiskDevice, 0)
DEFINE_CHOICES(disk_format, DiskFormat, 0)
DEFINE_CHOICES(disk_bus, DiskBus, 0)
DEFINE_CHOICES(controller_type, ControllerType, 0)
DEFINE_CHOICES(interface_type, InterfaceType, 0)
DEFINE_CHOICES(chardev_type, ChardevType, 0)
DEFINE_CHOICES(video_model, VideoModel, 0)
DEFINE_CHOICES(input_type, InputType, 0)
DEFINE_CHOICES(input_bus, InputBus, 0)
DEFINE_CHOICES(memballoon_model, MemballoonModel, 0)

static int bad_choice(char **err, const xmlNode *node, const char *what, const char *value,
                      char *choices) {
  g_autofree char *c = choices;
  return xml_fail(err, node, "%s must be one of %s, not '%s'", what, c, value);
}

/* Converts `value` with the table `name`, or fails with a sentence listing
 * the accepted names. `what` is "attribute 'bus'" or "the text". */
#define PARSE_ENUM(name, node, what, value, ret_out, err)                               \
  (name##_from_string((value), (ret_out)) == 0                                         \
       ? 0                                                                             \
       : bad_choice((err), (node), (what), (value), name##_choices()))

static char *choices_of(const char *const *list) {
  GString *s = g_string_new(NULL);
  for (size_t i = 0; list[i]; i++)
    g_string_append_printf(s, "%s'%s'", i ? ", " : "", list[i]);
  return g_string_free(s, FALSE);
}

static bool in_list(const char *value, const char *const *list) {
  for (; *list; list++)
    if (strcmp(value, *list) == 0)
      return true;
  return false;
}

static int require_prop(const xmlNode *n, const char *attr, char **ret, char **err) {
  char *v = xml_prop(n, attr);
  if (!v)
    return xml_fail(err, n, "attribute '%s' is required", attr);
  *ret = v;
  return 0;
}

/* The text of an element that may hold only text (and comments). */
static int leaf_text(const xmlNode *n, bool strip, char **ret, char **err) {
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
static int text_element(const xmlNode *n, bool strip, char **ret, char **err) {
  int r = xml_check_attrs(n, NONE_LIST, err);
  if (r < 0)
    return r;
  return leaf_text(n, strip, ret, err);
}

/* An element with at most the listed attributes and no content. */
static int empty_element(const xmlNode *n, const char *const *attrs, char **err) {
  int r = xml_check_attrs(n, attrs, err);
  if (r < 0)
    return r;
  return xml_check_children(n, NONE_LIST, NULL, err);
}

static bool has_control(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      return true;
  return false;
}

static int check_path(const xmlNode *n, const char *what, const char *path, char **err) {
  if (path[0] != '/')
    return xml_fail(err, n, "%s must be an absolute path, not '%s'", what, path);
  if (strlen(path) > PATH_MAX_BYTES)
    return xml_fail(err, n, "%s is longer than %d bytes", what, PATH_MAX_BYTES);
  if (has_control(path))
    return xml_fail(err, n, "%s must not contain control characters", what);
  return 0;
}

/* Names that end up inside QEMU options (machine, CPU model): a conservative
 * character set keeps them from carrying option syntax. */
static int check_token(const xmlNode *n, const char *what, const char *value, char **err) {
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
static int check_ifname(const xmlNode *n, const char *what, const char *value, char **err) {
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

static int check_object_name(const xmlNode *n, const char *what, const char *value, char **err) {
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

/* "52:54:00:AB:cd:ef" → lowercase; multicast addresses are refused as libvirt
 * refuses them (a NIC cannot own one). */
static int mac_canonical(const xmlNode *n, const char *text, char out[18], char **err) {
  unsigned b[6];
  if (strlen(text) != 17)
    return xml_fail(err, n, "'%s' is not a MAC address", text);
  for (int i = 0; i < 6; i++) {
    const char *p = text + i * 3;
    if (!g_ascii_isxdigit(p[0]) || !g_ascii_isxdigit(p[1]) || (i < 5 && p[2] != ':'))
      return xml_fail(err, n, "'%s' is not a MAC address", text);
    b[i] = (unsigned)(g_ascii_xdigit_value(p[0]) * 16 + g_ascii_xdigit_value(p[1]));
  }
  if (b[0] & 1)
    return xml_fail(err, n, "MAC address '%s' is multicast; a NIC needs a unicast address", text);
  if ((b[0] | b[1] | b[2] | b[3] | b[4] | b[5]) == 0)
    return xml_fail(err, n, "MAC address '%s' is all zeros", text);
  g_snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
  return 0;
}

static bool is_ip_address(const char *s) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* ---- parse state: cross-device checks that need to remember nodes ---- */

typedef struct {
  DomainDef *def;
  char **err;
  GHashTable *disk_targets;   /* target dev → node */
  GHashTable *macs;           /* mac → node */
  GHashTable *boot_orders;    /* GUINT_TO_POINTER(order) → node */
  GHashTable *pci_addrs;      /* "dddd:bb:ss.f" → node */
  GHashTable *drive_addrs;    /* "bus/c:b:t:u" → node */
  GHashTable *controllers;    /* "type/index" → node */
  GHashTable *audio_ids;      /* GUINT_TO_POINTER(id) → node */
  const xmlNode *device_boot; /* first per-device <boot order> */
  const xmlNode *graphics;    /* the <graphics>, at most one */
  const xmlNode *video_none;  /* a <video><model type='none'/> */
  const xmlNode *devices;     /* <devices>, or the root when absent */
  /* parallel to def->controllers / serials / consoles: the nodes, and
   * whether index/port was written */
  GPtrArray *controller_nodes;
  GArray *controller_index_set;
  GPtrArray *serial_nodes;
  GArray *serial_port_set;
  GPtrArray *console_nodes;
  GArray *console_port_set;
  GArray *console_source_set;
} ParseState;

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
static int claim(ParseState *ps, GHashTable *table, char *key_owned, const xmlNode *n,
                 const char *what) {
  g_autofree char *key = key_owned;
  const xmlNode *prev = g_hash_table_lookup(table, key);
  if (prev)
    return xml_fail(ps->err, n, "%s is already used on line %ld", what, xmlGetLineNo(prev));
  g_hash_table_insert(table, g_steal_pointer(&key), (gpointer)n);
  return 0;
}

/* ---- <address> ---- */

#define ADDR_PCI (1u << DEVICE_ADDRESS_PCI)
#define ADDR_DRIVE (1u << DEVICE_ADDRESS_DRIVE)
#define ADDR_ISA (1u << DEVICE_ADDRESS_ISA)

static int prop_u(const xmlNode *n, const char *attr, uint64_t max, unsigned *ret, bool *ret_set,
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

/* Parses the optional <address> child of `dev`. `allowed` is a mask of
 * ADDR_*; `hint` completes the sentence when the type is not allowed. */
static int parse_address(ParseState *ps, const xmlNode *dev, unsigned allowed, const char *hint,
                         DeviceAddress *ret) {
  const xmlNode *n = xml_child(dev, "address");
  DeviceAddress a = {.type = DEVICE_ADDRESS_NONE};
  int r;
  if (!n) {
    *ret = a;
    return 0;
  }
  g_autofree char *type = NULL;
  if ((r = require_prop(n, "type", &type, ps->err)) < 0)
    return r;
  if ((r = PARSE_ENUM(device_address_type, n, "attribute 'type'", type, &a.type, ps->err)) < 0)
    return r;
  if (a.type == DEVICE_ADDRESS_NONE)
    return bad_choice(ps->err, n, "attribute 'type'", type, device_address_type_choices());
  if (!(allowed & (1u << a.type)))
    return xml_fail(ps->err, n, "address type '%s' is not supported on <%s>%s", type,
                    (const char *)dev->name, hint);
  switch (a.type) {
  case DEVICE_ADDRESS_PCI:
    if ((r = xml_check_attrs(n, LIST("type", "domain", "bus", "slot", "function",
                                     "multifunction"), ps->err)) < 0 ||
        (r = prop_u(n, "domain", 0xffff, &a.domain, NULL, ps->err)) < 0 ||
        (r = prop_u(n, "bus", 0xff, &a.bus, NULL, ps->err)) < 0 ||
        (r = prop_u(n, "slot", 0x1f, &a.slot, NULL, ps->err)) < 0 ||
        (r = prop_u(n, "function", 7, &a.function, NULL, ps->err)) < 0 ||
        (r = xml_prop_yesno(n, "multifunction", &a.multifunction, NULL, ps->err)) < 0)
      return r;
    if (a.bus == 0 && a.slot == 0)
      return xml_fail(ps->err, n, "PCI slot 0 of bus 0 belongs to the host bridge");
    if ((r = claim(ps, ps->pci_addrs,
                   g_strdup_printf("%04x:%02x:%02x.%x", a.domain, a.bus, a.slot, a.function), n,
                   "this PCI address")) < 0)
      return r;
    break;
  case DEVICE_ADDRESS_DRIVE:
    if ((r = xml_check_attrs(n, LIST("type", "controller", "bus", "target", "unit"),
                             ps->err)) < 0 ||
        (r = prop_u(n, "controller", 255, &a.controller, NULL, ps->err)) < 0 ||
        (r = prop_u(n, "bus", 255, &a.drive_bus, NULL, ps->err)) < 0 ||
        (r = prop_u(n, "target", 255, &a.target, NULL, ps->err)) < 0 ||
        (r = prop_u(n, "unit", 16383, &a.unit, NULL, ps->err)) < 0)
      return r;
    break;
  case DEVICE_ADDRESS_ISA:
    if ((r = xml_check_attrs(n, LIST("type", "iobase", "irq"), ps->err)) < 0 ||
        (r = prop_u(n, "iobase", 0xffff, &a.iobase, &a.iobase_set, ps->err)) < 0 ||
        (r = prop_u(n, "irq", 15, &a.irq, &a.irq_set, ps->err)) < 0)
      return r;
    break;
  case DEVICE_ADDRESS_NONE:
    break;
  }
  if ((r = xml_check_children(n, NONE_LIST, NULL, ps->err)) < 0)
    return r;
  *ret = a;
  return 0;
}

/* <boot order='N'/> on a disk or interface. */
static int parse_boot_order(ParseState *ps, const xmlNode *dev, unsigned *ret) {
  const xmlNode *n = xml_child(dev, "boot");
  int r;
  if (!n)
    return 0;
  if ((r = empty_element(n, LIST("order"), ps->err)) < 0)
    return r;
  unsigned order = 0;
  bool set = false;
  if ((r = prop_u(n, "order", 65535, &order, &set, ps->err)) < 0)
    return r;
  if (!set)
    return xml_fail(ps->err, n, "attribute 'order' is required");
  if (order == 0)
    return xml_fail(ps->err, n, "attribute 'order' must be at least 1");
  const xmlNode *prev = g_hash_table_lookup(ps->boot_orders, GUINT_TO_POINTER(order));
  if (prev)
    return xml_fail(ps->err, n, "boot order %u is already used on line %ld", order,
                    xmlGetLineNo(prev));
  g_hash_table_insert(ps->boot_orders, GUINT_TO_POINTER(order), (gpointer)n);
  if (!ps->device_boot)
    ps->device_boot = n;
  *ret = order;
  return 0;
}

/* ---- general elements ---- */

static int parse_size_kib(ParseState *ps, const xmlNode *n, uint64_t *ret_kib) {
  int r;
  if ((r = xml_check_attrs(n, LIST("unit"), ps->err)) < 0)
    return r;
  g_autofree char *unit = xml_prop(n, "unit");
  g_autofree char *text = NULL;
  if ((r = leaf_text(n, true, &text, ps->err)) < 0)
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
  if ((r = xml_check_attrs(n, LIST("placement", "current"), ps->err)) < 0)
    return r;
  g_autofree char *text = NULL;
  if ((r = leaf_text(n, true, &text, ps->err)) < 0)
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

static int parse_os(ParseState *ps, const xmlNode *n) {
  DomainOs *os = &ps->def->os;
  int r;
  if ((r = xml_check_attrs(n, NONE_LIST, ps->err)) < 0 ||
      (r = xml_check_children(n, LIST("type", "boot", "bootmenu", "kernel", "initrd", "cmdline"),
                              LIST("type", "bootmenu", "kernel", "initrd", "cmdline"),
                              ps->err)) < 0)
    return r;
  for (const xmlNode *c = n->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    const char *name = (const char *)c->name;
    if (strcmp(name, "type") == 0) {
      if ((r = xml_check_attrs(c, LIST("arch", "machine"), ps->err)) < 0)
        return r;
      g_autofree char *type = NULL;
      if ((r = leaf_text(c, true, &type, ps->err)) < 0)
        return r;
      if (strcmp(type, "hvm") != 0)
        return xml_fail(ps->err, c, "the OS type must be 'hvm', not '%s'", type);
      g_autofree char *arch = xml_prop(c, "arch");
      if (arch && !in_list(arch, LIST("x86_64", "i686")))
        return xml_fail(ps->err, c, "attribute 'arch' must be 'x86_64' or 'i686', not '%s'",
                        arch);
      g_autofree char *machine = xml_prop(c, "machine");
      if (machine && (r = check_token(c, "attribute 'machine'", machine, ps->err)) < 0)
        return r;
      if (arch) {
        g_free(os->arch);
        os->arch = g_steal_pointer(&arch);
      }
      if (machine) {
        g_free(os->machine);
        os->machine = g_steal_pointer(&machine);
      }
    } else if (strcmp(name, "boot") == 0) {
      if ((r = empty_element(c, LIST("dev"), ps->err)) < 0)
        return r;
      g_autofree char *dev = NULL;
      DomainBootDev b;
      if ((r = require_prop(c, "dev", &dev, ps->err)) < 0 ||
          (r = PARSE_ENUM(domain_boot_dev, c, "attribute 'dev'", dev, &b, ps->err)) < 0)
        return r;
      for (size_t i = 0; i < os->nboot; i++)
        if (os->boot[i] == b)
          return xml_fail(ps->err, c, "boot device '%s' is listed twice", dev);
      /* four names, no repeats: the array cannot overflow */
      os->boot[os->nboot++] = b;
    } else if (strcmp(name, "bootmenu") == 0) {
      if ((r = empty_element(c, LIST("enable"), ps->err)) < 0)
        return r;
      bool present = false;
      if ((r = xml_prop_yesno(c, "enable", &os->bootmenu, &present, ps->err)) < 0)
        return r;
      if (!present)
        return xml_fail(ps->err, c, "attribute 'enable' is required");
      os->bootmenu_set = true;
    } else {
      /* kernel, initrd, cmdline */
      g_autofree char *text = NULL;
      if ((r = text_element(c, true, &text, ps->err)) < 0)
        return r;
      if (!*text)
        continue;
      if (strcmp(name, "cmdline") == 0) {
        if (has_control(text))
          return xml_fail(ps->err, c, "the kernel command line must be one line");
        os->cmdline = g_steal_pointer(&text);
        continue;
      }
      if ((r = check_path(c, name, text, ps->err)) < 0)
        return r;
      if (strcmp(name, "kernel") == 0)
        os->kernel = g_steal_pointer(&text);
      else
        os->initrd = g_steal_pointer(&text);
    }
  }
  if ((os->initrd || os->cmdline) && !os->kernel)
    return xml_fail(ps->err, n, "<initrd> and <cmdline> need a <kernel>");
  return 0;
}

static int parse_features(ParseState *ps, const xmlNode *n) {
  int r;
  if ((r = xml_check_attrs(n, NONE_LIST, ps->err)) < 0 ||
      (r = xml_check_children(n, LIST("acpi", "apic", "pae"), LIST("acpi", "apic", "pae"),
                              ps->err)) < 0)
    return r;
  for (const xmlNode *c = n->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    if ((r = empty_element(c, NONE_LIST, ps->err)) < 0)
      return r;
    const char *name = (const char *)c->name;
    if (strcmp(name, "acpi") == 0)
      ps->def->features.acpi = true;
    else if (strcmp(name, "apic") == 0)
      ps->def->features.apic = true;
    else
      ps->def->features.pae = true;
  }
  return 0;
}

static int parse_cpu(ParseState *ps, const xmlNode *n) {
  DomainCpu *cpu = &ps->def->cpu;
  int r;
  if ((r = xml_check_attrs(n, LIST("mode"), ps->err)) < 0 ||
      (r = xml_check_children(n, LIST("model", "topology"), LIST("model", "topology"),
                              ps->err)) < 0)
    return r;
  cpu->mode = DOMAIN_CPU_MODE_CUSTOM;
  g_autofree char *mode = xml_prop(n, "mode");
  if (mode) {
    if ((r = PARSE_ENUM(domain_cpu_mode, n, "attribute 'mode'", mode, &cpu->mode, ps->err)) < 0)
      return r;
    if (cpu->mode == DOMAIN_CPU_MODE_NONE)
      return bad_choice(ps->err, n, "attribute 'mode'", mode, domain_cpu_mode_choices());
  }
  const xmlNode *model = xml_child(n, "model");
  if (model) {
    if (cpu->mode != DOMAIN_CPU_MODE_CUSTOM)
      return xml_fail(ps->err, model, "a CPU model is only used with mode='custom', not '%s'",
                      domain_cpu_mode_to_string(cpu->mode));
    g_autofree char *text = NULL;
    if ((r = text_element(model, true, &text, ps->err)) < 0 ||
        (r = check_token(model, "the CPU model", text, ps->err)) < 0)
      return r;
    cpu->model = g_steal_pointer(&text);
  }
  const xmlNode *topo = xml_child(n, "topology");
  if (topo) {
    if ((r = empty_element(topo, LIST("sockets", "dies", "cores", "threads"), ps->err)) < 0)
      return r;
    static const char *const names[] = {"sockets", "dies", "cores", "threads"};
    unsigned *fields[] = {&cpu->sockets, &cpu->dies, &cpu->cores, &cpu->threads};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
      bool set = false;
      if ((r = prop_u(topo, names[i], DOMAIN_MAX_VCPUS, fields[i], &set, ps->err)) < 0)
        return r;
      if (!set && i == 1)
        *fields[i] = 1; /* dies are optional, as in libvirt */
      else if (!set)
        return xml_fail(ps->err, topo, "attribute '%s' is required", names[i]);
      if (*fields[i] == 0)
        return xml_fail(ps->err, topo, "attribute '%s' must be at least 1", names[i]);
    }
    uint64_t total = (uint64_t)cpu->sockets * cpu->dies * cpu->cores * cpu->threads;
    if (total != ps->def->vcpus)
      return xml_fail(ps->err, topo, "the topology gives %" G_GUINT64_FORMAT " vCPUs but "
                      "<vcpu> says %u", total, ps->def->vcpus);
  }
  return 0;
}

static int parse_clock(ParseState *ps, const xmlNode *n) {
  int r;
  if ((r = empty_element(n, LIST("offset"), ps->err)) < 0)
    return r;
  g_autofree char *offset = xml_prop(n, "offset");
  if (offset)
    return PARSE_ENUM(domain_clock_offset, n, "attribute 'offset'", offset, &ps->def->clock,
                      ps->err);
  return 0;
}

static int parse_lifecycle(ParseState *ps, const xmlNode *n, DomainLifecycleAction *ret) {
  g_autofree char *text = NULL;
  int r = text_element(n, true, &text, ps->err);
  if (r < 0)
    return r;
  return PARSE_ENUM(domain_lifecycle_action, n, "the action", text, ret, ps->err);
}

/* ---- devices ---- */

/* Infers the bus from the target dev like libvirt: vd → virtio, hd → ide,
 * sd → scsi. */
static bool disk_bus_from_dev(const char *dev, DiskBus *ret) {
  if (g_str_has_prefix(dev, "vd"))
    *ret = DISK_BUS_VIRTIO;
  else if (g_str_has_prefix(dev, "hd"))
    *ret = DISK_BUS_IDE;
  else if (g_str_has_prefix(dev, "sd"))
    *ret = DISK_BUS_SCSI;
  else
    return false;
  return true;
}

static int parse_disk_source(ParseState *ps, const xmlNode *n, DomainDisk *d) {
  int r;
  if ((r = xml_check_children(n, NONE_LIST, NULL, ps->err)) < 0)
    return r;
  switch (d->type) {
  case DISK_TYPE_FILE:
  case DISK_TYPE_BLOCK: {
    const char *attr = d->type == DISK_TYPE_FILE ? "file" : "dev";
    if ((r = xml_check_attrs(n, (const char *const[]){attr, NULL}, ps->err)) < 0)
      return r;
    g_autofree char *path = xml_prop(n, attr);
    if (!path || !*path)
      return 0; /* <source/>: an empty drive, as libvirt reads it */
    g_autofree char *what = g_strdup_printf("attribute '%s'", attr);
    if ((r = check_path(n, what, path, ps->err)) < 0)
      return r;
    d->source = g_steal_pointer(&path);
    return 0;
  }
  case DISK_TYPE_VOLUME:
    if ((r = xml_check_attrs(n, LIST("pool", "volume"), ps->err)) < 0)
      return r;
    d->source_pool = xml_prop(n, "pool");
    d->source_volume = xml_prop(n, "volume");
    if (d->source_pool &&
        (r = check_object_name(n, "the pool name", d->source_pool, ps->err)) < 0)
      return r;
    if (d->source_volume &&
        (r = check_object_name(n, "the volume name", d->source_volume, ps->err)) < 0)
      return r;
    return 0;
  }
  return 0;
}

static int check_serial_text(ParseState *ps, const xmlNode *n, const char *s) {
  size_t len = strlen(s);
  if (len == 0 || len > 20)
    return xml_fail(ps->err, n, "a disk serial must be 1 to 20 characters long");
  for (const char *p = s; *p; p++)
    if (!g_ascii_isalnum(*p) && !strchr("_ .+-", *p))
      return xml_fail(ps->err, n, "a disk serial may contain only letters, digits, "
                      "' ', '_', '.', '+' and '-'");
  return 0;
}

static int parse_disk(ParseState *ps, const xmlNode *n) {
  static const char *const children[] = {"driver", "source", "target", "readonly", "shareable",
                                         "serial", "boot", "address", NULL};
  int r;
  if ((r = xml_check_attrs(n, LIST("type", "device", "snapshot"), ps->err)) < 0 ||
      (r = xml_check_children(n, children, children, ps->err)) < 0)
    return r;
  g_autoptr(DomainDisk) d = g_new0(DomainDisk, 1);
  g_autofree char *snapshot = xml_prop(n, "snapshot");
  if (snapshot && strcmp(snapshot, "no") != 0 && strcmp(snapshot, "internal") != 0)
    return xml_fail(ps->err, n, "attribute 'snapshot' must be 'no' or 'internal', not '%s'",
                    snapshot);
  d->snapshot_excluded = g_strcmp0(snapshot, "no") == 0;
  g_autofree char *type = xml_prop(n, "type");
  g_autofree char *device = xml_prop(n, "device");
  if (type && (r = PARSE_ENUM(disk_type, n, "attribute 'type'", type, &d->type, ps->err)) < 0)
    return r;
  if (device &&
      (r = PARSE_ENUM(disk_device, n, "attribute 'device'", device, &d->device, ps->err)) < 0)
    return r;

  const xmlNode *driver = xml_child(n, "driver");
  if (driver) {
    if ((r = empty_element(driver, LIST("name", "type"), ps->err)) < 0)
      return r;
    g_autofree char *dname = xml_prop(driver, "name");
    if (dname && strcmp(dname, "qemu") != 0)
      return xml_fail(ps->err, driver, "attribute 'name' must be 'qemu', not '%s'", dname);
    g_autofree char *format = xml_prop(driver, "type");
    if (format &&
        (r = PARSE_ENUM(disk_format, driver, "attribute 'type'", format, &d->format,
                        ps->err)) < 0)
      return r;
  }

  const xmlNode *source = xml_child(n, "source");
  if (source && (r = parse_disk_source(ps, source, d)) < 0)
    return r;
  if (d->type == DISK_TYPE_VOLUME && (!d->source_pool || !d->source_volume))
    return xml_fail(ps->err, source ? source : n,
                    "a disk of type 'volume' needs <source pool='...' volume='...'/>");
  if (d->type != DISK_TYPE_VOLUME && !d->source && d->device == DISK_DEVICE_DISK)
    return xml_fail(ps->err, n, "a disk needs a <source>; only a cdrom may be empty");

  const xmlNode *target = xml_child(n, "target");
  if (!target)
    return xml_fail(ps->err, n, "a <target dev='...'/> element is required");
  if ((r = empty_element(target, LIST("dev", "bus"), ps->err)) < 0 ||
      (r = require_prop(target, "dev", &d->target_dev, ps->err)) < 0)
    return r;
  size_t dlen = strlen(d->target_dev);
  bool dev_ok = dlen >= 3 && dlen <= 32 && g_ascii_islower(d->target_dev[0]);
  for (const char *p = d->target_dev; dev_ok && *p; p++)
    dev_ok = g_ascii_islower(*p) || g_ascii_isdigit(*p);
  if (!dev_ok)
    return xml_fail(ps->err, target, "target dev '%s' must be a name such as 'vda', 'hdc' or "
                    "'sda'", d->target_dev);
  g_autofree char *bus = xml_prop(target, "bus");
  if (bus) {
    if ((r = PARSE_ENUM(disk_bus, target, "attribute 'bus'", bus, &d->target_bus, ps->err)) < 0)
      return r;
  } else if (!disk_bus_from_dev(d->target_dev, &d->target_bus)) {
    return xml_fail(ps->err, target, "cannot infer the bus of target dev '%s'; add bus='...'",
                    d->target_dev);
  }
  if (d->device == DISK_DEVICE_CDROM && d->target_bus == DISK_BUS_VIRTIO)
    return xml_fail(ps->err, target, "a cdrom cannot be on the virtio bus (virtio-blk has no "
                    "removable media); use sata, ide or scsi");
  g_autofree char *what = g_strdup_printf("target dev '%s'", d->target_dev);
  if ((r = claim(ps, ps->disk_targets, g_strdup(d->target_dev), target, what)) < 0)
    return r;

  const xmlNode *c;
  if ((c = xml_child(n, "readonly"))) {
    if ((r = empty_element(c, NONE_LIST, ps->err)) < 0)
      return r;
    d->readonly = true;
  }
  if ((c = xml_child(n, "shareable"))) {
    if ((r = empty_element(c, NONE_LIST, ps->err)) < 0)
      return r;
    d->shareable = true;
  }
  if ((c = xml_child(n, "serial"))) {
    g_autofree char *serial = NULL;
    if ((r = text_element(c, true, &serial, ps->err)) < 0 ||
        (r = check_serial_text(ps, c, serial)) < 0)
      return r;
    d->serial = g_steal_pointer(&serial);
  }
  if ((r = parse_boot_order(ps, n, &d->boot_order)) < 0)
    return r;
  bool virtio = d->target_bus == DISK_BUS_VIRTIO;
  if ((r = parse_address(ps, n, virtio ? ADDR_PCI : ADDR_DRIVE,
                         virtio ? " with bus 'virtio' (use type='pci')"
                                : " with this bus (use type='drive')",
                         &d->address)) < 0)
    return r;
  if (d->address.type == DEVICE_ADDRESS_DRIVE) {
    const DeviceAddress *a = &d->address;
    const xmlNode *an = xml_child(n, "address");
    if (d->target_bus == DISK_BUS_IDE && (a->drive_bus > 1 || a->target != 0 || a->unit > 1))
      return xml_fail(ps->err, an, "an IDE drive address has bus 0-1, target 0 and unit 0-1");
    if (d->target_bus == DISK_BUS_SATA && (a->drive_bus != 0 || a->target != 0 || a->unit > 5))
      return xml_fail(ps->err, an, "a SATA drive address has bus 0, target 0 and unit 0-5");
    if (d->target_bus == DISK_BUS_SCSI && a->drive_bus != 0)
      return xml_fail(ps->err, an, "a SCSI drive address has bus 0");
    if ((r = claim(ps, ps->drive_addrs,
                   g_strdup_printf("%s/%u:%u:%u:%u", disk_bus_to_string(d->target_bus),
                                   a->controller, a->drive_bus, a->target, a->unit),
                   an, "this drive address")) < 0)
      return r;
  }
  g_ptr_array_add(ps->def->disks, g_steal_pointer(&d));
  return 0;
}

static const char *const *controller_models(ControllerType type) {
  static const char *const usb[] = {"piix3-uhci", "piix4-uhci", "ehci", "ich9-ehci1",
                                    "pci-ohci", "nec-xhci", "qemu-xhci", "none", NULL};
  static const char *const ide[] = {"piix3", "piix4", "ich6", NULL};
  static const char *const pci[] = {"pci-root", "pcie-root", "pci-bridge", "dmi-to-pci-bridge",
                                    "pcie-root-port", "pcie-switch-upstream-port",
                                    "pcie-switch-downstream-port", "pcie-to-pci-bridge",
                                    "pci-expander-bus", "pcie-expander-bus", NULL};
  static const char *const scsi[] = {"virtio-scsi", "lsilogic", "lsisas1068", "lsisas1078", NULL};
  static const char *const vserial[] = {"virtio", "virtio-transitional",
                                        "virtio-non-transitional", NULL};
  static const char *const sata[] = {NULL};
  switch (type) {
  case CONTROLLER_USB: return usb;
  case CONTROLLER_IDE: return ide;
  case CONTROLLER_PCI: return pci;
  case CONTROLLER_SCSI: return scsi;
  case CONTROLLER_VIRTIO_SERIAL: return vserial;
  case CONTROLLER_SATA: break;
  }
  return sata;
}

static int parse_controller(ParseState *ps, const xmlNode *n) {
  int r;
  if ((r = xml_check_attrs(n, LIST("type", "index", "model"), ps->err)) < 0 ||
      (r = xml_check_children(n, LIST("address"), LIST("address"), ps->err)) < 0)
    return r;
  g_autoptr(DomainController) c = g_new0(DomainController, 1);
  g_autofree char *type = NULL;
  if ((r = require_prop(n, "type", &type, ps->err)) < 0 ||
      (r = PARSE_ENUM(controller_type, n, "attribute 'type'", type, &c->type, ps->err)) < 0)
    return r;
  bool index_set = false;
  if ((r = prop_u(n, "index", 255, &c->index, &index_set, ps->err)) < 0)
    return r;
  c->model = xml_prop(n, "model");
  const char *const *models = controller_models(c->type);
  if (c->model && !in_list(c->model, models)) {
    if (!models[0])
      return xml_fail(ps->err, n, "a %s controller has no models; remove attribute 'model'",
                      type);
    g_autofree char *choices = choices_of(models);
    return xml_fail(ps->err, n, "attribute 'model' of a %s controller must be one of %s, "
                    "not '%s'", type, choices, c->model);
  }
  bool root = false;
  if (c->type == CONTROLLER_PCI) {
    if (!c->model)
      return xml_fail(ps->err, n, "a pci controller needs attribute 'model'");
    root = strcmp(c->model, "pci-root") == 0 || strcmp(c->model, "pcie-root") == 0;
    if (root && index_set && c->index != 0)
      return xml_fail(ps->err, n, "a %s controller has index 0", c->model);
    if (!root && index_set && c->index == 0)
      return xml_fail(ps->err, n, "index 0 belongs to the PCI root; a %s needs index 1 or more",
                      c->model);
  }
  if ((r = parse_address(ps, n, root ? 0 : ADDR_PCI,
                         root ? " (the PCI root has no address)" : " (use type='pci')",
                         &c->address)) < 0)
    return r;
  if (index_set &&
      (r = claim(ps, ps->controllers, g_strdup_printf("%s/%u", type, c->index), n,
                 "this controller type and index")) < 0)
    return r;
  g_ptr_array_add(ps->controller_nodes, (gpointer)n);
  gboolean set = index_set;
  g_array_append_val(ps->controller_index_set, set);
  g_ptr_array_add(ps->def->controllers, g_steal_pointer(&c));
  return 0;
}

/* Controllers without an index get the lowest one free for their type, as
 * libvirt does; a pci controller other than the root starts at 1. */
static int assign_controller_indexes(ParseState *ps) {
  GPtrArray *list = ps->def->controllers;
  for (guint i = 0; i < list->len; i++) {
    if (g_array_index(ps->controller_index_set, gboolean, i))
      continue;
    DomainController *c = g_ptr_array_index(list, i);
    const char *type = controller_type_to_string(c->type);
    bool root = c->type == CONTROLLER_PCI &&
                (strcmp(c->model, "pci-root") == 0 || strcmp(c->model, "pcie-root") == 0);
    unsigned idx = c->type == CONTROLLER_PCI && !root ? 1 : 0;
    while (!root && idx <= 255) {
      g_autofree char *key = g_strdup_printf("%s/%u", type, idx);
      if (!g_hash_table_contains(ps->controllers, key))
        break;
      idx++;
    }
    const xmlNode *n = g_ptr_array_index(ps->controller_nodes, i);
    if (idx > 255)
      return xml_fail(ps->err, n, "no free index is left for this controller");
    c->index = idx;
    int r = claim(ps, ps->controllers, g_strdup_printf("%s/%u", type, idx), n,
                  "this controller type and index");
    if (r < 0)
      return r;
  }
  return 0;
}

static int parse_interface(ParseState *ps, const xmlNode *n) {
  static const char *const children[] = {"mac", "source", "target", "model", "boot", "address",
                                         NULL};
  static const char *const models[] = {"virtio", "e1000", "e1000e", "rtl8139", "ne2k_pci",
                                       "pcnet", "vmxnet3", NULL};
  int r;
  if ((r = xml_check_attrs(n, LIST("type"), ps->err)) < 0 ||
      (r = xml_check_children(n, children, children, ps->err)) < 0)
    return r;
  g_autoptr(DomainInterface) iface = g_new0(DomainInterface, 1);
  g_autofree char *type = NULL;
  if ((r = require_prop(n, "type", &type, ps->err)) < 0 ||
      (r = PARSE_ENUM(interface_type, n, "attribute 'type'", type, &iface->type, ps->err)) < 0)
    return r;

  const xmlNode *c;
  if ((c = xml_child(n, "mac"))) {
    g_autofree char *mac = NULL;
    if ((r = empty_element(c, LIST("address"), ps->err)) < 0 ||
        (r = require_prop(c, "address", &mac, ps->err)) < 0 ||
        (r = mac_canonical(c, mac, iface->mac, ps->err)) < 0)
      return r;
    g_autofree char *what = g_strdup_printf("MAC address %s", iface->mac);
    if ((r = claim(ps, ps->macs, g_strdup(iface->mac), c, what)) < 0)
      return r;
  }

  c = xml_child(n, "source");
  if (iface->type == INTERFACE_USER) {
    if (c)
      return xml_fail(ps->err, c, "an interface of type 'user' has no source");
  } else {
    const char *attr = iface->type == INTERFACE_NETWORK ? "network" : "bridge";
    if (!c)
      return xml_fail(ps->err, n, "an interface of type '%s' needs <source %s='...'/>", type,
                      attr);
    if ((r = empty_element(c, (const char *const[]){attr, NULL}, ps->err)) < 0 ||
        (r = require_prop(c, attr, &iface->source, ps->err)) < 0)
      return r;
    if (iface->type == INTERFACE_NETWORK)
      r = check_object_name(c, "the network name", iface->source, ps->err);
    else
      r = check_ifname(c, "the bridge name", iface->source, ps->err);
    if (r < 0)
      return r;
  }

  if ((c = xml_child(n, "target"))) {
    if ((r = empty_element(c, LIST("dev"), ps->err)) < 0 ||
        (r = require_prop(c, "dev", &iface->target_dev, ps->err)) < 0 ||
        (r = check_ifname(c, "target dev", iface->target_dev, ps->err)) < 0)
      return r;
  }
  if ((c = xml_child(n, "model"))) {
    if ((r = empty_element(c, LIST("type"), ps->err)) < 0 ||
        (r = require_prop(c, "type", &iface->model, ps->err)) < 0)
      return r;
    if (!in_list(iface->model, models)) {
      g_autofree char *choices = choices_of(models);
      return xml_fail(ps->err, c, "attribute 'type' must be one of %s, not '%s'", choices,
                      iface->model);
    }
  }
  if ((r = parse_boot_order(ps, n, &iface->boot_order)) < 0 ||
      (r = parse_address(ps, n, ADDR_PCI, " (use type='pci')", &iface->address)) < 0)
    return r;
  g_ptr_array_add(ps->def->interfaces, g_steal_pointer(&iface));
  return 0;
}

/* Random locally administered QEMU-range MACs, unique within the domain. */
static void assign_macs(ParseState *ps) {
  for (guint i = 0; i < ps->def->interfaces->len; i++) {
    DomainInterface *iface = g_ptr_array_index(ps->def->interfaces, i);
    if (iface->mac[0])
      continue;
    do {
      guint32 v = g_random_int();
      g_snprintf(iface->mac, sizeof(iface->mac), "52:54:00:%02x:%02x:%02x",
                 (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
    } while (g_hash_table_contains(ps->macs, iface->mac));
    iface->mac_generated = true;
    g_hash_table_insert(ps->macs, g_strdup(iface->mac), NULL);
  }
}

/* <serial> and <console>. `console` selects the console's target types. */
static int parse_chardev(ParseState *ps, const xmlNode *n, bool console) {
  int r;
  if ((r = xml_check_attrs(n, LIST("type", "tty"), ps->err)) < 0)
    return r;
  if (console)
    r = xml_check_children(n, LIST("source", "target"), LIST("source", "target"), ps->err);
  else
    r = xml_check_children(n, LIST("source", "target", "address"),
                           LIST("source", "target", "address"), ps->err);
  if (r < 0)
    return r;
  g_autoptr(DomainChardev) chr = g_new0(DomainChardev, 1);
  g_autofree char *type = NULL;
  if ((r = require_prop(n, "type", &type, ps->err)) < 0 ||
      (r = PARSE_ENUM(chardev_type, n, "attribute 'type'", type, &chr->type, ps->err)) < 0)
    return r;
  /* tty='/dev/pts/N' is the live pty path libvirt writes on consoles: like
   * id, it is accepted and ignored (the <source path> carries it). */
  g_autofree char *tty = xml_prop(n, "tty");
  if (tty && chr->type != CHARDEV_PTY)
    return xml_fail(ps->err, n, "attribute 'tty' is only used with type 'pty'");

  const xmlNode *source = xml_child(n, "source");
  if (source) {
    r = xml_check_attrs(source, chr->type == CHARDEV_UNIX ? LIST("mode", "path") : LIST("path"),
                        ps->err);
    if (r < 0 || (r = xml_check_children(source, NONE_LIST, NULL, ps->err)) < 0)
      return r;
    g_autofree char *path = xml_prop(source, "path");
    if (path && (r = check_path(source, "attribute 'path'", path, ps->err)) < 0)
      return r;
    chr->source_path = g_steal_pointer(&path);
    g_autofree char *mode = xml_prop(source, "mode");
    if (mode) {
      if (strcmp(mode, "bind") == 0)
        chr->unix_listen = true;
      else if (strcmp(mode, "connect") != 0)
        return xml_fail(ps->err, source, "attribute 'mode' must be 'bind' or 'connect', not "
                        "'%s'", mode);
    }
  }
  if (chr->type != CHARDEV_PTY && !chr->source_path)
    return xml_fail(ps->err, source ? source : n, "type '%s' needs <source path='...'/>", type);

  const char *const *target_types = console ? LIST("serial", "virtio") : LIST("isa-serial");
  chr->target_type = g_strdup(target_types[0]);
  bool port_set = false;
  const xmlNode *target = xml_child(n, "target");
  if (target) {
    if ((r = xml_check_attrs(target, LIST("type", "port"), ps->err)) < 0 ||
        (r = xml_check_children(target, console ? NONE_LIST : LIST("model"), LIST("model"),
                                ps->err)) < 0)
      return r;
    g_autofree char *ttype = xml_prop(target, "type");
    if (ttype) {
      if (!in_list(ttype, target_types)) {
        g_autofree char *choices = choices_of(target_types);
        return xml_fail(ps->err, target, "attribute 'type' must be one of %s, not '%s'",
                        choices, ttype);
      }
      g_free(chr->target_type);
      chr->target_type = g_steal_pointer(&ttype);
    }
    bool serial_kind = !console || strcmp(chr->target_type, "serial") == 0;
    if ((r = prop_u(target, "port", serial_kind ? 3 : 30, &chr->target_port, &port_set,
                    ps->err)) < 0)
      return r;
    /* libvirt writes <model name='isa-serial'/>; it follows from the type */
    const xmlNode *model = xml_child(target, "model");
    if (model) {
      g_autofree char *mname = NULL;
      if ((r = empty_element(model, LIST("name"), ps->err)) < 0 ||
          (r = require_prop(model, "name", &mname, ps->err)) < 0)
        return r;
      if (strcmp(mname, chr->target_type) != 0)
        return xml_fail(ps->err, model, "the model of a '%s' serial port is '%s', not '%s'",
                        chr->target_type, chr->target_type, mname);
    }
  }
  gboolean pset = port_set, sset = source != NULL;
  if (console) {
    /* <address> is not among a console's children: it stays none */
    g_ptr_array_add(ps->console_nodes, (gpointer)n);
    g_array_append_val(ps->console_port_set, pset);
    g_array_append_val(ps->console_source_set, sset);
    g_ptr_array_add(ps->def->consoles, g_steal_pointer(&chr));
  } else {
    if ((r = parse_address(ps, n, ADDR_ISA, " (an isa-serial port takes type='isa')",
                           &chr->address)) < 0)
      return r;
    g_ptr_array_add(ps->serial_nodes, (gpointer)n);
    g_array_append_val(ps->serial_port_set, pset);
    g_ptr_array_add(ps->def->serials, g_steal_pointer(&chr));
  }
  return 0;
}

/* Gives ports to the chardevs of `list` whose port was not written (lowest
 * free first) and checks that ports are unique. Only entries whose target
 * type is `kind` take part. */
static int assign_ports(ParseState *ps, GPtrArray *list, GPtrArray *nodes, GArray *set,
                        guint first, const char *kind, unsigned max) {
  g_autofree const xmlNode **owner = g_new0(const xmlNode *, max + 1);
  for (guint pass = 0; pass < 2; pass++) {
    for (guint i = first; i < list->len; i++) {
      DomainChardev *chr = g_ptr_array_index(list, i);
      const xmlNode *n = g_ptr_array_index(nodes, i);
      bool explicit_port = g_array_index(set, gboolean, i);
      if (strcmp(chr->target_type, kind) != 0 || explicit_port != (pass == 0))
        continue;
      if (!explicit_port) {
        unsigned p = 0;
        while (p <= max && owner[p])
          p++;
        if (p > max)
          return xml_fail(ps->err, n, "no free port is left (at most %u)", max + 1);
        chr->target_port = p;
      } else if (owner[chr->target_port]) {
        return xml_fail(ps->err, n, "port %u is already used on line %ld", chr->target_port,
                        xmlGetLineNo(owner[chr->target_port]));
      }
      owner[chr->target_port] = n;
    }
  }
  return 0;
}

static bool str_eq0(const char *a, const char *b) {
  return g_strcmp0(a, b) == 0;
}

/* libvirt's serial console alias; see the file comment and domain_def.h.
 * The parallel arrays (console_nodes, ...) stay aligned with def->consoles:
 * a serial-type first console is replaced in place by the alias, otherwise
 * the alias is inserted at 0 in all of them. */
static int resolve_consoles(ParseState *ps) {
  DomainDef *def = ps->def;
  int r;
  if ((r = assign_ports(ps, def->serials, ps->serial_nodes, ps->serial_port_set, 0, "isa-serial",
                        3)) < 0)
    return r;
  for (guint i = 1; i < def->consoles->len; i++) {
    DomainChardev *chr = g_ptr_array_index(def->consoles, i);
    if (strcmp(chr->target_type, "serial") == 0)
      return xml_fail(ps->err, g_ptr_array_index(ps->console_nodes, i),
                      "only the first console may have target type 'serial'");
  }
  DomainChardev *first = def->consoles->len ? g_ptr_array_index(def->consoles, 0) : NULL;
  bool first_is_serial = first && strcmp(first->target_type, "serial") == 0;
  if (first_is_serial && def->serials->len == 0) {
    DomainChardev *serial = domain_chardev_copy(first);
    g_free(serial->target_type);
    serial->target_type = g_strdup("isa-serial");
    g_ptr_array_add(def->serials, serial);
  } else if (first_is_serial) {
    const DomainChardev *s0 = g_ptr_array_index(def->serials, 0);
    bool source_set = g_array_index(ps->console_source_set, gboolean, 0);
    bool port_set = g_array_index(ps->console_port_set, gboolean, 0);
    bool same_source = str_eq0(first->source_path, s0->source_path) &&
                       (first->type != CHARDEV_UNIX || first->unix_listen == s0->unix_listen);
    if (first->type != s0->type || (source_set && !same_source) ||
        (port_set && first->target_port != s0->target_port))
      return xml_fail(ps->err, g_ptr_array_index(ps->console_nodes, 0),
                      "a console with target type 'serial' stands for the first <serial> "
                      "(line %ld); its type, source and port must match that serial port",
                      xmlGetLineNo(g_ptr_array_index(ps->serial_nodes, 0)));
  }
  if (def->serials->len > 0) {
    DomainChardev *alias = domain_chardev_copy(g_ptr_array_index(def->serials, 0));
    g_free(alias->target_type);
    alias->target_type = g_strdup("serial");
    alias->address = (DeviceAddress){.type = DEVICE_ADDRESS_NONE};
    if (first_is_serial) {
      g_ptr_array_index(def->consoles, 0) = alias;
      domain_chardev_free(first);
    } else {
      gboolean yes = TRUE;
      g_ptr_array_insert(def->consoles, 0, alias);
      g_ptr_array_insert(ps->console_nodes, 0, (gpointer)ps->devices);
      g_array_insert_val(ps->console_port_set, 0, yes);
      g_array_insert_val(ps->console_source_set, 0, yes);
    }
  }
  return assign_ports(ps, def->consoles, ps->console_nodes, ps->console_port_set,
                      def->serials->len > 0 ? 1 : 0, "virtio", 30);
}

static int parse_graphics(ParseState *ps, const xmlNode *n) {
  int r;
  if ((r = xml_check_attrs(n, LIST("type", "port", "autoport", "listen"), ps->err)) < 0 ||
      (r = xml_check_children(n, LIST("listen"), LIST("listen"), ps->err)) < 0)
    return r;
  if (ps->graphics)
    return xml_fail(ps->err, n, "only one <graphics> is supported (the first is on line %ld)",
                    xmlGetLineNo(ps->graphics));
  ps->graphics = n;
  g_autofree char *type = NULL;
  if ((r = require_prop(n, "type", &type, ps->err)) < 0)
    return r;
  if (strcmp(type, "vnc") != 0)
    return xml_fail(ps->err, n, "attribute 'type' must be 'vnc', not '%s'", type);
  g_autoptr(DomainGraphicsVnc) g = g_new0(DomainGraphicsVnc, 1);
  g->port = -1;
  g_autofree char *port = xml_prop(n, "port");
  if (port && strcmp(port, "-1") != 0) {
    uint64_t p;
    if (value_parse_uint(port, 5900, 65535, &p) < 0)
      return xml_fail(ps->err, n, "attribute 'port' must be -1 or a number from 5900 to 65535, "
                      "not '%s'", port);
    g->port = (int)p;
  }
  bool autoport = false, autoport_set = false;
  if ((r = xml_prop_yesno(n, "autoport", &autoport, &autoport_set, ps->err)) < 0)
    return r;
  if (autoport_set && autoport)
    g->port = -1; /* a port beside autoport='yes' is the live one */
  else if (autoport_set && g->port < 0)
    return xml_fail(ps->err, n, "autoport='no' needs a port from 5900 to 65535");

  g_autofree char *listen = xml_prop(n, "listen");
  if (listen && !is_ip_address(listen))
    return xml_fail(ps->err, n, "attribute 'listen' must be an IP address, not '%s'", listen);
  const xmlNode *child = xml_child(n, "listen");
  if (child) {
    g_autofree char *ltype = NULL;
    if ((r = empty_element(child, LIST("type", "address"), ps->err)) < 0 ||
        (r = require_prop(child, "type", &ltype, ps->err)) < 0)
      return r;
    if (strcmp(ltype, "address") != 0)
      return xml_fail(ps->err, child, "attribute 'type' must be 'address', not '%s'", ltype);
    g_autofree char *addr = xml_prop(child, "address");
    if (addr && !is_ip_address(addr))
      return xml_fail(ps->err, child, "attribute 'address' must be an IP address, not '%s'",
                      addr);
    if (addr && listen && strcmp(addr, listen) != 0)
      return xml_fail(ps->err, child, "address '%s' differs from listen='%s' of <graphics>",
                      addr, listen);
    if (addr && !listen)
      listen = g_steal_pointer(&addr);
  }
  g->listen = g_steal_pointer(&listen);
  g_ptr_array_add(ps->def->graphics, g_steal_pointer(&g));
  return 0;
}

static int parse_video(ParseState *ps, const xmlNode *n) {
  int r;
  if ((r = xml_check_attrs(n, NONE_LIST, ps->err)) < 0 ||
      (r = xml_check_children(n, LIST("model", "address"), LIST("model", "address"),
                              ps->err)) < 0)
    return r;
  g_autoptr(DomainVideo) v = g_new0(DomainVideo, 1);
  v->model = VIDEO_VGA; /* <video> without a model: QEMU's standard VGA */
  const xmlNode *model = xml_child(n, "model");
  if (model) {
    if ((r = empty_element(model, LIST("type", "vram", "heads"), ps->err)) < 0)
      return r;
    g_autofree char *type = NULL;
    if ((r = require_prop(model, "type", &type, ps->err)) < 0 ||
        (r = PARSE_ENUM(video_model, model, "attribute 'type'", type, &v->model, ps->err)) < 0 ||
        (r = prop_u(model, "vram", 4194304, &v->vram, NULL, ps->err)) < 0 ||
        (r = prop_u(model, "heads", 16, &v->heads, NULL, ps->err)) < 0)
      return r;
    g_autofree char *vram = xml_prop(model, "vram");
    g_autofree char *heads = xml_prop(model, "heads");
    if ((vram && v->vram == 0) || (heads && v->heads == 0))
      return xml_fail(ps->err, model, "vram and heads must be at least 1");
    if (v->model == VIDEO_NONE && (vram || heads))
      return xml_fail(ps->err, model, "a video of type 'none' has no vram or heads");
  }
  if (v->model == VIDEO_NONE) {
    if (xml_child(n, "address"))
      return xml_fail(ps->err, xml_child(n, "address"), "a video of type 'none' has no address");
    ps->video_none = n;
  } else if ((r = parse_address(ps, n, ADDR_PCI, " (use type='pci')", &v->address)) < 0) {
    return r;
  }
  g_ptr_array_add(ps->def->videos, g_steal_pointer(&v));
  return 0;
}

static int parse_input(ParseState *ps, const xmlNode *n) {
  int r;
  if ((r = xml_check_attrs(n, LIST("type", "bus"), ps->err)) < 0 ||
      (r = xml_check_children(n, LIST("address"), LIST("address"), ps->err)) < 0)
    return r;
  g_autoptr(DomainInput) in = g_new0(DomainInput, 1);
  g_autofree char *type = NULL;
  if ((r = require_prop(n, "type", &type, ps->err)) < 0 ||
      (r = PARSE_ENUM(input_type, n, "attribute 'type'", type, &in->type, ps->err)) < 0)
    return r;
  /* libvirt's defaults on x86: PS/2 for mouse and keyboard, USB for a tablet */
  in->bus = in->type == INPUT_TABLET ? INPUT_BUS_USB : INPUT_BUS_PS2;
  g_autofree char *bus = xml_prop(n, "bus");
  if (bus && (r = PARSE_ENUM(input_bus, n, "attribute 'bus'", bus, &in->bus, ps->err)) < 0)
    return r;
  if (in->type == INPUT_TABLET && in->bus == INPUT_BUS_PS2)
    return xml_fail(ps->err, n, "the ps2 bus has no tablet; use bus 'usb' or 'virtio'");
  bool virtio = in->bus == INPUT_BUS_VIRTIO;
  g_autofree char *hint = g_strdup_printf(" with bus '%s'%s", input_bus_to_string(in->bus),
                                          virtio ? " (use type='pci')" : "");
  if ((r = parse_address(ps, n, virtio ? ADDR_PCI : 0, hint, &in->address)) < 0)
    return r;
  g_ptr_array_add(ps->def->inputs, g_steal_pointer(&in));
  return 0;
}

static int parse_memballoon(ParseState *ps, const xmlNode *n) {
  DomainMemballoon *m = &ps->def->memballoon;
  int r;
  if ((r = xml_check_attrs(n, LIST("model"), ps->err)) < 0 ||
      (r = xml_check_children(n, LIST("stats", "address"), LIST("stats", "address"),
                              ps->err)) < 0)
    return r;
  g_autofree char *model = NULL;
  if ((r = require_prop(n, "model", &model, ps->err)) < 0 ||
      (r = PARSE_ENUM(memballoon_model, n, "attribute 'model'", model, &m->model, ps->err)) < 0)
    return r;
  m->present = true;
  if (m->model == MEMBALLOON_NONE) {
    if ((r = xml_check_children(n, NONE_LIST, NULL, ps->err)) < 0)
      return r;
    return 0;
  }
  const xmlNode *stats = xml_child(n, "stats");
  if (stats) {
    bool set = false;
    if ((r = empty_element(stats, LIST("period"), ps->err)) < 0 ||
        (r = prop_u(stats, "period", G_MAXINT, &m->stats_period, &set, ps->err)) < 0)
      return r;
    if (!set)
      return xml_fail(ps->err, stats, "attribute 'period' is required");
  }
  return parse_address(ps, n, ADDR_PCI, " (use type='pci')", &m->address);
}

static int parse_rng(ParseState *ps, const xmlNode *n) {
  int r;
  if ((r = xml_check_attrs(n, LIST("model"), ps->err)) < 0 ||
      (r = xml_check_children(n, LIST("backend", "address"), LIST("backend", "address"),
                              ps->err)) < 0)
    return r;
  g_autofree char *model = NULL;
  if ((r = require_prop(n, "model", &model, ps->err)) < 0)
    return r;
  if (strcmp(model, "virtio") != 0)
    return xml_fail(ps->err, n, "attribute 'model' must be 'virtio', not '%s'", model);
  const xmlNode *backend = xml_child(n, "backend");
  if (!backend)
    return xml_fail(ps->err, n, "a <backend model='random'> element is required");
  g_autofree char *bmodel = NULL;
  g_autofree char *path = NULL;
  if ((r = xml_check_attrs(backend, LIST("model"), ps->err)) < 0 ||
      (r = require_prop(backend, "model", &bmodel, ps->err)) < 0)
    return r;
  if (strcmp(bmodel, "random") != 0)
    return xml_fail(ps->err, backend, "attribute 'model' must be 'random', not '%s'", bmodel);
  if ((r = leaf_text(backend, true, &path, ps->err)) < 0)
    return r;
  if (!*path) {
    g_free(path);
    path = g_strdup("/dev/urandom"); /* libvirt's default source */
  }
  if ((r = check_path(backend, "the random source", path, ps->err)) < 0)
    return r;
  g_autoptr(DomainRng) rng = g_new0(DomainRng, 1);
  rng->backend = g_steal_pointer(&path);
  if ((r = parse_address(ps, n, ADDR_PCI, " (use type='pci')", &rng->address)) < 0)
    return r;
  g_ptr_array_add(ps->def->rngs, g_steal_pointer(&rng));
  return 0;
}

static int parse_audio(ParseState *ps, const xmlNode *n) {
  int r;
  if ((r = empty_element(n, LIST("id", "type"), ps->err)) < 0)
    return r;
  unsigned id = 0;
  bool set = false;
  g_autofree char *type = NULL;
  if ((r = prop_u(n, "id", 255, &id, &set, ps->err)) < 0)
    return r;
  if (!set)
    return xml_fail(ps->err, n, "attribute 'id' is required");
  if (id == 0)
    return xml_fail(ps->err, n, "attribute 'id' must be at least 1");
  if ((r = require_prop(n, "type", &type, ps->err)) < 0)
    return r;
  if (strcmp(type, "none") != 0)
    return xml_fail(ps->err, n, "attribute 'type' must be 'none', not '%s'", type);
  const xmlNode *prev = g_hash_table_lookup(ps->audio_ids, GUINT_TO_POINTER(id));
  if (prev)
    return xml_fail(ps->err, n, "audio id %u is already used on line %ld", id,
                    xmlGetLineNo(prev));
  g_hash_table_insert(ps->audio_ids, GUINT_TO_POINTER(id), (gpointer)n);
  DomainAudio *a = g_new0(DomainAudio, 1);
  a->id = id;
  g_ptr_array_add(ps->def->audios, a);
  return 0;
}

static int parse_devices(ParseState *ps, const xmlNode *n) {
  static const char *const children[] = {"emulator", "disk", "controller", "interface",
                                         "serial", "console", "input", "graphics", "audio",
                                         "video", "memballoon", "rng", NULL};
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
      if ((r = text_element(c, true, &path, ps->err)) < 0 ||
          (r = check_path(c, "the emulator", path, ps->err)) < 0)
        return r;
      ps->def->emulator = g_steal_pointer(&path);
    } else if (strcmp(name, "disk") == 0) {
      r = parse_disk(ps, c);
    } else if (strcmp(name, "controller") == 0) {
      r = parse_controller(ps, c);
    } else if (strcmp(name, "interface") == 0) {
      r = parse_interface(ps, c);
    } else if (strcmp(name, "serial") == 0) {
      r = parse_chardev(ps, c, false);
    } else if (strcmp(name, "console") == 0) {
      r = parse_chardev(ps, c, true);
    } else if (strcmp(name, "input") == 0) {
      r = parse_input(ps, c);
    } else if (strcmp(name, "graphics") == 0) {
      r = parse_graphics(ps, c);
    } else if (strcmp(name, "audio") == 0) {
      r = parse_audio(ps, c);
    } else if (strcmp(name, "video") == 0) {
      r = parse_video(ps, c);
    } else if (strcmp(name, "memballoon") == 0) {
      r = parse_memballoon(ps, c);
    } else {
      r = parse_rng(ps, c);
    }
    if (r < 0)
      return r;
  }
  if (ps->video_none && ps->def->videos->len > 1)
    return xml_fail(ps->err, ps->video_none, "a video of type 'none' must be the only video");
  return 0;
}

/* Elements in a namespace (qemu:commandline, metadata of other tools) carry
 * meaning outside the supported subset. */
static int reject_namespaces(const xmlNode *root, char **err) {
  const xmlNode *n = root;
  while (n) {
    if (n->type == XML_ELEMENT_NODE && n->ns) {
      const char *prefix = n->ns->prefix ? (const char *)n->ns->prefix : "";
      return xml_fail(err, NULL, "line %ld: <%s%s%s>: namespaced elements (namespace '%s') "
                      "are not supported", xmlGetLineNo(n), prefix, *prefix ? ":" : "",
                      (const char *)n->name, n->ns->href ? (const char *)n->ns->href : "");
    }
    if (n->type == XML_ELEMENT_NODE && n->children) {
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
  static const char *const children[] = {"name", "uuid", "title", "description", "memory",
                                         "currentMemory", "vcpu", "os", "features", "cpu",
                                         "clock", "on_poweroff", "on_reboot", "on_crash",
                                         "devices", NULL};
  DomainDef *def = ps->def;
  int r;
  if ((r = reject_namespaces(root, ps->err)) < 0 ||
      (r = xml_check_attrs(root, LIST("type", "id"), ps->err)) < 0 ||
      (r = xml_check_children(root, children, children, ps->err)) < 0)
    return r;
  g_autofree char *type = NULL;
  if ((r = require_prop(root, "type", &type, ps->err)) < 0 ||
      (r = PARSE_ENUM(domain_virt_type, root, "attribute 'type'", type, &def->virt_type,
                      ps->err)) < 0)
    return r;

  const xmlNode *c;
  if (!(c = xml_child(root, "name")))
    return xml_fail(ps->err, root, "a <name> element is required");
  if ((r = text_element(c, true, &def->name, ps->err)) < 0 ||
      (r = check_object_name(c, "the name", def->name, ps->err)) < 0)
    return r;

  if ((c = xml_child(root, "uuid"))) {
    g_autofree char *uuid = NULL;
    if ((r = text_element(c, true, &uuid, ps->err)) < 0)
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
    if ((r = text_element(c, true, &title, ps->err)) < 0)
      return r;
    if (strchr(title, '\n') || strchr(title, '\r'))
      return xml_fail(ps->err, c, "a title must be one line");
    if (*title)
      def->title = g_steal_pointer(&title);
  }
  if ((c = xml_child(root, "description"))) {
    /* kept exactly, blanks and newlines included */
    g_autofree char *text = NULL;
    if ((r = text_element(c, false, &text, ps->err)) < 0)
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
  if (os && (r = parse_os(ps, os)) < 0)
    return r;
  if ((c = xml_child(root, "features")) && (r = parse_features(ps, c)) < 0)
    return r;
  if ((c = xml_child(root, "cpu")) && (r = parse_cpu(ps, c)) < 0)
    return r;
  if ((c = xml_child(root, "clock")) && (r = parse_clock(ps, c)) < 0)
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
  if ((r = assign_controller_indexes(ps)) < 0 || (r = resolve_consoles(ps)) < 0)
    return r;
  assign_macs(ps);
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

/* ---- formatting ---- */

static void format_address(XmlWriter *w, const DeviceAddress *a) {
  switch (a->type) {
  case DEVICE_ADDRESS_NONE:
    return;
  case DEVICE_ADDRESS_PCI:
    xml_writer_start(w, "address");
    xml_writer_attr(w, "type", "pci");
    xml_writer_attr_printf(w, "domain", "0x%04x", a->domain);
    xml_writer_attr_printf(w, "bus", "0x%02x", a->bus);
    xml_writer_attr_printf(w, "slot", "0x%02x", a->slot);
    xml_writer_attr_printf(w, "function", "0x%x", a->function);
    if (a->multifunction)
      xml_writer_attr(w, "multifunction", "on");
    break;
  case DEVICE_ADDRESS_DRIVE:
    xml_writer_start(w, "address");
    xml_writer_attr(w, "type", "drive");
    xml_writer_attr_printf(w, "controller", "%u", a->controller);
    xml_writer_attr_printf(w, "bus", "%u", a->drive_bus);
    xml_writer_attr_printf(w, "target", "%u", a->target);
    xml_writer_attr_printf(w, "unit", "%u", a->unit);
    break;
  case DEVICE_ADDRESS_ISA:
    xml_writer_start(w, "address");
    xml_writer_attr(w, "type", "isa");
    if (a->iobase_set)
      xml_writer_attr_printf(w, "iobase", "0x%x", a->iobase);
    if (a->irq_set)
      xml_writer_attr_printf(w, "irq", "0x%x", a->irq);
    break;
  }
  xml_writer_end_empty(w);
}

static void format_boot_order(XmlWriter *w, unsigned order) {
  if (!order)
    return;
  xml_writer_start(w, "boot");
  xml_writer_attr_printf(w, "order", "%u", order);
  xml_writer_end_empty(w);
}

static void format_empty(XmlWriter *w, const char *name) {
  xml_writer_start(w, name);
  xml_writer_end_empty(w);
}

static void format_os(XmlWriter *w, const DomainOs *os) {
  xml_writer_start(w, "os");
  xml_writer_end_open(w);
  xml_writer_start(w, "type");
  xml_writer_attr(w, "arch", os->arch);
  xml_writer_attr(w, "machine", os->machine);
  xml_writer_end_text(w, os->type ? os->type : "hvm");
  xml_writer_text_element(w, "kernel", os->kernel);
  xml_writer_text_element(w, "initrd", os->initrd);
  xml_writer_text_element(w, "cmdline", os->cmdline);
  for (size_t i = 0; i < os->nboot && i < DOMAIN_MAX_BOOT_DEVS; i++) {
    xml_writer_start(w, "boot");
    xml_writer_attr(w, "dev", domain_boot_dev_to_string(os->boot[i]));
    xml_writer_end_empty(w);
  }
  if (os->bootmenu_set) {
    xml_writer_start(w, "bootmenu");
    xml_writer_attr(w, "enable", os->bootmenu ? "yes" : "no");
    xml_writer_end_empty(w);
  }
  xml_writer_close(w);
}

static void format_cpu(XmlWriter *w, const DomainCpu *cpu) {
  if (cpu->mode == DOMAIN_CPU_MODE_NONE)
    return;
  bool topo = cpu->sockets || cpu->dies || cpu->cores || cpu->threads;
  xml_writer_start(w, "cpu");
  xml_writer_attr(w, "mode", domain_cpu_mode_to_string(cpu->mode));
  if (!cpu->model && !topo) {
    xml_writer_end_empty(w);
    return;
  }
  xml_writer_end_open(w);
  xml_writer_text_element(w, "model", cpu->model);
  if (topo) {
    xml_writer_start(w, "topology");
    xml_writer_attr_printf(w, "sockets", "%u", cpu->sockets);
    xml_writer_attr_printf(w, "dies", "%u", cpu->dies ? cpu->dies : 1);
    xml_writer_attr_printf(w, "cores", "%u", cpu->cores);
    xml_writer_attr_printf(w, "threads", "%u", cpu->threads);
    xml_writer_end_empty(w);
  }
  xml_writer_close(w);
}

static void format_disk(XmlWriter *w, const DomainDisk *d) {
  xml_writer_start(w, "disk");
  xml_writer_attr(w, "type", disk_type_to_string(d->type));
  xml_writer_attr(w, "device", disk_device_to_string(d->device));
  if (d->snapshot_excluded)
    xml_writer_attr(w, "snapshot", "no");
  xml_writer_end_open(w);
  xml_writer_start(w, "driver");
  xml_writer_attr(w, "name", "qemu");
  xml_writer_attr(w, "type", disk_format_to_string(d->format));
  xml_writer_end_empty(w);
  if (d->type == DISK_TYPE_VOLUME) {
    xml_writer_start(w, "source");
    xml_writer_attr(w, "pool", d->source_pool);
    xml_writer_attr(w, "volume", d->source_volume);
    xml_writer_end_empty(w);
  } else if (d->source) {
    xml_writer_start(w, "source");
    xml_writer_attr(w, d->type == DISK_TYPE_FILE ? "file" : "dev", d->source);
    xml_writer_end_empty(w);
  }
  xml_writer_start(w, "target");
  xml_writer_attr(w, "dev", d->target_dev);
  xml_writer_attr(w, "bus", disk_bus_to_string(d->target_bus));
  xml_writer_end_empty(w);
  if (d->readonly)
    format_empty(w, "readonly");
  if (d->shareable)
    format_empty(w, "shareable");
  xml_writer_text_element(w, "serial", d->serial);
  format_boot_order(w, d->boot_order);
  format_address(w, &d->address);
  xml_writer_close(w);
}

static void format_controller(XmlWriter *w, const DomainController *c) {
  xml_writer_start(w, "controller");
  xml_writer_attr(w, "type", controller_type_to_string(c->type));
  xml_writer_attr_printf(w, "index", "%u", c->index);
  xml_writer_attr(w, "model", c->model);
  if (c->address.type == DEVICE_ADDRESS_NONE) {
    xml_writer_end_empty(w);
    return;
  }
  xml_writer_end_open(w);
  format_address(w, &c->address);
  xml_writer_close(w);
}

static void format_interface(XmlWriter *w, const DomainInterface *iface, bool live) {
  xml_writer_start(w, "interface");
  xml_writer_attr(w, "type", interface_type_to_string(iface->type));
  xml_writer_end_open(w);
  if (iface->mac[0]) { /* a builder's def may lack one; parsing then makes one */
    xml_writer_start(w, "mac");
    xml_writer_attr(w, "address", iface->mac);
    xml_writer_end_empty(w);
  }
  if (iface->type != INTERFACE_USER && iface->source) {
    xml_writer_start(w, "source");
    xml_writer_attr(w, iface->type == INTERFACE_NETWORK ? "network" : "bridge", iface->source);
    xml_writer_end_empty(w);
  }
  if (live && iface->target_dev) {
    xml_writer_start(w, "target");
    xml_writer_attr(w, "dev", iface->target_dev);
    xml_writer_end_empty(w);
  }
  if (iface->model) {
    xml_writer_start(w, "model");
    xml_writer_attr(w, "type", iface->model);
    xml_writer_end_empty(w);
  }
  format_boot_order(w, iface->boot_order);
  format_address(w, &iface->address);
  xml_writer_close(w);
}

/* `data` gives type and source, `target` the target and address: they
 * differ for the serial console alias, written from serials[0]. */
static void format_chardev(XmlWriter *w, const char *element, const DomainChardev *data,
                           const char *target_type, unsigned port, const DeviceAddress *address,
                           bool live) {
  bool pty = data->type == CHARDEV_PTY;
  bool console = strcmp(element, "console") == 0;
  xml_writer_start(w, element);
  xml_writer_attr(w, "type", chardev_type_to_string(data->type));
  if (console && pty && live)
    xml_writer_attr(w, "tty", data->source_path);
  xml_writer_end_open(w);
  if (data->source_path && (!pty || live)) {
    xml_writer_start(w, "source");
    if (data->type == CHARDEV_UNIX)
      xml_writer_attr(w, "mode", data->unix_listen ? "bind" : "connect");
    xml_writer_attr(w, "path", data->source_path);
    xml_writer_end_empty(w);
  }
  xml_writer_start(w, "target");
  xml_writer_attr(w, "type", target_type);
  xml_writer_attr_printf(w, "port", "%u", port);
  if (console) {
    xml_writer_end_empty(w);
  } else {
    xml_writer_end_open(w);
    xml_writer_start(w, "model");
    xml_writer_attr(w, "name", target_type);
    xml_writer_end_empty(w);
    xml_writer_close(w);
  }
  if (address)
    format_address(w, address);
  xml_writer_close(w);
}

static void format_graphics(XmlWriter *w, const DomainGraphicsVnc *g) {
  xml_writer_start(w, "graphics");
  xml_writer_attr(w, "type", "vnc");
  xml_writer_attr_printf(w, "port", "%d", g->port < 0 ? -1 : g->port);
  xml_writer_attr(w, "autoport", g->port < 0 ? "yes" : "no");
  if (!g->listen) {
    xml_writer_end_empty(w);
    return;
  }
  xml_writer_attr(w, "listen", g->listen);
  xml_writer_end_open(w);
  xml_writer_start(w, "listen");
  xml_writer_attr(w, "type", "address");
  xml_writer_attr(w, "address", g->listen);
  xml_writer_end_empty(w);
  xml_writer_close(w);
}

static void format_video(XmlWriter *w, const DomainVideo *v) {
  xml_writer_start(w, "video");
  xml_writer_end_open(w);
  xml_writer_start(w, "model");
  xml_writer_attr(w, "type", video_model_to_string(v->model));
  if (v->vram)
    xml_writer_attr_printf(w, "vram", "%u", v->vram);
  if (v->heads)
    xml_writer_attr_printf(w, "heads", "%u", v->heads);
  xml_writer_end_empty(w);
  format_address(w, &v->address);
  xml_writer_close(w);
}

static void format_input(XmlWriter *w, const DomainInput *in) {
  xml_writer_start(w, "input");
  xml_writer_attr(w, "type", input_type_to_string(in->type));
  xml_writer_attr(w, "bus", input_bus_to_string(in->bus));
  if (in->address.type == DEVICE_ADDRESS_NONE) {
    xml_writer_end_empty(w);
    return;
  }
  xml_writer_end_open(w);
  format_address(w, &in->address);
  xml_writer_close(w);
}

static void format_memballoon(XmlWriter *w, const DomainMemballoon *m) {
  if (!m->present)
    return;
  xml_writer_start(w, "memballoon");
  xml_writer_attr(w, "model", memballoon_model_to_string(m->model));
  if (m->model == MEMBALLOON_NONE ||
      (!m->stats_period && m->address.type == DEVICE_ADDRESS_NONE)) {
    xml_writer_end_empty(w);
    return;
  }
  xml_writer_end_open(w);
  if (m->stats_period) {
    xml_writer_start(w, "stats");
    xml_writer_attr_printf(w, "period", "%u", m->stats_period);
    xml_writer_end_empty(w);
  }
  format_address(w, &m->address);
  xml_writer_close(w);
}

static void format_rng(XmlWriter *w, const DomainRng *rng) {
  xml_writer_start(w, "rng");
  xml_writer_attr(w, "model", "virtio");
  xml_writer_end_open(w);
  xml_writer_start(w, "backend");
  xml_writer_attr(w, "model", "random");
  xml_writer_end_text(w, rng->backend ? rng->backend : "/dev/urandom");
  format_address(w, &rng->address);
  xml_writer_close(w);
}

static guint len_of(const GPtrArray *a) {
  return a ? a->len : 0;
}

static void format_devices(XmlWriter *w, const DomainDef *def, bool live) {
  guint total = len_of(def->disks) + len_of(def->controllers) + len_of(def->interfaces) +
                len_of(def->serials) + len_of(def->consoles) + len_of(def->inputs) +
                len_of(def->graphics) + len_of(def->audios) + len_of(def->videos) +
                len_of(def->rngs);
  if (!def->emulator && !def->memballoon.present && total == 0)
    return;
  xml_writer_start(w, "devices");
  xml_writer_end_open(w);
  xml_writer_text_element(w, "emulator", def->emulator);
  for (guint i = 0; i < len_of(def->disks); i++)
    format_disk(w, g_ptr_array_index(def->disks, i));
  for (guint i = 0; i < len_of(def->controllers); i++)
    format_controller(w, g_ptr_array_index(def->controllers, i));
  for (guint i = 0; i < len_of(def->interfaces); i++)
    format_interface(w, g_ptr_array_index(def->interfaces, i), live);
  for (guint i = 0; i < len_of(def->serials); i++) {
    const DomainChardev *s = g_ptr_array_index(def->serials, i);
    format_chardev(w, "serial", s, s->target_type ? s->target_type : "isa-serial",
                   s->target_port, &s->address, live);
  }
  for (guint i = 0; i < len_of(def->consoles); i++) {
    const DomainChardev *c = g_ptr_array_index(def->consoles, i);
    const char *ttype = c->target_type ? c->target_type : "serial";
    if (strcmp(ttype, "serial") == 0 && i == 0 && len_of(def->serials) > 0) {
      const DomainChardev *s0 = g_ptr_array_index(def->serials, 0);
      format_chardev(w, "console", s0, "serial", s0->target_port, NULL, live);
    } else {
      format_chardev(w, "console", c, ttype, c->target_port, NULL, live);
    }
  }
  for (guint i = 0; i < len_of(def->inputs); i++)
    format_input(w, g_ptr_array_index(def->inputs, i));
  for (guint i = 0; i < len_of(def->graphics); i++)
    format_graphics(w, g_ptr_array_index(def->graphics, i));
  for (guint i = 0; i < len_of(def->audios); i++) {
    const DomainAudio *a = g_ptr_array_index(def->audios, i);
    xml_writer_start(w, "audio");
    xml_writer_attr_printf(w, "id", "%u", a->id);
    xml_writer_attr(w, "type", "none");
    xml_writer_end_empty(w);
  }
  for (guint i = 0; i < len_of(def->videos); i++)
    format_video(w, g_ptr_array_index(def->videos, i));
  format_memballoon(w, &def->memballoon);
  for (guint i = 0; i < len_of(def->rngs); i++)
    format_rng(w, g_ptr_array_index(def->rngs, i));
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
  format_memory(w, "memory", def->memory_kib);
  format_memory(w, "currentMemory", def->current_memory_kib);
  xml_writer_start(w, "vcpu");
  xml_writer_attr(w, "placement", def->vcpu_placement_auto ? "auto" : "static");
  if (def->vcpus_current && def->vcpus_current < def->vcpus)
    xml_writer_attr_printf(w, "current", "%u", def->vcpus_current);
  g_autofree char *vcpus = g_strdup_printf("%u", def->vcpus);
  xml_writer_end_text(w, vcpus);
  format_os(w, &def->os);
  if (def->features.acpi || def->features.apic || def->features.pae) {
    xml_writer_start(w, "features");
    xml_writer_end_open(w);
    if (def->features.acpi)
      format_empty(w, "acpi");
    if (def->features.apic)
      format_empty(w, "apic");
    if (def->features.pae)
      format_empty(w, "pae");
    xml_writer_close(w);
  }
  format_cpu(w, &def->cpu);
  xml_writer_start(w, "clock");
  xml_writer_attr(w, "offset", domain_clock_offset_to_string(def->clock));
  xml_writer_end_empty(w);
  format_lifecycle(w, "on_poweroff", def->on_poweroff);
  format_lifecycle(w, "on_reboot", def->on_reboot);
  format_lifecycle(w, "on_crash", def->on_crash);
  format_devices(w, def, live);
  xml_writer_close(w);
  return xml_writer_finish(g_steal_pointer(&w));
}
