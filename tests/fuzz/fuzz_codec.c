/* tests/fuzz/fuzz_codec.c -- the metadata record decoders over corrupt records.
 *
 * DESIGN: a record comes back from RocksDB as written unless the disk or a bug corrupted it, and
 * storage/codec.h promises that a corrupt one yields -EINVAL, never a crash. The first byte chooses
 * the record kind ('0'..'2', taken modulo 3), the rest is the record:
 *   '0'  an object, part or upload record: codec_object_decode and codec_object_decode_head;
 *   '1'  a bucket record: codec_bucket_decode;
 *   '2'  a counter or reference count: codec_get_u64.
 * Seeds are records written by codec_object_encode and codec_bucket_encode as the store writes
 * them (inline and chunked data, headers, multipart part sizes, a version 1 record). Beyond the
 * sanitizers: the result is 0 or -EINVAL; a decoded record's head agrees with
 * codec_object_decode_head, its strings and checksums lie inside the record, its chunks tile the
 * object's size, each names 1..CODEC_MAX_COPIES distinct directories; and encoding what was decoded,
 * then decoding that again, gives the same object. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/codec.h"
#include "storage/store.h"
#include "tests/fuzz/fuzz_input.h"

static int same_object(const store_object_t *a, const store_object_t *b)
{
    if (a->size != b->size || a->mtime_ns != b->mtime_ns || memcmp(a->md5, b->md5, 16) != 0 || a->num_parts != b->num_parts ||
        a->num_headers != b->num_headers || a->num_chunks != b->num_chunks || (a->inline_data == NULL) != (b->inline_data == NULL))
        return 0;
    if (a->num_parts != 0 && memcmp(a->part_sizes, b->part_sizes, a->num_parts * sizeof(*a->part_sizes)) != 0)
        return 0;
    for (size_t i = 0; i < a->num_headers; i++) {
        const store_kv_t *x = &a->headers[i], *y = &b->headers[i];
        if (x->name_len != y->name_len || x->value_len != y->value_len || memcmp(x->name, y->name, x->name_len) != 0 ||
            memcmp(x->value, y->value, x->value_len) != 0)
            return 0;
    }
    if (a->inline_data != NULL && a->size != 0 && memcmp(a->inline_data, b->inline_data, a->size) != 0)
        return 0;
    for (size_t i = 0; i < a->num_chunks; i++) {
        const store_chunk_ref_t *x = &a->chunks[i], *y = &b->chunks[i];
        if (x->id != y->id || x->offset != y->offset || x->len != y->len || x->num_blocks != y->num_blocks ||
            x->place.num != y->place.num || memcmp(x->place.dirs, y->place.dirs, x->place.num * sizeof(x->place.dirs[0])) != 0 ||
            memcmp(x->crcs, y->crcs, 4 * (size_t)x->num_blocks) != 0)
            return 0;
    }
    return 1;
}

/* Checks a decoded object against its record, then encodes it and decodes that again. */
static void check_object(const store_object_t *o, const uint8_t *rec, size_t len)
{
    uint64_t size;
    int64_t mtime;
    uint8_t md5[16];
    uint32_t num_parts;
    if (codec_object_decode_head(rec, len, &size, &mtime, md5, &num_parts) != 0 || size != o->size || mtime != o->mtime_ns ||
        memcmp(md5, o->md5, 16) != 0 || num_parts != o->num_parts)
        abort();
    for (size_t i = 0; i < o->num_headers; i++) {
        if (!fuzz_within(o->headers[i].name, o->headers[i].name_len, rec, len) ||
            !fuzz_within(o->headers[i].value, o->headers[i].value_len, rec, len))
            abort();
    }
    if ((o->inline_data != NULL) == (o->num_chunks != 0))
        abort();
    if (o->inline_data != NULL && !fuzz_within(o->inline_data, o->size, rec, len))
        abort();
    uint64_t offset = 0;
    codec_chunk_in_t *chunks = calloc(o->num_chunks + 1, sizeof(*chunks));
    if (chunks == NULL)
        abort();
    for (size_t i = 0; i < o->num_chunks; i++) {
        const store_chunk_ref_t *c = &o->chunks[i];
        if (c->offset != offset || c->len == 0 || c->num_blocks != (c->len + (uint64_t)STORE_READ_BLOCK - 1) / STORE_READ_BLOCK ||
            !fuzz_within(c->crcs, 4 * (size_t)c->num_blocks, rec, len) || c->place.num < 1 || c->place.num > CODEC_MAX_COPIES)
            abort();
        for (uint8_t k = 0; k < c->place.num; k++) {
            for (uint8_t j = 0; j < k; j++) {
                if (c->place.dirs[j] == c->place.dirs[k])
                    abort(); /* codec.h: each directory at most once */
            }
        }
        uint32_t *crcs = malloc(4 * (size_t)c->num_blocks);
        if (crcs == NULL)
            abort();
        for (uint32_t b = 0; b < c->num_blocks; b++)
            crcs[b] = codec_chunk_crc(c, b);
        chunks[i] = (codec_chunk_in_t){.id = c->id, .len = c->len, .place = c->place, .crcs = crcs};
        offset += c->len;
    }
    if (o->num_chunks != 0 && offset != o->size)
        abort();

    codec_object_in_t oi = {
        .size = o->size,
        .mtime_ns = o->mtime_ns,
        .headers = o->headers,
        .num_headers = o->num_headers,
        .inline_data = o->inline_data,
        .chunks = chunks,
        .num_chunks = o->num_chunks,
        .num_parts = o->num_parts,
        .part_sizes = o->part_sizes,
    };
    memcpy(oi.md5, o->md5, 16);
    uint8_t *enc;
    size_t enc_len;
    store_object_t again;
    if (codec_object_encode(&oi, &enc, &enc_len) != 0 || codec_object_decode(enc, enc_len, &again) != 0 || !same_object(o, &again))
        abort();
    again.rec = NULL;
    store_object_free(&again);
    free(enc);
    for (size_t i = 0; i < o->num_chunks; i++)
        free((uint32_t *)chunks[i].crcs);
    free(chunks);
}

static void fuzz_object(const uint8_t *rec, size_t len)
{
    store_object_t o;
    int rc = codec_object_decode(rec, len, &o);
    if (rc != 0 && rc != -EINVAL)
        abort();
    if (rc == 0) {
        check_object(&o, rec, len);
        o.rec = NULL; /* the caller owns rec: here libFuzzer's copy */
        store_object_free(&o);
    } else {
        uint64_t size;
        int64_t mtime;
        uint8_t md5[16];
        uint32_t num_parts;
        rc = codec_object_decode_head(rec, len, &size, &mtime, md5, &num_parts);
        if (rc != 0 && rc != -EINVAL)
            abort();
    }
}

static void fuzz_bucket(const uint8_t *rec, size_t len)
{
    store_bucket_t b, again;
    int rc = codec_bucket_decode(rec, len, "bkt", 3, &b);
    if (rc != 0 && rc != -EINVAL)
        abort();
    if (rc != 0)
        return;
    uint8_t *enc;
    size_t enc_len;
    /* owner and region are C strings: a NUL inside the record's bytes ends them, so compare them as strings */
    if (codec_bucket_encode(&b, &enc, &enc_len) != 0 || codec_bucket_decode(enc, enc_len, "bkt", 3, &again) != 0 ||
        strcmp(b.name, again.name) != 0 || strcmp(b.owner, again.owner) != 0 || strcmp(b.region, again.region) != 0 ||
        b.created_ns != again.created_ns)
        abort();
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in = {data, size};
    uint8_t sel = fuzz_byte(&in);
    size_t len;
    const uint8_t *rest = (const uint8_t *)fuzz_rest(&in, &len);
    uint8_t *rec = (uint8_t *)fuzz_dup(rest, len);
    uint64_t v;

    switch (sel % 3) {
    case 0:
        fuzz_object(rec, len);
        break;
    case 1:
        fuzz_bucket(rec, len);
        break;
    default:
        if (codec_get_u64(rec, len, &v) != (len == 8 ? 0 : -EINVAL))
            abort();
        break;
    }
    free(rec);
    return 0;
}
