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

/* ---- tables ---- */

/* <os>: firmware, written explicitly or chosen from QEMU's descriptors */
static const DxElem os_children[] = {
  {"loader", (const DxAttr[]){{"readonly", DXT_ENUM, DX_YESNO},
                              {"secure", DXT_ENUM, DX_YESNO},
                              {"type", DXT_ENUM, LIST("rom", "pflash")},
                              {"format", DXT_ENUM, LIST("raw", "qcow2")},
                              {NULL}},
   NULL, DXT_PATH},
  {"nvram", (const DxAttr[]){{"template", DXT_PATH}, {"format", DXT_ENUM, LIST("raw", "qcow2")},
                             {NULL}},
   NULL, DXT_PATH},
  {"firmware", NULL,
   (const DxElem[]){{"feature",
                     (const DxAttr[]){{"enabled", DXT_ENUM, DX_YESNO, 0, true},
                                      {"name", DXT_ENUM, LIST("enrolled-keys", "secure-boot"),
                                       0, true},
                                      {NULL}},
                     .multiple = true},
                    {NULL}}},
  {NULL},
};
static const DxElem os_row = {"os", NULL, os_children};

static const DxAttr state_attr[] = {{"state", DXT_ENUM, DX_ONOFF}, {NULL}};
static const DxAttr state_required[] = {{"state", DXT_ENUM, DX_ONOFF, 0, true}, {NULL}};

/* Hyper-V enlightenments for Windows guests, as QEMU's hv-* CPU flags. */
static const DxElem hyperv_children[] = {
  {"relaxed", state_required},
  {"vapic", state_required},
  {"spinlocks", (const DxAttr[]){{"state", DXT_ENUM, DX_ONOFF, 0, true},
                                 {"retries", DXT_UINT, NULL, 0xffffffff},
                                 {NULL}}},
  {"vpindex", state_required},
  {"runtime", state_required},
  {"synic", state_required},
  {"stimer", state_required, (const DxElem[]){{"direct", state_required}, {NULL}}},
  {"reset", state_required},
  {"vendor_id", (const DxAttr[]){{"state", DXT_ENUM, DX_ONOFF, 0, true},
                                 {"value", DXT_TOKEN},
                                 {NULL}}},
  {"frequencies", state_required},
  {"reenlightenment", state_required},
  {"tlbflush", state_required},
  {"ipi", state_required},
  {"evmcs", state_required},
  {NULL},
};

static const DxElem features_children[] = {
  {"vmport", state_attr},
  {"smm", state_attr},
  {"hyperv", (const DxAttr[]){{"mode", DXT_ENUM, LIST("custom", "passthrough")}, {NULL}},
   hyperv_children},
  {"kvm", NULL, (const DxElem[]){{"hidden", state_required}, {NULL}}},
  {"ioapic", (const DxAttr[]){{"driver", DXT_ENUM, LIST("qemu", "kvm")}, {NULL}}},
  {"pmu", state_attr},
  {"vmcoreinfo", state_attr},
  {"pvspinlock", state_attr},
  {NULL},
};
static const DxElem features_row = {"features", NULL, features_children};

static const DxElem cpu_children[] = {
  {"feature", (const DxAttr[]){{"policy", DXT_ENUM,
                                LIST("force", "require", "optional", "disable", "forbid"), 0,
                                true},
                               {"name", DXT_TOKEN, NULL, 0, true},
                               {NULL}},
   .multiple = true},
  {NULL},
};
static const DxElem cpu_row = {
  "cpu",
  (const DxAttr[]){{"match", DXT_ENUM, LIST("minimum", "exact", "strict")},
                   {"check", DXT_ENUM, LIST("none", "partial", "full")},
                   {"migratable", DXT_ENUM, DX_ONOFF},
                   {NULL}},
  cpu_children,
};

static const DxElem clock_children[] = {
  {"timer",
   (const DxAttr[]){{"name", DXT_ENUM,
                     LIST("platform", "pit", "rtc", "hpet", "tsc", "kvmclock", "hypervclock"), 0,
                     true},
                    {"track", DXT_ENUM, LIST("boot", "guest", "wall", "realtime")},
                    {"tickpolicy", DXT_ENUM, LIST("delay", "catchup", "merge", "discard")},
                    {"present", DXT_ENUM, DX_YESNO},
                    {NULL}},
   .multiple = true},
  {NULL},
};
static const DxElem clock_row = {"clock", NULL, clock_children};

int dxml_parse_os(ParseState *ps, const xmlNode *n) {
  DomainOs *os = &ps->def->os;
  int r;
  if ((r = dxml_parse_xnode(ps, n, &os_row, LIST("firmware"),
                            LIST("type", "*boot", "bootmenu", "kernel", "initrd", "cmdline"),
                            &os->ext)) < 0)
    return r;
  g_autofree char *firmware = xml_prop(n, "firmware");
  if (firmware && !dxml_in_list(firmware, LIST("efi", "bios")))
    return xml_fail(ps->err, n, "attribute 'firmware' must be one of 'efi', 'bios', not '%s'",
                    firmware);
  os->firmware = g_steal_pointer(&firmware);
  for (const xmlNode *c = n->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE || dxml_row(os_children, (const char *)c->name))
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
  if ((r = dxml_parse_xnode(ps, n, &features_row, NULL, LIST("acpi", "apic", "pae"),
                            &ps->def->features.ext)) < 0)
    return r;
  for (const xmlNode *c = n->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE || dxml_row(features_children, (const char *)c->name))
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
  if ((r = dxml_parse_xnode(ps, n, &cpu_row, LIST("mode"), LIST("model", "topology"),
                            &cpu->ext)) < 0)
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
    if ((r = xml_check_attrs(model, LIST("fallback"), ps->err)) < 0 ||
        (r = dxml_leaf_text(model, true, &text, ps->err)) < 0 ||
        (r = dxml_check_token(model, "the CPU model", text, ps->err)) < 0)
      return r;
    cpu->model = g_steal_pointer(&text);
    g_autofree char *fallback = xml_prop(model, "fallback");
    if (fallback && !dxml_in_list(fallback, LIST("allow", "forbid")))
      return xml_fail(ps->err, model, "attribute 'fallback' must be one of 'allow', 'forbid', "
                      "not '%s'", fallback);
    cpu->model_fallback = g_steal_pointer(&fallback);
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
  if ((r = dxml_parse_xnode(ps, n, &clock_row, LIST("offset"), NULL, &ps->def->clock_ext)) < 0)
    return r;
  g_autofree char *offset = xml_prop(n, "offset");
  if (offset)
    return PARSE_ENUM(domain_clock_offset, n, "attribute 'offset'", offset, &ps->def->clock,
                      ps->err);
  return 0;
}

void dxml_format_os(XmlWriter *w, const DomainOs *os) {
  xml_writer_start(w, "os");
  xml_writer_attr(w, "firmware", os->firmware);
  xml_writer_end_open(w);
  xml_writer_start(w, "type");
  xml_writer_attr(w, "arch", os->arch);
  xml_writer_attr(w, "machine", os->machine);
  xml_writer_end_text(w, os->type ? os->type : "hvm");
  dxml_format_ext_children(w, os->ext);
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

void dxml_format_features(XmlWriter *w, const DomainFeatures *f) {
  if (!f->acpi && !f->apic && !f->pae && !dxml_ext_has_content(f->ext))
    return;
  xml_writer_start(w, "features");
  xml_writer_end_open(w);
  if (f->acpi)
    dxml_format_empty(w, "acpi");
  if (f->apic)
    dxml_format_empty(w, "apic");
  if (f->pae)
    dxml_format_empty(w, "pae");
  dxml_format_ext_children(w, f->ext);
  xml_writer_close(w);
}

void dxml_format_clock(XmlWriter *w, const DomainDef *def) {
  xml_writer_start(w, "clock");
  xml_writer_attr(w, "offset", domain_clock_offset_to_string(def->clock));
  if (!dxml_ext_has_content(def->clock_ext)) {
    xml_writer_end_empty(w);
    return;
  }
  xml_writer_end_open(w);
  dxml_format_ext_children(w, def->clock_ext);
  xml_writer_close(w);
}

void dxml_format_cpu(XmlWriter *w, const DomainCpu *cpu) {
  if (cpu->mode == DOMAIN_CPU_MODE_NONE)
    return;
  bool topo = cpu->sockets || cpu->dies || cpu->cores || cpu->threads;
  xml_writer_start(w, "cpu");
  xml_writer_attr(w, "mode", domain_cpu_mode_to_string(cpu->mode));
  dxml_format_ext_attrs(w, cpu->ext);
  if (!cpu->model && !topo && !dxml_ext_has_content(cpu->ext)) {
    xml_writer_end_empty(w);
    return;
  }
  xml_writer_end_open(w);
  if (cpu->model) {
    xml_writer_start(w, "model");
    xml_writer_attr(w, "fallback", cpu->model_fallback);
    xml_writer_end_text(w, cpu->model);
  }
  if (topo) {
    xml_writer_start(w, "topology");
    xml_writer_attr_printf(w, "sockets", "%u", cpu->sockets);
    xml_writer_attr_printf(w, "dies", "%u", cpu->dies ? cpu->dies : 1);
    xml_writer_attr_printf(w, "cores", "%u", cpu->cores);
    xml_writer_attr_printf(w, "threads", "%u", cpu->threads);
    xml_writer_end_empty(w);
  }
  dxml_format_ext_children(w, cpu->ext);
  xml_writer_close(w);
}
