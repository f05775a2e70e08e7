#define _GNU_SOURCE
#include "CStrataWASI.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <errno.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

int strata_wasi_open_beneath(int dirfd, const char *path, int flags) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)flags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd;
    do {
        fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    } while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : (int)fd;
}

int strata_wasi_o_path(void) { return O_PATH; }
long strata_wasi_utime_now(void) { return UTIME_NOW; }
long strata_wasi_utime_omit(void) { return UTIME_OMIT; }
