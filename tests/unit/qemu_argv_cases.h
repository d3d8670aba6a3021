/* qemu_argv_cases.h — the domain definitions behind the QEMU argv golden
 * files, shared by test_qemu_argv (argv == NAME.args, or the error ==
 * NAME.err) and test_qemu_argv_accepted (QEMU really starts with them).
 *
 * Most definitions are tests/data/qemu-argv/NAME.xml, parsed with
 * domain_def_parse. The few built in C are ones the parser refuses but the
 * argv builder must refuse on its own too (definitions also change through
 * attribute files and copies, and the builder is the last line before
 * QEMU), or hostile values the parser's character rules keep out. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "drivers/qemu/qemu_argv.h"
#include "objects/domain_def.h"

typedef struct {
  const char *name;
  DomainDef *(*build)(void); /* NULL: parse tests/data/qemu-argv/NAME.xml */
  bool kvm_available;
  bool no_console_socket;
  int tap_fds[4];
  size_t n_tap_fds;
  const char *accept_skip; /* why QEMU cannot run it here; NULL = it can */
} QemuArgvCase;

extern const QemuArgvCase qemu_argv_cases[];
extern const size_t qemu_argv_n_cases;

/* The case's definition (a cmocka failure if its XML does not parse). */
DomainDef *qemu_argv_case_def(const QemuArgvCase *c);

/* A minimal valid definition built in C, for tests that add devices. */
DomainDef *qemu_argv_minimal_def(const char *name);

/* The volumes every case's config resolves (pools "default" and "lvm"). */
extern const QemuArgvVolume qemu_argv_test_volumes[];
extern const size_t qemu_argv_n_test_volumes;

/* The config golden files are generated with: fixed paths under
 * /run/virtfs/test, the case's kvm and tap fds. */
void qemu_argv_case_config(const QemuArgvCase *c, QemuArgvConfig *ret_cfg);

/* Replaces *field (owned) with a copy of value. */
void test_set_str(char **field, const char *value);
