/* storage/bucket_conf.c -- a bucket's configuration documents (tags, ownership controls, public access block).
 *
 * DESIGN: each document is one metadata record under 'G' len(bucket) bucket name
 * (see codec.h), written with a synced write. A write holds the bucket lock for
 * reading and checks the bucket under it, and store_bucket_delete holds it for
 * writing while it deletes the bucket record and every 'G' record of the bucket
 * in one synced batch: so no document outlives its bucket, and a bucket created
 * again under the same name never finds its predecessor's. Reads take no lock:
 * a read racing a delete sees the document or -ENOENT, both true at some instant. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "storage/codec.h"
#include "storage/meta.h"
#include "storage/store.h"
#include "storage/store_internal.h"

/* Encodes the key; STORE_E_NO_BUCKET for a name no bucket can have, -EINVAL for a bad configuration name. */
static int conf_key(uint8_t *out, const char *bucket, const char *name)
{
    size_t bucket_len = bucket != NULL ? strlen(bucket) : 0;
    if (bucket_len == 0 || bucket_len > STORE_BUCKET_NAME_MAX)
        return STORE_E_NO_BUCKET;
    if (name == NULL || strlen(name) > STORE_BUCKET_CONF_NAME_MAX)
        return -EINVAL;
    return codec_bucket_conf_key(out, bucket, bucket_len, name);
}

int store_bucket_conf_get(store_t *st, const char *bucket, const char *name, void **val, size_t *val_len)
{
    uint8_t key[CODEC_CONF_KEY_MAX];
    void *v = NULL;
    size_t len = 0;
    int n = conf_key(key, bucket, name), ret;

    if (n < 0)
        return n;
    if ((ret = store_bucket_check(st, bucket)) != 0)
        return ret;
    if ((ret = meta_get(st->meta, key, (size_t)n, &v, &len)) != 0)
        return ret;
    /* a copy the caller frees with free(): meta's buffer belongs to RocksDB's allocator */
    if ((*val = malloc(len != 0 ? len : 1)) == NULL)
        abort();
    memcpy(*val, v, len);
    *val_len = len;
    meta_free(v);
    return 0;
}

/* Writes (val != NULL) or deletes the document under the bucket lock, once the bucket is known to exist. */
static int conf_write(store_t *st, const char *bucket, const char *name, const void *val, size_t val_len)
{
    uint8_t key[CODEC_CONF_KEY_MAX];
    int n = conf_key(key, bucket, name), ret;

    if (n < 0)
        return n;
    pthread_rwlock_rdlock(&st->bucket_lock); /* no bucket delete between the check and the write */
    if ((ret = store_bucket_check(st, bucket)) == 0) {
        meta_batch_t *b = meta_batch_new();
        if (val != NULL)
            meta_batch_put(b, key, (size_t)n, val, val_len);
        else
            meta_batch_delete(b, key, (size_t)n);
        ret = meta_batch_write(st->meta, b);
        meta_batch_free(b);
    }
    pthread_rwlock_unlock(&st->bucket_lock);
    return ret;
}

int store_bucket_conf_put(store_t *st, const char *bucket, const char *name, const void *val, size_t val_len)
{
    return conf_write(st, bucket, name, val != NULL ? val : "", val_len);
}

int store_bucket_conf_delete(store_t *st, const char *bucket, const char *name)
{
    return conf_write(st, bucket, name, NULL, 0);
}
