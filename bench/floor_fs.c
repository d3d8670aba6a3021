/* floor_fs.c — the floor for small-read latency: the smallest FUSE
 * filesystem (high-level API, multithreaded like virtfs) serving one
 * constant file /value. bench/run measures open+read+close on it and on
 * virtfs in the same run and prints the ratio. */
#include <errno.h>
#include <fuse.h>
#include <string.h>
#include <sys/stat.h>

static const char content[] = "2097152\n";

static int floor_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  memset(st, 0, sizeof(*st));
  if (strcmp(path, "/") == 0) {
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
    return 0;
  }
  if (strcmp(path, "/value") == 0) {
    st->st_mode = S_IFREG | 0444;
    st->st_nlink = 1;
    st->st_size = sizeof(content) - 1;
    return 0;
  }
  return -ENOENT;
}

static int floor_open(const char *path, struct fuse_file_info *fi) {
  return strcmp(path, "/value") == 0 ? 0 : -ENOENT;
}

static int floor_read(const char *path, char *buf, size_t size, off_t off,
                      struct fuse_file_info *fi) {
  size_t len = sizeof(content) - 1;
  if ((size_t)off >= len)
    return 0;
  size_t n = len - (size_t)off < size ? len - (size_t)off : size;
  memcpy(buf, content + off, n);
  return (int)n;
}

static const struct fuse_operations floor_ops = {
  .getattr = floor_getattr,
  .open = floor_open,
  .read = floor_read,
};

int main(int argc, char **argv) {
  return fuse_main(argc, argv, &floor_ops, NULL);
}
