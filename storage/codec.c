/* storage/codec.c -- metadata key and record encoding.
 *
 * DESIGN: pure functions over byte buffers; the formats are described in
 * codec.h. Decoding goes through a small cursor (rd_t) whose every read checks
 * the remaining length first, so a truncated or corrupt record turns into
 * -EINVAL instead of a read past the end.
 */
#include "storage/codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct rd {
    const uint8_t *p;
    size_t left;
} rd_t;

typedef struct wr {
    uint8_t *p;
} wr_t;

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        abort();
    return p;
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (p == NULL)
        abort();
    return p;
}

static void put_le(uint8_t *out, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *in, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)in[i] << (8 * i);
    return v;
}

static void w_bytes(wr_t *w, const void *src, size_t n)
{
    if (n)
        memcpy(w->p, src, n);
    w->p += n;
}

static void w_int(wr_t *w, uint64_t v, int n)
{
    put_le(w->p, v, n);
    w->p += n;
}

/* Returns 0 and advances, or -EINVAL when fewer than n bytes remain. */
static int r_bytes(rd_t *r, const uint8_t **out, size_t n)
{
    if (r->left < n)
        return -EINVAL;
    *out = r->p;
    r->p += n;
    r->left -= n;
    return 0;
}

static int r_int(rd_t *r, uint64_t *v, int n)
{
    const uint8_t *p;
    if (r_bytes(r, &p, (size_t)n) != 0)
        return -EINVAL;
    *v = get_le(p, n);
    return 0;
}

int codec_bucket_key(uint8_t *out, const char *name, size_t name_len)
{
    if (name_len == 0 || name_len > STORE_BUCKET_NAME_MAX)
        return -EINVAL;
    out[0] = CODEC_PREFIX_BUCKET;
    memcpy(out + 1, name, name_len);
    return (int)(1 + name_len);
}

/* Writes kind + length byte + bucket: the prefix a bucket's keys of one kind share. Returns its length or -EINVAL. */
static int bucket_scoped_prefix(uint8_t *out, uint8_t kind, const char *bucket, size_t bucket_len)
{
    if (bucket_len == 0 || bucket_len > STORE_BUCKET_NAME_MAX)
        return -EINVAL;
    out[0] = kind;
    out[1] = (uint8_t)bucket_len;
    memcpy(out + 2, bucket, bucket_len);
    return (int)(2 + bucket_len);
}

int codec_object_prefix(uint8_t *out, const char *bucket, size_t bucket_len)
{
    return bucket_scoped_prefix(out, CODEC_PREFIX_OBJECT, bucket, bucket_len);
}

int codec_object_key(uint8_t *out, const char *bucket, size_t bucket_len, const void *key, size_t key_len)
{
    int n = codec_object_prefix(out, bucket, bucket_len);
    if (n < 0 || key_len > STORE_KEY_MAX)
        return -EINVAL;
    if (key_len)
        memcpy(out + n, key, key_len);
    return n + (int)key_len;
}

int codec_object_key_decode(const uint8_t *enc, size_t enc_len, const char **bucket, size_t *bucket_len, const char **key,
                            size_t *key_len)
{
    if (enc_len < 2 || enc[0] != CODEC_PREFIX_OBJECT || enc[1] == 0 || (size_t)enc[1] + 2 > enc_len)
        return -EINVAL;
    *bucket = (const char *)enc + 2;
    *bucket_len = enc[1];
    *key = (const char *)enc + 2 + enc[1];
    *key_len = enc_len - 2 - enc[1];
    return 0;
}

int codec_bucket_conf_prefix(uint8_t *out, const char *bucket, size_t bucket_len)
{
    return bucket_scoped_prefix(out, CODEC_PREFIX_BUCKET_CONF, bucket, bucket_len);
}

int codec_bucket_conf_key(uint8_t *out, const char *bucket, size_t bucket_len, const char *name)
{
    size_t name_len = strlen(name);
    int n = codec_bucket_conf_prefix(out, bucket, bucket_len);
    if (n < 0 || name_len == 0 || name_len > CODEC_CONF_NAME_MAX)
        return -EINVAL;
    memcpy(out + n, name, name_len);
    return n + (int)name_len;
}

void codec_ref_key(uint8_t *out, uint64_t chunk_id)
{
    out[0] = CODEC_PREFIX_REF;
    for (int i = 0; i < 8; i++)
        out[1 + i] = (uint8_t)(chunk_id >> (56 - 8 * i)); /* big-endian: ids sort numerically */
}

int codec_setting_key(uint8_t *out, const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > CODEC_SETTING_NAME_MAX)
        return -EINVAL;
    out[0] = CODEC_PREFIX_SETTING;
    memcpy(out + 1, name, n);
    return (int)(1 + n);
}

size_t codec_prefix_successor(uint8_t *key, size_t len)
{
    while (len > 0 && key[len - 1] == 0xFF)
        len--;
    if (len == 0)
        return 0;
    key[len - 1]++;
    return len;
}

void codec_put_u64(uint8_t *out, uint64_t v)
{
    put_le(out, v, 8);
}

int codec_get_u64(const void *in, size_t len, uint64_t *v)
{
    if (len != 8)
        return -EINVAL;
    *v = get_le(in, 8);
    return 0;
}

int codec_bucket_encode(const store_bucket_t *b, uint8_t **out, size_t *out_len)
{
    size_t owner_len = strnlen(b->owner, sizeof(b->owner));
    size_t region_len = strnlen(b->region, sizeof(b->region));
    if (owner_len >= sizeof(b->owner) || region_len >= sizeof(b->region))
        return -EINVAL;
    size_t n = 1 + 8 + 1 + owner_len + 1 + region_len;
    wr_t w = {xmalloc(n)};
    *out = w.p;
    w_int(&w, CODEC_RECORD_VERSION, 1);
    w_int(&w, (uint64_t)b->created_ns, 8);
    w_int(&w, owner_len, 1);
    w_bytes(&w, b->owner, owner_len);
    w_int(&w, region_len, 1);
    w_bytes(&w, b->region, region_len);
    *out_len = n;
    return 0;
}

int codec_bucket_decode(const void *rec, size_t len, const char *name, size_t name_len, store_bucket_t *out)
{
    rd_t r = {rec, len};
    uint64_t version, created, owner_len, region_len;
    const uint8_t *owner, *region;

    if (name_len > STORE_BUCKET_NAME_MAX)
        return -EINVAL;
    if (r_int(&r, &version, 1) != 0 || version != CODEC_RECORD_VERSION || r_int(&r, &created, 8) != 0 ||
        r_int(&r, &owner_len, 1) != 0 || owner_len >= sizeof(out->owner) || r_bytes(&r, &owner, owner_len) != 0 ||
        r_int(&r, &region_len, 1) != 0 || region_len >= sizeof(out->region) || r_bytes(&r, &region, region_len) != 0 || r.left != 0)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    memcpy(out->name, name, name_len);
    memcpy(out->owner, owner, owner_len);
    memcpy(out->region, region, region_len);
    out->created_ns = (int64_t)created;
    return 0;
}

static uint32_t num_blocks_of(uint32_t len)
{
    return (uint32_t)(((uint64_t)len + STORE_READ_BLOCK - 1) / STORE_READ_BLOCK);
}

int codec_object_encode(const codec_object_in_t *in, uint8_t **out, size_t *out_len)
{
    size_t n = CODEC_OBJECT_HEAD_LEN + 2 + 8 * (size_t)in->num_parts + 1;
    uint64_t total = 0;
    int copies = 0;

    if (in->num_headers > UINT16_MAX || (in->num_parts != 0 && in->part_sizes == NULL))
        return -EINVAL;
    for (size_t i = 0; i < in->num_headers; i++) {
        if (in->headers[i].name_len > UINT16_MAX || in->headers[i].value_len > UINT16_MAX)
            return -EINVAL;
        n += 4 + in->headers[i].name_len + in->headers[i].value_len;
    }
    if (in->num_chunks == 0) {
        if (in->size > SIZE_MAX - n)
            return -EINVAL;
        n += in->size;
    } else {
        if (in->num_chunks > UINT32_MAX)
            return -EINVAL;
        n += 4;
        for (size_t i = 0; i < in->num_chunks; i++) {
            const chunk_place_t *pl = &in->chunks[i].place;
            if (in->chunks[i].len == 0 || pl->num == 0 || pl->num > CODEC_MAX_COPIES)
                return -EINVAL;
            copies |= pl->num != 1;
            n += 8 + 2 * (size_t)pl->num + 4 + 4 * (size_t)num_blocks_of(in->chunks[i].len);
            total += in->chunks[i].len;
        }
        if (copies)
            n += in->num_chunks; /* layout 2: each chunk's copy count */
        if (total != in->size)
            return -EINVAL;
    }

    wr_t w = {xmalloc(n)};
    *out = w.p;
    w_int(&w, CODEC_RECORD_VERSION, 1);
    w_int(&w, in->size, 8);
    w_int(&w, (uint64_t)in->mtime_ns, 8);
    w_bytes(&w, in->md5, 16);
    w_int(&w, in->num_parts, 4);
    w_int(&w, in->num_headers, 2);
    for (size_t i = 0; i < in->num_headers; i++) {
        w_int(&w, in->headers[i].name_len, 2);
        w_bytes(&w, in->headers[i].name, in->headers[i].name_len);
        w_int(&w, in->headers[i].value_len, 2);
        w_bytes(&w, in->headers[i].value, in->headers[i].value_len);
    }
    for (uint32_t i = 0; i < in->num_parts; i++)
        w_int(&w, in->part_sizes[i], 8);
    if (in->num_chunks == 0) {
        w_int(&w, 0, 1);
        w_bytes(&w, in->inline_data, in->size);
    } else {
        w_int(&w, copies ? 2 : 1, 1);
        w_int(&w, in->num_chunks, 4);
        for (size_t i = 0; i < in->num_chunks; i++) {
            const codec_chunk_in_t *c = &in->chunks[i];
            w_int(&w, c->id, 8);
            if (copies)
                w_int(&w, c->place.num, 1);
            for (uint8_t k = 0; k < c->place.num; k++)
                w_int(&w, c->place.dirs[k], 2);
            w_int(&w, c->len, 4);
            for (uint32_t b = 0; b < num_blocks_of(c->len); b++)
                w_int(&w, c->crcs[b], 4);
        }
    }
    *out_len = n;
    return 0;
}

static int decode_head(rd_t *r, uint64_t *size, int64_t *mtime_ns, uint8_t md5[16], uint32_t *num_parts)
{
    uint64_t version, mtime, parts = 0;
    const uint8_t *m;
    if (r_int(r, &version, 1) != 0 || version < 1 || version > CODEC_RECORD_VERSION || r_int(r, size, 8) != 0 ||
        r_int(r, &mtime, 8) != 0 || r_bytes(r, &m, 16) != 0 || (version >= 2 && r_int(r, &parts, 4) != 0))
        return -EINVAL;
    *mtime_ns = (int64_t)mtime;
    memcpy(md5, m, 16);
    *num_parts = (uint32_t)parts;
    return 0;
}

int codec_object_decode_head(const void *rec, size_t len, uint64_t *size, int64_t *mtime_ns, uint8_t md5[16], uint32_t *num_parts)
{
    rd_t r = {rec, len};
    return decode_head(&r, size, mtime_ns, md5, num_parts);
}

int codec_object_find_header(const void *rec, size_t len, const char *name, size_t name_len, const char **value, size_t *value_len)
{
    rd_t r = {rec, len};
    uint64_t size, num_headers, v;
    int64_t mtime;
    uint8_t md5[16];
    uint32_t num_parts;
    const uint8_t *p;

    if (decode_head(&r, &size, &mtime, md5, &num_parts) != 0 || r_int(&r, &num_headers, 2) != 0)
        return -EINVAL;
    for (uint64_t i = 0; i < num_headers; i++) {
        if (r_int(&r, &v, 2) != 0 || r_bytes(&r, &p, v) != 0)
            return -EINVAL;
        int match = v == name_len && memcmp(p, name, name_len) == 0;
        if (r_int(&r, &v, 2) != 0 || r_bytes(&r, &p, v) != 0)
            return -EINVAL;
        if (match) {
            *value = (const char *)p;
            *value_len = v;
            return 0;
        }
    }
    return -ENOENT;
}

int codec_object_decode(const void *rec, size_t len, store_object_t *out)
{
    rd_t r = {rec, len};
    uint64_t num_headers, layout, v;
    const uint8_t *p;

    memset(out, 0, sizeof(*out));
    if (decode_head(&r, &out->size, &out->mtime_ns, out->md5, &out->num_parts) != 0 || r_int(&r, &num_headers, 2) != 0)
        goto Fail;
    /* each header takes at least 4 bytes: reject impossible counts before allocating */
    if (num_headers * 4 > r.left)
        goto Fail;
    out->headers = xcalloc(num_headers, sizeof(*out->headers));
    out->num_headers = num_headers;
    for (size_t i = 0; i < num_headers; i++) {
        store_kv_t *kv = &out->headers[i];
        if (r_int(&r, &v, 2) != 0 || r_bytes(&r, &p, v) != 0)
            goto Fail;
        kv->name = (const char *)p;
        kv->name_len = v;
        if (r_int(&r, &v, 2) != 0 || r_bytes(&r, &p, v) != 0)
            goto Fail;
        kv->value = (const char *)p;
        kv->value_len = v;
    }
    if (out->num_parts != 0) {
        if ((uint64_t)out->num_parts * 8 > r.left)
            goto Fail;
        out->part_sizes = xcalloc(out->num_parts, sizeof(*out->part_sizes));
        for (uint32_t i = 0; i < out->num_parts; i++)
            if (r_int(&r, &out->part_sizes[i], 8) != 0)
                goto Fail;
    }
    if (r_int(&r, &layout, 1) != 0)
        goto Fail;
    if (layout == 0) {
        if (r.left != out->size || r_bytes(&r, &p, out->size) != 0)
            goto Fail;
        out->inline_data = p;
        return 0;
    }
    uint64_t num_chunks, offset = 0;
    if ((layout != 1 && layout != 2) || r_int(&r, &num_chunks, 4) != 0 || num_chunks == 0 || num_chunks * 18 > r.left)
        goto Fail;
    out->chunks = xcalloc(num_chunks, sizeof(*out->chunks));
    out->num_chunks = num_chunks;
    for (size_t i = 0; i < num_chunks; i++) {
        store_chunk_ref_t *c = &out->chunks[i];
        uint64_t id, num = 1, clen;
        if (r_int(&r, &id, 8) != 0 || (layout == 2 && r_int(&r, &num, 1) != 0) || num == 0 || num > CODEC_MAX_COPIES)
            goto Fail;
        c->place.num = (uint8_t)num;
        for (uint8_t k = 0; k < c->place.num; k++) {
            uint64_t dir;
            if (r_int(&r, &dir, 2) != 0)
                goto Fail;
            for (uint8_t j = 0; j < k; j++)
                if (c->place.dirs[j] == dir)
                    goto Fail; /* two copies in one directory would be one file */
            c->place.dirs[k] = (uint16_t)dir;
        }
        if (r_int(&r, &clen, 4) != 0 || clen == 0)
            goto Fail;
        c->id = id;
        c->len = (uint32_t)clen;
        c->offset = offset;
        c->num_blocks = num_blocks_of(c->len);
        if (r_bytes(&r, &c->crcs, 4 * (size_t)c->num_blocks) != 0)
            goto Fail;
        offset += clen;
    }
    if (r.left != 0 || offset != out->size)
        goto Fail;
    return 0;

Fail:
    free(out->headers);
    free(out->chunks);
    free(out->part_sizes);
    memset(out, 0, sizeof(*out));
    return -EINVAL;
}

uint32_t codec_chunk_crc(const store_chunk_ref_t *c, uint32_t i)
{
    return (uint32_t)get_le(c->crcs + 4 * (size_t)i, 4);
}

int codec_upload_prefix(uint8_t *out, const char *bucket, size_t bucket_len)
{
    return bucket_scoped_prefix(out, CODEC_PREFIX_UPLOAD, bucket, bucket_len);
}

int codec_upload_key_start(uint8_t *out, const char *bucket, size_t bucket_len, const void *key, size_t key_len)
{
    int n = codec_upload_prefix(out, bucket, bucket_len);
    if (n < 0 || key_len > STORE_KEY_MAX)
        return -EINVAL;
    const uint8_t *k = key;
    for (size_t i = 0; i < key_len; i++) {
        out[n++] = k[i];
        if (k[i] == 0)
            out[n++] = 0xFF;
    }
    return n;
}

int codec_upload_key(uint8_t *out, const char *bucket, size_t bucket_len, const void *key, size_t key_len,
                     const uint8_t id[CODEC_UPLOAD_ID_LEN])
{
    int n = key_len == 0 ? -EINVAL : codec_upload_key_start(out, bucket, bucket_len, key, key_len);
    if (n < 0)
        return n;
    out[n++] = 0;
    out[n++] = 0;
    memcpy(out + n, id, CODEC_UPLOAD_ID_LEN);
    return n + CODEC_UPLOAD_ID_LEN;
}

int codec_upload_key_decode(const uint8_t *enc, size_t enc_len, size_t prefix_len, char *key_out, size_t *key_len,
                            uint8_t id[CODEC_UPLOAD_ID_LEN])
{
    size_t i = prefix_len, n = 0;
    while (i + 1 < enc_len) {
        size_t step = 1;
        if (enc[i] == 0) {
            if (enc[i + 1] == 0)
                break;
            if (enc[i + 1] != 0xFF)
                return -EINVAL;
            step = 2; /* 00 FF is an escaped NUL */
        }
        if (n == STORE_KEY_MAX)
            return -EINVAL;
        key_out[n++] = (char)enc[i];
        i += step;
    }
    if (n == 0 || i + 2 + CODEC_UPLOAD_ID_LEN != enc_len || enc[i] != 0 || enc[i + 1] != 0)
        return -EINVAL;
    memcpy(id, enc + i + 2, CODEC_UPLOAD_ID_LEN);
    *key_len = n;
    return 0;
}

void codec_part_key(uint8_t *out, const uint8_t id[CODEC_UPLOAD_ID_LEN], uint32_t part_number)
{
    out[0] = CODEC_PREFIX_PART;
    memcpy(out + 1, id, CODEC_UPLOAD_ID_LEN);
    out[1 + CODEC_UPLOAD_ID_LEN] = (uint8_t)(part_number >> 8);
    out[2 + CODEC_UPLOAD_ID_LEN] = (uint8_t)part_number;
}
