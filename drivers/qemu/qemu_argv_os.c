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
  arg_opts(b, "-machine", s);
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
  if (model) {
    arg(b, "-cpu");
    arg(b, model);
  }
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
  arg(b, "-S");
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
    arg(b, "-m");
    g_ptr_array_add(b->argv, g_strdup_printf("size=%" PRIu64 "k", def->memory_kib));
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

  arg(b, "-rtc");
  arg(b, def->clock == DOMAIN_CLOCK_LOCALTIME ? "base=localtime" : "base=utc");

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
    fail(b, -EOPNOTSUPP, "this host has no /dev/kvm: use <domain type='qemu'>");
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
  b->q35 = machine_is_q35(machine);
  b->pci_bus = b->q35 ? "pcie.0" : "pci.0";
}
