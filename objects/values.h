/* values.h — parsing of the values people write into attribute files and
 * XML attributes: sizes with libvirt's units, booleans, counts. Pure; every
 * function returns 0 or -EINVAL/-ERANGE and writes its output only on
 * success. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* Multiplier of a libvirt size unit: "b"/"bytes" 1; "KB" 1000; "k"/"K"/"KiB"
 * 1024; likewise M, G, T, P, E (first letter case-insensitive, "B" suffix
 * decimal, "" or "iB" binary). -EINVAL for anything else. */
int units_multiplier(const char *unit, uint64_t *ret_multiplier);

/* A decimal number and a unit as in <memory unit='MiB'>512</memory>; a NULL
 * or empty unit means `default_multiplier`. Result in bytes. -ERANGE on
 * overflow. */
int units_parse_xml_size(const char *number, const char *unit,
                         uint64_t default_multiplier, uint64_t *ret_bytes);

/* A size written to an attribute file: "2097152", "512M", "2G", "1048576K",
 * "2 GiB", with surrounding blanks and newlines allowed. A plain number is in
 * units of `default_multiplier`. Result in bytes. */
int units_parse_value(const char *text, uint64_t default_multiplier, uint64_t *ret_bytes);

/* Copies `len` bytes of `buf` without leading and trailing blanks (space, tab,
 * CR, LF) into a new string. Embedded NULs or other control characters make it
 * fail with -EINVAL (a value file holds one line). */
int value_trim(const char *buf, size_t len, char **ret_value);

/* "1"/"0", "yes"/"no", "true"/"false", "on"/"off" (case-insensitive). */
int value_parse_bool(const char *text, bool *ret_value);

/* An unsigned decimal in [min, max]. */
int value_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *ret_value);

/* A host CPU set in libvirt's syntax, as in <vcpu cpuset='0-3,^2,8'>:
 * comma-separated CPU numbers and ranges N-M, a '^N' (or '^N-M') removing
 * CPUs added before it; blanks around items are allowed. CPU numbers are
 * below VALUE_CPUSET_MAX. The result is a bitmap (bit N of word N/64 is
 * CPU N). -EINVAL for malformed text or a set left empty, -ERANGE for a
 * number too large. */
#define VALUE_CPUSET_MAX 4096
#define VALUE_CPUSET_WORDS (VALUE_CPUSET_MAX / 64)
int value_parse_cpuset(const char *text, uint64_t ret_bits[VALUE_CPUSET_WORDS]);

/* The canonical text of a CPU set: ascending, ranges of 2 or more CPUs as
 * N-M, no exclusions ("0-1,3,8-11"). Empty for an empty set. */
char *value_format_cpuset(const uint64_t bits[VALUE_CPUSET_WORDS]);
