/* qemu_argv_misc.c — the memory balloon, RNG, watchdog, panic and TPM devices.
 * Part of the builder; see qemu_argv_priv.h. */
#include "drivers/qemu/qemu_argv_priv.h"
#include "drivers/qemu/qemu_tpm.h"

void qargv_build_memballoon(Builder *b) {
  const DomainMemballoon *m = &b->def->memballoon;
  if (!m->present || m->model == MEMBALLOON_NONE)
    return;
  /* The statistics period is a QOM property set over QMP after start. */
  GString *s = opts_new("virtio-balloon-pci");
  qemu_opt_append(s, "id", "balloon0");
  qargv_opt_pci(b, s, "the memory balloon", &m->address);
  arg_opts(b, "-device", s);
}

void qargv_build_rngs(Builder *b) {
  const GPtrArray *rngs = b->def->rngs;
  for (guint i = 0; rngs && i < rngs->len; i++) {
    const DomainRng *r = rngs->pdata[i];
    g_autofree char *label = g_strdup_printf("rng %u", i);
    g_autofree char *what = g_strdup_printf("%s: backend", label);
    g_autofree char *obj = g_strdup_printf("objrng%u", i);
    g_autofree char *id = g_strdup_printf("rng%u", i);

    GString *s = opts_new("");
    qemu_opt_append(s, "qom-type", "rng-random");
    qemu_opt_append(s, "id", obj);
    opt_path(b, s, "filename", what, r->backend ? r->backend : "/dev/urandom");
    arg_opts(b, "-object", s);

    s = opts_new("virtio-rng-pci");
    qemu_opt_append(s, "id", id);
    qemu_opt_append(s, "rng", obj);
    qargv_opt_pci(b, s, label, &r->address);
    arg_opts(b, "-device", s);
  }
}

/* <watchdog> and <panic>; what virtfs cannot run is refused here, at
 * start, with the reason (UEFI firmware: see check_firmware in
 * qemu_argv_os.c). */
void qargv_build_watchdog_panic(Builder *b) {
  const GPtrArray *xs = b->def->xdevices;
  for (guint i = 0; xs && i < xs->len; i++) {
    const DomainXNode *x = xs->pdata[i];
    if (strcmp(x->name, "watchdog") == 0) {
      const char *model = domain_xnode_attr(x, "model");
      const char *action = domain_xnode_attr(x, "action");
      if (strcmp(model, "itco") == 0) {
        fail(b, -EOPNOTSUPP, "the itco watchdog is not supported: use i6300esb or ib700");
        return;
      }
      GString *s = opts_new(strcmp(model, "i6300esb") == 0 ? "i6300esb" : "ib700");
      qemu_opt_append(s, "id", "watchdog0");
      if (strcmp(model, "i6300esb") == 0)
        qargv_opt_pci(b, s, "the watchdog", &x->address);
      arg_opts(b, "-device", s);
      if (action && strcmp(action, "dump") == 0) {
        fail(b, -EOPNOTSUPP, "watchdog action 'dump' is not supported: QEMU cannot dump by itself");
        return;
      }
      if (action) {
        arg(b, "-action");
        g_ptr_array_add(b->argv, g_strdup_printf("watchdog=%s", action));
      }
    } else if (strcmp(x->name, "panic") == 0) {
      const char *model = domain_xnode_attr(x, "model");
      GString *s;
      if (!model || strcmp(model, "isa") == 0) {
        s = opts_new("pvpanic");
        if (x->address.type == DEVICE_ADDRESS_ISA && x->address.iobase_set)
          optf(s, "ioport", "0x%x", x->address.iobase);
      } else if (strcmp(model, "pvpanic") == 0) {
        s = opts_new("pvpanic-pci");
        qargv_opt_pci(b, s, "the panic device", &x->address);
      } else {
        fail(b, -EOPNOTSUPP, "panic model '%s' is not supported: use isa or pvpanic", model);
        return;
      }
      arg_opts(b, "-device", s);
    }
  }
}

/* <tpm>: the emulator backend, swtpm, which the daemon starts before QEMU
 * (qemu_tpm.h) listening on cfg->tpm_socket_path. */
void qargv_build_tpm(Builder *b) {
  const DomainXNode *tpm = qemu_tpm_device(b->def);
  if (!tpm)
    return;
  const char *model = domain_xnode_attr(tpm, "model");
  bool crb = g_strcmp0(model, "tpm-crb") == 0;
  if (crb && !qemu_tpm_is_tpm2(tpm)) {
    fail(b, -EOPNOTSUPP, "<tpm model='tpm-crb'> is a TPM 2.0 interface: use backend version "
                         "'2.0' or model 'tpm-tis'");
    return;
  }
  if (!b->cfg->tpm_socket_path) {
    fail(b, -EINVAL, "the TPM emulator's socket path is not configured");
    return;
  }
  GString *s = opts_new("socket");
  qemu_opt_append(s, "id", "chrtpm");
  opt_path(b, s, "path", "the TPM socket", b->cfg->tpm_socket_path);
  arg_opts(b, "-chardev", s);
  s = opts_new("emulator");
  qemu_opt_append(s, "id", "tpm0");
  qemu_opt_append(s, "chardev", "chrtpm");
  arg_opts(b, "-tpmdev", s);
  s = opts_new(crb ? "tpm-crb" : "tpm-tis");
  qemu_opt_append(s, "tpmdev", "tpm0");
  qemu_opt_append(s, "id", "tpm0");
  arg_opts(b, "-device", s);
}
