/* qemu_netstats.c — the traffic counters of a running domain's interfaces,
 * read from /proc/net/dev for its taps (the daemon's network namespace). */
#include "drivers/qemu/qemu_driver_priv.h"

#include <errno.h>
#include <string.h>

void qemu_interface_stats_free(QemuInterfaceStats *s) {
  if (!s)
    return;
  g_free(s->target_dev);
  g_free(s->source);
  g_free(s);
}

int qemu_parse_proc_net_dev(const char *text, const char *dev, QemuInterfaceStats *ret_stats) {
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (char **l = lines; *l; l++) {
    char *colon = strchr(*l, ':');
    if (!colon)
      continue;
    g_autofree char *name = g_strstrip(g_strndup(*l, (gsize)(colon - *l)));
    if (strcmp(name, dev) != 0)
      continue;
    /* receive: bytes packets errs drop fifo frame compressed multicast;
     * transmit: bytes packets errs drop fifo colls carrier compressed */
    uint64_t v[16];
    const char *p = colon + 1;
    for (int i = 0; i < 16; i++) {
      char *end = NULL;
      while (*p == ' ' || *p == '\t')
        p++;
      v[i] = g_ascii_strtoull(p, &end, 10);
      if (end == p)
        return -EINVAL;
      p = end;
    }
    /* The tap's receive side is what the guest sent. */
    ret_stats->tx_bytes = v[0];
    ret_stats->tx_packets = v[1];
    ret_stats->tx_errors = v[2];
    ret_stats->tx_drops = v[3];
    ret_stats->rx_bytes = v[8];
    ret_stats->rx_packets = v[9];
    ret_stats->rx_errors = v[10];
    ret_stats->rx_drops = v[11];
    return 0;
  }
  return -ENOENT;
}

int qemu_domain_interface_stats(QemuDriver *d, Obj *obj, GPtrArray **ret_stats,
                                char **ret_error) {
  g_autoptr(GPtrArray) all =
      g_ptr_array_new_with_free_func((GDestroyNotify)qemu_interface_stats_free);
  g_autoptr(GPtrArray) taps = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GArray) networks = g_array_new(FALSE, FALSE, sizeof(gboolean));
  g_mutex_lock(&obj->lock);
  QemuDomain *dom = qemu_domain_of_locked(obj);
  if (dom && dom->live_def) {
    for (guint i = 0; i < dom->live_def->interfaces->len; i++) {
      const DomainInterface *iface = dom->live_def->interfaces->pdata[i];
      if (!iface->target_dev)
        continue;
      g_ptr_array_add(taps, g_strdup(iface->target_dev));
      g_ptr_array_add(sources, g_strdup(iface->source ? iface->source : ""));
      gboolean on_network = iface->type == INTERFACE_NETWORK;
      g_array_append_val(networks, on_network);
    }
  }
  g_mutex_unlock(&obj->lock);
  if (taps->len > 0) {
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents("/proc/net/dev", &text, NULL, &err)) {
      *ret_error = g_strdup_printf("cannot read /proc/net/dev: %s", err->message);
      return -EIO;
    }
    for (guint i = 0; i < taps->len; i++) {
      QemuInterfaceStats *s = g_new0(QemuInterfaceStats, 1);
      if (qemu_parse_proc_net_dev(text, taps->pdata[i], s) < 0) {
        qemu_interface_stats_free(s);
        continue;
      }
      s->target_dev = g_strdup(taps->pdata[i]);
      s->source = g_strdup(sources->pdata[i]);
      s->on_network = g_array_index(networks, gboolean, i);
      g_ptr_array_add(all, s);
    }
  }
  *ret_stats = g_steal_pointer(&all);
  return 0;
}
