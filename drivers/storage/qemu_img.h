/* qemu_img.h — the pure half of talking to qemu-img: argv builders for
 * create/info/resize/convert and a parser of `qemu-img info --output=json`.
 * No I/O, no globals; running the argv is storage_run()'s job, so each half
 * is tested on its own.
 *
 * Every path given to a builder must be absolute: qemu-img treats a name
 * with ':' before the first '/' as a protocol ("nbd:", "json:"), and an
 * absolute path can never be one. Builders assert this.
 *
 * Error convention: 0 or -EINVAL with a sentence in *ret_error. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "objects/volume_def.h"

/* What virtfs reads from `qemu-img info --output=json`. */
typedef struct {
  char *format;              /* "raw", "qcow2", ... */
  uint64_t virtual_size;     /* bytes the guest sees */
  uint64_t actual_size;      /* bytes used on the host; 0 when absent */
  char *backing_filename;    /* as written in the image; NULL = none */
  char *full_backing_filename; /* resolved against the image's directory; may be NULL */
  char *backing_format;      /* NULL when the image does not record it */
  char *compat;              /* qcow2 compat level ("0.10", "1.1"); NULL otherwise */
  bool dirty;                /* "dirty-flag" */
  bool corrupt;              /* qcow2 "corrupt" */
  bool lazy_refcounts;       /* qcow2 "lazy-refcounts" */
} QemuImgInfo;

void qemu_img_info_free(QemuImgInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuImgInfo, qemu_img_info_free)

/* Parses the JSON object qemu-img prints for one image. "virtual-size" and
 * "format" are required; unknown members are ignored (they vary between
 * qemu versions). */
int qemu_img_info_parse(const char *json, size_t len, QemuImgInfo **ret_info, char **ret_error);

/* qemu-img info -U --output=json -f FORMAT PATH.  -U (force share) reads an
 * image a running QEMU holds locked; the explicit format stops qemu-img from
 * probing (a raw image could otherwise pass itself off as qcow2). */
GStrv qemu_img_info_argv(const char *binary, const char *path, VolumeFormat format);

/* qemu-img create -q -f qcow2 [-o compat=..,preallocation=falloc]
 *   [-b BACKING -F BACKING_FORMAT] PATH [SIZE]
 * `capacity` 0 with a backing file takes the backing file's size. The
 * driver uses it for preallocated images only: raw files and empty qcow2
 * images it writes itself (qcow2.h). `format` raw is accepted too. */
GStrv qemu_img_create_argv(const char *binary, const char *path, VolumeFormat format,
                           uint64_t capacity, const char *compat, bool lazy_refcounts,
                           bool preallocate,
                           const char *backing_path, VolumeFormat backing_format);

/* qemu-img resize -q -f FORMAT PATH SIZE (growing only; the driver refuses
 * to shrink qcow2). */
GStrv qemu_img_resize_argv(const char *binary, const char *path, VolumeFormat format,
                           uint64_t capacity);

/* qemu-img convert -q -f SRC_FORMAT -O DST_FORMAT [-o compat=..] SRC DST
 * The copy is sparse and standalone: an overlay's backing chain is
 * flattened into it. */
GStrv qemu_img_convert_argv(const char *binary, const char *src, VolumeFormat src_format,
                            const char *dst, VolumeFormat dst_format, const char *compat);
