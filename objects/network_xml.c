/* network_xml.c — libvirt network XML to NetworkDef and back; see
 * network_def.h for the supported subset and the defaults. Pure: the only
 * file besides xml_util.c where libxml2 meets network definitions.
 *
 * Parsing happens in two passes: the first turns each element into fields
 * (checking attributes, children and value syntax, with the element's line in
 * every sentence), the second checks what only makes sense across elements
 * (the forward mode against <ip>, <dns>, <nat>...), still naming the element
 * that is in the way. */
#include "objects/network_def.h"

#include <errno.h>
#include <string.h>

#include "objects/names.h"
#include "objects/xml_util.h"

/* Internal constructors from network_def.c. */
NetworkIp *network_ip_new(void);
NetworkDnsHost *network_dns_host_new(void);
NetworkDnsForwarder *network_dns_forwarder_new(void);
NetworkDhcpHost *network_dhcp_host_new(void);
NetworkDef *network_def_alloc(void);
void network_def_fill_defaults(NetworkDef *def);

#define A(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Nodes kept from the first pass so the second can name them. */
typedef struct {
  const xmlNode *forward, *nat, *bridge, *mtu, *mac, *domain, *dns, *bandwidth, *portgroup;
  const xmlNode *ip;        /* the first <ip> */
  bool bridge_stp_given, bridge_delay_given, ipv6_given;
} Seen;

/* ---- value checks ---- */

/* RFC 1123 host name: dot-separated labels of letters, digits and '-', not
 * starting or ending with '-'. Also keeps dnsmasq's config syntax (commas,
 * spaces, '#') out of names we write there. */
static bool hostname_ok(const char *s) {
  size_t len = strlen(s);
  if (len == 0 || len > 253)
    return false;
  size_t label = 0;
  for (size_t i = 0; i <= len; i++) {
    char c = s[i];
    if (c == '.' || c == '\0') {
      if (label == 0 || label > 63 || s[i - 1] == '-')
        return false;
      label = 0;
      continue;
    }
    if (!g_ascii_isalnum(c) && c != '-')
      return false;
    if (label == 0 && c == '-')
      return false;
    label++;
  }
  return true;
}

/* Interface names we put into nft rules and dnsmasq's config: the kernel's
 * limits plus a conservative alphabet. */
static bool ifname_ok(const char *s) {
  size_t len = strlen(s);
  if (len == 0 || len > NETWORK_IFNAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
    return false;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-' && *p != '.')
      return false;
  return true;
}

static int prop_ifname(const xmlNode *node, const char *attr, char **ret, char **ret_error) {
  g_autofree char *v = xml_prop(node, attr);
  if (!v)
    return 0;
  if (!ifname_ok(v))
    return xml_fail(ret_error, node, "attribute '%s' must be an interface name of 1 to %d "
                    "characters from A-Z a-z 0-9 _ - ., not '%s'", attr, NETWORK_IFNAME_MAX, v);
  g_free(*ret);
  *ret = g_steal_pointer(&v);
  return 0;
}

/* An address attribute of the given family (0 = any). */
static int prop_addr(const xmlNode *node, const char *attr, int family, bool required,
                     NetworkAddr *ret, char **ret_error) {
  g_autofree char *v = xml_prop(node, attr);
  if (!v) {
    if (required)
      return xml_fail(ret_error, node, "attribute '%s' is required", attr);
    return 0;
  }
  NetworkAddr a;
  if (network_addr_parse(v, &a) < 0)
    return xml_fail(ret_error, node, "attribute '%s' is not an IP address: '%s'", attr, v);
  if (family && a.family != family)
    return xml_fail(ret_error, node, "attribute '%s' must be an %s address, not '%s'", attr,
                    family == AF_INET ? "IPv4" : "IPv6", v);
  *ret = a;
  return 0;
}

static int prop_mac(const xmlNode *node, const char *attr, char ret[18], char **ret_error) {
  g_autofree char *v = xml_prop(node, attr);
  if (!v)
    return 0;
  char mac[18];
  if (network_mac_parse(v, mac) < 0)
    return xml_fail(ret_error, node, "attribute '%s' is not a MAC address (six hex pairs "
                    "separated by ':'): '%s'", attr, v);
  unsigned first = (unsigned)g_ascii_xdigit_value(mac[1]);
  if (first & 1)
    return xml_fail(ret_error, node, "attribute '%s' is a multicast MAC address: '%s'", attr, v);
  if (strcmp(mac, "00:00:00:00:00:00") == 0)
    return xml_fail(ret_error, node, "attribute '%s' must not be all zeros", attr);
  memcpy(ret, mac, 18);
  return 0;
}

static int prop_hostname(const xmlNode *node, const char *attr, char **ret, char **ret_error) {
  g_autofree char *v = xml_prop(node, attr);
  if (!v)
    return 0;
  if (!hostname_ok(v))
    return xml_fail(ret_error, node, "attribute '%s' is not a valid host name "
                    "(letters, digits, '-' and '.'): '%s'", attr, v);
  g_free(*ret);
  *ret = g_steal_pointer(&v);
  return 0;
}

/* ---- elements ---- */

/* A text-only element: no attributes, no child elements. */
static int check_leaf(const xmlNode *node, char **ret_error) {
  int r = xml_check_attrs(node, A(NULL), ret_error);
  if (r < 0)
    return r;
  for (const xmlNode *c = node->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE)
      return xml_fail(ret_error, c, "element is not supported inside <%s>",
                      (const char *)node->name);
  return 0;
}

static int parse_uuid(const xmlNode *node, NetworkDef *def, char **ret_error) {
  int r = check_leaf(node, ret_error);
  if (r < 0)
    return r;
  g_autofree char *v = xml_text(node);
  g_autofree char *lower = g_ascii_strdown(v, -1);
  if (!g_uuid_string_is_valid(lower))
    return xml_fail(ret_error, node, "'%s' is not a UUID (like "
                    "'1b4e28ba-2fa1-11d2-883f-0016d3cca427')", v);
  g_strlcpy(def->uuid, lower, sizeof(def->uuid));
  return 0;
}

static int parse_forward(const xmlNode *node, NetworkDef *def, Seen *seen, char **ret_error) {
  int r;
  if ((r = xml_check_attrs(node, A("mode", "dev"), ret_error)) < 0 ||
      (r = xml_check_children(node, A("nat", "interface"), A("nat", "interface"), ret_error)) < 0)
    return r;
  g_autofree char *mode = xml_prop(node, "mode");
  /* libvirt: <forward/> without a mode is NAT. */
  if (!mode)
    def->forward = NETWORK_FORWARD_NAT;
  else if (network_forward_mode_from_string(mode, &def->forward) < 0)
    return xml_fail(ret_error, node, "mode '%s' is not supported (supported: nat, route, "
                    "open, bridge, none)", mode);
  if ((r = prop_ifname(node, "dev", &def->forward_dev, ret_error)) < 0)
    return r;
  /* libvirt's net-dumpxml repeats dev as <interface dev='...'/>. */
  const xmlNode *iface = xml_child(node, "interface");
  if (iface) {
    g_autofree char *dev = NULL;
    if ((r = xml_check_attrs(iface, A("dev"), ret_error)) < 0 ||
        (r = xml_check_children(iface, A(NULL), NULL, ret_error)) < 0 ||
        (r = prop_ifname(iface, "dev", &dev, ret_error)) < 0)
      return r;
    if (!dev)
      return xml_fail(ret_error, iface, "attribute 'dev' is required");
    if (def->forward_dev && strcmp(def->forward_dev, dev) != 0)
      return xml_fail(ret_error, iface, "dev '%s' differs from <forward dev='%s'>", dev,
                      def->forward_dev);
    if (!def->forward_dev)
      def->forward_dev = g_steal_pointer(&dev);
  }
  const xmlNode *nat = xml_child(node, "nat");
  seen->nat = nat;
  if (!nat)
    return 0;
  if ((r = xml_check_attrs(nat, A("ipv6"), ret_error)) < 0 ||
      (r = xml_check_children(nat, A("address", "port"), A("address", "port"), ret_error)) < 0 ||
      (r = xml_prop_yesno(nat, "ipv6", &def->nat_ipv6, NULL, ret_error)) < 0)
    return r;
  const xmlNode *addr = xml_child(nat, "address");
  if (addr) {
    if ((r = xml_check_attrs(addr, A("start", "end"), ret_error)) < 0 ||
        (r = xml_check_children(addr, A(NULL), NULL, ret_error)) < 0 ||
        (r = prop_addr(addr, "start", AF_INET, true, &def->nat_start, ret_error)) < 0 ||
        (r = prop_addr(addr, "end", AF_INET, true, &def->nat_end, ret_error)) < 0)
      return r;
    if (network_addr_compare(&def->nat_start, &def->nat_end) > 0)
      return xml_fail(ret_error, addr, "the start address is after the end address");
  }
  const xmlNode *port = xml_child(nat, "port");
  if (port) {
    uint64_t s = 0, e = 0;
    bool sp = false, ep = false;
    if ((r = xml_check_attrs(port, A("start", "end"), ret_error)) < 0 ||
        (r = xml_check_children(port, A(NULL), NULL, ret_error)) < 0 ||
        (r = xml_prop_uint(port, "start", 65535, &s, &sp, ret_error)) < 0 ||
        (r = xml_prop_uint(port, "end", 65535, &e, &ep, ret_error)) < 0)
      return r;
    if (!sp || !ep)
      return xml_fail(ret_error, port, "attributes 'start' and 'end' are required");
    if (s == 0 || s > e)
      return xml_fail(ret_error, port, "the port range %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
                      " is empty or starts at 0", s, e);
    def->nat_port_start = (unsigned)s;
    def->nat_port_end = (unsigned)e;
  }
  return 0;
}

static int parse_bridge(const xmlNode *node, NetworkDef *def, Seen *seen, char **ret_error) {
  int r;
  uint64_t delay = 0;
  if ((r = xml_check_attrs(node, A("name", "stp", "delay"), ret_error)) < 0 ||
      (r = xml_check_children(node, A(NULL), NULL, ret_error)) < 0 ||
      (r = prop_ifname(node, "name", &def->bridge, ret_error)) < 0 ||
      (r = xml_prop_yesno(node, "stp", &def->stp, &seen->bridge_stp_given, ret_error)) < 0 ||
      (r = xml_prop_uint(node, "delay", 30, &delay, &seen->bridge_delay_given, ret_error)) < 0)
    return r;
  def->delay = (unsigned)delay;
  return 0;
}

static int parse_mtu(const xmlNode *node, NetworkDef *def, char **ret_error) {
  int r;
  uint64_t size = 0;
  bool present = false;
  if ((r = xml_check_attrs(node, A("size"), ret_error)) < 0 ||
      (r = xml_check_children(node, A(NULL), NULL, ret_error)) < 0 ||
      (r = xml_prop_uint(node, "size", 65535, &size, &present, ret_error)) < 0)
    return r;
  if (!present)
    return xml_fail(ret_error, node, "attribute 'size' is required");
  if (size < 68)
    return xml_fail(ret_error, node, "size %" G_GUINT64_FORMAT " is below the minimum MTU of 68", size);
  def->mtu = (unsigned)size;
  return 0;
}

static int parse_mac(const xmlNode *node, NetworkDef *def, char **ret_error) {
  int r;
  if ((r = xml_check_attrs(node, A("address"), ret_error)) < 0 ||
      (r = xml_check_children(node, A(NULL), NULL, ret_error)) < 0 ||
      (r = prop_mac(node, "address", def->mac, ret_error)) < 0)
    return r;
  if (!def->mac[0])
    return xml_fail(ret_error, node, "attribute 'address' is required");
  return 0;
}

static int parse_domain(const xmlNode *node, NetworkDef *def, char **ret_error) {
  int r;
  if ((r = xml_check_attrs(node, A("name", "localOnly"), ret_error)) < 0 ||
      (r = xml_check_children(node, A(NULL), NULL, ret_error)) < 0 ||
      (r = prop_hostname(node, "name", &def->domain, ret_error)) < 0 ||
      (r = xml_prop_yesno(node, "localOnly", &def->domain_local_only, NULL, ret_error)) < 0)
    return r;
  if (!def->domain)
    return xml_fail(ret_error, node, "attribute 'name' is required");
  return 0;
}

/* A DNS label for SRV service and protocol names: 1 to 15 characters of
 * letters, digits and '-' (RFC 6335). */
static bool srv_label_ok(const char *s) {
  size_t len = strlen(s);
  if (len == 0 || len > 15 || s[0] == '-')
    return false;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '-')
      return false;
  return true;
}

static int parse_dns_txt(const xmlNode *c, NetworkDef *def, char **ret_error) {
  int r;
  NetworkDnsTxt *t = g_new0(NetworkDnsTxt, 1);
  g_ptr_array_add(def->dns_txts, t);
  if ((r = xml_check_attrs(c, A("name", "value"), ret_error)) < 0 ||
      (r = xml_check_children(c, A(NULL), NULL, ret_error)) < 0 ||
      (r = prop_hostname(c, "name", &t->name, ret_error)) < 0)
    return r;
  t->value = xml_prop(c, "value");
  if (!t->name || !t->value)
    return xml_fail(ret_error, c, "attributes 'name' and 'value' are required");
  /* The value goes into dnsmasq's config in double quotes. */
  for (const char *p = t->value; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
      return xml_fail(ret_error, c, "the TXT value must not contain control characters, "
                      "'\"' or '\\'");
  if (strlen(t->value) > 255)
    return xml_fail(ret_error, c, "the TXT value is longer than 255 bytes");
  return 0;
}

static int parse_dns_srv(const xmlNode *c, NetworkDef *def, char **ret_error) {
  int r;
  NetworkDnsSrv *v = g_new0(NetworkDnsSrv, 1);
  g_ptr_array_add(def->dns_srvs, v);
  uint64_t port = 0, priority = 0, weight = 0;
  if ((r = xml_check_attrs(c, A("service", "protocol", "domain", "target", "port", "priority",
                                "weight"), ret_error)) < 0 ||
      (r = xml_check_children(c, A(NULL), NULL, ret_error)) < 0 ||
      (r = prop_hostname(c, "domain", &v->domain, ret_error)) < 0 ||

      (r = xml_prop_uint(c, "port", 65535, &port, &v->port_set, ret_error)) < 0 ||
      (r = xml_prop_uint(c, "priority", 65535, &priority, &v->priority_set, ret_error)) < 0 ||
      (r = xml_prop_uint(c, "weight", 65535, &weight, &v->weight_set, ret_error)) < 0)
    return r;
  /* The target '.' says the service is not available here (RFC 2782). */
  g_autofree char *target = xml_prop(c, "target");
  if (target && strcmp(target, ".") != 0 && (r = prop_hostname(c, "target", &v->target, ret_error)) < 0)
    return r;
  if (target && !v->target)
    v->target = g_steal_pointer(&target);
  v->port = (unsigned)port;
  v->priority = (unsigned)priority;
  v->weight = (unsigned)weight;
  v->service = xml_prop(c, "service");
  v->protocol = xml_prop(c, "protocol");
  if (!v->service || !v->protocol)
    return xml_fail(ret_error, c, "attributes 'service' and 'protocol' are required");
  if (!srv_label_ok(v->service))
    return xml_fail(ret_error, c, "service '%s' is not 1 to 15 letters, digits or '-'", v->service);
  if (!srv_label_ok(v->protocol))
    return xml_fail(ret_error, c, "protocol '%s' is not 1 to 15 letters, digits or '-'", v->protocol);
  /* dnsmasq's srv-host takes its numbers in order: each needs the ones before. */
  if ((v->port_set && !v->target) || (v->priority_set && !v->port_set) ||
      (v->weight_set && !v->priority_set))
    return xml_fail(ret_error, c, "'port' needs 'target', 'priority' needs 'port' and 'weight' "
                    "needs 'priority'");
  return 0;
}

static int parse_dns(const xmlNode *node, NetworkDef *def, char **ret_error) {
  int r;
  bool fpn = false, fpn_given = false;
  if ((r = xml_check_attrs(node, A("enable", "forwardPlainNames"), ret_error)) < 0 ||
      (r = xml_check_children(node, A("forwarder", "host", "txt", "srv"), NULL, ret_error)) < 0 ||
      (r = xml_prop_yesno(node, "enable", &def->dns_enabled, NULL, ret_error)) < 0 ||
      (r = xml_prop_yesno(node, "forwardPlainNames", &fpn, &fpn_given, ret_error)) < 0)
    return r;
  if (fpn_given) {
    if (!def->dns_enabled)
      return xml_fail(ret_error, node, "attribute 'forwardPlainNames' is not allowed when DNS "
                      "is disabled (enable='no')");
    def->dns_forward_plain_names = fpn ? NETWORK_TRISTATE_YES : NETWORK_TRISTATE_NO;
  }
  for (const xmlNode *c = node->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    if (!def->dns_enabled)
      return xml_fail(ret_error, c, "element is not allowed when DNS is disabled (enable='no')");
    if (strcmp((const char *)c->name, "txt") == 0) {
      if ((r = parse_dns_txt(c, def, ret_error)) < 0)
        return r;
      continue;
    }
    if (strcmp((const char *)c->name, "srv") == 0) {
      if ((r = parse_dns_srv(c, def, ret_error)) < 0)
        return r;
      continue;
    }
    if (strcmp((const char *)c->name, "forwarder") == 0) {
      NetworkDnsForwarder *f = network_dns_forwarder_new();
      g_ptr_array_add(def->dns_forwarders, f);
      if ((r = xml_check_attrs(c, A("domain", "addr"), ret_error)) < 0 ||
          (r = xml_check_children(c, A(NULL), NULL, ret_error)) < 0 ||
          (r = prop_hostname(c, "domain", &f->domain, ret_error)) < 0 ||
          (r = prop_addr(c, "addr", 0, false, &f->addr, ret_error)) < 0)
        return r;
      if (!f->domain && !f->addr.family)
        return xml_fail(ret_error, c, "attribute 'addr' or 'domain' is required");
      continue;
    }
    /* <host ip='...'><hostname>NAME</hostname>...</host> */
    NetworkDnsHost *h = network_dns_host_new();
    g_ptr_array_add(def->dns_hosts, h);
    if ((r = xml_check_attrs(c, A("ip"), ret_error)) < 0 ||
        (r = xml_check_children(c, A("hostname"), NULL, ret_error)) < 0 ||
        (r = prop_addr(c, "ip", 0, true, &h->ip, ret_error)) < 0)
      return r;
    for (const xmlNode *n = c->children; n; n = n->next) {
      if (n->type != XML_ELEMENT_NODE)
        continue;
      if ((r = check_leaf(n, ret_error)) < 0)
        return r;
      g_autofree char *name = xml_text(n);
      if (!hostname_ok(name))
        return xml_fail(ret_error, n, "'%s' is not a valid host name", name);
      g_ptr_array_add(h->hostnames, g_steal_pointer(&name));
    }
    if (h->hostnames->len == 0)
      return xml_fail(ret_error, c, "at least one <hostname> is required");
  }
  return 0;
}

/* The largest rate or burst accepted, in kilobytes (per second): 8 Tbit/s,
 * well inside what tc takes. */
#define RATE_MAX 1000000000ull

static int parse_rate(const xmlNode *node, NetworkRate *rate, char **ret_error) {
  int r;
  bool avg_given = false, peak_given = false, burst_given = false;
  if ((r = xml_check_attrs(node, A("average", "peak", "burst", "floor"), ret_error)) < 0 ||
      (r = xml_check_children(node, A(NULL), NULL, ret_error)) < 0 ||
      (r = xml_prop_uint(node, "average", RATE_MAX, &rate->average, &avg_given, ret_error)) < 0 ||
      (r = xml_prop_uint(node, "peak", RATE_MAX, &rate->peak, &peak_given, ret_error)) < 0 ||
      (r = xml_prop_uint(node, "burst", RATE_MAX, &rate->burst, &burst_given, ret_error)) < 0)
    return r;
  if (xmlHasProp(node, (const xmlChar *)"floor"))
    return xml_fail(ret_error, node, "attribute 'floor' is not supported: virtfs guarantees no "
                    "minimum rate (that needs libvirt's per-network QoS classes)");
  if (!avg_given || rate->average == 0)
    return xml_fail(ret_error, node, "attribute 'average' (kilobytes per second, at least 1) "
                    "is required");
  if ((peak_given && rate->peak == 0) || (burst_given && rate->burst == 0))
    return xml_fail(ret_error, node, "'peak' and 'burst' must be at least 1 when given");
  if (peak_given && rate->peak < rate->average)
    return xml_fail(ret_error, node, "peak %" G_GUINT64_FORMAT " is below average %"
                    G_GUINT64_FORMAT, rate->peak, rate->average);
  return 0;
}

static int parse_bandwidth(const xmlNode *node, NetworkBandwidth *bw, char **ret_error) {
  int r;
  if ((r = xml_check_attrs(node, A(NULL), ret_error)) < 0 ||
      (r = xml_check_children(node, A("inbound", "outbound"), A("inbound", "outbound"),
                              ret_error)) < 0)
    return r;
  const xmlNode *c;
  if ((c = xml_child(node, "inbound")) && (r = parse_rate(c, &bw->in, ret_error)) < 0)
    return r;
  if ((c = xml_child(node, "outbound")) && (r = parse_rate(c, &bw->out, ret_error)) < 0)
    return r;
  return 0;
}

static int parse_portgroup(const xmlNode *node, NetworkDef *def, char **ret_error) {
  int r;
  NetworkPortgroup *pg = g_new0(NetworkPortgroup, 1);
  g_ptr_array_add(def->portgroups, pg);
  if ((r = xml_check_attrs(node, A("name", "default"), ret_error)) < 0 ||
      (r = xml_check_children(node, A("bandwidth"), A("bandwidth"), ret_error)) < 0 ||
      (r = xml_prop_yesno(node, "default", &pg->is_default, NULL, ret_error)) < 0)
    return r;
  pg->name = xml_prop(node, "name");
  if (!pg->name)
    return xml_fail(ret_error, node, "attribute 'name' is required");
  if (!*pg->name || strlen(pg->name) > 64 ||
      strspn(pg->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
          strlen(pg->name))
    return xml_fail(ret_error, node, "name '%s' is not 1 to 64 characters from A-Z a-z 0-9 _ . -",
                    pg->name);
  for (guint i = 0; i + 1 < def->portgroups->len; i++) {
    const NetworkPortgroup *o = def->portgroups->pdata[i];
    if (strcmp(o->name, pg->name) == 0)
      return xml_fail(ret_error, node, "the portgroup '%s' is defined twice", pg->name);
    if (o->is_default && pg->is_default)
      return xml_fail(ret_error, node, "only one portgroup can be the default ('%s' is already)",
                      o->name);
  }
  const xmlNode *bw = xml_child(node, "bandwidth");
  if (bw && (r = parse_bandwidth(bw, &pg->bandwidth, ret_error)) < 0)
    return r;
  return 0;
}

static int parse_dhcp(const xmlNode *node, NetworkIp *ip, char **ret_error) {
  int r;
  int family = ip->address.family;
  if ((r = xml_check_attrs(node, A(NULL), ret_error)) < 0 ||
      (r = xml_check_children(node, A("range", "host"), NULL, ret_error)) < 0)
    return r;
  NetworkAddr net = network_addr_mask(&ip->address, ip->prefix);
  NetworkAddr bcast = network_addr_broadcast(&ip->address, ip->prefix);
  char buf[NETWORK_ADDR_STRLEN];
  for (const xmlNode *c = node->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    if (strcmp((const char *)c->name, "range") == 0) {
      NetworkDhcpRange *rg = g_new0(NetworkDhcpRange, 1);
      g_ptr_array_add(ip->ranges, rg);
      if ((r = xml_check_attrs(c, A("start", "end"), ret_error)) < 0 ||
          (r = xml_check_children(c, A(NULL), NULL, ret_error)) < 0 ||
          (r = prop_addr(c, "start", family, true, &rg->start, ret_error)) < 0 ||
          (r = prop_addr(c, "end", family, true, &rg->end, ret_error)) < 0)
        return r;
      if (!network_addr_in_subnet(&rg->start, &ip->address, ip->prefix) ||
          !network_addr_in_subnet(&rg->end, &ip->address, ip->prefix))
        return xml_fail(ret_error, c, "the range is not inside the subnet %s/%u",
                        network_addr_format(&net, buf), ip->prefix);
      if (network_addr_compare(&rg->start, &rg->end) > 0)
        return xml_fail(ret_error, c, "the start address is after the end address");
      if (network_addr_compare(&rg->start, &net) == 0 ||
          (family == AF_INET && network_addr_compare(&rg->end, &bcast) == 0))
        return xml_fail(ret_error, c, "the range includes the %s address",
                        network_addr_compare(&rg->start, &net) == 0 ? "network" : "broadcast");
      if (network_addr_compare(&rg->start, &ip->address) <= 0 &&
          network_addr_compare(&ip->address, &rg->end) <= 0)
        return xml_fail(ret_error, c, "the range includes the network's own address %s",
                        network_addr_format(&ip->address, buf));
      for (guint i = 0; i + 1 < ip->ranges->len; i++) {
        const NetworkDhcpRange *o = ip->ranges->pdata[i];
        if (network_addr_compare(&rg->start, &o->end) <= 0 &&
            network_addr_compare(&o->start, &rg->end) <= 0)
          return xml_fail(ret_error, c, "the range overlaps an earlier range");
      }
      continue;
    }
    NetworkDhcpHost *h = network_dhcp_host_new();
    g_ptr_array_add(ip->hosts, h);
    if ((r = xml_check_attrs(c, A("mac", "name", "ip"), ret_error)) < 0 ||
        (r = xml_check_children(c, A(NULL), NULL, ret_error)) < 0 ||
        (r = prop_mac(c, "mac", h->mac, ret_error)) < 0 ||
        (r = prop_hostname(c, "name", &h->name, ret_error)) < 0 ||
        (r = prop_addr(c, "ip", family, true, &h->ip, ret_error)) < 0)
      return r;
    if (family == AF_INET && !h->mac[0] && !h->name)
      return xml_fail(ret_error, c, "attribute 'mac' or 'name' is required");
    if (family == AF_INET6 && h->mac[0])
      return xml_fail(ret_error, c, "attribute 'mac' is not supported for IPv6 hosts; use 'name'");
    if (family == AF_INET6 && !h->name)
      return xml_fail(ret_error, c, "attribute 'name' is required for IPv6 hosts");
    if (!network_addr_in_subnet(&h->ip, &ip->address, ip->prefix)) {
      char nbuf[NETWORK_ADDR_STRLEN];
      return xml_fail(ret_error, c, "the address %s is not inside the subnet %s/%u",
                      network_addr_format(&h->ip, buf), network_addr_format(&net, nbuf), ip->prefix);
    }
    if (network_addr_compare(&h->ip, &net) == 0 ||
        (family == AF_INET && network_addr_compare(&h->ip, &bcast) == 0) ||
        network_addr_compare(&h->ip, &ip->address) == 0)
      return xml_fail(ret_error, c, "the address %s is the network, broadcast or bridge address",
                      network_addr_format(&h->ip, buf));
    for (guint i = 0; i + 1 < ip->hosts->len; i++) {
      const NetworkDhcpHost *o = ip->hosts->pdata[i];
      if (network_addr_compare(&o->ip, &h->ip) == 0)
        return xml_fail(ret_error, c, "the address %s is given to two hosts",
                        network_addr_format(&h->ip, buf));
      if (h->mac[0] && strcmp(o->mac, h->mac) == 0)
        return xml_fail(ret_error, c, "the MAC address %s is listed twice", h->mac);
      if (h->name && o->name && g_ascii_strcasecmp(o->name, h->name) == 0)
        return xml_fail(ret_error, c, "the host name '%s' is listed twice", h->name);
    }
  }
  return 0;
}

static int parse_ip(const xmlNode *node, NetworkDef *def, Seen *seen, char **ret_error) {
  int r;
  if ((r = xml_check_attrs(node, A("family", "address", "netmask", "prefix"), ret_error)) < 0 ||
      (r = xml_check_children(node, A("dhcp"), A("dhcp"), ret_error)) < 0)
    return r;
  g_autofree char *family_s = xml_prop(node, "family");
  int family = 0;
  if (family_s) {
    if (strcmp(family_s, "ipv4") == 0)
      family = AF_INET;
    else if (strcmp(family_s, "ipv6") == 0)
      family = AF_INET6;
    else
      return xml_fail(ret_error, node, "family must be 'ipv4' or 'ipv6', not '%s'", family_s);
  }
  NetworkAddr address = {0};
  if ((r = prop_addr(node, "address", family, true, &address, ret_error)) < 0)
    return r;
  family = address.family;

  g_autofree char *netmask_s = xml_prop(node, "netmask");
  uint64_t prefix = 0;
  bool prefix_given = false;
  unsigned max = family == AF_INET ? 32 : 128;
  if ((r = xml_prop_uint(node, "prefix", max, &prefix, &prefix_given, ret_error)) < 0)
    return r;
  if (netmask_s && prefix_given)
    return xml_fail(ret_error, node, "give either 'netmask' or 'prefix', not both");
  if (netmask_s) {
    NetworkAddr mask;
    if (family != AF_INET)
      return xml_fail(ret_error, node, "'netmask' is for IPv4; use 'prefix' for IPv6");
    if (network_addr_parse(netmask_s, &mask) < 0 || mask.family != AF_INET)
      return xml_fail(ret_error, node, "'%s' is not an IPv4 netmask", netmask_s);
    uint32_t m = ((uint32_t)mask.bytes[0] << 24) | ((uint32_t)mask.bytes[1] << 16) |
                 ((uint32_t)mask.bytes[2] << 8) | mask.bytes[3];
    /* A netmask is a run of ones followed by zeros. */
    if (m & (~m >> 1))
      return xml_fail(ret_error, node, "'%s' is not a contiguous netmask", netmask_s);
    prefix = (uint64_t)__builtin_popcount(m);
  } else if (!prefix_given) {
    /* libvirt's default for an address without mask: /24 and /64. */
    prefix = family == AF_INET ? 24 : 64;
  }
  unsigned limit = family == AF_INET ? 30 : 126;
  if (prefix == 0 || prefix > limit)
    return xml_fail(ret_error, node, "prefix /%" G_GUINT64_FORMAT " leaves no room for hosts "
                    "(1 to %u)", prefix, limit);
  NetworkAddr net = network_addr_mask(&address, (unsigned)prefix);
  NetworkAddr bcast = network_addr_broadcast(&address, (unsigned)prefix);
  char buf[NETWORK_ADDR_STRLEN];
  if (network_addr_compare(&address, &net) == 0)
    return xml_fail(ret_error, node, "%s is the network address of its subnet; give the "
                    "bridge a host address such as the first one",
                    network_addr_format(&address, buf));
  if (family == AF_INET && network_addr_compare(&address, &bcast) == 0)
    return xml_fail(ret_error, node, "%s is the broadcast address of its subnet",
                    network_addr_format(&address, buf));
  if (family == AF_INET6 && address.bytes[0] == 0xfe && (address.bytes[1] & 0xc0) == 0x80)
    return xml_fail(ret_error, node, "a link-local address cannot be the network's address");

  for (guint i = 0; i < def->ips->len; i++) {
    const NetworkIp *o = def->ips->pdata[i];
    if (network_subnets_overlap(&o->address, o->prefix, &address, (unsigned)prefix)) {
      char obuf[NETWORK_ADDR_STRLEN];
      return xml_fail(ret_error, node, "the subnet of %s/%" G_GUINT64_FORMAT " overlaps the "
                      "earlier <ip> %s/%u", network_addr_format(&address, buf), prefix,
                      network_addr_format(&o->address, obuf), o->prefix);
    }
  }
  NetworkIp *ip = network_ip_new();
  ip->address = address;
  ip->prefix = (unsigned)prefix;
  g_ptr_array_add(def->ips, ip);
  if (!seen->ip)
    seen->ip = node;
  const xmlNode *dhcp = xml_child(node, "dhcp");
  if (dhcp)
    return parse_dhcp(dhcp, ip, ret_error);
  return 0;
}

/* ---- cross-element checks ---- */

static int check_consistency(NetworkDef *def, const Seen *seen, const xmlNode *root,
                             char **ret_error) {
  NetworkForwardMode m = def->forward;
  const char *mode = network_forward_mode_to_string(m);
  if (seen->nat && m != NETWORK_FORWARD_NAT)
    return xml_fail(ret_error, seen->nat, "element is only allowed with forward mode 'nat', not '%s'", mode);
  if (def->forward_dev && (m == NETWORK_FORWARD_NONE || m == NETWORK_FORWARD_OPEN))
    return xml_fail(ret_error, seen->forward, "attribute 'dev' is not allowed with mode '%s'", mode);

  if (m == NETWORK_FORWARD_BRIDGE) {
    /* The host's bridge is given by <bridge name> (libvirt) or forward dev. */
    if (def->forward_dev && def->bridge && strcmp(def->forward_dev, def->bridge) != 0)
      return xml_fail(ret_error, seen->forward, "dev '%s' differs from <bridge name='%s'>",
                      def->forward_dev, def->bridge);
    if (def->forward_dev && !def->bridge)
      def->bridge = g_strdup(def->forward_dev);
    g_clear_pointer(&def->forward_dev, g_free);
    if (!def->bridge)
      return xml_fail(ret_error, seen->forward, "mode 'bridge' needs the name of an existing "
                      "host bridge in <bridge name='...'/>");
    const xmlNode *in_the_way[] = {seen->ip, seen->dns, seen->domain, seen->mac, seen->mtu,
                                   seen->bandwidth};
    for (size_t i = 0; i < G_N_ELEMENTS(in_the_way); i++)
      if (in_the_way[i])
        return xml_fail(ret_error, in_the_way[i], "element is not allowed with forward mode "
                        "'bridge': the host bridge is not managed by virtfs");
    if (def->ipv6)
      return xml_fail(ret_error, root, "attribute 'ipv6' is not allowed with forward mode "
                      "'bridge': the host bridge is not managed by virtfs");
    if (seen->bridge_stp_given || seen->bridge_delay_given)
      return xml_fail(ret_error, seen->bridge, "'stp' and 'delay' are not allowed with forward "
                      "mode 'bridge': the host bridge is not managed by virtfs");
    def->stp = true;
    def->delay = 0;
    return 0;
  }

  if (m == NETWORK_FORWARD_NAT && !network_def_first_ip(def, AF_INET))
    return xml_fail(ret_error, seen->forward ? seen->forward : root,
                    "forward mode 'nat' needs an IPv4 <ip> element");
  if (def->nat_ipv6 && !network_def_first_ip(def, AF_INET6))
    return xml_fail(ret_error, seen->nat, "ipv6='yes' needs an IPv6 <ip> element to masquerade");
  if ((m == NETWORK_FORWARD_ROUTE || m == NETWORK_FORWARD_OPEN) && def->ips->len == 0)
    return xml_fail(ret_error, seen->forward, "forward mode '%s' needs an <ip> element", mode);
  if (def->nat_start.family &&
      (network_def_ip_for(def, &def->nat_start) || network_def_ip_for(def, &def->nat_end)))
    return xml_fail(ret_error, xml_child(seen->nat, "address"),
                    "the NAT addresses must be outside the network's own subnets");
  if (def->ips->len == 0) {
    if (seen->dns)
      return xml_fail(ret_error, seen->dns, "element needs an <ip> element in the network");
    if (seen->domain)
      return xml_fail(ret_error, seen->domain, "element needs an <ip> element in the network");
  }
  for (guint i = 0; i < def->dns_hosts->len; i++) {
    const NetworkDnsHost *h = def->dns_hosts->pdata[i];
    for (guint j = 0; j < i; j++) {
      const NetworkDnsHost *o = def->dns_hosts->pdata[j];
      if (network_addr_compare(&o->ip, &h->ip) == 0) {
        char buf[NETWORK_ADDR_STRLEN];
        return xml_fail(ret_error, seen->dns, "the address %s has two <host> elements; list "
                        "every <hostname> in one", network_addr_format(&h->ip, buf));
      }
    }
  }
  return 0;
}

int network_def_parse(const char *xml, size_t len, NetworkDef **ret_def, char **ret_error) {
  g_autoptr(xmlDoc) doc = NULL;
  int r = xml_parse_safe(xml, len, "network", &doc, ret_error);
  if (r < 0)
    return r;
  const xmlNode *root = xmlDocGetRootElement(doc);
  static const char *const children[] = {"name", "uuid", "forward", "bridge", "mtu", "mac",
                                         "domain", "dns", "bandwidth", "portgroup", "ip", NULL};
  static const char *const single[] = {"name", "uuid", "forward", "bridge", "mtu", "mac",
                                       "domain", "dns", "bandwidth", NULL};
  if ((r = xml_check_attrs(root, A("ipv6"), ret_error)) < 0 ||
      (r = xml_check_children(root, children, single, ret_error)) < 0)
    return r;

  g_autoptr(NetworkDef) def = network_def_alloc();
  Seen seen = {0};
  if ((r = xml_prop_yesno(root, "ipv6", &def->ipv6, &seen.ipv6_given, ret_error)) < 0)
    return r;
  for (const xmlNode *c = root->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    const char *n = (const char *)c->name;
    if (strcmp(n, "name") == 0) {
      if ((r = check_leaf(c, ret_error)) < 0)
        return r;
      g_autofree char *name = xml_text(c);
      g_autofree char *why = NULL;
      if (object_name_validate(name, &why) < 0)
        return xml_fail(ret_error, c, "%s", why);
      def->name = g_steal_pointer(&name);
    } else if (strcmp(n, "uuid") == 0) {
      r = parse_uuid(c, def, ret_error);
    } else if (strcmp(n, "forward") == 0) {
      seen.forward = c;
      r = parse_forward(c, def, &seen, ret_error);
    } else if (strcmp(n, "bridge") == 0) {
      seen.bridge = c;
      r = parse_bridge(c, def, &seen, ret_error);
    } else if (strcmp(n, "mtu") == 0) {
      seen.mtu = c;
      r = parse_mtu(c, def, ret_error);
    } else if (strcmp(n, "mac") == 0) {
      seen.mac = c;
      r = parse_mac(c, def, ret_error);
    } else if (strcmp(n, "domain") == 0) {
      seen.domain = c;
      r = parse_domain(c, def, ret_error);
    } else if (strcmp(n, "dns") == 0) {
      seen.dns = c;
      r = parse_dns(c, def, ret_error);
    } else if (strcmp(n, "bandwidth") == 0) {
      seen.bandwidth = c;
      r = parse_bandwidth(c, &def->bandwidth, ret_error);
    } else if (strcmp(n, "portgroup") == 0) {
      seen.portgroup = c;
      r = parse_portgroup(c, def, ret_error);
    } else if (strcmp(n, "ip") == 0) {
      r = parse_ip(c, def, &seen, ret_error);
    }
    if (r < 0)
      return r;
  }
  if (!def->name)
    return xml_fail(ret_error, root, "element <name> is required");
  if ((r = check_consistency(def, &seen, root, ret_error)) < 0)
    return r;
  network_def_fill_defaults(def);
  *ret_def = g_steal_pointer(&def);
  return 0;
}

/* ---- format ---- */

static void write_addr_attr(XmlWriter *w, const char *name, const NetworkAddr *a) {
  char buf[NETWORK_ADDR_STRLEN];
  xml_writer_attr(w, name, network_addr_format(a, buf));
}

static void format_ip(XmlWriter *w, const NetworkIp *ip) {
  xml_writer_start(w, "ip");
  if (ip->address.family == AF_INET6) {
    xml_writer_attr(w, "family", "ipv6");
    write_addr_attr(w, "address", &ip->address);
    xml_writer_attr_printf(w, "prefix", "%u", ip->prefix);
  } else {
    NetworkAddr mask = network_addr_netmask(ip->prefix);
    write_addr_attr(w, "address", &ip->address);
    write_addr_attr(w, "netmask", &mask);
  }
  if (!ip->ranges->len && !ip->hosts->len) {
    xml_writer_end_empty(w);
    return;
  }
  xml_writer_end_open(w);
  xml_writer_start(w, "dhcp");
  xml_writer_end_open(w);
  for (guint i = 0; i < ip->ranges->len; i++) {
    const NetworkDhcpRange *r = ip->ranges->pdata[i];
    xml_writer_start(w, "range");
    write_addr_attr(w, "start", &r->start);
    write_addr_attr(w, "end", &r->end);
    xml_writer_end_empty(w);
  }
  for (guint i = 0; i < ip->hosts->len; i++) {
    const NetworkDhcpHost *h = ip->hosts->pdata[i];
    xml_writer_start(w, "host");
    if (h->mac[0])
      xml_writer_attr(w, "mac", h->mac);
    xml_writer_attr(w, "name", h->name);
    write_addr_attr(w, "ip", &h->ip);
    xml_writer_end_empty(w);
  }
  xml_writer_close(w);
  xml_writer_close(w);
}

static void format_rate(XmlWriter *w, const char *name, const NetworkRate *r) {
  if (!r->average)
    return;
  xml_writer_start(w, name);
  xml_writer_attr_printf(w, "average", "%" G_GUINT64_FORMAT, r->average);
  if (r->peak)
    xml_writer_attr_printf(w, "peak", "%" G_GUINT64_FORMAT, r->peak);
  if (r->burst)
    xml_writer_attr_printf(w, "burst", "%" G_GUINT64_FORMAT, r->burst);
  xml_writer_end_empty(w);
}

static void format_bandwidth(XmlWriter *w, const NetworkBandwidth *bw) {
  if (!network_bandwidth_is_set(bw))
    return;
  xml_writer_start(w, "bandwidth");
  xml_writer_end_open(w);
  format_rate(w, "inbound", &bw->in);
  format_rate(w, "outbound", &bw->out);
  xml_writer_close(w);
}

static void format_dns(XmlWriter *w, const NetworkDef *def) {
  if (!def->dns_enabled) {
    xml_writer_start(w, "dns");
    xml_writer_attr(w, "enable", "no");
    xml_writer_end_empty(w);
    return;
  }
  bool children = def->dns_forwarders->len || def->dns_hosts->len || def->dns_txts->len ||
                  def->dns_srvs->len;
  if (!children && def->dns_forward_plain_names == NETWORK_TRISTATE_ABSENT)
    return;
  xml_writer_start(w, "dns");
  if (def->dns_forward_plain_names != NETWORK_TRISTATE_ABSENT)
    xml_writer_attr(w, "forwardPlainNames",
                    def->dns_forward_plain_names == NETWORK_TRISTATE_YES ? "yes" : "no");
  if (!children) {
    xml_writer_end_empty(w);
    return;
  }
  xml_writer_end_open(w);
  for (guint i = 0; i < def->dns_forwarders->len; i++) {
    const NetworkDnsForwarder *f = def->dns_forwarders->pdata[i];
    xml_writer_start(w, "forwarder");
    xml_writer_attr(w, "domain", f->domain);
    if (f->addr.family)
      write_addr_attr(w, "addr", &f->addr);
    xml_writer_end_empty(w);
  }
  for (guint i = 0; i < def->dns_txts->len; i++) {
    const NetworkDnsTxt *t = def->dns_txts->pdata[i];
    xml_writer_start(w, "txt");
    xml_writer_attr(w, "name", t->name);
    xml_writer_attr(w, "value", t->value);
    xml_writer_end_empty(w);
  }
  for (guint i = 0; i < def->dns_srvs->len; i++) {
    const NetworkDnsSrv *v = def->dns_srvs->pdata[i];
    xml_writer_start(w, "srv");
    xml_writer_attr(w, "service", v->service);
    xml_writer_attr(w, "protocol", v->protocol);
    xml_writer_attr(w, "domain", v->domain);
    xml_writer_attr(w, "target", v->target);
    if (v->port_set)
      xml_writer_attr_printf(w, "port", "%u", v->port);
    if (v->priority_set)
      xml_writer_attr_printf(w, "priority", "%u", v->priority);
    if (v->weight_set)
      xml_writer_attr_printf(w, "weight", "%u", v->weight);
    xml_writer_end_empty(w);
  }
  for (guint i = 0; i < def->dns_hosts->len; i++) {
    const NetworkDnsHost *h = def->dns_hosts->pdata[i];
    xml_writer_start(w, "host");
    write_addr_attr(w, "ip", &h->ip);
    xml_writer_end_open(w);
    for (guint j = 0; j < h->hostnames->len; j++)
      xml_writer_text_element(w, "hostname", h->hostnames->pdata[j]);
    xml_writer_close(w);
  }
  xml_writer_close(w);
}

char *network_def_format(const NetworkDef *def) {
  g_autoptr(XmlWriter) w = xml_writer_new();
  xml_writer_start(w, "network");
  if (def->ipv6)
    xml_writer_attr(w, "ipv6", "yes");
  xml_writer_end_open(w);
  xml_writer_text_element(w, "name", def->name);
  xml_writer_text_element(w, "uuid", def->uuid);

  if (def->forward != NETWORK_FORWARD_NONE) {
    xml_writer_start(w, "forward");
    xml_writer_attr(w, "mode", network_forward_mode_to_string(def->forward));
    xml_writer_attr(w, "dev", def->forward_dev);
    bool nat = def->forward == NETWORK_FORWARD_NAT &&
               (def->nat_start.family || def->nat_port_start || def->nat_ipv6);
    if (!nat) {
      xml_writer_end_empty(w);
    } else if (!def->nat_start.family && !def->nat_port_start) {
      xml_writer_end_open(w);
      xml_writer_start(w, "nat");
      xml_writer_attr(w, "ipv6", "yes");
      xml_writer_end_empty(w);
      xml_writer_close(w);
    } else {
      xml_writer_end_open(w);
      xml_writer_start(w, "nat");
      if (def->nat_ipv6)
        xml_writer_attr(w, "ipv6", "yes");
      xml_writer_end_open(w);
      if (def->nat_start.family) {
        xml_writer_start(w, "address");
        write_addr_attr(w, "start", &def->nat_start);
        write_addr_attr(w, "end", &def->nat_end);
        xml_writer_end_empty(w);
      }
      if (def->nat_port_start) {
        xml_writer_start(w, "port");
        xml_writer_attr_printf(w, "start", "%u", def->nat_port_start);
        xml_writer_attr_printf(w, "end", "%u", def->nat_port_end);
        xml_writer_end_empty(w);
      }
      xml_writer_close(w);
      xml_writer_close(w);
    }
  }

  xml_writer_start(w, "bridge");
  xml_writer_attr(w, "name", def->bridge);
  if (def->forward != NETWORK_FORWARD_BRIDGE) {
    xml_writer_attr(w, "stp", def->stp ? "on" : "off");
    xml_writer_attr_printf(w, "delay", "%u", def->delay);
  }
  xml_writer_end_empty(w);

  if (def->mtu) {
    xml_writer_start(w, "mtu");
    xml_writer_attr_printf(w, "size", "%u", def->mtu);
    xml_writer_end_empty(w);
  }
  if (def->mac[0]) {
    xml_writer_start(w, "mac");
    xml_writer_attr(w, "address", def->mac);
    xml_writer_end_empty(w);
  }
  if (def->domain) {
    xml_writer_start(w, "domain");
    xml_writer_attr(w, "name", def->domain);
    if (def->domain_local_only)
      xml_writer_attr(w, "localOnly", "yes");
    xml_writer_end_empty(w);
  }
  format_dns(w, def);
  format_bandwidth(w, &def->bandwidth);
  for (guint i = 0; i < def->ips->len; i++)
    format_ip(w, def->ips->pdata[i]);
  for (guint i = 0; i < def->portgroups->len; i++) {
    const NetworkPortgroup *pg = def->portgroups->pdata[i];
    xml_writer_start(w, "portgroup");
    xml_writer_attr(w, "name", pg->name);
    if (pg->is_default)
      xml_writer_attr(w, "default", "yes");
    if (!network_bandwidth_is_set(&pg->bandwidth)) {
      xml_writer_end_empty(w);
      continue;
    }
    xml_writer_end_open(w);
    format_bandwidth(w, &pg->bandwidth);
    xml_writer_close(w);
  }
  xml_writer_close(w);
  return xml_writer_finish(g_steal_pointer(&w));
}
