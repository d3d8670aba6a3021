/* fs_handle.c — buffers of open table files and the one place where written
 * content is applied to an object; see fs_handle.h. */
#include "fs/fs_handle.h"

#include <errno.h>
#include <fuse_lowlevel.h>
#include <string.h>

#include "fs/fs_pending.h"
#include "objects/values.h"
#include "objects/xml_util.h"

FsHandle *fs_handle_new(FsHandleType type, Obj *obj, const FsFile *file) {
  FsHandle *h = g_new0(FsHandle, 1);
  h->type = type;
  h->obj = obj ? obj_ref(obj) : NULL;
  h->file = file;
  g_mutex_init(&h->lock);
  h->buf = g_string_new(NULL);
  return h;
}

void fs_handle_free(FsHandle *h) {
  if (!h)
    return;
  if (h->poll_handle)
    fuse_pollhandle_destroy(h->poll_handle);
  if (h->scratch)
    fs_scratch_unref(h->scratch);
  if (h->obj)
    obj_unref(h->obj);
  g_string_free(h->buf, TRUE);
  g_free(h->entry);
  g_mutex_clear(&h->lock);
  g_free(h);
}

int fs_render(FsContext *ctx, Obj *obj, const FsFile *file, GString *out) {
  const char *entry = fs_file_entry_name(file);
  if (entry)
    return file->data_dir->read(ctx, obj, entry, out);
  if (!file->read)
    return 0;
  return file->read(ctx, obj, out);
}

static void report(Obj *obj, const FsFile *file, int r, const char *error) {
  if (r >= 0 || !obj)
    return;
  if (error)
    obj_set_error(obj, "%s", error);
  else
    obj_set_error(obj, "%s: %s", file->name, g_strerror(-r));
}

/* One ctl line: blank lines are ignored. */
static int apply_ctl_line(FsContext *ctx, Obj *obj, const FsFile *file, const char *line,
                          size_t len) {
  g_autofree char *verb = NULL;
  if (value_trim(line, len, &verb) < 0) {
    obj_set_error(obj, "%s: a line holds control characters", file->name);
    return -EINVAL;
  }
  if (!*verb)
    return 0;
  g_autofree char *error = NULL;
  int r = file->write(ctx, obj, verb, strlen(verb), &error);
  report(obj, file, r, error);
  if (r >= 0)
    obj_clear_error(obj);
  return r;
}

/* A file's write handler, or its data directory's for an entry of one. */
static int write_file(FsContext *ctx, Obj *obj, const FsFile *file, const char *data,
                      size_t len, char **ret_error) {
  const char *entry = fs_file_entry_name(file);
  if (entry) {
    int r = file->data_dir->write(ctx, obj, entry, data, len, ret_error);
    fs_pending_take(obj, file->name, NULL); /* created: now it exists, or not */
    return r;
  }
  return file->write(ctx, obj, data, len, ret_error);
}

/* A line the next one completes (FsFile.ctl_joins_next), e.g. a password
 * after its verb: both go to the handler as "LINE\nNEXT". NEXT is taken
 * as written, without its newline (a password may have blanks); it must
 * hold no control character. The joined copy is wiped after use. */
static int apply_ctl_pair(FsContext *ctx, Obj *obj, const FsFile *file, const char *line,
                          size_t len, const char *next, size_t next_len) {
  g_autofree char *verb = NULL;
  if (value_trim(line, len, &verb) < 0) {
    obj_set_error(obj, "%s: a line holds control characters", file->name);
    return -EINVAL;
  }
  for (size_t i = 0; i < next_len; i++)
    if ((unsigned char)next[i] < ' ' || next[i] == 0x7f) {
      obj_set_error(obj, "%s: %s: the next line holds control characters", file->name, verb);
      return -EINVAL;
    }
  GString *joined = g_string_new(verb);
  g_string_append_c(joined, '\n');
  g_string_append_len(joined, next, (gssize)next_len);
  g_autofree char *error = NULL;
  int r = file->write(ctx, obj, joined->str, joined->len, &error);
  explicit_bzero(joined->str, joined->len);
  g_string_free(joined, TRUE);
  report(obj, file, r, error);
  if (r >= 0)
    obj_clear_error(obj);
  return r;
}

/* When the lines of a ctl buffer are dispatched: as they complete
 * (write), at a close (flush: also a last line without newline, but a line
 * waiting for the next one with nothing after it stays, since a shell's
 * child closing its copy of the descriptor flushes too), or at the last
 * close (release: everything). */
typedef enum { CTL_LINES_COMPLETE, CTL_LINES_FLUSH, CTL_LINES_RELEASE } CtlLinesWhen;

/* Dispatches the lines of a ctl buffer; returns the first failure (or 0)
 * and in *ret_used how much of the buffer was dispatched. */
static int apply_ctl_lines(FsContext *ctx, Obj *obj, const FsFile *file, const char *data,
                           size_t len, CtlLinesWhen when, size_t *ret_used) {
  bool at_close = when != CTL_LINES_COMPLETE;
  size_t pos = 0;
  int r = 0;
  while (pos < len && r >= 0) {
    const char *p = data + pos, *end = data + len;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl && !at_close)
      break;
    const char *stop = nl ? nl : end;
    size_t next = nl ? (size_t)(nl + 1 - data) : len;
    g_autofree char *line = g_strndup(p, (size_t)(stop - p));
    if (file->ctl_joins_next && file->ctl_joins_next(g_strstrip(line))) {
      const char *q = data + next;
      const char *nl2 = memchr(q, '\n', (size_t)(end - q));
      if (!nl2 && (!at_close || (when == CTL_LINES_FLUSH && q == end)))
        break;
      const char *stop2 = nl2 ? nl2 : end;
      r = apply_ctl_pair(ctx, obj, file, p, (size_t)(stop - p), q, (size_t)(stop2 - q));
      pos = nl2 ? (size_t)(nl2 + 1 - data) : len;
      continue;
    }
    r = apply_ctl_line(ctx, obj, file, p, (size_t)(stop - p));
    pos = next;
  }
  *ret_used = pos;
  return r;
}

int fs_apply_content(FsContext *ctx, Obj *obj, const FsFile *file, const char *data,
                     size_t len) {
  if (!file->write)
    return -EACCES;
  g_autofree char *error = NULL;
  int r;
  switch (file->kind) {
  case FS_FILE_VALUE: {
    g_autofree char *value = NULL;
    if (value_trim(data, len, &value) < 0) {
      obj_set_error(obj, "%s: a value is one line of text", file->name);
      return -EINVAL;
    }
    r = write_file(ctx, obj, file, value, strlen(value), &error);
    break;
  }
  case FS_FILE_DOCUMENT:
    r = write_file(ctx, obj, file, data, len, &error);
    break;
  case FS_FILE_CTL: {
    size_t used;
    return apply_ctl_lines(ctx, obj, file, data, len, CTL_LINES_RELEASE, &used);
  }
  default:
    return -EINVAL;
  }
  report(obj, file, r, error);
  /* The error file holds the last failure; a write that applied means the
   * object is as asked, so an older sentence would only mislead. */
  if (r >= 0 && obj)
    obj_clear_error(obj);
  return r;
}

/* A document that is already whole when written: what its commit at close
 * would refuse for its content alone (it does not parse as the object's
 * kind, or names another object), with the sentence the commit would
 * store. What needs the registry or a driver (UUID clashes, an active
 * pool) is still checked at close only. */
static int check_document(Obj *obj, const char *data, size_t len, char **ret_error) {
  void *def = NULL;
  g_autofree char *error = NULL;
  int r = obj->type->parse(data, len, &def, &error);
  if (r < 0) {
    *ret_error = g_strdup_printf("config.xml: %s", error);
    return r;
  }
  g_autofree char *name = obj_dup_name(obj);
  const char *def_name = obj->type->get_name(def);
  if (g_strcmp0(def_name, name) != 0) {
    *ret_error = g_strdup_printf("config.xml: the XML names %s '%s' but this is '%s': rename "
                                 "the directory instead", obj_kind_to_string(obj->kind),
                                 def_name ? def_name : "", name);
    r = -EINVAL;
  }
  obj->type->free(def);
  return r;
}

int fs_handle_write(FsContext *ctx, FsHandle *h, const char *data, size_t size, off_t offset) {
  if (offset < 0)
    return -EINVAL;
  g_mutex_lock(&h->lock);
  int r = (int)size;
  if (h->file->kind == FS_FILE_CTL) {
    /* Dispatch every complete line now, keep a partial last line. */
    g_string_append_len(h->buf, data, (gssize)size);
    size_t used = 0;
    int res = apply_ctl_lines(ctx, h->obj, h->file, h->buf->str, h->buf->len,
                              CTL_LINES_COMPLETE, &used);
    if (used > 0)
      explicit_bzero(h->buf->str, used); /* a password may have been there */
    g_string_erase(h->buf, 0, (gssize)used);
    if (res < 0)
      r = res;
    h->dirty = h->buf->len > 0;
    g_mutex_unlock(&h->lock);
    return r;
  }
  if ((uint64_t)offset + size > 4 * 1024 * 1024) {
    g_mutex_unlock(&h->lock);
    return -EFBIG;
  }
  if ((size_t)offset > h->buf->len) {
    size_t old = h->buf->len;
    g_string_set_size(h->buf, (gsize)offset);
    memset(h->buf->str + old, 0, (size_t)offset - old);
  }
  if ((size_t)offset + size > h->buf->len)
    g_string_set_size(h->buf, (gsize)offset + size);
  memcpy(h->buf->str + offset, data, size);
  h->dirty = true;
  h->wrote = true;
  /* A definition (config.xml) that is whole once this write is in is
   * checked here, so
   * `echo '<domain>bad</domain>' > config.xml` fails in write() where the
   * shell sees it (clients.md 3); a valid one still commits at close, and
   * a writer sending it in pieces is checked only at close, as before. A
   * refused document is dropped: close then changes nothing. */
  if (h->file->kind == FS_FILE_DOCUMENT && h->obj && h->file->write &&
      strcmp(h->file->name, "config.xml") == 0 &&
      xml_is_complete_document(h->buf->str, h->buf->len)) {
    g_autofree char *error = NULL;
    int res = check_document(h->obj, h->buf->str, h->buf->len, &error);
    if (res < 0) {
      obj_set_error(h->obj, "%s", error);
      h->dirty = false;
      h->wrote = false;
      r = res;
    }
  }
  /* A complete value line is applied here, so `echo bad > file` fails in
   * write() where the shell sees it (clients.md 3). */
  if (h->file->kind == FS_FILE_VALUE && h->buf->len > 0 && h->buf->str[h->buf->len - 1] == '\n') {
    h->dirty = false;
    int res = fs_apply_content(ctx, h->obj, h->file, h->buf->str, h->buf->len);
    if (res < 0)
      r = res;
  }
  g_mutex_unlock(&h->lock);
  return r;
}

int fs_handle_truncate(FsHandle *h, off_t size) {
  if (size < 0)
    return -EINVAL;
  if ((uint64_t)size > 4 * 1024 * 1024)
    return -EFBIG;
  g_mutex_lock(&h->lock);
  if ((size_t)size != h->buf->len) {
    size_t old = h->buf->len;
    g_string_set_size(h->buf, (gsize)size);
    if ((size_t)size > old)
      memset(h->buf->str + old, 0, (size_t)size - old);
    if (h->file->kind != FS_FILE_CTL)
      h->dirty = true;
  }
  g_mutex_unlock(&h->lock);
  return 0;
}

int fs_handle_commit(FsContext *ctx, FsHandle *h, bool last) {
  if (h->type != FS_HANDLE_TABLE || !h->writable)
    return 0;
  g_mutex_lock(&h->lock);
  int r = 0;
  if (h->dirty && h->file->kind == FS_FILE_CTL && h->file->write) {
    size_t used = 0;
    r = apply_ctl_lines(ctx, h->obj, h->file, h->buf->str, h->buf->len,
                        last ? CTL_LINES_RELEASE : CTL_LINES_FLUSH, &used);
    explicit_bzero(h->buf->str, used);
    g_string_erase(h->buf, 0, (gssize)used);
    if (r < 0 || last)
      g_string_truncate(h->buf, 0);
    h->dirty = h->buf->len > 0;
    h->wrote = false;
  } else if (h->dirty && !h->wrote && h->obj && h->file->kind != FS_FILE_CTL &&
      !h->file->empty_applies) {
    h->dirty = false;
    fs_pending_truncate(h->obj, h->file->name, (off_t)h->buf->len);
  } else if (h->dirty) {
    h->dirty = false;
    h->wrote = false;
    r = fs_apply_content(ctx, h->obj, h->file, h->buf->str, h->buf->len);
    if (h->file->kind == FS_FILE_CTL)
      g_string_truncate(h->buf, 0);
  }
  g_mutex_unlock(&h->lock);
  return r;
}
