/* storage/scrub.c -- reading back every stored chunk copy and checking it.
 *
 * DESIGN: two passes over the object ('O') and part ('P') records. The first
 * only sums sizes, so progress can be shown as a share of the whole; the
 * second reads each chunk's copies whole, one at a time, through
 * store_copies_read_block (the read path's CRC32C check), and repairs through
 * store_chunk_repair (the read path's rewrite, which takes each block from
 * any copy that has it intact), so a scrub judges and mends copies exactly as
 * a GET does: a chunk is lost only when some block is bad in every copy.
 * Records come from a snapshot taken by the walk; when every copy of a chunk
 * is missing and the chunk has no reference left, its object changed after
 * the snapshot and the chunk is skipped, not reported. A chunk shared by
 * several objects (copies of objects share chunks) is checked once per object.
 */
#include "storage/store_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct scrub_run {
    store_t *st;
    const store_scrub_cb_t *cb;
    store_scrub_stats_t *stats;
    uint8_t *buf; /* one chunk */
    size_t buf_cap;
    uint8_t *scratch;
} scrub_run_t;

static int stopped(const scrub_run_t *r)
{
    return r->cb->stop != NULL && atomic_load(r->cb->stop) != 0;
}

static void progress(const scrub_run_t *r)
{
    if (r->cb->progress != NULL)
        r->cb->progress(r->cb->ctx, r->stats);
}

static int count_record(void *ctx, const uint8_t *key, size_t key_len, const store_object_t *o)
{
    scrub_run_t *r = ctx;
    (void)key;
    (void)key_len;
    r->stats->total_objects++;
    if (o != NULL)
        r->stats->total_bytes += o->size;
    return stopped(r) ? -ECANCELED : 0;
}

/* Who a record belongs to, for reports: bucket and key of an object, or upload id (hex) and part number. */
typedef struct owner {
    char bucket[STORE_BUCKET_NAME_MAX + 1];
    const char *key;
    size_t key_len;
    char upload_hex[2 * CODEC_UPLOAD_ID_LEN + 1];
    uint32_t part_number;
    int is_part;
} owner_t;

static void owner_of(const uint8_t *k, size_t len, owner_t *ow)
{
    memset(ow, 0, sizeof(*ow));
    if (len == CODEC_PART_KEY_LEN && k[0] == CODEC_PREFIX_PART) {
        ow->is_part = 1;
        for (size_t i = 0; i < CODEC_UPLOAD_ID_LEN; i++)
            snprintf(ow->upload_hex + 2 * i, 3, "%02x", k[1 + i]);
        ow->part_number = (uint32_t)k[1 + CODEC_UPLOAD_ID_LEN] << 8 | k[2 + CODEC_UPLOAD_ID_LEN];
        ow->key = ow->upload_hex;
        ow->key_len = 2 * CODEC_UPLOAD_ID_LEN;
        return;
    }
    const char *b, *key;
    size_t blen, klen;
    if (codec_object_key_decode(k, len, &b, &blen, &key, &klen) == 0 && blen <= STORE_BUCKET_NAME_MAX) {
        memcpy(ow->bucket, b, blen);
        ow->key = key;
        ow->key_len = klen;
    }
}

static void report(scrub_run_t *r, const owner_t *ow, const store_chunk_ref_t *c, unsigned k, const char *problem,
                   const char *outcome)
{
    store_scrub_damage_t d = {
        .bucket = ow->is_part ? NULL : ow->bucket,
        .key = ow->key ? ow->key : "",
        .key_len = ow->key_len,
        .part_number = ow->part_number,
        .chunk_id = c->id,
        .chunk_offset = c->offset,
        .dir = c->place.dirs[k] < r->st->num_dirs ? r->st->dirs[c->place.dirs[k]].path : "(unknown directory)",
        .problem = problem,
        .outcome = outcome,
    };
    if (r->cb->damage != NULL)
        r->cb->damage(r->cb->ctx, &d);
}

/* Reads copy k of chunk c whole, checking every block. Returns 0 or the first error (as store_copies_read_block). */
static int check_copy(scrub_run_t *r, const store_chunk_ref_t *c, unsigned k)
{
    store_copies_t cp;
    int ret = 0;
    store_copies_init(r->st, c, &cp);
    cp.order[0] = k; /* this copy only */
    cp.num = 1;
    for (uint32_t b = 0; b < c->num_blocks && ret == 0; b++) {
        size_t off = (size_t)b * STORE_READ_BLOCK, blen = c->len - off < STORE_READ_BLOCK ? c->len - off : STORE_READ_BLOCK;
        ret = store_copies_read_block(r->st, c, &cp, b, r->buf + off, blen);
    }
    store_copies_close(&cp);
    return ret;
}

/* Checks every copy of chunk c; rewrites the bad ones from the good blocks of the others. */
static void scrub_chunk(scrub_run_t *r, const owner_t *ow, const store_chunk_ref_t *c)
{
    int results[CODEC_MAX_COPIES];
    unsigned bad = 0, missing = 0;
    if (c->len > r->buf_cap) {
        free(r->buf);
        if ((r->buf = malloc(c->len)) == NULL)
            abort();
        r->buf_cap = c->len;
    }
    for (unsigned k = 0; k < c->place.num; k++) {
        if (c->place.dirs[k] >= r->st->num_dirs) { /* an operator's mistake, not damage: say so */
            char problem[96];
            snprintf(problem, sizeof(problem), "in data directory #%u, which was not given", (unsigned)c->place.dirs[k] + 1);
            r->stats->unchecked++;
            report(r, ow, c, k, problem, "not checked");
            results[k] = 0;
            continue;
        }
        results[k] = check_copy(r, c, k);
        r->stats->copies++;
        if (results[k] != 0) {
            bad |= 1u << k;
            missing += results[k] == -ENOENT;
        }
    }
    r->stats->chunks++;
    r->stats->bytes += c->len;
    if (bad == 0)
        return;
    if (missing == c->place.num && !store_chunk_referenced(r->st, c->id))
        return; /* freed after the snapshot: its object was replaced or deleted */
    unsigned repaired = 0;
    int lost = store_chunk_repair(r->st, c, bad, &repaired) != 0;
    r->stats->unrecoverable += lost;
    for (unsigned k = 0; k < c->place.num; k++) {
        if (!(bad & (1u << k)))
            continue;
        char problem[96];
        if (results[k] == -ENOENT)
            snprintf(problem, sizeof(problem), "missing");
        else if (results[k] == STORE_E_CORRUPT)
            snprintf(problem, sizeof(problem), "checksum mismatch");
        else
            snprintf(problem, sizeof(problem), "unreadable: %s", strerror(-results[k]));
        const char *outcome = repaired & (1u << k)                               ? "repaired"
                              : lost                                             ? "not repaired: no good copy"
                              : !blob_dir_usable(&r->st->dirs[c->place.dirs[k]]) ? "not repaired: the directory is failed or full"
                                                                                 : "not repaired: rewriting failed (see the log)";
        r->stats->damaged++;
        r->stats->repaired += (repaired & (1u << k)) != 0;
        report(r, ow, c, k, problem, outcome);
    }
}

static int scrub_record(void *ctx, const uint8_t *key, size_t key_len, const store_object_t *o)
{
    scrub_run_t *r = ctx;
    owner_t ow;
    owner_of(key, key_len, &ow);
    if (o == NULL) {
        r->stats->bad_records++;
        fprintf(stderr, "coffer: scrub: a %s record does not decode (%.*s)\n", ow.is_part ? "part" : "object",
                (int)(ow.key_len > 200 ? 200 : ow.key_len), ow.key ? ow.key : "");
    } else {
        for (size_t i = 0; i < o->num_chunks && !stopped(r); i++) {
            scrub_chunk(r, &ow, &o->chunks[i]);
            progress(r);
        }
    }
    r->stats->objects++;
    progress(r);
    return stopped(r) ? -ECANCELED : 0;
}

int store_scrub(store_t *st, const store_scrub_cb_t *cb, store_scrub_stats_t *stats)
{
    scrub_run_t r = {.st = st, .cb = cb, .stats = stats};
    int ret;
    memset(stats, 0, sizeof(*stats));
    if ((ret = store_walk_records(st, CODEC_PREFIX_OBJECT, count_record, &r)) == 0 &&
        (ret = store_walk_records(st, CODEC_PREFIX_PART, count_record, &r)) == 0) {
        progress(&r);
        if ((ret = store_walk_records(st, CODEC_PREFIX_OBJECT, scrub_record, &r)) == 0)
            ret = store_walk_records(st, CODEC_PREFIX_PART, scrub_record, &r);
    }
    free(r.buf);
    free(r.scratch);
    return ret;
}
