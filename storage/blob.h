/* storage/blob.h -- chunk files on the data directories.
 *
 * DESIGN: a chunk is one immutable file named by its id:
 * <datadir>/chunks/<2 hex digits>/<16 hex digits>. It is written to
 * <datadir>/tmp/, fdatasync'ed, renamed into place and its directory fsync'ed;
 * only then may metadata point at it (the commit order lives in store.c). No
 * object key ever becomes a path.
 *
 * A directory that fails is left out of new placements (layout.c):
 *  - failed, until restart: an I/O error (after a failed fsync the page cache
 *    cannot be trusted, and retrying fsync would report success for data that
 *    never reached the disk), a read-only filesystem, or a directory gone;
 *  - full, for BLOB_FULL_RETRY_SECS, then tried again: no space or quota left.
 * Reads still try a failed directory when no other copy serves.
 */
#ifndef COFFER_BLOB_H
#define COFFER_BLOB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define BLOB_FULL_RETRY_SECS 10

typedef struct blob_dir {
    char *path;                              /* owned: the data directory root */
    uint64_t capacity;                       /* bytes (statvfs total size); the placement weight */
    atomic_int failed;                       /* set once (blob_note_error); never cleared while open */
    atomic_int_least64_t full_until;         /* CLOCK_MONOTONIC seconds until which it counts as full */
    atomic_uint_least64_t fanout_durable[4]; /* bit xx: chunks/ was fsynced after chunks/<xx> was seen to exist */
} blob_dir_t;

typedef struct blob_stage {
    blob_dir_t *dir; /* borrowed */
    uint64_t id;
    int fd;     /* -1 once closed */
    int direct; /* fd has O_DIRECT (see blob_stage_open) */
    char tmp_path[4096];
} blob_stage_t;

/** What a direct write's buffers, lengths and file offsets must be multiples of (see blob_stage_open). */
#define BLOB_DIRECT_ALIGN 4096

/**
 * Prepares a data directory: creates it, tmp/ and chunks/ when missing (the
 * chunks/<xx> fan-out directories are made on first use), and measures its
 * capacity. Stale temp files are left for blob_dir_clear_tmp (storage/gc.c).
 * Object records name a chunk's directory by its index in the configuration,
 * so the index is written into the directory (file "coffer-dir") on first use
 * and a directory configured under another index is refused.
 * Returns 0, or -errno with a reason in errbuf.
 */
int blob_dir_open(blob_dir_t *d, const char *path, unsigned index, char *errbuf, size_t errbuf_len);
void blob_dir_close(blob_dir_t *d);
/** Returns 1 when any chunk file exists under d, 0 when none, -errno on error. */
int blob_dir_has_chunks(const blob_dir_t *d);

/**
 * Removes every file (not directory) in d's tmp/: temp files of writes a crash interrupted.
 * Only while nothing writes to d (at open). *removed gets how many went. Returns 0 or -errno.
 */
int blob_dir_clear_tmp(const blob_dir_t *d, size_t *removed);

/**
 * Calls fn(ctx, id) for every chunk file under d: a regular file whose path is exactly the one
 * blob_chunk_path gives its id (chunks/<xx>/<16 lowercase hex digits>, xx the id's low byte, id
 * not 0). Every other entry is left out and counted in *num_other (may be NULL). Stops at fn's
 * first non-zero value and returns it. Returns 0, fn's value, or -errno (a directory unreadable).
 */
int blob_dir_walk(const blob_dir_t *d, int (*fn)(void *ctx, uint64_t id), void *ctx, size_t *num_other);

/** Writes the final path of chunk id in d into out. */
void blob_chunk_path(const blob_dir_t *d, uint64_t id, char *out, size_t out_len);

/**
 * Creates the temp file for chunk id. direct: write around the page cache (O_DIRECT) where
 * the file system allows it: the bytes go from the caller's buffers to the disk, with no
 * copy into the page cache and nothing cached evicted for them. Writes stay direct while
 * every iovec's address and length are multiples of BLOB_DIRECT_ALIGN; the first one that
 * is not (an object's last bytes), or a write the file system refuses as direct, goes
 * through the page cache, and so does the rest of the file. Returns 0 or -errno.
 */
int blob_stage_open(blob_dir_t *d, uint64_t id, int direct, blob_stage_t *st);
/** Appends the iovecs to the temp file, retrying short writes. Returns 0 or -errno. */
int blob_stage_write(blob_stage_t *st, const struct iovec *iov, int iovcnt);
/**
 * Asks the kernel to start writing the temp file out now (sync_file_range), so
 * the fdatasync that follows finds little left to do. A hint: errors surface in
 * blob_stage_sync.
 */
void blob_stage_start_writeback(blob_stage_t *st);
/** fdatasync's and closes the temp file. Returns 0 or -errno; the caller judges it with blob_note_error. */
int blob_stage_sync(blob_stage_t *st);
/**
 * Renames a synced temp file to its final name without syncing the directory:
 * the caller must blob_sync_fanout() it before anything refers to the chunk
 * (several renames into one directory then share one fsync). Returns 0 or -errno.
 */
int blob_stage_rename(blob_stage_t *st);
/** Fsyncs the fan-out directory that holds chunk id (EIO marks d failed). Returns 0 or -errno. */
int blob_sync_fanout(blob_dir_t *d, uint64_t id);
/** Closes (when open) and removes the temp file. */
void blob_stage_abort(blob_stage_t *st);

/** Opens chunk id for reading. Returns an fd or -errno. */
int blob_open_read(const blob_dir_t *d, uint64_t id);
/** Reads exactly len bytes at off. Returns 0, -ENODATA (the file is shorter) or -errno (-EIO: a read error). */
int blob_pread(int fd, void *buf, size_t len, uint64_t off);
/**
 * Maps len bytes at off (a multiple of the page size) of an open chunk file, read-only and
 * populated from the page cache, for a read that needs no copy. Returns 0 with *out set, -ENODATA
 * when the file is shorter than off + len (mapping past the end would fault), or -errno.
 * Release with munmap(*out, len).
 */
int blob_map(int fd, uint64_t off, size_t len, void **out);
/** Removes chunk id's file. Returns 0 or -errno (-ENOENT when it was already gone). */
int blob_unlink(const blob_dir_t *d, uint64_t id);

/**
 * Judges an error of an operation (op, on path) in d: no space or quota marks d full for a
 * while, an I/O error, a read-only filesystem or a vanished directory marks it failed; the
 * change is logged once. Returns 1 when the error is the directory's (another directory may
 * do), 0 for any other error.
 */
int blob_note_error(blob_dir_t *d, const char *op, const char *path, int err);
/** Whether d takes new chunks now: not failed, and not full. */
int blob_dir_usable(const blob_dir_t *d);
/** Whether d's root and chunks/ still exist (a missing chunk in a vanished directory fails it). */
int blob_dir_present(const blob_dir_t *d);

#endif
