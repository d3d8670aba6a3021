/* qemu_argv_graphics.c — -vnc/-display, video adapters and input devices.
 * Part of the builder; see qemu_argv_priv.h. */
#include "drivers/qemu/qemu_argv_priv.h"

void qargv_build_graphics(Builder *b) {
  const GPtrArray *g = b->def->graphics;
  if (!g || g->len == 0) {
    arg(b, "-display");
    arg(b, "none");
    return;
  }
  if (g->len > 1) {
    fail(b, -EOPNOTSUPP, "only one <graphics> device is supported");
    return;
  }
  const DomainGraphicsVnc *v = g->pdata[0];
  const char *listen = v->listen ? v->listen : "127.0.0.1";
  /* An IP literal only: a name or "unix:..." would change what -vnc means. */
  if (!qemu_value_is_safe(listen) || !g_hostname_is_ip_address(listen)) {
    fail(b, -EINVAL, "the VNC listen address must be an IPv4 or IPv6 address");
    return;
  }
  GString *s = g_string_new(NULL);
  if (strchr(listen, ':')) {
    g_string_append_c(s, '[');
    qemu_opt_escape_append(s, listen);
    g_string_append_c(s, ']');
  } else {
    qemu_opt_escape_append(s, listen);
  }
  if (v->port < 0) {
    /* autoport: QEMU binds the first free display of 0..99 */
    g_string_append(s, ":0");
    qemu_opt_append(s, "to", "99");
  } else if (v->port < VNC_PORT_BASE || v->port > 65535) {
    g_string_free(s, TRUE);
    fail(b, -EINVAL, "the VNC port must be in 5900..65535 (or autoport)");
    return;
  } else {
    g_string_append_printf(s, ":%d", v->port - VNC_PORT_BASE);
  }
  arg_opts(b, "-vnc", s);
}

/* The first <video> is the primary, VGA-compatible adapter; the others are
 * secondary displays (libvirt's rule), which QEMU models as separate
 * devices. */
static void build_video_device(Builder *b, const DomainVideo *v, guint i) {
  g_autofree char *label = g_strdup_printf("video %u", i);
  g_autofree char *id = g_strdup_printf("video%u", i);
  bool primary = i == 0;
  const char *device = NULL;
  bool has_outputs = false;

  switch (v->model) {
  case VIDEO_NONE:
    fail(b, -EINVAL, "%s: a video of model 'none' must be the only one", label);
    return;
  case VIDEO_VGA: device = primary ? "VGA" : "secondary-vga"; break;
  case VIDEO_CIRRUS: device = primary ? "cirrus-vga" : NULL; break;
  case VIDEO_VIRTIO: device = primary ? "virtio-vga" : "virtio-gpu-pci"; has_outputs = true; break;
  case VIDEO_QXL: device = primary ? "qxl-vga" : "qxl"; has_outputs = true; break;
  case VIDEO_BOCHS: device = "bochs-display"; break;
  }
  if (!device) {
    fail(b, v->model == VIDEO_CIRRUS ? -EOPNOTSUPP : -EINVAL,
         v->model == VIDEO_CIRRUS ? "%s: cirrus can only be the first (primary) video"
                                  : "%s: unknown model", label);
    return;
  }
  if (v->heads > 1 && !has_outputs) {
    fail(b, -EOPNOTSUPP, "%s: only virtio and qxl video support more than one head", label);
    return;
  }
  GString *s = opts_new(device);
  qemu_opt_append(s, "id", id);
  if (v->vram) {
    switch (v->model) {
    case VIDEO_VGA:
    case VIDEO_CIRRUS:
      optf(s, "vgamem_mb", "%u", v->vram / 1024 ? v->vram / 1024 : 1);
      break;
    case VIDEO_QXL:
      if (v->vram > UINT32_MAX / 1024) {
        fail(b, -EINVAL, "%s: qxl vram is at most 4 GiB", label);
        break;
      }
      optf(s, "vram_size", "%u", v->vram * 1024);
      break;
    case VIDEO_BOCHS:
      optf(s, "vgamem", "%" PRIu64, (uint64_t)v->vram * 1024);
      break;
    default:
      break; /* virtio-vga has no VRAM size */
    }
  }
  if (has_outputs && v->heads)
    optf(s, "max_outputs", "%u", v->heads);
  qargv_opt_pci(b, s, label, &v->address);
  arg_opts(b, "-device", s);
}

void qargv_build_video(Builder *b) {
  const GPtrArray *videos = b->def->videos;
  if (!videos || videos->len == 0)
    return;
  const DomainVideo *first = videos->pdata[0];
  if (videos->len == 1 && first->model == VIDEO_NONE)
    return;
  for (guint i = 0; i < videos->len; i++)
    build_video_device(b, videos->pdata[i], i);
}

void qargv_build_inputs(Builder *b) {
  const GPtrArray *inputs = b->def->inputs;
  static const char *const usb_devs[] = {
    [INPUT_MOUSE] = "usb-mouse", [INPUT_KEYBOARD] = "usb-kbd", [INPUT_TABLET] = "usb-tablet"};
  static const char *const virtio_devs[] = {
    [INPUT_MOUSE] = "virtio-mouse-pci", [INPUT_KEYBOARD] = "virtio-keyboard-pci",
    [INPUT_TABLET] = "virtio-tablet-pci"};

  for (guint i = 0; inputs && i < inputs->len; i++) {
    const DomainInput *in = inputs->pdata[i];
    g_autofree char *label = g_strdup_printf("input %u", i);
    g_autofree char *id = g_strdup_printf("input%u", i);
    if ((unsigned)in->type > INPUT_TABLET) {
      fail(b, -EINVAL, "%s: unknown type", label);
      return;
    }
    GString *s;
    switch (in->bus) {
    case INPUT_BUS_PS2:
      /* The i8042 with its PS/2 mouse and keyboard is part of pc and q35. */
      if (in->type == INPUT_TABLET)
        fail(b, -EOPNOTSUPP, "%s: PS/2 has no tablet: use bus 'usb' or 'virtio'", label);
      else
        qargv_check_no_address(b, label, &in->address);
      continue;
    case INPUT_BUS_USB:
      if (!qargv_check_no_address(b, label, &in->address))
        continue;
      s = opts_new(usb_devs[in->type]);
      qemu_opt_append(s, "id", id);
      qemu_opt_append(s, "bus", "usb.0");
      arg_opts(b, "-device", s);
      continue;
    case INPUT_BUS_VIRTIO:
      s = opts_new(virtio_devs[in->type]);
      qemu_opt_append(s, "id", id);
      qargv_opt_pci(b, s, label, &in->address);
      arg_opts(b, "-device", s);
      continue;
    }
    fail(b, -EINVAL, "%s: unknown bus", label);
  }
}
