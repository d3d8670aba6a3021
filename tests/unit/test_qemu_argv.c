/* test_qemu_argv.c — QEMU's command line from domain definitions: golden
 * files (tests/data/qemu-argv/NAME.args, one argument per line, or NAME.err
 * for a refused definition; VIRTFS_UPDATE_GOLDEN=1 rewrites them) from
 * NAME.xml (or a few definitions built in C, see qemu_argv_cases.h), the
 * escaping helpers, and comma injection checked by re-parsing the option
 * strings the way QEMU does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "drivers/qemu/qemu_argv.h"
#include "drivers/qemu/qemu_firmware.h"
#include "drivers/qemu/qemu_tpm.h"
#include "tests/unit/qemu_argv_cases.h"

static const QemuArgvCase minimal_case = {.name = "minimal"};

static const char *errno_name(int err) {
  switch (err) {
  case EINVAL: return "EINVAL";
  case EOPNOTSUPP: return "EOPNOTSUPP";
  case ENOENT: return "ENOENT";
  case ENOSPC: return "ENOSPC";
  }
  return "E?";
}

static char *golden_path(const char *name, const char *ext) {
  const char *dir = g_getenv("VIRTFS_TEST_DATA");
  assert_non_null(dir);
  g_autofree char *file = g_strconcat(name, ext, NULL);
  return g_build_filename(dir, "qemu-argv", file, NULL);
}

/* What a case produces, as golden text. */
static char *render_case(const QemuArgvCase *c, bool *ret_failed) {
  g_autoptr(DomainDef) def = qemu_argv_case_def(c);
  QemuArgvConfig cfg;
  qemu_argv_case_config(c, &cfg);
  g_auto(GStrv) argv = NULL;
  g_autofree char *error = NULL;
  int r = qemu_argv_build(def, &cfg, &argv, &error);
  GString *out = g_string_new(NULL);
  if (r < 0) {
    assert_null(argv);
    assert_non_null(error);
    g_string_append_printf(out, "error: %s\n%s\n", errno_name(-r), error);
  } else {
    assert_null(error);
    for (char **a = argv; *a; a++) {
      assert_null(strchr(*a, '\n'));
      g_string_append_printf(out, "%s\n", *a);
    }
  }
  *ret_failed = r < 0;
  return g_string_free(out, FALSE);
}

static void test_golden(void **state) {
  const QemuArgvCase *c = *state;
  bool failed = false;
  g_autofree char *got = render_case(c, &failed);
  g_autofree char *args_path = golden_path(c->name, ".args");
  g_autofree char *err_path = golden_path(c->name, ".err");
  const char *path = failed ? err_path : args_path;

  if (g_strcmp0(g_getenv("VIRTFS_UPDATE_GOLDEN"), "1") == 0) {
    g_autoptr(GError) gerr = NULL;
    if (!g_file_set_contents(path, got, -1, &gerr))
      fail_msg("%s: %s", path, gerr->message);
    g_unlink(failed ? args_path : err_path);
    return;
  }
  g_autofree char *want = NULL;
  if (!g_file_get_contents(path, &want, NULL, NULL))
    fail_msg("%s: %s is missing (run with VIRTFS_UPDATE_GOLDEN=1); got:\n%s", c->name, path, got);
  if (strcmp(want, got) != 0) {
    g_auto(GStrv) w = g_strsplit(want, "\n", -1);
    g_auto(GStrv) g = g_strsplit(got, "\n", -1);
    size_t i = 0;
    while (w[i] && g[i] && strcmp(w[i], g[i]) == 0)
      i++;
    fail_msg("%s: differs from %s at line %zu:\n  want: %s\n  got:  %s", c->name, path, i + 1,
             w[i] ? w[i] : "(end)", g[i] ? g[i] : "(end)");
  }
}

/* ---- helpers ---- */

/* ---- UEFI firmware selection (qemu_firmware_select is pure) ---- */

#define DESCRIPTOR(code, vars, features)                                                   \
  "{\"interface-types\": [\"uefi\"], \"mapping\": {\"device\": \"flash\", "           \
  "\"executable\": {\"filename\": \"" code "\", \"format\": \"raw\"}, "                  \
  "\"nvram-template\": {\"filename\": \"" vars "\", \"format\": \"raw\"}}, "             \
  "\"targets\": [{\"architecture\": \"x86_64\", \"machines\": [\"pc-q35-*\"]}], "        \
  "\"features\": [" features "]}"

static const char *const test_descriptors[] = {
  "not json",
  DESCRIPTOR("/fw/secure-enrolled.fd", "/fw/vars-ms.fd",
             "\"enrolled-keys\", \"requires-smm\", \"secure-boot\""),
  DESCRIPTOR("/fw/secure.fd", "/fw/vars.fd", "\"requires-smm\", \"secure-boot\""),
  DESCRIPTOR("/fw/plain.fd", "/fw/vars.fd", "\"acpi-s3\""),
};

static char *select_code(const char *os_xml, bool *ret_smm, int *ret_err) {
  g_autofree char *xml = g_strdup_printf(
      "<domain type='qemu'><name>f</name><memory>1024</memory>%s</domain>", os_xml);
  DomainDef *def = NULL;
  g_autofree char *err = NULL;
  assert_int_equal(domain_def_parse(xml, strlen(xml), &def, &err), 0);
  QemuArgvFirmware fw = {0};
  g_autofree char *why = NULL;
  *ret_err = qemu_firmware_select(def, test_descriptors, G_N_ELEMENTS(test_descriptors), &fw,
                                  &why);
  domain_def_free(def);
  if (*ret_err < 0) {
    assert_non_null(why);
    return NULL;
  }
  *ret_smm = fw.requires_smm;
  char *code = g_strdup(fw.code);
  qemu_firmware_clear(&fw);
  return code;
}

static void test_firmware_select(void **state) {
  bool smm = false;
  int r = 0;
  g_autofree char *first = select_code(
      "<os firmware='efi'><type machine='q35'>hvm</type></os>", &smm, &r);
  assert_string_equal(first, "/fw/secure-enrolled.fd"); /* the first match, as libvirt */
  assert_true(smm);
  g_autofree char *plain = select_code(
      "<os firmware='efi'><type machine='pc-q35-7.2'>hvm</type><firmware>"
      "<feature enabled='no' name='secure-boot'/></firmware></os>", &smm, &r);
  assert_string_equal(plain, "/fw/plain.fd");
  assert_false(smm);
  g_autofree char *no_keys = select_code(
      "<os firmware='efi'><type machine='q35'>hvm</type><firmware>"
      "<feature enabled='yes' name='secure-boot'/><feature enabled='no' name='enrolled-keys'/>"
      "</firmware></os>", &smm, &r);
  assert_string_equal(no_keys, "/fw/secure.fd");
  /* the descriptors only target q35: a pc machine has no firmware */
  g_autofree char *none = select_code(
      "<os firmware='efi'><type machine='pc'>hvm</type></os>", &smm, &r);
  assert_null(none);
  assert_int_equal(r, -ENOENT);
  /* an explicit loader is used as written */
  g_autofree char *explicit_fw = select_code(
      "<os><type machine='pc'>hvm</type><loader readonly='yes' type='pflash'>/my/code.fd"
      "</loader><nvram template='/my/vars.fd'>/my/nvram.fd</nvram></os>", &smm, &r);
  assert_string_equal(explicit_fw, "/my/code.fd");
}

/* Where the NVRAM is: virtfs's own is qcow2 (snapshots include it), a raw
 * one of an earlier version is used until it is converted, an <nvram> path
 * is used as written with its format (raw by default). */
static void test_firmware_nvram(void **state) {
  g_autofree char *dir = g_dir_make_tmp("nvram-XXXXXX", NULL);
  assert_non_null(dir);
  const char *xml = "<domain type='qemu'><name>f</name><uuid>6f0c4f8e-1d5b-4a8e-9a53-"
                    "2b1d3f4e5a6b</uuid><memory>1024</memory><os firmware='efi'><type "
                    "machine='q35'>hvm</type></os></domain>";
  g_autoptr(DomainDef) def = NULL;
  g_autofree char *err = NULL;
  assert_int_equal(domain_def_parse(xml, strlen(xml), &def, &err), 0);
  g_autofree char *path = NULL, *format = NULL;
  qemu_firmware_nvram(def, dir, &path, &format);
  g_autofree char *want = g_strdup_printf("%s/nvram/%s_VARS.qcow2", dir, def->uuid);
  assert_string_equal(path, want);
  assert_string_equal(format, "qcow2");

  g_autofree char *nv_dir = g_build_filename(dir, "nvram", NULL);
  g_autofree char *legacy = g_strdup_printf("%s/%s_VARS.fd", nv_dir, def->uuid);
  assert_int_equal(g_mkdir_with_parents(nv_dir, 0700), 0);
  assert_true(g_file_set_contents(legacy, "vars", -1, NULL));
  g_clear_pointer(&path, g_free);
  g_clear_pointer(&format, g_free);
  qemu_firmware_nvram(def, dir, &path, &format);
  assert_string_equal(path, legacy);
  assert_string_equal(format, "raw");
  qemu_firmware_remove_nvram(dir, def->uuid);
  assert_false(g_file_test(legacy, G_FILE_TEST_EXISTS));
  g_rmdir(nv_dir);
  g_rmdir(dir);

  const char *own = "<domain type='qemu'><name>f</name><memory>1024</memory><os><type "
                    "machine='q35'>hvm</type><nvram format='qcow2'>/my/vars,1.qcow2</nvram>"
                    "</os></domain>";
  g_autoptr(DomainDef) def2 = NULL;
  assert_int_equal(domain_def_parse(own, strlen(own), &def2, &err), 0);
  g_clear_pointer(&path, g_free);
  g_clear_pointer(&format, g_free);
  qemu_firmware_nvram(def2, "/state", &path, &format);
  assert_string_equal(path, "/my/vars,1.qcow2");
  assert_string_equal(format, "qcow2");
}

static void test_escape(void **state) {
  g_autoptr(GString) s = g_string_new(NULL);
  qemu_opt_escape_append(s, "a,b,,c,");
  assert_string_equal(s->str, "a,,b,,,,c,,");

  g_string_truncate(s, 0);
  qemu_opt_append(s, "path", "/x,y");
  assert_string_equal(s->str, "path=/x,,y");
  qemu_opt_append(s, "id", "c0");
  assert_string_equal(s->str, "path=/x,,y,id=c0");

  g_string_assign(s, "socket");
  qemu_opt_append(s, "path", "");
  assert_string_equal(s->str, "socket,path=");
}

static void test_value_is_safe(void **state) {
  assert_true(qemu_value_is_safe("plain"));
  assert_true(qemu_value_is_safe("a,b=c with spaces, été"));
  assert_true(qemu_value_is_safe(""));
  assert_false(qemu_value_is_safe(NULL));
  assert_false(qemu_value_is_safe("a\nb"));
  assert_false(qemu_value_is_safe("a\tb"));
  assert_false(qemu_value_is_safe("a\x7f"));
  assert_false(qemu_value_is_safe("\x1b[31m"));
  assert_false(qemu_value_is_safe("\xff\xfe"));
}

/* Splits an option string as QemuOpts/keyval do: a single ',' separates,
 * ",," is a literal comma. Returns items "key=value" (or the implied first
 * value). */
static GPtrArray *split_opts(const char *s) {
  GPtrArray *items = g_ptr_array_new_with_free_func(g_free);
  GString *cur = g_string_new(NULL);
  for (const char *p = s; *p; p++) {
    if (*p == ',') {
      if (p[1] == ',') {
        g_string_append_c(cur, ',');
        p++;
        continue;
      }
      g_ptr_array_add(items, g_string_free(cur, FALSE));
      cur = g_string_new(NULL);
      continue;
    }
    g_string_append_c(cur, *p);
  }
  g_ptr_array_add(items, g_string_free(cur, FALSE));
  return items;
}

/* The value of `key` in the option string following `option` in argv that
 * starts with `prefix`; fails unless the key occurs exactly once. */
static char *opt_value(char **argv, const char *option, const char *prefix, const char *key) {
  for (size_t i = 0; argv[i] && argv[i + 1]; i++) {
    if (strcmp(argv[i], option) != 0 || !g_str_has_prefix(argv[i + 1], prefix))
      continue;
    g_autoptr(GPtrArray) items = split_opts(argv[i + 1]);
    char *found = NULL;
    size_t klen = strlen(key);
    for (guint k = 0; k < items->len; k++) {
      const char *it = items->pdata[k];
      if (strncmp(it, key, klen) == 0 && it[klen] == '=') {
        assert_null(found); /* a key given twice is an injection */
        found = g_strdup(it + klen + 1);
      }
    }
    return found;
  }
  return NULL;
}

static void test_injection_roundtrip(void **state) {
  static const char *const hostile[] = {
    "a,b", ",", ",,", "a,", ",id=x", "x,file=/etc/shadow", "x,,file=/etc/shadow",
    "a,,,b", "x,read-only=off,node-name=n", "x=y", "help", "json:{\"a\":1}",
  };
  for (size_t h = 0; h < G_N_ELEMENTS(hostile); h++) {
    const QemuArgvCase c = {.name = "hostile"};
    g_autofree char *path = g_strconcat("/img/", hostile[h], NULL);
    g_autofree char *logp = g_strconcat("/log/", hostile[h], NULL);
    DomainDef *def = qemu_argv_minimal_def("minimal");
    test_set_str(&def->name, hostile[h]);
    DomainDisk *d = g_new0(DomainDisk, 1);
    d->type = DISK_TYPE_FILE;
    d->source = g_strdup(path);
    d->target_dev = g_strdup("vda");
    d->serial = g_strdup(hostile[h]);
    g_ptr_array_add(def->disks, d);
    DomainChardev *ch = g_new0(DomainChardev, 1);
    ch->type = CHARDEV_FILE;
    ch->source_path = g_strdup(logp);
    g_ptr_array_add(def->serials, ch);

    QemuArgvConfig cfg;
    qemu_argv_case_config(&c, &cfg);
    cfg.console_socket_path = NULL;
    g_auto(GStrv) argv = NULL;
    g_autofree char *error = NULL;
    assert_int_equal(qemu_argv_build(def, &cfg, &argv, &error), 0);

    g_autofree char *name = opt_value(argv, "-name", "", "guest");
    assert_string_equal(name, hostile[h]);
    g_autofree char *fname = opt_value(argv, "-blockdev", "driver=file", "filename");
    assert_string_equal(fname, path);
    g_autofree char *node = opt_value(argv, "-blockdev", "driver=file", "node-name");
    assert_string_equal(node, "disk0-file");
    g_autofree char *ro = opt_value(argv, "-blockdev", "driver=file", "read-only");
    assert_null(ro);
    g_autofree char *serial = opt_value(argv, "-device", "virtio-blk-pci", "serial");
    assert_string_equal(serial, hostile[h]);
    g_autofree char *drv = opt_value(argv, "-device", "virtio-blk-pci", "drive");
    assert_string_equal(drv, "disk0-format");
    g_autofree char *chp = opt_value(argv, "-chardev", "file", "path");
    assert_string_equal(chp, logp);
    g_autofree char *chid = opt_value(argv, "-chardev", "file", "id");
    assert_string_equal(chid, "charserial0");
    domain_def_free(def);
  }
}

/* swtpm's command line (qemu_tpm_swtpm_argv is pure): the state and the
 * control socket come in as fds, so no path reaches swtpm's option parser,
 * which has no escape for commas. */
static char *swtpm_cmd(const char *tpm_xml) {
  g_autofree char *xml = g_strdup_printf(
      "<domain type='qemu'><name>t</name><memory>1024</memory><devices>%s</devices></domain>",
      tpm_xml);
  g_autoptr(DomainDef) def = NULL;
  g_autofree char *err = NULL;
  assert_int_equal(domain_def_parse(xml, strlen(xml), &def, &err), 0);
  g_auto(GStrv) argv = NULL;
  assert_int_equal(qemu_tpm_swtpm_argv(def, "swtpm", &argv, &err), 0);
  return g_strjoinv(" ", argv);
}

static void test_swtpm_argv(void **state) {
  g_autofree char *v2 = swtpm_cmd("<tpm model='tpm-crb'><backend type='emulator' "
                                  "version='2.0'/></tpm>");
  assert_string_equal(v2, "swtpm socket --tpm2 --tpmstate dir=/proc/self/fd/4,mode=0600 "
                          "--ctrl type=unixio,fd=3 --log fd=1 --terminate");
  g_autofree char *dflt = swtpm_cmd("<tpm><backend type='emulator'/></tpm>");
  assert_string_equal(dflt, v2);
  g_autofree char *v1 = swtpm_cmd("<tpm model='tpm-tis'><backend type='emulator' "
                                  "version='1.2'/></tpm>");
  assert_string_equal(v1, "swtpm socket --tpmstate dir=/proc/self/fd/4,mode=0600 "
                          "--ctrl type=unixio,fd=3 --log fd=1 --terminate");
  /* no <tpm>: nothing to start */
  g_autoptr(DomainDef) def = qemu_argv_minimal_def("minimal");
  g_auto(GStrv) argv = NULL;
  g_autofree char *err = NULL;
  assert_int_equal(qemu_tpm_swtpm_argv(def, "swtpm", &argv, &err), -EINVAL);
  assert_null(argv);
  assert_null(qemu_tpm_device(def));
}

/* QEMU's side: the socket path is escaped like every other path, and a
 * <tpm> without a configured socket is refused. */
static void test_tpm_socket_path(void **state) {
  static const char *const hostile[] = {"a,b", ",id=x", "x,,path=/etc/shadow"};
  for (size_t h = 0; h < G_N_ELEMENTS(hostile); h++) {
    const QemuArgvCase c = {.name = "tpm-tis"};
    g_autoptr(DomainDef) def = qemu_argv_case_def(&c);
    g_autofree char *path = g_strconcat("/run/", hostile[h], "/swtpm.sock", NULL);
    QemuArgvConfig cfg;
    qemu_argv_case_config(&c, &cfg);
    cfg.tpm_socket_path = path;
    g_auto(GStrv) argv = NULL;
    g_autofree char *error = NULL;
    assert_int_equal(qemu_argv_build(def, &cfg, &argv, &error), 0);
    g_autofree char *got = opt_value(argv, "-chardev", "socket,id=chrtpm", "path");
    assert_string_equal(got, path);
    g_autofree char *dev = opt_value(argv, "-tpmdev", "emulator", "chardev");
    assert_string_equal(dev, "chrtpm");
    g_autofree char *model = opt_value(argv, "-device", "tpm-tis", "tpmdev");
    assert_string_equal(model, "tpm0");
    cfg.tpm_socket_path = NULL;
    g_strfreev(g_steal_pointer(&argv));
    assert_int_equal(qemu_argv_build(def, &cfg, &argv, &error), -EINVAL);
  }
}

static void test_outputs_untouched_on_error(void **state) {
  DomainDef *def = qemu_argv_minimal_def("minimal");
  def->virt_type = DOMAIN_VIRT_KVM;
  QemuArgvConfig cfg;
  qemu_argv_case_config(&minimal_case, &cfg);
  GStrv argv = (GStrv)(void *)0x1;
  char *error = NULL;
  assert_int_equal(qemu_argv_build(def, &cfg, &argv, &error), -EOPNOTSUPP);
  assert_ptr_equal(argv, (GStrv)(void *)0x1);
  assert_string_equal(error, "this host cannot run KVM guests: use <domain type='qemu'>");
  g_free(error);
  /* a NULL ret_error is allowed */
  assert_int_equal(qemu_argv_build(def, &cfg, &argv, NULL), -EOPNOTSUPP);

  cfg.kvm_available = true;
  error = (char *)(void *)0x1;
  argv = NULL;
  assert_int_equal(qemu_argv_build(def, &cfg, &argv, &error), 0);
  assert_ptr_equal(error, (char *)(void *)0x1);
  assert_string_equal(argv[0], "/usr/bin/qemu-system-x86_64");
  g_strfreev(argv);
  domain_def_free(def);
}

static void test_config_errors(void **state) {
  g_autoptr(DomainDef) def = qemu_argv_minimal_def("minimal");
  QemuArgvConfig cfg;
  qemu_argv_case_config(&minimal_case, &cfg);
  g_auto(GStrv) argv = NULL;
  g_autofree char *error = NULL;

  cfg.qmp_socket_path = NULL;
  assert_int_equal(qemu_argv_build(def, &cfg, &argv, &error), -EINVAL);
  g_clear_pointer(&error, g_free);
  cfg.qmp_socket_path = "relative.sock";
  assert_int_equal(qemu_argv_build(def, &cfg, &argv, &error), -EINVAL);
  assert_non_null(strstr(error, "not an absolute path"));
  g_clear_pointer(&error, g_free);

  qemu_argv_case_config(&minimal_case, &cfg);
  test_set_str(&def->emulator, "qemu-system-x86_64");
  assert_int_equal(qemu_argv_build(def, &cfg, &argv, &error), -EINVAL);
  g_clear_pointer(&error, g_free);
  test_set_str(&def->emulator, "/opt/qemu/bin/qemu-system-x86_64");
  assert_int_equal(qemu_argv_build(def, &cfg, &argv, &error), 0);
  assert_string_equal(argv[0], "/opt/qemu/bin/qemu-system-x86_64");
}

static void test_pci_slots_run_out(void **state) {
  g_autoptr(DomainDef) def = qemu_argv_minimal_def("minimal");
  QemuArgvConfig cfg;
  qemu_argv_case_config(&minimal_case, &cfg);
  /* pc: slots 2..31 are free, so 30 devices fit and the 31st does not */
  for (int i = 0; i < 31; i++) {
    DomainInterface *n = g_new0(DomainInterface, 1);
    n->type = INTERFACE_USER;
    n->model = g_strdup("virtio");
    g_snprintf(n->mac, sizeof n->mac, "52:54:00:00:01:%02x", i);
    g_ptr_array_add(def->interfaces, n);
  }
  g_auto(GStrv) argv = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(qemu_argv_build(def, &cfg, &argv, &error), -ENOSPC);
  assert_string_equal(error, "interface 30: no PCI slot is left on bus 0 (PCI bridges are not "
                             "supported)");
  g_ptr_array_remove_index(def->interfaces, 30);
  g_clear_pointer(&error, g_free);
  assert_int_equal(qemu_argv_build(def, &cfg, &argv, &error), 0);
}

/* The agent's channel as the argv builder gives it to QEMU: the first
 * listening unix channel named org.qemu.guest_agent.0, by its index among
 * all channels, at its own path or channelN.sock in the run dir. */
static void test_agent_channel(void **state) {
  (void)state;
  const QemuArgvCase c = {.name = "guest-agent-channels"};
  g_autoptr(DomainDef) def = qemu_argv_case_def(&c);
  unsigned idx = 99;
  g_autofree char *path = NULL;
  assert_int_equal(qemu_argv_agent_channel(def, "/run/virtfs/test", &idx, &path), 0);
  assert_int_equal(idx, 2); /* 0 is a pty, 1 connects out */
  assert_string_equal(path, "/run/virtfs/test/channel2.sock");

  /* with a path of its own (commas included: QEMU gets it escaped) */
  DomainXNode *x = def->xdevices->pdata[2];
  DomainXNode *src = domain_xnode_new("source");
  g_ptr_array_add(src->attrs, g_strdup("path"));
  g_ptr_array_add(src->attrs, g_strdup("/srv/a,b/qga.sock"));
  g_ptr_array_add(x->children, src);
  g_clear_pointer(&path, g_free);
  assert_int_equal(qemu_argv_agent_channel(def, "/run/virtfs/test", &idx, &path), 0);
  assert_string_equal(path, "/srv/a,b/qga.sock");
  QemuArgvConfig cfg;
  qemu_argv_case_config(&c, &cfg);
  g_auto(GStrv) argv = NULL;
  g_autofree char *error = NULL;
  assert_int_equal(qemu_argv_build(def, &cfg, &argv, &error), 0);
  bool seen = false;
  for (char **a = argv; *a; a++)
    seen |= strcmp(*a, "socket,id=charchannel2,path=/srv/a,,b/qga.sock,server=on,wait=off") == 0;
  assert_true(seen);

  /* none: no channel, or only ones the daemon cannot connect to */
  g_ptr_array_remove_index(def->xdevices, 2);
  assert_int_equal(qemu_argv_agent_channel(def, "/run/virtfs/test", &idx, &path), -ENOENT);
  g_autoptr(DomainDef) minimal = qemu_argv_minimal_def("minimal");
  assert_int_equal(qemu_argv_agent_channel(minimal, "/run/virtfs/test", &idx, &path), -ENOENT);
}

int main(void) {
  GArray *tests = g_array_new(FALSE, TRUE, sizeof(struct CMUnitTest));
  const struct CMUnitTest fixed[] = {
    cmocka_unit_test(test_escape),
    cmocka_unit_test(test_firmware_select),
    cmocka_unit_test(test_firmware_nvram),
    cmocka_unit_test(test_swtpm_argv),
    cmocka_unit_test(test_tpm_socket_path),
    cmocka_unit_test(test_value_is_safe),
    cmocka_unit_test(test_injection_roundtrip),
    cmocka_unit_test(test_outputs_untouched_on_error),
    cmocka_unit_test(test_config_errors),
    cmocka_unit_test(test_pci_slots_run_out),
    cmocka_unit_test(test_agent_channel),
  };
  g_array_append_vals(tests, fixed, G_N_ELEMENTS(fixed));
  for (size_t i = 0; i < qemu_argv_n_cases; i++) {
    struct CMUnitTest t = {
      .name = qemu_argv_cases[i].name,
      .test_func = test_golden,
      .initial_state = (void *)&qemu_argv_cases[i],
    };
    g_array_append_val(tests, t);
  }
  int r = _cmocka_run_group_tests("qemu_argv", (const struct CMUnitTest *)(void *)tests->data,
                                  tests->len, NULL, NULL);
  g_array_free(tests, TRUE);
  return r;
}
