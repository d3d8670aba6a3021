/* xml_util.c — safe XML parsing, strict element checking and a canonical
 * writer; see xml_util.h. The only file outside the *_xml.c parsers that
 * includes libxml2. */
#include "objects/xml_util.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <stdarg.h>
#include <string.h>

#include "objects/values.h"

static void silent_error(void *ctx, const char *msg, ...) {}

/* A DOCTYPE is the only way to declare entities; refusing it before libxml2
 * sees the text rules out external entities and expansion bombs for good. */
static bool has_doctype(const char *buf, size_t len) {
  static const char needle[] = "<!DOCTYPE";
  static const char entity[] = "<!ENTITY";
  return g_strstr_len(buf, (gssize)len, needle) != NULL ||
         g_strstr_len(buf, (gssize)len, entity) != NULL;
}

int xml_parse_safe(const char *buf, size_t len, const char *root_name,
                   xmlDoc **ret_doc, char **ret_error) {
  if (len > XML_MAX_DOCUMENT_SIZE) {
    *ret_error = g_strdup_printf("the document is %zu bytes; at most %d are accepted",
                                 len, XML_MAX_DOCUMENT_SIZE);
    return -EFBIG;
  }
  if (memchr(buf, '\0', len)) {
    *ret_error = g_strdup("the document contains a NUL byte");
    return -EINVAL;
  }
  if (has_doctype(buf, len)) {
    *ret_error = g_strdup("DOCTYPE and entity declarations are not accepted");
    return -EINVAL;
  }
  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  if (!ctxt) {
    *ret_error = g_strdup("out of memory while parsing");
    return -ENOMEM;
  }
  xmlSetGenericErrorFunc(NULL, silent_error);
  xmlDoc *doc = xmlCtxtReadMemory(ctxt, buf, (int)len, "config.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR |
                                  XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
  if (!doc) {
    const xmlError *e = xmlCtxtGetLastError(ctxt);
    if (e && e->message) {
      g_autofree char *msg = g_strstrip(g_strdup(e->message));
      *ret_error = g_strdup_printf("line %d: malformed XML: %s", e->line, msg);
    } else {
      *ret_error = g_strdup("malformed XML");
    }
    xmlFreeParserCtxt(ctxt);
    return -EINVAL;
  }
  xmlFreeParserCtxt(ctxt);
  xmlNode *root = xmlDocGetRootElement(doc);
  if (!root || strcmp((const char *)root->name, root_name) != 0) {
    *ret_error = g_strdup_printf("the root element must be <%s>, not <%s>", root_name,
                                 root ? (const char *)root->name : "");
    xmlFreeDoc(doc);
    return -EINVAL;
  }
  *ret_doc = doc;
  return 0;
}

bool xml_is_complete_document(const char *buf, size_t len) {
  if (len == 0 || len > XML_MAX_DOCUMENT_SIZE || memchr(buf, '\0', len) || has_doctype(buf, len))
    return false;
  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  if (!ctxt)
    return false;
  xmlSetGenericErrorFunc(NULL, silent_error);
  xmlDoc *doc = xmlCtxtReadMemory(ctxt, buf, (int)len, "config.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  xmlFreeParserCtxt(ctxt);
  if (!doc)
    return false;
  xmlFreeDoc(doc);
  return true;
}

int xml_fail(char **ret_error, const xmlNode *node, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *text = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  if (ret_error) {
    g_free(*ret_error);
    if (node)
      *ret_error = g_strdup_printf("line %ld: <%s>: %s", xmlGetLineNo(node),
                                   (const char *)node->name, text);
    else
      *ret_error = g_steal_pointer(&text);
  }
  return -EINVAL;
}

char *xml_prop(const xmlNode *node, const char *name) {
  xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
  if (!v)
    return NULL;
  char *copy = g_strdup((const char *)v);
  xmlFree(v);
  return copy;
}

char *xml_text(const xmlNode *node) {
  xmlChar *v = xmlNodeGetContent(node);
  char *copy = g_strstrip(g_strdup(v ? (const char *)v : ""));
  xmlFree(v);
  return copy;
}

xmlNode *xml_child(const xmlNode *node, const char *name) {
  for (xmlNode *c = node->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
      return c;
  return NULL;
}

static bool in_list(const char *name, const char *const *list) {
  for (; list && *list; list++)
    if (strcmp(name, *list) == 0)
      return true;
  return false;
}

int xml_check_attrs(const xmlNode *node, const char *const *allowed, char **ret_error) {
  for (xmlAttr *a = node->properties; a; a = a->next) {
    if (a->ns)
      return xml_fail(ret_error, node, "attribute '%s:%s' is not supported",
                      (const char *)a->ns->prefix, (const char *)a->name);
    if (!in_list((const char *)a->name, allowed))
      return xml_fail(ret_error, node, "attribute '%s' is not supported",
                      (const char *)a->name);
  }
  return 0;
}

int xml_check_children(const xmlNode *node, const char *const *allowed,
                       const char *const *single, char **ret_error) {
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  for (xmlNode *c = node->children; c; c = c->next) {
    switch (c->type) {
    case XML_ELEMENT_NODE:
      if (!in_list((const char *)c->name, allowed))
        return xml_fail(ret_error, c, "element is not supported inside <%s>",
                        (const char *)node->name);
      if (in_list((const char *)c->name, single) &&
          !g_hash_table_add(seen, (gpointer)c->name))
        return xml_fail(ret_error, c, "element may appear only once");
      break;
    case XML_TEXT_NODE: {
      const char *t = (const char *)c->content;
      for (; t && *t; t++)
        if (!g_ascii_isspace(*t))
          return xml_fail(ret_error, node, "unexpected text inside <%s>",
                          (const char *)node->name);
      break;
    }
    case XML_COMMENT_NODE:
      break;
    default:
      return xml_fail(ret_error, node, "unsupported XML content inside <%s>",
                      (const char *)node->name);
    }
  }
  return 0;
}

int xml_prop_uint(const xmlNode *node, const char *name, uint64_t max,
                  uint64_t *ret_value, bool *ret_present, char **ret_error) {
  g_autofree char *v = xml_prop(node, name);
  if (ret_present)
    *ret_present = v != NULL;
  if (!v)
    return 0;
  uint64_t n;
  /* libvirt writes PCI addresses in hex: 0x0a */
  if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    char *end = NULL;
    if (!g_ascii_isxdigit(v[2]))
      return xml_fail(ret_error, node, "attribute '%s' is not a number: '%s'", name, v);
    errno = 0;
    n = g_ascii_strtoull(v + 2, &end, 16);
    if (errno || *end || n > max)
      return xml_fail(ret_error, node, "attribute '%s' is out of range: '%s'", name, v);
  } else if (value_parse_uint(v, 0, max, &n) < 0) {
    return xml_fail(ret_error, node, "attribute '%s' must be a number from 0 to %" G_GUINT64_FORMAT
                    ", not '%s'", name, max, v);
  }
  *ret_value = n;
  return 0;
}

int xml_prop_yesno(const xmlNode *node, const char *name, bool *ret_value,
                   bool *ret_present, char **ret_error) {
  g_autofree char *v = xml_prop(node, name);
  if (ret_present)
    *ret_present = v != NULL;
  if (!v)
    return 0;
  if (strcmp(v, "yes") == 0 || strcmp(v, "on") == 0)
    *ret_value = true;
  else if (strcmp(v, "no") == 0 || strcmp(v, "off") == 0)
    *ret_value = false;
  else
    return xml_fail(ret_error, node, "attribute '%s' must be 'yes' or 'no', not '%s'", name, v);
  return 0;
}

/* ---- writer ---- */

struct XmlWriter {
  GString *out;
  GPtrArray *open;  /* names of open elements */
  bool in_tag;      /* "<name attr=..." written, not yet closed */
};

XmlWriter *xml_writer_new(void) {
  XmlWriter *w = g_new0(XmlWriter, 1);
  w->out = g_string_sized_new(1024);
  w->open = g_ptr_array_new_with_free_func(g_free);
  return w;
}

void xml_writer_free(XmlWriter *w) {
  if (!w)
    return;
  if (w->out)
    g_string_free(w->out, TRUE);
  g_ptr_array_unref(w->open);
  g_free(w);
}

char *xml_writer_finish(XmlWriter *w) {
  g_assert(!w->in_tag && w->open->len == 0);
  char *s = g_string_free(g_steal_pointer(&w->out), FALSE);
  xml_writer_free(w);
  return s;
}

void xml_escape_append(GString *out, const char *text, bool attribute) {
  for (const char *p = text; *p; p++) {
    switch (*p) {
    case '&': g_string_append(out, "&amp;"); break;
    case '<': g_string_append(out, "&lt;"); break;
    case '>': g_string_append(out, "&gt;"); break;
    case '"': g_string_append(out, attribute ? "&quot;" : "\""); break;
    case '\'': g_string_append(out, attribute ? "&apos;" : "'"); break;
    case '\n': g_string_append(out, attribute ? "&#10;" : "\n"); break;
    case '\t': g_string_append(out, attribute ? "&#9;" : "\t"); break;
    case '\r': g_string_append(out, "&#13;"); break;
    default: g_string_append_c(out, *p);
    }
  }
}

static void indent(XmlWriter *w) {
  for (guint i = 0; i < w->open->len; i++)
    g_string_append(w->out, "  ");
}

void xml_writer_start(XmlWriter *w, const char *name) {
  g_assert(!w->in_tag);
  indent(w);
  g_string_append_printf(w->out, "<%s", name);
  g_ptr_array_add(w->open, g_strdup(name));
  w->in_tag = true;
}

void xml_writer_attr(XmlWriter *w, const char *name, const char *value) {
  g_assert(w->in_tag);
  if (!value)
    return;
  g_string_append_printf(w->out, " %s='", name);
  xml_escape_append(w->out, value, true);
  g_string_append_c(w->out, '\'');
}

void xml_writer_attr_printf(XmlWriter *w, const char *name, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *v = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  xml_writer_attr(w, name, v);
}

static char *pop(XmlWriter *w) {
  return g_ptr_array_steal_index(w->open, w->open->len - 1);
}

void xml_writer_end_empty(XmlWriter *w) {
  g_assert(w->in_tag);
  g_string_append(w->out, "/>\n");
  g_free(pop(w));
  w->in_tag = false;
}

void xml_writer_end_text(XmlWriter *w, const char *text) {
  g_assert(w->in_tag);
  g_autofree char *name = pop(w);
  g_string_append_c(w->out, '>');
  xml_escape_append(w->out, text ? text : "", false);
  g_string_append_printf(w->out, "</%s>\n", name);
  w->in_tag = false;
}

void xml_writer_end_open(XmlWriter *w) {
  g_assert(w->in_tag);
  g_string_append(w->out, ">\n");
  w->in_tag = false;
}

void xml_writer_close(XmlWriter *w) {
  g_assert(!w->in_tag && w->open->len > 0);
  g_autofree char *name = pop(w);
  indent(w);
  g_string_append_printf(w->out, "</%s>\n", name);
}

void xml_writer_raw_block(XmlWriter *w, const char *xml) {
  g_assert(!w->in_tag);
  g_string_append(w->out, xml);
  if (w->out->len && w->out->str[w->out->len - 1] != '\n')
    g_string_append_c(w->out, '\n');
}

char *xml_node_to_string(const xmlNode *node) {
  xmlBuffer *buf = xmlBufferCreate();
  xmlNodeDump(buf, node->doc, (xmlNode *)node, 0, 0);
  char *s = g_strdup((const char *)xmlBufferContent(buf));
  xmlBufferFree(buf);
  return s;
}

void xml_writer_text_element(XmlWriter *w, const char *name, const char *text) {
  if (!text)
    return;
  xml_writer_start(w, name);
  xml_writer_end_text(w, text);
}

void xml_writer_text_element_printf(XmlWriter *w, const char *name, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *v = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  xml_writer_text_element(w, name, v);
}

void xml_writer_raw(XmlWriter *w, const char *text) {
  g_assert(!w->in_tag);
  indent(w);
  g_string_append(w->out, text);
  g_string_append_c(w->out, '\n');
}
