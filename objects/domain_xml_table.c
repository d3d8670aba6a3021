/* domain_xml_table.c — elements described by tables (DxElem rows, see
 * domain_xml_priv.h) and kept as DomainXNode: validation against the row,
 * canonical attribute order, formatting back.
 *
 * Part of the domain XML parser and formatter. Pure: no I/O, no mutable
 * globals. */
#include "objects/domain_xml_priv.h"

#include <errno.h>
#include <string.h>

#include "objects/values.h"

const DxElem *dxml_row(const DxElem *rows, const char *name) {
  for (; rows && rows->name; rows++)
    if (strcmp(rows->name, name) == 0)
      return rows;
  return NULL;
}

/* The canonical text of `value` for `a`, or a failure naming it. */
static int attr_value(ParseState *ps, const xmlNode *n, const DxAttr *a, const char *value,
                      char **ret) {
  int r;
  switch (a->type) {
  case DXT_ENUM:
    if (!dxml_in_list(value, a->values)) {
      g_autofree char *what = g_strdup_printf("attribute '%s'", a->name);
      return dxml_bad_choice(ps->err, n, what, value, dxml_choices_of(a->values));
    }
    *ret = g_strdup(value);
    return 0;
  case DXT_UINT:
  case DXT_HEX: {
    uint64_t v = 0;
    if ((r = xml_prop_uint(n, a->name, a->max, &v, NULL, ps->err)) < 0)
      return r;
    *ret = a->type == DXT_HEX ? g_strdup_printf("0x%" G_GINT64_MODIFIER "x", v)
                              : g_strdup_printf("%" G_GUINT64_FORMAT, v);
    return 0;
  }
  case DXT_TOKEN: {
    g_autofree char *what = g_strdup_printf("attribute '%s'", a->name);
    if ((r = dxml_check_token(n, what, value, ps->err)) < 0)
      return r;
    *ret = g_strdup(value);
    return 0;
  }
  case DXT_PATH: {
    g_autofree char *what = g_strdup_printf("attribute '%s'", a->name);
    if ((r = dxml_check_path(n, what, value, ps->err)) < 0)
      return r;
    *ret = g_strdup(value);
    return 0;
  }
  case DXT_STRING:
    if (dxml_has_control(value) || strlen(value) > 1024)
      return xml_fail(ps->err, n, "attribute '%s' must be one line of at most 1024 bytes",
                      a->name);
    *ret = g_strdup(value);
    return 0;
  case DXT_NONE:
    break;
  }
  return xml_fail(ps->err, n, "attribute '%s' is not supported", a->name);
}

static int text_value(ParseState *ps, const xmlNode *n, DxType type, char **ret) {
  g_autofree char *text = NULL;
  int r;
  if ((r = dxml_leaf_text(n, true, &text, ps->err)) < 0)
    return r;
  const char *what = "the text";
  switch (type) {
  case DXT_TOKEN:
    r = dxml_check_token(n, what, text, ps->err);
    break;
  case DXT_PATH:
    r = dxml_check_path(n, what, text, ps->err);
    break;
  case DXT_UINT: {
    uint64_t v;
    if (value_parse_uint(text, 0, G_MAXUINT32, &v) < 0)
      return xml_fail(ps->err, n, "the text must be a number, not '%s'", text);
    break;
  }
  case DXT_ENUM:
  case DXT_HEX:
  case DXT_STRING:
  case DXT_NONE:
    if (dxml_has_control(text) || strlen(text) > 1024)
      return xml_fail(ps->err, n, "the text must be one line of at most 1024 bytes");
    break;
  }
  if (r < 0)
    return r;
  *ret = g_steal_pointer(&text);
  return 0;
}

/* A leading '*' on a typed child name marks it as allowed several times. */
static void list_add(GPtrArray *list, const char *const *names, bool single) {
  for (; names && *names; names++) {
    const char *name = *names[0] == '*' ? *names + 1 : *names;
    if (!single || *names[0] != '*')
      g_ptr_array_add(list, (gpointer)name);
  }
}

int dxml_parse_xnode(ParseState *ps, const xmlNode *n, const DxElem *spec,
                     const char *const *typed_attrs, const char *const *typed_children,
                     DomainXNode **ret) {
  int r;
  g_autoptr(GPtrArray) attrs = g_ptr_array_new();
  g_autoptr(GPtrArray) children = g_ptr_array_new();
  g_autoptr(GPtrArray) single = g_ptr_array_new();
  list_add(attrs, typed_attrs, false);
  for (const DxAttr *a = spec->attrs; a && a->name; a++)
    g_ptr_array_add(attrs, (gpointer)a->name);
  g_ptr_array_add(attrs, NULL);
  list_add(children, typed_children, false);
  list_add(single, typed_children, true);
  for (const DxElem *c = spec->children; c && c->name; c++) {
    g_ptr_array_add(children, (gpointer)c->name);
    if (!c->multiple)
      g_ptr_array_add(single, (gpointer)c->name);
  }
  if (spec->address) {
    g_ptr_array_add(children, "address");
    g_ptr_array_add(single, "address");
  }
  g_ptr_array_add(children, NULL);
  g_ptr_array_add(single, NULL);
  if ((r = xml_check_attrs(n, (const char *const *)attrs->pdata, ps->err)) < 0)
    return r;
  if (spec->text == DXT_NONE &&
      (r = xml_check_children(n, (const char *const *)children->pdata,
                              (const char *const *)single->pdata, ps->err)) < 0)
    return r;

  g_autoptr(DomainXNode) x = domain_xnode_new((const char *)n->name);
  for (const DxAttr *a = spec->attrs; a && a->name; a++) {
    g_autofree char *value = xml_prop(n, a->name);
    if (!value) {
      if (a->required)
        return xml_fail(ps->err, n, "attribute '%s' is required", a->name);
      continue;
    }
    char *canonical = NULL;
    if ((r = attr_value(ps, n, a, value, &canonical)) < 0)
      return r;
    g_ptr_array_add(x->attrs, g_strdup(a->name));
    g_ptr_array_add(x->attrs, canonical);
  }
  if (spec->text != DXT_NONE) {
    if ((r = text_value(ps, n, spec->text, &x->text)) < 0)
      return r;
  } else {
    for (const xmlNode *c = n->children; c; c = c->next) {
      if (c->type != XML_ELEMENT_NODE)
        continue;
      const DxElem *row = dxml_row(spec->children, (const char *)c->name);
      if (!row)
        continue; /* typed child or <address> */
      DomainXNode *child = NULL;
      if ((r = dxml_parse_xnode(ps, c, row, NULL, NULL, &child)) < 0)
        return r;
      g_ptr_array_add(x->children, child);
    }
  }
  if (spec->address) {
    g_autofree char *hint = g_strdup_printf(" here");
    if ((r = dxml_parse_address(ps, n, spec->address, hint, &x->address)) < 0)
      return r;
  }
  if ((typed_attrs || typed_children) && x->attrs->len == 0 && x->children->len == 0 &&
      x->address.type == DEVICE_ADDRESS_NONE)
    g_clear_pointer(&x, domain_xnode_free);
  *ret = g_steal_pointer(&x);
  return 0;
}

void dxml_format_ext_attrs(XmlWriter *w, const DomainXNode *x) {
  for (guint i = 0; x && i + 1 < x->attrs->len; i += 2)
    xml_writer_attr(w, x->attrs->pdata[i], x->attrs->pdata[i + 1]);
}

bool dxml_ext_has_content(const DomainXNode *x) {
  return x && (x->children->len > 0 || x->address.type != DEVICE_ADDRESS_NONE);
}

void dxml_format_ext_children(XmlWriter *w, const DomainXNode *x) {
  for (guint i = 0; x && i < x->children->len; i++)
    dxml_format_xnode(w, x->children->pdata[i]);
  if (x)
    dxml_format_address(w, &x->address);
}

void dxml_format_xnode(XmlWriter *w, const DomainXNode *x) {
  xml_writer_start(w, x->name);
  dxml_format_ext_attrs(w, x);
  if (x->text) {
    xml_writer_end_text(w, x->text);
    return;
  }
  if (!dxml_ext_has_content(x)) {
    xml_writer_end_empty(w);
    return;
  }
  xml_writer_end_open(w);
  dxml_format_ext_children(w, x);
  xml_writer_close(w);
}
