/* qemu_tool.h — running a helper program of the QEMU driver to its end
 * (qemu-img): one place for how its failure reads. */
#pragma once

/* Runs argv (argv[0] searched in PATH) and waits for it. 0 and, when
 * ret_stdout is given, its standard output; -ENOENT when it is not
 * installed, -EIO when it fails, with "ARGV0 ARGV1 failed: its stderr". */
int qemu_tool_run(const char *const *argv, char **ret_stdout, char **ret_error);
