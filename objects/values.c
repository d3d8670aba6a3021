/* values.c — parsing of sizes, booleans and counts; see values.h. */
#include "objects/values.h"

#include <errno.h>
#include <string.h>

int units_multiplier(const char *unit, uint64_t *ret_multiplier) {
  if (!unit || !*unit)
    return -EINVAL;
  if (strcmp(unit, "b") == 0 || strcmp(unit, "B") == 0 || strcmp(unit, "bytes") == 0) {
    *ret_multiplier = 1;
    return 0;
  }
  static const char prefixes[] = "kmgtpe";
  const char *p = strchr(prefixes, g_ascii_tolower(unit[0]));
  if (!p)
    return -EINVAL;
  const char *suffix = unit + 1;
  uint64_t base;
  if (!*suffix || g_ascii_strcasecmp(suffix, "iB") == 0)
    base = 1024;
  else if (g_ascii_strcasecmp(suffix, "B") == 0)
    base = 1000;
  else
    return -EINVAL;
  uint64_t m = 1;
  for (long i = 0; i <= p - prefixes; i++)
    m *= base;
  *ret_multiplier = m;
  return 0;
}

static int parse_decimal(const char *s, const char **ret_end, uint64_t *ret_value) {
  if (!g_ascii_isdigit(*s))
    return -EINVAL;
  uint64_t v = 0;
  for (; g_ascii_isdigit(*s); s++) {
    unsigned d = (unsigned)(*s - '0');
    if (v > (UINT64_MAX - d) / 10)
      return -ERANGE;
    v = v * 10 + d;
  }
  *ret_end = s;
  *ret_value = v;
  return 0;
}

static int scale(uint64_t value, uint64_t multiplier, uint64_t *ret_bytes) {
  if (multiplier && value > UINT64_MAX / multiplier)
    return -ERANGE;
  *ret_bytes = value * multiplier;
  return 0;
}

int units_parse_xml_size(const char *number, const char *unit,
                         uint64_t default_multiplier, uint64_t *ret_bytes) {
  if (!number)
    return -EINVAL;
  const char *end;
  uint64_t value, multiplier = default_multiplier;
  int r = parse_decimal(number, &end, &value);
  if (r < 0)
    return r;
  if (*end)
    return -EINVAL;
  if (unit && *unit && (r = units_multiplier(unit, &multiplier)) < 0)
    return r;
  return scale(value, multiplier, ret_bytes);
}

int units_parse_value(const char *text, uint64_t default_multiplier, uint64_t *ret_bytes) {
  g_autofree char *v = NULL;
  if (!text || value_trim(text, strlen(text), &v) < 0)
    return -EINVAL;
  const char *end;
  uint64_t value, multiplier = default_multiplier;
  int r = parse_decimal(v, &end, &value);
  if (r < 0)
    return r;
  while (*end == ' ' || *end == '\t')
    end++;
  if (*end && (r = units_multiplier(end, &multiplier)) < 0)
    return r;
  return scale(value, multiplier, ret_bytes);
}

static bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int value_trim(const char *buf, size_t len, char **ret_value) {
  size_t start = 0, end = len;
  while (start < end && is_blank(buf[start]))
    start++;
  while (end > start && is_blank(buf[end - 1]))
    end--;
  for (size_t i = start; i < end; i++) {
    unsigned char c = (unsigned char)buf[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return -EINVAL;
  }
  *ret_value = g_strndup(buf + start, end - start);
  return 0;
}

int value_parse_bool(const char *text, bool *ret_value) {
  static const char *const yes[] = {"1", "yes", "true", "on"};
  static const char *const no[] = {"0", "no", "false", "off"};
  if (!text)
    return -EINVAL;
  for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
    if (g_ascii_strcasecmp(text, yes[i]) == 0) {
      *ret_value = true;
      return 0;
    }
    if (g_ascii_strcasecmp(text, no[i]) == 0) {
      *ret_value = false;
      return 0;
    }
  }
  return -EINVAL;
}

int value_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *ret_value) {
  if (!text)
    return -EINVAL;
  const char *end;
  uint64_t v;
  int r = parse_decimal(text, &end, &v);
  if (r < 0)
    return r;
  if (*end)
    return -EINVAL;
  if (v < min || v > max)
    return -ERANGE;
  *ret_value = v;
  return 0;
}

static bool cpuset_bit(const uint64_t *bits, unsigned cpu) {
  return bits[cpu / 64] >> (cpu % 64) & 1;
}

int value_parse_cpuset(const char *text, uint64_t ret_bits[VALUE_CPUSET_WORDS]) {
  if (!text)
    return -EINVAL;
  uint64_t bits[VALUE_CPUSET_WORDS] = {0};
  g_auto(GStrv) items = g_strsplit(text, ",", -1);
  for (guint i = 0; items[i]; i++) {
    char *item = g_strstrip(items[i]);
    bool exclude = *item == '^';
    if (exclude)
      item++;
    char *dash = strchr(item, '-');
    if (dash)
      *dash = '\0';
    uint64_t lo, hi;
    int r = value_parse_uint(item, 0, VALUE_CPUSET_MAX - 1, &lo);
    if (r < 0)
      return r;
    hi = lo;
    if (dash && (r = value_parse_uint(dash + 1, 0, VALUE_CPUSET_MAX - 1, &hi)) < 0)
      return r;
    if (hi < lo)
      return -EINVAL;
    for (uint64_t c = lo; c <= hi; c++) {
      if (exclude)
        bits[c / 64] &= ~(UINT64_C(1) << (c % 64));
      else
        bits[c / 64] |= UINT64_C(1) << (c % 64);
    }
  }
  bool any = false;
  for (size_t w = 0; w < VALUE_CPUSET_WORDS; w++)
    any = any || bits[w];
  if (!any)
    return -EINVAL;
  memcpy(ret_bits, bits, sizeof bits);
  return 0;
}

char *value_format_cpuset(const uint64_t bits[VALUE_CPUSET_WORDS]) {
  GString *s = g_string_new(NULL);
  for (unsigned c = 0; c < VALUE_CPUSET_MAX; c++) {
    if (!cpuset_bit(bits, c))
      continue;
    unsigned end = c;
    while (end + 1 < VALUE_CPUSET_MAX && cpuset_bit(bits, end + 1))
      end++;
    g_string_append_printf(s, "%s%u", s->len ? "," : "", c);
    if (end > c)
      g_string_append_printf(s, "-%u", end);
    c = end;
  }
  return g_string_free(s, FALSE);
}
