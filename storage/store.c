/* storage/store.c -- the storage facade; the commit order lives here only.
 *
 * DESIGN: an object PUT makes one pass over the body, feeding MD5 (the ETag)
 * and a CRC32C per 1 MiB block while writing the chunk files:
 *
 *   1. each chunk: temp file -> fdatasync (blob.c)        nothing visible yet
 *   2. MD5 checked against Content-MD5                    mismatch: temp files removed
 *   3. each chunk: rename -> fsync its directory          durable, but unreferenced
 *   4. ONE synced WriteBatch: object record, refcount 1   the object is visible
 *      for each new chunk, refcount - 1 for each chunk
 *      of the object it replaces
 *   5. unlink chunk files whose refcount reached 0        after the batch is durable
 *
 * A crash before 4 leaves the old object and at worst orphan chunk files (or
 * temp files, removed at open); a crash after 4 leaves the new object and at
 * worst chunks with refcount 0 still on disk. Both kinds of orphan are
 * collected at the next open (storage/gc.c), before anything is served.
 * Delete is 4 then 5.
 *
 * Concurrency: the read-old-record + write-batch of one (bucket, key) is
 * serialised by one of 256 mutexes picked by hash, so different keys commit in
 * parallel and RocksDB can group their synced writes. Refcount read-modify-write
 * takes further striped locks by chunk id, in ascending stripe order (chunks may
 * be shared by several objects once copy/multipart exist). Bucket delete takes
 * a rwlock for writing; the commit step of a PUT holds it for reading, so a
 * bucket is never deleted between a PUT's bucket check and its batch.
 *
 * Chunk ids come from a persisted counter reserved in blocks of 2^24: at open
 * the counter N is read and N + 2^24 written (synced), ids N.. are handed out
 * from memory, and another block is reserved when they run out. Ids are thus
 * never reused across restarts, even after a crash.
 */
#include "storage/store.h"
#include "storage/blob.h"
#include "storage/codec.h"
#include "storage/layout.h"
#include "storage/meta.h"
#include "storage/store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include <isa-l/crc.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define PUT_SYNC_LAG 4 /* chunks written ahead of the oldest unsynced one */

/* A set of ref-lock stripes, taken in ascending order to avoid deadlock. */
typedef struct stripe_set {
    uint64_t bits[STORE_STRIPES / 64];
} stripe_set_t;

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (p == NULL)
        abort();
    return p;
}

int64_t store_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Standard CRC32C (Castagnoli), as ISA-L computes it without the final inversion. */
static uint32_t crc32c(const void *p, size_t len)
{
    return ~crc32_iscsi((unsigned char *)p, (int)len, 0xFFFFFFFFu);
}

/*
 * store_crc32c_mapped's guard: a chunk file cut short behind Coffer's back (Coffer never
 * truncates one) turns an access to its mapping into SIGBUS, which must fail this read, not
 * the server. The handler jumps back only while this thread is inside the guard; any other
 * SIGBUS gets the default action. SA_NODEFER keeps SIGBUS unblocked after the jump.
 */
static _Thread_local sigjmp_buf *volatile map_guard;

static void on_sigbus(int sig)
{
    if (map_guard != NULL)
        siglongjmp(*map_guard, 1);
    signal(sig, SIG_DFL); /* not ours: the faulting access repeats and takes the default action */
}

void store_guard_faults(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigbus;
    sa.sa_flags = SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}

int store_crc32c_mapped(const void *p, size_t len, uint32_t *out)
{
    sigjmp_buf jb;
    if (sigsetjmp(jb, 0) != 0) {
        map_guard = NULL;
        return -EFAULT;
    }
    map_guard = &jb;
    *out = crc32c(p, len);
    map_guard = NULL;
    return 0;
}

uint32_t store_fnv1a(uint32_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static void stripes_add(stripe_set_t *s, uint64_t chunk_id)
{
    unsigned i = (unsigned)(chunk_id % STORE_STRIPES);
    s->bits[i / 64] |= 1ull << (i % 64);
}

static void stripes_lock(store_t *st, const stripe_set_t *s)
{
    for (unsigned i = 0; i < STORE_STRIPES; i++)
        if (s->bits[i / 64] & (1ull << (i % 64)))
            pthread_mutex_lock(&st->ref_locks[i]);
}

static void stripes_unlock(store_t *st, const stripe_set_t *s)
{
    for (unsigned i = STORE_STRIPES; i-- > 0;)
        if (s->bits[i / 64] & (1ull << (i % 64)))
            pthread_mutex_unlock(&st->ref_locks[i]);
}

int store_bucket_check(store_t *st, const char *name)
{
    uint8_t key[1 + STORE_BUCKET_NAME_MAX];
    void *val = NULL;
    size_t val_len;
    int n = name ? codec_bucket_key(key, name, strlen(name)) : -EINVAL;
    if (n < 0)
        return -EINVAL;
    int ret = meta_get(st->meta, key, (size_t)n, &val, &val_len);
    meta_free(val);
    return ret == -ENOENT ? STORE_E_NO_BUCKET : ret;
}

/* Persists the next reservation block of chunk ids. Caller holds id_lock (or is store_open). */
static int reserve_ids(store_t *st)
{
    uint8_t val[8];
    uint64_t limit = st->id_limit + STORE_ID_BLOCK;
    codec_put_u64(val, limit);
    int ret = meta_put_sync(st->meta, CODEC_KEY_CHUNK_COUNTER, 1, val, sizeof(val));
    if (ret == 0)
        st->id_limit = limit;
    return ret;
}

/* Hands out a chunk id never used before, across restarts. Returns 0 or -EIO. */
static int alloc_chunk_id(store_t *st, uint64_t *id)
{
    int ret = 0;
    pthread_mutex_lock(&st->id_lock);
    if (st->next_id >= st->id_limit)
        ret = reserve_ids(st);
    if (ret == 0)
        *id = st->next_id++;
    pthread_mutex_unlock(&st->id_lock);
    return ret;
}

/* Unlinks chunk files (after their last reference is durably gone, or of a write that failed). */
/* ------------------------------------------------------------------ open/close */

int store_open(const store_config_t *cfg, store_t **out, char *errbuf, size_t errbuf_len)
{
    store_t *st;
    int ret, created = 0;
    void *val = NULL;
    size_t val_len;

    if (cfg == NULL || cfg->meta_dir == NULL || cfg->data_dirs == NULL || cfg->num_data_dirs == 0 ||
        cfg->num_data_dirs > UINT16_MAX) {
        snprintf(errbuf, errbuf_len, "storage: need a metadata directory and 1 to 65535 data directories");
        return -EINVAL;
    }
    store_guard_faults();
    st = xcalloc(1, sizeof(*st));
    st->chunk_size = cfg->chunk_size ? cfg->chunk_size : STORE_DEFAULT_CHUNK_SIZE;
    /* whole blocks per chunk, so object offsets on a block boundary are block-aligned in their chunk */
    st->chunk_size = (st->chunk_size + STORE_READ_BLOCK - 1) / STORE_READ_BLOCK * STORE_READ_BLOCK;
    if (st->chunk_size > STORE_MAX_CHUNK_SIZE)
        st->chunk_size = STORE_MAX_CHUNK_SIZE;
    st->inline_max = cfg->inline_max ? cfg->inline_max : STORE_DEFAULT_INLINE_MAX;
    st->copies = cfg->copies ? cfg->copies : 1;
    if (st->copies > CODEC_MAX_COPIES)
        st->copies = CODEC_MAX_COPIES;
    if (st->inline_max > STORE_MAX_INLINE)
        st->inline_max = STORE_MAX_INLINE;

    st->dirs = xcalloc(cfg->num_data_dirs, sizeof(*st->dirs));
    const char *with_chunks = NULL; /* a data directory that holds chunks */
    for (; st->num_dirs < cfg->num_data_dirs; st->num_dirs++) {
        if ((ret = blob_dir_open(&st->dirs[st->num_dirs], cfg->data_dirs[st->num_dirs], (unsigned)st->num_dirs, errbuf,
                                 errbuf_len)) != 0)
            goto Fail;
        if (with_chunks == NULL && blob_dir_has_chunks(&st->dirs[st->num_dirs]) != 0)
            with_chunks = cfg->data_dirs[st->num_dirs];
    }
    /* a fresh metadata store next to existing chunks means the metadata was lost or the path is wrong: create nothing */
    if ((ret = meta_open(cfg->meta_dir, with_chunks == NULL, &st->meta, &created, errbuf, errbuf_len)) != 0) {
        if (ret == -ENOENT && with_chunks != NULL)
            snprintf(errbuf, errbuf_len,
                     "metadata directory %s is missing or empty but data directory %s already holds chunks; "
                     "refusing to start (is the metadata directory missing or misconfigured?)",
                     cfg->meta_dir, with_chunks);
        goto Fail;
    }
    /* what a crash left behind, before the counter moves and before anything is served (storage/gc.c) */
    if ((ret = gc_collect_at_open(st, errbuf, errbuf_len)) != 0)
        goto Fail;

    ret = meta_get(st->meta, CODEC_KEY_CHUNK_COUNTER, 1, &val, &val_len);
    if (ret == 0) {
        ret = codec_get_u64(val, val_len, &st->id_limit);
        meta_free(val);
    } else if (ret == -ENOENT) {
        st->id_limit = 1; /* id 0 is never used */
        ret = 0;
    }
    if (ret != 0 || (st->next_id = st->id_limit, ret = reserve_ids(st)) != 0) {
        snprintf(errbuf, errbuf_len, "metadata directory %s: cannot reserve chunk ids", cfg->meta_dir);
        ret = ret == -EINVAL ? -EIO : ret;
        goto Fail;
    }

    pthread_rwlockattr_t rwa;
    pthread_rwlockattr_init(&rwa);
    /* a bucket delete must not starve behind a steady stream of PUTs */
    pthread_rwlockattr_setkind_np(&rwa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&st->bucket_lock, &rwa);
    pthread_rwlockattr_destroy(&rwa);
    for (int i = 0; i < STORE_STRIPES; i++) {
        pthread_mutex_init(&st->key_locks[i], NULL);
        pthread_rwlock_init(&st->upload_locks[i], NULL);
        pthread_mutex_init(&st->ref_locks[i], NULL);
    }
    pthread_mutex_init(&st->id_lock, NULL);
    atomic_init(&st->list_steps, 0);
    atomic_init(&st->commit_batches, 0);
    st->committer = store_committer_start(st);
    *out = st;
    return 0;

Fail:
    for (size_t i = 0; i < st->num_dirs; i++)
        blob_dir_close(&st->dirs[i]);
    free(st->dirs);
    meta_close(st->meta);
    free(st);
    return ret;
}

void store_close(store_t *st)
{
    if (st == NULL)
        return;
    store_committer_stop(st->committer); /* commits what is queued first */
    pthread_rwlock_destroy(&st->bucket_lock);
    for (int i = 0; i < STORE_STRIPES; i++) {
        pthread_mutex_destroy(&st->key_locks[i]);
        pthread_rwlock_destroy(&st->upload_locks[i]);
        pthread_mutex_destroy(&st->ref_locks[i]);
    }
    pthread_mutex_destroy(&st->id_lock);
    meta_close(st->meta);
    for (size_t i = 0; i < st->num_dirs; i++)
        blob_dir_close(&st->dirs[i]);
    free(st->dirs);
    free(st);
}

uint64_t store_stat_list_steps(store_t *st)
{
    return atomic_load(&st->list_steps);
}

/* ------------------------------------------------------------------ settings */

int store_setting_get(store_t *st, const char *name, char *buf, size_t buf_len)
{
    uint8_t key[1 + CODEC_SETTING_NAME_MAX];
    void *val = NULL;
    size_t val_len;
    int n = codec_setting_key(key, name);
    if (n < 0)
        return -EINVAL;
    int ret = meta_get(st->meta, key, (size_t)n, &val, &val_len);
    if (ret != 0)
        return ret;
    if (buf_len)
        memcpy(buf, val, val_len < buf_len ? val_len : buf_len);
    meta_free(val);
    return val_len > INT32_MAX ? INT32_MAX : (int)val_len;
}

int store_setting_put(store_t *st, const char *name, const char *value, size_t value_len)
{
    uint8_t key[1 + CODEC_SETTING_NAME_MAX];
    int n = codec_setting_key(key, name);
    if (n < 0 || value_len > INT32_MAX)
        return -EINVAL;
    return meta_put_sync(st->meta, key, (size_t)n, value, value_len);
}

/* ------------------------------------------------------------------ buckets */

int store_bucket_create(store_t *st, const char *name, const char *owner, const char *region)
{
    uint8_t key[1 + STORE_BUCKET_NAME_MAX], *rec = NULL;
    size_t rec_len;
    store_bucket_t b;
    int n = name ? codec_bucket_key(key, name, strlen(name)) : -EINVAL;
    int ret;

    if (n < 0 || (owner && strlen(owner) >= sizeof(b.owner)) || (region && strlen(region) >= sizeof(b.region)))
        return -EINVAL;
    memset(&b, 0, sizeof(b));
    strcpy(b.name, name);
    strcpy(b.owner, owner ? owner : "");
    strcpy(b.region, region ? region : "");
    b.created_ns = store_now_ns();
    if ((ret = codec_bucket_encode(&b, &rec, &rec_len)) != 0)
        return ret;

    pthread_rwlock_wrlock(&st->bucket_lock); /* serialises check + create against other creates/deletes */
    ret = store_bucket_check(st, name);
    if (ret == 0)
        ret = -EEXIST;
    else if (ret == STORE_E_NO_BUCKET)
        ret = meta_put_sync(st->meta, key, (size_t)n, rec, rec_len);
    pthread_rwlock_unlock(&st->bucket_lock);
    free(rec);
    return ret;
}

int store_bucket_get(store_t *st, const char *name, store_bucket_t *out)
{
    uint8_t key[1 + STORE_BUCKET_NAME_MAX];
    void *val = NULL;
    size_t val_len, name_len = name ? strlen(name) : 0;
    int n = name ? codec_bucket_key(key, name, name_len) : -EINVAL;
    if (n < 0)
        return STORE_E_NO_BUCKET; /* no such name can exist */
    int ret = meta_get(st->meta, key, (size_t)n, &val, &val_len);
    if (ret == -ENOENT)
        return STORE_E_NO_BUCKET;
    if (ret != 0)
        return ret;
    if (out != NULL && codec_bucket_decode(val, val_len, name, name_len, out) != 0)
        ret = STORE_E_CORRUPT;
    meta_free(val);
    return ret;
}

/* Returns -ENOTEMPTY when some metadata key starts with prefix, 0 when none does, or -EIO. */
static int has_key_with_prefix(store_t *st, const uint8_t *prefix, size_t plen)
{
    meta_iter_t *it = meta_iter_new(st->meta, NULL, 0);
    meta_iter_seek(it, prefix, plen);
    size_t klen = 0;
    const void *k = meta_iter_valid(it) ? meta_iter_key(it, &klen) : NULL;
    int ret = k != NULL && klen >= plen && memcmp(k, prefix, plen) == 0 ? -ENOTEMPTY : meta_iter_status(it);
    meta_iter_free(it);
    return ret;
}

int store_bucket_delete(store_t *st, const char *name)
{
    uint8_t key[1 + STORE_BUCKET_NAME_MAX], prefix[2 + STORE_BUCKET_NAME_MAX], uprefix[2 + STORE_BUCKET_NAME_MAX];
    int n = name ? codec_bucket_key(key, name, strlen(name)) : -EINVAL;
    int ret;

    if (n < 0)
        return STORE_E_NO_BUCKET;
    int plen = codec_object_prefix(prefix, name, strlen(name));

    pthread_rwlock_wrlock(&st->bucket_lock); /* no PUT is between its bucket check and its batch */
    ret = store_bucket_check(st, name);
    if (ret == 0) {
        /* objects, or uploads not completed nor aborted (their parts hold chunks) */
        if ((ret = has_key_with_prefix(st, prefix, (size_t)plen)) == 0 &&
            (ret = has_key_with_prefix(st, uprefix, (size_t)codec_upload_prefix(uprefix, name, strlen(name)))) == 0) {
            meta_batch_t *b = meta_batch_new();
            meta_batch_delete(b, key, (size_t)n);
            /* its configuration documents (bucket_conf.c) go in the same batch: a bucket created again starts without them */
            uint8_t cprefix[2 + STORE_BUCKET_NAME_MAX], cupper[2 + STORE_BUCKET_NAME_MAX];
            int clen = codec_bucket_conf_prefix(cprefix, name, strlen(name));
            memcpy(cupper, cprefix, (size_t)clen);
            meta_iter_t *it = meta_iter_new(st->meta, cupper, codec_prefix_successor(cupper, (size_t)clen));
            for (meta_iter_seek(it, cprefix, (size_t)clen); meta_iter_valid(it); meta_iter_next(it)) {
                size_t klen;
                const void *k = meta_iter_key(it, &klen);
                meta_batch_delete(b, k, klen);
            }
            ret = meta_iter_status(it);
            meta_iter_free(it);
            if (ret == 0)
                ret = meta_batch_write(st->meta, b);
            meta_batch_free(b);
        }
    }
    pthread_rwlock_unlock(&st->bucket_lock);
    return ret;
}

int store_bucket_list(store_t *st, int (*cb)(void *ctx, const store_bucket_t *b), void *ctx)
{
    uint8_t lo = CODEC_PREFIX_BUCKET, hi = CODEC_PREFIX_BUCKET + 1;
    meta_iter_t *it = meta_iter_new(st->meta, &hi, 1);
    int ret = 0;

    for (meta_iter_seek(it, &lo, 1); meta_iter_valid(it); meta_iter_next(it)) {
        store_bucket_t b;
        size_t klen, vlen;
        const uint8_t *k = meta_iter_key(it, &klen);
        const void *v = meta_iter_value(it, &vlen);
        if (codec_bucket_decode(v, vlen, (const char *)k + 1, klen - 1, &b) != 0) {
            fprintf(stderr, "coffer: storage: corrupt bucket record skipped\n");
            continue;
        }
        if (cb(ctx, &b) != 0)
            break;
    }
    if (ret == 0)
        ret = meta_iter_status(it);
    meta_iter_free(it);
    return ret;
}

/* ------------------------------------------------------------------ objects */

void store_object_free(store_object_t *obj)
{
    if (obj == NULL)
        return;
    free(obj->headers);
    free(obj->chunks);
    free(obj->part_sizes);
    meta_free(obj->rec);
    memset(obj, 0, sizeof(*obj));
}

int store_object_get(store_t *st, const char *bucket, const char *key, size_t key_len, store_object_t *out)
{
    uint8_t okey[CODEC_OBJECT_KEY_MAX];
    void *val = NULL;
    size_t val_len;
    int n = bucket ? codec_object_key(okey, bucket, strlen(bucket), key, key_len) : -EINVAL;
    int ret;

    memset(out, 0, sizeof(*out));
    if (n < 0) { /* a key no object can have */
        ret = store_bucket_check(st, bucket);
        return ret == 0 ? -ENOENT : ret == -EINVAL ? STORE_E_NO_BUCKET : ret;
    }
    ret = meta_get(st->meta, okey, (size_t)n, &val, &val_len);
    if (ret == -ENOENT) {
        ret = store_bucket_check(st, bucket);
        return ret == 0 ? -ENOENT : ret;
    }
    if (ret != 0)
        return ret;
    if (codec_object_decode(val, val_len, out) != 0) {
        meta_free(val);
        return STORE_E_CORRUPT;
    }
    out->rec = val;
    return 0;
}

/* Where the put is in the body iovecs. */
typedef struct body_cursor {
    const struct iovec *iov;
    size_t iovcnt;
    size_t index;
    size_t offset; /* within iov[index] */
} body_cursor_t;

/*
 * Takes the next len bytes of the body as iovecs into pieces (room for iovcnt + 1),
 * feeding them to MD5 (unless md is NULL) and returning their CRC32C. Returns the number of pieces.
 */
static int take_block(body_cursor_t *cur, size_t len, EVP_MD_CTX *md, struct iovec *pieces, uint32_t *crc)
{
    uint32_t c = 0xFFFFFFFFu;
    int n = 0;
    while (len > 0) {
        const struct iovec *v = &cur->iov[cur->index];
        size_t take = v->iov_len - cur->offset;
        if (take == 0) {
            cur->index++;
            cur->offset = 0;
            continue;
        }
        if (take > len)
            take = len;
        unsigned char *p = (unsigned char *)v->iov_base + cur->offset;
        if (md != NULL)
            EVP_DigestUpdate(md, p, take);
        c = crc32_iscsi(p, (int)take, c);
        pieces[n].iov_base = p;
        pieces[n].iov_len = take;
        n++;
        cur->offset += take;
        len -= take;
    }
    *crc = ~c;
    return n;
}

/* The error for a chunk no data directory could take: -ENOSPC when one of them is full, else STORE_E_UNAVAILABLE. */
static int no_directory_error(const store_t *st, int last_err)
{
    if (last_err == -ENOSPC || last_err == -EDQUOT)
        return -ENOSPC;
    for (size_t i = 0; i < st->num_dirs; i++)
        if (!atomic_load(&st->dirs[i].failed) && !blob_dir_usable(&st->dirs[i]))
            return -ENOSPC;
    return STORE_E_UNAVAILABLE;
}

/* Says that a chunk got fewer copies than configured: once a minute at most, as every chunk may. */
static void log_degraded(store_t *st, uint64_t id, unsigned num)
{
    static atomic_int_least64_t last;
    int64_t now = store_now_ns() / 1000000000, prev = atomic_load(&last);
    if (now - prev >= 60 && atomic_compare_exchange_strong(&last, &prev, now))
        fprintf(stderr, "coffer: storage: chunk %016llx stored with %u of %u copies: not enough usable data directories\n",
                (unsigned long long)id, num, st->copies);
}

/* Writes len bytes from cur (advanced) into a staged copy, without hashing. Returns 0 or -errno. */
static int write_copy(body_cursor_t *cur, size_t len, struct iovec *pieces, blob_stage_t *stage)
{
    int ret = 0;
    while (len > 0 && ret == 0) {
        size_t blen = len < STORE_READ_BLOCK ? len : STORE_READ_BLOCK;
        uint32_t crc;
        int np = take_block(cur, blen, NULL, pieces, &crc);
        ret = blob_stage_write(stage, pieces, np);
        len -= blen;
    }
    return ret;
}

/* Opens a temp file for chunk id in the next directory of order[*next..n) that takes it. Returns 0 or -errno. */
static int open_copy(store_t *st, uint64_t id, const uint16_t *order, size_t n, size_t *next, int direct, blob_stage_t *stage)
{
    int ret = -EIO;
    while (*next < n) {
        blob_dir_t *d = &st->dirs[order[(*next)++]];
        if ((ret = blob_stage_open(d, id, direct, stage)) == 0)
            return 0;
        blob_note_error(d, "create", stage->tmp_path, ret);
    }
    return ret;
}

/*
 * Writes one chunk of the body into temp files, one per copy (st->copies, or as many directories
 * as take it), and starts their writeback (not yet synced). A directory that fails the write is
 * judged (blob_note_error) and the copy goes to the next directory in the chunk's ranking. Fewer
 * copies than asked are logged, not refused: the data is still durable once. stages has room for
 * st->copies. direct: see blob_stage_open. Returns 0 or -errno (-ENOSPC when no directory had room).
 */
static int stage_chunk(store_t *st, body_cursor_t *cur, EVP_MD_CTX *md, struct iovec *pieces, int direct, codec_chunk_in_t *chunk,
                       uint32_t *crcs, blob_stage_t *stages)
{
    uint16_t order[st->num_dirs];
    size_t n, next = 0, want;
    int ret, last_err = 0;
    chunk_place_t *pl = &chunk->place;

    if ((ret = alloc_chunk_id(st, &chunk->id)) != 0)
        return ret;
    if ((n = layout_rank(st->dirs, st->num_dirs, chunk->id, order)) == 0)
        return no_directory_error(st, 0);
    want = st->copies < n ? st->copies : n;
    pl->num = 0;
    while (pl->num < want && next < n) {
        if ((ret = open_copy(st, chunk->id, order, n, &next, direct, &stages[pl->num])) != 0) {
            last_err = ret;
            break;
        }
        pl->dirs[pl->num] = (uint16_t)(stages[pl->num].dir - st->dirs);
        pl->num++;
    }
    if (pl->num == 0)
        return no_directory_error(st, last_err);

    body_cursor_t start = *cur;
    for (uint32_t off = 0, b = 0; off < chunk->len; off += STORE_READ_BLOCK, b++) {
        size_t blen = chunk->len - off < STORE_READ_BLOCK ? chunk->len - off : STORE_READ_BLOCK;
        int np = take_block(cur, blen, md, pieces, &crcs[b]);
        for (uint8_t k = 0; k < pl->num; k++) {
            if (stages[k].fd < 0 || (ret = blob_stage_write(&stages[k], pieces, np)) == 0)
                continue;
            blob_note_error(stages[k].dir, "write", stages[k].tmp_path, ret);
            blob_stage_abort(&stages[k]);
            last_err = ret;
        }
    }
    /* copies that failed: dropped, then written again to the next directories of the ranking */
    uint8_t live = 0;
    for (uint8_t k = 0; k < pl->num; k++) {
        if (stages[k].fd < 0)
            continue;
        stages[live] = stages[k];
        pl->dirs[live++] = pl->dirs[k];
    }
    pl->num = live;
    while (pl->num < want && next < n) {
        blob_stage_t *s = &stages[pl->num];
        body_cursor_t again = start;
        if ((ret = open_copy(st, chunk->id, order, n, &next, direct, s)) != 0) {
            last_err = ret;
            break;
        }
        if ((ret = write_copy(&again, chunk->len, pieces, s)) != 0) {
            blob_note_error(s->dir, "write", s->tmp_path, ret);
            blob_stage_abort(s);
            last_err = ret;
            continue;
        }
        pl->dirs[pl->num++] = (uint16_t)(s->dir - st->dirs);
    }
    if (pl->num == 0)
        return no_directory_error(st, last_err);
    if (pl->num < st->copies)
        log_degraded(st, chunk->id, pl->num);
    for (uint8_t k = 0; k < pl->num; k++)
        blob_stage_start_writeback(&stages[k]); /* the disk works while the next chunk is hashed */
    return 0;
}

/*
 * Runs step (blob_stage_sync, or blob_stage_rename) on every staged copy of a chunk. A copy
 * whose step fails is judged against its directory, removed, and dropped from the chunk's place
 * as long as another copy made it: the data is still durable once. Returns 0, or the last error
 * when no copy is left.
 */
static int step_copies(codec_chunk_in_t *chunk, blob_stage_t *stages, int (*step)(blob_stage_t *), const char *op)
{
    int ret = 0;
    uint8_t live = 0;
    for (uint8_t k = 0; k < chunk->place.num; k++) {
        int r = step(&stages[k]);
        if (r != 0) {
            blob_note_error(stages[k].dir, op, stages[k].tmp_path, r);
            blob_stage_abort(&stages[k]);
            ret = r;
            continue;
        }
        stages[live] = stages[k];
        chunk->place.dirs[live++] = chunk->place.dirs[k];
    }
    chunk->place.num = live;
    return live > 0 ? 0 : ret;
}

/* Fdatasyncs and closes the copies of a staged chunk (see step_copies). */
static int sync_chunk(codec_chunk_in_t *chunk, blob_stage_t *stages)
{
    return step_copies(chunk, stages, blob_stage_sync, "fdatasync");
}

/* Renames the synced copies of a chunk into place; the fan-out fsync comes later (see step_copies). */
static int rename_chunk(codec_chunk_in_t *chunk, blob_stage_t *stages)
{
    return step_copies(chunk, stages, blob_stage_rename, "rename");
}

/*
 * MD5 of a large body on its own thread. MD5 cannot be split, and it is the
 * slowest pass (about 650 MB/s a core): running it beside the CRC + write +
 * sync loop lets a large PUT use two cores instead of one.
 */
typedef struct md5_job {
    const struct iovec *iov;
    size_t iovcnt;
    uint8_t md5[16];
} md5_job_t;

static void *md5_thread(void *arg)
{
    md5_job_t *job = arg;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1)
        abort();
    for (size_t i = 0; i < job->iovcnt; i++)
        EVP_DigestUpdate(md, job->iov[i].iov_base, job->iov[i].iov_len);
    EVP_DigestFinal_ex(md, job->md5, NULL);
    EVP_MD_CTX_free(md);
    return NULL;
}

/* Fsyncs each distinct fan-out directory that received a copy of one of chunks. Returns 0 or -errno. */
static int sync_fanouts(store_t *st, const codec_chunk_in_t *chunks, size_t num_chunks)
{
    int ret = 0;
    for (size_t i = 0; i < num_chunks && ret == 0; i++) {
        for (uint8_t k = 0; k < chunks[i].place.num && ret == 0; k++) {
            uint16_t dir = chunks[i].place.dirs[k];
            int seen = 0;
            for (size_t j = 0; j <= i && !seen; j++)
                for (uint8_t q = 0; q < (j < i ? chunks[j].place.num : k) && !seen; q++)
                    seen = chunks[j].place.dirs[q] == dir && (chunks[j].id & 0xFF) == (chunks[i].id & 0xFF);
            if (!seen)
                ret = blob_sync_fanout(&st->dirs[dir], chunks[i].id);
        }
    }
    return ret;
}

void store_staged_free(store_staged_t *sb)
{
    free(sb->chunks);
    free(sb->crcs);
    memset(sb, 0, sizeof(*sb));
}

/* Unlinks the files of the first n chunks (renamed into place, referenced by nothing). */
static void unlink_chunk_files(store_t *st, const codec_chunk_in_t *chunks, size_t n)
{
    store_chunk_list_t l = {0};
    for (size_t i = 0; i < n; i++)
        store_chunk_list_add(&l, chunks[i].id, &chunks[i].place);
    store_unlink_chunks(st, &l);
    store_chunk_list_free(&l);
}

void store_staged_discard(store_t *st, store_staged_t *sb)
{
    unlink_chunk_files(st, sb->chunks, sb->num_chunks);
    store_staged_free(sb);
}

/*
 * A body staged chunk by chunk (store_stager_*): store_stage() feeds it a body
 * in memory or a stored object's range; a large upload still being received
 * feeds it each chunk as it arrives. Either way the chunks are written, and
 * each one is synced, renamed into place and its fan-out directory fsynced a few
 * chunks behind, while the rest still arrives: the end of a large PUT waits for
 * the last few chunks only. Nothing references them until the caller commits;
 * a BadDigest or an abort unlinks them (and after a crash, start-up collects
 * them: storage/gc.c).
 */
struct store_stager {
    store_t *st;
    uint64_t size;
    size_t blocks_per_chunk, num_chunks, num_staged;
    codec_chunk_in_t *chunks;
    blob_stage_t *stages; /* chunk i: from i * st->copies */
    uint32_t *crcs;
    struct iovec *pieces; /* room for pieces_cap */
    size_t pieces_cap;
    size_t num_renamed; /* chunks [0, num_renamed) are in place under their final names */
    size_t first_temp;  /* chunks [first_temp, num_staged) are still temp files */
    int direct;         /* STORE_STAGER_DIRECT */
    int ret;            /* the first error: from then on the stager only cleans up */
};

#define STAGES_OF(sg, i) (&(sg)->stages[(i) * (sg)->st->copies])

store_stager_t *store_stager_open(store_t *st, uint64_t size, unsigned flags)
{
    store_stager_t *sg = xcalloc(1, sizeof(*sg));
    sg->st = st;
    sg->size = size;
    sg->direct = (flags & STORE_STAGER_DIRECT) != 0;
    sg->blocks_per_chunk = st->chunk_size / STORE_READ_BLOCK;
    sg->num_chunks = (size_t)((size + st->chunk_size - 1) / st->chunk_size);
    sg->chunks = xcalloc(sg->num_chunks, sizeof(*sg->chunks));
    sg->stages = xcalloc(sg->num_chunks * st->copies, sizeof(*sg->stages));
    sg->crcs = xcalloc(sg->num_chunks * sg->blocks_per_chunk, sizeof(*sg->crcs));
    return sg;
}

size_t store_stager_next_len(const store_stager_t *sg)
{
    if (sg->num_staged == sg->num_chunks)
        return 0;
    uint64_t left = sg->size - (uint64_t)sg->num_staged * sg->st->chunk_size;
    return (size_t)(left < sg->st->chunk_size ? left : sg->st->chunk_size);
}

/* Room for a body of iovcnt iovecs in sg->pieces (take_block needs iovcnt + 1). */
static void stager_reserve_pieces(store_stager_t *sg, size_t iovcnt)
{
    if (iovcnt + 1 <= sg->pieces_cap)
        return;
    free(sg->pieces);
    sg->pieces_cap = iovcnt + 1;
    sg->pieces = xcalloc(sg->pieces_cap, sizeof(*sg->pieces));
}

/* Puts chunk i, already synced, in place: rename, then fsync of its fan-out directories. Returns 0 or -errno. */
static int stager_place(store_stager_t *sg, size_t i)
{
    int ret = rename_chunk(&sg->chunks[i], STAGES_OF(sg, i));
    sg->first_temp = i + 1; /* renamed, or nothing of it left (rename_chunk) */
    if (ret != 0)
        return ret;
    sg->num_renamed = i + 1;
    return sync_fanouts(sg->st, &sg->chunks[i], 1);
}

/* Stages the next chunk from cur (fed to md unless NULL), then syncs and places the one PUT_SYNC_LAG behind:
 * its writeback started long ago, and few fds stay open. Returns 0 or -errno (kept in sg->ret). */
static int stager_chunk(store_stager_t *sg, body_cursor_t *cur, EVP_MD_CTX *md)
{
    if (sg->ret != 0)
        return sg->ret;
    size_t i = sg->num_staged, len = store_stager_next_len(sg);
    if (len == 0)
        return sg->ret = -EINVAL;
    codec_chunk_in_t *c = &sg->chunks[i];
    c->len = (uint32_t)len;
    uint32_t *crcs = sg->crcs + i * sg->blocks_per_chunk;
    c->crcs = crcs;
    if ((sg->ret = stage_chunk(sg->st, cur, md, sg->pieces, sg->direct, c, crcs, STAGES_OF(sg, i))) != 0)
        return sg->ret;
    sg->num_staged++;
    if (i >= PUT_SYNC_LAG && (sg->ret = sync_chunk(&sg->chunks[i - PUT_SYNC_LAG], STAGES_OF(sg, i - PUT_SYNC_LAG))) == 0)
        sg->ret = stager_place(sg, i - PUT_SYNC_LAG);
    return sg->ret;
}

int store_stager_write(store_stager_t *sg, const struct iovec *iov, size_t iovcnt)
{
    size_t total = 0;
    for (size_t i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    if (sg->ret == 0 && total != store_stager_next_len(sg))
        sg->ret = -EINVAL; /* take_block would read past the caller's data */
    if (sg->ret != 0)
        return sg->ret;
    stager_reserve_pieces(sg, iovcnt);
    body_cursor_t cur = {iov, iovcnt, 0, 0};
    return stager_chunk(sg, &cur, NULL);
}

static void stager_free(store_stager_t *sg)
{
    free(sg->chunks);
    free(sg->crcs);
    free(sg->stages);
    free(sg->pieces);
    free(sg);
}

int store_stager_finish(store_stager_t *sg, const uint8_t md5[16], const uint8_t *expected_md5, store_staged_t *out)
{
    store_t *st = sg->st;
    int ret = sg->ret;

    memset(out, 0, sizeof(*out));
    if (ret == 0 && sg->num_staged != sg->num_chunks)
        ret = -EINVAL;
    for (size_t i = sg->first_temp; ret == 0 && i < sg->num_staged; i++)
        ret = sync_chunk(&sg->chunks[i], STAGES_OF(sg, i));
    if (ret == 0 && md5 == NULL)
        ret = -EINVAL;
    if (ret == 0 && expected_md5 != NULL && CRYPTO_memcmp(expected_md5, md5, 16) != 0)
        ret = STORE_E_BAD_DIGEST;
    /* data before names: the last chunks are synced; now rename them, each one's fan-out fsynced */
    while (ret == 0 && sg->first_temp < sg->num_chunks)
        ret = stager_place(sg, sg->first_temp);

    if (ret != 0) { /* nothing references these chunks: remove renamed ones, then temp files */
        unlink_chunk_files(st, sg->chunks, sg->num_renamed);
        for (size_t i = sg->first_temp; i < sg->num_staged; i++)
            for (uint8_t k = 0; k < sg->chunks[i].place.num; k++)
                blob_stage_abort(&STAGES_OF(sg, i)[k]);
    } else {
        out->size = sg->size;
        memcpy(out->md5, md5, 16);
        out->num_chunks = sg->num_chunks;
        out->chunks = sg->chunks;
        out->crcs = sg->crcs;
        sg->chunks = NULL;
        sg->crcs = NULL;
    }
    stager_free(sg);
    return ret;
}

void store_stager_abort(store_stager_t *sg)
{
    store_staged_t unused;
    if (sg->ret == 0)
        sg->ret = -ECANCELED;
    store_stager_finish(sg, NULL, NULL, &unused);
}

int store_stage(store_t *st, const store_source_t *src, const uint8_t *expected_md5, store_staged_t *out)
{
    store_stager_t *sg = store_stager_open(st, src->size, 0);
    body_cursor_t cur = {src->iov, src->iovcnt, 0, 0};
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    md5_job_t md5_job = {src->iov, src->iovcnt, {0}};
    pthread_t md5_tid;
    uint8_t md5[16];

    if (md == NULL || EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1)
        abort();
    stager_reserve_pieces(sg, src->object != NULL ? 1 : src->iovcnt);
    /* a stored object is read one chunk at a time into copy_buf, and hashed as it goes */
    uint8_t *copy_buf = src->object != NULL && sg->num_chunks ? malloc(st->chunk_size) : NULL;
    struct iovec copy_iov = {copy_buf, 0};
    if (src->object != NULL && sg->num_chunks && copy_buf == NULL)
        abort();
    int md5_threaded = src->object == NULL && sg->num_chunks >= 2 && pthread_create(&md5_tid, NULL, md5_thread, &md5_job) == 0;
    for (size_t len; (len = store_stager_next_len(sg)) != 0;) {
        if (copy_buf != NULL) {
            uint64_t off = (uint64_t)sg->num_staged * st->chunk_size;
            if ((sg->ret = store_object_read(st, src->object, src->object_offset + off, copy_buf, len)) != 0)
                break;
            copy_iov.iov_len = len;
            cur = (body_cursor_t){&copy_iov, 1, 0, 0};
        }
        if (stager_chunk(sg, &cur, md5_threaded ? NULL : md) != 0)
            break;
    }
    if (md5_threaded) { /* the thread reads the caller's body: never return before it is done */
        pthread_join(md5_tid, NULL);
        memcpy(md5, md5_job.md5, 16);
    } else {
        EVP_DigestFinal_ex(md, md5, NULL);
    }
    EVP_MD_CTX_free(md);
    free(copy_buf);
    return store_stager_finish(sg, md5, expected_md5, out);
}

void store_chunk_list_add(store_chunk_list_t *l, uint64_t id, const chunk_place_t *place)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        if ((l->ids = realloc(l->ids, l->cap * sizeof(*l->ids))) == NULL ||
            (l->places = realloc(l->places, l->cap * sizeof(*l->places))) == NULL)
            abort();
    }
    l->ids[l->n] = id;
    l->places[l->n] = *place;
    l->n++;
}

void store_chunk_list_free(store_chunk_list_t *l)
{
    free(l->ids);
    free(l->places);
    memset(l, 0, sizeof(*l));
}

void store_unlink_chunks(store_t *st, const store_chunk_list_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        for (uint8_t k = 0; k < l->places[i].num; k++) {
            uint16_t dir = l->places[i].dirs[k];
            if (dir >= st->num_dirs)
                continue;
            int ret = blob_unlink(&st->dirs[dir], l->ids[i]);
            if (ret != 0 && ret != -ENOENT)
                fprintf(stderr, "coffer: storage: unlink chunk %016llx in %s: %s (left for GC)\n", (unsigned long long)l->ids[i],
                        st->dirs[dir].path, strerror(-ret));
        }
    }
}

typedef struct ref_delta {
    uint64_t id;
    chunk_place_t place;
    int64_t delta;
} ref_delta_t;

static int ref_delta_cmp(const void *a, const void *b)
{
    uint64_t x = ((const ref_delta_t *)a)->id, y = ((const ref_delta_t *)b)->id;
    return x < y ? -1 : x > y;
}

/* Adds to b one more reference for each chunk in add and one less for each in drop, merged per
 * chunk (a copy onto itself both adds and drops the same ids). Chunks left with none go to freed.
 * A chunk of add that has no reference left is gone (its object was replaced meanwhile): -EAGAIN.
 * The caller holds the ref stripes of every chunk in add and drop. Returns 0 or -errno. */
static int apply_refs(store_t *st, meta_batch_t *b, const store_chunk_list_t *add, const store_chunk_list_t *drop,
                      store_chunk_list_t *freed)
{
    size_t n_add = add != NULL ? add->n : 0, n = n_add + drop->n, m = 0;
    ref_delta_t *d = xcalloc(n, sizeof(*d));
    for (size_t i = 0; i < n; i++) {
        const store_chunk_list_t *l = i < n_add ? add : drop;
        size_t j = i < n_add ? i : i - n_add;
        d[i] = (ref_delta_t){.id = l->ids[j], .place = l->places[j], .delta = i < n_add ? 1 : -1};
    }
    qsort(d, n, sizeof(*d), ref_delta_cmp);
    for (size_t i = 0; i < n; i++) { /* merge equal ids */
        if (m > 0 && d[m - 1].id == d[i].id)
            d[m - 1].delta += d[i].delta;
        else
            d[m++] = d[i];
    }
    int ret = 0;
    for (size_t i = 0; i < m && ret == 0; i++) {
        uint8_t rkey[CODEC_REF_KEY_LEN], cnt[8];
        void *v = NULL;
        size_t vlen;
        uint64_t refs;
        if (d[i].delta == 0)
            continue; /* as many gained as lost: the count stays */
        codec_ref_key(rkey, d[i].id);
        ret = meta_get(st->meta, rkey, sizeof(rkey), &v, &vlen);
        if (ret == -ENOENT) {
            if (d[i].delta > 0) {
                ret = -EAGAIN;
                break;
            }
            fprintf(stderr, "coffer: storage: chunk %016llx has no refcount record\n", (unsigned long long)d[i].id);
            ret = 0;
            continue;
        }
        if (ret != 0)
            break;
        if (codec_get_u64(v, vlen, &refs) != 0 || refs == 0)
            refs = 1; /* corrupt count: drop it rather than keep it forever */
        meta_free(v);
        int64_t left = (int64_t)refs + d[i].delta;
        if (left <= 0) {
            meta_batch_delete(b, rkey, sizeof(rkey));
            store_chunk_list_add(freed, d[i].id, &d[i].place);
        } else {
            codec_put_u64(cnt, (uint64_t)left);
            meta_batch_put(b, rkey, sizeof(rkey), cnt, sizeof(cnt));
        }
    }
    free(d);
    return ret;
}

/* A conditional write's condition against the current record (NULL: no object). Returns 0 or the error. */
static int check_precondition(const store_precondition_t *cond, const void *rec, size_t len)
{
    uint64_t size;
    int64_t mtime;
    uint8_t md5[16];
    uint32_t num_parts;
    if (rec == NULL)
        return cond->if_match ? -ENOENT : 0;
    if (cond->if_none_match)
        return STORE_E_PRECONDITION;
    if (cond->if_match && !cond->if_match_any &&
        (codec_object_decode_head(rec, len, &size, &mtime, md5, &num_parts) != 0 || memcmp(md5, cond->md5, 16) != 0 ||
         num_parts != cond->num_parts))
        return STORE_E_PRECONDITION;
    return 0;
}

/*
 * The object part of a commit, under its key lock and the bucket lock (read): checks the
 * bucket (unless the caller just did) and c's condition against the current record, adds c's
 * record (or its deletion) to b, and the chunks of the record it replaces to drop. Returns 0,
 * 1 (deleting what is not there: nothing to write), STORE_E_NO_BUCKET, the condition's error
 * or -errno; b and drop are unchanged unless it returns 0.
 */
static int commit_record(store_t *st, const store_commit_t *c, int check_bucket, meta_batch_t *b, store_chunk_list_t *drop)
{
    store_object_t old = {0};
    void *old_rec = NULL;
    size_t old_len = 0;
    int ret, cret;

    if (check_bucket && (ret = store_bucket_check(st, c->bucket)) != 0)
        return ret;
    ret = meta_get(st->meta, c->okey, c->okey_len, &old_rec, &old_len);
    if ((ret == 0 || ret == -ENOENT) && c->cond != NULL &&
        (cret = check_precondition(c->cond, ret == 0 ? old_rec : NULL, old_len)) != 0) {
        ret = cret;
    } else if (ret == 0) {
        if (codec_object_decode(old_rec, old_len, &old) == 0) {
            for (size_t i = 0; i < old.num_chunks; i++)
                store_chunk_list_add(drop, old.chunks[i].id, &old.chunks[i].place);
        } else { /* its chunks stay referenced; a GC pass can reclaim them */
            fprintf(stderr, "coffer: storage: replacing a corrupt object record\n");
        }
    } else if (ret == -ENOENT) {
        ret = c->rec == NULL && c->drop == NULL ? 1 : 0;
    }
    if (ret == 0) {
        if (c->rec != NULL)
            meta_batch_put(b, c->okey, c->okey_len, c->rec, c->rec_len);
        else
            meta_batch_delete(b, c->okey, c->okey_len);
    }
    free(old.headers);
    free(old.chunks);
    free(old.part_sizes);
    meta_free(old_rec);
    return ret;
}

pthread_mutex_t *store_key_lock(store_t *st, const char *bucket, size_t bucket_len, const char *key, size_t key_len)
{
    /* a separator between the two: ("ab","c") and ("a","bc") differ */
    uint32_t h = store_fnv1a(store_fnv1a(STORE_FNV_SEED, bucket, bucket_len), "\xFF", 1);
    return &st->key_locks[store_fnv1a(h, key, key_len) % STORE_STRIPES];
}

static pthread_mutex_t *object_key_lock(store_t *st, const uint8_t *okey, size_t okey_len)
{
    const char *bucket, *key_bytes;
    size_t bucket_len, key_len;
    codec_object_key_decode(okey, okey_len, &bucket, &bucket_len, &key_bytes, &key_len);
    return store_key_lock(st, bucket, bucket_len, key_bytes, key_len);
}

/* Takes the ref stripes of every chunk in add and drop, adds the reference changes to b, writes b
 * synced, and releases the stripes. Chunks left without references go to freed. */
static int commit_refs(store_t *st, meta_batch_t *b, const store_chunk_list_t *add, const store_chunk_list_t *drop,
                       store_chunk_list_t *freed)
{
    stripe_set_t stripes = {{0}};
    for (size_t i = 0; i < drop->n; i++)
        stripes_add(&stripes, drop->ids[i]);
    for (size_t i = 0; add != NULL && i < add->n; i++)
        stripes_add(&stripes, add->ids[i]);
    stripes_lock(st, &stripes);
    int ret = apply_refs(st, b, add, drop, freed);
    if (ret == 0)
        ret = meta_batch_write(st->meta, b);
    stripes_unlock(st, &stripes);
    return ret;
}

int store_commit(store_t *st, const store_commit_t *c, meta_batch_t *b, store_chunk_list_t *freed)
{
    pthread_mutex_t *klock = NULL;
    store_chunk_list_t drop = {0};
    int ret = 0;

    if (c->okey != NULL) {
        klock = object_key_lock(st, c->okey, c->okey_len);
        if (c->rec != NULL)
            pthread_rwlock_rdlock(&st->bucket_lock); /* a bucket is not deleted under a write into it */
        pthread_mutex_lock(klock);
        if ((ret = commit_record(st, c, 1, b, &drop)) != 0) {
            ret = ret == 1 ? 0 : ret;
            goto Exit;
        }
    }
    for (size_t i = 0; i < c->num_new_chunks; i++) {
        uint8_t rkey[CODEC_REF_KEY_LEN], one[8];
        codec_ref_key(rkey, c->new_chunks[i].id);
        codec_put_u64(one, 1);
        meta_batch_put(b, rkey, sizeof(rkey), one, sizeof(one));
    }
    if (c->drop != NULL)
        for (size_t i = 0; i < c->drop->n; i++)
            store_chunk_list_add(&drop, c->drop->ids[i], &c->drop->places[i]);
    ret = commit_refs(st, b, c->add, &drop, freed);

Exit:
    if (klock != NULL) {
        pthread_mutex_unlock(klock);
        if (c->rec != NULL)
            pthread_rwlock_unlock(&st->bucket_lock);
    }
    if (ret != 0)
        freed->n = 0; /* nothing was freed after all */
    store_chunk_list_free(&drop);
    return ret;
}

static void object_from_in(const codec_object_in_t *in, store_object_t *out)
{
    memset(out, 0, sizeof(*out));
    out->size = in->size;
    out->mtime_ns = in->mtime_ns;
    out->num_parts = in->num_parts;
    memcpy(out->md5, in->md5, 16);
}

/* Commits c (an object's new record, described by in) in a batch of its own, unlinks the chunks
 * it freed once that is durable, and fills out_obj (optional) from in. Returns store_commit's result. */
static int commit_object(store_t *st, const store_commit_t *c, const codec_object_in_t *in, store_object_t *out_obj)
{
    store_chunk_list_t freed = {0};
    meta_batch_t *b = meta_batch_new();
    int ret = store_commit(st, c, b, &freed);
    meta_batch_free(b);
    if (ret == 0) {
        store_unlink_chunks(st, &freed); /* only after the batch that freed them is durable */
        if (out_obj != NULL)
            object_from_in(in, out_obj);
    }
    store_chunk_list_free(&freed);
    return ret;
}

int store_put_is_inline(const store_t *st, uint64_t size)
{
    return size <= st->inline_max;
}

/* Checks put's fields; returns the object's size in *size and its key in okey (CODEC_OBJECT_KEY_MAX bytes). */
static int put_check(const store_put_t *put, uint8_t *okey, size_t *okey_len, uint64_t *size)
{
    int n;
    if (put == NULL || put->bucket == NULL || (put->key == NULL && put->key_len) || put->key_len == 0 ||
        (put->body == NULL && put->body_iovcnt) || (put->headers == NULL && put->num_headers) ||
        (put->stager != NULL && put->body_iovcnt))
        return -EINVAL;
    if ((n = codec_object_key(okey, put->bucket, strlen(put->bucket), put->key, put->key_len)) < 0)
        return -EINVAL;
    *okey_len = (size_t)n;
    *size = 0;
    for (size_t i = 0; i < put->body_iovcnt; i++)
        *size += put->body[i].iov_len;
    if (put->stager != NULL)
        *size = put->stager->size;
    return 0;
}

/* Points in at the body of an inline PUT (gathered into *buf when it is in pieces: free it after
 * encoding) and sets its MD5, checked against put->expected_md5. Returns 0 or STORE_E_BAD_DIGEST. */
static int inline_body(const store_put_t *put, codec_object_in_t *in, uint8_t **buf)
{
    if (put->body_iovcnt == 1) {
        in->inline_data = put->body[0].iov_base;
    } else {
        *buf = xcalloc(1, in->size);
        for (size_t i = 0, off = 0; i < put->body_iovcnt; off += put->body[i].iov_len, i++)
            if (put->body[i].iov_len)
                memcpy(*buf + off, put->body[i].iov_base, put->body[i].iov_len);
        in->inline_data = *buf;
    }
    EVP_Digest(in->inline_data != NULL ? in->inline_data : (const uint8_t *)"", in->size, in->md5, NULL, EVP_md5(), NULL);
    if (put->expected_md5 != NULL && CRYPTO_memcmp(put->expected_md5, in->md5, 16) != 0)
        return STORE_E_BAD_DIGEST;
    return 0;
}

int store_object_put(store_t *st, store_put_t *put, store_object_t *out_obj)
{
    uint8_t okey[CODEC_OBJECT_KEY_MAX], *rec = NULL, *inline_buf = NULL;
    uint64_t size = 0;
    size_t rec_len, okey_len = 0;
    store_staged_t staged = {0};
    int ret;

    if ((ret = put_check(put, okey, &okey_len, &size)) != 0)
        goto Exit;
    /* store_commit checks the bucket under its lock; a chunked body is checked first too, before files are written */
    if ((size > st->inline_max || put->stager != NULL) && (ret = store_bucket_check(st, put->bucket)) != 0)
        goto Exit;

    codec_object_in_t in = {.size = size, .mtime_ns = store_now_ns(), .headers = put->headers, .num_headers = put->num_headers};
    if (put->stager != NULL) {
        store_stager_t *sg = put->stager;
        put->stager = NULL;
        if ((ret = store_stager_finish(sg, put->stager_md5, put->expected_md5, &staged)) != 0)
            goto Exit;
        memcpy(in.md5, staged.md5, 16);
        in.chunks = staged.chunks;
        in.num_chunks = staged.num_chunks;
    } else if (size <= st->inline_max) {
        if ((ret = inline_body(put, &in, &inline_buf)) != 0)
            goto Exit;
    } else {
        store_source_t src = {.iov = put->body, .iovcnt = put->body_iovcnt, .size = size};
        if ((ret = store_stage(st, &src, put->expected_md5, &staged)) != 0)
            goto Exit;
        memcpy(in.md5, staged.md5, 16);
        in.chunks = staged.chunks;
        in.num_chunks = staged.num_chunks;
    }
    if ((ret = codec_object_encode(&in, &rec, &rec_len)) != 0)
        goto Exit;

    store_commit_t c = {.bucket = put->bucket,
                        .okey = okey,
                        .okey_len = okey_len,
                        .rec = rec,
                        .rec_len = rec_len,
                        .new_chunks = staged.chunks,
                        .num_new_chunks = staged.num_chunks,
                        .cond = put->cond};
    ret = commit_object(st, &c, &in, out_obj);

Exit:
    if (put != NULL && put->stager != NULL) { /* refused before its chunks were needed */
        store_stager_abort(put->stager);
        put->stager = NULL;
    }
    if (ret != 0)
        store_staged_discard(st, &staged); /* referenced by nothing */
    store_staged_free(&staged);
    free(rec);
    free(inline_buf);
    return ret;
}

int store_object_put_async(store_t *st, const store_put_t *put, store_put_async_t *a)
{
    uint8_t okey[CODEC_OBJECT_KEY_MAX], *rec = NULL, *inline_buf = NULL;
    uint64_t size;
    size_t rec_len, okey_len;
    int ret;

    if ((ret = put_check(put, okey, &okey_len, &size)) != 0 || put->stager != NULL || size > st->inline_max)
        return ret != 0 ? ret : -EINVAL;
    codec_object_in_t in = {.size = size, .mtime_ns = store_now_ns(), .headers = put->headers, .num_headers = put->num_headers};
    if ((ret = inline_body(put, &in, &inline_buf)) == 0)
        ret = codec_object_encode(&in, &rec, &rec_len);
    free(inline_buf);
    if (ret != 0)
        return ret;
    store_pending_t *p = xcalloc(1, sizeof(*p) + okey_len);
    *p = (store_pending_t){.a = a, .bucket = put->bucket, .cond = put->cond, .rec = rec, .rec_len = rec_len, .okey_len = okey_len};
    memcpy(p->okey, okey, okey_len);
    p->key_lock = store_key_lock(st, put->bucket, strlen(put->bucket), put->key, put->key_len);
    object_from_in(&in, &a->obj);
    a->pending = p;
    store_committer_queue(st->committer, p);
    return 0;
}

/* Adds p's record to b under its key lock: p->a->ret gets commit_record's result. */
static void commit_pending_record(store_t *st, store_pending_t *p, meta_batch_t *b, store_chunk_list_t *drop,
                                  const char **checked_bucket, size_t *num_written)
{
    store_commit_t c = {
        .bucket = p->bucket, .okey = p->okey, .okey_len = p->okey_len, .rec = p->rec, .rec_len = p->rec_len, .cond = p->cond};
    int check_bucket = *checked_bucket == NULL || strcmp(*checked_bucket, p->bucket) != 0;
    if ((p->a->ret = commit_record(st, &c, check_bucket, b, drop)) == 0) {
        *checked_bucket = p->bucket;
        ++*num_written;
    }
}

/* The commit thread's batch (storage/committer.c); see store_internal.h. */
store_pending_t *store_commit_pending(store_t *st, store_pending_t *list)
{
    meta_batch_t *b = meta_batch_new();
    store_chunk_list_t drop = {0}, freed = {0};
    store_pending_t *deferred = NULL, **deferred_tail = &deferred, *batch = NULL, **batch_tail = &batch;
    size_t num_written = 0;
    const char *checked_bucket = NULL; /* the last bucket found to exist in this batch */
    stripe_set_t busy = {{0}};
    int ret = 0;

    pthread_rwlock_rdlock(&st->bucket_lock); /* a bucket is not deleted under a write into it */
    /* Key locks are taken only when free, so a thread that holds one and waits for another can
     * never wait for this one. A PUT whose lock is busy waits for the next batch, and so does
     * every later PUT under that lock, so that PUTs to one key commit in order. A PUT put back
     * once comes first in the next batch and waits for its lock there, holding no other (the
     * order store_commit keeps): its wait is bounded, and the thread never spins on trylock. */
    for (store_pending_t *p = list, *next; p != NULL; p = next) {
        next = p->next;
        p->next = NULL;
        size_t stripe = (size_t)(p->key_lock - st->key_locks);
        if (p == list && p->deferred) {
            pthread_mutex_lock(p->key_lock);
        } else if ((busy.bits[stripe / 64] & (1ull << (stripe % 64))) || pthread_mutex_trylock(p->key_lock) != 0) {
            busy.bits[stripe / 64] |= 1ull << (stripe % 64);
            p->deferred = 1;
            *deferred_tail = p;
            deferred_tail = &p->next;
            continue;
        }
        commit_pending_record(st, p, b, &drop, &checked_bucket, &num_written);
        *batch_tail = p;
        batch_tail = &p->next;
    }
    if (num_written != 0) {
        ret = commit_refs(st, b, NULL, &drop, &freed);
        atomic_fetch_add(&st->commit_batches, 1);
    }
    for (store_pending_t *p = batch; p != NULL; p = p->next) {
        pthread_mutex_unlock(p->key_lock);
        if (ret != 0 && p->a->ret == 0)
            p->a->ret = ret;
    }
    pthread_rwlock_unlock(&st->bucket_lock);
    meta_batch_free(b);
    if (ret == 0)
        store_unlink_chunks(st, &freed); /* only after the batch that freed them is durable */
    store_chunk_list_free(&freed);
    store_chunk_list_free(&drop);
    for (store_pending_t *p = batch, *next; p != NULL; p = next) {
        next = p->next;
        store_put_async_t *a = p->a;
        free(p->rec);
        free(p);
        a->pending = NULL;
        a->done(a);
    }
    return deferred;
}

int store_object_delete(store_t *st, const char *bucket, const char *key, size_t key_len)
{
    uint8_t okey[CODEC_OBJECT_KEY_MAX];
    store_chunk_list_t freed = {0};
    int n;

    if (bucket == NULL || strlen(bucket) > STORE_BUCKET_NAME_MAX || strlen(bucket) == 0)
        return STORE_E_NO_BUCKET;
    if ((n = codec_object_key(okey, bucket, strlen(bucket), key, key_len)) < 0 || key_len == 0)
        return store_bucket_check(st, bucket); /* no such key can exist */
    store_commit_t c = {.bucket = bucket, .okey = okey, .okey_len = (size_t)n};
    meta_batch_t *b = meta_batch_new();
    int ret = store_commit(st, &c, b, &freed);
    meta_batch_free(b);
    if (ret == 0)
        store_unlink_chunks(st, &freed); /* only after the delete is durable */
    store_chunk_list_free(&freed);
    return ret;
}

/* Whether a chunk still has a reference count record (a missing one means its file is gone for good: ids are never reused). */
int store_chunk_referenced(store_t *st, uint64_t id)
{
    uint8_t rkey[CODEC_REF_KEY_LEN];
    void *v = NULL;
    size_t vlen;
    codec_ref_key(rkey, id);
    int ret = meta_get(st->meta, rkey, sizeof(rkey), &v, &vlen);
    meta_free(v);
    return ret != -ENOENT;
}

/* An object record's contents from a decoded object: the same data, ETag and part layout. The
 * chunk descriptions and their CRCs go to *chunks / *crcs (free both); headers are left unset. */
static void object_in_from(const store_object_t *o, codec_object_in_t *in, codec_chunk_in_t **chunks, uint32_t **crcs)
{
    size_t num_blocks = 0;
    for (size_t c = 0; c < o->num_chunks; c++)
        num_blocks += o->chunks[c].num_blocks;
    *chunks = xcalloc(o->num_chunks, sizeof(**chunks));
    *crcs = xcalloc(num_blocks, sizeof(**crcs));
    for (size_t c = 0, bi = 0; c < o->num_chunks; c++) {
        const store_chunk_ref_t *ref = &o->chunks[c];
        (*chunks)[c] = (codec_chunk_in_t){.id = ref->id, .len = ref->len, .place = ref->place, .crcs = *crcs + bi};
        for (uint32_t b = 0; b < ref->num_blocks; b++)
            (*crcs)[bi++] = codec_chunk_crc(ref, b);
    }
    *in = (codec_object_in_t){.size = o->size,
                              .mtime_ns = o->mtime_ns,
                              .inline_data = o->num_chunks == 0 ? (o->inline_data ? o->inline_data : (const uint8_t *)"") : NULL,
                              .chunks = *chunks,
                              .num_chunks = o->num_chunks,
                              .num_parts = o->num_parts,
                              .part_sizes = o->part_sizes};
    memcpy(in->md5, o->md5, 16);
}

int store_object_copy(store_t *st, const store_copy_t *c, store_object_t *out_obj)
{
    uint8_t okey[CODEC_OBJECT_KEY_MAX], *rec = NULL;
    size_t rec_len;
    codec_object_in_t in;
    codec_chunk_in_t *chunks;
    uint32_t *crcs;
    store_chunk_list_t add = {0};
    int n, ret;

    if (c == NULL || c->src == NULL || c->bucket == NULL || c->key == NULL || c->key_len == 0 ||
        (c->headers == NULL && c->num_headers))
        return -EINVAL;
    if ((n = codec_object_key(okey, c->bucket, strlen(c->bucket), c->key, c->key_len)) < 0)
        return -EINVAL;
    if (c->src->num_chunks == 0 && c->src->inline_data == NULL && c->src->size != 0)
        return -EINVAL;
    object_in_from(c->src, &in, &chunks, &crcs);
    in.mtime_ns = store_now_ns();
    if (c->md5 != NULL) { /* a single-part object now */
        memcpy(in.md5, c->md5, 16);
        in.num_parts = 0;
        in.part_sizes = NULL;
    }
    in.headers = c->headers;
    in.num_headers = c->num_headers;
    for (size_t i = 0; i < c->src->num_chunks; i++)
        store_chunk_list_add(&add, c->src->chunks[i].id, &c->src->chunks[i].place);
    if ((ret = codec_object_encode(&in, &rec, &rec_len)) == 0) {
        store_commit_t commit = {
            .bucket = c->bucket, .okey = okey, .okey_len = (size_t)n, .rec = rec, .rec_len = rec_len, .add = &add, .cond = c->cond};
        ret = commit_object(st, &commit, &in, out_obj);
    }
    store_chunk_list_free(&add);
    free(rec);
    free(chunks);
    free(crcs);
    return ret;
}

int store_object_update(store_t *st, const char *bucket, const char *key, size_t key_len, store_update_fn fn, void *ctx)
{
    uint8_t okey[CODEC_OBJECT_KEY_MAX], *rec = NULL;
    size_t rec_len;
    store_object_t cur = {0};
    int n, ret;

    if (bucket == NULL || fn == NULL || (n = codec_object_key(okey, bucket, strlen(bucket), key, key_len)) < 0 || key_len == 0) {
        ret = bucket != NULL ? store_bucket_check(st, bucket) : STORE_E_NO_BUCKET;
        return ret == 0 ? -ENOENT : ret == -EINVAL ? STORE_E_NO_BUCKET : ret;
    }
    pthread_mutex_t *klock = store_key_lock(st, bucket, strlen(bucket), key, key_len);
    pthread_rwlock_rdlock(&st->bucket_lock);
    pthread_mutex_lock(klock);
    if ((ret = store_bucket_check(st, bucket)) == 0 && (ret = meta_get(st->meta, okey, (size_t)n, &cur.rec, &rec_len)) == 0) {
        void *raw = cur.rec;
        int bad = codec_object_decode(raw, rec_len, &cur);
        cur.rec = raw;
        if (bad) {
            ret = STORE_E_CORRUPT;
        } else {
            const store_kv_t *headers;
            size_t num_headers;
            if ((ret = fn(ctx, &cur, &headers, &num_headers)) == 0) {
                codec_object_in_t in;
                codec_chunk_in_t *chunks;
                uint32_t *crcs;
                object_in_from(&cur, &in, &chunks, &crcs);
                in.headers = headers;
                in.num_headers = num_headers;
                if ((ret = codec_object_encode(&in, &rec, &rec_len)) == 0)
                    ret = meta_put_sync(st->meta, okey, (size_t)n, rec, rec_len);
                free(chunks);
                free(crcs);
            }
        }
    }
    pthread_mutex_unlock(klock);
    pthread_rwlock_unlock(&st->bucket_lock);
    store_object_free(&cur);
    free(rec);
    return ret;
}

/* Reads block b of chunk c into dst (the whole block) and checks its CRC32C. Returns 0, STORE_E_CORRUPT or -errno. */
static int read_block(int fd, const store_chunk_ref_t *c, uint32_t b, void *dst, size_t blen)
{
    int ret = blob_pread(fd, dst, blen, (uint64_t)b * STORE_READ_BLOCK);
    if (ret != 0)
        return ret;
    if (crc32c(dst, blen) != codec_chunk_crc(c, b))
        return STORE_E_CORRUPT;
    return 0;
}

/* Opens copy k of chunk c: an fd, or -errno (judged against its directory). */
static int open_copy_read(store_t *st, const store_chunk_ref_t *c, unsigned k)
{
    if (c->place.dirs[k] >= st->num_dirs)
        return STORE_E_CORRUPT;
    blob_dir_t *d = &st->dirs[c->place.dirs[k]];
    int fd = blob_open_read(d, c->id);
    if (fd < 0) {
        char path[4096];
        blob_chunk_path(d, c->id, path, sizeof(path));
        blob_note_error(d, "open", path, fd);
    }
    return fd;
}

void store_copies_init(store_t *st, const store_chunk_ref_t *c, store_copies_t *cp)
{
    memset(cp, 0, sizeof(*cp));
    for (int pass = 0; pass < 2; pass++) /* usable directories first, failed or full ones as a last resort */
        for (unsigned k = 0; k < c->place.num; k++)
            if ((c->place.dirs[k] < st->num_dirs && blob_dir_usable(&st->dirs[c->place.dirs[k]])) == (pass == 0))
                cp->order[cp->num++] = k;
    for (unsigned k = 0; k < CODEC_MAX_COPIES; k++)
        cp->fd[k] = -1;
}

void store_copies_close(store_copies_t *cp)
{
    for (unsigned k = 0; k < CODEC_MAX_COPIES; k++)
        if (cp->fd[k] >= 0)
            close(cp->fd[k]);
}

int store_copies_read_block(store_t *st, const store_chunk_ref_t *c, store_copies_t *cp, uint32_t b, void *dst, size_t blen)
{
    int ret = STORE_E_UNAVAILABLE;
    for (unsigned i = 0; i < cp->num; i++) {
        unsigned k = cp->order[i];
        if (cp->err[k] != 0 && cp->fd[k] < 0) {
            ret = cp->err[k]; /* could not be opened */
            continue;
        }
        if (cp->fd[k] < 0 && (cp->fd[k] = open_copy_read(st, c, k)) < 0) {
            ret = cp->err[k] = cp->fd[k];
            cp->fd[k] = -1;
            cp->bad |= 1u << k;
            continue;
        }
        int r = read_block(cp->fd[k], c, b, dst, blen);
        if (r == -ENODATA)
            r = STORE_E_CORRUPT; /* a short file: damaged like a flipped byte */
        if (r == 0)
            return 0;
        if (r != STORE_E_CORRUPT) {
            char path[4096];
            blob_chunk_path(&st->dirs[c->place.dirs[k]], c->id, path, sizeof(path));
            blob_note_error(&st->dirs[c->place.dirs[k]], "read", path, r);
        }
        if (cp->err[k] == 0)
            cp->err[k] = r;
        cp->bad |= 1u << k;
        ret = r;
    }
    return ret;
}

/* The error for a block no copy served: -EAGAIN when the chunk is gone for good (freed after the object's lookup). */
static int copies_error(store_t *st, const store_chunk_ref_t *c, const store_copies_t *cp)
{
    unsigned missing = 0, corrupt = 0;
    for (unsigned i = 0; i < cp->num; i++) {
        missing += cp->err[cp->order[i]] == -ENOENT;
        corrupt += cp->err[cp->order[i]] == STORE_E_CORRUPT;
    }
    if (missing == c->place.num && !store_chunk_referenced(st, c->id))
        return -EAGAIN;
    return corrupt ? STORE_E_CORRUPT : STORE_E_UNAVAILABLE;
}

/* Logs what was wrong with the copies of c that failed a read. */
static void log_bad_copies(store_t *st, const store_chunk_ref_t *c, const store_copies_t *cp)
{
    for (unsigned k = 0; k < c->place.num; k++)
        if (cp->bad & (1u << k))
            fprintf(stderr, "coffer: storage: chunk %016llx copy in %s: %s\n", (unsigned long long)c->id,
                    c->place.dirs[k] < st->num_dirs ? st->dirs[c->place.dirs[k]].path : "(unconfigured directory)",
                    cp->err[k] == STORE_E_CORRUPT ? "checksum mismatch" : strerror(-cp->err[k]));
}

/*
 * Reads n bytes at coff of chunk c, each block from the first copy that has it intact (copies in
 * usable directories first, in the record's order), so copies damaged in different blocks still
 * serve the whole chunk. Copies found missing or damaged on the way are rewritten from the
 * blocks that are good (store_chunk_repair). Returns 0, -EAGAIN (every copy is gone and the
 * chunk is no longer referenced: its object changed after the lookup), STORE_E_CORRUPT (a
 * block failed its checksum in every copy) or STORE_E_UNAVAILABLE.
 */
static int read_chunk_range(store_t *st, const store_chunk_ref_t *c, uint64_t coff, uint8_t *out, size_t n, uint8_t **scratch)
{
    store_copies_t cp;
    int ret = 0;
    store_copies_init(st, c, &cp);
    while (n > 0 && ret == 0) {
        uint32_t b = (uint32_t)(coff / STORE_READ_BLOCK);
        size_t bstart = (size_t)b * STORE_READ_BLOCK;
        size_t blen = c->len - bstart < STORE_READ_BLOCK ? c->len - bstart : STORE_READ_BLOCK;
        size_t in_block = (size_t)coff - bstart;
        size_t take = blen - in_block < n ? blen - in_block : n;
        if (in_block == 0 && take == blen) {
            ret = store_copies_read_block(st, c, &cp, b, out, blen); /* fast path: straight into the caller's buffer */
        } else {
            if (*scratch == NULL && (*scratch = malloc(STORE_READ_BLOCK)) == NULL)
                abort();
            if ((ret = store_copies_read_block(st, c, &cp, b, *scratch, blen)) == 0)
                memcpy(out, *scratch + in_block, take);
        }
        out += take;
        coff += take;
        n -= take;
    }
    store_copies_close(&cp);
    if (ret != 0) {
        ret = copies_error(st, c, &cp);
        if (ret != -EAGAIN)
            log_bad_copies(st, c, &cp);
        return ret;
    }
    if (cp.bad != 0) {
        log_bad_copies(st, c, &cp);
        store_chunk_repair(st, c, cp.bad, NULL);
    }
    return 0;
}

/* The index of the last chunk starting at or before offset (obj has chunks). */
static size_t chunk_at(const store_object_t *obj, uint64_t offset)
{
    size_t lo = 0, hi = obj->num_chunks;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (obj->chunks[mid].offset <= offset)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

uint64_t store_object_block_end(const store_object_t *obj, uint64_t offset)
{
    if (obj->num_chunks == 0 || offset >= obj->size)
        return obj->size;
    const store_chunk_ref_t *c = &obj->chunks[chunk_at(obj, offset)];
    uint64_t end = c->offset + ((offset - c->offset) / STORE_READ_BLOCK + 1) * STORE_READ_BLOCK;
    return end < c->offset + c->len ? end : c->offset + c->len;
}

/*
 * Maps block b (blen bytes) of the first copy of c in read order and checks it. Returns 0 with
 * *out, or an error. It judges nothing: after a failure the read path tries the same copy again
 * and does the judging, logging and repair, exactly as for a read that never tried a mapping.
 */
/* Opens the first copy of c in read order. Returns an fd, or an error (< 0). */
static int open_first_copy(store_t *st, const store_chunk_ref_t *c)
{
    store_copies_t cp;
    store_copies_init(st, c, &cp);
    if (cp.num == 0 || c->place.dirs[cp.order[0]] >= st->num_dirs)
        return STORE_E_UNAVAILABLE;
    return blob_open_read(&st->dirs[c->place.dirs[cp.order[0]]], c->id);
}

static int map_block(store_t *st, const store_chunk_ref_t *c, uint32_t b, size_t blen, void **out)
{
    int fd = open_first_copy(st, c);
    if (fd < 0)
        return fd;
    void *map;
    int ret = blob_map(fd, (uint64_t)b * STORE_READ_BLOCK, blen, &map);
    close(fd);
    if (ret != 0)
        return ret;
    uint32_t crc;
    if ((ret = store_crc32c_mapped(map, blen, &crc)) == 0 && crc != codec_chunk_crc(c, b))
        ret = STORE_E_CORRUPT;
    if (ret != 0)
        munmap(map, blen);
    else
        *out = map;
    return ret;
}

int store_object_view(store_t *st, const store_object_t *obj, uint64_t offset, size_t len, store_view_t *v)
{
    memset(v, 0, sizeof(*v));
    if (obj->inline_data == NULL && obj->num_chunks > 0 && len > 0 && offset < obj->size) {
        const store_chunk_ref_t *c = &obj->chunks[chunk_at(obj, offset)];
        uint64_t coff = offset - c->offset;
        uint32_t b = (uint32_t)(coff / STORE_READ_BLOCK);
        size_t bstart = (size_t)b * STORE_READ_BLOCK;
        size_t blen = c->len - bstart < STORE_READ_BLOCK ? c->len - bstart : STORE_READ_BLOCK;
        size_t in_block = (size_t)coff - bstart;
        if (blen >= STORE_MAP_MIN && in_block + len <= blen && map_block(st, c, b, blen, &v->map) == 0) {
            v->map_len = blen;
            v->data = (const uint8_t *)v->map + in_block;
            return 0;
        }
    }
    v->buf = xcalloc(1, len); /* xcalloc: never NULL, also for len 0 */
    v->data = v->buf;
    return store_object_read(st, obj, offset, v->buf, len); /* with every fallback and repair */
}

void store_object_prefetch(store_t *st, const store_object_t *obj, uint64_t offset, uint64_t len)
{
    if (obj->inline_data != NULL || obj->num_chunks == 0 || offset >= obj->size)
        return;
    if (len > obj->size - offset)
        len = obj->size - offset;
    for (size_t i = chunk_at(obj, offset); i < obj->num_chunks && len > 0; i++) {
        const store_chunk_ref_t *c = &obj->chunks[i];
        uint64_t coff = offset - c->offset, n = c->len - coff < len ? c->len - coff : len;
        int fd = open_first_copy(st, c);
        if (fd >= 0) {
            (void)posix_fadvise(fd, (off_t)coff, (off_t)n, POSIX_FADV_WILLNEED); /* a hint: the read judges errors */
            close(fd);
        }
        offset += n;
        len -= n;
    }
}

void store_view_release(store_view_t *v)
{
    if (v->map != NULL)
        munmap(v->map, v->map_len);
    free(v->buf);
    memset(v, 0, sizeof(*v));
}

int store_object_read(store_t *st, const store_object_t *obj, uint64_t offset, void *buf, size_t len)
{
    uint8_t *out = buf, *scratch = NULL;
    int ret = 0;

    if (offset > obj->size || len > obj->size - offset)
        return -EINVAL;
    if (len == 0)
        return 0;
    if (obj->inline_data != NULL) {
        memcpy(buf, obj->inline_data + offset, len);
        return 0;
    }
    if (obj->num_chunks == 0)
        return STORE_E_CORRUPT;
    for (size_t i = chunk_at(obj, offset); len > 0 && i < obj->num_chunks; i++) {
        const store_chunk_ref_t *c = &obj->chunks[i];
        uint64_t coff = offset - c->offset;
        size_t take = c->len - coff < len ? (size_t)(c->len - coff) : len;
        if ((ret = read_chunk_range(st, c, coff, out, take, &scratch)) != 0)
            break;
        out += take;
        offset += take;
        len -= take;
    }
    if (ret == 0 && len > 0)
        ret = STORE_E_CORRUPT; /* the chunk lengths do not cover the object */
    free(scratch);
    return ret;
}

int store_data_dir_usable(store_t *st, size_t i)
{
    return i < st->num_dirs && blob_dir_usable(&st->dirs[i]);
}

/* ------------------------------------------------------------------ record walks */

int store_walk_records(store_t *st, uint8_t prefix,
                       int (*fn)(void *ctx, const uint8_t *key, size_t key_len, const store_object_t *o), void *ctx)
{
    uint8_t lo[1] = {prefix}, hi[1] = {(uint8_t)(prefix + 1)};
    int ret = 0;

    meta_iter_t *it = meta_iter_new(st->meta, hi, sizeof(hi));
    for (meta_iter_seek(it, lo, sizeof(lo)); ret == 0 && meta_iter_valid(it); meta_iter_next(it)) {
        store_object_t o;
        size_t len, key_len;
        const void *rec = meta_iter_value(it, &len);
        const uint8_t *key = meta_iter_key(it, &key_len);
        if (codec_object_decode(rec, len, &o) != 0) {
            ret = fn(ctx, key, key_len, NULL);
            continue;
        }
        ret = fn(ctx, key, key_len, &o);
        o.rec = NULL; /* points into the iterator's value */
        store_object_free(&o);
    }
    if (ret == 0)
        ret = meta_iter_status(it);
    meta_iter_free(it);
    return ret;
}

/* ------------------------------------------------------------------ listing */

int store_bytes_cmp(const void *a, size_t a_len, const void *b, size_t b_len)
{
    size_t n = a_len < b_len ? a_len : b_len;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return c;
    return a_len < b_len ? -1 : a_len > b_len;
}

int store_object_list(store_t *st, const store_list_params_t *p, int (*cb)(void *ctx, const store_list_entry_t *e), void *ctx,
                      int *is_truncated)
{
    uint8_t base[2 + STORE_BUCKET_NAME_MAX], upper[2 + STORE_BUCKET_NAME_MAX];
    uint8_t *seek = NULL;
    size_t prefix_len = p->prefix ? p->prefix_len : 0, delim_len = p->delimiter ? p->delimiter_len : 0;
    size_t delivered = 0, seek_len;
    uint64_t steps = 0;
    int ret, bl, truncated = 0;

    *is_truncated = 0;
    if (p->bucket == NULL || (bl = codec_object_prefix(base, p->bucket, strlen(p->bucket))) < 0)
        return STORE_E_NO_BUCKET;
    if ((ret = store_bucket_check(st, p->bucket)) != 0)
        return ret;
    if (prefix_len > STORE_KEY_MAX)
        return 0; /* no key can have this prefix */
    /* room for the start key (start_after may be longer than any key) and any key seeked past later */
    size_t start_len = p->start_after ? p->start_after_len + 1 : 0;
    seek = xcalloc(1, (size_t)bl + (start_len > STORE_KEY_MAX ? start_len : STORE_KEY_MAX));

    /* start at max(prefix, successor(start_after)); start_after + "\0" is its successor */
    memcpy(seek, base, (size_t)bl);
    seek_len = (size_t)bl;
    if (p->start_after != NULL && store_bytes_cmp(p->start_after, p->start_after_len, p->prefix, prefix_len) >= 0) {
        memcpy(seek + seek_len, p->start_after, p->start_after_len);
        seek_len += p->start_after_len;
        seek[seek_len++] = 0;
    } else if (prefix_len) {
        memcpy(seek + seek_len, p->prefix, prefix_len);
        seek_len += prefix_len;
    }
    memcpy(upper, base, (size_t)bl);
    size_t upper_len = codec_prefix_successor(upper, (size_t)bl); /* never 0: the first byte is 'O' */

    meta_iter_t *it = meta_iter_new(st->meta, upper, upper_len);
    meta_iter_seek(it, seek, seek_len);
    steps++;
    while (meta_iter_valid(it)) {
        size_t klen;
        const uint8_t *k = meta_iter_key(it, &klen);
        const uint8_t *key = k + bl;
        size_t key_len = klen - (size_t)bl;
        if (key_len < prefix_len || (prefix_len && memcmp(key, p->prefix, prefix_len) != 0))
            break; /* past every key with the prefix */

        const uint8_t *d = delim_len ? memmem(key + prefix_len, key_len - prefix_len, p->delimiter, delim_len) : NULL;
        if (d != NULL) {
            size_t cp_len = (size_t)(d - key) + delim_len;
            if (p->start_after == NULL || store_bytes_cmp(key, cp_len, p->start_after, p->start_after_len) > 0) {
                if (delivered == p->max_keys) {
                    truncated = 1;
                    break;
                }
                store_list_entry_t e = {.key = (const char *)key, .key_len = cp_len, .is_prefix = 1};
                delivered++;
                if (cb(ctx, &e) != 0) {
                    truncated = 1;
                    break;
                }
            }
            /* skip every key under this common prefix with one seek */
            memcpy(seek, k, (size_t)bl + cp_len);
            seek_len = codec_prefix_successor(seek, (size_t)bl + cp_len);
            if (seek_len <= (size_t)bl)
                break; /* the prefix was all 0xFF: nothing can follow it */
            meta_iter_seek(it, seek, seek_len);
            steps++;
            continue;
        }
        if (p->start_after == NULL || store_bytes_cmp(key, key_len, p->start_after, p->start_after_len) > 0) {
            if (delivered == p->max_keys) {
                truncated = 1;
                break;
            }
            store_list_entry_t e = {.key = (const char *)key, .key_len = key_len};
            size_t vlen;
            const void *v = meta_iter_value(it, &vlen);
            if (codec_object_decode_head(v, vlen, &e.size, &e.mtime_ns, e.md5, &e.num_parts) != 0) {
                ret = STORE_E_CORRUPT;
                break;
            }
            delivered++;
            if (cb(ctx, &e) != 0) {
                truncated = 1;
                break;
            }
        }
        meta_iter_next(it);
        steps++;
    }
    if (ret == 0)
        ret = meta_iter_status(it);
    meta_iter_free(it);
    free(seek);
    atomic_fetch_add(&st->list_steps, steps);
    *is_truncated = truncated;
    return ret;
}
