// What Strata's WASI layer needs from Linux that Swift cannot call: openat2(2), a variadic
// syscall without a glibc wrapper.
#pragma once

/// Opens `path` relative to directory `dirfd` with `flags` (open(2) flags; O_PATH for a handle
/// only), resolving every component beneath `dirfd`: `..` that would leave it, absolute paths
/// and symlinks pointing out of it fail with EXDEV (RESOLVE_BENEATH), and /proc magic links
/// are refused. Returns the new descriptor or -errno (-ENOSYS on kernels before 5.6).
int strata_wasi_open_beneath(int dirfd, const char *path, int flags);

/// Constants glibc declares only with _GNU_SOURCE (or that Swift does not import).
int strata_wasi_o_path(void);
long strata_wasi_utime_now(void);
long strata_wasi_utime_omit(void);
