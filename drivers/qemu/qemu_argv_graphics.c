/* qemu_argv_graphics.c — -vnc/-display, video adapters and input devices.
 * Part of the builder; see qemu_argv_priv.h. */
#include "drivers/qemu/qemu_argv_priv.h"

/* SPICE: a fixed port listens on TCP at the listen address; autoport
 * listens on a unix socket, spice.sock in the domain's run directory (the
 * one of the QMP socket), since QEMU cannot pick a free TCP port for SPICE
 * the way -vnc to= does. No password: like VNC, the address is the access
 * control (127.0.0.1 by default). */
static void build_spice(Builder *b, const DomainGraphicsVnc *v) {
  GString *s = opts_new("");
  if (v->port < 0) {
    g_autofree char *dir = g_path_get_dirname(b->cfg->qmp_socket_path);
    g_autofree char *path = g_build_filename(dir, "spice.sock", NULL);
    qemu_opt_append(s, "unix", "on");
    opt_path(b, s, "addr", "the SPICE socket path", path);
  } else {
    const char *listen = v->listen ? v->listen : "127.0.0.1";
    if (!qemu_value_is_safe(listen) || !g_hostname_is_ip_address(listen)) {
      fail(b, -EINVAL, "the SPICE listen address must be an IPv4 or IPv6 address");
      g_string_free(s, TRUE);
      return;
    }
    optf(s, "port", "%d", v->port);
    qemu_opt_append(s, "addr", listen);
  }
  qemu_opt_append(s, "disable-ticketing", "on");
  static const char *const opts[][3] = {
    {"image", "compression", "image-compression"},
    {"streaming", "mode", "streaming-video"},
    {"clipboard", "copypaste", "disable-copy-paste"},
    {"mouse", "mode", "agent-mouse"},
    {"filetransfer", "enable", "disable-agent-file-xfer"},
  };
  for (size_t k = 0; k < G_N_ELEMENTS(opts); k++) {
    const char *value = domain_xnode_attr(domain_xnode_child(v->ext, opts[k][0]), opts[k][1]);
    if (!value)
      continue;
    if (k == 2 || k == 4) /* yes/no turned into QEMU's disable-... */
      qemu_opt_append(s, opts[k][2], strcmp(value, "yes") == 0 ? "off" : "on");
    else if (k == 3)
      qemu_opt_append(s, opts[k][2], strcmp(value, "client") == 0 ? "on" : "off");
    else
      qemu_opt_append(s, opts[k][2], value);
  }
  arg_opts(b, "-spice", s);
}

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
  if (v->spice) {
    build_spice(b, v);
    return;
  }
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
  if (domain_xnode_is(v->model_ext, "primary", "yes") && !primary) {
    fail(b, -EINVAL, "%s: only the first video can be the primary one", label);
    return;
  }
  if (domain_xnode_attr(v->model_ext, "ram") && v->model != VIDEO_QXL) {
    fail(b, -EOPNOTSUPP, "%s: ram= is a qxl setting", label);
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
      if (domain_xnode_attr(v->model_ext, "ram"))
        optf(s, "ram_size", "%" PRIu64,
             g_ascii_strtoull(domain_xnode_attr(v->model_ext, "ram"), NULL, 10) * 1024);
      if (domain_xnode_attr(v->model_ext, "vgamem"))
        optf(s, "vgamem_mb", "%" PRIu64,
             g_ascii_strtoull(domain_xnode_attr(v->model_ext, "vgamem"), NULL, 10) / 1024);
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
      if (in->address.type != DEVICE_ADDRESS_USB &&
          !qargv_check_no_address(b, label, &in->address))
        continue;
      s = opts_new(usb_devs[in->type]);
      qemu_opt_append(s, "id", id);
      qargv_opt_usb(b, s, &in->address);
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

/* bus= and port= of a USB device: its <address> or the first free port
 * (QEMU's choice) of the USB controller of index 0. */
void qargv_opt_usb(Builder *b, GString *s, const DeviceAddress *a) {
  if (a->type == DEVICE_ADDRESS_USB && a->drive_bus != 0)
    optf(s, "bus", "usb%u.0", a->drive_bus);
  else
    qemu_opt_append(s, "bus", "usb.0");
  if (a->type == DEVICE_ADDRESS_USB && a->usb_port[0])
    qemu_opt_append(s, "port", a->usb_port);
}

/* The audio backend of <audio id=N>: spice or none; without any <audio>
 * the default is libvirt's: spice with SPICE graphics, else none. */
static const char *audiodev_for(Builder *b, unsigned id) {
  const GPtrArray *audios = b->def->audios;
  for (guint i = 0; audios && i < audios->len; i++) {
    const DomainAudio *a = audios->pdata[i];
    if (a->id == id || id == 0)
      return a->spice ? "spice" : "none";
  }
  const GPtrArray *g = b->def->graphics;
  bool spice = g && g->len > 0 && ((const DomainGraphicsVnc *)g->pdata[0])->spice;
  return spice ? "spice" : "none";
}

static bool has_spice(const Builder *b) {
  const GPtrArray *g = b->def->graphics;
  return g && g->len > 0 && ((const DomainGraphicsVnc *)g->pdata[0])->spice;
}

/* <sound> (an HDA controller with its codecs, or AC97) and <redirdev>
 * (USB redirection over SPICE). */
void qargv_build_sound_redir(Builder *b) {
  const GPtrArray *xs = b->def->xdevices;
  unsigned nsound = 0, nredir = 0;
  for (guint i = 0; xs && i < xs->len; i++) {
    const DomainXNode *x = xs->pdata[i];
    if (strcmp(x->name, "sound") == 0) {
      unsigned n = nsound++;
      g_autofree char *label = g_strdup_printf("sound %u", n);
      g_autofree char *id = g_strdup_printf("sound%u", n);
      g_autofree char *audio_id = g_strdup_printf("audio-sound%u", n);
      const char *audio = domain_xnode_attr(domain_xnode_child(x, "audio"), "id");
      const char *backend = audiodev_for(b, audio ? (unsigned)g_ascii_strtoull(audio, NULL, 10) : 0);
      if (strcmp(backend, "spice") == 0 && !has_spice(b)) {
        fail(b, -EOPNOTSUPP, "%s: the spice audio backend needs <graphics type='spice'>", label);
        return;
      }
      GString *s = opts_new(backend);
      qemu_opt_append(s, "id", audio_id);
      arg_opts(b, "-audiodev", s);
      const char *model = domain_xnode_attr(x, "model");
      if (strcmp(model, "ac97") == 0) {
        s = opts_new("AC97");
        qemu_opt_append(s, "id", id);
        qemu_opt_append(s, "audiodev", audio_id);
        qargv_opt_pci(b, s, label, &x->address);
        arg_opts(b, "-device", s);
        continue;
      }
      s = opts_new(strcmp(model, "ich9") == 0 ? "ich9-intel-hda" : "intel-hda");
      qemu_opt_append(s, "id", id);
      qargv_opt_pci(b, s, label, &x->address);
      arg_opts(b, "-device", s);
      unsigned ncodec = 0;
      for (guint k = 0; k <= x->children->len; k++) {
        const DomainXNode *c = k < x->children->len ? x->children->pdata[k] : NULL;
        if (c && strcmp(c->name, "codec") != 0)
          continue;
        if (!c && ncodec > 0)
          break;
        const char *type = c ? domain_xnode_attr(c, "type") : "duplex";
        g_autofree char *dev = g_strdup_printf("hda-%s", type);
        s = opts_new(dev);
        optf(s, "id", "%s-codec%u", id, ncodec);
        optf(s, "bus", "%s.0", id);
        optf(s, "cad", "%u", ncodec);
        qemu_opt_append(s, "audiodev", audio_id);
        arg_opts(b, "-device", s);
        ncodec++;
      }
    } else if (strcmp(x->name, "redirdev") == 0) {
      unsigned n = nredir++;
      if (!has_spice(b)) {
        fail(b, -EOPNOTSUPP, "redirdev %u: USB redirection over spicevmc needs "
                             "<graphics type='spice'>", n);
        return;
      }
      g_autofree char *chr = g_strdup_printf("charredir%u", n);
      GString *s = opts_new("spicevmc");
      qemu_opt_append(s, "id", chr);
      qemu_opt_append(s, "name", "usbredir");
      arg_opts(b, "-chardev", s);
      s = opts_new("usb-redir");
      qemu_opt_append(s, "chardev", chr);
      optf(s, "id", "redir%u", n);
      qargv_opt_usb(b, s, &x->address);
      arg_opts(b, "-device", s);
    }
  }
}
