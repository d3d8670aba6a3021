/* fs_metrics_text.h — a writer of the Prometheus text exposition format
 * (version 0.0.4), pure: families are declared with their type and help,
 * samples may come in any order, and the text groups each family's samples
 * under one HELP and TYPE, in the order families were declared. Label
 * values are escaped (backslash, double quote, newline). */
#pragma once

#include <glib.h>
#include <stdint.h>

typedef struct MetricsText MetricsText;

MetricsText *metrics_text_new(void);
void metrics_text_free(MetricsText *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MetricsText, metrics_text_free)

/* Declares a family: type is "counter" or "gauge". Must come before its
 * samples; a second declaration of the same name is ignored. */
void metrics_family(MetricsText *m, const char *name, const char *type, const char *help);

/* One sample of a declared family; the labels are pairs of name and value,
 * ended by NULL. A sample of an undeclared family is a programming error
 * (it is dropped with a critical warning). */
void metrics_sample(MetricsText *m, const char *name, double value, ...) G_GNUC_NULL_TERMINATED;

/* The whole text, newly allocated. */
char *metrics_text_format(MetricsText *m);

/* Pure helpers, exposed for the tests: a label value escaped, and a value
 * as Prometheus reads it (integers without exponent, NaN, +Inf, -Inf). */
char *metrics_escape_label(const char *value);
char *metrics_format_value(double value);
