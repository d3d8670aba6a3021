/* fuzz_events.c — event_format_line() with arbitrary name bytes (the name
 * is the one field that comes from users). The line must stay one line of
 * blank-separated fields whatever the name holds, and unescaping the NAME
 * field must give the name back.
 *
 * Input: 8 bytes of timestamp (little endian, folded into years 1970 to
 * 9999, the range real clocks give), then the name up to the first NUL. */
#include <string.h>

#include "objects/events.h"
#include "tests/fuzz/fuzz.h"

#define MAX_US INT64_C(253402300799999999) /* 9999-12-31T23:59:59.999999Z */

/* Inverse of the escaping documented in docs/events.md: \\ and \xNN. */
static char *unescape(const char *s) {
  GString *out = g_string_new(NULL);
  for (; *s; s++) {
    if (*s != '\\') {
      g_string_append_c(out, *s);
      continue;
    }
    if (s[1] == '\\') {
      g_string_append_c(out, '\\');
      s++;
    } else if (s[1] == 'x' && g_ascii_isxdigit(s[2]) && g_ascii_isxdigit(s[3])) {
      g_string_append_c(out, (char)(g_ascii_xdigit_value(s[2]) * 16 +
                                    g_ascii_xdigit_value(s[3])));
      s += 3;
    } else {
      FUZZ_CHECK(false, "a lone backslash in '%s'", s);
    }
  }
  return g_string_free(out, FALSE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint64_t raw = 0;
  size_t n = size < 8 ? size : 8;
  for (size_t i = 0; i < n; i++)
    raw |= (uint64_t)data[i] << (8 * i);
  int64_t us = (int64_t)(raw % ((uint64_t)MAX_US + 1));
  g_autofree char *name = fuzz_string(data + n, size - n);

  g_autofree char *line = event_format_line(us, "domain", name, "renamed", "web2");
  size_t len = strlen(line);
  FUZZ_CHECK(len > 0 && line[len - 1] == '\n', "no final newline: '%s'", line);
  for (size_t i = 0; i + 1 < len; i++)
    FUZZ_CHECK((unsigned char)line[i] >= 0x20 && line[i] != 0x7f,
               "control byte 0x%02x at %zu in '%s'", (unsigned char)line[i], i, line);
  line[len - 1] = '\0';
  g_auto(GStrv) fields = g_strsplit(line, " ", -1);
  FUZZ_CHECK(g_strv_length(fields) == 5, "%u fields in '%s'", g_strv_length(fields), line);
  FUZZ_CHECK(strlen(fields[0]) == 24 && fields[0][23] == 'Z', "timestamp '%s'", fields[0]);
  FUZZ_CHECK(strcmp(fields[1], "domain") == 0 && strcmp(fields[3], "renamed") == 0 &&
                 strcmp(fields[4], "web2") == 0, "fields moved: '%s'", line);
  g_autofree char *back = unescape(fields[2]);
  FUZZ_CHECK(strcmp(back, name) == 0, "name '%s' came back as '%s'", name, back);
  return 0;
}
