/* storage/gc.c -- collecting what a crash left in the data directories.
 *
 * DESIGN: the commit order (store.c) makes a chunk file durable before any
 * metadata names it, and unlinks it only after the batch that dropped its last
 * reference is durable. A crash therefore leaves two kinds of debris, never a
 * dangling reference:
 *
 *   - temp files in <data>/tmp/ (a write interrupted before its rename);
 *   - chunk files with no reference-count record: renamed into place but the
 *     batch that would have referenced them never landed, or their last
 *     reference was dropped durably but the unlink never ran.
 *
 * Both are collected once, at open, before the store is handed to anyone: no
 * writer can race the walk, so "no reference-count record now" means "none
 * ever again" (ids are never reused, and a copy refuses a chunk whose record is
 * gone). A running server collects nothing: a chunk between its rename and its
 * batch looks exactly like an orphan, and only store.c knows which ones those are.
 *
 * The walk is conservative, in this order:
 *
 *   1. Only files whose path is exactly what blob_chunk_path gives an id are
 *      chunks (blob_dir_walk); anything else under chunks/ is left alone.
 *   2. Every chunk id must be below the chunk-id counter as this open found it
 *      (every id ever handed out is: store.c persists a block before using it),
 *      and so must every reference-count record. One that is not means the
 *      metadata is older than the data (restored from a backup), belongs to
 *      another store, or lost its counter: the store refuses to open, so that
 *      nothing is deleted and no new chunk is renamed over an existing file.
 *      This runs before store_open reserves its block, so failed starts do not
 *      move the counter past the evidence.
 *   3. A file is a candidate when its reference-count record is missing
 *      (-ENOENT). Any other metadata error stops the pass: nothing is removed.
 *   4. Candidates are checked against every object and part record (the only
 *      records that hold chunk lists; a new kind must be added to
 *      chunk_record_prefixes). One that a record names is kept and logged: its
 *      count record is missing, which is a bug to look at, not a file to delete.
 *      A record that does not decode stops the pass too: it might name anything.
 *      This scan runs only when there are candidates, i.e. after a crash.
 *   5. Unlink. No directory fsync: an unlink a crash undoes is simply redone.
 *
 * Temp files are never named by metadata, so tmp/ is emptied whatever the
 * metadata says.
 */
#include "storage/store_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Record kinds whose values are object records that may list chunks (codec.h). */
static const uint8_t chunk_record_prefixes[] = {CODEC_PREFIX_OBJECT, CODEC_PREFIX_PART};

typedef struct orphan {
    uint64_t id;
    uint16_t dir;
    int named; /* an object or part record lists it after all */
} orphan_t;

/* Why a chunk walk stopped early. */
enum { WALK_BEYOND_COUNTER = 1, WALK_META_ERROR };

typedef struct gc_walk {
    store_t *st;
    uint64_t counter; /* no id at or above it was ever handed out */
    uint16_t dir;     /* the data directory being walked */
    orphan_t *orphans;
    size_t n, cap;
    uint64_t stray_id; /* WALK_BEYOND_COUNTER: the id found */
    int meta_err;      /* WALK_META_ERROR: the error */
} gc_walk_t;

/* blob_dir_walk callback: sorts a chunk file into kept (has a count record) or candidate. */
static int on_chunk(void *ctx, uint64_t id)
{
    gc_walk_t *w = ctx;
    uint8_t rkey[CODEC_REF_KEY_LEN];
    void *v = NULL;
    size_t vlen;

    if (id >= w->counter) {
        w->stray_id = id;
        return WALK_BEYOND_COUNTER;
    }
    codec_ref_key(rkey, id);
    int ret = meta_get(w->st->meta, rkey, sizeof(rkey), &v, &vlen);
    meta_free(v);
    if (ret == 0)
        return 0; /* referenced (whatever the count says: a count record is never a reason to delete) */
    if (ret != -ENOENT) {
        w->meta_err = ret;
        return WALK_META_ERROR;
    }
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 64;
        if ((w->orphans = realloc(w->orphans, w->cap * sizeof(*w->orphans))) == NULL)
            abort();
    }
    w->orphans[w->n++] = (orphan_t){.id = id, .dir = w->dir};
    return 0;
}

static int orphan_cmp(const void *a, const void *b)
{
    uint64_t x = ((const orphan_t *)a)->id, y = ((const orphan_t *)b)->id;
    return x < y ? -1 : x > y;
}

/* Reads the chunk-id counter: every id handed out so far is below it. Returns 0 or -errno. */
static int read_counter(store_t *st, uint64_t *counter)
{
    void *val = NULL;
    size_t len;
    int ret = meta_get(st->meta, CODEC_KEY_CHUNK_COUNTER, 1, &val, &len);
    if (ret == -ENOENT) {
        *counter = 1; /* as store_open: nothing was ever handed out */
        return 0;
    }
    if (ret == 0)
        ret = codec_get_u64(val, len, counter);
    meta_free(val);
    return ret;
}

/* Finds a reference-count record at or above counter. Returns 0 (none), 1 (*id set) or -EIO. */
static int find_ref_beyond(store_t *st, uint64_t counter, uint64_t *id)
{
    uint8_t seek[CODEC_REF_KEY_LEN], upper[1] = {CODEC_PREFIX_REF + 1};
    size_t klen;
    int ret = 0;

    codec_ref_key(seek, counter);
    meta_iter_t *it = meta_iter_new(st->meta, upper, sizeof(upper));
    meta_iter_seek(it, seek, sizeof(seek));
    if (meta_iter_valid(it)) {
        const uint8_t *k = meta_iter_key(it, &klen);
        *id = 0;
        for (size_t i = 1; i < klen && i < CODEC_REF_KEY_LEN; i++)
            *id = *id << 8 | k[i];
        ret = 1;
    } else {
        ret = meta_iter_status(it);
    }
    meta_iter_free(it);
    return ret;
}

typedef struct mark_ctx {
    orphan_t *orphans; /* sorted by id */
    size_t n;
} mark_ctx_t;

static int mark_record(void *ctx, const uint8_t *key, size_t key_len, const store_object_t *o)
{
    mark_ctx_t *m = ctx;
    (void)key;
    (void)key_len;
    if (o == NULL)
        return -EINVAL; /* a record that does not decode might list any of them */
    for (size_t i = 0; i < o->num_chunks; i++) {
        orphan_t want = {.id = o->chunks[i].id};
        orphan_t *hit = bsearch(&want, m->orphans, m->n, sizeof(*m->orphans), orphan_cmp);
        if (hit != NULL)
            hit->named = 1;
    }
    return 0;
}

/* Marks the candidates (sorted) that a record of kind prefix lists. Returns 0, -EINVAL (a record
 * does not decode: it might list any of them) or -EIO. */
static int mark_named(store_t *st, uint8_t prefix, orphan_t *orphans, size_t n)
{
    mark_ctx_t m = {orphans, n};
    return store_walk_records(st, prefix, mark_record, &m);
}

/* Empties every data directory's tmp/. Returns how many files went. */
static size_t clear_temp_files(store_t *st)
{
    size_t total = 0;
    for (size_t d = 0; d < st->num_dirs; d++) {
        size_t n = 0;
        int ret = blob_dir_clear_tmp(&st->dirs[d], &n);
        if (ret != 0)
            fprintf(stderr, "coffer: storage: data directory %s: clearing tmp/: %s\n", st->dirs[d].path, strerror(-ret));
        total += n;
    }
    return total;
}

int gc_collect_at_open(store_t *st, char *errbuf, size_t errbuf_len)
{
    gc_walk_t w = {.st = st};
    size_t num_temp = clear_temp_files(st), num_chunks = 0, num_named = 0;
    const char *skip = NULL; /* why chunk collection was skipped */
    uint64_t ref_id = 0;
    int ret = 0, err = 0;

    if ((err = read_counter(st, &w.counter)) != 0) {
        skip = "reading the chunk-id counter";
        goto Log;
    }
    for (size_t d = 0; d < st->num_dirs; d++) {
        size_t num_other = 0;
        w.dir = (uint16_t)d;
        int wret = blob_dir_walk(&st->dirs[d], on_chunk, &w, &num_other);
        if (wret == WALK_BEYOND_COUNTER) {
            char path[4096];
            blob_chunk_path(&st->dirs[d], w.stray_id, path, sizeof(path));
            snprintf(errbuf, errbuf_len,
                     "chunk file %s has an id the metadata never handed out (its chunk-id counter is at %016" PRIx64
                     "): the metadata directory is older than the data (restored from a backup?), belongs to another "
                     "store, or lost its counter; refusing to start so that no chunk file is deleted or overwritten",
                     path, w.counter);
            ret = -EINVAL;
            goto Log;
        }
        if (wret == WALK_META_ERROR) {
            err = w.meta_err;
            skip = "reading chunk reference counts";
            goto Log;
        }
        if (wret != 0) {
            err = wret;
            skip = "walking a data directory's chunks/";
            goto Log;
        }
        if (num_other > 0)
            fprintf(stderr, "coffer: storage: data directory %s: left alone %zu entries under chunks/ that are not chunk files\n",
                    st->dirs[d].path, num_other);
    }
    if ((err = find_ref_beyond(st, w.counter, &ref_id)) == 1) {
        snprintf(errbuf, errbuf_len,
                 "the metadata holds a reference count for chunk %016" PRIx64 " but its chunk-id counter is at %016" PRIx64
                 ": the counter was lost or rolled back; refusing to start so that no chunk is overwritten",
                 ref_id, w.counter);
        ret = -EINVAL;
        goto Log;
    }
    if (err != 0) {
        skip = "reading chunk reference counts";
        goto Log;
    }
    if (w.n == 0)
        goto Log;

    qsort(w.orphans, w.n, sizeof(*w.orphans), orphan_cmp);
    for (size_t p = 0; p < sizeof(chunk_record_prefixes); p++) {
        if ((err = mark_named(st, chunk_record_prefixes[p], w.orphans, w.n)) != 0) {
            skip = err == -EINVAL ? "an object or part record does not decode (it might name any chunk)"
                                  : "reading object and part records";
            goto Log;
        }
    }
    for (size_t i = 0; i < w.n; i++) {
        const orphan_t *o = &w.orphans[i];
        if (o->named) {
            num_named++;
            fprintf(stderr, "coffer: storage: chunk %016" PRIx64 " is listed by a record but has no reference count; kept\n",
                    o->id);
            continue;
        }
        int uret = blob_unlink(&st->dirs[o->dir], o->id);
        if (uret == 0)
            num_chunks++;
        else if (uret != -ENOENT)
            fprintf(stderr, "coffer: storage: unlink orphaned chunk %016" PRIx64 " in %s: %s\n", o->id, st->dirs[o->dir].path,
                    strerror(-uret));
    }

Log:
    if (skip != NULL)
        fprintf(stderr, "coffer: storage: orphaned chunk collection skipped, no chunk file removed: %s: %s\n", skip,
                strerror(err < 0 ? -err : EIO));
    if (num_chunks > 0 || num_temp > 0)
        fprintf(stderr, "coffer: storage: collected %zu orphaned chunk files and %zu temp files\n", num_chunks, num_temp);
    if (num_named > 0)
        fprintf(stderr, "coffer: storage: kept %zu chunk files that records list without a reference count\n", num_named);
    free(w.orphans);
    return ret;
}
