/* fuzz_qga.c — what a guest's agent sends, on arbitrary bytes: the stream
 * resync (qga_after_sync_marker), a reply line (qmp_message_parse, as
 * qemu_agent.c reads it) and every renderer of guest/ on its value. No
 * crash, no undefined behaviour; a renderer either fails with -EPROTO and
 * a sentence or writes lines without control characters other than '\n'
 * (the guest must not be able to forge or split lines of guest/ files). */
#include <errno.h>
#include <string.h>

#include "drivers/qemu/qga_codec.h"
#include "drivers/qemu/qmp_codec.h"
#include "tests/fuzz/fuzz.h"

typedef int (*Render)(JsonNode *value, GString *out, char **ret_error);

static void check_text(const char *what, const GString *out) {
  for (size_t i = 0; i < out->len; i++) {
    unsigned char c = (unsigned char)out->str[i];
    FUZZ_CHECK(c == '\n' || (c >= 0x20 && c != 0x7f), "%s: control character 0x%02x at %zu",
               what, c, i);
  }
  FUZZ_CHECK(out->len == 0 || out->str[out->len - 1] == '\n', "%s: last line unterminated", what);
}

static void check_render(const char *what, int r, GString *out, char *error) {
  if (r < 0) {
    FUZZ_CHECK(r == -EPROTO && error && *error, "%s: %d without a sentence", what, r);
    g_free(error);
    return;
  }
  FUZZ_CHECK(!error, "%s: a sentence on success", what);
  check_text(what, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ssize_t after = qga_after_sync_marker((const char *)data, size);
  FUZZ_CHECK(after == -1 || (after > 0 && (size_t)after <= size && data[after - 1] == 0xFF),
             "marker offset %zd", after);
  if (after > 0)
    FUZZ_CHECK(!memchr(data + after, 0xFF, size - (size_t)after), "not the last marker");

  QmpMessage *msg = NULL;
  char *error = NULL;
  if (qmp_message_parse((const char *)data, size, &msg, &error) < 0) {
    FUZZ_CHECK(!msg && error, "refused without a sentence");
    g_free(error);
    return 0;
  }
  JsonNode *value = msg->value;
  static const struct {
    const char *name;
    Render render;
  } renders[] = {
    {"addresses", qga_render_addresses},
    {"users", qga_render_users},
    {"filesystems", qga_render_filesystems},
    {"time", qga_render_time},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(renders); i++) {
    GString *out = g_string_new(NULL);
    char *e = NULL;
    int r = renders[i].render(value, out, &e);
    check_render(renders[i].name, r, out, e);
    g_string_free(out, TRUE);
  }
  GString *out = g_string_new(NULL);
  char *e = NULL;
  int r = qga_render_os(value, value, out, &e);
  check_render("os", r, out, e);
  g_string_truncate(out, 0);
  e = NULL;
  r = qga_render_state(value, value, out, &e);
  check_render("state", r, out, e);
  g_string_free(out, TRUE);
  qga_reply_check_sync(value, 42);
  qmp_message_free(msg);
  return 0;
}
