/* fuzz_values.c — the value parsers of objects/values.c and the name rule
 * of objects/names.c on arbitrary bytes: no crash, no undefined behaviour
 * (overflow in unit arithmetic), outputs written only on success, and
 * results consistent with their documented contracts. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "objects/names.h"
#include "objects/values.h"
#include "tests/fuzz/fuzz.h"

#define UNTOUCHED UINT64_C(0xdeadbeefcafef00d)

static bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void check_trim(const uint8_t *data, size_t size) {
  char *out = NULL;
  int r = value_trim((const char *)data, size, &out);
  if (r < 0) {
    FUZZ_CHECK(r == -EINVAL && !out, "value_trim: %d", r);
    return;
  }
  size_t len = strlen(out);
  FUZZ_CHECK(len <= size, "value_trim grew the value");
  FUZZ_CHECK(len == 0 || (!is_blank(out[0]) && !is_blank(out[len - 1])),
             "value_trim left blanks: '%s'", out);
  for (size_t i = 0; i < len; i++)
    FUZZ_CHECK((unsigned char)out[i] >= 0x20 ? out[i] != 0x7f : out[i] == '\t',
               "value_trim kept a control character at %zu", i);
  g_free(out);
}

static void check_uint(const char *s) {
  uint64_t v = UNTOUCHED;
  int r = value_parse_uint(s, 0, UINT64_MAX, &v);
  if (r < 0) {
    FUZZ_CHECK(v == UNTOUCHED, "value_parse_uint wrote on failure");
    return;
  }
  /* only digits, and the same number once leading zeros are gone */
  const char *digits = s + strspn(s, "0");
  g_autofree char *back = g_strdup_printf("%" PRIu64, v);
  FUZZ_CHECK(strcmp(back, *digits ? digits : "0") == 0, "'%s' parsed as %s", s, back);
  uint64_t w = UNTOUCHED;
  r = value_parse_uint(s, 1, 255, &w);
  FUZZ_CHECK((r == 0) == (v >= 1 && v <= 255), "range check of %" PRIu64, v);
  FUZZ_CHECK(r == 0 ? w == v : w == UNTOUCHED, "value_parse_uint in range");
}

static void check_multiplier(const char *s) {
  uint64_t m = UNTOUCHED;
  if (units_multiplier(s, &m) < 0) {
    FUZZ_CHECK(m == UNTOUCHED, "units_multiplier wrote on failure");
    return;
  }
  /* 1, or a power (1 to 6: k to E) of 1000 or of 1024 */
  bool ok = m == 1;
  for (uint64_t p1000 = 1, p1024 = 1, k = 1; k <= 6 && !ok; k++) {
    p1000 *= 1000;
    p1024 *= 1024;
    ok = m == p1000 || m == p1024;
  }
  FUZZ_CHECK(ok, "'%s' gives multiplier %" PRIu64, s, m);
}

static void check_sizes(const char *s) {
  uint64_t b = UNTOUCHED;
  int r = units_parse_value(s, 1024, &b);
  FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE, "units_parse_value: %d", r);
  FUZZ_CHECK(r == 0 || b == UNTOUCHED, "units_parse_value wrote on failure");

  /* "NUMBER|UNIT" feeds units_parse_xml_size */
  g_auto(GStrv) parts = g_strsplit(s, "|", 2);
  const char *number = parts[0];
  const char *unit = parts[0] ? parts[1] : NULL;
  b = UNTOUCHED;
  r = units_parse_xml_size(number, unit, 1024, &b);
  FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE, "units_parse_xml_size: %d", r);
  FUZZ_CHECK(r == 0 || b == UNTOUCHED, "units_parse_xml_size wrote on failure");
  if (r == 0 && (!unit || !*unit)) {
    uint64_t v = 0;
    FUZZ_CHECK(value_parse_uint(number, 0, UINT64_MAX, &v) == 0 && v * 1024 == b,
               "'%s' without a unit is not KiB", number);
  }
}

static void check_bool(const char *s) {
  bool v = false;
  int r = value_parse_bool(s, &v);
  if (r == 0)
    FUZZ_CHECK(strlen(s) <= 5, "'%s' is a boolean", s);
}

static void check_name(const char *s) {
  char *why = NULL;
  int r = object_name_validate(s, &why);
  FUZZ_CHECK(object_name_is_valid(s) == (r == 0), "object_name_is_valid disagrees");
  if (r < 0) {
    FUZZ_CHECK(r == -EINVAL || r == -ENAMETOOLONG, "object_name_validate: %d", r);
    FUZZ_CHECK(why && *why, "a refused name without a sentence");
    g_free(why);
    return;
  }
  size_t len = strlen(s);
  FUZZ_CHECK(!why, "a sentence for a valid name");
  FUZZ_CHECK(len >= 1 && len <= OBJECT_NAME_MAX, "length %zu accepted", len);
  FUZZ_CHECK(s[0] != '.' && !strchr(s, '/'), "'%s' accepted", s);
  FUZZ_CHECK(g_utf8_validate(s, (gssize)len, NULL), "invalid UTF-8 accepted");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    FUZZ_CHECK(*p >= 0x20 && *p != 0x7f, "control character accepted");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  g_autofree char *s = fuzz_string(data, size);
  check_trim(data, size);
  check_uint(s);
  check_multiplier(s);
  check_sizes(s);
  check_bool(s);
  check_name(s);
  return 0;
}
