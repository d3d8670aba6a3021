/* qemu_caps.h — what the QEMU binary can do, learnt by running it: its
 * version (`--version`) and its machine types (`-machine help`). The
 * parsers of those texts are pure and unit-tested against QEMU's real
 * output (tests/data/qemu-caps/); qemu_caps_probe() runs the binary.
 *
 * The result is a NodeHypervisor (objects/node_caps.h), which node/info and
 * node/capabilities.xml render. Probing takes a fraction of a second, so
 * callers do it once and keep the result (fs/fs_node_files.c does so on the
 * first read of a node file).
 *
 * Error convention: 0 or a negative errno with a sentence in *ret_error;
 * outputs written only on success. */
#pragma once

#include <glib.h>

#include "objects/node_caps.h"

/* "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7)" -> "7.2.22". */
int qemu_caps_parse_version(const char *text, char **ret_version, char **ret_error);

/* The table of `-machine help` into NodeMachine* in QEMU's order, with
 * "(alias of X)", "(default)" and "(deprecated)" noted. -EINVAL when the
 * text is not that table or lists no machine. */
int qemu_caps_parse_machines(const char *text, GPtrArray **ret_machines, char **ret_error);

/* The guest architecture and word size a binary named qemu-system-ARCH
 * emulates (directory ignored). -EINVAL for another name or an unknown
 * ARCH. */
int qemu_caps_binary_arch(const char *binary, char **ret_arch, unsigned *ret_wordsize,
                          char **ret_error);

/* Runs `binary --version` and `binary -machine help` (binary is looked up
 * in PATH unless it contains a '/'). -ENOENT when it cannot be found, -EIO
 * when it fails or prints something unexpected. Blocks for as long as QEMU
 * takes to answer (about 0.2 s). */
int qemu_caps_probe(const char *binary, NodeHypervisor **ret_hv, char **ret_error);
