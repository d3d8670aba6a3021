/* domain_xml_priv.h — what the files of the domain XML parser and formatter
 * share; not for use outside objects/domain_xml*.c.
 *
 * domain_xml.c holds the root element, the general elements (name, memory,
 * vcpu, lifecycle), the dispatch of <devices> and the helpers below; each
 * other domain_xml_AREA.c parses and formats one area of the document. All
 * of them are pure like domain_def_parse()/domain_def_format(): no I/O, no
 * mutable globals. Parsers return 0 or a negative errno with the sentence in
 * *ps->err (xml_fail); formatters cannot fail.
 */
#pragma once

#include <libxml/tree.h>
#include <stdbool.h>
#include <stdint.h>

#include "objects/domain_def.h"
#include "objects/xml_util.h"

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE_LIST ((const char *const[]){NULL})
#define PATH_MAX_BYTES 4096

/* "'a', 'b', 'c'" from an enum table, starting at index `first`. */
#define DEFINE_CHOICES(name, type, first)                                             \
  static char *name##_choices(void) {                                                 \
    GString *s = g_string_new(NULL);                                                  \
    for (int i = (first); name##_to_string((type)i); i++)                             \
      g_string_append_printf(s, "%s'%s'", i > (first) ? ", " : "",                    \
                             name##_to_string((type)i));                              \
    return g_string_free(s, FALSE);                                                   \
  }

/* Converts `value` with the table `name`, or fails with a sentence listing
 * the accepted names. `what` is "attribute 'bus'" or "the text". */
#define PARSE_ENUM(name, node, what, value, ret_out, err)                               \
  (name##_from_string((value), (ret_out)) == 0                                         \
       ? 0                                                                             \
       : dxml_bad_choice((err), (node), (what), (value), name##_choices()))

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

#define ADDR_PCI (1u << DEVICE_ADDRESS_PCI)
#define ADDR_DRIVE (1u << DEVICE_ADDRESS_DRIVE)
#define ADDR_ISA (1u << DEVICE_ADDRESS_ISA)
#define ADDR_USB (1u << DEVICE_ADDRESS_USB)
#define ADDR_VSERIAL (1u << DEVICE_ADDRESS_VIRTIO_SERIAL)

/* domain_xml.c: shared parsing helpers and the parse state */
int dxml_bad_choice(char **err, const xmlNode *node, const char *what, const char *value,
                    char *choices);
char *dxml_choices_of(const char *const *list);
bool dxml_in_list(const char *value, const char *const *list);
int dxml_require_prop(const xmlNode *n, const char *attr, char **ret, char **err);
int dxml_leaf_text(const xmlNode *n, bool strip, char **ret, char **err);
int dxml_text_element(const xmlNode *n, bool strip, char **ret, char **err);
int dxml_empty_element(const xmlNode *n, const char *const *attrs, char **err);
bool dxml_has_control(const char *s);
int dxml_check_path(const xmlNode *n, const char *what, const char *path, char **err);
int dxml_check_token(const xmlNode *n, const char *what, const char *value, char **err);
int dxml_check_ifname(const xmlNode *n, const char *what, const char *value, char **err);
int dxml_check_object_name(const xmlNode *n, const char *what, const char *value, char **err);
int dxml_claim(ParseState *ps, GHashTable *table, char *key_owned, const xmlNode *n,
               const char *what);
int dxml_prop_u(const xmlNode *n, const char *attr, uint64_t max, unsigned *ret, bool *ret_set,
                char **err);
void dxml_format_empty(XmlWriter *w, const char *name);

/* domain_xml_controller.c: <address>, <boot order>, controllers */
int dxml_parse_address(ParseState *ps, const xmlNode *dev, unsigned allowed, const char *hint,
                       DeviceAddress *ret);
int dxml_parse_boot_order(ParseState *ps, const xmlNode *dev, unsigned *ret);
void dxml_format_address(XmlWriter *w, const DeviceAddress *a);
void dxml_format_boot_order(XmlWriter *w, unsigned order);
int dxml_parse_controller(ParseState *ps, const xmlNode *n);
int dxml_assign_controller_indexes(ParseState *ps);
void dxml_format_controller(XmlWriter *w, const DomainController *c);

/* domain_xml_os.c: <os>, <features>, <cpu>, <clock> */
int dxml_parse_os(ParseState *ps, const xmlNode *n);
int dxml_parse_features(ParseState *ps, const xmlNode *n);
int dxml_parse_cpu(ParseState *ps, const xmlNode *n);
int dxml_parse_clock(ParseState *ps, const xmlNode *n);
void dxml_format_os(XmlWriter *w, const DomainOs *os);
void dxml_format_cpu(XmlWriter *w, const DomainCpu *cpu);
void dxml_format_features(XmlWriter *w, const DomainFeatures *f);
void dxml_format_clock(XmlWriter *w, const DomainDef *def);

/* domain_xml_disk.c: <disk> */
int dxml_parse_disk(ParseState *ps, const xmlNode *n);
void dxml_format_disk(XmlWriter *w, const DomainDisk *d);

/* domain_xml_net.c: <interface> */
int dxml_parse_interface(ParseState *ps, const xmlNode *n);
void dxml_assign_macs(ParseState *ps);
void dxml_assign_aliases(ParseState *ps);
void dxml_format_interface(XmlWriter *w, const DomainInterface *iface, bool live);

/* domain_xml_chardev.c: <serial>, <console> */
int dxml_parse_chardev(ParseState *ps, const xmlNode *n, bool console);
int dxml_resolve_consoles(ParseState *ps);
void dxml_format_chardev(XmlWriter *w, const char *element, const DomainChardev *data,
                         const char *target_type, unsigned port, const DeviceAddress *address,
                         bool live);

/* domain_xml_graphics.c: <graphics>, <video>, <input>, <audio> */
int dxml_parse_graphics(ParseState *ps, const xmlNode *n);
int dxml_parse_video(ParseState *ps, const xmlNode *n);
int dxml_parse_input(ParseState *ps, const xmlNode *n);
int dxml_parse_audio(ParseState *ps, const xmlNode *n);
void dxml_format_graphics(XmlWriter *w, const DomainGraphicsVnc *g);
void dxml_format_video(XmlWriter *w, const DomainVideo *v);
void dxml_format_input(XmlWriter *w, const DomainInput *in);

/* domain_xml_misc.c: <memballoon>, <rng> */
int dxml_parse_memballoon(ParseState *ps, const xmlNode *n);
int dxml_parse_rng(ParseState *ps, const xmlNode *n);
void dxml_format_memballoon(XmlWriter *w, const DomainMemballoon *m);
void dxml_format_rng(XmlWriter *w, const DomainRng *rng);
/* <channel>, <tpm>, <sound>, <redirdev>, <watchdog>, <panic> */
int dxml_parse_xdevice(ParseState *ps, const xmlNode *n);

/* ---- tables: elements kept as DomainXNode (domain_xml_table.c) ----
 *
 * An element is described by a DxElem row: its attributes (name, type,
 * allowed values or maximum), its child elements (DxElem rows themselves),
 * whether it holds text, and which <address> types it takes. The parser
 * validates against the table and stores a DomainXNode whose attributes
 * follow the table's order, so formatting is canonical; the next attribute
 * is a new row, read by the driver with domain_xnode_attr(). */
typedef enum {
  DXT_NONE,   /* no text (for DxElem.text) */
  DXT_ENUM,   /* one of `values` */
  DXT_UINT,   /* 0..max, written in decimal */
  DXT_HEX,    /* 0..max, written as 0x%x (libvirt's PCIe port numbers) */
  DXT_TOKEN,  /* letters, digits, '.', '_', '-' (names that reach QEMU options) */
  DXT_PATH,   /* an absolute path */
  DXT_STRING, /* any one-line text without control characters */
} DxType;

typedef struct {
  const char *name;
  DxType type;
  const char *const *values; /* DXT_ENUM */
  uint64_t max;              /* DXT_UINT, DXT_HEX */
  bool required;
} DxAttr;

typedef struct DxElem {
  const char *name;
  const DxAttr *attrs;            /* ends with {NULL}; NULL = none */
  const struct DxElem *children;  /* ends with {NULL}; NULL = none */
  DxType text;                    /* DXT_NONE: no text */
  unsigned address;               /* ADDR_* allowed for a child <address>, 0 = none */
  bool multiple;                  /* may appear more than once in its parent */
} DxElem;

#define DX_YESNO LIST("yes", "no")
#define DX_ONOFF LIST("on", "off")

/* Validates `n` against `spec` and stores it in *ret as a DomainXNode.
 * `typed_attrs` and `typed_children` (NULL-terminated, may be NULL) are
 * handled by the caller's typed parser: they are allowed and skipped (typed
 * children may appear once, or several times when written "*name"). With
 * typed lists, *ret holds only the rest and
 * is NULL when there is none. */
int dxml_parse_xnode(ParseState *ps, const xmlNode *n, const DxElem *spec,
                     const char *const *typed_attrs, const char *const *typed_children,
                     DomainXNode **ret);
/* The row of `name` among `rows` (ends with {NULL}), or NULL. */
const DxElem *dxml_row(const DxElem *rows, const char *name);
/* Writes a whole element from its node. */
void dxml_format_xnode(XmlWriter *w, const DomainXNode *x);
/* For a typed element with `ext`: its extra attributes (while the start tag
 * is open), whether it has extra content, and that content. */
void dxml_format_ext_attrs(XmlWriter *w, const DomainXNode *x);
bool dxml_ext_has_content(const DomainXNode *x);
void dxml_format_ext_children(XmlWriter *w, const DomainXNode *x);
