/* tests/unit/test_codec.c -- key and record encoding (storage/codec.c).
 *
 * DESIGN: tables of cases. Key order is checked by comparing encoded keys the
 * way RocksDB does (bytewise, shorter first on a tie) against the order S3
 * defines; records are round-tripped, and every truncation of a valid record,
 * plus a set of hand-made corruptions, must be rejected (under ASan a read past
 * the end would fail the run).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storage/codec.h"

#define S(lit) lit, sizeof(lit) - 1

static int bytes_cmp(const void *a, size_t a_len, const void *b, size_t b_len)
{
    size_t n = a_len < b_len ? a_len : b_len;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return c < 0 ? -1 : 1;
    return a_len < b_len ? -1 : a_len > b_len;
}

typedef struct key_pair {
    const char *bucket_a;
    const char *key_a;
    size_t key_a_len;
    const char *bucket_b;
    const char *key_b;
    size_t key_b_len;
    int want; /* sign of compare(a, b) in the encoded key space */
} key_pair_t;

static const key_pair_t key_pairs[] = {
    {"bkt", S(""), "bkt", S("a"), -1}, /* empty key first */
    {"bkt", S("a"), "bkt", S("b"), -1},
    {"bkt", S("a"), "bkt", S("a/"), -1}, /* prefix sorts first */
    {"bkt", S("a/"), "bkt", S("a/b"), -1},
    {"bkt", S("a\0"), "bkt", S("a"), 1}, /* NUL is a real byte */
    {"bkt", S("a\0b"), "bkt", S("a\x01"), -1},
    {"bkt", S("a\0b"), "bkt", S("a\0b"), 0},
    {"bkt", S("a\xff"), "bkt", S("b"), -1},
    {"bkt", S("\xff"), "bkt", S("\xff\xff"), -1},
    {"bkt", S("z"), "bkt", S("\xc3\xa9"), -1},                    /* U+00E9 after ASCII */
    {"bkt", S("\xc3\xa9"), "bkt", S("\xe2\x82\xac"), -1},         /* U+00E9 < U+20AC */
    {"bkt", S("\xef\xbf\xbd"), "bkt", S("\xf0\x9f\x98\x80"), -1}, /* BMP < astral: UTF-8 byte order */
    {"bkt", S("A"), "bkt", S("a"), -1},                           /* case-sensitive, uppercase first */
    {"bkt", S("a b"), "bkt", S("a-b"), -1},
    /* buckets never interleave, even when one name is a prefix of the other */
    {"ab", S("\xff\xff\xff"), "abc", S(""), -1},
    {"ab", S("c"), "abc", S(""), -1},
    {"ab", S("cz"), "abc", S("a"), -1},
    {"a", S("\xff"), "b", S(""), -1},
    {"b", S(""), "ab", S("\xff"), -1}, /* shorter bucket names first: only grouping matters */
};

static void test_key_order(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(key_pairs) / sizeof(key_pairs[0]); i++) {
        const key_pair_t *p = &key_pairs[i];
        uint8_t a[CODEC_OBJECT_KEY_MAX], b[CODEC_OBJECT_KEY_MAX];
        int na = codec_object_key(a, p->bucket_a, strlen(p->bucket_a), p->key_a, p->key_a_len);
        int nb = codec_object_key(b, p->bucket_b, strlen(p->bucket_b), p->key_b, p->key_b_len);
        assert_true(na > 0 && nb > 0);
        if (bytes_cmp(a, (size_t)na, b, (size_t)nb) != p->want)
            fail_msg("key pair %zu ordered wrongly", i);
    }
}

static void test_key_bucket_grouping(void **state)
{
    (void)state;
    /* every key of "ab" stays inside [prefix("ab"), successor(prefix("ab"))) and outside that of "abc" */
    uint8_t lo[CODEC_OBJECT_KEY_MAX], hi[CODEC_OBJECT_KEY_MAX], k[CODEC_OBJECT_KEY_MAX];
    int nlo = codec_object_prefix(lo, "ab", 2);
    memcpy(hi, lo, (size_t)nlo);
    size_t nhi = codec_prefix_successor(hi, (size_t)nlo);
    const char *keys[] = {"", "c", "\xff\xff", "abc"};
    for (size_t i = 0; i < 4; i++) {
        int n = codec_object_key(k, "ab", 2, keys[i], strlen(keys[i]));
        assert_true(bytes_cmp(k, (size_t)n, lo, (size_t)nlo) >= 0);
        assert_true(bytes_cmp(k, (size_t)n, hi, nhi) < 0);
        n = codec_object_key(k, "abc", 3, keys[i], strlen(keys[i]));
        assert_true(bytes_cmp(k, (size_t)n, hi, nhi) >= 0);
    }
}

static void test_key_round_trip(void **state)
{
    (void)state;
    static const struct {
        const char *bucket;
        const char *key;
        size_t key_len;
    } cases[] = {
        {"b", S("")}, {"bucket", S("a\0b\xff")}, {"x23456789012345678901234567890123456789012345678901234567890123", S("k")}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t enc[CODEC_OBJECT_KEY_MAX];
        const char *b, *k;
        size_t bl, kl;
        int n = codec_object_key(enc, cases[i].bucket, strlen(cases[i].bucket), cases[i].key, cases[i].key_len);
        assert_int_equal(n, 2 + strlen(cases[i].bucket) + cases[i].key_len);
        assert_int_equal(codec_object_key_decode(enc, (size_t)n, &b, &bl, &k, &kl), 0);
        assert_int_equal(bl, strlen(cases[i].bucket));
        assert_memory_equal(b, cases[i].bucket, bl);
        assert_int_equal(kl, cases[i].key_len);
        if (kl)
            assert_memory_equal(k, cases[i].key, kl);
    }
    uint8_t enc[CODEC_OBJECT_KEY_MAX + 8];
    char big[STORE_KEY_MAX + 1];
    memset(big, 'k', sizeof(big));
    assert_int_equal(codec_object_key(enc, "b", 1, big, STORE_KEY_MAX + 1), -EINVAL);
    assert_int_equal(codec_object_key(enc, "b", 1, big, STORE_KEY_MAX), 2 + 1 + STORE_KEY_MAX);
    assert_int_equal(codec_object_key(enc, "", 0, "k", 1), -EINVAL);
    const char *b, *k;
    size_t bl, kl;
    const uint8_t bad1[] = {'O', 5, 'a', 'b'}, bad2[] = {'B', 1, 'a'};
    assert_int_equal(codec_object_key_decode(bad1, sizeof(bad1), &b, &bl, &k, &kl), -EINVAL);
    assert_int_equal(codec_object_key_decode(bad2, sizeof(bad2), &b, &bl, &k, &kl), -EINVAL);

    /* chunk ids sort numerically */
    uint8_t r1[CODEC_REF_KEY_LEN], r2[CODEC_REF_KEY_LEN];
    codec_ref_key(r1, 0xFF);
    codec_ref_key(r2, 0x100);
    assert_true(memcmp(r1, r2, CODEC_REF_KEY_LEN) < 0);
}

static void test_prefix_successor(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t in_len;
        const char *want;
        size_t want_len;
    } cases[] = {
        {S("a/"), S("a0")}, {S("a\xff"), S("b")}, {S("a\xfe\xff\xff"), S("a\xff")}, {S("\xff\xff"), S("")}, {S("a\0"), S("a\x01")},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buf[16];
        memcpy(buf, cases[i].in, cases[i].in_len);
        size_t n = codec_prefix_successor(buf, cases[i].in_len);
        assert_int_equal(n, cases[i].want_len);
        if (n)
            assert_memory_equal(buf, cases[i].want, n);
    }
}

static void test_bucket_record(void **state)
{
    (void)state;
    store_bucket_t b, out;
    uint8_t *rec;
    size_t len;
    memset(&b, 0, sizeof(b));
    strcpy(b.owner, "AKIDEXAMPLE");
    strcpy(b.region, "eu-west-1");
    b.created_ns = 1700000000123456789;
    assert_int_equal(codec_bucket_encode(&b, &rec, &len), 0);
    assert_int_equal(codec_bucket_decode(rec, len, "photos", 6, &out), 0);
    assert_string_equal(out.name, "photos");
    assert_string_equal(out.owner, "AKIDEXAMPLE");
    assert_string_equal(out.region, "eu-west-1");
    assert_true(out.created_ns == b.created_ns);
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(codec_bucket_decode(rec, cut, "photos", 6, &out), -EINVAL);
    rec[0] = 99;
    assert_int_equal(codec_bucket_decode(rec, len, "photos", 6, &out), -EINVAL);
    free(rec);
}

static const store_kv_t hdrs[] = {
    {S("content-type"), S("text/plain")},
    {S("x-amz-meta-color"), S("")},
    {S("x-amz-meta-bin"), S("a\0b")},
};

static void test_object_record_inline(void **state)
{
    (void)state;
    static const struct {
        const char *data;
        size_t len;
        size_t num_headers;
    } cases[] = {{S(""), 0}, {S("x"), 1}, {S("hello\0world"), 3}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        codec_object_in_t in = {.size = cases[i].len,
                                .mtime_ns = -5 + (int64_t)i,
                                .headers = hdrs,
                                .num_headers = cases[i].num_headers,
                                .inline_data = (const uint8_t *)cases[i].data};
        memset(in.md5, 0xA0 + (int)i, 16);
        uint8_t *rec;
        size_t len;
        store_object_t o;
        assert_int_equal(codec_object_encode(&in, &rec, &len), 0);
        assert_int_equal(codec_object_decode(rec, len, &o), 0);
        assert_int_equal(o.size, cases[i].len);
        assert_true(o.mtime_ns == in.mtime_ns);
        assert_memory_equal(o.md5, in.md5, 16);
        assert_int_equal(o.num_headers, cases[i].num_headers);
        for (size_t h = 0; h < o.num_headers; h++) {
            assert_int_equal(o.headers[h].name_len, hdrs[h].name_len);
            assert_memory_equal(o.headers[h].name, hdrs[h].name, hdrs[h].name_len);
            assert_int_equal(o.headers[h].value_len, hdrs[h].value_len);
            if (hdrs[h].value_len)
                assert_memory_equal(o.headers[h].value, hdrs[h].value, hdrs[h].value_len);
        }
        assert_non_null(o.inline_data);
        if (cases[i].len)
            assert_memory_equal(o.inline_data, cases[i].data, cases[i].len);
        assert_int_equal(o.num_chunks, 0);
        free(o.headers);
        free(o.chunks);

        uint64_t size;
        int64_t mtime;
        uint8_t md5[16];
        uint32_t parts = 99;
        assert_int_equal(codec_object_decode_head(rec, CODEC_OBJECT_HEAD_LEN, &size, &mtime, md5, &parts), 0);
        assert_int_equal(size, cases[i].len);
        assert_int_equal(parts, 0);
        for (size_t cut = 0; cut < len; cut++)
            assert_int_equal(codec_object_decode(rec, cut, &o), -EINVAL);
        assert_int_equal(codec_object_decode_head(rec, CODEC_OBJECT_HEAD_LEN - 1, &size, &mtime, md5, &parts), -EINVAL);

        /* one header found in place, without decoding the record */
        const char *v;
        size_t vlen;
        for (size_t h = 0; h < cases[i].num_headers; h++) {
            assert_int_equal(codec_object_find_header(rec, len, hdrs[h].name, hdrs[h].name_len, &v, &vlen), 0);
            assert_int_equal(vlen, hdrs[h].value_len);
            if (vlen)
                assert_memory_equal(v, hdrs[h].value, vlen);
        }
        assert_int_equal(codec_object_find_header(rec, len, S("x-absent"), &v, &vlen), -ENOENT);
        assert_int_equal(codec_object_find_header(rec, CODEC_OBJECT_HEAD_LEN - 1, S("x-absent"), &v, &vlen), -EINVAL);
        if (cases[i].num_headers) /* cut inside the headers */
            assert_int_equal(codec_object_find_header(rec, CODEC_OBJECT_HEAD_LEN + 3, S("x-absent"), &v, &vlen), -EINVAL);
        free(rec);
    }
}

static void test_object_record_chunks(void **state)
{
    (void)state;
    uint32_t crcs_a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, crcs_b[2] = {0xDEADBEEF, 0xFFFFFFFF};
    codec_chunk_in_t chunks[] = {
        {.id = 0x0102030405060708ull, .len = 8u * 1024 * 1024, .place = {1, {1}}, .crcs = crcs_a},
        {.id = 42, .len = 1024 * 1024 + 1, .place = {1, {0}}, .crcs = crcs_b},
    };
    codec_object_in_t in = {
        .size = 9u * 1024 * 1024 + 1, .mtime_ns = 123, .headers = hdrs, .num_headers = 1, .chunks = chunks, .num_chunks = 2};
    uint8_t *rec;
    size_t len;
    store_object_t o;
    assert_int_equal(codec_object_encode(&in, &rec, &len), 0);
    assert_int_equal(codec_object_decode(rec, len, &o), 0);
    assert_null(o.inline_data);
    assert_int_equal(o.num_chunks, 2);
    assert_true(o.chunks[0].id == chunks[0].id);
    assert_int_equal(o.chunks[0].place.num, 1);
    assert_int_equal(o.chunks[0].place.dirs[0], 1);
    assert_int_equal(o.chunks[0].len, chunks[0].len);
    assert_int_equal(o.chunks[0].offset, 0);
    assert_int_equal(o.chunks[0].num_blocks, 8);
    for (uint32_t b = 0; b < 8; b++)
        assert_int_equal(codec_chunk_crc(&o.chunks[0], b), crcs_a[b]);
    assert_int_equal(o.chunks[1].offset, 8u * 1024 * 1024);
    assert_int_equal(o.chunks[1].num_blocks, 2);
    assert_int_equal(codec_chunk_crc(&o.chunks[1], 0), 0xDEADBEEF);
    assert_int_equal(codec_chunk_crc(&o.chunks[1], 1), 0xFFFFFFFF);
    free(o.headers);
    free(o.chunks);

    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(codec_object_decode(rec, cut, &o), -EINVAL);

    /* hand-made corruptions of a valid record */
    uint8_t *bad = malloc(len + 1);
    size_t layout_at = CODEC_OBJECT_HEAD_LEN + 2 + 2 + hdrs[0].name_len + 2 + hdrs[0].value_len;
    static const struct {
        size_t at; /* SIZE_MAX: append a byte */
        uint8_t value;
        int from_layout;
    } corruptions[] = {
        {0, CODEC_RECORD_VERSION + 1, 0}, /* unknown version */
        {1, 0x7F, 0},                     /* size no longer matches the chunks */
        {0, 7, 1},                        /* unknown layout */
        {1, 0xFF, 1},                     /* num_chunks far beyond the record */
        {1, 0, 1},                        /* num_chunks 0 ... */
        {SIZE_MAX, 0, 0},                 /* trailing garbage */
        {CODEC_OBJECT_HEAD_LEN, 0xFF, 0}, /* num_headers beyond the record */
    };
    assert_int_equal(rec[layout_at], 1);
    for (size_t i = 0; i < sizeof(corruptions) / sizeof(corruptions[0]); i++) {
        size_t blen = len;
        memcpy(bad, rec, len);
        if (corruptions[i].at == SIZE_MAX)
            bad[blen++] = 0;
        else
            bad[corruptions[i].at + (corruptions[i].from_layout ? layout_at : 0)] = corruptions[i].value;
        if (codec_object_decode(bad, blen, &o) != -EINVAL)
            fail_msg("corruption %zu accepted", i);
    }
    free(bad);
    free(rec);

    /* encoder refuses lengths that do not add up */
    in.size += 1;
    assert_int_equal(codec_object_encode(&in, &rec, &len), -EINVAL);
}

static void test_u64_values(void **state)
{
    (void)state;
    uint8_t b[8];
    uint64_t v;
    codec_put_u64(b, 0x1122334455667788ull);
    assert_int_equal(codec_get_u64(b, 8, &v), 0);
    assert_true(v == 0x1122334455667788ull);
    assert_int_equal(codec_get_u64(b, 7, &v), -EINVAL);
}

/* Chunks with several copies use layout 2; a record whose copies are malformed is refused. */
static void test_object_record_copies(void **state)
{
    (void)state;
    static const uint32_t crcs[2] = {7, 9};
    static const struct {
        chunk_place_t a, b;
        int rc;     /* of encode */
        int layout; /* written: 1 or 2 */
    } cases[] = {
        {{1, {0}}, {1, {1}}, 0, 1},       {{2, {0, 1}}, {1, {1}}, 0, 2},
        {{1, {3}}, {3, {2, 0, 1}}, 0, 2}, {{4, {3, 2, 1, 0}}, {4, {0, 1, 2, 3}}, 0, 2},
        {{0, {0}}, {1, {1}}, -EINVAL, 0}, {{CODEC_MAX_COPIES + 1, {0}}, {1, {1}}, -EINVAL, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const codec_chunk_in_t chunks[2] = {{11, 1024 * 1024, cases[i].a, crcs}, {12, 5, cases[i].b, crcs + 1}};
        codec_object_in_t in = {.size = 1024 * 1024 + 5, .mtime_ns = 1, .chunks = chunks, .num_chunks = 2};
        uint8_t *rec = NULL;
        size_t len;
        store_object_t o;
        assert_int_equal(codec_object_encode(&in, &rec, &len), cases[i].rc);
        if (cases[i].rc != 0)
            continue;
        assert_int_equal(rec[CODEC_OBJECT_HEAD_LEN + 2], cases[i].layout);
        assert_int_equal(codec_object_decode(rec, len, &o), 0);
        for (size_t c = 0; c < 2; c++) {
            const chunk_place_t *want = c == 0 ? &cases[i].a : &cases[i].b;
            assert_int_equal(o.chunks[c].place.num, want->num);
            for (unsigned k = 0; k < want->num; k++)
                assert_int_equal(o.chunks[c].place.dirs[k], want->dirs[k]);
        }
        assert_int_equal(codec_chunk_crc(&o.chunks[1], 0), 9);
        free(o.headers);
        free(o.chunks);
        for (size_t cut = 0; cut < len; cut++)
            assert_int_equal(codec_object_decode(rec, cut, &o), -EINVAL);
        if (cases[i].layout == 2) { /* the first chunk's copy count: 0, too many, or a directory twice */
            size_t count_at = CODEC_OBJECT_HEAD_LEN + 2 + 1 + 4 + 8;
            uint8_t saved = rec[count_at];
            rec[count_at] = 0;
            assert_int_equal(codec_object_decode(rec, len, &o), -EINVAL);
            rec[count_at] = CODEC_MAX_COPIES + 1;
            assert_int_equal(codec_object_decode(rec, len, &o), -EINVAL);
            rec[count_at] = saved;
            if (saved >= 2) {
                memcpy(rec + count_at + 3, rec + count_at + 1, 2); /* second directory = first */
                assert_int_equal(codec_object_decode(rec, len, &o), -EINVAL);
            }
        }
        free(rec);
    }
}

/* Multipart objects keep their part sizes; version 1 records (no parts) still decode. */
static void test_object_record_parts(void **state)
{
    (void)state;
    static const uint32_t crcs[5] = {1, 2, 3, 4, 5}; /* one per 1 MiB block of the larger chunk */
    const codec_chunk_in_t chunks[2] = {{7, 5 * 1024 * 1024, {1, {0}}, crcs}, {8, 10, {1, {1}}, crcs}};
    const uint64_t part_sizes[2] = {5 * 1024 * 1024, 10};
    codec_object_in_t in = {
        .size = 5 * 1024 * 1024 + 10, .mtime_ns = 42, .chunks = chunks, .num_chunks = 2, .num_parts = 2, .part_sizes = part_sizes};
    uint8_t *rec;
    size_t len;
    store_object_t o;
    assert_int_equal(codec_object_encode(&in, &rec, &len), 0);
    assert_int_equal(codec_object_decode(rec, len, &o), 0);
    assert_int_equal(o.num_parts, 2);
    assert_int_equal(o.part_sizes[0], part_sizes[0]);
    assert_int_equal(o.part_sizes[1], part_sizes[1]);
    assert_int_equal(o.chunks[1].offset, 5 * 1024 * 1024);
    free(o.headers);
    free(o.chunks);
    free(o.part_sizes);
    uint64_t size;
    int64_t mtime;
    uint8_t md5[16];
    uint32_t parts;
    assert_int_equal(codec_object_decode_head(rec, len, &size, &mtime, md5, &parts), 0);
    assert_int_equal(parts, 2);
    for (size_t cut = 0; cut < len; cut++) /* every truncation is refused, none crashes */
        assert_int_equal(codec_object_decode(rec, cut, &o), -EINVAL);
    free(rec);

    /* a version 1 record: head without num_parts, no part sizes, inline "hi" */
    uint8_t v1[1 + 8 + 8 + 16 + 2 + 1 + 2] = {1, 2};
    v1[1 + 8 + 8 + 16 + 2] = 0; /* layout: inline */
    v1[sizeof(v1) - 2] = 'h';
    v1[sizeof(v1) - 1] = 'i';
    assert_int_equal(codec_object_decode(v1, sizeof(v1), &o), 0);
    assert_int_equal(o.size, 2);
    assert_int_equal(o.num_parts, 0);
    assert_memory_equal(o.inline_data, "hi", 2);
    free(o.headers);
}

/* Upload keys sort by object key (bytewise, NUL bytes included), then by upload id, and decode back. */
static void test_upload_keys(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        size_t len;
    } keys[] = {{"a", 1}, {"a\0", 2}, {"a\0\0", 3}, {"a\x01", 2}, {"ab", 2}, {"b", 1}, {"b\xff", 2}};
    const uint8_t id_lo[CODEC_UPLOAD_ID_LEN] = {0}, id_hi[CODEC_UPLOAD_ID_LEN] = {0xFF};
    uint8_t prev[CODEC_UPLOAD_KEY_MAX], cur[CODEC_UPLOAD_KEY_MAX];
    int prev_len = 0;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        for (int which = 0; which < 2; which++) {
            int n = codec_upload_key(cur, "bkt", 3, keys[i].key, keys[i].len, which ? id_hi : id_lo);
            assert_true(n > 0);
            if (prev_len > 0) {
                size_t m = (size_t)(prev_len < n ? prev_len : n);
                int c = memcmp(prev, cur, m);
                if (!(c < 0 || (c == 0 && prev_len < n)))
                    fail_msg("upload key %zu/%d does not sort after the one before", i, which);
            }
            char key[STORE_KEY_MAX];
            size_t key_len;
            uint8_t id[CODEC_UPLOAD_ID_LEN];
            assert_int_equal(codec_upload_key_decode(cur, (size_t)n, 2 + 3, key, &key_len, id), 0);
            assert_int_equal(key_len, keys[i].len);
            assert_memory_equal(key, keys[i].key, key_len);
            assert_memory_equal(id, which ? id_hi : id_lo, CODEC_UPLOAD_ID_LEN);
            memcpy(prev, cur, (size_t)n);
            prev_len = n;
        }
    }
    /* another bucket's uploads never share the prefix */
    uint8_t p1[2 + STORE_BUCKET_NAME_MAX], p2[2 + STORE_BUCKET_NAME_MAX];
    int n1 = codec_upload_prefix(p1, "ab", 2), n2 = codec_upload_prefix(p2, "abc", 3);
    assert_true(n1 > 0 && n2 > 0 && memcmp(p1, p2, (size_t)n1) != 0);
    /* a malformed escape is refused */
    uint8_t bad[] = {'U', 3, 'b', 'k', 't', 'a', 0, 7, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    char key[STORE_KEY_MAX];
    size_t key_len;
    uint8_t id[CODEC_UPLOAD_ID_LEN];
    assert_int_equal(codec_upload_key_decode(bad, sizeof(bad), 5, key, &key_len, id), -EINVAL);
    /* part keys order by part number within an upload */
    uint8_t k1[CODEC_PART_KEY_LEN], k2[CODEC_PART_KEY_LEN];
    codec_part_key(k1, id_lo, 2);
    codec_part_key(k2, id_lo, 10000);
    assert_true(memcmp(k1, k2, CODEC_PART_KEY_LEN) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_order),
        cmocka_unit_test(test_key_bucket_grouping),
        cmocka_unit_test(test_key_round_trip),
        cmocka_unit_test(test_prefix_successor),
        cmocka_unit_test(test_bucket_record),
        cmocka_unit_test(test_object_record_inline),
        cmocka_unit_test(test_object_record_chunks),
        cmocka_unit_test(test_object_record_copies),
        cmocka_unit_test(test_u64_values),
        cmocka_unit_test(test_object_record_parts),
        cmocka_unit_test(test_upload_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
