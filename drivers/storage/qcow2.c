/* qcow2.c — empty qcow2 images built in memory; see qcow2.h. */
#include "drivers/storage/qcow2.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "drivers/storage/storage_parse.h"

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define V2_HEADER_LEN 72
#define V3_HEADER_LEN 104

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v) {
  put32(p, (uint32_t)(v >> 32));
  put32(p + 4, (uint32_t)v);
}

static uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | p[i];
  return v;
}

void qcow2_layout_clear(Qcow2Layout *layout) {
  g_clear_pointer(&layout->meta, g_free);
  layout->meta_len = 0;
  layout->file_size = 0;
}

int qcow2_build_empty(uint64_t capacity, const char *compat, const char *backing_path,
                      VolumeFormat backing_format, Qcow2Layout *ret_layout, char **ret_error) {
  bool v2 = compat && strcmp(compat, "0.10") == 0;
  if (compat && !v2 && strcmp(compat, "1.1") != 0) {
    *ret_error = g_strdup_printf("qcow2 compat '%s' is not supported", compat);
    return -EINVAL;
  }
  if (capacity > QCOW2_MAX_VIRTUAL_SIZE) {
    *ret_error = g_strdup_printf("%" G_GUINT64_FORMAT " bytes is more than qcow2 can address",
                                 capacity);
    return -EFBIG;
  }
  capacity = (capacity + 511) / 512 * 512;

  /* Cluster 0 header; 1 refcount table; 2 refcount block; 3.. L1 table. */
  const uint64_t cs = QCOW2_CLUSTER_SIZE;
  const uint64_t l2_entries = cs / 8;
  const uint64_t l1_size = (capacity + cs * l2_entries - 1) / (cs * l2_entries);
  /* An empty disk has no L1 table at all, as qemu-img makes it. */
  const uint64_t l1_clusters = (l1_size * 8 + cs - 1) / cs;
  const uint64_t clusters = 3 + l1_clusters;

  size_t header_len = v2 ? V2_HEADER_LEN : V3_HEADER_LEN;
  size_t ext_len = 0, fmt_len = 0, path_len = 0;
  const char *fmt = NULL;
  if (backing_path) {
    fmt = volume_format_to_string(backing_format);
    fmt_len = strlen(fmt);
    path_len = strlen(backing_path);
    ext_len = 8 + ((fmt_len + 7) & ~(size_t)7);
  }
  size_t backing_offset = header_len + ext_len + 8; /* + end-of-extensions marker */
  if (backing_offset + path_len > cs || path_len > 1023) {
    *ret_error = g_strdup("the backing file name is too long for a qcow2 header");
    return -EINVAL;
  }

  uint8_t *m = g_malloc0(3 * cs);
  put32(m + 0, QCOW2_MAGIC);
  put32(m + 4, v2 ? 2 : 3);
  if (backing_path) {
    put64(m + 8, backing_offset);
    put32(m + 16, (uint32_t)path_len);
  }
  put32(m + 20, QCOW2_CLUSTER_BITS);
  put64(m + 24, capacity);
  put32(m + 32, 0);                 /* no encryption */
  put32(m + 36, (uint32_t)l1_size);
  put64(m + 40, l1_size ? 3 * cs : 0); /* L1 table */
  put64(m + 48, 1 * cs);            /* refcount table */
  put32(m + 56, 1);                 /* refcount table clusters */
  put32(m + 60, 0);                 /* no snapshots */
  put64(m + 64, 0);
  if (!v2) {
    /* incompatible, compatible and autoclear features all 0 */
    put32(m + 96, 4);               /* refcount_order: 16-bit refcounts */
    put32(m + 100, V3_HEADER_LEN);
  }
  size_t off = header_len;
  if (backing_path) {
    put32(m + off, QCOW2_EXT_BACKING_FORMAT);
    put32(m + off + 4, (uint32_t)fmt_len);
    memcpy(m + off + 8, fmt, fmt_len);
    off += ext_len;
  }
  off += 8; /* end of extensions: type 0, length 0, already zero */
  if (backing_path)
    memcpy(m + off, backing_path, path_len);

  /* The refcount table points at the one refcount block, which counts
   * every metadata cluster once. */
  put64(m + cs, 2 * cs);
  for (uint64_t c = 0; c < clusters; c++) {
    m[2 * cs + 2 * c] = 0;
    m[2 * cs + 2 * c + 1] = 1;
  }
  ret_layout->meta = m;
  ret_layout->meta_len = 3 * cs;
  ret_layout->file_size = 3 * cs + l1_size * 8;
  return 0;
}

int qcow2_header_virtual_size(const void *buf, size_t len, uint64_t *ret_size) {
  if (len < 32 || storage_format_detect(buf, len) != VOLUME_FORMAT_QCOW2)
    return -EINVAL;
  *ret_size = get64((const uint8_t *)buf + 24);
  return 0;
}

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void qcow2_header_clear(Qcow2Header *header) {
  g_clear_pointer(&header->backing_file, g_free);
  g_clear_pointer(&header->backing_format, g_free);
}

/* A name stored in the image: no NULs, valid UTF-8 (it ends up in XML). */
static char *stored_name(const uint8_t *p, size_t len) {
  if (memchr(p, '\0', len) || !g_utf8_validate((const char *)p, (gssize)len, NULL))
    return NULL;
  return g_strndup((const char *)p, len);
}

int qcow2_header_parse(const void *buf, size_t len, Qcow2Header *ret_header) {
  const uint8_t *b = buf;
  if (len < V2_HEADER_LEN || storage_format_detect(buf, len) != VOLUME_FORMAT_QCOW2)
    return -EINVAL;
  uint32_t version = get32(b + 4);
  uint64_t backing_offset = get64(b + 8);
  uint32_t backing_len = get32(b + 16);
  uint32_t cluster_bits = get32(b + 20);
  if (cluster_bits < 9 || cluster_bits > 21 || get32(b + 32) != 0 /* encrypted */)
    return -EINVAL;
  size_t header_len = V2_HEADER_LEN;
  if (version == 3) {
    if (len < V3_HEADER_LEN)
      return -EINVAL;
    header_len = get32(b + 100);
    if (header_len < V3_HEADER_LEN || header_len > len || header_len % 8)
      return -EINVAL;
  }
  g_autofree char *backing = NULL, *format = NULL;
  if (backing_offset) {
    if (backing_len == 0 || backing_len > 1023 || backing_offset > len - backing_len ||
        !(backing = stored_name(b + backing_offset, backing_len)))
      return -EINVAL;
  }
  /* Header extensions: type, length, data padded to 8 bytes, until type 0. */
  for (size_t off = header_len;;) {
    if (off > len - 8)
      return -EINVAL;
    uint32_t type = get32(b + off), ext_len = get32(b + off + 4);
    if (type == 0)
      break;
    size_t padded = ((size_t)ext_len + 7) & ~(size_t)7;
    if (padded > len - off - 8)
      return -EINVAL;
    if (type == QCOW2_EXT_BACKING_FORMAT) {
      g_free(format);
      if (!(format = stored_name(b + off + 8, ext_len)))
        return -EINVAL;
    }
    off += 8 + padded;
  }
  ret_header->version = version;
  ret_header->compatible_features = version == 3 ? get64(b + 80) : 0;
  ret_header->virtual_size = get64(b + 24);
  ret_header->backing_file = g_steal_pointer(&backing);
  ret_header->backing_format = g_steal_pointer(&format);
  return 0;
}
