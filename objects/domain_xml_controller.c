/* domain_xml_controller.c — device addresses (<address type='pci|drive|isa'>),
 * per-device <boot order> and <controller> elements with their indexes,
 * which libvirt assigns when they are left out.
 *
 * Part of the domain XML parser and formatter; shared state and helpers are
 * in domain_xml_priv.h. Pure: no I/O, no mutable globals. */
#include "objects/domain_xml_priv.h"

#include <string.h>

#include "objects/values.h"

DEFINE_CHOICES(device_address_type, DeviceAddressType, 1)

DEFINE_CHOICES(controller_type, ControllerType, 0)

/* Parses the optional <address> child of `dev`. `allowed` is a mask of
 * ADDR_*; `hint` completes the sentence when the type is not allowed. */
int dxml_parse_address(ParseState *ps, const xmlNode *dev, unsigned allowed, const char *hint,
                       DeviceAddress *ret) {
  const xmlNode *n = xml_child(dev, "address");
  DeviceAddress a = {.type = DEVICE_ADDRESS_NONE};
  int r;
  if (!n) {
    *ret = a;
    return 0;
  }
  g_autofree char *type = NULL;
  if ((r = dxml_require_prop(n, "type", &type, ps->err)) < 0)
    return r;
  if ((r = PARSE_ENUM(device_address_type, n, "attribute 'type'", type, &a.type, ps->err)) < 0)
    return r;
  if (a.type == DEVICE_ADDRESS_NONE)
    return dxml_bad_choice(ps->err, n, "attribute 'type'", type, device_address_type_choices());
  if (!(allowed & (1u << a.type)))
    return xml_fail(ps->err, n, "address type '%s' is not supported on <%s>%s", type,
                    (const char *)dev->name, hint);
  switch (a.type) {
  case DEVICE_ADDRESS_PCI:
    if ((r = xml_check_attrs(n, LIST("type", "domain", "bus", "slot", "function",
                                     "multifunction"), ps->err)) < 0 ||
        (r = dxml_prop_u(n, "domain", 0xffff, &a.domain, NULL, ps->err)) < 0 ||
        (r = dxml_prop_u(n, "bus", 0xff, &a.bus, NULL, ps->err)) < 0 ||
        (r = dxml_prop_u(n, "slot", 0x1f, &a.slot, NULL, ps->err)) < 0 ||
        (r = dxml_prop_u(n, "function", 7, &a.function, NULL, ps->err)) < 0 ||
        (r = xml_prop_yesno(n, "multifunction", &a.multifunction, NULL, ps->err)) < 0)
      return r;
    if (a.bus == 0 && a.slot == 0)
      return xml_fail(ps->err, n, "PCI slot 0 of bus 0 belongs to the host bridge");
    if ((r = dxml_claim(ps, ps->pci_addrs,
                        g_strdup_printf("%04x:%02x:%02x.%x", a.domain, a.bus, a.slot,
                                        a.function),
                        n, "this PCI address")) < 0)
      return r;
    break;
  case DEVICE_ADDRESS_DRIVE:
    if ((r = xml_check_attrs(n, LIST("type", "controller", "bus", "target", "unit"),
                             ps->err)) < 0 ||
        (r = dxml_prop_u(n, "controller", 255, &a.controller, NULL, ps->err)) < 0 ||
        (r = dxml_prop_u(n, "bus", 255, &a.drive_bus, NULL, ps->err)) < 0 ||
        (r = dxml_prop_u(n, "target", 255, &a.target, NULL, ps->err)) < 0 ||
        (r = dxml_prop_u(n, "unit", 16383, &a.unit, NULL, ps->err)) < 0)
      return r;
    break;
  case DEVICE_ADDRESS_ISA:
    if ((r = xml_check_attrs(n, LIST("type", "iobase", "irq"), ps->err)) < 0 ||
        (r = dxml_prop_u(n, "iobase", 0xffff, &a.iobase, &a.iobase_set, ps->err)) < 0 ||
        (r = dxml_prop_u(n, "irq", 15, &a.irq, &a.irq_set, ps->err)) < 0)
      return r;
    break;
  case DEVICE_ADDRESS_USB: {
    if ((r = xml_check_attrs(n, LIST("type", "bus", "port"), ps->err)) < 0 ||
        (r = dxml_prop_u(n, "bus", 255, &a.drive_bus, NULL, ps->err)) < 0)
      return r;
    g_autofree char *port = xml_prop(n, "port");
    if (port) {
      /* "1" or a hub path "1.2.3": ports 1..31, at most 4 levels */
      g_auto(GStrv) parts = g_strsplit(port, ".", -1);
      guint np = g_strv_length(parts);
      bool ok = np >= 1 && np <= 4 && strlen(port) < sizeof(a.usb_port);
      for (guint i = 0; ok && i < np; i++) {
        uint64_t v;
        ok = value_parse_uint(parts[i], 1, 31, &v) == 0;
      }
      if (!ok)
        return xml_fail(ps->err, n, "attribute 'port' must be a USB port such as '1' or "
                        "'1.2', not '%s'", port);
      g_strlcpy(a.usb_port, port, sizeof(a.usb_port));
      if ((r = dxml_claim(ps, ps->pci_addrs, g_strdup_printf("usb/%u/%s", a.drive_bus, port), n,
                          "this USB address")) < 0)
        return r;
    }
    break;
  }
  case DEVICE_ADDRESS_VIRTIO_SERIAL:
    if ((r = xml_check_attrs(n, LIST("type", "controller", "bus", "port"), ps->err)) < 0 ||
        (r = dxml_prop_u(n, "controller", 31, &a.controller, NULL, ps->err)) < 0 ||
        (r = dxml_prop_u(n, "bus", 0, &a.drive_bus, NULL, ps->err)) < 0 ||
        (r = dxml_prop_u(n, "port", 30, &a.vs_port, NULL, ps->err)) < 0)
      return r;
    if (a.vs_port > 0 &&
        (r = dxml_claim(ps, ps->pci_addrs, g_strdup_printf("vs/%u/%u", a.controller, a.vs_port),
                        n, "this virtio-serial port")) < 0)
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
int dxml_parse_boot_order(ParseState *ps, const xmlNode *dev, unsigned *ret) {
  const xmlNode *n = xml_child(dev, "boot");
  int r;
  if (!n)
    return 0;
  if ((r = dxml_empty_element(n, LIST("order"), ps->err)) < 0)
    return r;
  unsigned order = 0;
  bool set = false;
  if ((r = dxml_prop_u(n, "order", 65535, &order, &set, ps->err)) < 0)
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

static const char *const *controller_models(ControllerType type) {
  static const char *const usb[] = {"piix3-uhci", "piix4-uhci", "ehci", "ich9-ehci1",
                                    "pci-ohci", "nec-xhci", "qemu-xhci", "ich9-uhci1",
                                    "ich9-uhci2", "ich9-uhci3", "none", NULL};
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

/* What a controller has beyond type, index, model and address. */
static const DxElem controller_row = {
  "controller",
  (const DxAttr[]){{"ports", DXT_UINT, NULL, 15}, {NULL}},
  (const DxElem[]){
    {"model", (const DxAttr[]){{"name", DXT_TOKEN, NULL, 0, true}, {NULL}}},
    {"target", (const DxAttr[]){{"chassis", DXT_UINT, NULL, 255},
                                {"port", DXT_HEX, NULL, 255},
                                {"busNr", DXT_UINT, NULL, 255},
                                {"hotplug", DXT_ENUM, DX_ONOFF},
                                {NULL}}},
    {"master", (const DxAttr[]){{"startport", DXT_UINT, NULL, 15, true}, {NULL}}},
    {NULL},
  },
};

int dxml_parse_controller(ParseState *ps, const xmlNode *n) {
  int r;
  g_autoptr(DomainController) c = g_new0(DomainController, 1);
  if ((r = dxml_parse_xnode(ps, n, &controller_row, LIST("type", "index", "model"),
                            LIST("address"), &c->ext)) < 0)
    return r;
  g_autofree char *type = NULL;
  if ((r = dxml_require_prop(n, "type", &type, ps->err)) < 0 ||
      (r = PARSE_ENUM(controller_type, n, "attribute 'type'", type, &c->type, ps->err)) < 0)
    return r;
  bool index_set = false;
  if ((r = dxml_prop_u(n, "index", 255, &c->index, &index_set, ps->err)) < 0)
    return r;
  c->model = xml_prop(n, "model");
  const char *const *models = controller_models(c->type);
  if (c->model && !dxml_in_list(c->model, models)) {
    if (!models[0])
      return xml_fail(ps->err, n, "a %s controller has no models; remove attribute 'model'",
                      type);
    g_autofree char *choices = dxml_choices_of(models);
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
  if ((r = dxml_parse_address(ps, n, root ? 0 : ADDR_PCI,
                              root ? " (the PCI root has no address)" : " (use type='pci')",
                              &c->address)) < 0)
    return r;
  /* A USB companion (UHCI beside an EHCI, with <master>) shares the index
   * of the controller it completes: by default the last USB one before it. */
  bool companion = domain_xnode_child(c->ext, "master") != NULL;
  if (companion && c->type != CONTROLLER_USB)
    return xml_fail(ps->err, n, "only a USB controller can have a <master>");
  if (companion && !index_set) {
    for (guint i = ps->def->controllers->len; i-- > 0;) {
      const DomainController *m = g_ptr_array_index(ps->def->controllers, i);
      if (m->type == CONTROLLER_USB && !domain_xnode_child(m->ext, "master")) {
        c->index = m->index;
        break;
      }
    }
    index_set = true;
  }
  if (index_set && !companion &&
      (r = dxml_claim(ps, ps->controllers, g_strdup_printf("%s/%u", type, c->index), n,
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
int dxml_assign_controller_indexes(ParseState *ps) {
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
    int r = dxml_claim(ps, ps->controllers, g_strdup_printf("%s/%u", type, idx), n,
                       "this controller type and index");
    if (r < 0)
      return r;
  }
  return 0;
}

void dxml_format_address(XmlWriter *w, const DeviceAddress *a) {
  if (a->type == DEVICE_ADDRESS_NONE)
    return;
  xml_writer_start(w, "address");
  xml_writer_attr(w, "type", device_address_type_to_string(a->type));
  switch (a->type) {
  case DEVICE_ADDRESS_NONE:
    break;
  case DEVICE_ADDRESS_PCI:
    xml_writer_attr_printf(w, "domain", "0x%04x", a->domain);
    xml_writer_attr_printf(w, "bus", "0x%02x", a->bus);
    xml_writer_attr_printf(w, "slot", "0x%02x", a->slot);
    xml_writer_attr_printf(w, "function", "0x%x", a->function);
    if (a->multifunction)
      xml_writer_attr(w, "multifunction", "on");
    break;
  case DEVICE_ADDRESS_DRIVE:
    xml_writer_attr_printf(w, "controller", "%u", a->controller);
    xml_writer_attr_printf(w, "bus", "%u", a->drive_bus);
    xml_writer_attr_printf(w, "target", "%u", a->target);
    xml_writer_attr_printf(w, "unit", "%u", a->unit);
    break;
  case DEVICE_ADDRESS_USB:
    xml_writer_attr_printf(w, "bus", "%u", a->drive_bus);
    if (a->usb_port[0])
      xml_writer_attr(w, "port", a->usb_port);
    break;
  case DEVICE_ADDRESS_VIRTIO_SERIAL:
    xml_writer_attr_printf(w, "controller", "%u", a->controller);
    xml_writer_attr_printf(w, "bus", "%u", a->drive_bus);
    xml_writer_attr_printf(w, "port", "%u", a->vs_port);
    break;
  case DEVICE_ADDRESS_ISA:
    if (a->iobase_set)
      xml_writer_attr_printf(w, "iobase", "0x%x", a->iobase);
    if (a->irq_set)
      xml_writer_attr_printf(w, "irq", "0x%x", a->irq);
    break;
  }
  xml_writer_end_empty(w);
}

void dxml_format_boot_order(XmlWriter *w, unsigned order) {
  if (!order)
    return;
  xml_writer_start(w, "boot");
  xml_writer_attr_printf(w, "order", "%u", order);
  xml_writer_end_empty(w);
}

void dxml_format_controller(XmlWriter *w, const DomainController *c) {
  xml_writer_start(w, "controller");
  xml_writer_attr(w, "type", controller_type_to_string(c->type));
  xml_writer_attr_printf(w, "index", "%u", c->index);
  xml_writer_attr(w, "model", c->model);
  dxml_format_ext_attrs(w, c->ext);
  if (c->address.type == DEVICE_ADDRESS_NONE && !dxml_ext_has_content(c->ext)) {
    xml_writer_end_empty(w);
    return;
  }
  xml_writer_end_open(w);
  dxml_format_ext_children(w, c->ext);
  dxml_format_address(w, &c->address);
  xml_writer_close(w);
}
