/* nft_rules.c — per-network nftables chains in `table inet virtfs`; see
 * nft_rules.h for the layout and the reasons behind it. */
#include "drivers/bridge/nft_rules.h"

#include <errno.h>
#include <stdarg.h>
#include <nftables/libnftables.h>
#include <string.h>

#include "drivers/bridge/bandwidth.h"

/* libnftables' parser and caches are process-wide; one caller at a time. */
G_LOCK_DEFINE_STATIC(nft_lock);

#define TABLE NFT_TABLE_FAMILY " " NFT_TABLE_NAME

char *nft_rules_chain_name(const NetworkDef *def, const char *suffix) {
  return g_strdup_printf("net-%s-%s", def->bridge, suffix);
}

static void subnet_text(const NetworkIp *ip, GString *out) {
  char buf[NETWORK_ADDR_STRLEN];
  NetworkAddr net = network_addr_mask(&ip->address, ip->prefix);
  g_string_append_printf(out, "%s/%u", network_addr_format(&net, buf), ip->prefix);
}

/* Appends "add chain" + "flush chain" for a base chain we fill, or
 * "add chain" + "flush chain" + "delete chain" for one we do not need: the
 * add makes the delete safe when the chain is absent, the flush empties it
 * so the delete is allowed. */
static void chain_head(GString *s, const char *chain, const char *spec, bool keep) {
  if (keep)
    g_string_append_printf(s, "add chain " TABLE " %s { %s }\n", chain, spec);
  else
    g_string_append_printf(s, "add chain " TABLE " %s\n", chain);
  g_string_append_printf(s, "flush chain " TABLE " %s\n", chain);
  if (!keep)
    g_string_append_printf(s, "delete chain " TABLE " %s\n", chain);
}

static void rule(GString *s, const char *chain, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void rule(GString *s, const char *chain, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *body = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_string_append_printf(s, "add rule " TABLE " %s %s\n", chain, body);
}

/* Forwarding for one subnet: out of the bridge from the subnet, and back in
 * (only established flows for NAT, anything for routed subnets). */
static void forward_subnet(GString *s, const char *chain, const NetworkDef *def,
                           const NetworkIp *ip, bool established_only) {
  const char *proto = ip->address.family == AF_INET6 ? "ip6" : "ip";
  g_autoptr(GString) net = g_string_new(NULL);
  subnet_text(ip, net);
  g_autofree char *out_dev = def->forward_dev
      ? g_strdup_printf(" oifname \"%s\"", def->forward_dev) : g_strdup("");
  g_autofree char *in_dev = def->forward_dev
      ? g_strdup_printf(" iifname \"%s\"", def->forward_dev) : g_strdup("");
  rule(s, chain, "iifname \"%s\"%s %s saddr %s accept", def->bridge, out_dev, proto, net->str);
  rule(s, chain, "oifname \"%s\"%s %s daddr %s%s accept", def->bridge, in_dev, proto, net->str,
       established_only ? " ct state related,established" : "");
}

/* Masquerade for one IPv6 subnet (<nat ipv6='yes'>); <nat><address> and
 * <port> are IPv4 only, as in libvirt. */
static void nat_rules6(GString *s, const char *chain, const NetworkDef *def, const NetworkIp *ip) {
  g_autoptr(GString) net = g_string_new(NULL);
  subnet_text(ip, net);
  g_autofree char *out_dev = def->forward_dev
      ? g_strdup_printf(" oifname \"%s\"", def->forward_dev) : g_strdup("");
  /* Multicast never leaves the link. */
  rule(s, chain, "ip6 saddr %s ip6 daddr ff00::/8 return", net->str);
  rule(s, chain, "ip6 saddr %s ip6 daddr != %s%s masquerade", net->str, net->str, out_dev);
}

static void nat_rules(GString *s, const char *chain, const NetworkDef *def, const NetworkIp *ip) {
  g_autoptr(GString) net = g_string_new(NULL);
  subnet_text(ip, net);
  g_autofree char *out_dev = def->forward_dev
      ? g_strdup_printf(" oifname \"%s\"", def->forward_dev) : g_strdup("");
  /* Multicast and broadcast never leave the subnet, so never rewrite them. */
  rule(s, chain, "ip saddr %s ip daddr 224.0.0.0/24 return", net->str);
  rule(s, chain, "ip saddr %s ip daddr 255.255.255.255 return", net->str);
  unsigned ps = def->nat_port_start ? def->nat_port_start : 1024;
  unsigned pe = def->nat_port_start ? def->nat_port_end : 65535;
  if (def->nat_start.family) {
    char a[NETWORK_ADDR_STRLEN], b[NETWORK_ADDR_STRLEN];
    network_addr_format(&def->nat_start, a);
    network_addr_format(&def->nat_end, b);
    g_autofree char *to = network_addr_compare(&def->nat_start, &def->nat_end) == 0
        ? g_strdup(a) : g_strdup_printf("%s-%s", a, b);
    rule(s, chain, "ip saddr %s ip daddr != %s%s meta l4proto { tcp, udp } snat ip to %s:%u-%u",
         net->str, net->str, out_dev, to, ps, pe);
    rule(s, chain, "ip saddr %s ip daddr != %s%s snat ip to %s", net->str, net->str, out_dev, to);
  } else {
    rule(s, chain, "ip saddr %s ip daddr != %s%s meta l4proto { tcp, udp } masquerade to :%u-%u",
         net->str, net->str, out_dev, ps, pe);
    rule(s, chain, "ip saddr %s ip daddr != %s%s masquerade", net->str, net->str, out_dev);
  }
}

char *nft_rules_build_add(const NetworkDef *def) {
  if (def->forward == NETWORK_FORWARD_BRIDGE)
    return g_strdup("");
  GString *s = g_string_new(NULL);
  g_autofree char *fwd = nft_rules_chain_name(def, "fwd");
  g_autofree char *nat = nft_rules_chain_name(def, "nat");
  bool want_nat = def->forward == NETWORK_FORWARD_NAT;
  g_string_append_printf(s, "# virtfs network '%s' (%s) on bridge %s\n", def->name,
                         network_forward_mode_to_string(def->forward), def->bridge);
  g_string_append(s, "add table " TABLE "\n");
  chain_head(s, fwd, "type filter hook forward priority filter; policy accept;", true);
  chain_head(s, nat, "type nat hook postrouting priority srcnat; policy accept;", want_nat);

  switch (def->forward) {
  case NETWORK_FORWARD_OPEN:
    rule(s, fwd, "iifname \"%s\" accept", def->bridge);
    rule(s, fwd, "oifname \"%s\" accept", def->bridge);
    break;
  case NETWORK_FORWARD_NAT:
  case NETWORK_FORWARD_ROUTE:
  case NETWORK_FORWARD_NONE:
    /* Guests on one bridge may always talk to each other. */
    rule(s, fwd, "iifname \"%s\" oifname \"%s\" accept", def->bridge, def->bridge);
    if (def->forward != NETWORK_FORWARD_NONE) {
      bool nat4 = def->forward == NETWORK_FORWARD_NAT;
      bool nat6 = nat4 && def->nat_ipv6;
      for (guint i = 0; i < def->ips->len; i++) {
        const NetworkIp *ip = def->ips->pdata[i];
        forward_subnet(s, fwd, def, ip, ip->address.family == AF_INET6 ? nat6 : nat4);
      }
    }
    rule(s, fwd, "iifname \"%s\" reject", def->bridge);
    rule(s, fwd, "oifname \"%s\" reject", def->bridge);
    break;
  case NETWORK_FORWARD_BRIDGE:
    break;
  }
  for (guint i = 0; want_nat && i < def->ips->len; i++) {
    const NetworkIp *ip = def->ips->pdata[i];
    if (ip->address.family == AF_INET)
      nat_rules(s, nat, def, ip);
    else if (def->nat_ipv6)
      nat_rules6(s, nat, def, ip);
  }
  /* Outbound <bandwidth>: the bridge's policing chain (bandwidth.h). */
  g_autofree char *bw = bandwidth_build_nft(def->bridge, &def->bandwidth);
  g_string_append(s, bw);
  return g_string_free(s, FALSE);
}

char *nft_rules_build_remove(const NetworkDef *def) {
  if (def->forward == NETWORK_FORWARD_BRIDGE)
    return g_strdup("");
  GString *s = g_string_new(NULL);
  g_autofree char *fwd = nft_rules_chain_name(def, "fwd");
  g_autofree char *nat = nft_rules_chain_name(def, "nat");
  g_string_append_printf(s, "# virtfs network '%s' on bridge %s: remove\n", def->name, def->bridge);
  g_string_append(s, "add table " TABLE "\n");
  chain_head(s, fwd, NULL, false);
  chain_head(s, nat, NULL, false);
  NetworkBandwidth none = {0};
  g_autofree char *bw = bandwidth_build_nft(def->bridge, &none);
  g_string_append(s, bw);
  return g_string_free(s, FALSE);
}

int nft_error_to_errno(const char *message) {
  if (!message || !*message)
    return -EIO;
  if (strstr(message, "Operation not permitted"))
    return -EPERM;
  if (strstr(message, "No such file or directory"))
    return -ENOENT;
  if (strstr(message, "File exists"))
    return -EEXIST;
  if (strstr(message, "Operation not supported") || strstr(message, "not supported"))
    return -EOPNOTSUPP;
  if (strstr(message, "syntax error") || strstr(message, "Error: "))
    return strstr(message, "Could not process rule") ? -EIO : -EINVAL;
  return -EIO;
}

/* Runs `script`; on success stores nft's output in *ret_output (may be NULL). */
static int run(const char *script, char **ret_output, char **ret_error) {
  G_LOCK(nft_lock);
  struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!ctx) {
    G_UNLOCK(nft_lock);
    if (ret_error)
      *ret_error = g_strdup("libnftables could not create a context");
    return -ENOMEM;
  }
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  int rc = nft_run_cmd_from_buffer(ctx, script);
  int r = 0;
  if (rc != 0) {
    const char *msg = nft_ctx_get_error_buffer(ctx);
    r = nft_error_to_errno(msg);
    if (ret_error) {
      g_autofree char *text = g_strstrip(g_strdup(msg && *msg ? msg : "unknown error"));
      *ret_error = g_strdup_printf("nftables refused the rules: %s", text);
    }
  } else if (ret_output) {
    const char *out = nft_ctx_get_output_buffer(ctx);
    *ret_output = g_strdup(out ? out : "");
  }
  nft_ctx_free(ctx);
  G_UNLOCK(nft_lock);
  return r;
}

int nft_rules_apply(const char *script, char **ret_error) {
  if (!script || !*script)
    return 0;
  return run(script, NULL, ret_error);
}

int nft_rules_add(const NetworkDef *def, char **ret_error) {
  g_autofree char *script = nft_rules_build_add(def);
  return nft_rules_apply(script, ret_error);
}

int nft_rules_remove(const NetworkDef *def, char **ret_error) {
  g_autofree char *script = nft_rules_build_remove(def);
  return nft_rules_apply(script, ret_error);
}

char *nft_rules_list(const char *command, char **ret_error) {
  char *out = NULL;
  if (run(command, &out, ret_error) < 0)
    return NULL;
  return out;
}

bool nft_rules_present(const NetworkDef *def) {
  if (def->forward == NETWORK_FORWARD_BRIDGE)
    return true;
  g_autofree char *fwd = nft_rules_chain_name(def, "fwd");
  g_autofree char *cmd = g_strdup_printf("list chain " TABLE " %s", fwd);
  g_autofree char *out = nft_rules_list(cmd, NULL);
  return out != NULL;
}
