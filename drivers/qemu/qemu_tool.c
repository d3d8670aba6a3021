/* qemu_tool.c — see qemu_tool.h. */
#include "drivers/qemu/qemu_tool.h"

#include <errno.h>
#include <glib.h>

int qemu_tool_run(const char *const *argv, char **ret_stdout, char **ret_error) {
  g_autofree char *out = NULL, *err = NULL;
  gint status = 0;
  g_autoptr(GError) gerr = NULL;
  if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                    &status, &gerr)) {
    *ret_error = g_strdup_printf("cannot run %s: %s", argv[0], gerr->message);
    return gerr->code == G_SPAWN_ERROR_NOENT ? -ENOENT : -EIO;
  }
  if (!g_spawn_check_wait_status(status, NULL)) {
    g_strstrip(err);
    *ret_error = *err ? g_strdup_printf("%s %s failed: %s", argv[0], argv[1], err)
                      : g_strdup_printf("%s %s failed", argv[0], argv[1]);
    return -EIO;
  }
  if (ret_stdout)
    *ret_stdout = g_steal_pointer(&out);
  return 0;
}
