/* test_qemu_img.c — parsing of `qemu-img info --output=json` (samples in
 * tests/data/qemu-img, written by qemu-img 7.2) and the argv builders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "drivers/storage/qemu_img.h"

static QemuImgInfo *load(const char *file) {
  const char *root = g_getenv("VIRTFS_TEST_DATA");
  g_autofree char *path = g_build_filename(root ? root : "tests/data", "qemu-img", file, NULL);
  g_autofree char *text = NULL;
  gsize len = 0;
  assert_true(g_file_get_contents(path, &text, &len, NULL));
  QemuImgInfo *info = NULL;
  g_autofree char *err = NULL;
  assert_int_equal(qemu_img_info_parse(text, len, &info, &err), 0);
  return info;
}

static void test_raw(void **state) {
  g_autoptr(QemuImgInfo) i = load("raw.json");
  assert_string_equal(i->format, "raw");
  assert_true(i->virtual_size == 64ULL << 20);
  assert_null(i->backing_filename);
  assert_null(i->compat);
  assert_false(i->dirty);
}

static void test_qcow2_compat(void **state) {
  g_autoptr(QemuImgInfo) i = load("qcow2-compat010.json");
  assert_string_equal(i->format, "qcow2");
  assert_true(i->virtual_size == 1ULL << 30);
  assert_true(i->actual_size > 0);
  assert_string_equal(i->compat, "0.10");
  assert_false(i->corrupt);
}

static void test_overlays(void **state) {
  g_autoptr(QemuImgInfo) a = load("qcow2-overlay-raw.json");
  assert_string_equal(a->backing_filename, "/tmp/qi/base.img");
  assert_string_equal(a->full_backing_filename, "/tmp/qi/base.img");
  assert_string_equal(a->backing_format, "raw");
  assert_string_equal(a->compat, "1.1");
  g_autoptr(QemuImgInfo) b = load("qcow2-overlay-relative.json");
  assert_string_equal(b->backing_filename, "ov.qcow2");
  assert_string_equal(b->full_backing_filename, "/tmp/qi/ov.qcow2");
  assert_string_equal(b->backing_format, "qcow2");
  assert_true(b->virtual_size == 128ULL << 20);
}

static void test_bad(void **state) {
  static const char *const bad[] = {
    "",
    "[]",
    "{\"format\": \"raw\"}",
    "{\"virtual-size\": 1}",
    "{\"format\": \"raw\", \"virtual-size\": -1}",
    "{\"format\": \"raw\", \"virtual-size\": \"big\"}",
    "{\"format\": 7, \"virtual-size\": 1}",
    "{\"format\": \"raw\", \"virtual-size\": 1, \"backing-filename\": []}",
    "{\"format\": \"raw\", \"virtual-size\": 1",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    QemuImgInfo *info = NULL;
    g_autofree char *err = NULL;
    assert_int_equal(qemu_img_info_parse(bad[i], strlen(bad[i]), &info, &err), -EINVAL);
    assert_null(info);
    assert_non_null(err);
  }
  /* unknown members are fine */
  static const char ok[] = "{\"format\":\"qcow2\",\"virtual-size\":512,\"new-thing\":{\"x\":1},"
                           "\"format-specific\":{\"type\":\"qcow2\",\"data\":{\"compat\":\"1.1\","
                           "\"corrupt\":true}},\"dirty-flag\":true}";
  g_autoptr(QemuImgInfo) info = NULL;
  g_autofree char *err = NULL;
  assert_int_equal(qemu_img_info_parse(ok, strlen(ok), &info, &err), 0);
  assert_true(info->corrupt && info->dirty);
}

static void assert_argv(GStrv argv, const char *expected) {
  g_autofree char *joined = g_strjoinv(" ", argv);
  assert_string_equal(joined, expected);
  g_strfreev(argv);
}

static void test_argv(void **state) {
  assert_argv(qemu_img_info_argv("qemu-img", "/p/a", VOLUME_FORMAT_QCOW2),
              "qemu-img info -U --output=json -f qcow2 /p/a");
  assert_argv(qemu_img_create_argv("qemu-img", "/p/a", VOLUME_FORMAT_QCOW2, 1073741824, NULL,
                                   false, false, NULL, VOLUME_FORMAT_RAW),
              "qemu-img create -q -f qcow2 /p/a 1073741824");
  assert_argv(qemu_img_create_argv("qemu-img", "/p/a", VOLUME_FORMAT_QCOW2, 0, "0.10", false,
                                   true, "/p/base", VOLUME_FORMAT_RAW),
              "qemu-img create -q -f qcow2 -o compat=0.10,preallocation=falloc -b /p/base -F raw /p/a");
  assert_argv(qemu_img_create_argv("qemu-img", "/p/a", VOLUME_FORMAT_QCOW2, 4096, NULL, false,
                                   false, "/p/b,c", VOLUME_FORMAT_QCOW2),
              "qemu-img create -q -f qcow2 -b /p/b,c -F qcow2 /p/a 4096");
  assert_argv(qemu_img_create_argv("qemu-img", "/p/a", VOLUME_FORMAT_QCOW2, 4096, "1.1", true,
                                   false, NULL, VOLUME_FORMAT_RAW),
              "qemu-img create -q -f qcow2 -o compat=1.1,lazy_refcounts=on /p/a 4096");
  assert_argv(qemu_img_resize_argv("/usr/bin/qemu-img", "/p/a", VOLUME_FORMAT_QCOW2, 2048),
              "/usr/bin/qemu-img resize -q -f qcow2 /p/a 2048");
  assert_argv(qemu_img_convert_argv("qemu-img", "/p/a", VOLUME_FORMAT_RAW, "/p/b",
                                    VOLUME_FORMAT_QCOW2, "1.1"),
              "qemu-img convert -q -f raw -O qcow2 -o compat=1.1 /p/a /p/b");
  assert_argv(qemu_img_convert_argv("qemu-img", "/p/a", VOLUME_FORMAT_QCOW2, "/p/b",
                                    VOLUME_FORMAT_RAW, "1.1"),
              "qemu-img convert -q -f qcow2 -O raw /p/a /p/b");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_raw),
    cmocka_unit_test(test_qcow2_compat),
    cmocka_unit_test(test_overlays),
    cmocka_unit_test(test_bad),
    cmocka_unit_test(test_argv),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
