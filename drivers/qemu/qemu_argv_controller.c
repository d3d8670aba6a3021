/* qemu_argv_controller.c — PCI placement (explicit <address> or the lowest
 * free slot on bus 0) and the controllers, including those the devices need
 * but the definition leaves out, as libvirt adds them.
 * Part of the builder; see qemu_argv_priv.h. */
#include "drivers/qemu/qemu_argv_priv.h"

void qargv_pci_reserve(Builder *b, const DeviceAddress *a) {
  if (a->type == DEVICE_ADDRESS_PCI && a->bus == 0 && a->slot < PCI_SLOTS)
    b->slots_used |= 1u << a->slot;
}

static bool pci_slot_reserved(const Builder *b, unsigned slot) {
  /* 0: host bridge; pc 1: PIIX3 (ISA, IDE, PM); q35 0x1f: ICH9 (LPC,
   * AHCI, SMBus). Explicit addresses may still use functions there, as
   * libvirt's own XML does for the PIIX3 USB controller at 01.2. */
  return slot == 0 || (!b->q35 && slot == 1) || (b->q35 && slot == 0x1f);
}

/* Appends bus= and addr= for a PCI device: its <address> or the lowest free
 * slot. */
void qargv_opt_pci(Builder *b, GString *s, const char *label, const DeviceAddress *a) {
  switch (a->type) {
  case DEVICE_ADDRESS_NONE:
    for (unsigned slot = 0; slot < PCI_SLOTS; slot++) {
      if (pci_slot_reserved(b, slot) || (b->slots_used & (1u << slot)))
        continue;
      b->slots_used |= 1u << slot;
      qemu_opt_append(s, "bus", b->pci_bus);
      optf(s, "addr", "0x%x", slot);
      return;
    }
    fail(b, -ENOSPC, "%s: no PCI slot is left on bus 0 (PCI bridges are not supported)", label);
    return;
  case DEVICE_ADDRESS_PCI:
    /* Bus N is the one behind the PCI controller of index N (a PCIe root
     * port or a bridge), which QEMU knows as pci.N, as in libvirt. */
    if (a->domain != 0 ||
        (a->bus != 0 && (a->bus > CONTROLLER_INDEX_MAX || !(b->pci_buses & (1u << a->bus))))) {
      fail(b, -EINVAL, "%s: PCI domain %u bus %u does not exist: bus 0 or the index of a "
                       "pci controller", label, a->domain, a->bus);
      return;
    }
    if ((a->bus == 0 && a->slot == 0) || a->slot >= PCI_SLOTS || a->function > 7) {
      fail(b, -EINVAL,
           "%s: PCI slot 0x%x function %u is out of range (slot 0x1..0x1f, function 0..7)",
           label, a->slot, a->function);
      return;
    }
    if (a->bus == 0)
      qemu_opt_append(s, "bus", b->pci_bus);
    else
      optf(s, "bus", "pci.%u", a->bus);
    if (a->function)
      optf(s, "addr", "0x%x.0x%x", a->slot, a->function);
    else
      optf(s, "addr", "0x%x", a->slot);
    if (a->multifunction)
      qemu_opt_append(s, "multifunction", "on");
    return;
  case DEVICE_ADDRESS_DRIVE:
  case DEVICE_ADDRESS_ISA:
  case DEVICE_ADDRESS_USB:
  case DEVICE_ADDRESS_VIRTIO_SERIAL:
    break;
  }
  fail(b, -EINVAL, "%s: an address of type '%s' is not valid on a PCI device", label,
       qargv_address_type_name(a->type));
}

bool qargv_check_no_address(Builder *b, const char *label, const DeviceAddress *a) {
  if (a->type == DEVICE_ADDRESS_NONE)
    return true;
  fail(b, -EINVAL, "%s: an address of type '%s' is not valid here", label,
       qargv_address_type_name(a->type));
  return false;
}

static const char *usb_device(const Builder *b, const char *model) {
  if (!model)
    return b->q35 ? "qemu-xhci" : "piix3-usb-uhci";
  static const char *const map[][2] = {
    {"piix3-uhci", "piix3-usb-uhci"}, {"piix4-uhci", "piix4-usb-uhci"},
    {"ehci", "usb-ehci"},             {"ich9-ehci1", "ich9-usb-ehci1"},
    {"pci-ohci", "pci-ohci"},         {"nec-xhci", "nec-usb-xhci"},
    {"qemu-xhci", "qemu-xhci"},       {"ich9-uhci1", "ich9-usb-uhci1"},
    {"ich9-uhci2", "ich9-usb-uhci2"}, {"ich9-uhci3", "ich9-usb-uhci3"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
    if (strcmp(model, map[i][0]) == 0)
      return map[i][1];
  return NULL;
}

static void emit_controller_device(Builder *b, const char *device, const char *id,
                                   const char *label, const DeviceAddress *a) {
  GString *s = opts_new(device);
  qemu_opt_append(s, "id", id);
  qargv_opt_pci(b, s, label, a);
  arg_opts(b, "-device", s);
}

/* The PCI controllers other than the root, in index order so that a bus
 * exists before what sits on it: pcie-root-port (chassis and port from
 * <target>, else the index, which keeps chassis/slot pairs unique),
 * pci-bridge and pcie-to-pci-bridge. */
static void build_pci_controllers(Builder *b) {
  const GPtrArray *ctrls = b->def->controllers;
  for (unsigned idx = 1; idx <= CONTROLLER_INDEX_MAX; idx++) {
    for (guint i = 0; ctrls && i < ctrls->len; i++) {
      const DomainController *c = ctrls->pdata[i];
      if (c->type != CONTROLLER_PCI || c->index != idx)
        continue;
      g_autofree char *label = g_strdup_printf("controller %u (pci index %u)", i, idx);
      g_autofree char *id = g_strdup_printf("pci.%u", idx);
      const DomainXNode *target = domain_xnode_child(c->ext, "target");
      const char *chassis = domain_xnode_attr(target, "chassis");
      const char *port = domain_xnode_attr(target, "port");
      const char *name = domain_xnode_attr(domain_xnode_child(c->ext, "model"), "name");
      GString *s;
      if (g_strcmp0(c->model, "pcie-root-port") == 0) {
        if (!b->q35) {
          fail(b, -EOPNOTSUPP, "%s: a pcie-root-port needs a q35 machine", label);
          return;
        }
        if (name && strcmp(name, "pcie-root-port") != 0 && strcmp(name, "ioh3420") != 0) {
          fail(b, -EOPNOTSUPP, "%s: root port models are pcie-root-port and ioh3420", label);
          return;
        }
        s = opts_new(name ? name : "pcie-root-port");
        qemu_opt_append(s, "id", id);
        if (chassis)
          qemu_opt_append(s, "chassis", chassis);
        else
          optf(s, "chassis", "%u", idx);
        if (port)
          qemu_opt_append(s, "port", port);
        else
          optf(s, "port", "0x%x", idx);
      } else if (g_strcmp0(c->model, "pci-bridge") == 0) {
        s = opts_new("pci-bridge");
        qemu_opt_append(s, "id", id);
        qemu_opt_append(s, "chassis_nr", chassis ? chassis : id + 4);
      } else if (g_strcmp0(c->model, "pcie-to-pci-bridge") == 0) {
        s = opts_new("pcie-pci-bridge");
        qemu_opt_append(s, "id", id);
      } else {
        fail(b, -EOPNOTSUPP, "%s: pci controller model '%s' is not supported: use "
                             "pcie-root-port, pci-bridge or pcie-to-pci-bridge", label,
             c->model ? c->model : "(none)");
        return;
      }
      qargv_opt_pci(b, s, label, &c->address);
      arg_opts(b, "-device", s);
    }
  }
}

void qargv_build_controllers(Builder *b) {
  const GPtrArray *ctrls = b->def->controllers;
  static const DeviceAddress no_address = {.type = DEVICE_ADDRESS_NONE};

  build_pci_controllers(b);

  for (guint i = 0; ctrls && i < ctrls->len; i++) {
    const DomainController *c = ctrls->pdata[i];
    const char *model = c->model;
    g_autofree char *label = g_strdup_printf("controller %u (index %u)", i, c->index);
    g_autofree char *id = NULL;

    if (c->index > CONTROLLER_INDEX_MAX) {
      fail(b, -EOPNOTSUPP, "%s: controller indexes above %d are not supported", label,
           CONTROLLER_INDEX_MAX);
      return;
    }
    uint32_t bit = 1u << c->index;
    switch (c->type) {
    case CONTROLLER_USB: {
      if (model && strcmp(model, "none") == 0) {
        if (c->index == 0)
          b->usb0_none = true;
        break;
      }
      const char *dev = usb_device(b, model);
      if (!dev) {
        fail(b, -EOPNOTSUPP, "%s: USB controller models are piix3-uhci, piix4-uhci, ehci, "
                             "ich9-ehci1, pci-ohci, nec-xhci, qemu-xhci and none", label);
        break;
      }
      id = c->index == 0 ? g_strdup("usb") : g_strdup_printf("usb%u", c->index);
      const char *startport = domain_xnode_attr(domain_xnode_child(c->ext, "master"),
                                                "startport");
      const char *ports = domain_xnode_attr(c->ext, "ports");
      GString *s = opts_new(dev);
      if (startport) {
        /* a UHCI companion: it serves the low-speed ports of its master */
        g_autofree char *master = g_strdup_printf("%s.0", id);
        g_autofree char *cid = g_strdup_printf("%s-companion%s", id, startport);
        qemu_opt_append(s, "id", cid);
        qemu_opt_append(s, "masterbus", master);
        qemu_opt_append(s, "firstport", startport);
      } else {
        qemu_opt_append(s, "id", id);
      }
      if (ports && g_str_has_suffix(dev, "xhci")) {
        /* USB 2 and USB 3 ports of the xHCI, as libvirt sets them */
        qemu_opt_append(s, "p2", ports);
        qemu_opt_append(s, "p3", ports);
      } else if (ports) {
        fail(b, -EOPNOTSUPP, "%s: ports='%s' is only supported on xHCI controllers", label,
             ports);
      }
      qargv_opt_pci(b, s, label, &c->address);
      arg_opts(b, "-device", s);
      b->usb_defined |= bit;
      break;
    }
    case CONTROLLER_IDE:
      if (b->q35)
        fail(b, -EOPNOTSUPP, "%s: q35 machines have no IDE controller: use a SATA one", label);
      else if (c->index != 0 || (model && strcmp(model, "piix3") != 0))
        fail(b, -EOPNOTSUPP, "%s: pc machines have one IDE controller, the built-in piix3 "
                             "(index 0)", label);
      break;
    case CONTROLLER_PCI: {
      const char *root = b->q35 ? "pcie-root" : "pci-root";
      if (c->index == 0 && model && strcmp(model, root) != 0)
        fail(b, -EOPNOTSUPP, "%s: the PCI root of this machine is %s", label, root);
      break; /* other indexes: build_pci_controllers() */
    }
    case CONTROLLER_SATA:
      b->sata_defined |= bit;
      if (b->q35 && c->index == 0)
        break; /* the ICH9 AHCI built into q35, named "ide" */
      id = g_strdup_printf("sata%u", c->index);
      emit_controller_device(b, "ich9-ahci", id, label, &c->address);
      break;
    case CONTROLLER_SCSI:
      if (model && strcmp(model, "virtio-scsi") != 0) {
        fail(b, -EOPNOTSUPP, "%s: the only SCSI controller model is virtio-scsi", label);
        break;
      }
      id = g_strdup_printf("scsi%u", c->index);
      emit_controller_device(b, "virtio-scsi-pci", id, label, &c->address);
      b->scsi_defined |= bit;
      break;
    case CONTROLLER_VIRTIO_SERIAL: {
      const char *dev = "virtio-serial-pci";
      if (model && strcmp(model, "virtio-transitional") == 0)
        dev = "virtio-serial-pci-transitional";
      else if (model && strcmp(model, "virtio-non-transitional") == 0)
        dev = "virtio-serial-pci-non-transitional";
      else if (model && strcmp(model, "virtio") != 0) {
        fail(b, -EOPNOTSUPP, "%s: virtio-serial models are virtio, virtio-transitional and "
                             "virtio-non-transitional", label);
        break;
      }
      id = g_strdup_printf("virtio-serial%u", c->index);
      emit_controller_device(b, dev, id, label, &c->address);
      b->vserial_defined |= bit;
      break;
    }
    }
  }

  /* Controllers the devices need but the definition leaves out, as libvirt
   * would add them. */
  if (b->usb_needed && !(b->usb_defined & 1u)) {
    if (b->usb0_none)
      fail(b, -EINVAL, "a USB input device needs a USB controller, but the USB controller "
                       "has model 'none'");
    else
      emit_controller_device(b, usb_device(b, NULL), "usb", "the USB controller", &no_address);
  }
  for (unsigned idx = 0; idx <= CONTROLLER_INDEX_MAX; idx++) {
    uint32_t bit = 1u << idx;
    if ((b->sata_needed & bit) && !(b->sata_defined & bit) && !(b->q35 && idx == 0)) {
      g_autofree char *id = g_strdup_printf("sata%u", idx);
      emit_controller_device(b, "ich9-ahci", id, id, &no_address);
    }
    if ((b->scsi_needed & bit) && !(b->scsi_defined & bit)) {
      g_autofree char *id = g_strdup_printf("scsi%u", idx);
      emit_controller_device(b, "virtio-scsi-pci", id, id, &no_address);
    }
  }
  if (b->vserial_needed && !(b->vserial_defined & 1u))
    emit_controller_device(b, "virtio-serial-pci", "virtio-serial0", "the virtio-serial controller",
                           &no_address);
}
