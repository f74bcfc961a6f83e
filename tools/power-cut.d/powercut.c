/*
 * An LD_PRELOAD layer that makes a SIGKILL behave like a power cut for the files under one
 * folder: before every write to such a file, the bytes it overwrites (and the file's size) are
 * appended to an undo log kept per file; fsync/fdatasync of the file empties its log, because
 * from then on those writes are durable. After the process is killed, `power-cut revert`
 * replays every log backwards, throwing away each write no fsync made durable, the way the
 * page cache is lost when the power goes (the approach of LazyFS and CrashMonkey, by undo
 * rather than by a buffering filesystem).
 *
 *   POWERCUT_DIR   the folder whose files are tracked (a prefix of their absolute paths)
 *   POWERCUT_UNDO  the folder for the undo logs (not under POWERCUT_DIR)
 *
 * Metadata (creation, rename, unlink) is left as it happens: the server's data lives in
 * files that exist before the cuts start.
 *
 * Undo record: u64 offset, u64 length of old bytes kept, u64 file size before the write,
 * then the old bytes. A log is named after the tracked file's path, '/' written as '%'.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FD 65536

static pthread_mutex_t lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static char *tracked[MAX_FD];     /* the tracked file's path, by descriptor */
static int undo_fd[MAX_FD];       /* its open undo log (+1; 0 when closed) */
static char root[PATH_MAX], undo_dir[PATH_MAX];
static int configured = -1;

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static int (*real_ftruncate)(int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

static void setup(void) {
    if (configured != -1) return;
    real_open = dlsym(RTLD_NEXT, "open");
    real_openat = dlsym(RTLD_NEXT, "openat");
    real_close = dlsym(RTLD_NEXT, "close");
    real_write = dlsym(RTLD_NEXT, "write");
    real_pwrite = dlsym(RTLD_NEXT, "pwrite");
    real_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    const char *dir = getenv("POWERCUT_DIR"), *undo = getenv("POWERCUT_UNDO");
    if (dir && undo && realpath(dir, root) && realpath(undo, undo_dir)) {
        configured = 1;
    } else {
        configured = 0;
    }
}

static void log_path(const char *path, char *out) {
    size_t n = (size_t)snprintf(out, PATH_MAX, "%s/", undo_dir);
    for (const char *p = path; *p && n < PATH_MAX - 1; p++) out[n++] = *p == '/' ? '%' : *p;
    out[n] = 0;
}

static void track(int fd, const char *given) {
    if (configured != 1 || fd < 0 || fd >= MAX_FD) return;
    char path[PATH_MAX];
    if (!realpath(given, path)) return;
    size_t length = strlen(root);
    if (strncmp(path, root, length) != 0 || (path[length] != '/' && path[length] != 0)) return;
    pthread_mutex_lock(&lock);
    free(tracked[fd]);
    tracked[fd] = strdup(path);
    char log[PATH_MAX];
    log_path(path, log);
    if (undo_fd[fd]) real_close(undo_fd[fd] - 1);
    int u = real_open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    undo_fd[fd] = u >= 0 ? u + 1 : 0;
    pthread_mutex_unlock(&lock);
}

static void write_all(int fd, const void *data, size_t size) {
    const char *p = data;
    while (size > 0) {
        ssize_t n = real_write(fd, p, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            abort(); /* an undo log that cannot be written would make the test lie */
        }
        p += n;
        size -= (size_t)n;
    }
}

/* Records what a write of `size` bytes at `offset` is about to overwrite. */
static void remember(int fd, off_t offset, size_t size) {
    if (fd < 0 || fd >= MAX_FD || !tracked[fd] || !undo_fd[fd]) return;
    struct stat info;
    if (fstat(fd, &info) != 0) return;
    uint64_t header[3];
    uint64_t before = (uint64_t)info.st_size;
    uint64_t kept = 0;
    if ((uint64_t)offset < before) kept = before - (uint64_t)offset < size ? before - (uint64_t)offset : size;
    char *old = kept ? malloc(kept) : NULL;
    if (kept) {
        ssize_t got = pread(fd, old, kept, offset);
        kept = got > 0 ? (uint64_t)got : 0;
    }
    header[0] = (uint64_t)offset;
    header[1] = kept;
    header[2] = before;
    write_all(undo_fd[fd] - 1, header, sizeof header);
    if (kept) write_all(undo_fd[fd] - 1, old, kept);
    free(old);
}

/* The file's writes are durable: its undo log starts again. */
static void forget(int fd) {
    if (getenv("POWERCUT_IGNORE_SYNC")) return; /* a disk that lies about fsync */
    if (fd < 0 || fd >= MAX_FD || !tracked[fd] || !undo_fd[fd]) return;
    if (real_ftruncate(undo_fd[fd] - 1, 0) != 0) abort();
}

int open(const char *path, int flags, ...) {
    setup();
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list list;
        va_start(list, flags);
        mode = va_arg(list, mode_t);
        va_end(list);
    }
    int fd = real_open(path, flags, mode);
    if (fd >= 0) track(fd, path);
    return fd;
}
int open64(const char *path, int flags, ...) __attribute__((alias("open")));

int openat(int dirfd, const char *path, int flags, ...) {
    setup();
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list list;
        va_start(list, flags);
        mode = va_arg(list, mode_t);
        va_end(list);
    }
    int fd = real_openat(dirfd, path, flags, mode);
    if (fd >= 0 && (path[0] == '/' || dirfd == AT_FDCWD)) track(fd, path);
    return fd;
}
int openat64(int dirfd, const char *path, int flags, ...) __attribute__((alias("openat")));

int close(int fd) {
    setup();
    if (fd >= 0 && fd < MAX_FD) {
        pthread_mutex_lock(&lock);
        if (tracked[fd]) {
            free(tracked[fd]);
            tracked[fd] = NULL;
            if (undo_fd[fd]) real_close(undo_fd[fd] - 1);
            undo_fd[fd] = 0;
        }
        pthread_mutex_unlock(&lock);
    }
    return real_close(fd);
}

ssize_t write(int fd, const void *data, size_t size) {
    setup();
    if (fd >= 0 && fd < MAX_FD && tracked[fd]) {
        pthread_mutex_lock(&lock);
        off_t at = lseek(fd, 0, SEEK_CUR);
        if (at >= 0) remember(fd, at, size);
        ssize_t n = real_write(fd, data, size);
        pthread_mutex_unlock(&lock);
        return n;
    }
    return real_write(fd, data, size);
}

ssize_t pwrite(int fd, const void *data, size_t size, off_t offset) {
    setup();
    if (fd >= 0 && fd < MAX_FD && tracked[fd]) {
        pthread_mutex_lock(&lock);
        remember(fd, offset, size);
        ssize_t n = real_pwrite(fd, data, size, offset);
        pthread_mutex_unlock(&lock);
        return n;
    }
    return real_pwrite(fd, data, size, offset);
}
ssize_t pwrite64(int fd, const void *data, size_t size, off_t offset) __attribute__((alias("pwrite")));

int ftruncate(int fd, off_t length) {
    setup();
    if (fd >= 0 && fd < MAX_FD && tracked[fd]) {
        pthread_mutex_lock(&lock);
        struct stat info;
        if (fstat(fd, &info) == 0 && length < info.st_size) remember(fd, length, (size_t)(info.st_size - length));
        else remember(fd, length, 0);
        int r = real_ftruncate(fd, length);
        pthread_mutex_unlock(&lock);
        return r;
    }
    return real_ftruncate(fd, length);
}
int ftruncate64(int fd, off_t length) __attribute__((alias("ftruncate")));

/* After a successful fsync or fdatasync of `fd`: its file's writes so far are durable. */
static int synced(int fd, int result) {
    if (result == 0 && fd >= 0 && fd < MAX_FD && tracked[fd]) {
        pthread_mutex_lock(&lock);
        forget(fd);
        pthread_mutex_unlock(&lock);
    }
    return result;
}

int fsync(int fd) {
    setup();
    return synced(fd, real_fsync(fd));
}

int fdatasync(int fd) {
    setup();
    return synced(fd, real_fdatasync(fd));
}
