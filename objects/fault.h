/* fault.h — crash points for tests. A test that must kill the daemon
 * between two steps (a hot plug after QEMU has the device and before the
 * definition does) sets VIRTFS_FAULT_KILL=NAME in the daemon's
 * environment; fault_point(NAME) then kills the daemon with SIGKILL, as
 * `kill -9` would. Without the variable it does nothing. */
#pragma once

void fault_point(const char *name);
