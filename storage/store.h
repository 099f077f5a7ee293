/* storage/store.h -- the storage facade: buckets, objects, listings.
 *
 * DESIGN: the server talks to storage only through this header. Metadata lives
 * in RocksDB (storage/meta.c is the only user of rocksdb/c.h); object data is
 * either inline in the object record (small objects) or a list of chunk files
 * spread over the data directories (storage/blob.c, storage/layout.c).
 *
 * Commit order (lives in store.c only): every chunk is written to a temp file,
 * fdatasync'ed, renamed into place and its directory fsync'ed; then one synced
 * RocksDB WriteBatch makes the object visible and drops the references of the
 * object it replaces. Chunk files whose reference count fell to zero are
 * unlinked after that batch is durable. A crash at any point leaves the old
 * object or the new one, never half of one. A copy adds a reference to each
 * of its source's chunks in the same batch, under the chunks' reference
 * locks; chunk ids are never reused, so a chunk whose count record is gone is
 * gone for good and the copy is refused (-EAGAIN) rather than resurrecting it.
 *
 * Every function is thread-safe. Functions that write (put, delete, bucket
 * create/delete) block on fsync and belong on an I/O worker thread; lookups
 * and listings are fast RocksDB reads.
 *
 * Errors: 0 on success, or a negative value: -errno (-ENOENT no such key,
 * -EEXIST, -ENOTEMPTY, -EIO, -ENOSPC, -EINVAL) or one of the STORE_E_* below.
 */
#ifndef COFFER_STORE_H
#define COFFER_STORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define STORE_E_NO_BUCKET (-20001)          /* the bucket does not exist */
#define STORE_E_BAD_DIGEST (-20002)         /* the body's MD5 differs from the expected one; nothing stored */
#define STORE_E_CORRUPT (-20003)            /* stored data failed its checksum; never served */
#define STORE_E_NO_UPLOAD (-20004)          /* no such multipart upload (never created, completed or aborted) */
#define STORE_E_INVALID_PART (-20005)       /* a completion names a part not uploaded, or with another ETag */
#define STORE_E_INVALID_PART_ORDER (-20006) /* a completion's part numbers are not strictly ascending */
#define STORE_E_ENTITY_TOO_SMALL (-20007)   /* a completion's part other than the last is under 5 MiB */
#define STORE_E_PRECONDITION (-20008)       /* a conditional write's condition on the current object failed */
#define STORE_E_UNAVAILABLE (-20009)        /* no data directory can take new data, or no copy of the data is readable */

#define STORE_BUCKET_NAME_MAX 63
#define STORE_KEY_MAX 1024

typedef struct store store_t;

/** A name/value pair stored with an object and returned verbatim (e.g. "content-type", "x-amz-meta-color"). */
typedef struct store_kv {
    const char *name; /* borrowed */
    size_t name_len;
    const char *value; /* borrowed */
    size_t value_len;
} store_kv_t;

#define STORE_MAX_COPIES 4

typedef struct store_config {
    const char *meta_dir;         /* RocksDB directory; created if missing */
    const char *const *data_dirs; /* chunk directories; created if missing */
    size_t num_data_dirs;         /* at least 1 */
    size_t chunk_size;            /* bytes per chunk; 0 = default (8 MiB) */
    size_t inline_max;            /* objects up to this size live in the metadata record; 0 = default (4 KiB) */
    unsigned copies;              /* copies of each chunk, in different data directories; 0 = 1, at most STORE_MAX_COPIES */
} store_config_t;

/**
 * Opens (creating on first use) the metadata store and the data directories.
 * On failure returns a negative value and writes a human-readable reason to errbuf.
 */
int store_open(const store_config_t *cfg, store_t **out, char *errbuf, size_t errbuf_len);

/** Flushes and closes; no call may be in flight. */
void store_close(store_t *st);

/**
 * Reads a small named value kept in the metadata store (server settings such as the
 * generated root credentials). Returns the value length (copied up to buf_len bytes) or -ENOENT.
 */
int store_setting_get(store_t *st, const char *name, char *buf, size_t buf_len);
/** Writes a named setting with a synced write. Returns 0 or -errno. */
int store_setting_put(store_t *st, const char *name, const char *value, size_t value_len);

/* ------------------------------------------------------------------ buckets */

typedef struct store_bucket {
    char name[STORE_BUCKET_NAME_MAX + 1];
    char owner[128]; /* the creator's access key id (user ids come with issue 6) */
    char region[32]; /* LocationConstraint given at creation ("" = default region) */
    int64_t created_ns;
} store_bucket_t;

/** Creates a bucket. Returns 0, or -EEXIST when the name is taken (check owner via store_bucket_get). */
int store_bucket_create(store_t *st, const char *name, const char *owner, const char *region);

/** Looks a bucket up. Returns 0 or STORE_E_NO_BUCKET. out may be NULL. */
int store_bucket_get(store_t *st, const char *name, store_bucket_t *out);

/** Deletes an empty bucket. Returns 0, STORE_E_NO_BUCKET or -ENOTEMPTY. Safe against concurrent puts into it. */
int store_bucket_delete(store_t *st, const char *name);

/** Calls cb for every bucket in name order; stops early when cb returns non-zero. Returns 0 or -errno. */
int store_bucket_list(store_t *st, int (*cb)(void *ctx, const store_bucket_t *b), void *ctx);

/*
 * A bucket's configuration documents (storage/bucket_conf.c): small values kept
 * under the bucket by name ("tagging", "ownership-controls"...), in whatever form
 * the server chooses. They go with the bucket when it is deleted, so a bucket
 * created again under the name starts with none.
 */

#define STORE_BUCKET_CONF_NAME_MAX 64

/**
 * Reads a bucket's configuration name. Returns 0 with *val (malloc'ed: free()) and
 * *val_len, -ENOENT when the bucket has none, STORE_E_NO_BUCKET, or -errno.
 */
int store_bucket_conf_get(store_t *st, const char *bucket, const char *name, void **val, size_t *val_len);

/** Stores (replaces) a bucket's configuration name with a synced write. Returns 0, STORE_E_NO_BUCKET or -errno. */
int store_bucket_conf_put(store_t *st, const char *bucket, const char *name, const void *val, size_t val_len);

/** Removes a bucket's configuration name (synced; 0 also when it had none). Returns 0, STORE_E_NO_BUCKET or -errno. */
int store_bucket_conf_delete(store_t *st, const char *bucket, const char *name);

/* ------------------------------------------------------------------ objects */

typedef struct store_chunk_ref store_chunk_ref_t; /* opaque; parsed from the record */

/** An object's metadata as stored. Pointers point into rec (owned); free with store_object_free. */
typedef struct store_object {
    uint64_t size;
    int64_t mtime_ns;     /* Last-Modified, nanoseconds since the epoch */
    uint8_t md5[16];      /* the ETag: MD5 of the data, or for multipart objects MD5 of the parts' MD5s */
    uint32_t num_parts;   /* multipart objects: the number of parts (ETag "<md5>-<num_parts>"), else 0 */
    uint64_t *part_sizes; /* owned: num_parts sizes */
    size_t num_headers;
    store_kv_t *headers;        /* owned array; strings point into rec */
    const uint8_t *inline_data; /* non-NULL when the data lives in the record (size bytes) */
    size_t num_chunks;
    store_chunk_ref_t *chunks; /* owned */
    void *rec;                 /* owned: the raw record */
} store_object_t;

void store_object_free(store_object_t *obj);

/** Looks an object up. Returns 0, -ENOENT (no such key) or STORE_E_NO_BUCKET. */
int store_object_get(store_t *st, const char *bucket, const char *key, size_t key_len, store_object_t *out);

/** A conditional write's condition on the object it replaces, checked atomically with the write. */
typedef struct store_precondition {
    int if_none_match; /* If-None-Match: *: the key must not exist (else STORE_E_PRECONDITION) */
    int if_match;      /* If-Match: the key must exist (else -ENOENT) with this ETag (else STORE_E_PRECONDITION) */
    int if_match_any;  /* with if_match: "*", any ETag */
    uint8_t md5[16];   /* with if_match: the ETag's MD5 and part count */
    uint32_t num_parts;
} store_precondition_t;

typedef struct store_stager store_stager_t; /* see store_stager_open */

typedef struct store_put {
    const char *bucket;
    const char *key; /* any bytes; key_len <= STORE_KEY_MAX */
    size_t key_len;
    const struct iovec *body; /* borrowed: the data, in order; may be spread over several buffers */
    size_t body_iovcnt;
    const store_kv_t *headers; /* stored and returned verbatim */
    size_t num_headers;
    const uint8_t *expected_md5;      /* optional (Content-MD5): mismatch -> STORE_E_BAD_DIGEST, nothing stored */
    const store_precondition_t *cond; /* optional: a conditional write */
    store_stager_t *stager;           /* instead of body: a body staged as it arrived; store_object_put takes it */
    const uint8_t *stager_md5;        /* with stager: the MD5 of the whole body */
} store_put_t;

/**
 * A body written into chunk files while it is still arriving (a large upload):
 * open it with the body's size, then write each chunk in order as soon as its
 * bytes are there (store_stager_next_len says how many; 0 once all are written).
 * Chunks are synced and renamed into place a few behind, referenced by nothing
 * until store_object_put (store_put_t.stager) places the last ones and commits
 * them all, or store_stager_abort removes them. A stager is used by one thread
 * at a time.
 *
 * flags: STORE_STAGER_DIRECT writes the chunks around the page cache (O_DIRECT,
 * see blob_stage_open) when the body's buffers are page-aligned: a large upload
 * then costs no copy into the page cache, and evicts nothing cached to make room
 * for bytes that are rarely read back soon. The bytes go straight from the
 * caller's buffers to the disk, so the write of each chunk waits for the disk.
 */
#define STORE_STAGER_DIRECT 1u
store_stager_t *store_stager_open(store_t *st, uint64_t size, unsigned flags);
size_t store_stager_next_len(const store_stager_t *sg);
/** Writes the next chunk: iov must hold exactly store_stager_next_len bytes. Returns 0 or -errno (then abort). */
int store_stager_write(store_stager_t *sg, const struct iovec *iov, size_t iovcnt);
/** Removes what was written and frees sg. */
void store_stager_abort(store_stager_t *sg);

/**
 * Stores an object durably, replacing any object under the key. On return 0
 * the object is visible and will survive a crash; md5 and mtime are filled in
 * out_obj when it is not NULL (out_obj->rec stays NULL: nothing to free).
 * Returns 0, STORE_E_NO_BUCKET, STORE_E_BAD_DIGEST, STORE_E_PRECONDITION, -ENOENT (If-Match on no object),
 * -ENOSPC, -EIO or -EINVAL.
 */
int store_object_put(store_t *st, store_put_t *put, store_object_t *out_obj);

/**
 * A small PUT that does not block its caller. The store's commit thread takes
 * every small PUT queued meanwhile, commits them in one synced batch, then
 * calls each one's done: a busy server pays one fsync and one thread switch
 * per batch rather than per object.
 */
typedef struct store_put_async store_put_async_t;
struct store_put_async {
    void (*done)(store_put_async_t *a); /* on the commit thread: must not block */
    int ret;                            /* for done: 0 or store_object_put's errors */
    store_object_t obj;                 /* for done, when ret is 0: size, mtime_ns, md5 (no record) */
    struct store_pending *pending;      /* internal */
};

/** Whether a body of size bytes goes into the object's record (and so may use store_object_put_async). */
int store_put_is_inline(const store_t *st, uint64_t size);

/**
 * Checks and encodes put on the calling thread (its MD5 against put->expected_md5),
 * then queues its commit. Returns 0: a->done will be called once with the result, and
 * put->bucket and put->cond must stay valid until then; or -EINVAL (not a small body,
 * or a bad key) or STORE_E_BAD_DIGEST, and done is not called. The body and headers
 * may be freed once this returns.
 */
int store_object_put_async(store_t *st, const store_put_t *put, store_put_async_t *a);

/** A server-side copy: the destination shares the source's chunks (each gains a reference); no data is read. */
typedef struct store_copy {
    const store_object_t *src; /* borrowed: the source as the caller looked it up (store_object_get) */
    const char *bucket;        /* the destination */
    const char *key;
    size_t key_len;
    const store_kv_t *headers; /* the copy's headers (the source's, or the request's for REPLACE) */
    size_t num_headers;
    const store_precondition_t *cond; /* optional: a condition on the object the copy replaces */
    const uint8_t *md5;               /* optional: the MD5 of the source's data, making the copy a single-part
                                         object with that ETag (a copy of a multipart object, as S3 does) */
} store_copy_t;

/**
 * Stores a copy of c->src under the destination key, replacing any object there, with one
 * synced batch that also gives each of the source's chunks one more reference. The copy
 * keeps the source's size, ETag and part layout (unless c->md5 is set), gets a new
 * Last-Modified and c->headers. On 0, out_obj (optional) gets size, md5, num_parts and mtime
 * (nothing to free). Returns 0, STORE_E_NO_BUCKET, STORE_E_PRECONDITION, -ENOENT (If-Match on
 * no object), -EAGAIN (the source was replaced or deleted meanwhile and its chunks are gone:
 * look it up again), -EINVAL (a bad bucket or key) or -errno.
 */
int store_object_copy(store_t *st, const store_copy_t *c, store_object_t *out_obj);

/**
 * Decides an object's new headers from its current state, under the object's lock: returns 0
 * with *headers / *num_headers (memory valid until store_object_update returns), or an error
 * that store_object_update returns unchanged. It must not call into the store (it runs under
 * the store's locks).
 */
typedef int (*store_update_fn)(void *ctx, const store_object_t *cur, const store_kv_t **headers, size_t *num_headers);

/**
 * Rewrites an object's headers (tags, say) with a synced write, keeping its data, size, ETag
 * and Last-Modified. Returns 0, -ENOENT (no such key), STORE_E_NO_BUCKET, STORE_E_CORRUPT (an
 * unreadable record), fn's error, or -errno.
 */
int store_object_update(store_t *st, const char *bucket, const char *key, size_t key_len, store_update_fn fn, void *ctx);

/**
 * Deletes an object. Returns 0 (also when the key did not exist) or STORE_E_NO_BUCKET.
 * Metadata goes first (synced), chunk files are unlinked after.
 */
int store_object_delete(store_t *st, const char *bucket, const char *key, size_t key_len);

/**
 * Reads len bytes of obj's data at offset into buf (offset + len <= obj->size),
 * verifying the checksum of every block it touches. Reads of whole blocks
 * (STORE_READ_BLOCK-aligned offset) take the fast path with no extra copy.
 * Returns 0, STORE_E_CORRUPT (checksum mismatch: nothing usable in buf), -EAGAIN (the object
 * was replaced or deleted after obj was looked up, and its data is gone) or -errno.
 */
#define STORE_READ_BLOCK (1024 * 1024)
int store_object_read(store_t *st, const store_object_t *obj, uint64_t offset, void *buf, size_t len);

/** A verified piece of an object's data: mapped from its chunk file, or read into a buffer of its own. */
typedef struct store_view {
    const uint8_t *data; /* the bytes asked for */
    void *map;           /* owned mapping of the whole block, or NULL */
    size_t map_len;
    uint8_t *buf; /* owned: the bytes read, when not mapped */
} store_view_t;

/**
 * Like store_object_read, but without a copy when it can: a piece within one checksum block of
 * at least STORE_MAP_MIN bytes is mapped from the chunk file (the first copy in read order),
 * the whole block checked against its CRC32C, and v->data points into the mapping. Any other
 * piece, or any failure of the mapped read (a damaged or missing copy, a file cut short), goes
 * through store_object_read into a buffer the view allocates, with its fallback to other copies
 * and repair. Returns as store_object_read; release v with store_view_release in any case.
 */
#define STORE_MAP_MIN (64 * 1024)
int store_object_view(store_t *st, const store_object_t *obj, uint64_t offset, size_t len, store_view_t *v);
/**
 * Asks the kernel to start reading [offset, offset + len) of obj's data (the copies
 * store_object_view reads) into the page cache, without waiting: a stream that reads
 * on block by block then finds the disk a window ahead of it, in large requests,
 * instead of faulting in each block as it maps it. A hint: errors surface on the read.
 */
void store_object_prefetch(store_t *st, const store_object_t *obj, uint64_t offset, uint64_t len);
/** Unmaps or frees what v holds (safe on a zeroed or released view). */
void store_view_release(store_view_t *v);

/**
 * Where the checksum block holding offset ends, as an object offset (at most STORE_READ_BLOCK
 * past offset; obj->size for inline objects). Reads from offset up to it take the fast path:
 * blocks are aligned to each chunk, so after a part of odd size they are not to the object.
 */
uint64_t store_object_block_end(const store_object_t *obj, uint64_t offset);

/* ------------------------------------------------------------------ listing */

typedef struct store_list_params {
    const char *bucket;
    const char *prefix; /* may be NULL */
    size_t prefix_len;
    const char *delimiter; /* may be NULL; any length */
    size_t delimiter_len;
    const char *start_after; /* exclusive: only keys (and common prefixes) greater than this; may be NULL */
    size_t start_after_len;
    size_t max_keys; /* keys + common prefixes to return; 0 returns none */
} store_list_params_t;

typedef struct store_list_entry {
    const char *key; /* the key, or the common prefix when is_prefix; valid during the callback */
    size_t key_len;
    int is_prefix;
    uint64_t size;
    int64_t mtime_ns;
    uint8_t md5[16];
    uint32_t num_parts;
} store_list_entry_t;

/**
 * Lists a bucket in S3 order (bytewise UTF-8). With a delimiter, keys that contain it
 * after the prefix are rolled up into one common-prefix entry each, and the walk seeks
 * past that prefix instead of scanning it. *is_truncated is set when more entries exist
 * after the last one delivered. Returns 0, STORE_E_NO_BUCKET or -errno.
 */
int store_object_list(store_t *st, const store_list_params_t *p, int (*cb)(void *ctx, const store_list_entry_t *e), void *ctx,
                      int *is_truncated);

/**
 * Returns how many metadata entries listings have stepped over since open
 * (every seek and next counts one): a gauge for metrics, and how tests check
 * that a delimiter listing seeks past common prefixes instead of scanning them.
 */
uint64_t store_stat_list_steps(store_t *st);

/* ------------------------------------------------------------------ multipart uploads (storage/multipart.c)
 *
 * An upload is a record under (bucket, key, id) holding the headers given at
 * creation; each part is an object-like record of its own chunks. Completing
 * writes the object's record from the parts' chunk lists, in one synced batch
 * that also deletes the upload and its parts: no data is copied. Parts the
 * completion leaves out, parts replaced by a re-upload, and every part of an
 * aborted upload lose their chunks' references (and the files once none is left).
 */

#define STORE_UPLOAD_ID_LEN 32 /* characters of an upload id (hex); ids sort by creation time */
#define STORE_MAX_PARTS 10000
#define STORE_MIN_PART_SIZE (5ull * 1024 * 1024)

/** Where a request names an upload. */
typedef struct store_upload_ref {
    const char *bucket;
    const char *key;
    size_t key_len;
    const char *upload_id; /* as given by the client (any length; a wrong one is STORE_E_NO_UPLOAD) */
    size_t upload_id_len;
} store_upload_ref_t;

/**
 * Starts an upload; headers (content type, user metadata...) become the object's.
 * Writes the new id (STORE_UPLOAD_ID_LEN characters + NUL) into upload_id.
 * Returns 0, STORE_E_NO_BUCKET or -errno.
 */
int store_upload_create(store_t *st, const char *bucket, const char *key, size_t key_len, const store_kv_t *headers,
                        size_t num_headers, char upload_id[STORE_UPLOAD_ID_LEN + 1]);

/** Looks an upload up: out gets its headers and initiation time (mtime_ns). Returns 0, STORE_E_NO_UPLOAD or STORE_E_NO_BUCKET. */
int store_upload_get(store_t *st, const store_upload_ref_t *u, store_object_t *out);

/** A part's data: a body in memory, or a byte range of a stored object (UploadPartCopy). */
typedef struct store_part_put {
    store_upload_ref_t upload;
    uint32_t part_number;     /* 1..STORE_MAX_PARTS */
    const struct iovec *body; /* borrowed; NULL when copying */
    size_t body_iovcnt;
    const store_object_t *copy_source; /* borrowed: the object to copy from, or NULL */
    uint64_t copy_offset;              /* with copy_source: the range to copy */
    uint64_t copy_len;
    const uint8_t *expected_md5; /* optional (Content-MD5) */
    const store_kv_t *headers;   /* kept with the part (its checksum), returned by listings and to the completion hook */
    size_t num_headers;
} store_part_put_t;

/**
 * Stores a part durably, replacing an earlier part with the same number. The
 * data is written before the upload is checked again under its lock, so a
 * part racing a completion or abort is refused (STORE_E_NO_UPLOAD) and leaves
 * nothing behind. out_part gets size, md5 and mtime (nothing to free).
 * Returns 0, STORE_E_NO_UPLOAD, STORE_E_BAD_DIGEST, STORE_E_CORRUPT (copy source) or -errno.
 */
int store_part_put(store_t *st, const store_part_put_t *p, store_object_t *out_part);

/** One part named by a completion request. */
typedef struct store_complete_part {
    uint32_t part_number;
    uint8_t md5[16]; /* the ETag the client has for the part */
} store_complete_part_t;

/**
 * Decides the completed object's headers, under the upload's lock once the part
 * list is valid: upload is the upload's record (its headers), parts the chosen
 * parts in order (headers and size set). Fills *headers / *num_headers (memory
 * that stays valid until store_upload_complete returns) or returns an error
 * (STORE_E_INVALID_PART with *bad_part set, STORE_E_BAD_DIGEST...) that refuses
 * the completion.
 */
typedef struct store_complete_hook {
    int (*fn)(void *ctx, const store_object_t *upload, const store_object_t *const *parts, size_t num_parts,
              const store_kv_t **headers, size_t *num_headers, size_t *bad_part);
    void *ctx;
} store_complete_hook_t;

/**
 * Completes an upload into the object (replacing any object under the key).
 * The object keeps the upload's headers, or those hook (optional) decides.
 * parts must be strictly ascending (STORE_E_INVALID_PART_ORDER), each uploaded
 * with that ETag (STORE_E_INVALID_PART), each but the last at least
 * STORE_MIN_PART_SIZE (STORE_E_ENTITY_TOO_SMALL); *bad_part is set to the index
 * of the offending entry. cond (optional) is checked against the object the
 * completion replaces, under the key's lock, atomically with the commit: when it
 * fails (STORE_E_PRECONDITION, or -ENOENT for If-Match on no object) nothing is
 * written and the upload stays as it was. On 0, out_obj gets size, md5 (of the
 * parts' MD5s), num_parts and mtime (nothing to free). Returns 0, one of those,
 * STORE_E_NO_UPLOAD, STORE_E_NO_BUCKET or -errno.
 */
int store_upload_complete(store_t *st, const store_upload_ref_t *u, const store_complete_part_t *parts, size_t num_parts,
                          const store_complete_hook_t *hook, const store_precondition_t *cond, store_object_t *out_obj,
                          size_t *bad_part);

/** Aborts an upload and frees its parts. Returns 0, STORE_E_NO_UPLOAD or -errno. */
int store_upload_abort(store_t *st, const store_upload_ref_t *u);

typedef struct store_part_info {
    uint32_t part_number;
    uint64_t size;
    int64_t mtime_ns;
    uint8_t md5[16];
    const store_kv_t *headers; /* as given to store_part_put; valid during the callback */
    size_t num_headers;
} store_part_info_t;

/**
 * Lists an upload's parts with numbers above after, in order, at most max_parts.
 * *is_truncated is set when more follow. Returns 0, STORE_E_NO_UPLOAD or -errno.
 */
int store_part_list(store_t *st, const store_upload_ref_t *u, uint32_t after, size_t max_parts,
                    int (*cb)(void *ctx, const store_part_info_t *p), void *ctx, int *is_truncated);

typedef struct store_upload_list_params {
    const char *bucket;
    const char *prefix; /* may be NULL */
    size_t prefix_len;
    const char *delimiter; /* may be NULL */
    size_t delimiter_len;
    const char *key_marker; /* may be NULL: uploads of later keys (or of this key after upload_id_marker) */
    size_t key_marker_len;
    const char *upload_id_marker; /* may be NULL; only with key_marker */
    size_t upload_id_marker_len;
    size_t max_uploads; /* uploads + common prefixes */
} store_upload_list_params_t;

typedef struct store_upload_entry {
    const char *key; /* the key, or the common prefix when is_prefix; valid during the callback */
    size_t key_len;
    int is_prefix;
    char upload_id[STORE_UPLOAD_ID_LEN + 1];
    int64_t initiated_ns;
} store_upload_entry_t;

/**
 * Lists a bucket's unfinished uploads in key order, then by initiation time.
 * Returns 0, STORE_E_NO_BUCKET or -errno.
 */
int store_upload_list(store_t *st, const store_upload_list_params_t *p, int (*cb)(void *ctx, const store_upload_entry_t *e),
                      void *ctx, int *is_truncated);

/** Whether data directory i (in the configured order) takes new data: not failed, not full. */
int store_data_dir_usable(store_t *st, size_t i);

/* ------------------------------------------------------------------ scrub */

/** A copy of a chunk found missing, unreadable or damaged. Every pointer is borrowed for the call. */
typedef struct store_scrub_damage {
    const char *bucket; /* the object's bucket; NULL for a part of an unfinished multipart upload */
    const char *key;    /* the object's key (key_len bytes), or the upload id in hex */
    size_t key_len;
    uint32_t part_number; /* for a part of an unfinished upload; else 0 */
    uint64_t chunk_id;
    uint64_t chunk_offset; /* where the chunk starts in the object or part */
    const char *dir;       /* the data directory of the copy */
    const char *problem;   /* "missing", "checksum mismatch", or "unreadable: <reason>" */
    const char *outcome;   /* "repaired", "not repaired: no good copy", "not repaired: ..." */
} store_scrub_damage_t;

typedef struct store_scrub_stats {
    uint64_t total_objects, total_bytes; /* from a first pass over the records (objects and parts) */
    uint64_t objects, bytes;             /* checked so far (each copy's bytes once per chunk) */
    uint64_t chunks, copies;             /* chunks and chunk copies read */
    uint64_t damaged;                    /* copies found missing, unreadable or damaged */
    uint64_t repaired;                   /* of those, rewritten from a good copy */
    uint64_t unrecoverable;              /* chunks with no good copy left */
    uint64_t bad_records;                /* object or part records that do not decode */
    uint64_t unchecked;                  /* copies in data directories not configured (not read) */
} store_scrub_stats_t;

typedef struct store_scrub_cb {
    void (*progress)(void *ctx, const store_scrub_stats_t *s); /* after every chunk and object; may be NULL */
    void (*damage)(void *ctx, const store_scrub_damage_t *d);  /* for every damaged copy; may be NULL */
    const atomic_int *stop;                                    /* non-zero: stop early; may be NULL */
    void *ctx;
} store_scrub_cb_t;

/**
 * Reads every copy of every chunk of every object and multipart part and checks it against
 * its CRC32C values; a missing, unreadable or damaged copy is reported and, when every block
 * is intact in some copy, rewritten (store_chunk_repair). A copy in a directory the store was
 * not opened with is reported as not checked (stats->unchecked). Safe while the store serves: records
 * are read from one snapshot, and a chunk freed meanwhile is skipped. *stats is filled as it
 * goes. Returns 0 (also when damage was found: see stats), -ECANCELED when stopped, or -errno.
 */
int store_scrub(store_t *st, const store_scrub_cb_t *cb, store_scrub_stats_t *stats);

#endif
