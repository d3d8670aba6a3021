/* qemu_argv_misc.c — the memory balloon and RNG devices.
 * Part of the builder; see qemu_argv_priv.h. */
#include "drivers/qemu/qemu_argv_priv.h"

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
