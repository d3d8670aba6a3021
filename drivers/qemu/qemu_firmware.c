/* qemu_firmware.c — choosing UEFI firmware from QEMU's descriptors and
 * giving each domain its NVRAM; the rules are in qemu_firmware.h. */
#include "drivers/qemu/qemu_firmware.h"
#include "drivers/qemu/qemu_tool.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool qemu_firmware_wanted(const DomainDef *def) {
  return g_strcmp0(def->os.firmware, "efi") == 0 || domain_xnode_child(def->os.ext, "loader") ||
         domain_xnode_child(def->os.ext, "nvram");
}

void qemu_firmware_clear(QemuArgvFirmware *fw) {
  g_clear_pointer(&fw->code, g_free);
  g_clear_pointer(&fw->code_format, g_free);
  g_clear_pointer(&fw->nvram_template, g_free);
  g_clear_pointer(&fw->nvram_path, g_free);
  g_clear_pointer(&fw->nvram_format, g_free);
  fw->secure_boot = fw->requires_smm = false;
}

static bool array_has(JsonObject *o, const char *member, const char *value) {
  JsonArray *a = json_object_has_member(o, member) ? json_object_get_array_member(o, member)
                                                   : NULL;
  for (guint i = 0; a && i < json_array_get_length(a); i++) {
    JsonNode *n = json_array_get_element(a, i);
    if (JSON_NODE_HOLDS_VALUE(n) && g_strcmp0(json_node_get_string(n), value) == 0)
      return true;
  }
  return false;
}

static const char *member_str(JsonObject *o, const char *member) {
  if (!o || !json_object_has_member(o, member))
    return NULL;
  JsonNode *n = json_object_get_member(o, member);
  return JSON_NODE_HOLDS_VALUE(n) ? json_node_get_string(n) : NULL;
}

static JsonObject *member_obj(JsonObject *o, const char *member) {
  if (!o || !json_object_has_member(o, member))
    return NULL;
  JsonNode *n = json_object_get_member(o, member);
  return JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static bool targets_machine(JsonObject *o, bool q35) {
  JsonArray *targets = json_object_has_member(o, "targets")
                           ? json_object_get_array_member(o, "targets")
                           : NULL;
  for (guint i = 0; targets && i < json_array_get_length(targets); i++) {
    JsonObject *t = json_array_get_object_element(targets, i);
    if (!t || g_strcmp0(member_str(t, "architecture"), "x86_64") != 0)
      continue;
    JsonArray *m = json_object_has_member(t, "machines")
                       ? json_object_get_array_member(t, "machines")
                       : NULL;
    for (guint k = 0; m && k < json_array_get_length(m); k++) {
      const char *glob = json_array_get_string_element(m, k);
      if (glob && g_pattern_match_simple(glob, q35 ? "pc-q35-7.2" : "pc-i440fx-7.2"))
        return true;
    }
  }
  return false;
}

int qemu_firmware_select(const DomainDef *def, const char *const *descriptors, size_t n,
                         QemuArgvFirmware *ret, char **ret_error) {
  const DomainOs *os = &def->os;
  const DomainXNode *loader = domain_xnode_child(os->ext, "loader");
  const DomainXNode *nvram = domain_xnode_child(os->ext, "nvram");
  const DomainXNode *features = domain_xnode_child(os->ext, "firmware");
  const char *machine = os->machine ? os->machine : "pc";
  bool q35 = strcmp(machine, "q35") == 0 || g_str_has_prefix(machine, "pc-q35-");
  QemuArgvFirmware fw = {0};

  if (loader && loader->text) {
    if (domain_xnode_is(loader, "type", "rom")) {
      if (ret_error)
        *ret_error = g_strdup("<loader type='rom'> is not supported: use type='pflash'");
      return -EOPNOTSUPP;
    }
    fw.code = g_strdup(loader->text);
    const char *format = domain_xnode_attr(loader, "format");
    fw.code_format = g_strdup(format ? format : "raw");
    fw.secure_boot = domain_xnode_is(loader, "secure", "yes");
    fw.requires_smm = fw.secure_boot;
  } else {
    bool secure_wanted = domain_xnode_is(loader, "secure", "yes");
    for (size_t i = 0; i < n && !fw.code; i++) {
      g_autoptr(JsonParser) p = json_parser_new();
      if (!json_parser_load_from_data(p, descriptors[i], -1, NULL))
        continue;
      JsonNode *root = json_parser_get_root(p);
      JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
      JsonObject *mapping = member_obj(o, "mapping");
      if (!o || !array_has(o, "interface-types", "uefi") ||
          g_strcmp0(member_str(mapping, "device"), "flash") != 0 || !targets_machine(o, q35))
        continue;
      bool ok = !secure_wanted || array_has(o, "features", "secure-boot");
      for (guint k = 0; ok && features && k < features->children->len; k++) {
        const DomainXNode *f = features->children->pdata[k];
        bool has = array_has(o, "features", domain_xnode_attr(f, "name"));
        ok = domain_xnode_is(f, "enabled", "yes") ? has : !has;
      }
      JsonObject *exe = member_obj(mapping, "executable");
      if (!ok || !member_str(exe, "filename"))
        continue;
      JsonObject *tmpl = member_obj(mapping, "nvram-template");
      fw.code = g_strdup(member_str(exe, "filename"));
      fw.code_format = g_strdup(member_str(exe, "format") ? member_str(exe, "format") : "raw");
      fw.nvram_template = g_strdup(member_str(tmpl, "filename"));
      fw.nvram_format = g_strdup(member_str(tmpl, "format") ? member_str(tmpl, "format") : "raw");
      fw.secure_boot = array_has(o, "features", "secure-boot");
      fw.requires_smm = array_has(o, "features", "requires-smm");
    }
    if (!fw.code) {
      if (ret_error)
        *ret_error = g_strdup_printf("no UEFI firmware in %s fits this domain (machine %s, the "
                                     "requested features); is the ovmf package installed?",
                                     QEMU_FIRMWARE_DIR, machine);
      return -ENOENT;
    }
  }
  if (nvram) {
    if (nvram->text && *nvram->text)
      fw.nvram_path = g_strdup(nvram->text);
    if (domain_xnode_attr(nvram, "template")) {
      g_free(fw.nvram_template);
      fw.nvram_template = g_strdup(domain_xnode_attr(nvram, "template"));
    }
    if (domain_xnode_attr(nvram, "format")) {
      g_free(fw.nvram_format);
      fw.nvram_format = g_strdup(domain_xnode_attr(nvram, "format"));
    }
  }
  if (!fw.nvram_format)
    fw.nvram_format = g_strdup("raw");
  *ret = fw;
  return 0;
}

static int copy_file(const char *from, const char *to, char **ret_error) {
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) err = NULL;
  if (!g_file_get_contents(from, &data, &len, &err)) {
    if (ret_error)
      *ret_error = g_strdup_printf("cannot read the NVRAM template: %s", err->message);
    return -EIO;
  }
  g_autofree char *tmp = g_strdup_printf("%s.tmp", to);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
  if (fd >= 0)
    close(fd);
  if (!ok || rename(tmp, to) < 0) {
    int e = errno;
    g_unlink(tmp);
    if (ret_error)
      *ret_error = g_strdup_printf("cannot create the NVRAM file %s: %s", to, g_strerror(e));
    return -EIO;
  }
  return 0;
}

/* g_ptr_array_sort passes pointers to the elements */
static gint cmp_names(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *nvram_file(const char *state_dir, const char *uuid, const char *suffix) {
  g_autofree char *file = g_strdup_printf("%s_VARS.%s", uuid, suffix);
  return g_build_filename(state_dir, "nvram", file, NULL);
}

void qemu_firmware_nvram(const DomainDef *def, const char *state_dir, char **ret_path,
                         char **ret_format) {
  const DomainXNode *nvram = domain_xnode_child(def->os.ext, "nvram");
  if (nvram && nvram->text && *nvram->text) {
    *ret_path = g_strdup(nvram->text);
    const char *format = domain_xnode_attr(nvram, "format");
    *ret_format = g_strdup(format ? format : "raw");
    return;
  }
  g_autofree char *qcow2 = nvram_file(state_dir, def->uuid, "qcow2");
  g_autofree char *legacy = nvram_file(state_dir, def->uuid, "fd");
  if (!g_file_test(qcow2, G_FILE_TEST_EXISTS) && g_file_test(legacy, G_FILE_TEST_EXISTS)) {
    *ret_path = g_steal_pointer(&legacy);
    *ret_format = g_strdup("raw");
    return;
  }
  *ret_path = g_steal_pointer(&qcow2);
  *ret_format = g_strdup("qcow2");
}

/* Writes `from` (in `from_format`: never probed) to `to` as a qcow2 image,
 * mode 0600, whole or not at all. */
static int convert_to_qcow2(const char *from, const char *from_format, const char *to,
                            char **ret_error) {
  g_autofree char *tmp = g_strdup_printf("%s.tmp", to);
  const char *argv[] = {"qemu-img", "convert", "-f", from_format, "-O", "qcow2", from, tmp,
                        NULL};
  g_autofree char *why = NULL;
  g_unlink(tmp);
  int r = qemu_tool_run(argv, NULL, &why);
  if (r == 0 && (chmod(tmp, 0600) < 0 || rename(tmp, to) < 0)) {
    why = g_strdup(g_strerror(errno));
    r = -EIO;
  }
  if (r < 0) {
    g_unlink(tmp);
    if (ret_error)
      *ret_error = g_strdup_printf("cannot create the NVRAM file %s from %s: %s", to, from, why);
    return -EIO;
  }
  return 0;
}

/* The NVRAM virtfs keeps for a domain without an <nvram> path: qcow2, so
 * that snapshots take it with the disks (QEMU takes qcow2 for pflash). One
 * kept raw by an earlier version is converted once, its variables kept. */
static int prepare_own_nvram(const DomainDef *def, const char *state_dir, QemuArgvFirmware *fw,
                             char **ret_error) {
  g_autofree char *nv_dir = g_build_filename(state_dir, "nvram", NULL);
  if (g_mkdir_with_parents(nv_dir, 0700) < 0) {
    if (ret_error)
      *ret_error = g_strdup_printf("cannot create %s: %s", nv_dir, g_strerror(errno));
    return -EIO;
  }
  /* What select put in nvram_format is the template's format. */
  g_autofree char *template_format = g_steal_pointer(&fw->nvram_format);
  fw->nvram_path = nvram_file(state_dir, def->uuid, "qcow2");
  fw->nvram_format = g_strdup("qcow2");
  if (g_file_test(fw->nvram_path, G_FILE_TEST_EXISTS))
    return 0;
  g_autofree char *legacy = nvram_file(state_dir, def->uuid, "fd");
  if (g_file_test(legacy, G_FILE_TEST_EXISTS)) {
    int r = convert_to_qcow2(legacy, "raw", fw->nvram_path, ret_error);
    if (r == 0)
      g_unlink(legacy);
    return r;
  }
  if (!fw->nvram_template) {
    if (ret_error)
      *ret_error = g_strdup_printf("the NVRAM file %s does not exist and no template is "
                                   "known (add <nvram template='...'>)", fw->nvram_path);
    return -ENOENT;
  }
  return convert_to_qcow2(fw->nvram_template, template_format ? template_format : "raw",
                          fw->nvram_path, ret_error);
}

int qemu_firmware_prepare(const DomainDef *def, const char *dir, const char *state_dir,
                          QemuArgvFirmware *ret, char **ret_error) {
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d)))
    if (g_str_has_suffix(name, ".json"))
      g_ptr_array_add(names, g_strdup(name));
  g_ptr_array_sort(names, cmp_names);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *path = g_build_filename(dir, names->pdata[i], NULL);
    char *text = NULL;
    if (g_file_get_contents(path, &text, NULL, NULL))
      g_ptr_array_add(texts, text);
  }
  QemuArgvFirmware fw = {0};
  int r = qemu_firmware_select(def, (const char *const *)texts->pdata, texts->len, &fw,
                               ret_error);
  if (r < 0)
    return r;
  if (!fw.nvram_path) {
    if ((r = prepare_own_nvram(def, state_dir, &fw, ret_error)) < 0) {
      qemu_firmware_clear(&fw);
      return r;
    }
  } else if (!g_file_test(fw.nvram_path, G_FILE_TEST_EXISTS)) {
    if (!fw.nvram_template) {
      if (ret_error)
        *ret_error = g_strdup_printf("the NVRAM file %s does not exist and no template is "
                                     "known (add <nvram template='...'>)", fw.nvram_path);
      qemu_firmware_clear(&fw);
      return -ENOENT;
    }
    if ((r = copy_file(fw.nvram_template, fw.nvram_path, ret_error)) < 0) {
      qemu_firmware_clear(&fw);
      return r;
    }
  }
  *ret = fw;
  return 0;
}

void qemu_firmware_remove_nvram(const char *state_dir, const char *uuid) {
  g_autofree char *qcow2 = nvram_file(state_dir, uuid, "qcow2");
  g_autofree char *legacy = nvram_file(state_dir, uuid, "fd");
  g_unlink(qcow2);
  g_unlink(legacy);
}
