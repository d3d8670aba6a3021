/* names.h — the one rule for names of objects (domains, networks, pools,
 * volumes): non-empty, at most OBJECT_NAME_MAX bytes, valid UTF-8, no '/',
 * no control characters, not starting with '.' (dot names belong to the
 * scratch files of editors and sync tools). Pure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define OBJECT_NAME_MAX 64

/* Returns 0 if `name` is acceptable, else -EINVAL (or -ENAMETOOLONG for a
 * name over OBJECT_NAME_MAX bytes) and, if ret_error is not NULL, a sentence
 * saying why (caller frees). */
int object_name_validate(const char *name, char **ret_error);

static inline bool object_name_is_valid(const char *name) {
  return object_name_validate(name, NULL) == 0;
}
