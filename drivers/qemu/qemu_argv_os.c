/* qemu_argv_os.c — the global part of QEMU's command line: -name, -machine,
 * -cpu, -m, -smp, -uuid, -rtc, lifecycle, boot menu and direct kernel boot,
 * and the host checks (virt type, arch, machine) made before anything else.
 * Part of the builder; see qemu_argv_priv.h. */
#include "drivers/qemu/qemu_argv_priv.h"

static bool machine_is_q35(const char *m) {
  return strcmp(m, "q35") == 0 || g_str_has_prefix(m, "pc-q35-");
}

static bool machine_is_i440fx(const char *m) {
  /* "pc", "pc-i440fx-7.2" and the old aliases "pc-1.0" etc. */
  return strcmp(m, "pc") == 0 || g_str_has_prefix(m, "pc-i440fx-") ||
         (g_str_has_prefix(m, "pc-") && g_ascii_isdigit(m[3]));
}

/* Model and machine names: -cpu splits at commas without QEMU's escape, so
 * these are held to a plain character set. */
static bool is_plain_name(const char *s) {
  if (!s || !*s)
    return false;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '.' && *p != '_' && *p != '-')
      return false;
  return strcmp(s, "help") != 0;
}

static bool uuid_is_valid(const char *u) {
  if (strlen(u) != 36)
    return false;
  for (int i = 0; i < 36; i++) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? u[i] != '-' : !g_ascii_isxdigit(u[i]))
      return false;
  }
  return true;
}

static const char *lifecycle_name(DomainLifecycleAction a) {
  switch (a) {
  case DOMAIN_LIFECYCLE_DESTROY: return "destroy";
  case DOMAIN_LIFECYCLE_RESTART: return "restart";
  case DOMAIN_LIFECYCLE_PRESERVE: return "preserve";
  case DOMAIN_LIFECYCLE_RENAME_RESTART: return "rename-restart";
  }
  return "unknown";
}

/* UEFI: the code read-only in pflash0, the domain's variables in pflash1
 * (see qemu_firmware.h for how they are chosen). */
static void build_pflash(Builder *b, const QemuArgvFirmware *fw) {
  const char *paths[2] = {fw->code, fw->nvram_path};
  const char *formats[2] = {fw->code_format, fw->nvram_format};
  for (int i = 0; i < 2; i++) {
    g_autofree char *file = g_strdup_printf("pflash%d-file", i);
    g_autofree char *format = g_strdup_printf("pflash%d-format", i);
    GString *s = opts_new("");
    qemu_opt_append(s, "driver", "file");
    opt_path(b, s, "filename", i ? "the NVRAM path" : "the firmware path", paths[i]);
    qemu_opt_append(s, "node-name", file);
    if (i == 0)
      qemu_opt_append(s, "read-only", "on");
    arg_opts(b, "-blockdev", s);
    s = opts_new("");
    qemu_opt_append(s, "driver", g_strcmp0(formats[i], "qcow2") == 0 ? "qcow2" : "raw");
    qemu_opt_append(s, "node-name", format);
    qemu_opt_append(s, "file", file);
    if (i == 0)
      qemu_opt_append(s, "read-only", "on");
    arg_opts(b, "-blockdev", s);
  }
  if (fw->requires_smm) {
    /* only SMM code may write the variables: what makes Secure Boot hold */
    arg(b, "-global");
    arg(b, "driver=cfi.pflash01,property=secure,value=on");
  }
}

static void build_machine(Builder *b) {
  const DomainDef *def = b->def;
  const char *machine = def->os.machine ? def->os.machine : "pc";

  GString *s = opts_new("");
  opt_str(b, s, "type", "the machine type", machine);
  if (def->virt_type == DOMAIN_VIRT_KVM)
    qemu_opt_append(s, "accel", "kvm");
  else
    qemu_opt_append(s, "accel", "tcg");
  /* Guest RAM stays out of QEMU's core dumps. */
  qemu_opt_append(s, "dump-guest-core", "off");
  /* -no-acpi is deprecated since 7.2; the machine property replaces it. */
  if (!def->features.acpi)
    qemu_opt_append(s, "acpi", "off");
  const DomainXNode *f = def->features.ext;
  const char *vmport = domain_xnode_attr(domain_xnode_child(f, "vmport"), "state");
  const char *smm = domain_xnode_attr(domain_xnode_child(f, "smm"), "state");
  if (vmport)
    qemu_opt_append(s, "vmport", vmport);
  if (smm)
    qemu_opt_append(s, "smm", smm);
  const DomainXNode *ioapic = domain_xnode_child(f, "ioapic");
  if (ioapic) {
    /* the IOAPIC in QEMU (split irqchip) or in KVM: a KVM choice */
    if (def->virt_type != DOMAIN_VIRT_KVM)
      fail(b, -EOPNOTSUPP, "<ioapic driver=...> chooses between KVM's and QEMU's IOAPIC and "
                           "needs <domain type='kvm'>");
    else
      qemu_opt_append(s, "kernel_irqchip",
                      domain_xnode_is(ioapic, "driver", "qemu") ? "split" : "on");
  }
  /* timers that are machine properties: present='no' turns them off */
  const GPtrArray *timers = def->clock_ext ? def->clock_ext->children : NULL;
  for (guint i = 0; timers && i < timers->len; i++) {
    const DomainXNode *t = timers->pdata[i];
    const char *name = domain_xnode_attr(t, "name");
    const char *present = domain_xnode_attr(t, "present");
    if (present && (g_strcmp0(name, "hpet") == 0 || g_strcmp0(name, "pit") == 0))
      qemu_opt_append(s, name, strcmp(present, "yes") == 0 ? "on" : "off");
  }
  const QemuArgvFirmware *fw = b->cfg->firmware;
  bool uefi = fw && (g_strcmp0(def->os.firmware, "efi") == 0 ||
                     domain_xnode_child(def->os.ext, "loader") ||
                     domain_xnode_child(def->os.ext, "nvram"));
  if (domain_xnode_child(def->root_ext, "memoryBacking"))
    qemu_opt_append(s, "memory-backend", "pc.ram");
  if (uefi) {
    qemu_opt_append(s, "pflash0", "pflash0-format");
    qemu_opt_append(s, "pflash1", "pflash1-format");
    if (fw->requires_smm && !smm)
      qemu_opt_append(s, "smm", "on");
  }
  arg_opts(b, "-machine", s);
  if (uefi)
    build_pflash(b, fw);
}

static uint64_t kib_of(const char *value, const char *unit) {
  uint64_t v = g_ascii_strtoull(value, NULL, 10);
  if (g_strcmp0(unit, "GiB") == 0)
    return v << 20;
  if (g_strcmp0(unit, "MiB") == 0)
    return v << 10;
  return v;
}

/* -m with <maxMemory slots> (hotplug room), the RAM backend of
 * <memoryBacking> (memfd or hugepages, shared, preallocated, discarded,
 * locked) and one -object iothread per <iothreads>. */
static void build_memory(Builder *b) {
  const DomainDef *def = b->def;
  const DomainXNode *max = domain_xnode_child(def->root_ext, "maxMemory");
  GString *s = g_string_new(NULL);
  g_string_append_printf(s, "size=%" PRIu64 "k", def->memory_kib);
  if (max) {
    uint64_t maxkib = kib_of(max->text, domain_xnode_attr(max, "unit"));
    if (maxkib < def->memory_kib) {
      fail(b, -EINVAL, "<maxMemory> is less than <memory>");
    } else {
      qemu_opt_append(s, "slots", domain_xnode_attr(max, "slots"));
      optf(s, "maxmem", "%" PRIu64 "k", maxkib);
    }
  }
  arg_opts(b, "-m", s);

  const DomainXNode *mb = domain_xnode_child(def->root_ext, "memoryBacking");
  if (mb) {
    const DomainXNode *huge = domain_xnode_child(mb, "hugepages");
    const char *source = domain_xnode_attr(domain_xnode_child(mb, "source"), "type");
    bool shared = domain_xnode_is(domain_xnode_child(mb, "access"), "mode", "shared");
    bool prealloc = domain_xnode_is(domain_xnode_child(mb, "allocation"), "mode", "immediate");
    if (g_strcmp0(source, "file") == 0) {
      fail(b, -EOPNOTSUPP, "<memoryBacking><source type='file'> needs a memory directory "
                           "virtfs does not configure: use memfd or hugepages");
      return;
    }
    GString *o = opts_new("");
    if (huge) {
      /* the host's hugetlbfs; QEMU says at start if it has no huge pages */
      qemu_opt_append(o, "qom-type", "memory-backend-file");
      qemu_opt_append(o, "id", "pc.ram");
      qemu_opt_append(o, "mem-path", "/dev/hugepages");
    } else if (g_strcmp0(source, "memfd") == 0 || shared) {
      qemu_opt_append(o, "qom-type", "memory-backend-memfd");
      qemu_opt_append(o, "id", "pc.ram");
    } else {
      qemu_opt_append(o, "qom-type", "memory-backend-ram");
      qemu_opt_append(o, "id", "pc.ram");
    }
    optf(o, "size", "%" PRIu64 "k", def->memory_kib);
    if (shared)
      qemu_opt_append(o, "share", "on");
    if (prealloc)
      qemu_opt_append(o, "prealloc", "on");
    /* discard-data is a property of file-backed memory (hugepages); memfd
     * and anonymous memory are released with the process anyway */
    if (domain_xnode_child(mb, "discard") && huge)
      qemu_opt_append(o, "discard-data", "on");
    if (domain_xnode_child(mb, "nosharepages"))
      qemu_opt_append(o, "merge", "off");
    arg_opts(b, "-object", o);
    if (domain_xnode_child(mb, "locked")) {
      arg(b, "-overcommit");
      arg(b, "mem-lock=on");
    }
  }

  const char *threads = domain_xnode_attr_text(def->root_ext, "iothreads");
  guint64 n = threads ? g_ascii_strtoull(threads, NULL, 10) : 0;
  for (guint64 i = 1; i <= n && i <= 1024; i++) {
    arg(b, "-object");
    g_ptr_array_add(b->argv, g_strdup_printf("iothread,id=iothread%" G_GUINT64_FORMAT, i));
  }
}

/* <pm>: ACPI S3/S4 are properties of the chipset's power management. */
static void build_pm(Builder *b) {
  const DomainXNode *pm = b->def->pm;
  const char *dev = b->q35 ? "ICH9-LPC" : "PIIX4_PM";
  static const char *const states[][2] = {{"suspend-to-mem", "disable_s3"},
                                          {"suspend-to-disk", "disable_s4"}};
  for (size_t i = 0; pm && i < G_N_ELEMENTS(states); i++) {
    const char *enabled = domain_xnode_attr(domain_xnode_child(pm, states[i][0]), "enabled");
    if (!enabled)
      continue;
    arg(b, "-global");
    g_ptr_array_add(b->argv, g_strdup_printf("%s.%s=%d", dev, states[i][1],
                                             strcmp(enabled, "no") == 0));
  }
}

/* <clock><timer>: what is not a machine property (see build_machine). */
static void build_timers(Builder *b, GString *rtc) {
  const DomainDef *def = b->def;
  bool kvm = def->virt_type == DOMAIN_VIRT_KVM;
  const GPtrArray *timers = def->clock_ext ? def->clock_ext->children : NULL;
  for (guint i = 0; timers && i < timers->len; i++) {
    const DomainXNode *t = timers->pdata[i];
    const char *name = domain_xnode_attr(t, "name");
    const char *tick = domain_xnode_attr(t, "tickpolicy");
    const char *present = domain_xnode_attr(t, "present");
    const char *track = domain_xnode_attr(t, "track");
    if (g_strcmp0(name, "rtc") == 0) {
      if (g_strcmp0(present, "no") == 0) {
        fail(b, -EOPNOTSUPP, "the RTC of a PC cannot be removed (<timer name='rtc' present='no'>)");
        return;
      }
      if (g_strcmp0(tick, "catchup") == 0)
        qemu_opt_append(rtc, "driftfix", "slew");
      else if (tick && strcmp(tick, "delay") != 0) {
        fail(b, -EOPNOTSUPP, "the RTC tick policies are catchup and delay, not '%s'", tick);
        return;
      }
      if (track)
        qemu_opt_append(rtc, "clock", strcmp(track, "guest") == 0 ? "vm"
                                     : strcmp(track, "realtime") == 0 ? "rt" : "host");
    } else if (g_strcmp0(name, "pit") == 0) {
      /* the lost-tick policy belongs to KVM's in-kernel PIT; QEMU's own PIT
       * (TCG) delivers late ticks late, which is 'delay' */
      if (tick && kvm) {
        arg(b, "-global");
        g_ptr_array_add(b->argv, g_strdup_printf("kvm-pit.lost_tick_policy=%s",
                                                 strcmp(tick, "catchup") == 0 ? "slew" : tick));
      } else if (tick && strcmp(tick, "delay") != 0) {
        fail(b, -EOPNOTSUPP, "PIT tick policy '%s' needs KVM's PIT: use <domain type='kvm'> "
                             "or tickpolicy='delay'", tick);
        return;
      }
    } else if (g_strcmp0(name, "hpet") == 0 || g_strcmp0(name, "kvmclock") == 0 ||
               g_strcmp0(name, "hypervclock") == 0) {
      if (tick) {
        fail(b, -EOPNOTSUPP, "timer '%s' has no tick policy in QEMU", name);
        return;
      }
      /* present: -machine (hpet) or -cpu flags (kvmclock, hypervclock) */
    } else {
      fail(b, -EOPNOTSUPP, "timer '%s' is not supported by the QEMU driver", name);
      return;
    }
  }
}

/* Hyper-V enlightenments and their QEMU names; spinlocks and vendor_id
 * carry a value. */
static const char *const hyperv_flags[][2] = {
  {"relaxed", "hv-relaxed"},   {"vapic", "hv-vapic"},       {"spinlocks", "hv-spinlocks"},
  {"vpindex", "hv-vpindex"},   {"runtime", "hv-runtime"},   {"synic", "hv-synic"},
  {"stimer", "hv-stimer"},     {"reset", "hv-reset"},       {"vendor_id", "hv-vendor-id"},
  {"frequencies", "hv-frequencies"}, {"reenlightenment", "hv-reenlightenment"},
  {"tlbflush", "hv-tlbflush"}, {"ipi", "hv-ipi"},           {"evmcs", "hv-evmcs"},
};

/* The ",flag=value" suffix of -cpu: <feature> policies, hyperv, kvm
 * hidden, pmu, and the timers that are CPU flags. Names are tokens
 * (checked by the parser) and go through is_plain_name() again here. */
static void cpu_flags(Builder *b, GString *s) {
  const DomainDef *def = b->def;
  bool kvm = def->virt_type == DOMAIN_VIRT_KVM;
  const DomainXNode *cpu = def->cpu.ext;
  for (guint i = 0; cpu && i < cpu->children->len; i++) {
    const DomainXNode *f = cpu->children->pdata[i];
    const char *name = domain_xnode_attr(f, "name");
    const char *policy = domain_xnode_attr(f, "policy");
    if (!is_plain_name(name)) {
      fail(b, -EINVAL, "a CPU feature name may only contain letters, digits, '.', '_' and '-'");
      return;
    }
    bool on = g_strcmp0(policy, "disable") != 0 && g_strcmp0(policy, "forbid") != 0;
    g_string_append_printf(s, ",%s=%s", name, on ? "on" : "off");
  }
  if (domain_xnode_is(cpu, "check", "full"))
    g_string_append(s, ",enforce=on");

  const DomainXNode *hv = domain_xnode_child(def->features.ext, "hyperv");
  if (domain_xnode_is(hv, "mode", "passthrough")) {
    if (!kvm)
      fail(b, -EOPNOTSUPP, "<hyperv mode='passthrough'> needs KVM");
    g_string_append(s, ",hv-passthrough=on");
  }
  for (guint i = 0; hv && i < hv->children->len; i++) {
    const DomainXNode *e = hv->children->pdata[i];
    const char *qname = NULL;
    for (size_t k = 0; k < G_N_ELEMENTS(hyperv_flags) && !qname; k++)
      if (strcmp(e->name, hyperv_flags[k][0]) == 0)
        qname = hyperv_flags[k][1];
    bool on = domain_xnode_is(e, "state", "on");
    if (strcmp(e->name, "spinlocks") == 0 && on) {
      const char *retries = domain_xnode_attr(e, "retries");
      g_string_append_printf(s, ",%s=0x%" G_GINT64_MODIFIER "x", qname,
                             retries ? g_ascii_strtoull(retries, NULL, 10) : (guint64)0x1fff);
    } else if (strcmp(e->name, "vendor_id") == 0 && on) {
      const char *value = domain_xnode_attr(e, "value");
      if (value && is_plain_name(value) && strlen(value) <= 12)
        g_string_append_printf(s, ",%s=%s", qname, value);
      else
        fail(b, -EINVAL, "<hyperv><vendor_id> needs a value of at most 12 letters or digits");
    } else if (qname) {
      g_string_append_printf(s, ",%s=%s", qname, on ? "on" : "off");
      const DomainXNode *direct = domain_xnode_child(e, "direct");
      if (strcmp(e->name, "stimer") == 0 && direct)
        g_string_append_printf(s, ",hv-stimer-direct=%s",
                               domain_xnode_is(direct, "state", "on") ? "on" : "off");
    }
  }
  const DomainXNode *kvmf = domain_xnode_child(def->features.ext, "kvm");
  if (domain_xnode_is(domain_xnode_child(kvmf, "hidden"), "state", "on"))
    g_string_append(s, ",kvm=off");
  const char *pmu = domain_xnode_attr(domain_xnode_child(def->features.ext, "pmu"), "state");
  if (pmu && strcmp(pmu, "on") == 0 && !kvm)
    fail(b, -EOPNOTSUPP, "<pmu state='on'>: TCG emulates no performance counters; use "
                         "<domain type='kvm'> or state='off'");
  else if (pmu)
    g_string_append_printf(s, ",pmu=%s", pmu);
  const GPtrArray *timers = def->clock_ext ? def->clock_ext->children : NULL;
  for (guint i = 0; timers && i < timers->len; i++) {
    const DomainXNode *t = timers->pdata[i];
    const char *present = domain_xnode_attr(t, "present");
    if (!present)
      continue;
    if (domain_xnode_is(t, "name", "kvmclock"))
      g_string_append_printf(s, ",kvmclock=%s", strcmp(present, "yes") == 0 ? "on" : "off");
    else if (domain_xnode_is(t, "name", "hypervclock"))
      g_string_append_printf(s, ",hv-time=%s", strcmp(present, "yes") == 0 ? "on" : "off");
  }
}

static void build_cpu(Builder *b) {
  const DomainDef *def = b->def;
  bool kvm = def->virt_type == DOMAIN_VIRT_KVM;
  const char *model = NULL;

  switch (def->cpu.mode) {
  case DOMAIN_CPU_MODE_NONE:
    break;
  case DOMAIN_CPU_MODE_CUSTOM:
    if (def->cpu.model && !is_plain_name(def->cpu.model)) {
      fail(b, -EINVAL, "the CPU model may only contain letters, digits, '.', '_' and '-'");
      return;
    }
    model = def->cpu.model;
    break;
  case DOMAIN_CPU_MODE_HOST_MODEL:
    /* host-model promises the most capable CPU the hypervisor offers that
     * resembles the host: under TCG that is "max". Under KVM, "host" is the
     * closest QEMU can do without a CPU model database. */
    model = kvm ? "host" : "max";
    break;
  case DOMAIN_CPU_MODE_HOST_PASSTHROUGH:
    /* host-passthrough promises the host's exact CPU, which only KVM can
     * give; silently emulating something else would break that promise. */
    if (!kvm) {
      fail(b, -EOPNOTSUPP,
           "<cpu mode='host-passthrough'> needs KVM and this domain is type 'qemu': "
           "use <cpu mode='maximum'/> or <cpu mode='host-model'/>");
      return;
    }
    model = "host";
    break;
  case DOMAIN_CPU_MODE_MAXIMUM:
    model = "max";
    break;
  }
  GString *flags = g_string_new(NULL);
  cpu_flags(b, flags);
  if (!model && flags->len)
    model = "qemu64"; /* QEMU's default model, which the flags amend */
  if (model) {
    arg(b, "-cpu");
    g_ptr_array_add(b->argv, g_strconcat(model, flags->str, NULL));
  }
  g_string_free(flags, TRUE);
}

static void build_smp(Builder *b) {
  const DomainDef *def = b->def;
  const DomainCpu *cpu = &def->cpu;
  unsigned max = def->vcpus;
  unsigned current = def->vcpus_current ? def->vcpus_current : max;

  if (max == 0) {
    fail(b, -EINVAL, "the domain has no vCPU");
    return;
  }
  if (current > max) {
    fail(b, -EINVAL, "vcpu current='%u' is more than the %u vCPUs of the domain", current, max);
    return;
  }
  GString *s = g_string_new(NULL);
  g_string_append_printf(s, "%u", current);
  if (current < max)
    optf(s, "maxcpus", "%u", max);
  if (cpu->sockets || cpu->dies || cpu->cores || cpu->threads) {
    unsigned dies = cpu->dies ? cpu->dies : 1;
    if (!cpu->sockets || !cpu->cores || !cpu->threads) {
      fail(b, -EINVAL, "<topology> needs sockets, cores and threads");
    } else if ((uint64_t)cpu->sockets * dies * cpu->cores * cpu->threads != max) {
      fail(b, -EINVAL,
           "<topology> gives %" PRIu64 " vCPUs (sockets x dies x cores x threads) "
           "but <vcpu> is %u", (uint64_t)cpu->sockets * dies * cpu->cores * cpu->threads, max);
    }
    optf(s, "sockets", "%u", cpu->sockets);
    optf(s, "dies", "%u", dies);
    optf(s, "cores", "%u", cpu->cores);
    optf(s, "threads", "%u", cpu->threads);
  }
  arg_opts(b, "-smp", s);
}

void qargv_build_global(Builder *b) {
  const DomainDef *def = b->def;
  const QemuArgvConfig *cfg = b->cfg;
  GString *s;

  s = opts_new("");
  opt_str(b, s, "guest", "the domain name", def->name);
  qemu_opt_append(s, "debug-threads", "on");
  arg_opts(b, "-name", s);

  /* Paused until the daemon has attached to QMP and the console. */
  if (!cfg->incoming || !cfg->incoming_autostart)
    arg(b, "-S");
  if (cfg->incoming) {
    arg(b, "-incoming");
    arg(b, cfg->incoming);
  }
  arg(b, "-msg");
  arg(b, "timestamp=on");
  arg(b, "-no-user-config");
  arg(b, "-nodefaults");
  /* QEMU may not exec anything, gain privileges or use obsolete syscalls:
   * taps come as fds, so nothing needs a helper. */
  arg(b, "-sandbox");
  arg(b, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");

  s = opts_new("socket");
  qemu_opt_append(s, "id", "charmonitor");
  opt_path(b, s, "path", "the QMP socket path", cfg->qmp_socket_path);
  qemu_opt_append(s, "server", "on");
  qemu_opt_append(s, "wait", "off");
  arg_opts(b, "-chardev", s);
  arg(b, "-mon");
  arg(b, "chardev=charmonitor,id=monitor,mode=control");

  if (cfg->pid_file && check_path(b, "the pid file path", cfg->pid_file)) {
    arg(b, "-pidfile");
    arg(b, cfg->pid_file);
  }

  build_machine(b);
  build_cpu(b);

  if (def->memory_kib == 0) {
    fail(b, -EINVAL, "the domain has no memory");
  } else {
    build_memory(b);
  }
  build_smp(b);

  if (def->uuid[0]) {
    if (!uuid_is_valid(def->uuid)) {
      fail(b, -EINVAL, "the UUID is not of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
    } else {
      arg(b, "-uuid");
      arg(b, def->uuid);
    }
  }

  GString *rtc = g_string_new(def->clock == DOMAIN_CLOCK_LOCALTIME ? "base=localtime"
                                                                  : "base=utc");
  build_timers(b, rtc);
  arg_opts(b, "-rtc", rtc);
  build_pm(b);

  /* Lifecycle: see the header. */
  const DomainLifecycleAction *acts[] = {&def->on_poweroff, &def->on_reboot, &def->on_crash};
  const char *act_names[] = {"on_poweroff", "on_reboot", "on_crash"};
  for (size_t i = 0; i < G_N_ELEMENTS(acts); i++)
    if (*acts[i] == DOMAIN_LIFECYCLE_RENAME_RESTART)
      fail(b, -EOPNOTSUPP, "<%s>%s</%s> is not supported by the QEMU driver", act_names[i],
           lifecycle_name(*acts[i]), act_names[i]);
  arg(b, "-no-shutdown");
  if (def->on_reboot != DOMAIN_LIFECYCLE_RESTART)
    arg(b, "-no-reboot");

  if (def->os.bootmenu_set) {
    arg(b, "-boot");
    arg(b, def->os.bootmenu ? "menu=on" : "menu=off");
  }

  /* Direct kernel boot: QEMU stores these three as they are (no option
   * parsing), so they are not escaped. */
  if (def->os.kernel) {
    if (check_path(b, "the kernel path", def->os.kernel)) {
      arg(b, "-kernel");
      arg(b, def->os.kernel);
    }
    if (def->os.initrd && check_path(b, "the initrd path", def->os.initrd)) {
      if (strchr(def->os.initrd, ',')) {
        fail(b, -EINVAL, "the initrd path contains ',', which QEMU's multiboot loader reads "
                         "as a separator");
      } else {
        arg(b, "-initrd");
        arg(b, def->os.initrd);
      }
    }
    if (def->os.cmdline && *def->os.cmdline &&
        check_value(b, "the kernel command line", def->os.cmdline)) {
      arg(b, "-append");
      arg(b, def->os.cmdline);
    }
  } else if (def->os.initrd || def->os.cmdline) {
    fail(b, -EINVAL, "<initrd> and <cmdline> need a <kernel>");
  }
}

void qargv_check_host(Builder *b) {
  const DomainDef *def = b->def;
  const char *machine = def->os.machine ? def->os.machine : "pc";

  if (def->virt_type == DOMAIN_VIRT_KVM && !b->cfg->kvm_available) {
    fail(b, -EOPNOTSUPP, "this host cannot run KVM guests: use <domain type='qemu'>");
    return;
  }
  if (def->os.type && strcmp(def->os.type, "hvm") != 0) {
    fail(b, -EOPNOTSUPP, "the only OS type is hvm");
    return;
  }
  /* qemu-system-x86_64 runs i686 guests as well */
  if (def->os.arch && strcmp(def->os.arch, "x86_64") != 0 && strcmp(def->os.arch, "i686") != 0) {
    fail(b, -EOPNOTSUPP, "the architectures are x86_64 and i686");
    return;
  }
  if (!is_plain_name(machine) || (!machine_is_q35(machine) && !machine_is_i440fx(machine))) {
    if (qemu_value_is_safe(machine))
      fail(b, -EOPNOTSUPP, "machine type '%s' is not supported: use pc or q35 (or a versioned "
                           "pc-i440fx-X.Y / pc-q35-X.Y)", machine);
    else
      fail(b, -EOPNOTSUPP, "the machine type is not supported: use pc or q35");
    return;
  }
  const DomainOs *os = &def->os;
  bool uefi = g_strcmp0(os->firmware, "efi") == 0 || domain_xnode_child(os->ext, "loader") ||
              domain_xnode_child(os->ext, "nvram");
  if (uefi && (!b->cfg->firmware || !b->cfg->firmware->code || !b->cfg->firmware->nvram_path)) {
    fail(b, -ENOENT, "the domain boots UEFI firmware but none was resolved for it");
    return;
  }
  for (guint i = 0; def->seclabels && i < def->seclabels->len; i++)
    if (!domain_xnode_is(def->seclabels->pdata[i], "type", "none")) {
      fail(b, -EOPNOTSUPP, "virtfs applies no security labels (no SELinux, AppArmor or DAC "
                           "driver), so a <seclabel> other than type='none' would not hold: "
                           "remove it or use <seclabel type='none'/>");
      return;
    }
  b->q35 = machine_is_q35(machine);
  b->pci_bus = b->q35 ? "pcie.0" : "pci.0";
}
