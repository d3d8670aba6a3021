/* fs_metrics_text.c — the Prometheus text format writer; see
 * fs_metrics_text.h. */
#include "fs/fs_metrics_text.h"

#include <math.h>
#include <stdbool.h>
#include <stdarg.h>
#include <string.h>

typedef struct {
  char *name;
  char *type;
  char *help;
  GString *samples;
} Family;

struct MetricsText {
  GPtrArray *families;     /* Family*, in declaration order */
  GHashTable *by_name;     /* name -> Family* (borrowed) */
};

static void family_free(Family *f) {
  g_free(f->name);
  g_free(f->type);
  g_free(f->help);
  g_string_free(f->samples, TRUE);
  g_free(f);
}

MetricsText *metrics_text_new(void) {
  MetricsText *m = g_new0(MetricsText, 1);
  m->families = g_ptr_array_new_with_free_func((GDestroyNotify)family_free);
  m->by_name = g_hash_table_new(g_str_hash, g_str_equal);
  return m;
}

void metrics_text_free(MetricsText *m) {
  if (!m)
    return;
  g_hash_table_unref(m->by_name);
  g_ptr_array_unref(m->families);
  g_free(m);
}

void metrics_family(MetricsText *m, const char *name, const char *type, const char *help) {
  if (g_hash_table_contains(m->by_name, name))
    return;
  Family *f = g_new0(Family, 1);
  f->name = g_strdup(name);
  f->type = g_strdup(type);
  f->help = g_strdup(help);
  f->samples = g_string_new(NULL);
  g_ptr_array_add(m->families, f);
  g_hash_table_insert(m->by_name, f->name, f);
}

char *metrics_escape_label(const char *value) {
  GString *out = g_string_new(NULL);
  for (const char *p = value ? value : ""; *p; p++) {
    if (*p == '\\')
      g_string_append(out, "\\\\");
    else if (*p == '"')
      g_string_append(out, "\\\"");
    else if (*p == '\n')
      g_string_append(out, "\\n");
    else
      g_string_append_c(out, *p);
  }
  return g_string_free(out, FALSE);
}

char *metrics_format_value(double value) {
  if (isnan(value))
    return g_strdup("NaN");
  if (isinf(value))
    return g_strdup(value > 0 ? "+Inf" : "-Inf");
  if (value == floor(value) && fabs(value) < 1e15)
    return g_strdup_printf("%.0f", value);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup(g_ascii_formatd(buf, sizeof(buf), "%.15g", value));
}

void metrics_sample(MetricsText *m, const char *name, double value, ...) {
  Family *f = g_hash_table_lookup(m->by_name, name);
  g_return_if_fail(f != NULL);
  g_string_append(f->samples, name);
  va_list ap;
  va_start(ap, value);
  const char *label;
  bool first = true;
  while ((label = va_arg(ap, const char *))) {
    const char *v = va_arg(ap, const char *);
    g_autofree char *escaped = metrics_escape_label(v);
    g_string_append_printf(f->samples, "%s%s=\"%s\"", first ? "{" : ",", label, escaped);
    first = false;
  }
  va_end(ap);
  g_autofree char *text = metrics_format_value(value);
  g_string_append_printf(f->samples, "%s %s\n", first ? "" : "}", text);
}

char *metrics_text_format(MetricsText *m) {
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < m->families->len; i++) {
    Family *f = m->families->pdata[i];
    if (f->samples->len == 0)
      continue;
    g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                           f->type);
    g_string_append_len(out, f->samples->str, (gssize)f->samples->len);
  }
  return g_string_free(out, FALSE);
}
