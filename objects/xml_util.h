/* xml_util.h — the shared, safe way virtfs reads and writes XML documents.
 * Used by the *_xml.c files of each object type and nothing else.
 *
 * Reading: xml_parse_safe() refuses a DOCTYPE (and so every entity
 * declaration: no external entities, no expansion bombs), never touches the
 * network, caps the size, and reports errors as "line N: ..." sentences.
 * Checking: xml_check_*() reject attributes and child elements the caller
 * does not list, so nothing unsupported is ever dropped silently.
 * Writing: XmlWriter builds canonical text (2-space indent, attributes in the
 * order the caller writes them, escaped values).
 *
 * Error convention: functions return 0 or a negative errno and, on error,
 * store a newly allocated sentence in *ret_error. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stdint.h>

#define XML_MAX_DOCUMENT_SIZE (1024 * 1024)

/* Parses `len` bytes. -EFBIG over XML_MAX_DOCUMENT_SIZE, -EINVAL otherwise.
 * The root element must be named `root_name`. */
int xml_parse_safe(const char *buf, size_t len, const char *root_name,
                   xmlDoc **ret_doc, char **ret_error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

/* Whether `len` bytes are one whole, well-formed XML document (whatever its
 * root), so a writer that sent them has finished. False for text with a
 * DOCTYPE or entity declaration, a NUL byte or over the size cap: those are
 * left to xml_parse_safe() and its sentences. */
bool xml_is_complete_document(const char *buf, size_t len);

/* An error sentence about `node`: "line 12: <disk>: " followed by the
 * formatted text. Always returns -EINVAL so callers can `return xml_fail(...)`. */
int xml_fail(char **ret_error, const xmlNode *node, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* The value of attribute `name` (newly allocated) or NULL. */
char *xml_prop(const xmlNode *node, const char *name);

/* The text content of `node` without surrounding blanks (newly allocated). */
char *xml_text(const xmlNode *node);

/* The first child element named `name`, or NULL. */
xmlNode *xml_child(const xmlNode *node, const char *name);

/* Rejects any attribute of `node` not in the NULL-terminated `allowed` list. */
int xml_check_attrs(const xmlNode *node, const char *const *allowed, char **ret_error);

/* Rejects any child element of `node` not in the NULL-terminated `allowed`
 * list, any non-blank text between child elements, and any element listed
 * in `single` (NULL-terminated, may be NULL) that appears twice. */
int xml_check_children(const xmlNode *node, const char *const *allowed,
                       const char *const *single, char **ret_error);

/* Attribute conveniences: absent attributes leave the output untouched and
 * return 0; a present but invalid one fails with a sentence naming it. */
int xml_prop_uint(const xmlNode *node, const char *name, uint64_t max,
                  uint64_t *ret_value, bool *ret_present, char **ret_error);
/* libvirt's yes/no and on/off attributes. */
int xml_prop_yesno(const xmlNode *node, const char *name, bool *ret_value,
                   bool *ret_present, char **ret_error);

/* ---- writing ---- */

typedef struct XmlWriter XmlWriter;

XmlWriter *xml_writer_new(void);
/* Returns the text and frees the writer. */
char *xml_writer_finish(XmlWriter *w);
void xml_writer_free(XmlWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(XmlWriter, xml_writer_free)

/* Opens "<name", then attributes are added, then one of: xml_writer_end_empty
 * ("/>"), xml_writer_end_text (">text</name>"), or xml_writer_end_open (">"
 * followed later by xml_writer_close). */
void xml_writer_start(XmlWriter *w, const char *name);
void xml_writer_attr(XmlWriter *w, const char *name, const char *value);
void xml_writer_attr_printf(XmlWriter *w, const char *name, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
void xml_writer_end_empty(XmlWriter *w);
void xml_writer_end_text(XmlWriter *w, const char *text);
void xml_writer_end_open(XmlWriter *w);
void xml_writer_close(XmlWriter *w);

/* <name>text</name> in one call; nothing is written when text is NULL. */
void xml_writer_text_element(XmlWriter *w, const char *name, const char *text);
/* Appends `text`, already well-formed XML, as it is on its own line at the
 * current depth (for content kept verbatim, such as <metadata>). */
void xml_writer_raw(XmlWriter *w, const char *text);
void xml_writer_text_element_printf(XmlWriter *w, const char *name, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* Appends `xml`, a complete element the caller formatted itself (e.g. a
 * domain inside a snapshot), verbatim between elements: unlike
 * xml_writer_raw, no indentation is added. */
void xml_writer_raw_block(XmlWriter *w, const char *xml);

/* The element `node` and its subtree as text (libxml2's serialization). */
char *xml_node_to_string(const xmlNode *node);

/* Appends `text` escaped for XML content or attribute values. */
void xml_escape_append(GString *out, const char *text, bool attribute);
