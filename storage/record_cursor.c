/* storage/record_cursor.c -- the stored headers of the entries a listing returns, read in key order.
 *
 * DESIGN: see record_cursor.h. A find compares the metadata key it is after
 * with the iterator's; behind it, the cursor steps forward a couple of times
 * (the next listed entry is usually the next record) and seeks after that, so
 * a listing that rolled thousands of keys into a common prefix costs one seek
 * here too, as it did in the listing. */
#include "storage/record_cursor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/codec.h"
#include "storage/meta.h"
#include "storage/store_internal.h"

#define CURSOR_STEPS 2 /* iterator steps tried before a seek */

struct store_cursor {
    store_t *st;
    const char *bucket; /* borrowed: the listing's */
    store_cursor_kind_t kind;
    meta_iter_t *it; /* owned; NULL until the first find */
    int on_record;   /* the last find reached the record it was after */
};

store_cursor_t *store_cursor_new(store_t *st, const char *bucket, store_cursor_kind_t kind)
{
    store_cursor_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        abort();
    c->st = st;
    c->bucket = bucket;
    c->kind = kind;
    return c;
}

void store_cursor_free(store_cursor_t *c)
{
    if (c == NULL)
        return;
    if (c->it != NULL)
        meta_iter_free(c->it);
    free(c);
}

/* Moves to the record under target (a metadata key not before the last one found). Returns 0, -ENOENT or -EIO. */
static int find(store_cursor_t *c, const uint8_t *target, size_t target_len)
{
    c->on_record = 0;
    if (c->it == NULL) { /* the snapshot starts now: after the listing's own */
        uint8_t upper[2 + STORE_BUCKET_NAME_MAX];
        size_t bucket_len = strlen(c->bucket);
        int n = c->kind == STORE_CURSOR_OBJECTS ? codec_object_prefix(upper, c->bucket, bucket_len)
                                                : codec_upload_prefix(upper, c->bucket, bucket_len);
        if (n < 0)
            return -ENOENT;
        c->it = meta_iter_new(c->st->meta, upper, codec_prefix_successor(upper, (size_t)n));
        meta_iter_seek(c->it, target, target_len);
    } else {
        for (int step = 0; meta_iter_valid(c->it); step++) {
            size_t klen;
            const void *k = meta_iter_key(c->it, &klen);
            if (store_bytes_cmp(k, klen, target, target_len) >= 0)
                break; /* on it, or past it: then it is not in this snapshot */
            if (step == CURSOR_STEPS) {
                meta_iter_seek(c->it, target, target_len);
                break;
            }
            meta_iter_next(c->it);
        }
    }
    if (!meta_iter_valid(c->it))
        return meta_iter_status(c->it) != 0 ? -EIO : -ENOENT;
    size_t klen;
    const void *k = meta_iter_key(c->it, &klen);
    if (store_bytes_cmp(k, klen, target, target_len) != 0)
        return -ENOENT;
    c->on_record = 1;
    return 0;
}

int store_cursor_find_object(store_cursor_t *c, const char *key, size_t key_len)
{
    uint8_t target[CODEC_OBJECT_KEY_MAX];
    int n = c->kind == STORE_CURSOR_OBJECTS ? codec_object_key(target, c->bucket, strlen(c->bucket), key, key_len) : -EINVAL;
    if (n < 0) {
        c->on_record = 0;
        return -ENOENT;
    }
    return find(c, target, (size_t)n);
}

int store_cursor_find_upload(store_cursor_t *c, const char *key, size_t key_len, const char *upload_id)
{
    uint8_t target[CODEC_UPLOAD_KEY_MAX], id[CODEC_UPLOAD_ID_LEN];
    int n = -EINVAL;
    if (c->kind == STORE_CURSOR_UPLOADS && upload_id != NULL && store_upload_id_parse(upload_id, strlen(upload_id), id) == 0)
        n = codec_upload_key(target, c->bucket, strlen(c->bucket), key, key_len, id);
    if (n < 0) {
        c->on_record = 0;
        return -ENOENT;
    }
    return find(c, target, (size_t)n);
}

const char *store_cursor_header(const store_cursor_t *c, const char *name, size_t name_len, size_t *value_len)
{
    size_t len;
    const char *value;
    if (!c->on_record)
        return NULL;
    const void *rec = meta_iter_value(c->it, &len);
    return codec_object_find_header(rec, len, name, name_len, &value, value_len) == 0 ? value : NULL;
}
