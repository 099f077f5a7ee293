/* storage/store_internal.h -- what store.c shares with the other storage files that commit (multipart.c).
 *
 * DESIGN: there is one write path. store_stage() turns a body into chunk files
 * that are durable under their final names but referenced by nothing (a crash
 * then leaves orphans for GC, never a visible half object); store_commit()
 * makes them visible with one synced batch that also drops the references of
 * whatever they replace, and returns the chunks that lost their last one, to
 * be unlinked only after that batch is durable. */
#ifndef COFFER_STORE_INTERNAL_H
#define COFFER_STORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/uio.h>

#include "storage/blob.h"
#include "storage/codec.h"
#include "storage/meta.h"
#include "storage/store.h"

#define STORE_DEFAULT_CHUNK_SIZE (8u * 1024 * 1024)
#define STORE_MAX_CHUNK_SIZE (1024u * 1024 * 1024)
#define STORE_DEFAULT_INLINE_MAX (4u * 1024)
#define STORE_MAX_INLINE (1024u * 1024)
#define STORE_ID_BLOCK (1ull << 24)
#define STORE_STRIPES 256

struct store {
    meta_t *meta;
    blob_dir_t *dirs; /* owned */
    size_t num_dirs;
    size_t chunk_size;
    size_t inline_max;
    unsigned copies; /* of each new chunk, in as many data directories */
    pthread_rwlock_t bucket_lock;
    pthread_mutex_t key_locks[STORE_STRIPES];
    pthread_mutex_t ref_locks[STORE_STRIPES];
    /* by upload id, taken before any other lock (multipart.c): part writes share it, completion and abort own it */
    pthread_rwlock_t upload_locks[STORE_STRIPES];
    pthread_mutex_t id_lock;
    uint64_t next_id;  /* under id_lock */
    uint64_t id_limit; /* first id not reserved yet; under id_lock */
    atomic_uint_fast64_t list_steps;
    atomic_uint_fast64_t commit_batches; /* batches the commit thread has written */
    struct store_committer *committer;   /* owned: the commit thread of small PUTs (storage/committer.c) */
};

/** The data to stage: a body in the caller's memory, or a byte range of a stored object. */
typedef struct store_source {
    const struct iovec *iov; /* borrowed */
    size_t iovcnt;
    uint64_t size;                /* total bytes of iov, or of the range */
    const store_object_t *object; /* borrowed: instead of iov, read size bytes of it from object_offset */
    uint64_t object_offset;
} store_source_t;

/** Chunks durable under their final names and referenced by nothing yet. */
typedef struct store_staged {
    uint64_t size;
    uint8_t md5[16];
    size_t num_chunks;
    codec_chunk_in_t *chunks; /* owned */
    uint32_t *crcs;           /* owned: the chunks' block CRCs */
} store_staged_t;

/** A list of chunks (ids and the data directories of their copies). */
typedef struct store_chunk_list {
    uint64_t *ids;
    chunk_place_t *places;
    size_t n, cap;
} store_chunk_list_t;

/**
 * Writes src as chunk files: each one a temp file, fdatasync, rename, fsync of its
 * fan-out directories; the MD5 is checked against expected_md5 (may be NULL) before
 * the last ones are renamed. On error nothing is left on disk. Returns 0,
 * STORE_E_BAD_DIGEST or -errno.
 */
int store_stage(store_t *st, const store_source_t *src, const uint8_t *expected_md5, store_staged_t *out);
/**
 * Ends a stager: syncs its last chunks, checks md5 against expected_md5 (may be NULL), renames
 * them and fsyncs their fan-out directories, as store_stage does (the others are in place
 * already). On error unlinks every chunk it wrote. Frees sg either way.
 */
int store_stager_finish(store_stager_t *sg, const uint8_t md5[16], const uint8_t *expected_md5, store_staged_t *out);
/** Unlinks staged chunks nothing came to reference, and frees sb. */
void store_staged_discard(store_t *st, store_staged_t *sb);
void store_staged_free(store_staged_t *sb);

void store_chunk_list_add(store_chunk_list_t *l, uint64_t id, const chunk_place_t *place);
void store_chunk_list_free(store_chunk_list_t *l);
/** Unlinks the chunk files of l (errors are logged: GC takes what is left). */
void store_unlink_chunks(store_t *st, const store_chunk_list_t *l);

/** One synced batch: an object's new record (or its deletion) and reference changes. */
typedef struct store_commit {
    const char *bucket;  /* NUL-terminated; with okey */
    const uint8_t *okey; /* the object key, or NULL when no object changes */
    size_t okey_len;
    const uint8_t *rec; /* the new object record, or NULL to delete the object */
    size_t rec_len;
    const codec_chunk_in_t *new_chunks; /* born with this batch: reference count 1 */
    size_t num_new_chunks;
    const store_chunk_list_t *add;    /* stored chunks that gain one reference (a copy), or NULL */
    const store_chunk_list_t *drop;   /* chunks that lose one reference in this batch, or NULL */
    const store_precondition_t *cond; /* checked against the object replaced, under its key lock; or NULL */
} store_commit_t;

/**
 * Adds c's changes to b (which may already hold the caller's own records),
 * drops the references of the object c replaces or deletes, and writes b
 * synced. Chunks left without references are appended to freed: unlink them
 * once this returns 0. Returns 0, STORE_E_NO_BUCKET, the condition's error,
 * -EAGAIN (a chunk of add has no reference left) or -errno.
 */
int store_commit(store_t *st, const store_commit_t *c, meta_batch_t *b, store_chunk_list_t *freed);

/** The lock (a stripe shared with other keys) that serialises the writes of one object. */
pthread_mutex_t *store_key_lock(store_t *st, const char *bucket, size_t bucket_len, const char *key, size_t key_len);

/** A small PUT queued for the commit thread (store_object_put_async). */
typedef struct store_pending {
    struct store_pending *next;
    store_put_async_t *a;
    const char *bucket;               /* borrowed from the caller until done */
    const store_precondition_t *cond; /* borrowed, or NULL */
    uint8_t *rec;                     /* owned: the encoded record */
    size_t rec_len;
    pthread_mutex_t *key_lock;
    int deferred; /* put back once already: at the head of a batch, waits for its lock */
    size_t okey_len;
    uint8_t okey[];
} store_pending_t;

/**
 * Commits the queued PUTs of list (linked by next) in one synced batch, in order: each one's
 * condition is checked against what the ones before it left. A PUT whose key lock is busy
 * (another writer, or a PUT to the same key earlier in the list) waits for the next batch,
 * at whose head it waits for its lock. Calls done for each PUT it took, after the batch is durable (or has failed) and
 * the chunks of the objects they replaced are unlinked. Returns the PUTs left for the next
 * batch, in order. Runs on the commit thread.
 */
store_pending_t *store_commit_pending(store_t *st, store_pending_t *list);

/** The commit thread: started by store_open, stopped (after it has committed everything queued) by store_close. */
struct store_committer *store_committer_start(store_t *st);
void store_committer_queue(struct store_committer *c, store_pending_t *p);
void store_committer_stop(struct store_committer *c);

/**
 * Start-up collection (storage/gc.c): empties every data directory's tmp/ and removes every
 * chunk file whose id has no reference-count record and that no object or part record lists.
 * Only from store_open, after the data directories are open and before the chunk-id counter
 * is advanced or anything else uses st: no writer may run. A metadata read error skips the
 * chunk collection (logged; nothing is removed) and still returns 0. Returns 0, or -EINVAL
 * with a reason in errbuf when a chunk file or reference-count record has an id at or above
 * the chunk-id counter (stale or foreign metadata): the store must not open then.
 */
int gc_collect_at_open(store_t *st, char *errbuf, size_t errbuf_len);

/** Whether chunk id still has a reference-count record (ids are never reused: without one its files are gone for good). */
int store_chunk_referenced(store_t *st, uint64_t id);

/** The copies of one chunk being read: fds opened on first use, and what went wrong with each. */
typedef struct store_copies {
    unsigned order[CODEC_MAX_COPIES]; /* copy indexes to try, usable directories first */
    unsigned num;
    int fd[CODEC_MAX_COPIES];  /* by copy index; -1 = not opened */
    int err[CODEC_MAX_COPIES]; /* by copy index: its first error (STORE_E_CORRUPT, -ENOENT, -errno), or 0 */
    unsigned bad;              /* bit k: copy k failed a read */
} store_copies_t;

/**
 * The CRC32C of len mapped bytes into *out. Returns 0, or -EFAULT when the mapping faulted (its
 * file was truncated under it): the fault is caught, the process lives on.
 */
int store_crc32c_mapped(const void *p, size_t len, uint32_t *out);
/** Installs the SIGBUS handler behind store_crc32c_mapped's guard; every store_open does. */
void store_guard_faults(void);

void store_copies_init(store_t *st, const store_chunk_ref_t *c, store_copies_t *cp);
void store_copies_close(store_copies_t *cp);
/**
 * Reads block b of chunk c (blen bytes) into dst from the first copy that has it intact. A
 * missing, unreadable or damaged copy gets its bit in cp->bad and its error in cp->err (a copy
 * in a directory that is not configured: STORE_E_CORRUPT); an I/O error is judged against its
 * directory (blob_note_error). Returns 0, or the last copy's error.
 */
int store_copies_read_block(store_t *st, const store_chunk_ref_t *c, store_copies_t *cp, uint32_t b, void *dst, size_t blen);

/**
 * Rewrites the copies of chunk c flagged in bad (bit k for c->place.dirs[k]) from the chunk's
 * good blocks, each taken from any copy that has it intact (store_copies_read_block): temp
 * file, fdatasync, rename over the damaged file, fsync of its fan-out. Copies in failed or full
 * directories are left alone. When the chunk lost its last reference meanwhile, the rewritten
 * files are removed again. *repaired (may be NULL) gets the bits of the copies rewritten.
 * Returns 0, or the error of a block that no copy has intact (then nothing is rewritten).
 */
int store_chunk_repair(store_t *st, const store_chunk_ref_t *c, unsigned bad, unsigned *repaired);

/**
 * Calls fn for every record under prefix (CODEC_PREFIX_OBJECT or CODEC_PREFIX_PART), in key
 * order, from one snapshot: o is the decoded record (borrowed for the call), or NULL when the
 * record does not decode. Stops at fn's first non-zero value and returns it. Returns 0, fn's
 * value, or -EIO.
 */
int store_walk_records(store_t *st, uint8_t prefix,
                       int (*fn)(void *ctx, const uint8_t *key, size_t key_len, const store_object_t *o), void *ctx);

/** Returns 0 when the bucket exists, STORE_E_NO_BUCKET, -EINVAL (bad name) or -EIO. */
int store_bucket_check(store_t *st, const char *name);

/** Bytewise comparison of two byte strings, shorter first on a tie (S3 key order). */
int store_bytes_cmp(const void *a, size_t a_len, const void *b, size_t b_len);

/** Continues an FNV-1a hash (start with STORE_FNV_SEED) over n bytes: picks lock stripes. */
#define STORE_FNV_SEED 2166136261u
uint32_t store_fnv1a(uint32_t h, const void *p, size_t n);

/** Parses an upload id as ids are written (STORE_UPLOAD_ID_LEN lower-case hex digits). Returns 0 or -1. Defined in multipart.c. */
int store_upload_id_parse(const char *s, size_t len, uint8_t id[CODEC_UPLOAD_ID_LEN]);

/** Current time in nanoseconds since the epoch. */
int64_t store_now_ns(void);

#endif
