/* log.h — the daemon's log: lines "virtfs[LEVEL]: message" on stderr, or to
 * syslog once log_use_syslog() was called (after daemonizing). Debug lines
 * are printed only when log_set_debug(true). Thread-safe. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef enum { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARNING, LOG_LEVEL_ERROR } LogLevel;

void log_set_debug(bool enabled);
void log_use_syslog(void);
void log_msg(LogLevel level, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
