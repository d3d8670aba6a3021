/* qemu_live.c — what a running domain reports and accepts live: statistics,
 * memory through the balloon, vCPU hotplug. */
#include "drivers/qemu/qemu_driver_priv.h"

#include <errno.h>
#include <stdio.h>

/* The guest's name of the disk QEMU calls `qdev_id` ("disk2" is the third
 * <disk> of the live definition, named by its target dev). obj->lock held. */
static const char *disk_name_locked(QemuDomain *dom, const char *qdev_id) {
  unsigned idx;
  char tail;
  if (qdev_id && sscanf(qdev_id, "disk%u%c", &idx, &tail) == 1 &&
      idx < dom->live_def->disks->len) {
    const DomainDisk *disk = dom->live_def->disks->pdata[idx];
    if (disk->target_dev && *disk->target_dev)
      return disk->target_dev;
  }
  return qdev_id;
}

/* net.TAP.* from the guest's point of view: what the tap sends, the guest
 * receives (libvirt's convention too). */
static void append_interface_stats(QemuDomain *dom, GString *out) {
  g_autoptr(GPtrArray) taps = g_ptr_array_new_with_free_func(g_free);
  g_mutex_lock(&dom->obj->lock);
  for (guint i = 0; i < dom->live_def->interfaces->len; i++) {
    const DomainInterface *iface = dom->live_def->interfaces->pdata[i];
    if (iface->target_dev)
      g_ptr_array_add(taps, g_strdup(iface->target_dev));
  }
  g_mutex_unlock(&dom->obj->lock);
  for (guint i = 0; i < taps->len; i++) {
    const char *tap = taps->pdata[i];
    QemuNetdevCounters c;
    if (qemu_netdev_counters(tap, &c) < 0)
      continue;
    const struct {
      const char *key;
      uint64_t value;
    } rows[] = {
      {"rx_bytes", c.tx_bytes},     {"rx_packets", c.tx_packets},
      {"rx_errors", c.tx_errors},   {"rx_drops", c.tx_drops},
      {"tx_bytes", c.rx_bytes},     {"tx_packets", c.rx_packets},
      {"tx_errors", c.rx_errors},   {"tx_drops", c.rx_drops},
    };
    for (size_t k = 0; k < G_N_ELEMENTS(rows); k++)
      g_string_append_printf(out, "net.%s.%s: %" G_GUINT64_FORMAT "\n", tap, rows[k].key,
                             rows[k].value);
  }
}

int qemu_domain_stats(QemuDriver *d, Obj *obj, GString *out, char **ret_error) {
  g_autoptr(QemuDomain) dom = NULL;
  if (qemu_get_active(obj, &dom, NULL) < 0) {
    g_string_append(out, "state: shutoff\n");
    return 0;
  }
  int64_t cpu = qemu_process_cpu_time_ns(dom->pid);
  g_string_append_printf(out, "cpu_time_ns: %" G_GINT64_FORMAT "\n", cpu > 0 ? cpu : 0);
  g_autofree char *error = NULL;
  JsonNode *value = NULL;
  uint64_t actual = 0;
  if (qemu_qmp_sync(dom, "query-balloon", NULL, &value, &error) == 0) {
    if (qmp_reply_parse_balloon(value, &actual) == 0) {
      g_mutex_lock(&obj->lock);
      uint64_t target = dom->live_def->current_memory_kib;
      g_mutex_unlock(&obj->lock);
      g_string_append_printf(out, "balloon_kib: %" G_GUINT64_FORMAT "\n", actual / 1024);
      g_string_append_printf(out, "balloon_target_kib: %" G_GUINT64_FORMAT "\n", target);
    }
    json_node_unref(value);
  }
  g_clear_pointer(&error, g_free);
  value = NULL;
  if (qemu_qmp_sync(dom, "query-blockstats", NULL, &value, &error) == 0) {
    g_autoptr(GPtrArray) stats = NULL;
    if (qmp_reply_parse_blockstats(value, &stats) == 0) {
      for (guint i = 0; i < stats->len; i++) {
        QmpBlockStats *s = stats->pdata[i];
        g_autofree char *qdev = s->qdev ? qmp_qdev_id(s->qdev) : NULL;
        g_mutex_lock(&obj->lock);
        g_autofree char *dev = g_strdup(qdev && *qdev ? disk_name_locked(dom, qdev)
                                        : s->node_name ? s->node_name : "?");
        g_mutex_unlock(&obj->lock);
        g_string_append_printf(out, "disk.%s.rd_bytes: %" G_GUINT64_FORMAT "\n", dev, s->rd_bytes);
        g_string_append_printf(out, "disk.%s.wr_bytes: %" G_GUINT64_FORMAT "\n", dev, s->wr_bytes);
        g_string_append_printf(out, "disk.%s.rd_ops: %" G_GUINT64_FORMAT "\n", dev, s->rd_operations);
        g_string_append_printf(out, "disk.%s.wr_ops: %" G_GUINT64_FORMAT "\n", dev, s->wr_operations);
      }
    }
    json_node_unref(value);
  }
  append_interface_stats(dom, out);
  return 0;
}

int qemu_domain_get_live_memory(QemuDriver *d, Obj *obj, uint64_t *ret_kib, char **ret_error) {
  g_autoptr(QemuDomain) dom = NULL;
  int r = qemu_get_active(obj, &dom, ret_error);
  if (r < 0)
    return r;
  JsonNode *value = NULL;
  uint64_t actual = 0;
  if ((r = qemu_qmp_sync(dom, "query-balloon", NULL, &value, ret_error)) < 0)
    return r;
  r = qmp_reply_parse_balloon(value, &actual);
  json_node_unref(value);
  if (r < 0) {
    *ret_error = g_strdup("QEMU's balloon answer was not understood");
    return -EIO;
  }
  *ret_kib = actual / 1024;
  return 0;
}

int qemu_domain_set_live_memory(QemuDriver *d, Obj *obj, uint64_t kib, char **ret_error) {
  g_autoptr(QemuDomain) dom = NULL;
  int r = qemu_get_active(obj, &dom, ret_error);
  if (r < 0)
    return r;
  g_mutex_lock(&obj->lock);
  uint64_t max = dom->live_def->memory_kib;
  bool balloon = dom->live_def->memballoon.present &&
                 dom->live_def->memballoon.model == MEMBALLOON_VIRTIO;
  g_mutex_unlock(&obj->lock);
  if (!balloon) {
    *ret_error = g_strdup("memory: the running domain has no memory balloon");
    return -EOPNOTSUPP;
  }
  if (kib > max) {
    *ret_error = g_strdup_printf("memory: %" G_GUINT64_FORMAT " KiB is above the running "
                                 "domain's maximum of %" G_GUINT64_FORMAT " KiB", kib, max);
    return -EINVAL;
  }
  JsonNode *args = NULL;
  if ((r = qmp_args_balloon(kib * 1024, &args)) < 0)
    return r;
  if ((r = qemu_qmp_sync(dom, "balloon", args, NULL, ret_error)) < 0)
    return r;
  g_mutex_lock(&obj->lock);
  dom->live_def->current_memory_kib = kib;
  g_mutex_unlock(&obj->lock);
  qemu_save_live(dom);
  return 0;
}

int qemu_domain_get_live_vcpus(QemuDriver *d, Obj *obj, unsigned *ret_count, char **ret_error) {
  g_autoptr(QemuDomain) dom = NULL;
  int r = qemu_get_active(obj, &dom, ret_error);
  if (r < 0)
    return r;
  g_mutex_lock(&obj->lock);
  *ret_count = dom->live_def->vcpus_current;
  g_mutex_unlock(&obj->lock);
  return 0;
}

int qemu_domain_set_live_vcpus(QemuDriver *d, Obj *obj, unsigned count, char **ret_error) {
  g_autoptr(QemuDomain) dom = NULL;
  int r = qemu_get_active(obj, &dom, ret_error);
  if (r < 0)
    return r;
  g_mutex_lock(&obj->lock);
  unsigned current = dom->live_def->vcpus_current, max = dom->live_def->vcpus;
  g_mutex_unlock(&obj->lock);
  if (count == current)
    return 0;
  if (count < current) {
    *ret_error = g_strdup("vcpus: removing vCPUs from a running domain is not supported by "
                          "this machine type; change it while shut off");
    return -EOPNOTSUPP;
  }
  if (count > max) {
    *ret_error = g_strdup_printf("vcpus: the running domain can have at most %u vCPUs "
                                 "(<vcpu>); set <vcpu current='N'> lower to leave room for "
                                 "hotplug", max);
    return -EOPNOTSUPP;
  }
  JsonNode *value = NULL;
  if ((r = qemu_qmp_sync(dom, "query-hotpluggable-cpus", NULL, &value, ret_error)) < 0)
    return r;
  g_autoptr(GPtrArray) cpus = NULL;
  r = qmp_reply_parse_hotpluggable_cpus(value, &cpus);
  json_node_unref(value);
  if (r < 0) {
    *ret_error = g_strdup("vcpus: QEMU's list of hotpluggable CPUs was not understood");
    return -EIO;
  }
  unsigned added = current;
  for (guint i = 0; i < cpus->len && added < count; i++) {
    QmpHotpluggableCpu *slot = cpus->pdata[i];
    if (slot->qom_path)
      continue; /* present already */
    g_autofree char *id = g_strdup_printf("vcpu%u", added);
    JsonNode *args = NULL;
    if ((r = qmp_args_device_add_cpu(slot, id, &args)) < 0)
      return r;
    if ((r = qemu_qmp_sync(dom, "device_add", args, NULL, ret_error)) < 0)
      break;
    added++;
  }
  g_mutex_lock(&obj->lock);
  dom->live_def->vcpus_current = added;
  g_mutex_unlock(&obj->lock);
  qemu_save_live(dom);
  if (r < 0)
    return r;
  if (added < count) {
    *ret_error = g_strdup_printf("vcpus: QEMU offered room for only %u vCPUs", added);
    return -EOPNOTSUPP;
  }
  return 0;
}
