/* nft_rules.h — the firewall side of virtual networks: one nftables table,
 * `table inet virtfs`, owned by virtfs, in which each active network has its
 * own base chains named after its bridge:
 *
 *   "net-BRIDGE-fwd"   filter hook forward, priority filter: what may be
 *                      forwarded to and from the bridge (nat, route, open,
 *                      isolated rules; everything else touching the bridge
 *                      is rejected, except for open networks)
 *   "net-BRIDGE-nat"   nat hook postrouting, priority srcnat: masquerade, or
 *                      SNAT to <nat><address>, for every IPv4 subnet (nat
 *                      only); IPv6 subnets of a nat network are routed, as
 *                      libvirt does, unless <nat ipv6='yes'> masquerades
 *                      them too
 *
 *   "bw-BRIDGE"        filter hook ingress on the bridge: the outbound
 *                      <bandwidth> policing (bandwidth.h), when set
 *
 * Separate chains let networks come and go without touching each other, and
 * a start always flushes the network's chains before filling them, so a
 * start after a daemon restart replaces the old rules instead of adding
 * duplicates. Each script is applied as one nftables transaction: it applies
 * whole or not at all. Bridge-mode networks get no rules.
 *
 * As with any nftables table, an accept here does not override a drop in
 * another table's base chain on the same hook (a host firewall keeps the last
 * word).
 *
 * The builders are pure (golden-tested); the rest talks to the kernel through
 * libnftables in the calling thread's network namespace. libnftables keeps
 * process-wide state, so calls into it are serialized by one lock here: any
 * thread may call, calls do not run concurrently.
 *
 * Errors: negative errno plus the nft message in *ret_error; the one
 * translation of nft's text to errno is nft_error_to_errno().
 */
#pragma once

#include <stdbool.h>

#include "objects/network_def.h"

#define NFT_TABLE_FAMILY "inet"
#define NFT_TABLE_NAME "virtfs"

/* The nft script that installs `def`'s rules, replacing any earlier ones of
 * the same bridge (and removing chains the mode no longer needs). "" for
 * bridge-mode networks. Newly allocated. Pure. */
char *nft_rules_build_add(const NetworkDef *def);

/* The nft script that removes `def`'s chains; it also succeeds when they do
 * not exist. "" for bridge-mode networks. Newly allocated. Pure. */
char *nft_rules_build_remove(const NetworkDef *def);

/* The name of `def`'s chain with `suffix` ("fwd" or "nat"); newly allocated. */
char *nft_rules_chain_name(const NetworkDef *def, const char *suffix);

/* nft's error text -> negative errno (-EPERM, -ENOENT, -EEXIST,
 * -EOPNOTSUPP, -EINVAL for syntax errors, else -EIO). */
int nft_error_to_errno(const char *message);

/* Runs an nft script as one transaction. An empty script does nothing. */
int nft_rules_apply(const char *script, char **ret_error);

/* nft_rules_apply(nft_rules_build_add(def)) and the same for remove. */
int nft_rules_add(const NetworkDef *def, char **ret_error);
int nft_rules_remove(const NetworkDef *def, char **ret_error);

/* Whether `def`'s forward chain exists (so its rules were installed). Always
 * true for bridge-mode networks, which need none. */
bool nft_rules_present(const NetworkDef *def);

/* Runs `nft list` style commands with JSON output off; for tests and the
 * is-active check. Returns the output (newly allocated) or NULL on error. */
char *nft_rules_list(const char *command, char **ret_error);
