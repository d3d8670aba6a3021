/* fs_metrics.c — /virt/metrics: the figures of every domain, network and
 * pool and of the daemon itself in the Prometheus text format, with the
 * metric names of the libvirt exporters (docs/metrics.md lists them).
 *
 * A rendering is a snapshot: it is made when the file is opened (or
 * stat'ed) and reused by every open and stat within FS_METRICS_MAX_AGE_US,
 * so the size a client stats is the size it then reads, and scrapes that
 * come together cost one rendering. Renderings are serialized by the
 * snapshot's own lock; nothing else waits for them: each domain's figures
 * come through the driver, on a small pool of workers, with no registry
 * lock held. */
#include "fs/fs_metrics.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "drivers/bridge/network_manager.h"
#include "drivers/qemu/qemu_driver.h"
#include "fs/fs_common_files.h"
#include "fs/fs_handle.h"
#include "fs/fs_metrics_text.h"
#include "fs/fs_pools.h"
#include "objects/domain_def.h"
#include "objects/network_def.h"
#include "objects/pool_def.h"

#define FS_METRICS_MAX_AGE_US (1000 * 1000)

struct FsMetrics {
  GMutex lock;
  GBytes *text;          /* the last rendering, or NULL */
  int64_t rendered_us;   /* when (monotonic) */
  double render_seconds; /* how long the last rendering took */
};

void fs_metrics_init(FsContext *ctx) {
  ctx->metrics = g_new0(FsMetrics, 1);
  g_mutex_init(&ctx->metrics->lock);
}

void fs_metrics_cleanup(FsContext *ctx) {
  if (!ctx->metrics)
    return;
  g_clear_pointer(&ctx->metrics->text, g_bytes_unref);
  g_mutex_clear(&ctx->metrics->lock);
  g_clear_pointer(&ctx->metrics, g_free);
}

/* ---- domains ---- */

/* libvirt's virDomainState numbers, for dashboards built on them. */
static int libvirt_state_code(DomainState s) {
  switch (s) {
  case DOMAIN_STATE_RUNNING: return 1;
  case DOMAIN_STATE_PAUSED: return 3;
  case DOMAIN_STATE_SHUTOFF: return 5;
  case DOMAIN_STATE_CRASHED: return 6;
  case DOMAIN_STATE_SAVED: return 5; /* libvirt: shut off, reason saved */
  case DOMAIN_STATE_INCOMING: return 3; /* libvirt: paused, reason migration */
  }
  return 0;
}

static const struct {
  const char *stats_key;   /* disk.DEV.KEY in the stats file */
  const char *metric;
} block_fields[] = {
  {"rd_bytes", "libvirt_domain_block_stats_read_bytes_total"},
  {"rd_ops", "libvirt_domain_block_stats_read_requests_total"},
  {"wr_bytes", "libvirt_domain_block_stats_write_bytes_total"},
  {"wr_ops", "libvirt_domain_block_stats_write_requests_total"},
};

/* The disk a `stats` line names: by its target ("vda"), or by the
 * device id the QEMU driver gives the Nth disk ("disk0"). */
static const DomainDisk *stats_disk(const DomainDef *def, const char *dev) {
  for (guint i = 0; i < def->disks->len; i++) {
    const DomainDisk *d = def->disks->pdata[i];
    if (g_strcmp0(d->target_dev, dev) == 0)
      return d;
  }
  if (g_str_has_prefix(dev, "disk") && g_ascii_isdigit(dev[4])) {
    char *end = NULL;
    guint64 i = g_ascii_strtoull(dev + 4, &end, 10);
    if (*end == '\0' && i < def->disks->len)
      return def->disks->pdata[i];
  }
  return NULL;
}

static const char *disk_source(const DomainDisk *d, GString *scratch) {
  if (d && d->source)
    return d->source;
  if (d && d->source_pool && d->source_volume) {
    g_string_printf(scratch, "%s/%s", d->source_pool, d->source_volume);
    return scratch->str;
  }
  return "";
}

/* The `stats` file's "key: value" lines (qemu_domain_stats) as metrics. */
static void add_domain_stats(MetricsText *m, const char *name, const DomainDef *def,
                             const char *stats) {
  g_auto(GStrv) lines = g_strsplit(stats, "\n", -1);
  g_autoptr(GString) scratch = g_string_new(NULL);
  for (char **l = lines; *l; l++) {
    char *colon = strstr(*l, ": ");
    if (!colon)
      continue;
    *colon = '\0';
    const char *key = *l;
    char *end = NULL;
    double v = g_ascii_strtod(colon + 2, &end);
    if (end == colon + 2)
      continue;
    if (strcmp(key, "cpu_time_ns") == 0) {
      metrics_sample(m, "libvirt_domain_info_cpu_time_seconds_total", v / 1e9, "domain", name,
                     NULL);
    } else if (strcmp(key, "balloon_kib") == 0) {
      metrics_sample(m, "libvirt_domain_info_memory_usage_bytes", v * 1024, "domain", name,
                     NULL);
      metrics_sample(m, "libvirt_domain_memory_stats_actual_balloon_bytes", v * 1024, "domain",
                     name, NULL);
    } else if (g_str_has_prefix(key, "disk.")) {
      const char *dot = strrchr(key, '.');
      if (dot <= key + 5)
        continue;
      g_autofree char *dev = g_strndup(key + 5, (gsize)(dot - key - 5));
      const DomainDisk *disk = stats_disk(def, dev);
      const char *target = disk && disk->target_dev ? disk->target_dev : dev;
      for (size_t i = 0; i < G_N_ELEMENTS(block_fields); i++)
        if (strcmp(dot + 1, block_fields[i].stats_key) == 0)
          metrics_sample(m, block_fields[i].metric, v, "domain", name, "target_device", target,
                         "source_file", disk_source(disk, scratch), NULL);
    }
  }
}

/* The bridge an interface is on, as the exporters label it: a network's
 * bridge, or the bridge named by <source bridge>. */
static char *interface_bridge(FsContext *ctx, const QemuInterfaceStats *s) {
  if (!s->on_network || !obj_type_get(OBJ_NETWORK))
    return g_strdup(s->source);
  g_autoptr(Obj) net = registry_lookup(ctx->registry, OBJ_NETWORK, NULL, s->source);
  if (!net)
    return g_strdup(s->source);
  g_autoptr(NetworkDef) def = fs_obj_copy_def(net);
  return g_strdup(def->bridge ? def->bridge : s->source);
}

static void add_interface_stats(FsContext *ctx, MetricsText *m, const char *name,
                                GPtrArray *stats) {
  for (guint i = 0; i < stats->len; i++) {
    const QemuInterfaceStats *s = stats->pdata[i];
    g_autofree char *bridge = interface_bridge(ctx, s);
    const struct {
      const char *metric;
      uint64_t value;
    } v[] = {
      {"libvirt_domain_interface_stats_receive_bytes_total", s->rx_bytes},
      {"libvirt_domain_interface_stats_receive_packets_total", s->rx_packets},
      {"libvirt_domain_interface_stats_receive_errors_total", s->rx_errors},
      {"libvirt_domain_interface_stats_receive_drops_total", s->rx_drops},
      {"libvirt_domain_interface_stats_transmit_bytes_total", s->tx_bytes},
      {"libvirt_domain_interface_stats_transmit_packets_total", s->tx_packets},
      {"libvirt_domain_interface_stats_transmit_errors_total", s->tx_errors},
      {"libvirt_domain_interface_stats_transmit_drops_total", s->tx_drops},
    };
    for (size_t k = 0; k < G_N_ELEMENTS(v); k++)
      metrics_sample(m, v[k].metric, (double)v[k].value, "domain", name, "target_device",
                     s->target_dev, "source_bridge", bridge, NULL);
  }
}

static void declare_domain_families(MetricsText *m) {
  metrics_family(m, "libvirt_up", "gauge", "Whether the hypervisor answered (always 1: virtfs is it).");
  metrics_family(m, "libvirt_domain_info_state", "gauge",
                 "1 for the domain's current state, 0 for the others.");
  metrics_family(m, "libvirt_domain_info_vstate", "gauge",
                 "The domain's state as libvirt's number (1 running, 3 paused, 5 shutoff or saved, 6 crashed).");
  metrics_family(m, "libvirt_domain_info_maximum_memory_bytes", "gauge",
                 "The domain's maximum memory.");
  metrics_family(m, "libvirt_domain_info_memory_usage_bytes", "gauge",
                 "The memory the running guest has now (its balloon).");
  metrics_family(m, "libvirt_domain_info_virtual_cpus", "gauge", "The domain's vCPUs.");
  metrics_family(m, "libvirt_domain_info_cpu_time_seconds_total", "counter",
                 "CPU time QEMU used for the domain since it started.");
  metrics_family(m, "libvirt_domain_memory_stats_actual_balloon_bytes", "gauge",
                 "The balloon's current size.");
  for (size_t i = 0; i < G_N_ELEMENTS(block_fields); i++)
    metrics_family(m, block_fields[i].metric, "counter",
                   i % 2 == 0 ? "Bytes moved by a disk since the domain started."
                              : "Requests of a disk since the domain started.");
  static const char *const ifaces[] = {
    "libvirt_domain_interface_stats_receive_bytes_total",
    "libvirt_domain_interface_stats_receive_packets_total",
    "libvirt_domain_interface_stats_receive_errors_total",
    "libvirt_domain_interface_stats_receive_drops_total",
    "libvirt_domain_interface_stats_transmit_bytes_total",
    "libvirt_domain_interface_stats_transmit_packets_total",
    "libvirt_domain_interface_stats_transmit_errors_total",
    "libvirt_domain_interface_stats_transmit_drops_total",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(ifaces); i++)
    metrics_family(m, ifaces[i], "counter",
                   "Traffic of an interface as the guest sees it, since the domain started.");
}

/* What one domain reports, gathered on a worker of the rendering's pool. */
typedef struct {
  FsContext *ctx;
  Obj *obj;              /* borrowed from the rendering's list */
  DomainDef *def;
  DomainState state;
  bool active;
  GString *stats;        /* qemu_domain_stats' lines, when active */
  GPtrArray *ifstats;    /* QemuInterfaceStats*, when active */
} DomainFigures;

static void gather_domain(gpointer data, gpointer user_data) {
  DomainFigures *f = data;
  f->def = fs_obj_copy_def(f->obj);
  f->state = f->ctx->qemu ? qemu_domain_get_state(f->ctx->qemu, f->obj, NULL)
                          : DOMAIN_STATE_SHUTOFF;
  f->active = f->ctx->qemu && qemu_domain_is_active(f->obj);
  if (!f->active)
    return;
  g_autofree char *error = NULL;
  f->stats = g_string_new(NULL);
  if (qemu_domain_stats(f->ctx->qemu, f->obj, f->stats, &error) < 0)
    g_string_truncate(f->stats, 0);
  g_clear_pointer(&error, g_free);
  if (qemu_domain_interface_stats(f->ctx->qemu, f->obj, &f->ifstats, &error) < 0)
    f->ifstats = NULL;
}

static void add_domain(FsContext *ctx, MetricsText *m, const DomainFigures *f) {
  const char *name = f->def->name;
  for (DomainState s = DOMAIN_STATE_SHUTOFF; s <= DOMAIN_STATE_INCOMING; s++)
    metrics_sample(m, "libvirt_domain_info_state", s == f->state, "domain", name, "state",
                   domain_state_to_string(s), NULL);
  metrics_sample(m, "libvirt_domain_info_vstate", libvirt_state_code(f->state), "domain", name,
                 NULL);
  metrics_sample(m, "libvirt_domain_info_maximum_memory_bytes",
                 (double)f->def->memory_kib * 1024, "domain", name, NULL);
  metrics_sample(m, "libvirt_domain_info_virtual_cpus", f->def->vcpus_current, "domain", name,
                 NULL);
  if (!f->active) {
    metrics_sample(m, "libvirt_domain_info_cpu_time_seconds_total", 0, "domain", name, NULL);
    metrics_sample(m, "libvirt_domain_info_memory_usage_bytes", 0, "domain", name, NULL);
    return;
  }
  add_domain_stats(m, name, f->def, f->stats->str);
  if (f->ifstats)
    add_interface_stats(ctx, m, name, f->ifstats);
}

/* Each running domain's QEMU is asked on its own worker (at most
 * FS_METRICS_WORKERS at once): a rendering waits for the slowest QEMU,
 * not for the sum of their answers. */
#define FS_METRICS_WORKERS 8

static void render_domains(FsContext *ctx, MetricsText *m) {
  metrics_sample(m, "libvirt_up", 1, NULL);
  if (!obj_type_get(OBJ_DOMAIN))
    return;
  g_autoptr(GPtrArray) list = registry_list(ctx->registry, OBJ_DOMAIN, NULL);
  g_autofree DomainFigures *figures = g_new0(DomainFigures, list->len ? list->len : 1);
  GThreadPool *pool = g_thread_pool_new(gather_domain, NULL, FS_METRICS_WORKERS, FALSE, NULL);
  for (guint i = 0; i < list->len; i++) {
    figures[i] = (DomainFigures){.ctx = ctx, .obj = list->pdata[i]};
    if (!pool)
      gather_domain(&figures[i], NULL);
    else
      g_thread_pool_push(pool, &figures[i], NULL);
  }
  if (pool)
    g_thread_pool_free(pool, FALSE, TRUE); /* waits for every task */
  for (guint i = 0; i < list->len; i++) {
    add_domain(ctx, m, &figures[i]);
    domain_def_free(figures[i].def);
    if (figures[i].stats)
      g_string_free(figures[i].stats, TRUE);
    if (figures[i].ifstats)
      g_ptr_array_unref(figures[i].ifstats);
  }
}

/* ---- networks and pools ---- */

static void render_networks(FsContext *ctx, MetricsText *m) {
  metrics_family(m, "virtfs_network_active", "gauge", "1 while the network is active.");
  metrics_family(m, "virtfs_network_leases", "gauge", "The network's current DHCP leases.");
  if (!obj_type_get(OBJ_NETWORK))
    return;
  g_autoptr(GPtrArray) list = registry_list(ctx->registry, OBJ_NETWORK, NULL);
  for (guint i = 0; i < list->len; i++) {
    Obj *obj = list->pdata[i];
    g_autofree char *name = obj_dup_name(obj);
    bool active = network_manager_is_active(obj);
    metrics_sample(m, "virtfs_network_active", active, "network", name, NULL);
    guint leases = 0;
    g_autoptr(GPtrArray) list_leases = NULL;
    g_autofree char *error = NULL;
    if (active && ctx->networks &&
        network_manager_leases(ctx->networks, obj, &list_leases, &error) == 0)
      leases = list_leases->len;
    metrics_sample(m, "virtfs_network_leases", leases, "network", name, NULL);
  }
}

static void render_pools(FsContext *ctx, MetricsText *m) {
  metrics_family(m, "virtfs_pool_active", "gauge", "1 while the pool is active.");
  metrics_family(m, "virtfs_pool_capacity_bytes", "gauge", "The pool's size.");
  metrics_family(m, "virtfs_pool_allocation_bytes", "gauge", "What the pool's volumes use.");
  metrics_family(m, "virtfs_pool_available_bytes", "gauge", "The room left in the pool.");
  metrics_family(m, "virtfs_pool_volumes", "gauge", "The volumes in the pool.");
  if (!obj_type_get(OBJ_POOL) || !ctx->pools)
    return;
  g_autoptr(GPtrArray) list = registry_list(ctx->registry, OBJ_POOL, NULL);
  for (guint i = 0; i < list->len; i++) {
    Obj *obj = list->pdata[i];
    g_autoptr(PoolDef) def = fs_obj_copy_def(obj);
    bool active = fs_pool_is_active(obj);
    PoolSizes sizes = {0};
    g_autofree char *error = NULL;
    if (active)
      storage_pool_info(fs_pools_driver(ctx), def, &sizes, &error);
    metrics_sample(m, "virtfs_pool_active", active, "pool", def->name, NULL);
    metrics_sample(m, "virtfs_pool_capacity_bytes", (double)sizes.capacity, "pool", def->name,
                   NULL);
    metrics_sample(m, "virtfs_pool_allocation_bytes", (double)sizes.allocation, "pool",
                   def->name, NULL);
    metrics_sample(m, "virtfs_pool_available_bytes", (double)sizes.available, "pool",
                   def->name, NULL);
    metrics_sample(m, "virtfs_pool_volumes",
                   active ? registry_count(ctx->registry, OBJ_VOLUME, obj) : 0, "pool",
                   def->name, NULL);
  }
}

/* ---- the daemon ---- */

static uint64_t status_field_kib(const char *status, const char *field) {
  const char *p = strstr(status, field);
  return p ? g_ascii_strtoull(p + strlen(field), NULL, 10) : 0;
}

static void render_daemon(FsContext *ctx, MetricsText *m, double last_render_seconds) {
  metrics_family(m, "virtfs_requests_total", "counter",
                 "Filesystem requests the daemon answered, by operation.");
  metrics_family(m, "virtfs_resident_memory_bytes", "gauge", "The daemon's resident memory.");
  metrics_family(m, "virtfs_cpu_seconds_total", "counter", "CPU time the daemon used.");
  metrics_family(m, "virtfs_threads", "gauge", "The daemon's threads.");
  metrics_family(m, "virtfs_start_time_seconds", "gauge",
                 "When the daemon started, in seconds since the epoch.");
  metrics_family(m, "virtfs_metrics_render_seconds", "gauge",
                 "How long the previous rendering of this file took.");
  static const char *const ops[FS_REQUEST_KIND_COUNT] = {
    [FS_REQUEST_GETATTR] = "getattr", [FS_REQUEST_READDIR] = "readdir",
    [FS_REQUEST_OPEN] = "open", [FS_REQUEST_READ] = "read", [FS_REQUEST_WRITE] = "write",
  };
  for (int k = 0; k < FS_REQUEST_KIND_COUNT; k++)
    metrics_sample(m, "virtfs_requests_total",
                   (double)__atomic_load_n(&ctx->requests[k], __ATOMIC_RELAXED), "op", ops[k],
                   NULL);
  g_autofree char *status = NULL;
  if (g_file_get_contents("/proc/self/status", &status, NULL, NULL)) {
    metrics_sample(m, "virtfs_resident_memory_bytes",
                   (double)status_field_kib(status, "\nVmRSS:") * 1024, NULL);
    metrics_sample(m, "virtfs_threads", (double)status_field_kib(status, "\nThreads:"), NULL);
  }
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0)
    metrics_sample(m, "virtfs_cpu_seconds_total",
                   (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
                   NULL);
  metrics_sample(m, "virtfs_start_time_seconds", (double)(ctx->start_time_us / G_USEC_PER_SEC),
                 NULL);
  metrics_sample(m, "virtfs_metrics_render_seconds", last_render_seconds, NULL);
}

static GBytes *render(FsContext *ctx, double last_render_seconds) {
  g_autoptr(MetricsText) m = metrics_text_new();
  declare_domain_families(m);
  render_domains(ctx, m);
  render_networks(ctx, m);
  render_pools(ctx, m);
  render_daemon(ctx, m, last_render_seconds);
  char *text = metrics_text_format(m);
  return g_bytes_new_take(text, strlen(text));
}

GBytes *fs_metrics_snapshot(FsContext *ctx) {
  FsMetrics *fm = ctx->metrics;
  g_mutex_lock(&fm->lock);
  int64_t now = g_get_monotonic_time();
  if (!fm->text || now - fm->rendered_us > FS_METRICS_MAX_AGE_US) {
    g_clear_pointer(&fm->text, g_bytes_unref);
    fm->text = render(ctx, fm->render_seconds);
    fm->rendered_us = g_get_monotonic_time();
    fm->render_seconds = (double)(fm->rendered_us - now) / 1e6;
  }
  GBytes *text = g_bytes_ref(fm->text);
  g_mutex_unlock(&fm->lock);
  return text;
}

/* ---- the file ---- */

static int metrics_open(FsContext *ctx, Obj *obj, FsHandle *h, int flags) {
  h->stream = fs_metrics_snapshot(ctx);
  return 0;
}

static ssize_t metrics_pread(FsContext *ctx, FsHandle *h, char *buf, size_t size, off_t offset) {
  return fs_bytes_pread(h->stream, buf, size, offset);
}

static int metrics_stat(FsContext *ctx, Obj *obj, struct stat *st) {
  g_autoptr(GBytes) text = fs_metrics_snapshot(ctx);
  gsize len = g_bytes_get_size(text);
  st->st_size = (off_t)len;
  st->st_blocks = (blkcnt_t)((len + 511) / 512);
  return 0;
}

static void metrics_release(FsContext *ctx, FsHandle *h) {
  g_clear_pointer(&h->stream, g_bytes_unref);
}

const FsStreamOps fs_metrics_ops = {
  .open = metrics_open,
  .pread = metrics_pread,
  .stat = metrics_stat,
  .release = metrics_release,
};
