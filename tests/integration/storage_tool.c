/* storage_tool.c — a command-line front to the storage driver, for the
 * integration scripts (tests/integration/storage-*.sh) and for measuring
 * it. Each run parses a pool XML file and performs one operation, exactly
 * as the FUSE layer will call the driver.
 *
 *   virtfs-storage-tool [--lvm-no-dm] POOL.xml COMMAND [ARGS]
 *
 * On failure it prints "ERROR ENAME: sentence" on stderr and exits 1, so
 * scripts can check the errno the FUSE layer would return. */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "drivers/storage/storage_driver.h"
#include "objects/values.h"

static int fail(int r, const char *sentence) {
  const char *name = strerrorname_np(-r);
  fprintf(stderr, "ERROR %s: %s\n", name ? name : "?", sentence ? sentence : "(no sentence)");
  return 1;
}

static int usage(void) {
  fprintf(stderr,
          "usage: virtfs-storage-tool [--lvm-no-dm] POOL.xml COMMAND [ARGS]\n"
          "  build [overwrite] | start | stop | delete | active | info | list | xml\n"
          "  vol-xml NAME | vol-create VOL.xml | vol-delete NAME\n"
          "  vol-resize NAME SIZE [shrink] | vol-clone SRC NEW [raw|qcow2] | vol-wipe NAME\n"
          "  upload NAME [inplace] < DATA | download NAME > DATA\n"
          "  bench COUNT   (create latency of raw and qcow2 volumes, in ms)\n");
  return 2;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int bench(StorageDriver *drv, const PoolDef *pool, int count) {
  static const VolumeFormat formats[] = {VOLUME_FORMAT_RAW, VOLUME_FORMAT_QCOW2};
  for (size_t f = 0; f < G_N_ELEMENTS(formats); f++) {
    g_autofree double *ms = g_new0(double, (size_t)count);
    for (int i = 0; i < count; i++) {
      g_autofree char *name = g_strdup_printf("bench-%d.%s", i,
                                              volume_format_to_string(formats[f]));
      g_autoptr(VolumeDef) def = volume_def_new(name);
      def->format = formats[f];
      def->capacity = 1ULL << 30;
      def->capacity_set = true;
      g_autofree char *err = NULL;
      double t0 = now_ms();
      int r = storage_volume_create(drv, pool, def, NULL, &err);
      ms[i] = now_ms() - t0;
      if (r < 0)
        return fail(r, err);
    }
    for (int i = 0; i < count; i++) {
      g_autofree char *name = g_strdup_printf("bench-%d.%s", i,
                                              volume_format_to_string(formats[f]));
      g_autofree char *err = NULL;
      storage_volume_delete(drv, pool, name, &err);
    }
    qsort(ms, (size_t)count, sizeof(double), compare_double);
    printf("create %s 1GiB: n=%d median=%.2f ms p90=%.2f ms max=%.2f ms\n",
           volume_format_to_string(formats[f]), count, ms[count / 2],
           ms[(count * 9) / 10 < count ? (count * 9) / 10 : count - 1], ms[count - 1]);
  }
  return 0;
}

static int upload(StorageDriver *drv, const PoolDef *pool, const char *name, bool in_place) {
  g_autoptr(VolumeData) data = NULL;
  g_autofree char *err = NULL;
  int r = volume_data_open_write(drv, pool, name, in_place ? VOLUME_DATA_IN_PLACE : 0, &data, &err);
  if (r < 0)
    return fail(r, err);
  g_autofree char *buf = g_malloc(1 << 20);
  off_t off = 0;
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, 1 << 20);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return fail(-errno, "reading standard input");
    if (n == 0)
      break;
    ssize_t w = volume_data_write(data, buf, (size_t)n, off);
    if (w < 0)
      break; /* as a FUSE writer would see it; commit reports it again */
    off += w;
  }
  g_autoptr(VolumeDef) vol = NULL;
  if ((r = volume_data_commit(data, &vol, &err)) < 0)
    return fail(r, err);
  printf("%s %s %" G_GUINT64_FORMAT "\n", vol->name, volume_format_to_string(vol->format),
         vol->capacity);
  return 0;
}

static int download(StorageDriver *drv, const PoolDef *pool, const char *name) {
  g_autoptr(VolumeData) data = NULL;
  g_autofree char *err = NULL;
  int r = volume_data_open_read(drv, pool, name, &data, &err);
  if (r < 0)
    return fail(r, err);
  g_autofree char *buf = g_malloc(1 << 20);
  for (off_t off = 0;;) {
    ssize_t n = volume_data_read(data, buf, 1 << 20, off);
    if (n < 0)
      return fail((int)n, "reading the volume");
    if (n == 0)
      break;
    if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
      return fail(-EIO, "writing standard output");
    off += n;
  }
  return 0;
}

int main(int argc, char **argv) {
  StorageDriverOptions opts = {0};
  int i = 1;
  if (i < argc && strcmp(argv[i], "--lvm-no-dm") == 0) {
    opts.lvm_without_device_mapper = true;
    i++;
  }
  if (argc - i < 2)
    return usage();
  const char *pool_file = argv[i++];
  const char *cmd = argv[i++];
  char **args = argv + i;
  int nargs = argc - i;

  g_autofree char *xml = NULL, *err = NULL;
  gsize len = 0;
  if (!g_file_get_contents(pool_file, &xml, &len, NULL))
    return fail(-ENOENT, "cannot read the pool XML");
  g_autoptr(PoolDef) pool = NULL;
  int r = pool_def_parse(xml, len, &pool, &err);
  if (r < 0)
    return fail(r, err);
  g_autoptr(StorageDriver) drv = NULL;
  if ((r = storage_driver_new(&opts, &drv, &err)) < 0)
    return fail(r, err);

  if (strcmp(cmd, "build") == 0) {
    bool overwrite = nargs > 0 && strcmp(args[0], "overwrite") == 0;
    r = storage_pool_build(drv, pool, overwrite ? STORAGE_BUILD_OVERWRITE : 0, &err);
  } else if (strcmp(cmd, "start") == 0) {
    r = storage_pool_start(drv, pool, &err);
  } else if (strcmp(cmd, "stop") == 0) {
    r = storage_pool_stop(drv, pool, &err);
  } else if (strcmp(cmd, "delete") == 0) {
    r = storage_pool_delete(drv, pool, &err);
  } else if (strcmp(cmd, "active") == 0) {
    bool active = false;
    if ((r = storage_pool_is_active(drv, pool, &active, &err)) == 0)
      printf("%d\n", active);
  } else if (strcmp(cmd, "info") == 0 || strcmp(cmd, "xml") == 0) {
    PoolSizes sizes;
    if ((r = storage_pool_info(drv, pool, &sizes, &err)) == 0) {
      if (strcmp(cmd, "xml") == 0) {
        g_autofree char *out = pool_def_format(pool, &sizes);
        fputs(out, stdout);
      } else {
        printf("capacity %" G_GUINT64_FORMAT "\nallocation %" G_GUINT64_FORMAT
               "\navailable %" G_GUINT64_FORMAT "\n", sizes.capacity, sizes.allocation,
               sizes.available);
      }
    }
  } else if (strcmp(cmd, "list") == 0) {
    g_autoptr(GPtrArray) vols = NULL;
    if ((r = storage_pool_refresh(drv, pool, &vols, &err)) == 0)
      for (guint k = 0; k < vols->len; k++)
        printf("%s\n", ((VolumeDef *)g_ptr_array_index(vols, k))->name);
  } else if (strcmp(cmd, "vol-xml") == 0 && nargs == 1) {
    g_autoptr(VolumeDef) vol = NULL;
    if ((r = storage_volume_get(drv, pool, args[0], &vol, &err)) == 0) {
      g_autofree char *out = volume_def_format(vol);
      fputs(out, stdout);
    }
  } else if (strcmp(cmd, "vol-create") == 0 && nargs == 1) {
    g_autofree char *vxml = NULL;
    gsize vlen = 0;
    if (!g_file_get_contents(args[0], &vxml, &vlen, NULL))
      return fail(-ENOENT, "cannot read the volume XML");
    g_autoptr(VolumeDef) def = NULL, vol = NULL;
    if ((r = volume_def_parse(vxml, vlen, pool, &def, &err)) == 0 &&
        (r = storage_volume_create(drv, pool, def, &vol, &err)) == 0) {
      g_autofree char *out = volume_def_format(vol);
      fputs(out, stdout);
    }
  } else if (strcmp(cmd, "vol-delete") == 0 && nargs == 1) {
    r = storage_volume_delete(drv, pool, args[0], &err);
  } else if (strcmp(cmd, "vol-resize") == 0 && (nargs == 2 || nargs == 3)) {
    uint64_t size;
    if (units_parse_value(args[1], 1, &size) < 0)
      return fail(-EINVAL, "bad size");
    bool shrink = nargs == 3 && strcmp(args[2], "shrink") == 0;
    r = storage_volume_resize(drv, pool, args[0], size, shrink ? STORAGE_RESIZE_SHRINK : 0, &err);
  } else if (strcmp(cmd, "vol-clone") == 0 && (nargs == 2 || nargs == 3)) {
    g_autoptr(VolumeDef) def = NULL, vol = NULL;
    if (nargs == 3) {
      def = volume_def_new(args[1]);
      if (volume_format_from_string(args[2], &def->format) < 0)
        return fail(-EINVAL, "bad format");
    }
    if ((r = storage_volume_clone(drv, pool, args[0], args[1], def, &vol, &err)) == 0) {
      g_autofree char *out = volume_def_format(vol);
      fputs(out, stdout);
    }
  } else if (strcmp(cmd, "vol-wipe") == 0 && nargs == 1) {
    r = storage_volume_wipe(drv, pool, args[0], &err);
  } else if (strcmp(cmd, "upload") == 0 && (nargs == 1 || nargs == 2)) {
    return upload(drv, pool, args[0], nargs == 2 && strcmp(args[1], "inplace") == 0);
  } else if (strcmp(cmd, "download") == 0 && nargs == 1) {
    return download(drv, pool, args[0]);
  } else if (strcmp(cmd, "bench") == 0 && nargs == 1) {
    return bench(drv, pool, atoi(args[0]) > 0 ? atoi(args[0]) : 20);
  } else {
    return usage();
  }
  if (r < 0)
    return fail(r, err);
  return 0;
}
