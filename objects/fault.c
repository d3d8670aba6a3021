/* fault.c — see fault.h. */
#include "objects/fault.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "objects/log.h"

void fault_point(const char *name) {
  const char *wanted = getenv("VIRTFS_FAULT_KILL");
  if (!wanted || strcmp(wanted, name) != 0)
    return;
  log_warning("fault point '%s': killing the daemon (VIRTFS_FAULT_KILL)", name);
  kill(getpid(), SIGKILL);
}
