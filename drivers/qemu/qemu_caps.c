/* qemu_caps.c — see qemu_caps.h. */
#include "drivers/qemu/qemu_caps.h"

#include <errno.h>
#include <string.h>
#include <sys/wait.h>

int qemu_caps_parse_version(const char *text, char **ret_version, char **ret_error) {
  static const char prefix[] = "QEMU emulator version ";
  const char *p = strstr(text, prefix);
  if (!p) {
    *ret_error = g_strdup("the --version output does not start with "
                          "'QEMU emulator version'");
    return -EINVAL;
  }
  p += strlen(prefix);
  size_t n = strspn(p, "0123456789.");
  if (n == 0 || !g_ascii_isdigit(p[0])) {
    *ret_error = g_strdup("the --version output has no version number");
    return -EINVAL;
  }
  *ret_version = g_strndup(p, n);
  return 0;
}

/* Notes in parentheses at the end of a description, e.g.
 * "Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)". Only the
 * three QEMU prints after the description are interpreted. */
static void parse_notes(const char *description, NodeMachine *m) {
  static const char alias[] = "(alias of ";
  const char *a = strstr(description, alias);
  if (a) {
    a += strlen(alias);
    const char *end = strchr(a, ')');
    if (end && end > a)
      m->canonical = g_strndup(a, (size_t)(end - a));
  }
  m->is_default = strstr(description, "(default)") != NULL;
  m->deprecated = strstr(description, "(deprecated)") != NULL;
}

int qemu_caps_parse_machines(const char *text, GPtrArray **ret_machines, char **ret_error) {
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  if (!lines[0] || !g_str_has_prefix(lines[0], "Supported machines are:")) {
    *ret_error = g_strdup("the -machine help output does not start with "
                          "'Supported machines are:'");
    return -EINVAL;
  }
  g_autoptr(GPtrArray) machines =
      g_ptr_array_new_with_free_func((GDestroyNotify)node_machine_free);
  for (char **l = lines + 1; *l; l++) {
    const char *line = *l;
    if (!*line)
      continue;
    size_t n = strcspn(line, " \t");
    if (n == 0 || line[0] == ' ') {
      *ret_error = g_strdup_printf("the -machine help line '%s' does not start with a name",
                                   line);
      return -EINVAL;
    }
    NodeMachine *m = g_new0(NodeMachine, 1);
    m->name = g_strndup(line, n);
    parse_notes(line + n, m);
    g_ptr_array_add(machines, m);
  }
  if (machines->len == 0) {
    *ret_error = g_strdup("the -machine help output lists no machine type");
    return -EINVAL;
  }
  *ret_machines = g_steal_pointer(&machines);
  return 0;
}

int qemu_caps_binary_arch(const char *binary, char **ret_arch, unsigned *ret_wordsize,
                          char **ret_error) {
  static const struct { const char *arch; unsigned wordsize; } table[] = {
    {"x86_64", 64}, {"i386", 32}, {"aarch64", 64}, {"arm", 32},
    {"ppc64", 64}, {"riscv64", 64}, {"s390x", 64},
  };
  static const char prefix[] = "qemu-system-";
  g_autofree char *base = g_path_get_basename(binary);
  if (!g_str_has_prefix(base, prefix)) {
    *ret_error = g_strdup_printf("'%s' is not named qemu-system-ARCH", binary);
    return -EINVAL;
  }
  const char *arch = base + strlen(prefix);
  for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
    if (strcmp(arch, table[i].arch) == 0) {
      /* libvirt names 32-bit x86 guests i686, QEMU's binary says i386. */
      *ret_arch = g_strdup(strcmp(arch, "i386") == 0 ? "i686" : arch);
      *ret_wordsize = table[i].wordsize;
      return 0;
    }
  }
  *ret_error = g_strdup_printf("unknown QEMU architecture '%s'", arch);
  return -EINVAL;
}

/* Runs argv and returns its standard output; C locale so the texts parsed
 * above are never translated. */
static int run_capture(const char *const *argv, char **ret_stdout, char **ret_error) {
  g_autofree char *out = NULL, *err_text = NULL;
  g_autoptr(GError) err = NULL;
  int status = 0;
  g_auto(GStrv) envp = g_get_environ();
  envp = g_environ_setenv(envp, "LC_ALL", "C", TRUE);
  if (!g_spawn_sync(NULL, (char **)argv, envp, G_SPAWN_DEFAULT, NULL, NULL, &out, &err_text,
                    &status, &err)) {
    *ret_error = g_strdup_printf("cannot run %s: %s", argv[0], err->message);
    return g_error_matches(err, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT) ? -ENOENT : -EIO;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    *ret_error = g_strdup_printf("%s %s failed: %s", argv[0], argv[1],
                                 err_text && *err_text ? g_strstrip(err_text) : "no message");
    return -EIO;
  }
  *ret_stdout = g_steal_pointer(&out);
  return 0;
}

int qemu_caps_probe(const char *binary, NodeHypervisor **ret_hv, char **ret_error) {
  g_autoptr(NodeHypervisor) hv = g_new0(NodeHypervisor, 1);
  int r = qemu_caps_binary_arch(binary, &hv->arch, &hv->wordsize, ret_error);
  if (r < 0)
    return r;
  hv->emulator = strchr(binary, '/') ? g_canonicalize_filename(binary, NULL)
                                     : g_find_program_in_path(binary);
  if (!hv->emulator || !g_file_test(hv->emulator, G_FILE_TEST_IS_EXECUTABLE)) {
    *ret_error = g_strdup_printf("the QEMU binary %s is not installed", binary);
    return -ENOENT;
  }

  g_autofree char *version_text = NULL, *machines_text = NULL, *error = NULL;
  const char *version_argv[] = {hv->emulator, "--version", NULL};
  const char *machine_argv[] = {hv->emulator, "-machine", "help", NULL};
  if ((r = run_capture(version_argv, &version_text, ret_error)) < 0 ||
      (r = run_capture(machine_argv, &machines_text, ret_error)) < 0)
    return r;
  if (qemu_caps_parse_version(version_text, &hv->version, &error) < 0 ||
      qemu_caps_parse_machines(machines_text, &hv->machines, &error) < 0) {
    *ret_error = g_strdup_printf("%s: %s", hv->emulator, error);
    return -EIO;
  }
  *ret_hv = g_steal_pointer(&hv);
  return 0;
}
