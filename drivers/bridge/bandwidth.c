/* bandwidth.c — tc shaping and nftables policing for <bandwidth>; see
 * bandwidth.h for the model. */
#include "drivers/bridge/bandwidth.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>

#include "drivers/bridge/dnsmasq.h"
#include "drivers/bridge/nft_rules.h"

#define TABLE NFT_TABLE_FAMILY " " NFT_TABLE_NAME

static GStrv argv_new(const char *first, ...) G_GNUC_NULL_TERMINATED;
static GStrv argv_new(const char *first, ...) {
  GPtrArray *a = g_ptr_array_new();
  va_list ap;
  va_start(ap, first);
  for (const char *s = first; s; s = va_arg(ap, const char *))
    g_ptr_array_add(a, g_strdup(s));
  va_end(ap);
  g_ptr_array_add(a, NULL);
  return (GStrv)g_ptr_array_free(a, FALSE);
}

GPtrArray *bandwidth_build_tc(const char *dev, const NetworkBandwidth *bw) {
  GPtrArray *cmds = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
  const NetworkRate *in = &bw->in;
  if (!in->average)
    return cmds;
  g_autofree char *rate = g_strdup_printf("%" G_GUINT64_FORMAT "kbps", in->average);
  g_autofree char *ceil = g_strdup_printf("%" G_GUINT64_FORMAT "kbps",
                                          in->peak ? in->peak : in->average);
  g_ptr_array_add(cmds, argv_new("tc", "qdisc", "add", "dev", dev, "root", "handle", "1:", "htb",
                                 "default", "1", NULL));
  if (in->burst) {
    g_autofree char *burst = g_strdup_printf("%" G_GUINT64_FORMAT "kb", in->burst);
    g_ptr_array_add(cmds, argv_new("tc", "class", "add", "dev", dev, "parent", "1:", "classid",
                                   "1:1", "htb", "rate", rate, "ceil", ceil, "burst", burst,
                                   "cburst", burst, NULL));
  } else {
    g_ptr_array_add(cmds, argv_new("tc", "class", "add", "dev", dev, "parent", "1:", "classid",
                                   "1:1", "htb", "rate", rate, "ceil", ceil, NULL));
  }
  return cmds;
}

char *bandwidth_chain_name(const char *dev) {
  return g_strdup_printf("bw-%s", dev);
}

char *bandwidth_build_nft(const char *dev, const NetworkBandwidth *bw) {
  GString *s = g_string_new(NULL);
  g_autofree char *chain = bandwidth_chain_name(dev);
  /* Delete any earlier chain first: one bound to a device of that name that
   * has since gone would not police the new one. */
  g_string_append(s, "add table " TABLE "\n");
  g_string_append_printf(s, "add chain " TABLE " %s\n", chain);
  g_string_append_printf(s, "flush chain " TABLE " %s\n", chain);
  g_string_append_printf(s, "delete chain " TABLE " %s\n", chain);
  const NetworkRate *out = &bw->out;
  if (!out->average)
    return g_string_free(s, FALSE);
  uint64_t burst = out->burst ? out->burst : out->average;
  g_string_append_printf(s, "add chain " TABLE " %s { type filter hook ingress device \"%s\" "
                         "priority filter; policy accept; }\n", chain, dev);
  g_string_append_printf(s, "add rule " TABLE " %s limit rate over %" G_GUINT64_FORMAT
                         " bytes/second burst %" G_GUINT64_FORMAT " bytes drop\n", chain,
                         out->average * 1000, burst * 1000);
  return g_string_free(s, FALSE);
}

int bandwidth_tc_error_to_errno(int status, const char *stderr_text) {
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  const char *t = stderr_text ? stderr_text : "";
  if (strstr(t, "Operation not permitted"))
    return -EPERM;
  if (strstr(t, "Cannot find device"))
    return -ENODEV;
  if (strstr(t, "unknown") || strstr(t, "not found") || strstr(t, "not supported"))
    return -EOPNOTSUPP;
  return -EIO;
}

/* Runs one tc command; `quiet` ignores failure (for removals). */
static int run_tc(const char *tc, char **argv, bool quiet, char **ret_error) {
  g_autofree char *err = NULL;
  int status = 0;
  g_autoptr(GError) gerr = NULL;
  char *saved = argv[0];
  argv[0] = (char *)tc;
  gboolean ok = g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                             &err, &status, &gerr);
  argv[0] = saved;
  if (quiet)
    return 0;
  if (!ok) {
    if (ret_error)
      *ret_error = g_strdup_printf("cannot run %s: %s", tc, gerr->message);
    return -EIO;
  }
  int r = bandwidth_tc_error_to_errno(status, err);
  if (r < 0 && ret_error) {
    g_autofree char *cmd = g_strjoinv(" ", argv);
    *ret_error = g_strdup_printf("'%s' failed: %s", cmd, err ? g_strstrip(err) : "");
  }
  return r;
}

static void tc_clear(const char *tc, const char *dev) {
  g_auto(GStrv) del = argv_new("tc", "qdisc", "del", "dev", dev, "root", NULL);
  run_tc(tc, del, true, NULL);
}

int bandwidth_apply_tc(const char *dev, const NetworkBandwidth *bw, char **ret_error) {
  g_autoptr(GPtrArray) cmds = bandwidth_build_tc(dev, bw);
  g_autofree char *tc = dnsmasq_find_program("tc");
  if (cmds->len && !tc) {
    if (ret_error)
      *ret_error = g_strdup("tc(8) is not installed (package iproute2); it sets inbound "
                            "<bandwidth>");
    return -ENOENT;
  }
  if (tc)
    tc_clear(tc, dev);
  for (guint i = 0; i < cmds->len; i++) {
    int r = run_tc(tc, cmds->pdata[i], false, ret_error);
    if (r < 0) {
      tc_clear(tc, dev);
      return r;
    }
  }
  return 0;
}

int bandwidth_apply(const char *dev, const NetworkBandwidth *bw, char **ret_error) {
  int r = bandwidth_apply_tc(dev, bw, ret_error);
  if (r < 0)
    return r;
  g_autofree char *script = bandwidth_build_nft(dev, bw);
  r = nft_rules_apply(script, ret_error);
  if (r < 0) {
    NetworkBandwidth none = {0};
    bandwidth_apply_tc(dev, &none, NULL);
  }
  return r;
}

int bandwidth_clear(const char *dev) {
  /* Most taps have no chain: look before writing, so that clearing never
   * creates the table on a host that has none. */
  g_autofree char *chain = bandwidth_chain_name(dev);
  g_autofree char *cmd = g_strdup_printf("list chain " TABLE " %s", chain);
  g_autofree char *listed = nft_rules_list(cmd, NULL);
  if (!listed)
    return 0;
  NetworkBandwidth none = {0};
  g_autofree char *script = bandwidth_build_nft(dev, &none);
  return nft_rules_apply(script, NULL);
}
