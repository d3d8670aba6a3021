/* network_def.c — NetworkDef life cycle, defaults, conflict checks and the
 * address arithmetic shared by the parser and the bridge driver; see
 * network_def.h. The XML side lives in network_xml.c. */
#include "objects/network_def.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

ENUM_TABLE_IMPL(network_forward_mode, NetworkForwardMode,
                "none", "nat", "route", "open", "bridge")

/* ---- addresses ---- */

static size_t addr_len(int family) {
  return family == AF_INET6 ? 16 : 4;
}

int network_addr_parse(const char *text, NetworkAddr *ret_addr) {
  NetworkAddr a = {0};
  if (!text)
    return -EINVAL;
  if (inet_pton(AF_INET, text, a.bytes) == 1)
    a.family = AF_INET;
  else if (inet_pton(AF_INET6, text, a.bytes) == 1)
    a.family = AF_INET6;
  else
    return -EINVAL;
  *ret_addr = a;
  return 0;
}

const char *network_addr_format(const NetworkAddr *addr, char *buf) {
  if (!addr->family || !inet_ntop(addr->family, addr->bytes, buf, NETWORK_ADDR_STRLEN))
    buf[0] = '\0';
  return buf;
}

NetworkAddr network_addr_mask(const NetworkAddr *addr, unsigned prefix) {
  NetworkAddr r = *addr;
  size_t n = addr_len(addr->family);
  for (size_t i = 0; i < n; i++) {
    unsigned keep = prefix >= (i + 1) * 8 ? 8 : prefix > i * 8 ? prefix - (unsigned)i * 8 : 0;
    r.bytes[i] &= (uint8_t)(0xff00u >> keep);
  }
  return r;
}

NetworkAddr network_addr_broadcast(const NetworkAddr *addr, unsigned prefix) {
  NetworkAddr r = *addr;
  size_t n = addr_len(addr->family);
  for (size_t i = 0; i < n; i++) {
    unsigned keep = prefix >= (i + 1) * 8 ? 8 : prefix > i * 8 ? prefix - (unsigned)i * 8 : 0;
    r.bytes[i] |= (uint8_t)~(0xff00u >> keep);
  }
  return r;
}

NetworkAddr network_addr_netmask(unsigned prefix) {
  NetworkAddr zero = {.family = AF_INET};
  NetworkAddr ones = network_addr_broadcast(&zero, 0);
  return network_addr_mask(&ones, prefix);
}

int network_addr_compare(const NetworkAddr *a, const NetworkAddr *b) {
  if (a->family != b->family)
    return a->family < b->family ? -1 : 1;
  return memcmp(a->bytes, b->bytes, addr_len(a->family));
}

bool network_addr_in_subnet(const NetworkAddr *addr, const NetworkAddr *net, unsigned prefix) {
  if (addr->family != net->family)
    return false;
  NetworkAddr x = network_addr_mask(addr, prefix);
  NetworkAddr y = network_addr_mask(net, prefix);
  return network_addr_compare(&x, &y) == 0;
}

bool network_subnets_overlap(const NetworkAddr *a, unsigned prefix_a,
                             const NetworkAddr *b, unsigned prefix_b) {
  if (a->family != b->family)
    return false;
  /* Two prefixes overlap exactly when one contains the other. */
  unsigned shorter = prefix_a < prefix_b ? prefix_a : prefix_b;
  return network_addr_in_subnet(a, b, shorter);
}

uint64_t network_addr_range_size(const NetworkAddr *start, const NetworkAddr *end) {
  size_t n = addr_len(start->family);
  /* Subtract big-endian numbers byte by byte; anything that does not fit in
   * 64 bits saturates. */
  uint8_t diff[16];
  int borrow = 0;
  for (size_t i = n; i-- > 0;) {
    int d = (int)end->bytes[i] - (int)start->bytes[i] - borrow;
    borrow = d < 0;
    diff[i] = (uint8_t)(d + (borrow ? 256 : 0));
  }
  if (borrow)
    return 0;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (i + 8 < n && diff[i])
      return UINT64_MAX;
    if (i + 8 >= n)
      v = (v << 8) | diff[i];
  }
  return v == UINT64_MAX ? v : v + 1;
}

int network_mac_parse(const char *text, char ret_mac[18]) {
  if (!text || strlen(text) != 17)
    return -EINVAL;
  char out[18];
  for (int i = 0; i < 17; i++) {
    char c = text[i];
    if (i % 3 == 2) {
      if (c != ':')
        return -EINVAL;
      out[i] = ':';
    } else {
      if (!g_ascii_isxdigit(c))
        return -EINVAL;
      out[i] = g_ascii_tolower(c);
    }
  }
  out[17] = '\0';
  memcpy(ret_mac, out, 18);
  return 0;
}

/* ---- defaults ---- */

static bool short_name_ok(const char *name) {
  size_t len = strlen(name);
  if (len == 0 || len > 8)
    return false;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-')
      return false;
  return true;
}

char *network_def_default_bridge_name(const char *name) {
  if (short_name_ok(name))
    return g_strdup_printf("virbr-%s", name);
  g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, name, -1);
  return g_strdup_printf("virbr-%.9s", sum);
}

bool network_def_wants_dnsmasq(const NetworkDef *def) {
  if (def->forward == NETWORK_FORWARD_BRIDGE || def->ips->len == 0)
    return false;
  if (def->dns_enabled)
    return true;
  for (guint i = 0; i < def->ips->len; i++) {
    const NetworkIp *ip = def->ips->pdata[i];
    /* IPv6 always gets router advertisements from dnsmasq. */
    if (ip->ranges->len || ip->hosts->len || ip->address.family == AF_INET6)
      return true;
  }
  return false;
}

const NetworkIp *network_def_first_ip(const NetworkDef *def, int family) {
  for (guint i = 0; i < def->ips->len; i++) {
    const NetworkIp *ip = def->ips->pdata[i];
    if (ip->address.family == family)
      return ip;
  }
  return NULL;
}

const NetworkIp *network_def_ip_for(const NetworkDef *def, const NetworkAddr *addr) {
  for (guint i = 0; i < def->ips->len; i++) {
    const NetworkIp *ip = def->ips->pdata[i];
    if (network_addr_in_subnet(addr, &ip->address, ip->prefix))
      return ip;
  }
  return NULL;
}

const NetworkPortgroup *network_def_portgroup(const NetworkDef *def, const char *name) {
  for (guint i = 0; i < def->portgroups->len; i++) {
    const NetworkPortgroup *pg = def->portgroups->pdata[i];
    if (name ? strcmp(pg->name, name) == 0 : pg->is_default)
      return pg;
  }
  return NULL;
}

bool network_bandwidth_is_set(const NetworkBandwidth *bw) {
  return bw->in.average || bw->out.average;
}

static void dhcp_host_free(NetworkDhcpHost *h) {
  if (!h)
    return;
  g_free(h->name);
  g_free(h);
}

static void dns_host_free(NetworkDnsHost *h) {
  if (!h)
    return;
  g_ptr_array_unref(h->hostnames);
  g_free(h);
}

static void dns_forwarder_free(NetworkDnsForwarder *f) {
  if (!f)
    return;
  g_free(f->domain);
  g_free(f);
}

static void dns_txt_free(NetworkDnsTxt *t) {
  if (!t)
    return;
  g_free(t->name);
  g_free(t->value);
  g_free(t);
}

static void dns_srv_free(NetworkDnsSrv *v) {
  if (!v)
    return;
  g_free(v->service);
  g_free(v->protocol);
  g_free(v->domain);
  g_free(v->target);
  g_free(v);
}

static void portgroup_free(NetworkPortgroup *pg) {
  if (!pg)
    return;
  g_free(pg->name);
  g_free(pg);
}

static void ip_free(NetworkIp *ip) {
  if (!ip)
    return;
  g_ptr_array_unref(ip->ranges);
  g_ptr_array_unref(ip->hosts);
  g_free(ip);
}

/* Internal constructors shared with network_xml.c through the declarations
 * at the top of that file. */
NetworkIp *network_ip_new(void);
NetworkDnsHost *network_dns_host_new(void);
NetworkDnsForwarder *network_dns_forwarder_new(void);
NetworkDhcpHost *network_dhcp_host_new(void);
NetworkDef *network_def_alloc(void);
void network_def_fill_defaults(NetworkDef *def);

NetworkIp *network_ip_new(void) {
  NetworkIp *ip = g_new0(NetworkIp, 1);
  ip->ranges = g_ptr_array_new_with_free_func(g_free);
  ip->hosts = g_ptr_array_new_with_free_func((GDestroyNotify)dhcp_host_free);
  return ip;
}

NetworkDnsHost *network_dns_host_new(void) {
  NetworkDnsHost *h = g_new0(NetworkDnsHost, 1);
  h->hostnames = g_ptr_array_new_with_free_func(g_free);
  return h;
}

NetworkDnsForwarder *network_dns_forwarder_new(void) {
  return g_new0(NetworkDnsForwarder, 1);
}

NetworkDhcpHost *network_dhcp_host_new(void) {
  return g_new0(NetworkDhcpHost, 1);
}

NetworkDef *network_def_alloc(void) {
  NetworkDef *def = g_new0(NetworkDef, 1);
  def->stp = true;
  def->dns_enabled = true;
  def->dns_forwarders = g_ptr_array_new_with_free_func((GDestroyNotify)dns_forwarder_free);
  def->dns_hosts = g_ptr_array_new_with_free_func((GDestroyNotify)dns_host_free);
  def->dns_txts = g_ptr_array_new_with_free_func((GDestroyNotify)dns_txt_free);
  def->dns_srvs = g_ptr_array_new_with_free_func((GDestroyNotify)dns_srv_free);
  def->portgroups = g_ptr_array_new_with_free_func((GDestroyNotify)portgroup_free);
  def->ips = g_ptr_array_new_with_free_func((GDestroyNotify)ip_free);
  return def;
}

/* Fills the UUID, bridge name and bridge MAC when absent. */
void network_def_fill_defaults(NetworkDef *def) {
  if (!def->uuid[0]) {
    g_autofree char *u = g_uuid_string_random();
    g_strlcpy(def->uuid, u, sizeof(def->uuid));
  }
  if (def->forward == NETWORK_FORWARD_BRIDGE)
    return;
  if (!def->bridge)
    def->bridge = network_def_default_bridge_name(def->name);
  if (!def->mac[0]) {
    unsigned b[3];
    /* The UUID's first three bytes are its first six hex digits. */
    if (sscanf(def->uuid, "%2x%2x%2x", &b[0], &b[1], &b[2]) != 3)
      b[0] = b[1] = b[2] = 0;
    g_snprintf(def->mac, sizeof(def->mac), "52:54:00:%02x:%02x:%02x", b[0], b[1], b[2]);
  }
}

static NetworkDhcpRange *range_new(const char *start, const char *end) {
  NetworkDhcpRange *r = g_new0(NetworkDhcpRange, 1);
  network_addr_parse(start, &r->start);
  network_addr_parse(end, &r->end);
  return r;
}

NetworkDef *network_def_new_default(void) {
  NetworkDef *def = network_def_alloc();
  def->name = g_strdup("default");
  def->forward = NETWORK_FORWARD_NAT;
  NetworkIp *ip = network_ip_new();
  network_addr_parse("192.168.122.1", &ip->address);
  ip->prefix = 24;
  g_ptr_array_add(ip->ranges, range_new("192.168.122.2", "192.168.122.254"));
  g_ptr_array_add(def->ips, ip);
  network_def_fill_defaults(def);
  return def;
}

NetworkDef *network_def_new_empty(const char *name) {
  NetworkDef *def = network_def_alloc();
  def->name = g_strdup(name);
  def->forward = NETWORK_FORWARD_NONE;
  network_def_fill_defaults(def);
  return def;
}

void network_def_free(NetworkDef *def) {
  if (!def)
    return;
  g_free(def->name);
  g_free(def->forward_dev);
  g_free(def->bridge);
  g_free(def->domain);
  g_ptr_array_unref(def->dns_forwarders);
  g_ptr_array_unref(def->dns_hosts);
  g_ptr_array_unref(def->dns_txts);
  g_ptr_array_unref(def->dns_srvs);
  g_ptr_array_unref(def->portgroups);
  g_ptr_array_unref(def->ips);
  g_free(def);
}

static NetworkIp *ip_copy(const NetworkIp *src) {
  if (!src)
    return NULL;
  NetworkIp *ip = network_ip_new();
  ip->address = src->address;
  ip->prefix = src->prefix;
  for (guint i = 0; i < src->ranges->len; i++)
    g_ptr_array_add(ip->ranges, g_memdup2(src->ranges->pdata[i], sizeof(NetworkDhcpRange)));
  for (guint i = 0; i < src->hosts->len; i++) {
    const NetworkDhcpHost *s = src->hosts->pdata[i];
    NetworkDhcpHost *h = network_dhcp_host_new();
    *h = *s;
    h->name = g_strdup(s->name);
    g_ptr_array_add(ip->hosts, h);
  }
  return ip;
}

NetworkDef *network_def_copy(const NetworkDef *src) {
  NetworkDef *def = network_def_alloc();
  NetworkDef fresh = *def;
  *def = *src;
  def->dns_forwarders = fresh.dns_forwarders;
  def->dns_hosts = fresh.dns_hosts;
  def->dns_txts = fresh.dns_txts;
  def->dns_srvs = fresh.dns_srvs;
  def->portgroups = fresh.portgroups;
  def->ips = fresh.ips;
  def->name = g_strdup(src->name);
  def->forward_dev = g_strdup(src->forward_dev);
  def->bridge = g_strdup(src->bridge);
  def->domain = g_strdup(src->domain);
  for (guint i = 0; i < src->ips->len; i++)
    g_ptr_array_add(def->ips, ip_copy(src->ips->pdata[i]));
  for (guint i = 0; i < src->dns_txts->len; i++) {
    const NetworkDnsTxt *s = src->dns_txts->pdata[i];
    NetworkDnsTxt *t = g_new0(NetworkDnsTxt, 1);
    t->name = g_strdup(s->name);
    t->value = g_strdup(s->value);
    g_ptr_array_add(def->dns_txts, t);
  }
  for (guint i = 0; i < src->dns_srvs->len; i++) {
    const NetworkDnsSrv *s = src->dns_srvs->pdata[i];
    NetworkDnsSrv *v = g_memdup2(s, sizeof(*s));
    v->service = g_strdup(s->service);
    v->protocol = g_strdup(s->protocol);
    v->domain = g_strdup(s->domain);
    v->target = g_strdup(s->target);
    g_ptr_array_add(def->dns_srvs, v);
  }
  for (guint i = 0; i < src->portgroups->len; i++) {
    const NetworkPortgroup *s = src->portgroups->pdata[i];
    NetworkPortgroup *pg = g_memdup2(s, sizeof(*s));
    pg->name = g_strdup(s->name);
    g_ptr_array_add(def->portgroups, pg);
  }
  for (guint i = 0; i < src->dns_forwarders->len; i++) {
    const NetworkDnsForwarder *s = src->dns_forwarders->pdata[i];
    NetworkDnsForwarder *f = network_dns_forwarder_new();
    f->domain = g_strdup(s->domain);
    f->addr = s->addr;
    g_ptr_array_add(def->dns_forwarders, f);
  }
  for (guint i = 0; i < src->dns_hosts->len; i++) {
    const NetworkDnsHost *s = src->dns_hosts->pdata[i];
    NetworkDnsHost *h = network_dns_host_new();
    h->ip = s->ip;
    for (guint j = 0; j < s->hostnames->len; j++)
      g_ptr_array_add(h->hostnames, g_strdup(s->hostnames->pdata[j]));
    g_ptr_array_add(def->dns_hosts, h);
  }
  return def;
}

/* ---- conflicts ---- */

static int conflict(char **ret_error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static int conflict(char **ret_error, const char *fmt, ...) {
  if (ret_error) {
    va_list ap;
    va_start(ap, fmt);
    *ret_error = g_strdup_vprintf(fmt, ap);
    va_end(ap);
  }
  return -EADDRINUSE;
}

int network_def_conflicts(const NetworkDef *a, const NetworkDef *b, char **ret_error) {
  bool a_br = a->forward == NETWORK_FORWARD_BRIDGE, b_br = b->forward == NETWORK_FORWARD_BRIDGE;
  if (a->bridge && b->bridge && strcmp(a->bridge, b->bridge) == 0 && !(a_br && b_br))
    return conflict(ret_error, "networks '%s' and '%s' both use the bridge '%s'",
                    a->name, b->name, a->bridge);
  for (guint i = 0; i < a->ips->len * b->ips->len; i++) {
    const NetworkIp *x = a->ips->pdata[i / b->ips->len];
    const NetworkIp *y = b->ips->pdata[i % b->ips->len];
    if (!network_subnets_overlap(&x->address, x->prefix, &y->address, y->prefix))
      continue;
    char bx[NETWORK_ADDR_STRLEN], by[NETWORK_ADDR_STRLEN];
    NetworkAddr nx = network_addr_mask(&x->address, x->prefix);
    NetworkAddr ny = network_addr_mask(&y->address, y->prefix);
    return conflict(ret_error, "the subnet %s/%u of network '%s' overlaps the subnet %s/%u of network '%s'",
                    network_addr_format(&nx, bx), x->prefix, a->name,
                    network_addr_format(&ny, by), y->prefix, b->name);
  }
  return 0;
}
