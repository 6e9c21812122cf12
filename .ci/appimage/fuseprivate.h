/* The option-parsing part of squashfuse 0.1.105's libsquashfuse_ll.a, which AppImage's
   type2-runtime uses: Debian 12 installs the library but not this header (package-appimage.sh). */
#include <stdbool.h>
#include <stddef.h>
#include <fuse_opt.h>

typedef struct {
  char *progname;
  const char *image;
  int mountpoint;
  size_t offset;
  unsigned int idle_timeout_secs;
} sqfs_opts;

void sqfs_usage(char *progname, bool fuse_usage);
int sqfs_opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs);
