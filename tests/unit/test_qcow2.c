/* test_qcow2.c — the empty qcow2 image builder: header fields, refcounts,
 * backing file and format extension, version 2 and 3, limits. (The
 * integration tests hold the same images to qemu-img check and qemu-io.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "drivers/storage/qcow2.h"
#include "drivers/storage/storage_parse.h"

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p) {
  return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void test_plain_v3(void **state) {
  Qcow2Layout l = {0};
  g_autofree char *err = NULL;
  assert_int_equal(qcow2_build_empty(1ULL << 30, NULL, NULL, VOLUME_FORMAT_RAW, &l, &err), 0);
  const uint8_t *m = l.meta;
  assert_int_equal(storage_format_detect(m, l.meta_len), VOLUME_FORMAT_QCOW2);
  assert_int_equal(be32(m + 4), 3);
  assert_true(be64(m + 8) == 0);          /* no backing file */
  assert_int_equal(be32(m + 20), 16);     /* 64 KiB clusters */
  assert_true(be64(m + 24) == 1ULL << 30);
  assert_int_equal(be32(m + 36), 2);      /* L1 entries of 512 MiB */
  assert_true(be64(m + 40) == 3 * 65536);
  assert_true(be64(m + 48) == 65536);
  assert_int_equal(be32(m + 56), 1);
  assert_int_equal(be32(m + 96), 4);      /* 16-bit refcounts */
  assert_int_equal(be32(m + 100), 104);
  assert_int_equal(be32(m + 104), 0);     /* no extensions */
  assert_true(be64(m + 65536) == 2 * 65536);
  for (int c = 0; c < 4; c++)
    assert_int_equal(m[2 * 65536 + 2 * c + 1], 1);
  assert_int_equal(m[2 * 65536 + 9], 0);
  assert_true(l.file_size == 3 * 65536 + 16);
  uint64_t size = 0;
  assert_int_equal(qcow2_header_virtual_size(m, l.meta_len, &size), 0);
  assert_true(size == 1ULL << 30);
  qcow2_layout_clear(&l);
  assert_null(l.meta);
}

static void test_overlay_v2(void **state) {
  Qcow2Layout l = {0};
  g_autofree char *err = NULL;
  assert_int_equal(qcow2_build_empty(1000, "0.10", "/pool/base.img", VOLUME_FORMAT_RAW, &l, &err), 0);
  const uint8_t *m = l.meta;
  assert_int_equal(be32(m + 4), 2);
  assert_true(be64(m + 24) == 1024);      /* rounded up to 512 */
  assert_int_equal(be32(m + 72), 0xe2792aca);
  assert_int_equal(be32(m + 76), 3);
  assert_memory_equal(m + 80, "raw", 3);
  assert_int_equal(be32(m + 88), 0);      /* end of extensions */
  uint64_t off = be64(m + 8);
  assert_true(off == 96);
  assert_int_equal(be32(m + 16), strlen("/pool/base.img"));
  assert_memory_equal(m + off, "/pool/base.img", strlen("/pool/base.img"));
  qcow2_layout_clear(&l);
}

static void test_empty_and_limits(void **state) {
  Qcow2Layout l = {0};
  g_autofree char *err = NULL;
  assert_int_equal(qcow2_build_empty(0, "1.1", NULL, VOLUME_FORMAT_RAW, &l, &err), 0);
  assert_true(be64(l.meta + 40) == 0);    /* no L1 table */
  assert_true(l.file_size == 3 * 65536);
  qcow2_layout_clear(&l);
  assert_int_equal(qcow2_build_empty(QCOW2_MAX_VIRTUAL_SIZE, NULL, NULL, VOLUME_FORMAT_RAW, &l, &err), 0);
  assert_int_equal(be32(l.meta + 36), 1u << 22);
  assert_int_equal(l.meta[2 * 65536 + 2 * 514 + 1], 1); /* 3 + 512 L1 clusters counted */
  qcow2_layout_clear(&l);
  g_autofree char *e1 = NULL, *e2 = NULL, *e3 = NULL;
  assert_int_equal(qcow2_build_empty(QCOW2_MAX_VIRTUAL_SIZE + 1, NULL, NULL, VOLUME_FORMAT_RAW, &l, &e1), -EFBIG);
  assert_int_equal(qcow2_build_empty(1, "2.0", NULL, VOLUME_FORMAT_RAW, &l, &e2), -EINVAL);
  g_autofree char *long_path = g_strnfill(2000, 'x');
  long_path[0] = '/';
  assert_int_equal(qcow2_build_empty(1, NULL, long_path, VOLUME_FORMAT_RAW, &l, &e3), -EINVAL);
  assert_null(l.meta);
  uint64_t size;
  assert_int_equal(qcow2_header_virtual_size("not qcow2 at all, no, not at all", 32, &size), -EINVAL);
}

static void *load(const char *file, size_t *ret_len) {
  const char *root = g_getenv("VIRTFS_TEST_DATA");
  g_autofree char *path = g_build_filename(root ? root : "tests/data", "qemu-img", file, NULL);
  char *data = NULL;
  gsize len = 0;
  assert_true(g_file_get_contents(path, &data, &len, NULL));
  *ret_len = len;
  return data;
}

/* Headers written by qemu-img 7.2 (the first 4 KiB of the image). */
static void test_parse_qemu_headers(void **state) {
  size_t len;
  g_autofree uint8_t *v3 = load("overlay-relative-head.bin", &len);
  Qcow2Header h = {0};
  assert_int_equal(qcow2_header_parse(v3, len, &h), 0);
  assert_int_equal(h.version, 3);
  assert_true(h.virtual_size == 64ULL << 20);
  assert_string_equal(h.backing_file, "base.img");
  assert_string_equal(h.backing_format, "raw");
  qcow2_header_clear(&h);
  assert_null(h.backing_file);
  g_autofree uint8_t *v2 = load("overlay-v2-head.bin", &len);
  assert_int_equal(qcow2_header_parse(v2, len, &h), 0);
  assert_int_equal(h.version, 2);
  assert_true(h.virtual_size == 3ULL << 30);
  assert_string_equal(h.backing_file, "/srv/images/base.qcow2");
  assert_string_equal(h.backing_format, "qcow2");
  qcow2_header_clear(&h);
  /* cut before the backing name: left to qemu-img */
  assert_int_equal(qcow2_header_parse(v2, 100, &h), -EINVAL);
  /* encrypted */
  g_autofree uint8_t *enc = g_memdup2(v3, len);
  enc[35] = 1;
  assert_int_equal(qcow2_header_parse(enc, len, &h), -EINVAL);
  /* an extension running past the buffer */
  g_autofree uint8_t *ext = g_memdup2(v3, len);
  ext[112 + 4] = 0x7f;
  assert_int_equal(qcow2_header_parse(ext, len, &h), -EINVAL);
}

static void test_parse_own_images(void **state) {
  Qcow2Layout l = {0};
  g_autofree char *err = NULL;
  assert_int_equal(qcow2_build_empty(5 << 20, "1.1", "/p/b", VOLUME_FORMAT_QCOW2, &l, &err), 0);
  Qcow2Header h = {0};
  assert_int_equal(qcow2_header_parse(l.meta, QCOW2_HEADER_READ, &h), 0);
  assert_true(h.virtual_size == 5 << 20);
  assert_string_equal(h.backing_file, "/p/b");
  assert_string_equal(h.backing_format, "qcow2");
  qcow2_header_clear(&h);
  qcow2_layout_clear(&l);
  assert_int_equal(qcow2_build_empty(512, NULL, NULL, VOLUME_FORMAT_RAW, &l, &err), 0);
  assert_int_equal(qcow2_header_parse(l.meta, QCOW2_HEADER_READ, &h), 0);
  assert_null(h.backing_file);
  assert_null(h.backing_format);
  qcow2_layout_clear(&l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_plain_v3),
    cmocka_unit_test(test_overlay_v2),
    cmocka_unit_test(test_empty_and_limits),
    cmocka_unit_test(test_parse_qemu_headers),
    cmocka_unit_test(test_parse_own_images),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
