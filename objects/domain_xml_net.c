/* domain_xml_net.c — <interface>: type user/network/bridge, MAC (generated
 * when absent, unique within the domain), source (and its portgroup), live
 * target dev, model.
 *
 * Part of the domain XML parser and formatter; shared state and helpers are
 * in domain_xml_priv.h. Pure: no I/O, no mutable globals. */
#include "objects/domain_xml_priv.h"

#include <string.h>

DEFINE_CHOICES(interface_type, InterfaceType, 0)

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

/* What an interface has beyond type, mac, source, target, model, boot and
 * address; each row is an option of the NIC or its netdev. */
static const DxElem interface_row = {
  "interface",
  NULL,
  (const DxElem[]){
    {"driver", (const DxAttr[]){{"name", DXT_ENUM, LIST("qemu", "vhost")},
                                {"queues", DXT_UINT, NULL, 256},
                                {"rx_queue_size", DXT_ENUM, LIST("256", "512", "1024")},
                                {"tx_queue_size", DXT_ENUM, LIST("256", "512", "1024")},
                                {NULL}}},
    {"link", (const DxAttr[]){{"state", DXT_ENUM, LIST("up", "down"), 0, true}, {NULL}}},
    {"mtu", (const DxAttr[]){{"size", DXT_UINT, NULL, 65535, true}, {NULL}}},
    {"rom", (const DxAttr[]){{"bar", DXT_ENUM, DX_ONOFF},
                             {"file", DXT_PATH},
                             {"enabled", DXT_ENUM, DX_YESNO},
                             {NULL}}},
    {NULL},
  },
};

bool domain_alias_name_is_valid(const char *name) {
  size_t len = name ? strlen(name) : 0;
  return len > 0 && len <= DOMAIN_ALIAS_NAME_MAX && name[0] != '-' &&
         strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == len;
}

/* libvirt keeps only user aliases ("ua-" and [A-Za-z0-9_-]) in a
 * definition and drops the ones it gave a running domain; so does this. */
static int parse_alias(ParseState *ps, const xmlNode *c, char **ret_alias) {
  int r;
  g_autofree char *name = NULL;
  if ((r = dxml_empty_element(c, LIST("name"), ps->err)) < 0 ||
      (r = dxml_require_prop(c, "name", &name, ps->err)) < 0)
    return r;
  if (!g_str_has_prefix(name, DOMAIN_USER_ALIAS_PREFIX))
    return 0;
  if (!domain_alias_name_is_valid(name + strlen(DOMAIN_USER_ALIAS_PREFIX)))
    return xml_fail(ps->err, c, "alias '%s': after 'ua-' come 1 to %d letters, digits, '_' or "
                    "'-' (not first)", name, DOMAIN_ALIAS_NAME_MAX);
  for (guint i = 0; i < ps->def->interfaces->len; i++)
    if (g_strcmp0(((DomainInterface *)ps->def->interfaces->pdata[i])->alias, name) == 0)
      return xml_fail(ps->err, c, "alias '%s' is used by another interface", name);
  *ret_alias = g_steal_pointer(&name);
  return 0;
}

int dxml_parse_interface(ParseState *ps, const xmlNode *n) {
  static const char *const children[] = {"mac", "source", "target", "model", "alias", "boot",
                                         "address", NULL};
  static const char *const models[] = {"virtio", "e1000", "e1000e", "rtl8139", "ne2k_pci",
                                       "pcnet", "vmxnet3", NULL};
  int r;
  g_autoptr(DomainInterface) iface = g_new0(DomainInterface, 1);
  if ((r = dxml_parse_xnode(ps, n, &interface_row, LIST("type"), children, &iface->ext)) < 0)
    return r;
  g_autofree char *type = NULL;
  if ((r = dxml_require_prop(n, "type", &type, ps->err)) < 0 ||
      (r = PARSE_ENUM(interface_type, n, "attribute 'type'", type, &iface->type, ps->err)) < 0)
    return r;

  const xmlNode *c;
  if ((c = xml_child(n, "mac"))) {
    g_autofree char *mac = NULL;
    if ((r = dxml_empty_element(c, LIST("address"), ps->err)) < 0 ||
        (r = dxml_require_prop(c, "address", &mac, ps->err)) < 0 ||
        (r = mac_canonical(c, mac, iface->mac, ps->err)) < 0)
      return r;
    g_autofree char *what = g_strdup_printf("MAC address %s", iface->mac);
    if ((r = dxml_claim(ps, ps->macs, g_strdup(iface->mac), c, what)) < 0)
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
    bool net = iface->type == INTERFACE_NETWORK;
    /* portgroup= only on a network source (a NULL ends the list early) */
    if ((r = dxml_empty_element(c, LIST(attr, net ? "portgroup" : NULL), ps->err)) < 0 ||
        (r = dxml_require_prop(c, attr, &iface->source, ps->err)) < 0)
      return r;
    if (net)
      r = dxml_check_object_name(c, "the network name", iface->source, ps->err);
    else
      r = dxml_check_ifname(c, "the bridge name", iface->source, ps->err);
    if (r < 0)
      return r;
    iface->portgroup = net ? xml_prop(c, "portgroup") : NULL;
    if (iface->portgroup &&
        (r = dxml_check_object_name(c, "the portgroup name", iface->portgroup, ps->err)) < 0)
      return r;
  }

  if ((c = xml_child(n, "target"))) {
    if ((r = dxml_empty_element(c, LIST("dev"), ps->err)) < 0 ||
        (r = dxml_require_prop(c, "dev", &iface->target_dev, ps->err)) < 0 ||
        (r = dxml_check_ifname(c, "target dev", iface->target_dev, ps->err)) < 0)
      return r;
  }
  if ((c = xml_child(n, "model"))) {
    if ((r = dxml_empty_element(c, LIST("type"), ps->err)) < 0 ||
        (r = dxml_require_prop(c, "type", &iface->model, ps->err)) < 0)
      return r;
    if (!dxml_in_list(iface->model, models)) {
      g_autofree char *choices = dxml_choices_of(models);
      return xml_fail(ps->err, c, "attribute 'type' must be one of %s, not '%s'", choices,
                      iface->model);
    }
  }
  if ((c = xml_child(n, "alias")) && (r = parse_alias(ps, c, &iface->alias)) < 0)
    return r;
  if ((r = dxml_parse_boot_order(ps, n, &iface->boot_order)) < 0 ||
      (r = dxml_parse_address(ps, n, ADDR_PCI, " (use type='pci')", &iface->address)) < 0)
    return r;
  g_ptr_array_add(ps->def->interfaces, g_steal_pointer(&iface));
  return 0;
}

/* "ua-netN" with the lowest N no interface uses, for each interface
 * without an alias: its stable name in devices/. */
void dxml_assign_aliases(ParseState *ps) {
  GPtrArray *ifaces = ps->def->interfaces;
  guint next = 0;
  for (guint i = 0; i < ifaces->len; i++) {
    DomainInterface *iface = g_ptr_array_index(ifaces, i);
    while (!iface->alias) {
      g_autofree char *alias = g_strdup_printf(DOMAIN_USER_ALIAS_PREFIX "net%u", next++);
      bool used = false;
      for (guint j = 0; j < ifaces->len && !used; j++)
        used = g_strcmp0(((DomainInterface *)g_ptr_array_index(ifaces, j))->alias, alias) == 0;
      if (!used)
        iface->alias = g_steal_pointer(&alias);
    }
  }
}

/* Random locally administered QEMU-range MACs, unique within the domain. */
void dxml_assign_macs(ParseState *ps) {
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

void dxml_format_interface(XmlWriter *w, const DomainInterface *iface, bool live) {
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
    if (iface->portgroup)
      xml_writer_attr(w, "portgroup", iface->portgroup);
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
  if (iface->alias) {
    xml_writer_start(w, "alias");
    xml_writer_attr(w, "name", iface->alias);
    xml_writer_end_empty(w);
  }
  dxml_format_ext_children(w, iface->ext);
  dxml_format_boot_order(w, iface->boot_order);
  dxml_format_address(w, &iface->address);
  xml_writer_close(w);
}
