#ifndef CLMDB_SHIM_H
#define CLMDB_SHIM_H
#include <lmdb.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

/// Starts writeback of a file's dirty pages without waiting for it (Linux `sync_file_range` with
/// `SYNC_FILE_RANGE_WRITE`), so that a later fdatasync has little left to do. Elsewhere a no-op.
static inline int clmdb_start_writeback(int fd) {
#if defined(__linux__) && defined(SYS_sync_file_range)
    return (int)syscall(SYS_sync_file_range, fd, (long long)0, (long long)0, 2u);
#elif defined(__linux__) && defined(SYS_sync_file_range2)
    return (int)syscall(SYS_sync_file_range2, fd, 2u, (long long)0, (long long)0);
#else
    (void)fd;
    return 0;
#endif
}
#endif
