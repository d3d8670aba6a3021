/* domain_xml_misc.c — the remaining devices: <memballoon> and <rng>.
 *
 * Part of the domain XML parser and formatter; shared state and helpers are
 * in domain_xml_priv.h. Pure: no I/O, no mutable globals. */
#include "objects/domain_xml_priv.h"

#include <string.h>

DEFINE_CHOICES(memballoon_model, MemballoonModel, 0)

int dxml_parse_memballoon(ParseState *ps, const xmlNode *n) {
  DomainMemballoon *m = &ps->def->memballoon;
  int r;
  if ((r = xml_check_attrs(n, LIST("model"), ps->err)) < 0 ||
      (r = xml_check_children(n, LIST("stats", "address"), LIST("stats", "address"),
                              ps->err)) < 0)
    return r;
  g_autofree char *model = NULL;
  if ((r = dxml_require_prop(n, "model", &model, ps->err)) < 0 ||
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
    if ((r = dxml_empty_element(stats, LIST("period"), ps->err)) < 0 ||
        (r = dxml_prop_u(stats, "period", G_MAXINT, &m->stats_period, &set, ps->err)) < 0)
      return r;
    if (!set)
      return xml_fail(ps->err, stats, "attribute 'period' is required");
  }
  return dxml_parse_address(ps, n, ADDR_PCI, " (use type='pci')", &m->address);
}

int dxml_parse_rng(ParseState *ps, const xmlNode *n) {
  int r;
  if ((r = xml_check_attrs(n, LIST("model"), ps->err)) < 0 ||
      (r = xml_check_children(n, LIST("backend", "address"), LIST("backend", "address"),
                              ps->err)) < 0)
    return r;
  g_autofree char *model = NULL;
  if ((r = dxml_require_prop(n, "model", &model, ps->err)) < 0)
    return r;
  if (strcmp(model, "virtio") != 0)
    return xml_fail(ps->err, n, "attribute 'model' must be 'virtio', not '%s'", model);
  const xmlNode *backend = xml_child(n, "backend");
  if (!backend)
    return xml_fail(ps->err, n, "a <backend model='random'> element is required");
  g_autofree char *bmodel = NULL;
  g_autofree char *path = NULL;
  if ((r = xml_check_attrs(backend, LIST("model"), ps->err)) < 0 ||
      (r = dxml_require_prop(backend, "model", &bmodel, ps->err)) < 0)
    return r;
  if (strcmp(bmodel, "random") != 0)
    return xml_fail(ps->err, backend, "attribute 'model' must be 'random', not '%s'", bmodel);
  if ((r = dxml_leaf_text(backend, true, &path, ps->err)) < 0)
    return r;
  if (!*path) {
    g_free(path);
    path = g_strdup("/dev/urandom"); /* libvirt's default source */
  }
  if ((r = dxml_check_path(backend, "the random source", path, ps->err)) < 0)
    return r;
  g_autoptr(DomainRng) rng = g_new0(DomainRng, 1);
  rng->backend = g_steal_pointer(&path);
  if ((r = dxml_parse_address(ps, n, ADDR_PCI, " (use type='pci')", &rng->address)) < 0)
    return r;
  g_ptr_array_add(ps->def->rngs, g_steal_pointer(&rng));
  return 0;
}

void dxml_format_memballoon(XmlWriter *w, const DomainMemballoon *m) {
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
  dxml_format_address(w, &m->address);
  xml_writer_close(w);
}

void dxml_format_rng(XmlWriter *w, const DomainRng *rng) {
  xml_writer_start(w, "rng");
  xml_writer_attr(w, "model", "virtio");
  xml_writer_end_open(w);
  xml_writer_start(w, "backend");
  xml_writer_attr(w, "model", "random");
  xml_writer_end_text(w, rng->backend ? rng->backend : "/dev/urandom");
  dxml_format_address(w, &rng->address);
  xml_writer_close(w);
}

/* ---- devices described by tables only ---- */

static const DxElem channel_children[] = {
  {"source", (const DxAttr[]){{"mode", DXT_ENUM, LIST("bind", "connect")},
                              {"path", DXT_PATH},
                              {NULL}}},
  {"target", (const DxAttr[]){{"type", DXT_ENUM, LIST("virtio"), 0, true},
                              {"name", DXT_TOKEN},
                              {"state", DXT_ENUM, LIST("connected", "disconnected")},
                              {NULL}}},
  {NULL},
};

static const DxElem tpm_children[] = {
  {"backend", (const DxAttr[]){{"type", DXT_ENUM, LIST("emulator"), 0, true},
                               {"version", DXT_ENUM, LIST("1.2", "2.0")},
                               {"persistent_state", DXT_ENUM, DX_YESNO},
                               {NULL}}},
  {NULL},
};

static const DxElem sound_children[] = {
  {"codec", (const DxAttr[]){{"type", DXT_ENUM, LIST("duplex", "micro", "output"), 0, true},
                             {NULL}},
   .multiple = true},
  {"audio", (const DxAttr[]){{"id", DXT_UINT, NULL, 255, true}, {NULL}}},
  {NULL},
};

static const DxElem xdevice_rows[] = {
  {"channel", (const DxAttr[]){{"type", DXT_ENUM, LIST("unix", "spicevmc", "pty"), 0, true},
                               {NULL}},
   channel_children, DXT_NONE, ADDR_VSERIAL, true},
  {"tpm", (const DxAttr[]){{"model", DXT_ENUM, LIST("tpm-tis", "tpm-crb")}, {NULL}},
   tpm_children},
  {"sound", (const DxAttr[]){{"model", DXT_ENUM, LIST("ich6", "ich9", "ac97"), 0, true},
                             {NULL}},
   sound_children, DXT_NONE, ADDR_PCI, true},
  {"redirdev", (const DxAttr[]){{"bus", DXT_ENUM, LIST("usb"), 0, true},
                                {"type", DXT_ENUM, LIST("spicevmc"), 0, true},
                                {NULL}},
   NULL, DXT_NONE, ADDR_USB, true},
  {"watchdog", (const DxAttr[]){{"model", DXT_ENUM, LIST("i6300esb", "ib700", "itco"), 0, true},
                                {"action", DXT_ENUM,
                                 LIST("reset", "shutdown", "poweroff", "pause", "none", "dump",
                                      "inject-nmi")},
                                {NULL}},
   NULL, DXT_NONE, ADDR_PCI, true},
  {"panic", (const DxAttr[]){{"model", DXT_ENUM, LIST("isa", "pvpanic", "hyperv")}, {NULL}},
   NULL, DXT_NONE, ADDR_ISA | ADDR_PCI, true},
  {NULL},
};

int dxml_parse_xdevice(ParseState *ps, const xmlNode *n) {
  const DxElem *row = dxml_row(xdevice_rows, (const char *)n->name);
  DomainXNode *x = NULL;
  int r;
  if (!row)
    return xml_fail(ps->err, n, "element is not supported inside <devices>");
  if ((r = dxml_parse_xnode(ps, n, row, NULL, NULL, &x)) < 0)
    return r;
  if (!row->multiple)
    for (guint i = 0; i < ps->def->xdevices->len; i++)
      if (strcmp(((DomainXNode *)ps->def->xdevices->pdata[i])->name, x->name) == 0) {
        domain_xnode_free(x);
        return xml_fail(ps->err, n, "only one <%s> is supported", (const char *)n->name);
      }
  g_ptr_array_add(ps->def->xdevices, x);
  return 0;
}
