/* storage/multipart.c -- multipart uploads: create, parts, complete, abort, listings.
 *
 * DESIGN: an upload is a record under 'U' (bucket, key, id) in the object
 * record format with no data: its headers become the object's, its mtime is
 * the initiation time. A part is an object record under 'P' (id, number) that
 * owns its chunks (reference count 1 each). The id's first 8 bytes are the
 * big-endian initiation time, so one key's uploads list in the order they began.
 *
 *   UploadPart   stage the data (no lock held: this is the slow part), then
 *                under the upload's lock (shared) and the part's key stripe:
 *                check the upload still exists, one synced batch puts the part
 *                record, gives its chunks their reference and drops those of
 *                the part it replaces.
 *   Complete     under the upload's lock (exclusive): validate the list against
 *                the stored parts, then ONE synced batch writes the object record
 *                whose chunk list is the listed parts' chunk lists in order (their
 *                references move from part to object: no data copied, no count
 *                changed), deletes the upload and every part record, and drops
 *                the references of the parts left out and of the replaced object.
 *   Abort        under the exclusive lock: one batch deletes the upload and its
 *                parts and drops their chunks' references.
 *
 * Lock order: upload lock, then bucket lock, then key stripe, then ref
 * stripes (store_commit takes the last three). A part racing a completion
 * either commits before it (and is listed or left out like any part) or finds
 * the upload gone and unlinks its staged chunks: never a visible half.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "storage/codec.h"
#include "storage/meta.h"
#include "storage/store.h"
#include "storage/store_internal.h"

static const char hexdigits[] = "0123456789abcdef";

static void id_to_hex(const uint8_t id[CODEC_UPLOAD_ID_LEN], char out[STORE_UPLOAD_ID_LEN + 1])
{
    for (size_t i = 0; i < CODEC_UPLOAD_ID_LEN; i++) {
        out[2 * i] = hexdigits[id[i] >> 4];
        out[2 * i + 1] = hexdigits[id[i] & 15];
    }
    out[STORE_UPLOAD_ID_LEN] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int store_upload_id_parse(const char *s, size_t len, uint8_t id[CODEC_UPLOAD_ID_LEN])
{
    if (s == NULL || len != STORE_UPLOAD_ID_LEN)
        return -1;
    for (size_t i = 0; i < CODEC_UPLOAD_ID_LEN; i++) {
        int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        id[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static pthread_rwlock_t *upload_lock(store_t *st, const uint8_t id[CODEC_UPLOAD_ID_LEN])
{
    return &st->upload_locks[store_fnv1a(STORE_FNV_SEED, id, CODEC_UPLOAD_ID_LEN) % STORE_STRIPES];
}

static pthread_mutex_t *part_lock(store_t *st, const uint8_t id[CODEC_UPLOAD_ID_LEN], uint32_t part_number)
{
    uint8_t pn[2] = {(uint8_t)(part_number >> 8), (uint8_t)part_number};
    return &st->key_locks[store_fnv1a(store_fnv1a(STORE_FNV_SEED, id, CODEC_UPLOAD_ID_LEN), pn, 2) % STORE_STRIPES];
}

/* An upload named by a request, resolved to its metadata key. */
typedef struct upload_at {
    uint8_t id[CODEC_UPLOAD_ID_LEN];
    uint8_t key[CODEC_UPLOAD_KEY_MAX];
    size_t key_len;
} upload_at_t;

/* Returns 0, or STORE_E_NO_UPLOAD for an id or key no upload can have. */
static int resolve(const store_upload_ref_t *u, upload_at_t *at)
{
    if (u->bucket == NULL || store_upload_id_parse(u->upload_id, u->upload_id_len, at->id) != 0)
        return STORE_E_NO_UPLOAD;
    int n = codec_upload_key(at->key, u->bucket, strlen(u->bucket), u->key, u->key_len, at->id);
    if (n < 0)
        return STORE_E_NO_UPLOAD;
    at->key_len = (size_t)n;
    return 0;
}

/* Reads the upload record into out (when not NULL). Returns 0, STORE_E_NO_UPLOAD, STORE_E_NO_BUCKET or -errno. */
static int upload_read(store_t *st, const store_upload_ref_t *u, const upload_at_t *at, store_object_t *out)
{
    void *val = NULL;
    size_t val_len;
    int ret = meta_get(st->meta, at->key, at->key_len, &val, &val_len);
    if (ret == -ENOENT) {
        ret = store_bucket_check(st, u->bucket);
        return ret == 0 || ret == -EINVAL ? STORE_E_NO_UPLOAD : ret;
    }
    if (ret != 0)
        return ret;
    if (out == NULL) {
        meta_free(val);
        return 0;
    }
    if (codec_object_decode(val, val_len, out) != 0) {
        meta_free(val);
        return STORE_E_CORRUPT;
    }
    out->rec = val;
    return 0;
}

int store_upload_create(store_t *st, const char *bucket, const char *key, size_t key_len, const store_kv_t *headers,
                        size_t num_headers, char upload_id[STORE_UPLOAD_ID_LEN + 1])
{
    upload_at_t at;
    uint8_t *rec = NULL;
    size_t rec_len;
    codec_object_in_t in = {
        .mtime_ns = store_now_ns(), .headers = headers, .num_headers = num_headers, .inline_data = (const uint8_t *)""};
    int ret;

    if (bucket == NULL || key_len == 0 || key_len > STORE_KEY_MAX)
        return -EINVAL;
    for (int i = 0; i < 8; i++)
        at.id[i] = (uint8_t)((uint64_t)in.mtime_ns >> (56 - 8 * i));
    if (RAND_bytes(at.id + 8, CODEC_UPLOAD_ID_LEN - 8) != 1)
        return -EIO;
    int n = codec_upload_key(at.key, bucket, strlen(bucket), key, key_len, at.id);
    if (n < 0)
        return -EINVAL;
    if ((ret = codec_object_encode(&in, &rec, &rec_len)) != 0)
        return ret;
    pthread_rwlock_rdlock(&st->bucket_lock); /* a bucket delete sees the upload or refuses nothing */
    if ((ret = store_bucket_check(st, bucket)) == 0)
        ret = meta_put_sync(st->meta, at.key, (size_t)n, rec, rec_len);
    pthread_rwlock_unlock(&st->bucket_lock);
    free(rec);
    if (ret == 0)
        id_to_hex(at.id, upload_id);
    return ret == -EINVAL ? STORE_E_NO_BUCKET : ret;
}

int store_upload_get(store_t *st, const store_upload_ref_t *u, store_object_t *out)
{
    upload_at_t at;
    memset(out, 0, sizeof(*out));
    int ret = resolve(u, &at);
    if (ret != 0) {
        int b = u->bucket != NULL ? store_bucket_check(st, u->bucket) : STORE_E_NO_BUCKET;
        return b == STORE_E_NO_BUCKET ? b : ret;
    }
    return upload_read(st, u, &at, out);
}

int store_part_put(store_t *st, const store_part_put_t *p, store_object_t *out_part)
{
    upload_at_t at;
    uint8_t pkey[CODEC_PART_KEY_LEN], *rec = NULL;
    size_t rec_len;
    store_staged_t staged = {0};
    store_chunk_list_t drop = {0}, freed = {0};
    int ret;

    if (p->part_number < 1 || p->part_number > STORE_MAX_PARTS || (p->body == NULL && p->body_iovcnt))
        return -EINVAL;
    if ((ret = resolve(&p->upload, &at)) != 0 || (ret = upload_read(st, &p->upload, &at, NULL)) != 0)
        return ret; /* refused before any data is written */

    store_source_t src = {.iov = p->body, .iovcnt = p->body_iovcnt};
    if (p->copy_source != NULL) {
        if (p->copy_offset > p->copy_source->size || p->copy_len > p->copy_source->size - p->copy_offset)
            return -EINVAL;
        src.object = p->copy_source;
        src.object_offset = p->copy_offset;
        src.size = p->copy_len;
    } else {
        for (size_t i = 0; i < p->body_iovcnt; i++)
            src.size += p->body[i].iov_len;
    }
    if ((ret = store_stage(st, &src, p->expected_md5, &staged)) != 0)
        return ret;
    codec_object_in_t in = {.size = staged.size,
                            .mtime_ns = store_now_ns(),
                            .headers = p->headers,
                            .num_headers = p->num_headers,
                            .chunks = staged.chunks,
                            .num_chunks = staged.num_chunks};
    memcpy(in.md5, staged.md5, 16);
    if (in.num_chunks == 0)
        in.inline_data = (const uint8_t *)""; /* an empty part */
    if ((ret = codec_object_encode(&in, &rec, &rec_len)) != 0)
        goto Exit;
    codec_part_key(pkey, at.id, p->part_number);

    pthread_rwlock_t *ulock = upload_lock(st, at.id);
    pthread_mutex_t *plock = part_lock(st, at.id, p->part_number);
    pthread_rwlock_rdlock(ulock); /* parts commit side by side; completion and abort wait */
    pthread_mutex_lock(plock);    /* but one number at a time: the part replaced is read, then dropped */
    if ((ret = upload_read(st, &p->upload, &at, NULL)) == 0) {
        void *old = NULL;
        size_t old_len;
        store_object_t prev;
        ret = meta_get(st->meta, pkey, sizeof(pkey), &old, &old_len);
        if (ret == 0 && codec_object_decode(old, old_len, &prev) == 0) {
            for (size_t i = 0; i < prev.num_chunks; i++)
                store_chunk_list_add(&drop, prev.chunks[i].id, &prev.chunks[i].place);
            store_object_free(&prev);
        }
        meta_free(old);
        if (ret == 0 || ret == -ENOENT) {
            meta_batch_t *b = meta_batch_new();
            meta_batch_put(b, pkey, sizeof(pkey), rec, rec_len);
            store_commit_t c = {.new_chunks = staged.chunks, .num_new_chunks = staged.num_chunks, .drop = &drop};
            ret = store_commit(st, &c, b, &freed);
            meta_batch_free(b);
        }
    }
    pthread_mutex_unlock(plock);
    pthread_rwlock_unlock(ulock);
    if (ret == 0) {
        store_unlink_chunks(st, &freed); /* the replaced part's chunks, now that the batch is durable */
        if (out_part != NULL) {
            memset(out_part, 0, sizeof(*out_part));
            out_part->size = in.size;
            out_part->mtime_ns = in.mtime_ns;
            memcpy(out_part->md5, in.md5, 16);
        }
    }

Exit:
    if (ret != 0)
        store_staged_discard(st, &staged); /* referenced by nothing */
    store_staged_free(&staged);
    store_chunk_list_free(&drop);
    store_chunk_list_free(&freed);
    free(rec);
    return ret;
}

/* The part records of an upload, in part-number order. */
typedef struct part_set {
    size_t n, cap;
    uint32_t *numbers;
    store_object_t *parts; /* decoded; rec owned */
} part_set_t;

static void part_set_free(part_set_t *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        store_object_free(&ps->parts[i]);
    free(ps->numbers);
    free(ps->parts);
    memset(ps, 0, sizeof(*ps));
}

/*
 * Calls fn with each part record of upload id numbered first or above, in
 * order; fn returns 0 to go on, > 0 to stop, < 0 for an error. Returns 0, fn's error or -errno.
 */
static int parts_each(store_t *st, const uint8_t id[CODEC_UPLOAD_ID_LEN], uint32_t first,
                      int (*fn)(void *ctx, uint32_t number, const void *rec, size_t len), void *ctx)
{
    uint8_t lo[CODEC_PART_KEY_LEN], hi[CODEC_PART_KEY_LEN];
    codec_part_key(lo, id, first);
    memcpy(hi, lo, sizeof(hi));
    size_t hi_len = codec_prefix_successor(hi, 1 + CODEC_UPLOAD_ID_LEN);
    meta_iter_t *it = meta_iter_new(st->meta, hi, hi_len);
    int ret = 0;
    for (meta_iter_seek(it, lo, sizeof(lo)); ret == 0 && meta_iter_valid(it); meta_iter_next(it)) {
        size_t klen, vlen;
        const uint8_t *k = meta_iter_key(it, &klen);
        const void *v = meta_iter_value(it, &vlen);
        if (klen != CODEC_PART_KEY_LEN || memcmp(k, lo, 1 + CODEC_UPLOAD_ID_LEN) != 0)
            break;
        ret = fn(ctx, (uint32_t)k[1 + CODEC_UPLOAD_ID_LEN] << 8 | k[2 + CODEC_UPLOAD_ID_LEN], v, vlen);
    }
    if (ret >= 0)
        ret = meta_iter_status(it);
    meta_iter_free(it);
    return ret;
}

static int part_set_add(void *ctx, uint32_t number, const void *rec, size_t len)
{
    part_set_t *ps = ctx;
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 16;
        if ((ps->numbers = realloc(ps->numbers, ps->cap * sizeof(*ps->numbers))) == NULL ||
            (ps->parts = realloc(ps->parts, ps->cap * sizeof(*ps->parts))) == NULL)
            abort();
    }
    void *copy = malloc(len ? len : 1);
    if (copy == NULL)
        abort();
    memcpy(copy, rec, len);
    if (codec_object_decode(copy, len, &ps->parts[ps->n]) != 0) {
        free(copy);
        return STORE_E_CORRUPT;
    }
    ps->parts[ps->n].rec = copy;
    ps->numbers[ps->n++] = number;
    return 0;
}

/* Loads every part record of upload id. Returns 0 or -errno (STORE_E_CORRUPT for a record that does not decode). */
static int part_set_load(store_t *st, const uint8_t id[CODEC_UPLOAD_ID_LEN], part_set_t *ps)
{
    memset(ps, 0, sizeof(*ps));
    return parts_each(st, id, 0, part_set_add, ps);
}

/* Adds to b the deletion of the upload record and all its part records. */
static void delete_upload_records(meta_batch_t *b, const upload_at_t *at, const part_set_t *ps)
{
    meta_batch_delete(b, at->key, at->key_len);
    for (size_t i = 0; i < ps->n; i++) {
        uint8_t pkey[CODEC_PART_KEY_LEN];
        codec_part_key(pkey, at->id, ps->numbers[i]);
        meta_batch_delete(b, pkey, sizeof(pkey));
    }
}

static void add_chunks(store_chunk_list_t *l, const store_object_t *o)
{
    for (size_t i = 0; i < o->num_chunks; i++)
        store_chunk_list_add(l, o->chunks[i].id, &o->chunks[i].place);
}

/* Binary search for part_number in ps. Returns its index or -1. */
static long part_find(const part_set_t *ps, uint32_t part_number)
{
    size_t lo = 0, hi = ps->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ps->numbers[mid] == part_number)
            return (long)mid;
        if (ps->numbers[mid] < part_number)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/*
 * Checks a completion list against the stored parts. Returns 0 and marks the
 * chosen parts in chosen[], or an error with *bad_part set.
 */
static int check_completion(const part_set_t *ps, const store_complete_part_t *parts, size_t num_parts, long *chosen,
                            size_t *bad_part)
{
    for (size_t i = 0; i < num_parts; i++) {
        *bad_part = i;
        if (i > 0 && parts[i].part_number <= parts[i - 1].part_number)
            return STORE_E_INVALID_PART_ORDER;
        long at = part_find(ps, parts[i].part_number);
        if (at < 0 || memcmp(ps->parts[at].md5, parts[i].md5, 16) != 0)
            return STORE_E_INVALID_PART;
        chosen[i] = at;
    }
    for (size_t i = 0; i + 1 < num_parts; i++) {
        if (ps->parts[chosen[i]].size < STORE_MIN_PART_SIZE) {
            *bad_part = i;
            return STORE_E_ENTITY_TOO_SMALL;
        }
    }
    return 0;
}

/* Encodes the object made of the chosen parts, in order, with the upload's headers. */
static int encode_completed(const store_object_t *upload, const part_set_t *ps, const long *chosen, size_t num_parts,
                            const store_complete_hook_t *hook, store_object_t *out_obj, uint8_t **rec, size_t *rec_len,
                            size_t *bad_part)
{
    const store_kv_t *headers = upload->headers;
    size_t num_headers = upload->num_headers;
    if (hook != NULL && hook->fn != NULL) {
        const store_object_t **chosen_parts = calloc(num_parts, sizeof(*chosen_parts));
        if (chosen_parts == NULL)
            abort();
        for (size_t i = 0; i < num_parts; i++)
            chosen_parts[i] = &ps->parts[chosen[i]];
        int ret = hook->fn(hook->ctx, upload, chosen_parts, num_parts, &headers, &num_headers, bad_part);
        free(chosen_parts);
        if (ret != 0)
            return ret;
    }
    size_t num_chunks = 0, num_blocks = 0;
    for (size_t i = 0; i < num_parts; i++) {
        const store_object_t *p = &ps->parts[chosen[i]];
        num_chunks += p->num_chunks;
        for (size_t c = 0; c < p->num_chunks; c++)
            num_blocks += p->chunks[c].num_blocks;
    }
    codec_chunk_in_t *chunks = calloc(num_chunks ? num_chunks : 1, sizeof(*chunks));
    uint32_t *crcs = calloc(num_blocks ? num_blocks : 1, sizeof(*crcs));
    uint64_t *sizes = calloc(num_parts, sizeof(*sizes));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (chunks == NULL || crcs == NULL || sizes == NULL || md == NULL || EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1)
        abort();

    codec_object_in_t in = {.mtime_ns = store_now_ns(),
                            .headers = headers,
                            .num_headers = num_headers,
                            .chunks = chunks,
                            .num_chunks = num_chunks,
                            .num_parts = (uint32_t)num_parts,
                            .part_sizes = sizes};
    size_t ci = 0, bi = 0;
    for (size_t i = 0; i < num_parts; i++) {
        const store_object_t *p = &ps->parts[chosen[i]];
        EVP_DigestUpdate(md, p->md5, 16);
        sizes[i] = p->size;
        in.size += p->size;
        for (size_t c = 0; c < p->num_chunks; c++, ci++) {
            const store_chunk_ref_t *ref = &p->chunks[c];
            chunks[ci] = (codec_chunk_in_t){.id = ref->id, .len = ref->len, .place = ref->place, .crcs = crcs + bi};
            for (uint32_t b = 0; b < ref->num_blocks; b++)
                crcs[bi++] = codec_chunk_crc(ref, b);
        }
    }
    EVP_DigestFinal_ex(md, in.md5, NULL);
    EVP_MD_CTX_free(md);
    if (num_chunks == 0)
        in.inline_data = (const uint8_t *)""; /* every part was empty */
    int ret = codec_object_encode(&in, rec, rec_len);
    if (ret == 0) {
        memset(out_obj, 0, sizeof(*out_obj));
        out_obj->size = in.size;
        out_obj->mtime_ns = in.mtime_ns;
        out_obj->num_parts = in.num_parts;
        memcpy(out_obj->md5, in.md5, 16);
    }
    free(chunks);
    free(crcs);
    free(sizes);
    return ret;
}

int store_upload_complete(store_t *st, const store_upload_ref_t *u, const store_complete_part_t *parts, size_t num_parts,
                          const store_complete_hook_t *hook, const store_precondition_t *cond, store_object_t *out_obj,
                          size_t *bad_part)
{
    uint8_t okey[CODEC_OBJECT_KEY_MAX], *rec = NULL;
    size_t rec_len;
    upload_at_t at;
    store_object_t upload = {0};
    part_set_t ps = {0};
    store_chunk_list_t drop = {0}, freed = {0};
    long *chosen = NULL;
    int ret, n;

    *bad_part = 0;
    if (num_parts == 0 || num_parts > STORE_MAX_PARTS)
        return -EINVAL;
    if ((ret = resolve(u, &at)) != 0)
        return ret;
    if ((n = codec_object_key(okey, u->bucket, strlen(u->bucket), u->key, u->key_len)) < 0)
        return STORE_E_NO_UPLOAD;
    chosen = calloc(num_parts, sizeof(*chosen));
    if (chosen == NULL)
        abort();

    pthread_rwlock_t *ulock = upload_lock(st, at.id);
    pthread_rwlock_wrlock(ulock); /* no part commits meanwhile */
    if ((ret = upload_read(st, u, &at, &upload)) != 0 || (ret = part_set_load(st, at.id, &ps)) != 0 ||
        (ret = check_completion(&ps, parts, num_parts, chosen, bad_part)) != 0 ||
        (ret = encode_completed(&upload, &ps, chosen, num_parts, hook, out_obj, &rec, &rec_len, bad_part)) != 0)
        goto Unlock;
    /* parts left out lose their chunks; chosen is ascending, so one merge pass finds them */
    for (size_t i = 0, c = 0; i < ps.n; i++) {
        if (c < num_parts && chosen[c] == (long)i)
            c++;
        else
            add_chunks(&drop, &ps.parts[i]);
    }
    meta_batch_t *b = meta_batch_new();
    delete_upload_records(b, &at, &ps);
    /* a refused condition writes nothing of b: the upload and its parts stay for a retry or an abort */
    store_commit_t c = {
        .bucket = u->bucket, .okey = okey, .okey_len = (size_t)n, .rec = rec, .rec_len = rec_len, .drop = &drop, .cond = cond};
    ret = store_commit(st, &c, b, &freed);
    meta_batch_free(b);
Unlock:
    pthread_rwlock_unlock(ulock);
    if (ret == 0)
        store_unlink_chunks(st, &freed);
    store_object_free(&upload);
    part_set_free(&ps);
    store_chunk_list_free(&drop);
    store_chunk_list_free(&freed);
    free(chosen);
    free(rec);
    return ret;
}

int store_upload_abort(store_t *st, const store_upload_ref_t *u)
{
    upload_at_t at;
    part_set_t ps = {0};
    store_chunk_list_t drop = {0}, freed = {0};
    int ret;

    if ((ret = resolve(u, &at)) != 0)
        return ret;
    pthread_rwlock_t *ulock = upload_lock(st, at.id);
    pthread_rwlock_wrlock(ulock);
    if ((ret = upload_read(st, u, &at, NULL)) == 0 && (ret = part_set_load(st, at.id, &ps)) == 0) {
        for (size_t i = 0; i < ps.n; i++)
            add_chunks(&drop, &ps.parts[i]);
        meta_batch_t *b = meta_batch_new();
        delete_upload_records(b, &at, &ps);
        store_commit_t c = {.drop = &drop};
        ret = store_commit(st, &c, b, &freed);
        meta_batch_free(b);
    }
    pthread_rwlock_unlock(ulock);
    if (ret == 0)
        store_unlink_chunks(st, &freed);
    part_set_free(&ps);
    store_chunk_list_free(&drop);
    store_chunk_list_free(&freed);
    return ret;
}

typedef struct part_list_walk {
    size_t left; /* parts still to deliver */
    int truncated;
    int (*cb)(void *ctx, const store_part_info_t *p);
    void *ctx;
} part_list_walk_t;

static int part_list_one(void *ctx, uint32_t number, const void *rec, size_t len)
{
    part_list_walk_t *w = ctx;
    store_part_info_t p = {.part_number = number};
    store_object_t part;
    if (w->left == 0) {
        w->truncated = 1;
        return 1;
    }
    if (codec_object_decode(rec, len, &part) != 0)
        return STORE_E_CORRUPT;
    p.size = part.size;
    p.mtime_ns = part.mtime_ns;
    memcpy(p.md5, part.md5, 16);
    p.headers = part.headers;
    p.num_headers = part.num_headers;
    w->left--;
    int stop = w->cb(w->ctx, &p);
    part.rec = NULL; /* rec is the iterator's */
    store_object_free(&part);
    if (stop != 0) {
        w->truncated = 1;
        return 1;
    }
    return 0;
}

int store_part_list(store_t *st, const store_upload_ref_t *u, uint32_t after, size_t max_parts,
                    int (*cb)(void *ctx, const store_part_info_t *p), void *ctx, int *is_truncated)
{
    upload_at_t at;
    part_list_walk_t w = {.left = max_parts, .cb = cb, .ctx = ctx};
    int ret;

    *is_truncated = 0;
    if ((ret = resolve(u, &at)) != 0 || (ret = upload_read(st, u, &at, NULL)) != 0)
        return ret;
    if (after >= STORE_MAX_PARTS)
        return 0;
    ret = parts_each(st, at.id, after + 1, part_list_one, &w);
    *is_truncated = w.truncated;
    return ret;
}

int store_upload_list(store_t *st, const store_upload_list_params_t *p, int (*cb)(void *ctx, const store_upload_entry_t *e),
                      void *ctx, int *is_truncated)
{
    uint8_t base[2 + STORE_BUCKET_NAME_MAX], upper[2 + STORE_BUCKET_NAME_MAX], seek[CODEC_UPLOAD_KEY_MAX];
    char key[STORE_KEY_MAX];
    size_t prefix_len = p->prefix ? p->prefix_len : 0, delim_len = p->delimiter ? p->delimiter_len : 0;
    size_t delivered = 0, seek_len;
    int ret, bl;

    *is_truncated = 0;
    if (p->bucket == NULL || (bl = codec_upload_prefix(base, p->bucket, strlen(p->bucket))) < 0)
        return STORE_E_NO_BUCKET;
    if ((ret = store_bucket_check(st, p->bucket)) != 0)
        return ret;
    if (prefix_len > STORE_KEY_MAX)
        return 0;

    /* start at the prefix, or just after the marker when it sorts later */
    uint8_t marker_id[CODEC_UPLOAD_ID_LEN];
    int have_id = p->key_marker != NULL && store_upload_id_parse(p->upload_id_marker, p->upload_id_marker_len, marker_id) == 0;
    int n;
    if (p->key_marker != NULL && p->key_marker_len <= STORE_KEY_MAX &&
        store_bytes_cmp(p->key_marker, p->key_marker_len, p->prefix, prefix_len) >= 0) {
        if (!have_id)
            memset(marker_id, 0xFF, sizeof(marker_id)); /* past every upload of the marker key */
        n = p->key_marker_len ? codec_upload_key(seek, p->bucket, strlen(p->bucket), p->key_marker, p->key_marker_len, marker_id)
                              : codec_upload_key_start(seek, p->bucket, strlen(p->bucket), "", 0);
    } else if (p->key_marker != NULL && p->key_marker_len > STORE_KEY_MAX) {
        return 0; /* later than any key */
    } else {
        n = codec_upload_key_start(seek, p->bucket, strlen(p->bucket), p->prefix, prefix_len);
    }
    if (n < 0)
        return -EINVAL;
    seek_len = (size_t)n;
    memcpy(upper, base, (size_t)bl);
    size_t upper_len = codec_prefix_successor(upper, (size_t)bl);

    meta_iter_t *it = meta_iter_new(st->meta, upper, upper_len);
    meta_iter_seek(it, seek, seek_len);
    while (meta_iter_valid(it)) {
        size_t klen, key_len;
        const uint8_t *k = meta_iter_key(it, &klen);
        uint8_t id[CODEC_UPLOAD_ID_LEN];
        if (codec_upload_key_decode(k, klen, (size_t)bl, key, &key_len, id) != 0) {
            ret = STORE_E_CORRUPT;
            break;
        }
        if (key_len < prefix_len || (prefix_len && memcmp(key, p->prefix, prefix_len) != 0))
            break;                   /* past every key with the prefix */
        if (p->key_marker != NULL) { /* the seek lands on the marker itself when its id was given */
            int c = store_bytes_cmp(key, key_len, p->key_marker, p->key_marker_len);
            if (c < 0 || (c == 0 && (!have_id || memcmp(id, marker_id, sizeof(id)) <= 0))) {
                meta_iter_next(it);
                continue;
            }
        }
        const uint8_t *d = delim_len ? memmem(key + prefix_len, key_len - prefix_len, p->delimiter, delim_len) : NULL;
        if (d != NULL) {
            size_t cp_len = (size_t)(d - (const uint8_t *)key) + delim_len;
            if (p->key_marker == NULL || store_bytes_cmp(key, cp_len, p->key_marker, p->key_marker_len) > 0) {
                if (delivered == p->max_uploads) {
                    *is_truncated = 1;
                    break;
                }
                store_upload_entry_t e = {.key = key, .key_len = cp_len, .is_prefix = 1};
                delivered++;
                if (cb(ctx, &e) != 0) {
                    *is_truncated = 1;
                    break;
                }
            }
            /* skip every upload under this common prefix with one seek */
            n = codec_upload_key_start(seek, p->bucket, strlen(p->bucket), key, cp_len);
            seek_len = n > 0 ? codec_prefix_successor(seek, (size_t)n) : 0;
            if (seek_len <= (size_t)bl)
                break;
            meta_iter_seek(it, seek, seek_len);
            continue;
        }
        if (delivered == p->max_uploads) {
            *is_truncated = 1;
            break;
        }
        store_upload_entry_t e = {.key = key, .key_len = key_len};
        size_t vlen;
        const void *v = meta_iter_value(it, &vlen);
        uint64_t size;
        uint8_t md5[16];
        uint32_t np;
        if (codec_object_decode_head(v, vlen, &size, &e.initiated_ns, md5, &np) != 0) {
            ret = STORE_E_CORRUPT;
            break;
        }
        id_to_hex(id, e.upload_id);
        delivered++;
        if (cb(ctx, &e) != 0) {
            *is_truncated = 1;
            break;
        }
        meta_iter_next(it);
    }
    if (ret == 0)
        ret = meta_iter_status(it);
    meta_iter_free(it);
    return ret;
}
