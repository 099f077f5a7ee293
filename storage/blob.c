/* storage/blob.c -- chunk files on the data directories.
 *
 * DESIGN: see blob.h for the naming and durability rules. The sequence for a
 * new chunk is
 *     open tmp/<id>.tmp -> write -> fdatasync -> close -> rename into
 *     chunks/<xx>/<id> -> fsync chunks/<xx>
 * fdatasync before rename: otherwise a crash after the rename is journaled can
 * leave the final name pointing at a file with missing or zero data (ext4
 * delalloc, xfs). fsync of the directory after rename: otherwise a crash can
 * forget the rename itself, and the metadata committed next would point at a
 * chunk that does not exist. tmp/ sits in the same data directory so the
 * rename never crosses a filesystem. Reads use pread on a per-call fd.
 *
 * What a crash leaves (temp files, chunk files nothing references) is found
 * by blob_dir_clear_tmp and blob_dir_walk and collected at open by storage/gc.c.
 */
#include "storage/blob.h"
#include "storage/fsdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

static int64_t monotonic_secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

static void mark_failed(blob_dir_t *d, const char *op, const char *path, int err)
{
    if (atomic_exchange(&d->failed, 1) == 0)
        fprintf(stderr, "coffer: storage: %s %s: %s; data directory %s marked failed\n", op, path, strerror(err), d->path);
}

int blob_note_error(blob_dir_t *d, const char *op, const char *path, int err)
{
    if (err < 0)
        err = -err;
    switch (err) {
    case ENOSPC:
    case EDQUOT: {
        int64_t now = monotonic_secs();
        if (atomic_exchange(&d->full_until, now + BLOB_FULL_RETRY_SECS) <= now)
            fprintf(stderr, "coffer: storage: %s %s: %s; data directory %s is full, new chunks go elsewhere\n", op, path,
                    strerror(err), d->path);
        return 1;
    }
    case EIO:
    case EROFS:
    case ENOTDIR:
    case ESTALE:
    case ENODEV:
    case ENXIO:
        mark_failed(d, op, path, err);
        return 1;
    case ENOENT: /* a temp file or fan-out that cannot be made: the directory itself is gone */
        if (blob_dir_present(d))
            return 0;
        mark_failed(d, op, path, err);
        return 1;
    default:
        return 0;
    }
}

int blob_dir_usable(const blob_dir_t *d)
{
    return !atomic_load(&d->failed) && atomic_load(&d->full_until) <= monotonic_secs();
}

int blob_dir_present(const blob_dir_t *d)
{
    char path[PATH_MAX];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/chunks", d->path);
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Fsyncs a directory so entries created or renamed in it survive a crash. Returns 0 or -errno. */
static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ret = 0;
    if (fd < 0)
        return -errno;
    if (fsync(fd) != 0)
        ret = -errno;
    close(fd);
    return ret;
}

/*
 * Checks or writes <path>/coffer-dir, which records the directory's index.
 * Returns 0, -EXDEV when the directory was configured under another index, or -errno.
 */
static int check_index(const char *path, unsigned index, unsigned *found)
{
    char file[PATH_MAX], tmp[PATH_MAX], want[64], have[64];
    int len = snprintf(want, sizeof(want), "coffer data directory %u\n", index);
    int fd, ret = 0;

    snprintf(file, sizeof(file), "%s/coffer-dir", path);
    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, have, sizeof(have) - 1);
        close(fd);
        if (n < 0)
            return -errno;
        have[n] = '\0';
        if (sscanf(have, "coffer data directory %u", found) != 1)
            return -EINVAL;
        return *found == index ? 0 : -EXDEV;
    }
    if (errno != ENOENT)
        return -errno;
    /* write-sync-rename-fsync like a chunk: a torn marker would refuse the next start */
    snprintf(tmp, sizeof(tmp), "%s/tmp/coffer-dir", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    errno = 0;
    if (write(fd, want, (size_t)len) != len || fdatasync(fd) != 0)
        ret = errno ? -errno : -EIO;
    close(fd);
    if (ret == 0 && rename(tmp, file) != 0)
        ret = -errno;
    if (ret == 0)
        ret = fsync_dir(path);
    return ret;
}

int blob_dir_open(blob_dir_t *d, const char *path, unsigned index, char *errbuf, size_t errbuf_len)
{
    char sub[PATH_MAX];
    struct statvfs vfs;
    int ret, made = 0;
    const char *op = "mkdir";

    memset(d, 0, sizeof(*d));
    d->path = strdup(path);
    if (d->path == NULL)
        abort();
    if ((ret = fsdir_make_parents(path)) != 0)
        goto Fail;
    snprintf(sub, sizeof(sub), "%s/tmp", path);
    if ((ret = fsdir_make(sub, &made)) != 0)
        goto Fail;
    snprintf(sub, sizeof(sub), "%s/chunks", path);
    if ((ret = fsdir_make(sub, &made)) != 0)
        goto Fail;
    if (made) {
        /* new directory entries must survive a crash before chunks are renamed into them */
        op = "fsync";
        if ((ret = fsync_dir(path)) != 0)
            goto Fail;
    }
    op = "coffer-dir marker";
    unsigned found = 0;
    if ((ret = check_index(path, index, &found)) == -EXDEV) {
        snprintf(errbuf, errbuf_len,
                 "data directory %s was configured as directory number %u, now as number %u: "
                 "the order of the data directories must not change",
                 path, found, index);
        free(d->path);
        d->path = NULL;
        return -EINVAL;
    }
    if (ret != 0)
        goto Fail;
    op = "statvfs";
    if (statvfs(path, &vfs) != 0) {
        ret = -errno;
        goto Fail;
    }
    d->capacity = (uint64_t)vfs.f_blocks * vfs.f_frsize;
    return 0;

Fail:
    snprintf(errbuf, errbuf_len, "data directory %s: %s: %s", path, op, strerror(-ret));
    free(d->path);
    d->path = NULL;
    return ret;
}

void blob_dir_close(blob_dir_t *d)
{
    free(d->path);
    d->path = NULL;
}

int blob_dir_has_chunks(const blob_dir_t *d)
{
    char sub[PATH_MAX];
    struct dirent *e;
    int found = 0;

    snprintf(sub, sizeof(sub), "%s/chunks", d->path);
    DIR *top = opendir(sub);
    if (top == NULL)
        return errno == ENOENT ? 0 : -errno;
    while (!found && (e = readdir(top)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof(sub), "%s/chunks/%s", d->path, e->d_name);
        DIR *fan = opendir(sub);
        if (fan == NULL) {
            found = errno == ENOTDIR; /* a stray file counts as data too */
            continue;
        }
        struct dirent *c;
        while (!found && (c = readdir(fan)) != NULL)
            found = c->d_name[0] != '.';
        closedir(fan);
    }
    closedir(top);
    return found;
}

void blob_chunk_path(const blob_dir_t *d, uint64_t id, char *out, size_t out_len)
{
    snprintf(out, out_len, "%s/chunks/%02x/%016" PRIx64, d->path, (unsigned)(id & 0xFF), id);
}

int blob_stage_open(blob_dir_t *d, uint64_t id, int direct, blob_stage_t *st)
{
    st->dir = d;
    st->id = id;
    st->direct = direct;
    snprintf(st->tmp_path, sizeof(st->tmp_path), "%s/tmp/%016" PRIx64 ".tmp", d->path, id);
    st->fd = open(st->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | (direct ? O_DIRECT : 0), 0600);
    if (st->fd < 0 && direct && errno == EINVAL) {
        /* no direct I/O on this file system: Linux refuses it only after creating the file */
        if (unlink(st->tmp_path) != 0 && errno != ENOENT)
            return -errno;
        return blob_stage_open(d, id, 0, st);
    }
    if (st->fd < 0)
        return -errno;
    return 0;
}

/* Whether every iovec can go to the disk directly (see blob_stage_open). */
static int direct_aligned(const struct iovec *iov, int iovcnt)
{
    for (int i = 0; i < iovcnt; i++)
        if ((uintptr_t)iov[i].iov_base % BLOB_DIRECT_ALIGN != 0 || iov[i].iov_len % BLOB_DIRECT_ALIGN != 0)
            return 0;
    return 1;
}

/* From now on, st's writes go through the page cache. Returns 0 or -errno. */
static int stop_direct(blob_stage_t *st)
{
    int flags = fcntl(st->fd, F_GETFL);
    if (flags < 0 || fcntl(st->fd, F_SETFL, flags & ~O_DIRECT) != 0)
        return -errno;
    st->direct = 0;
    return 0;
}

int blob_stage_write(blob_stage_t *st, const struct iovec *iov, int iovcnt)
{
    struct iovec local[IOV_MAX];
    int ret;
    while (iovcnt > 0) {
        int n = iovcnt < IOV_MAX ? iovcnt : IOV_MAX;
        memcpy(local, iov, sizeof(*iov) * (size_t)n);
        struct iovec *cur = local;
        int left = n;
        while (left > 0) {
            if (st->direct && !direct_aligned(cur, left) && (ret = stop_direct(st)) != 0)
                return ret;
            ssize_t w = writev(st->fd, cur, left);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EINVAL && st->direct) { /* the file system wants another alignment */
                    if ((ret = stop_direct(st)) != 0)
                        return ret;
                    continue;
                }
                return -errno;
            }
            /* skip what was written; resume inside a partially written iovec */
            while (left > 0 && (size_t)w >= cur->iov_len) {
                w -= (ssize_t)cur->iov_len;
                cur++;
                left--;
            }
            if (left > 0) {
                cur->iov_base = (char *)cur->iov_base + w;
                cur->iov_len -= (size_t)w;
            }
        }
        iov += n;
        iovcnt -= n;
    }
    return 0;
}

int blob_stage_sync(blob_stage_t *st)
{
    int ret = 0;
    /* data before name: see the DESIGN note */
    if (fdatasync(st->fd) != 0)
        ret = -errno; /* the caller judges it (blob_note_error): EIO fails the directory, ENOSPC marks it full */
    if (close(st->fd) != 0 && ret == 0)
        ret = -errno;
    st->fd = -1;
    return ret;
}

/* Creates chunks/<xx> on first use; blob_sync_fanout makes its name durable. Returns 0 or -errno. */
static int make_fanout_dir(const char *dir)
{
    int made = 0;
    return fsdir_make(dir, &made);
}

void blob_stage_start_writeback(blob_stage_t *st)
{
    (void)sync_file_range(st->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

int blob_stage_rename(blob_stage_t *st)
{
    char final[PATH_MAX], dir[PATH_MAX];
    int ret;

    blob_chunk_path(st->dir, st->id, final, sizeof(final));
    if (rename(st->tmp_path, final) == 0)
        return 0;
    if (errno != ENOENT)
        return -errno;
    snprintf(dir, sizeof(dir), "%s/chunks/%02x", st->dir->path, (unsigned)(st->id & 0xFF));
    if ((ret = make_fanout_dir(dir)) != 0)
        return ret;
    return rename(st->tmp_path, final) == 0 ? 0 : -errno;
}

int blob_sync_fanout(blob_dir_t *d, uint64_t id)
{
    char dir[PATH_MAX];
    int ret;

    unsigned xx = (unsigned)(id & 0xFF);
    snprintf(dir, sizeof(dir), "%s/chunks/%02x", d->path, xx);
    /* the rename must be durable before metadata points at the chunk */
    if ((ret = fsync_dir(dir)) == -EIO)
        mark_failed(d, "fsync", dir, EIO);
    /* and so must the fan-out's own name, whoever created it (once per fan-out and process) */
    uint64_t bit = 1ull << (xx & 63);
    if (ret == 0 && (atomic_load(&d->fanout_durable[xx >> 6]) & bit) == 0) {
        snprintf(dir, sizeof(dir), "%s/chunks", d->path);
        if ((ret = fsync_dir(dir)) == -EIO)
            mark_failed(d, "fsync", dir, EIO);
        if (ret == 0)
            atomic_fetch_or(&d->fanout_durable[xx >> 6], bit);
    }
    return ret;
}

void blob_stage_abort(blob_stage_t *st)
{
    if (st->fd >= 0) {
        close(st->fd);
        st->fd = -1;
    }
    unlink(st->tmp_path);
}

int blob_open_read(const blob_dir_t *d, uint64_t id)
{
    char path[PATH_MAX];
    blob_chunk_path(d, id, path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int blob_map(int fd, uint64_t off, size_t len, void **out)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return -errno;
    if ((uint64_t)sb.st_size < off + len)
        return -ENODATA;
    void *m = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, (off_t)off);
    if (m == MAP_FAILED)
        return -errno;
    *out = m;
    return 0;
}

int blob_pread(int fd, void *buf, size_t len, uint64_t off)
{
    char *p = buf;
    while (len > 0) {
        ssize_t r = pread(fd, p, len, (off_t)off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            return -ENODATA; /* the file is shorter than the record says: damaged, not a failing disk */
        p += r;
        len -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

int blob_unlink(const blob_dir_t *d, uint64_t id)
{
    char path[PATH_MAX];
    blob_chunk_path(d, id, path, sizeof(path));
    return unlink(path) == 0 ? 0 : -errno;
}

int blob_dir_clear_tmp(const blob_dir_t *d, size_t *removed)
{
    char dir[PATH_MAX];
    struct dirent *e;
    struct stat sb;

    *removed = 0;
    snprintf(dir, sizeof(dir), "%s/tmp", d->path);
    DIR *t = opendir(dir);
    if (t == NULL)
        return -errno;
    while ((e = readdir(t)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        /* files only: a directory someone made here is not ours to remove */
        if (e->d_type == DT_DIR ||
            (e->d_type == DT_UNKNOWN && fstatat(dirfd(t), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode)))
            continue;
        if (unlinkat(dirfd(t), e->d_name, 0) == 0)
            (*removed)++;
        else if (errno != ENOENT)
            fprintf(stderr, "coffer: storage: unlink stale temp file %s/%s: %s\n", dir, e->d_name, strerror(errno));
    }
    closedir(t);
    return 0;
}

/* Parses exactly n lowercase hex digits (the only spelling blob_chunk_path writes). Returns 0 or -1. */
static int parse_hex(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9')
            v = v << 4 | (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v << 4 | (uint64_t)(c - 'a' + 10);
        else
            return -1;
    }
    if (s[n] != '\0')
        return -1;
    *out = v;
    return 0;
}

/* Whether entry name of dir fd is a regular file (never following a symlink). */
static int is_regular(int fd, const struct dirent *e)
{
    struct stat sb;
    if (e->d_type != DT_UNKNOWN)
        return e->d_type == DT_REG;
    return fstatat(fd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode);
}

int blob_dir_walk(const blob_dir_t *d, int (*fn)(void *ctx, uint64_t id), void *ctx, size_t *num_other)
{
    char sub[PATH_MAX];
    struct dirent *e, *c;
    size_t other = 0;
    int ret = 0;

    snprintf(sub, sizeof(sub), "%s/chunks", d->path);
    DIR *top = opendir(sub);
    if (top == NULL)
        return -errno;
    while (ret == 0 && (e = readdir(top)) != NULL) {
        uint64_t fanout, id;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (parse_hex(e->d_name, 2, &fanout) != 0) {
            other++;
            continue;
        }
        snprintf(sub, sizeof(sub), "%s/chunks/%s", d->path, e->d_name);
        DIR *fan = opendir(sub);
        if (fan == NULL) {
            if (errno == ENOTDIR) {
                other++;
                continue;
            }
            ret = -errno;
            break;
        }
        while (ret == 0 && (c = readdir(fan)) != NULL) {
            if (strcmp(c->d_name, ".") == 0 || strcmp(c->d_name, "..") == 0)
                continue;
            /* exactly the name blob_chunk_path gives the id, in the fan-out it gives it: nothing else is a chunk */
            if (parse_hex(c->d_name, 16, &id) != 0 || (id & 0xFF) != fanout || id == 0 || !is_regular(dirfd(fan), c)) {
                other++;
                continue;
            }
            ret = fn(ctx, id);
        }
        closedir(fan);
    }
    closedir(top);
    if (num_other != NULL)
        *num_other = other;
    return ret;
}
