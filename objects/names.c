/* names.c — validation of object names; see names.h. */
#include "objects/names.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

static int fail(char **ret_error, int err, const char *sentence) {
  if (ret_error)
    *ret_error = g_strdup(sentence);
  return err;
}

int object_name_validate(const char *name, char **ret_error) {
  if (!name || !*name)
    return fail(ret_error, -EINVAL, "the name is empty");
  size_t len = strlen(name);
  if (len > OBJECT_NAME_MAX) {
    if (ret_error)
      *ret_error = g_strdup_printf("the name is %zu bytes long; at most %d are allowed",
                                   len, OBJECT_NAME_MAX);
    return -ENAMETOOLONG;
  }
  if (name[0] == '.')
    return fail(ret_error, -EINVAL, "a name must not begin with '.'");
  if (!g_utf8_validate(name, (gssize)len, NULL))
    return fail(ret_error, -EINVAL, "the name is not valid UTF-8");
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    if (*p == '/')
      return fail(ret_error, -EINVAL, "a name must not contain '/'");
    if (*p < 0x20 || *p == 0x7f)
      return fail(ret_error, -EINVAL, "a name must not contain control characters");
  }
  return 0;
}
