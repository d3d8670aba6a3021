/* domain_xml_os.c — <os>, <features>, <cpu> and <clock> of the domain XML:
 * boot devices, direct kernel boot, CPU mode/model/topology, clock offset.
 *
 * Part of the domain XML parser and formatter; shared state and helpers are
 * in domain_xml_priv.h. Pure: no I/O, no mutable globals. */
#include "objects/domain_xml_priv.h"

#include <string.h>

DEFINE_CHOICES(domain_boot_dev, DomainBootDev, 0)

DEFINE_CHOICES(domain_cpu_mode, DomainCpuMode, 1)

DEFINE_CHOICES(domain_clock_offset, DomainClockOffset, 0)

int dxml_parse_os(ParseState *ps, const xmlNode *n) {
  DomainOs *os = &ps->def->os;
  int r;
  if ((r = xml_check_attrs(n, NONE_LIST, ps->err)) < 0 ||
      (r = xml_check_children(n, LIST("type", "boot", "bootmenu", "kernel", "initrd", "cmdline"),
                              LIST("type", "bootmenu", "kernel", "initrd", "cmdline"),
                              ps->err)) < 0)
    return r;
  for (const xmlNode *c = n->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    const char *name = (const char *)c->name;
    if (strcmp(name, "type") == 0) {
      if ((r = xml_check_attrs(c, LIST("arch", "machine"), ps->err)) < 0)
        return r;
      g_autofree char *type = NULL;
      if ((r = dxml_leaf_text(c, true, &type, ps->err)) < 0)
        return r;
      if (strcmp(type, "hvm") != 0)
        return xml_fail(ps->err, c, "the OS type must be 'hvm', not '%s'", type);
      g_autofree char *arch = xml_prop(c, "arch");
      if (arch && !dxml_in_list(arch, LIST("x86_64", "i686")))
        return xml_fail(ps->err, c, "attribute 'arch' must be 'x86_64' or 'i686', not '%s'",
                        arch);
      g_autofree char *machine = xml_prop(c, "machine");
      if (machine && (r = dxml_check_token(c, "attribute 'machine'", machine, ps->err)) < 0)
        return r;
      if (arch) {
        g_free(os->arch);
        os->arch = g_steal_pointer(&arch);
      }
      if (machine) {
        g_free(os->machine);
        os->machine = g_steal_pointer(&machine);
      }
    } else if (strcmp(name, "boot") == 0) {
      if ((r = dxml_empty_element(c, LIST("dev"), ps->err)) < 0)
        return r;
      g_autofree char *dev = NULL;
      DomainBootDev b;
      if ((r = dxml_require_prop(c, "dev", &dev, ps->err)) < 0 ||
          (r = PARSE_ENUM(domain_boot_dev, c, "attribute 'dev'", dev, &b, ps->err)) < 0)
        return r;
      for (size_t i = 0; i < os->nboot; i++)
        if (os->boot[i] == b)
          return xml_fail(ps->err, c, "boot device '%s' is listed twice", dev);
      /* four names, no repeats: the array cannot overflow */
      os->boot[os->nboot++] = b;
    } else if (strcmp(name, "bootmenu") == 0) {
      if ((r = dxml_empty_element(c, LIST("enable"), ps->err)) < 0)
        return r;
      bool present = false;
      if ((r = xml_prop_yesno(c, "enable", &os->bootmenu, &present, ps->err)) < 0)
        return r;
      if (!present)
        return xml_fail(ps->err, c, "attribute 'enable' is required");
      os->bootmenu_set = true;
    } else {
      /* kernel, initrd, cmdline */
      g_autofree char *text = NULL;
      if ((r = dxml_text_element(c, true, &text, ps->err)) < 0)
        return r;
      if (!*text)
        continue;
      if (strcmp(name, "cmdline") == 0) {
        if (dxml_has_control(text))
          return xml_fail(ps->err, c, "the kernel command line must be one line");
        os->cmdline = g_steal_pointer(&text);
        continue;
      }
      if ((r = dxml_check_path(c, name, text, ps->err)) < 0)
        return r;
      if (strcmp(name, "kernel") == 0)
        os->kernel = g_steal_pointer(&text);
      else
        os->initrd = g_steal_pointer(&text);
    }
  }
  if ((os->initrd || os->cmdline) && !os->kernel)
    return xml_fail(ps->err, n, "<initrd> and <cmdline> need a <kernel>");
  return 0;
}

int dxml_parse_features(ParseState *ps, const xmlNode *n) {
  int r;
  if ((r = xml_check_attrs(n, NONE_LIST, ps->err)) < 0 ||
      (r = xml_check_children(n, LIST("acpi", "apic", "pae"), LIST("acpi", "apic", "pae"),
                              ps->err)) < 0)
    return r;
  for (const xmlNode *c = n->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    if ((r = dxml_empty_element(c, NONE_LIST, ps->err)) < 0)
      return r;
    const char *name = (const char *)c->name;
    if (strcmp(name, "acpi") == 0)
      ps->def->features.acpi = true;
    else if (strcmp(name, "apic") == 0)
      ps->def->features.apic = true;
    else
      ps->def->features.pae = true;
  }
  return 0;
}

int dxml_parse_cpu(ParseState *ps, const xmlNode *n) {
  DomainCpu *cpu = &ps->def->cpu;
  int r;
  if ((r = xml_check_attrs(n, LIST("mode"), ps->err)) < 0 ||
      (r = xml_check_children(n, LIST("model", "topology"), LIST("model", "topology"),
                              ps->err)) < 0)
    return r;
  cpu->mode = DOMAIN_CPU_MODE_CUSTOM;
  g_autofree char *mode = xml_prop(n, "mode");
  if (mode) {
    if ((r = PARSE_ENUM(domain_cpu_mode, n, "attribute 'mode'", mode, &cpu->mode, ps->err)) < 0)
      return r;
    if (cpu->mode == DOMAIN_CPU_MODE_NONE)
      return dxml_bad_choice(ps->err, n, "attribute 'mode'", mode, domain_cpu_mode_choices());
  }
  const xmlNode *model = xml_child(n, "model");
  if (model) {
    if (cpu->mode != DOMAIN_CPU_MODE_CUSTOM)
      return xml_fail(ps->err, model, "a CPU model is only used with mode='custom', not '%s'",
                      domain_cpu_mode_to_string(cpu->mode));
    g_autofree char *text = NULL;
    if ((r = dxml_text_element(model, true, &text, ps->err)) < 0 ||
        (r = dxml_check_token(model, "the CPU model", text, ps->err)) < 0)
      return r;
    cpu->model = g_steal_pointer(&text);
  }
  const xmlNode *topo = xml_child(n, "topology");
  if (topo) {
    if ((r = dxml_empty_element(topo, LIST("sockets", "dies", "cores", "threads"), ps->err)) < 0)
      return r;
    static const char *const names[] = {"sockets", "dies", "cores", "threads"};
    unsigned *fields[] = {&cpu->sockets, &cpu->dies, &cpu->cores, &cpu->threads};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
      bool set = false;
      if ((r = dxml_prop_u(topo, names[i], DOMAIN_MAX_VCPUS, fields[i], &set, ps->err)) < 0)
        return r;
      if (!set && i == 1)
        *fields[i] = 1; /* dies are optional, as in libvirt */
      else if (!set)
        return xml_fail(ps->err, topo, "attribute '%s' is required", names[i]);
      if (*fields[i] == 0)
        return xml_fail(ps->err, topo, "attribute '%s' must be at least 1", names[i]);
    }
    uint64_t total = (uint64_t)cpu->sockets * cpu->dies * cpu->cores * cpu->threads;
    if (total != ps->def->vcpus)
      return xml_fail(ps->err, topo, "the topology gives %" G_GUINT64_FORMAT " vCPUs but "
                      "<vcpu> says %u", total, ps->def->vcpus);
  }
  return 0;
}

int dxml_parse_clock(ParseState *ps, const xmlNode *n) {
  int r;
  if ((r = dxml_empty_element(n, LIST("offset"), ps->err)) < 0)
    return r;
  g_autofree char *offset = xml_prop(n, "offset");
  if (offset)
    return PARSE_ENUM(domain_clock_offset, n, "attribute 'offset'", offset, &ps->def->clock,
                      ps->err);
  return 0;
}

void dxml_format_os(XmlWriter *w, const DomainOs *os) {
  xml_writer_start(w, "os");
  xml_writer_end_open(w);
  xml_writer_start(w, "type");
  xml_writer_attr(w, "arch", os->arch);
  xml_writer_attr(w, "machine", os->machine);
  xml_writer_end_text(w, os->type ? os->type : "hvm");
  xml_writer_text_element(w, "kernel", os->kernel);
  xml_writer_text_element(w, "initrd", os->initrd);
  xml_writer_text_element(w, "cmdline", os->cmdline);
  for (size_t i = 0; i < os->nboot && i < DOMAIN_MAX_BOOT_DEVS; i++) {
    xml_writer_start(w, "boot");
    xml_writer_attr(w, "dev", domain_boot_dev_to_string(os->boot[i]));
    xml_writer_end_empty(w);
  }
  if (os->bootmenu_set) {
    xml_writer_start(w, "bootmenu");
    xml_writer_attr(w, "enable", os->bootmenu ? "yes" : "no");
    xml_writer_end_empty(w);
  }
  xml_writer_close(w);
}

void dxml_format_cpu(XmlWriter *w, const DomainCpu *cpu) {
  if (cpu->mode == DOMAIN_CPU_MODE_NONE)
    return;
  bool topo = cpu->sockets || cpu->dies || cpu->cores || cpu->threads;
  xml_writer_start(w, "cpu");
  xml_writer_attr(w, "mode", domain_cpu_mode_to_string(cpu->mode));
  if (!cpu->model && !topo) {
    xml_writer_end_empty(w);
    return;
  }
  xml_writer_end_open(w);
  xml_writer_text_element(w, "model", cpu->model);
  if (topo) {
    xml_writer_start(w, "topology");
    xml_writer_attr_printf(w, "sockets", "%u", cpu->sockets);
    xml_writer_attr_printf(w, "dies", "%u", cpu->dies ? cpu->dies : 1);
    xml_writer_attr_printf(w, "cores", "%u", cpu->cores);
    xml_writer_attr_printf(w, "threads", "%u", cpu->threads);
    xml_writer_end_empty(w);
  }
  xml_writer_close(w);
}
