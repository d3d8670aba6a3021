/* enum_table.h — enums whose names are written in XML or shown in files get
 * their to_string/from_string pair from one table, so names never drift.
 *
 *   header:  ENUM_TABLE_DECL(disk_bus, DiskBus)
 *   source:  ENUM_TABLE_IMPL(disk_bus, DiskBus, "virtio", "ide", "sata", "scsi")
 *
 * NAME_to_string() returns NULL for a value outside the table;
 * NAME_from_string() returns 0 and sets *ret_value, or -EINVAL (NULL input
 * included) without touching *ret_value. */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define ENUM_TABLE_DECL(name, type)                                   \
  const char *name##_to_string(type value);                          \
  int name##_from_string(const char *s, type *ret_value);

#define ENUM_TABLE_IMPL(name, type, ...)                              \
  static const char *const name##_names[] = {__VA_ARGS__};           \
  const char *name##_to_string(type value) {                          \
    size_t i = (size_t)value;                                         \
    return i < sizeof(name##_names) / sizeof(name##_names[0])         \
               ? name##_names[i] : NULL;                              \
  }                                                                   \
  int name##_from_string(const char *s, type *ret_value) {            \
    if (!s)                                                           \
      return -EINVAL;                                                 \
    for (size_t i = 0; i < sizeof(name##_names) / sizeof(name##_names[0]); i++) \
      if (strcmp(s, name##_names[i]) == 0) {                          \
        *ret_value = (type)i;                                         \
        return 0;                                                     \
      }                                                               \
    return -EINVAL;                                                   \
  }
