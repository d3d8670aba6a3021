/* domain_xml_graphics.c — what the user sees and touches: <graphics>,
 * <video>, <input> and <audio>.
 *
 * Part of the domain XML parser and formatter; shared state and helpers are
 * in domain_xml_priv.h. Pure: no I/O, no mutable globals. */
#include "objects/domain_xml_priv.h"

#include <arpa/inet.h>
#include <string.h>

#include "objects/values.h"

DEFINE_CHOICES(video_model, VideoModel, 0)

DEFINE_CHOICES(input_type, InputType, 0)

DEFINE_CHOICES(input_bus, InputBus, 0)

static bool is_ip_address(const char *s) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* SPICE's options beyond port and listen; each row is a -spice option.
 * tlsPort='-1' (what virt-install writes) is accepted and dropped: virtfs
 * configures no SPICE TLS, which is what libvirt does by default too. */
static const DxElem spice_row = {
  "graphics",
  NULL,
  (const DxElem[]){
    {"image", (const DxAttr[]){{"compression", DXT_ENUM,
                                LIST("auto_glz", "auto_lz", "quic", "glz", "lz", "off"), 0,
                                true},
                               {NULL}}},
    {"streaming", (const DxAttr[]){{"mode", DXT_ENUM, LIST("filter", "all", "off"), 0, true},
                                   {NULL}}},
    {"clipboard", (const DxAttr[]){{"copypaste", DXT_ENUM, DX_YESNO, 0, true}, {NULL}}},
    {"mouse", (const DxAttr[]){{"mode", DXT_ENUM, LIST("server", "client"), 0, true}, {NULL}}},
    {"filetransfer", (const DxAttr[]){{"enable", DXT_ENUM, DX_YESNO, 0, true}, {NULL}}},
    {NULL},
  },
};
static const DxElem vnc_row = {"graphics"};

int dxml_parse_graphics(ParseState *ps, const xmlNode *n) {
  int r;
  g_autofree char *gtype = xml_prop(n, "type");
  bool spice = g_strcmp0(gtype, "spice") == 0;
  g_autoptr(DomainXNode) ext = NULL;
  if ((r = dxml_parse_xnode(ps, n, spice ? &spice_row : &vnc_row,
                            spice ? LIST("type", "port", "autoport", "listen", "tlsPort")
                                  : LIST("type", "port", "autoport", "listen"),
                            LIST("listen"), &ext)) < 0)
    return r;
  g_autofree char *tls_port = xml_prop(n, "tlsPort");
  if (tls_port && strcmp(tls_port, "-1") != 0)
    return xml_fail(ps->err, n, "SPICE over TLS is not supported: leave tlsPort out or '-1'");
  if (ps->graphics)
    return xml_fail(ps->err, n, "only one <graphics> is supported (the first is on line %ld)",
                    xmlGetLineNo(ps->graphics));
  ps->graphics = n;
  g_autofree char *type = NULL;
  if ((r = dxml_require_prop(n, "type", &type, ps->err)) < 0)
    return r;
  if (strcmp(type, "vnc") != 0 && !spice)
    return xml_fail(ps->err, n, "attribute 'type' must be 'vnc' or 'spice', not '%s'", type);
  g_autoptr(DomainGraphicsVnc) g = g_new0(DomainGraphicsVnc, 1);
  g->spice = spice;
  g->ext = g_steal_pointer(&ext);
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
    if ((r = dxml_empty_element(child, LIST("type", "address"), ps->err)) < 0 ||
        (r = dxml_require_prop(child, "type", &ltype, ps->err)) < 0)
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

/* <video><model>: sizes in KiB (QEMU takes MiB or bytes, see
 * qemu_argv_graphics.c) and whether it is the primary adapter. */
static const DxElem video_model_row = {
  "model",
  (const DxAttr[]){{"ram", DXT_UINT, NULL, 4194304},
                   {"vgamem", DXT_UINT, NULL, 4194304},
                   {"primary", DXT_ENUM, DX_YESNO},
                   {NULL}},
};

int dxml_parse_video(ParseState *ps, const xmlNode *n) {
  int r;
  if ((r = xml_check_attrs(n, NONE_LIST, ps->err)) < 0 ||
      (r = xml_check_children(n, LIST("model", "address"), LIST("model", "address"),
                              ps->err)) < 0)
    return r;
  g_autoptr(DomainVideo) v = g_new0(DomainVideo, 1);
  v->model = VIDEO_VGA; /* <video> without a model: QEMU's standard VGA */
  const xmlNode *model = xml_child(n, "model");
  if (model) {
    if ((r = dxml_parse_xnode(ps, model, &video_model_row, LIST("type", "vram", "heads"), NULL,
                              &v->model_ext)) < 0 ||
        (r = xml_check_children(model, NONE_LIST, NULL, ps->err)) < 0)
      return r;
    g_autofree char *type = NULL;
    if ((r = dxml_require_prop(model, "type", &type, ps->err)) < 0 ||
        (r = PARSE_ENUM(video_model, model, "attribute 'type'", type, &v->model, ps->err)) < 0 ||
        (r = dxml_prop_u(model, "vram", 4194304, &v->vram, NULL, ps->err)) < 0 ||
        (r = dxml_prop_u(model, "heads", 16, &v->heads, NULL, ps->err)) < 0)
      return r;
    g_autofree char *vram = xml_prop(model, "vram");
    g_autofree char *heads = xml_prop(model, "heads");
    if ((vram && v->vram == 0) || (heads && v->heads == 0))
      return xml_fail(ps->err, model, "vram and heads must be at least 1");
    if (v->model == VIDEO_NONE && (vram || heads || v->model_ext))
      return xml_fail(ps->err, model, "a video of type 'none' has no vram or heads");
  }
  if (v->model == VIDEO_NONE) {
    if (xml_child(n, "address"))
      return xml_fail(ps->err, xml_child(n, "address"), "a video of type 'none' has no address");
    ps->video_none = n;
  } else if ((r = dxml_parse_address(ps, n, ADDR_PCI, " (use type='pci')", &v->address)) < 0) {
    return r;
  }
  g_ptr_array_add(ps->def->videos, g_steal_pointer(&v));
  return 0;
}

int dxml_parse_input(ParseState *ps, const xmlNode *n) {
  int r;
  if ((r = xml_check_attrs(n, LIST("type", "bus"), ps->err)) < 0 ||
      (r = xml_check_children(n, LIST("address"), LIST("address"), ps->err)) < 0)
    return r;
  g_autoptr(DomainInput) in = g_new0(DomainInput, 1);
  g_autofree char *type = NULL;
  if ((r = dxml_require_prop(n, "type", &type, ps->err)) < 0 ||
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
  if ((r = dxml_parse_address(ps, n,
                              virtio ? ADDR_PCI : in->bus == INPUT_BUS_USB ? ADDR_USB : 0, hint,
                              &in->address)) < 0)
    return r;
  g_ptr_array_add(ps->def->inputs, g_steal_pointer(&in));
  return 0;
}

int dxml_parse_audio(ParseState *ps, const xmlNode *n) {
  int r;
  if ((r = dxml_empty_element(n, LIST("id", "type"), ps->err)) < 0)
    return r;
  unsigned id = 0;
  bool set = false;
  g_autofree char *type = NULL;
  if ((r = dxml_prop_u(n, "id", 255, &id, &set, ps->err)) < 0)
    return r;
  if (!set)
    return xml_fail(ps->err, n, "attribute 'id' is required");
  if (id == 0)
    return xml_fail(ps->err, n, "attribute 'id' must be at least 1");
  if ((r = dxml_require_prop(n, "type", &type, ps->err)) < 0)
    return r;
  if (strcmp(type, "none") != 0 && strcmp(type, "spice") != 0)
    return xml_fail(ps->err, n, "attribute 'type' must be 'none' or 'spice', not '%s'", type);
  const xmlNode *prev = g_hash_table_lookup(ps->audio_ids, GUINT_TO_POINTER(id));
  if (prev)
    return xml_fail(ps->err, n, "audio id %u is already used on line %ld", id,
                    xmlGetLineNo(prev));
  g_hash_table_insert(ps->audio_ids, GUINT_TO_POINTER(id), (gpointer)n);
  DomainAudio *a = g_new0(DomainAudio, 1);
  a->id = id;
  a->spice = strcmp(type, "spice") == 0;
  g_ptr_array_add(ps->def->audios, a);
  return 0;
}

void dxml_format_graphics(XmlWriter *w, const DomainGraphicsVnc *g) {
  xml_writer_start(w, "graphics");
  xml_writer_attr(w, "type", g->spice ? "spice" : "vnc");
  xml_writer_attr_printf(w, "port", "%d", g->port < 0 ? -1 : g->port);
  xml_writer_attr(w, "autoport", g->port < 0 ? "yes" : "no");
  if (!g->listen && !dxml_ext_has_content(g->ext)) {
    xml_writer_end_empty(w);
    return;
  }
  xml_writer_attr(w, "listen", g->listen);
  xml_writer_end_open(w);
  if (g->listen) {
    xml_writer_start(w, "listen");
    xml_writer_attr(w, "type", "address");
    xml_writer_attr(w, "address", g->listen);
    xml_writer_end_empty(w);
  }
  dxml_format_ext_children(w, g->ext);
  xml_writer_close(w);
}

void dxml_format_video(XmlWriter *w, const DomainVideo *v) {
  xml_writer_start(w, "video");
  xml_writer_end_open(w);
  xml_writer_start(w, "model");
  xml_writer_attr(w, "type", video_model_to_string(v->model));
  if (v->vram)
    xml_writer_attr_printf(w, "vram", "%u", v->vram);
  if (v->heads)
    xml_writer_attr_printf(w, "heads", "%u", v->heads);
  dxml_format_ext_attrs(w, v->model_ext);
  xml_writer_end_empty(w);
  dxml_format_address(w, &v->address);
  xml_writer_close(w);
}

void dxml_format_input(XmlWriter *w, const DomainInput *in) {
  xml_writer_start(w, "input");
  xml_writer_attr(w, "type", input_type_to_string(in->type));
  xml_writer_attr(w, "bus", input_bus_to_string(in->bus));
  if (in->address.type == DEVICE_ADDRESS_NONE) {
    xml_writer_end_empty(w);
    return;
  }
  xml_writer_end_open(w);
  dxml_format_address(w, &in->address);
  xml_writer_close(w);
}
