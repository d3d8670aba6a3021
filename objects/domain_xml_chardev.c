/* domain_xml_chardev.c — character devices: <serial> and <console>, their
 * ports, and libvirt's serial console alias (see domain_def.h).
 *
 * Part of the domain XML parser and formatter; shared state and helpers are
 * in domain_xml_priv.h. Pure: no I/O, no mutable globals. */
#include "objects/domain_xml_priv.h"

#include <string.h>

DEFINE_CHOICES(chardev_type, ChardevType, 0)

/* <serial> and <console>. `console` selects the console's target types. */
int dxml_parse_chardev(ParseState *ps, const xmlNode *n, bool console) {
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
  if ((r = dxml_require_prop(n, "type", &type, ps->err)) < 0 ||
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
    if (path && (r = dxml_check_path(source, "attribute 'path'", path, ps->err)) < 0)
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
      if (!dxml_in_list(ttype, target_types)) {
        g_autofree char *choices = dxml_choices_of(target_types);
        return xml_fail(ps->err, target, "attribute 'type' must be one of %s, not '%s'",
                        choices, ttype);
      }
      g_free(chr->target_type);
      chr->target_type = g_steal_pointer(&ttype);
    }
    bool serial_kind = !console || strcmp(chr->target_type, "serial") == 0;
    if ((r = dxml_prop_u(target, "port", serial_kind ? 3 : 30, &chr->target_port, &port_set,
                         ps->err)) < 0)
      return r;
    /* libvirt writes <model name='isa-serial'/>; it follows from the type */
    const xmlNode *model = xml_child(target, "model");
    if (model) {
      g_autofree char *mname = NULL;
      if ((r = dxml_empty_element(model, LIST("name"), ps->err)) < 0 ||
          (r = dxml_require_prop(model, "name", &mname, ps->err)) < 0)
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
    if ((r = dxml_parse_address(ps, n, ADDR_ISA, " (an isa-serial port takes type='isa')",
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
int dxml_resolve_consoles(ParseState *ps) {
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

/* `data` gives type and source, `target` the target and address: they
 * differ for the serial console alias, written from serials[0]. */
void dxml_format_chardev(XmlWriter *w, const char *element, const DomainChardev *data,
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
    dxml_format_address(w, address);
  xml_writer_close(w);
}
