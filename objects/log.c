/* log.c — see log.h. The two flags are the only globals besides signal
 * flags: they are set once at start-up, before any thread exists. */
#include "objects/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

static bool debug_enabled;
static bool syslog_enabled;

void log_set_debug(bool enabled) {
  debug_enabled = enabled;
}

void log_use_syslog(void) {
  openlog("virtfs", LOG_PID, LOG_DAEMON);
  syslog_enabled = true;
}

void log_msg(LogLevel level, const char *fmt, ...) {
  static const char *const names[] = {"debug", "info", "warning", "error"};
  static const int priorities[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR};
  if (level == LOG_LEVEL_DEBUG && !debug_enabled)
    return;
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *text = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  if (syslog_enabled)
    syslog(priorities[level], "%s", text);
  else
    fprintf(stderr, "virtfs[%s]: %s\n", names[level], text);
}
